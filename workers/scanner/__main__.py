"""``python -m workers.scanner [options]``: ``crosslane arb scan`` (how ``dev up`` spawns it)."""

import typer

from crosslane.cli.arb_scan import scan

typer.run(scan)
