"""A `dev up` that fails half way leaves nothing running that `dev down` cannot stop.

Real Temporal dev server; the worker cannot start because the home holds no registry, so
it exits during start. Before the fix, the state file was written only once every service
was up: the dev server kept running, named nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosslane.config import Settings
from crosslane.embedded.processes import pid_alive
from crosslane.embedded.stack import StackState, services_down, services_up, stack_path
from devnet.anvil import find_free_port


async def test_failed_start_is_recorded_and_stopped_by_down(tmp_path: Path) -> None:
    cfg = Settings(
        home=tmp_path,
        temporal_address=f"127.0.0.1:{find_free_port()}",
        ui_port=find_free_port(),
        registry_override=str(tmp_path / "no-registry.yaml"),
        db_url_override=f"sqlite:///{tmp_path / 'ledger.db'}",
    )
    with pytest.raises(RuntimeError, match="the worker exited during start"):
        await services_up(cfg, worker_env={}, progress=lambda _step: None)

    state = StackState.load(stack_path(cfg))
    assert state is not None, "the state file must name what was started before the failure"
    assert pid_alive(state.temporal_pid)
    assert state.worker_pid == 0 and state.fastpath_pid == 0, "nothing after the failed service was started"

    stopped = services_down(cfg)
    assert stopped == [f"temporal (pid {state.temporal_pid})"]
    assert not pid_alive(state.temporal_pid)
    assert not stack_path(cfg).exists()
