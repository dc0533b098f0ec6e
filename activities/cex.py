"""CEX legs for workflows: executed by the fast path, keyed by (workflow id, step) so a retried
activity gets the recorded parent order back instead of placing it again."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from activities.errors import business_errors
from crosslane.crashpoints import crash_point
from crosslane.domain.cex import CexExecuteInput, CexExecution, CexFill
from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import OrderKind

CEX_EXECUTE = "cex_execute"


class CexActivities:
    def __init__(self, socket_path: Path | None = None) -> None:
        self.socket_path = socket_path

    @activity.defn(name=CEX_EXECUTE)
    @business_errors
    async def cex_execute(self, inp: CexExecuteInput) -> CexExecution:
        parent_id = f"{activity.info().workflow_id}/{inp.step}"
        async with await FastPathClient.connect(self.socket_path) as fp:
            parent = await fp.route(
                parent_id, inp.symbol, inp.side, inp.qty, kind=OrderKind(inp.kind), limit_price=inp.limit_price
            )
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
