"""CEX legs for workflows: executed by the fast path, keyed by (workflow id, step) so a retried
activity gets the recorded parent order back instead of placing it again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio import activity

from activities.errors import business_errors
from crosslane.crashpoints import crash_point
from crosslane.domain.cex import CexExecuteInput, CexExecution, CexFill
from crosslane.errors import CrosslaneError
from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import OrderKind, ParentOrder

CEX_EXECUTE = "cex_execute"
SETTLE_POLL_S = 0.1
RECANCEL_EVERY = 20  # polls
SETTLE_WAIT_S = 15.0  # within the legs' 30 s start-to-close; a retry joins the same parent and waits again


class LegNotFinal(CrosslaneError):
    """An IOC or market leg still has a child the fast path does not know to be final (its
    placement's answer was lost, or a venue let it rest): its fills are not known yet."""

    retryable = True


async def settled(fp: FastPathClient, parent: ParentOrder) -> ParentOrder:
    """A taker leg as it finally stands: whatever still rests is cancelled, and a child whose
    placement's answer was lost is waited for until the venue's user stream or a lookup says
    what it did. A leg must never be reported while part of it can still fill (the saga
    would unwind an exposure that is about to change)."""
    if not parent.open or parent.kind is OrderKind.LIMIT:
        return parent
    for poll in range(int(SETTLE_WAIT_S / SETTLE_POLL_S)):
        if poll % RECANCEL_EVERY == 0:  # open children cancelled at their venue (again: one may have been down)
            parent = await fp.cancel(parent.parent_id)
        else:
            [parent] = await fp.status(parent.parent_id)
        if not parent.open:
            return parent
        activity.heartbeat(parent.parent_id)
        await asyncio.sleep(SETTLE_POLL_S)
    states = ", ".join(f"{c.venue} {c.client_order_id} {c.state}" for c in parent.children if c.state != "filled")
    raise LegNotFinal(f"{parent.parent_id} is not final after {SETTLE_WAIT_S:.0f} s: {states}")


def cex_parent_id(workflow_id: str, step: str) -> str:
    """The fast-path parent order of a run's CEX step: ``cex_execute`` (and the arbitrage fast
    lane, which routes it before the run starts) place it under this id, so it is placed once."""
    return f"{workflow_id}/{step}"


class CexActivities:
    def __init__(self, socket_path: Path | None = None) -> None:
        self.socket_path = socket_path

    @activity.defn(name=CEX_EXECUTE)
    @business_errors
    async def cex_execute(self, inp: CexExecuteInput) -> CexExecution:
        parent_id = cex_parent_id(activity.info().workflow_id, inp.step)
        async with await FastPathClient.connect(self.socket_path) as fp:
            parent = await fp.route(
                parent_id, inp.symbol, inp.side, inp.qty, kind=OrderKind(inp.kind), limit_price=inp.limit_price
            )
            parent = await settled(fp, parent)
        crash_point("cex.after_route", parent_id)  # placed, not yet answered: a retry must not place again
        filled = parent.filled
        cost = sum((c.cost for c in parent.children), start=type(filled)(0))
        return CexExecution(
            parent_id=parent.parent_id,
            symbol=parent.symbol,
            side=parent.side,
            qty=parent.qty,
            filled=filled,
            avg_price=(cost / filled) if filled else None,
            children=[
                CexFill(
                    venue=c.venue,
                    client_order_id=c.client_order_id,
                    venue_order_id=c.venue_order_id,
                    state=c.state,
                    qty=c.qty,
                    filled=c.filled,
                    avg_price=c.avg_price,
                    fee=c.fee,
                    fee_currency=c.fee_currency,
                )
                for c in parent.children
            ],
        )
