"""Child processes of the embedded stack: start, probe and stop them by pid.

Processes run either *detached* (own session, log file; they outlive the command that
started them and are stopped later by the pid it recorded) or *attached* (same session,
they die with their parent on Linux; for test fixtures). Both record the pid, so
:func:`stop_pid` can stop either without the ``Popen`` object.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# Popen handles of children started here, so stop_pid can reap them (no zombies, no
# "subprocess still running" ResourceWarning) even when callers only kept the pid.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ProcessStartError(RuntimeError):
    """A child process could not be started."""


_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _set_pdeathsig() -> None:
    # Runs in the forked child: attached children get SIGTERM when the thread that
    # started them dies, so a killed pytest run leaves no orphan chains. libc is loaded
    # in the parent so the child only makes one syscall.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    cmd: Sequence[str],
    *,
    detached: bool,
    log_path: Path | None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a process; detached ones get their own session and must log to a file."""
    if detached and log_path is None:
        raise ProcessStartError("a detached process needs a log file")
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log if log else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=detached,
            preexec_fn=None if detached else _set_pdeathsig,  # noqa: PLW1509 - one syscall
        )
    except FileNotFoundError as exc:
        raise ProcessStartError(f"cannot execute {cmd[0]}: {exc}") from None
    finally:
        if log:
            log.close()
    _CHILDREN[proc.pid] = proc
    return proc


def _reap(pid: int) -> bool:
    """True if ``pid`` is gone. Reaps our own children so they don't linger as zombies."""
    proc = _CHILDREN.get(pid)
    if proc is not None:
        if proc.poll() is not None:
            _CHILDREN.pop(pid, None)
            return True
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return True
    except ChildProcessError:
        pass  # not our child: fall through to a signal-0 probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def pid_alive(pid: int) -> bool:
    # 0 and negative pids name process groups (os.kill(0, ...) is our own group): never alive here.
    return pid > 0 and not _reap(pid)


def pid_cmdline(pid: int) -> list[str] | None:
    """argv of a live process (Linux /proc), or None if unknown/gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def stop_pid(pid: int, timeout: float = 5.0) -> bool:
    """SIGTERM, wait up to ``timeout``, then SIGKILL. False if it was already gone."""
    if pid <= 0:
        raise ValueError(f"refusing to signal pid {pid}: that would be a process group")
    if _reap(pid):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _reap(pid)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _reap(pid):
            return True
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not _reap(pid):
        time.sleep(0.01)
    return True
