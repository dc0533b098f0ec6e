"""Fault injection for one venue, settable at runtime through the admin endpoint.

Why: reconciliation, retries, backoff and websocket resync are only tested for real if
the venue can be made slow, flaky or forgetful on demand while its books keep running.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class VenueFaults(BaseModel):
    """``lose_next_order_response`` counts down: each accepted order placement it covers is
    executed but its HTTP connection is aborted before any response byte is sent."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: float = Field(default=0.0, ge=0, description="added before every REST response")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="fraction of REST calls answered 503")
    lose_next_order_response: int = Field(default=0, ge=0)


@dataclass
class FaultStats:
    requests: int = 0
    errored: int = 0
    lost_order_responses: int = 0
    dropped_websockets: int = 0


class FaultState:
    def __init__(self, seed: int | None = None) -> None:
        self.faults = VenueFaults()
        self.stats = FaultStats()
        # Seeded: the same request sequence sees the same 5xx, so tests are repeatable.
        self._rng = random.Random(seed)

    def update(self, changes: dict[str, object]) -> VenueFaults:
        if changes.pop("reset", False):
            self.faults = VenueFaults()
        self.faults = VenueFaults.model_validate({**self.faults.model_dump(), **changes})
        return self.faults

    def roll_error(self) -> bool:
        return self.faults.error_rate > 0 and self._rng.random() < self.faults.error_rate

    def take_lost_response(self) -> bool:
        if self.faults.lose_next_order_response <= 0:
            return False
        self.faults.lose_next_order_response -= 1
        self.stats.lost_order_responses += 1
        return True
