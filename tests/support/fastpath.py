"""Fast-path helpers for tests (the process wrapper lives in devnet.sandbox)."""

from __future__ import annotations

from pathlib import Path

from devnet.sandbox import FastPathProcess
from devnet.state import DevnetState
from workers.fastpath.server import FastPathConfig

__all__ = ["FastPathProcess", "fastpath_config"]


def fastpath_config(state: DevnetState, home: Path, symbols: list[str] | None = None) -> FastPathConfig:
    return FastPathConfig.from_devnet(state, home, symbols)
