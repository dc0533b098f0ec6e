"""The chain registry the CLI reads (the stack's devnet state, or ``CROSSLANE_DEVNET_STATE``)."""

from __future__ import annotations

from crosslane.cli.errors import fail
from crosslane.config import resolve_home, settings
from crosslane.domain.chains import ChainRegistry


def load_chains() -> ChainRegistry:
    """The registry; exit 1 saying where it looked (and why there) if it holds no chain."""
    cfg = settings()
    registry = ChainRegistry.load(cfg.devnet_state_path)
    if not registry.chains:
        home = resolve_home()
        where = f"home {cfg.home} ({home.why})" if home.path == cfg.home else "CROSSLANE_DEVNET_STATE"
        raise fail(
            f"no chains in {cfg.devnet_state_path} ({where}): is the devnet up? "
            "`crosslane dev up` starts it; `crosslane dev status` shows which stack this is"
        )
    return registry
