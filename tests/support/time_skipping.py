"""Temporal's time-skipping test server for workflow tests with mocked activities, with
Crosslane's data converter and search attributes registered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from crosslane.converter import data_converter
from workflows import search_attributes as sa

TEST_SERVER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "temporal-test-server"


@asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter, test_server_existing_path=str(TEST_SERVER)
    ) as environment:
        await environment.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=environment.client.namespace,
                search_attributes={
                    **{key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in sa.ALL},
                    **{key.name: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE for key in sa.NUMERIC},
                    **{key.name: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME for key in sa.DATETIMES},
                },
            )
        )
        yield environment
