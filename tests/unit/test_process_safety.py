"""Stopping processes by recorded pid must never signal a process group."""

from __future__ import annotations

import pytest

from crosslane.embedded.processes import pid_alive, stop_pid


@pytest.mark.parametrize("pid", [0, -1])
def test_group_pids_are_never_alive_nor_signalled(pid: int) -> None:
    assert pid_alive(pid) is False
    with pytest.raises(ValueError, match="process group"):
        stop_pid(pid)
