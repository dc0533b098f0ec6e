"""Session-wide real services: one Temporal dev server and one devnet, and PostgreSQL, started here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from devnet.sandbox import sandbox
from tests.support.postgres import SuitePostgres, suite_postgres
from tests.support.solana_stack import SolanaStack
from tests.support.stack import Stack

POSTGRES_USED = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Iterator[SuitePostgres]:
    """The session's PostgreSQL server (tests/support/postgres.py says from where)."""
    with suite_postgres() as server:
        request.config.stash[POSTGRES_USED] = server.describe()
        worker_output = getattr(request.config, "workeroutput", None)  # under pytest-xdist
        if worker_output is not None:
            worker_output["postgres_used"] = server.describe()
        yield server


def pytest_testnodedown(node: object, error: object) -> None:
    """pytest-xdist: a worker's PostgreSQL line reaches the summary of the run."""
    used = getattr(node, "workeroutput", {}).get("postgres_used")
    if used is not None:
        node.config.stash[POSTGRES_USED] = used  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Say which PostgreSQL the ledger tests ran against, if any ran."""
    used = config.stash.get(POSTGRES_USED, None)
    if used is not None:
        terminalreporter.write_sep("-", used)


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with sandbox(tmp_path_factory.mktemp("crosslane")) as services:
        test_stack = Stack(services)
        test_stack.ledger().migrate()
        yield test_stack


@pytest.fixture(scope="session")
async def bridge_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """A second stack whose devnet also runs Wormhole (guardians) and Across (relayer, dataworker)."""
    async with sandbox(tmp_path_factory.mktemp("crosslane-bridges"), bridges=True) as services:
        test_stack = Stack(services)
        test_stack.ledger().migrate()
        yield test_stack


@pytest.fixture(scope="session")
async def op_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """A stack whose devnet also runs devnet-op, the OP Stack L2 of devnet-a. Finalization 8 s:
    long enough that a test can see a run waiting on the period (and kill its worker there) on
    a loaded machine, where a status query can take seconds."""
    async with sandbox(tmp_path_factory.mktemp("crosslane-op"), op_stack=True, op_finalization_seconds=8) as services:
        test_stack = Stack(services)
        test_stack.ledger().migrate()
        yield test_stack


@pytest.fixture(scope="session")
async def solana_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SolanaStack]:
    """A stack whose devnet also runs the Solana node (seeded: USDC and T22 mints)."""
    async with sandbox(tmp_path_factory.mktemp("crosslane-solana"), solana=True) as services:
        test_stack = Stack(services)
        test_stack.ledger().migrate()
        yield SolanaStack(test_stack)
