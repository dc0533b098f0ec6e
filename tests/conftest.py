"""Session-wide real services: one Temporal dev server and one devnet, started here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devnet.anvil import find_free_port, stop_pid
from devnet.manager import devnet_down, devnet_up
from devnet.temporal_server import start_dev_server, wait_ready
from tests.support.stack import Stack


@pytest.fixture(scope="session")
async def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    home = tmp_path_factory.mktemp("temporal")
    port, ui_port = find_free_port(), find_free_port()
    proc = start_dev_server(home / "temporal.db", home / "temporal.log", port=port, ui_port=ui_port, detached=False)
    address = f"127.0.0.1:{port}"
    try:
        await wait_ready(address, proc=proc)
        yield address
    finally:
        stop_pid(proc.pid)


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory, temporal_address: str) -> AsyncIterator[Stack]:
    home: Path = tmp_path_factory.mktemp("crosslane")
    state_path = home / "devnet.json"
    state = await devnet_up(
        state_path, ports={"devnet-a": find_free_port(), "devnet-b": find_free_port()}, detached=False
    )
    db_url = f"sqlite:///{home / 'ledger.db'}"
    test_stack = Stack(
        home=home,
        temporal_address=temporal_address,
        devnet_state=state_path,
        db_url=db_url,
        chains=state.registry(),
        anvil_urls={name: state.anvil_url(name) for name in state.chains},
    )
    test_stack.ledger().migrate()
    try:
        yield test_stack
    finally:
        devnet_down(state_path)
