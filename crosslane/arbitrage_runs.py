"""Starting an ``Arbitrage`` run for a scanned opportunity: the one seam between the scanner
(or a quant's own program) and the workflow.

:class:`RunStarter` is all a caller needs; :class:`TemporalRunStarter` starts the workflow
``Arbitrage`` through the SDK with the request given as plain JSON (:func:`arbitrage_input`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from crosslane.arbitrage import ArbMode
from crosslane.arbitrage_stream import ScannedOpportunity
from crosslane.client import CrosslaneClient, LegSender
from crosslane.domain.arb_steps import ArbitrageRequest
from crosslane.domain.tx import FeePolicy
from crosslane.money import to_base_units

log = logging.getLogger(__name__)
START_RETRY_S = 1.0
ORPHAN_AGE = timedelta(minutes=1)  # a live sender starts its run well within this of admitting it


class RunStarter(Protocol):
    async def start(self, request: dict[str, Any]) -> str:
        """Start a run for ``request`` (:func:`arbitrage_input`); its workflow id. Starting
        the same ``request_id`` twice starts one run."""
        ...


def request_id(scanned: ScannedOpportunity) -> str:
    """Stable per evaluation: the pair and the moment it was evaluated."""
    digest = hashlib.sha256(f"{scanned.pair}@{scanned.opportunity.evaluated_at_ms}".encode()).hexdigest()
    return f"scan-{digest[:16]}"


@dataclass(frozen=True)
class RunTerms:
    """What a scanned opportunity alone does not say: the least profit a run may take and
    the loss an unwind may realise (whole units of the market's quote), and who holds the
    DEX legs' inventory with their fee cap (needed when a leg is on a DEX)."""

    min_profit: Decimal = Decimal(0)
    max_loss: Decimal = Decimal(0)
    signer: str | None = None
    fees: FeePolicy | None = None
    risk_aversion: Decimal = Decimal(1)  # transfer mode: weight of the price risk while bridging


def arbitrage_input(scanned: ScannedOpportunity, terms: RunTerms = RunTerms()) -> dict[str, Any]:  # noqa: B008
    """The ``Arbitrage`` workflow's input for ``scanned`` (an ``ArbitrageRequest`` as plain
    JSON); ValueError if it cannot be started (dropped, or a DEX leg without signer/fees)."""
    request = ArbitrageRequest.from_opportunity(
        scanned.opportunity,
        request_id(scanned),
        min_profit=to_base_units(terms.min_profit, scanned.opportunity.quote_decimals),
        max_loss=terms.max_loss,
        signer=terms.signer,
        fees=terms.fees,
        risk_aversion=terms.risk_aversion,
        volatility=scanned.volatility,
    )
    return request.model_dump(mode="json")


class TemporalRunStarter:
    """Starts ``Arbitrage`` through the SDK (:meth:`CrosslaneClient.start_arbitrage`) on
    ``task_queue``: the workflow id is ``arb-<request_id>``, so a second start of the same
    request answers the first run's id and starts nothing. With a ``lane`` (the fast lane)
    both legs are sent first and the run adopts them
    (:meth:`CrosslaneClient.start_arbitrage_sent_first`)."""

    def __init__(self, client: Client, task_queue: str, lane: LegSender | None = None) -> None:
        self.sdk = CrosslaneClient(client, task_queue)
        self.client = client
        self.lane = lane
        self._sending: set[asyncio.Task[str]] = set()

    async def start(self, request: dict[str, Any]) -> str:
        arb = ArbitrageRequest.model_validate(request)
        if self.lane is not None and arb.mode is ArbMode.INVENTORY:  # transfer mode: each step waits on the last
            # Shielded: a caller's timeout must not stop a run from starting once its legs are out.
            task = asyncio.ensure_future(self._sent_first(arb, self.lane))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
            return await asyncio.shield(task)
        try:
            handle = await self.sdk.start_arbitrage(arb)
        except WorkflowAlreadyStartedError:  # closed already: never run twice
            return arb.workflow_id
        return handle.id

    async def recover(self, min_age: timedelta = ORPHAN_AGE) -> list[str]:
        """Runs a fast lane admitted but never started (its process stopped in between),
        found in the ledger: those with legs out are started now and adopt them; those that
        sent nothing are released. Run at the scanner's start. Returns the runs started."""
        if self.lane is None:
            return []
        orphaned = await self.lane.orphans(self._started, min_age)
        return [await self._sent_first(arb, self.lane) for arb in orphaned]

    async def _started(self, workflow_id: str) -> bool:
        try:
            await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def running(self, run_id: str) -> bool:
        """True while the run has not closed (the scanner holds the book depth it takes until then)."""
        described = await self.client.get_workflow_handle(run_id).describe()
        return described.status == WorkflowExecutionStatus.RUNNING

    async def _sent_first(self, arb: ArbitrageRequest, lane: LegSender) -> str:
        """Both legs sent, then the run started; the start retried (same ids: nothing is
        sent twice) until Temporal takes it, since legs may be out."""
        sent = await lane.send(arb)
        while True:
            try:
                return (await self.sdk.start_arbitrage(sent)).id
            except WorkflowAlreadyStartedError:
                return arb.workflow_id
            except RPCError as exc:
                log.warning("%s: legs sent, the run not started yet (%s); retrying", arb.workflow_id, exc)
                await asyncio.sleep(START_RETRY_S)
