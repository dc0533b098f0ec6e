"""The chain registry the CLI reads: the registry file (``CROSSLANE_REGISTRY``, else the home's)."""

from __future__ import annotations

from crosslane.cli.errors import fail
from crosslane.config import settings
from crosslane.domain.chains import ChainRegistry
from crosslane.registry import RegistryError, configured_registry


def load_chains() -> ChainRegistry:
    """The registry's chains; exit 1 saying where it looked (and why there) if there is no
    file, or it does not validate, or it holds no EVM chain."""
    cfg = settings()
    try:
        chains = ChainRegistry.from_registry(configured_registry(cfg))
    except RegistryError as exc:
        raise fail("; ".join(exc.lines)) from None
    if not chains.chains:
        raise fail(f"no EVM chains in {cfg.registry_path} ({cfg.registry_why})")
    return chains
