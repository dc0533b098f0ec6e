"""Starting an ``Arbitrage`` run for a scanned opportunity: the one seam between the scanner
(or a quant's own program) and the workflow.

:class:`RunStarter` is all a caller needs; :class:`TemporalRunStarter` starts the workflow
type ``"Arbitrage"`` by name with a plain dict (:func:`arbitrage_input`), so nothing here
imports the workflow or its request model.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from crosslane.arbitrage_stream import ScannedOpportunity

WORKFLOW_TYPE = "Arbitrage"


class RunStarter(Protocol):
    async def start(self, request: dict[str, Any]) -> str:
        """Start a run for ``request`` (:func:`arbitrage_input`); its workflow id. Starting
        the same ``request_id`` twice starts one run."""
        ...


def request_id(scanned: ScannedOpportunity) -> str:
    """Stable per evaluation: the pair and the moment it was evaluated."""
    digest = hashlib.sha256(f"{scanned.pair}@{scanned.opportunity.evaluated_at_ms}".encode()).hexdigest()
    return f"arb-{digest[:16]}"


def arbitrage_input(scanned: ScannedOpportunity, *, min_profit: int | None = None) -> dict[str, Any]:
    """The run's input: the opportunity as evaluated (legs with venue, market, chain, side,
    expected quote and limits), the size and expected profit in base units, and the
    minimum profit below which the run must not trade (default: the expected profit's
    own floor, 0)."""
    opp = scanned.opportunity
    if opp.buy is None or opp.sell is None:
        raise ValueError("a dropped opportunity without legs cannot be started")
    return {
        "request_id": request_id(scanned),
        "pair": scanned.pair,
        "market": scanned.market,
        "kind": opp.kind.value,
        "mode": opp.mode.value,
        "asset": opp.asset,
        "quote_asset": opp.quote_asset,
        "asset_decimals": opp.asset_decimals,
        "quote_decimals": opp.quote_decimals,
        "size": str(opp.size),
        "buy": opp.buy.model_dump(mode="json"),
        "sell": opp.sell.model_dump(mode="json"),
        "expected_net_profit": str(opp.net_profit),
        "min_profit": str(0 if min_profit is None else min_profit),
        "evaluated_at_ms": opp.evaluated_at_ms,
    }


class TemporalRunStarter:
    """Starts ``Arbitrage`` by name on ``task_queue``; the workflow id is the request id, so
    a second start of the same request answers the first run's id and starts nothing."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    async def start(self, request: dict[str, Any]) -> str:
        workflow_id = str(request["request_id"])
        try:
            handle = await self.client.start_workflow(
                WORKFLOW_TYPE, request, id=workflow_id, task_queue=self.task_queue
            )
        except WorkflowAlreadyStartedError:
            return workflow_id
        return handle.id
