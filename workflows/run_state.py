"""A run's state and detail, as its status query reports them and the Temporal UI shows
them: the detail as the run's current details, the state as the ``CrosslaneState`` search
attribute (upserted only when it changes)."""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

from temporalio import workflow

from workflows import search_attributes as sa

S = TypeVar("S", bound=StrEnum)


class RunState(Generic[S]):
    def __init__(self, initial: S) -> None:
        self.state = initial
        self.detail = ""

    def set(self, state: S, detail: str) -> None:
        self.detail = detail
        workflow.set_current_details(f"**{state}**: {detail}")
        if state != self.state:
            self.state = state
            workflow.upsert_search_attributes([sa.STATE.value_set(state)])
