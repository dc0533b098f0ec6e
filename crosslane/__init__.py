"""Crosslane: workflow-orchestrated cross-chain execution."""
