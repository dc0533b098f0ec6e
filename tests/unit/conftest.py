"""Fixtures the workflow tests on the time-skipping server share (a module's own fixture of
the same name takes precedence)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from crosslane.ledger import Ledger
from tests.support.time_skipping import time_skipping_env


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping server, one per test module."""
    async with time_skipping_env() as environment:
        yield environment


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A migrated SQLite ledger of the test's own."""
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    led.migrate()
    yield led
    led.close()
