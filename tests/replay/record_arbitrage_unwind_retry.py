"""Records ``arbitrage_unwind_retried_compensated``: a CEX↔CEX run whose sale fills nothing
and whose first unwind fills nothing either; the unwind is sent again on lot-size quantities
(the buy's fee taken in the asset left dust) and fills (``arb-unwind-retry``). The legs are
mocked as in ``tests/unit/test_arbitrage_workflow.py``, on the time-skipping server.

Run: ``python -m tests.replay.record_arbitrage_unwind_retry``."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from crosslane.domain.arb_steps import ArbOutcome, ArbRiskLimits
from crosslane.ledger import Ledger
from tests.replay.record import save_histories
from tests.support.time_skipping import time_skipping_env
from tests.unit.test_arbitrage_workflow import missed_unwind_market, request, run


async def main() -> None:
    market = missed_unwind_market()
    req = request(request_id="replay-unwind-retry", max_loss="20")
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        ledger.migrate()
        async with time_skipping_env() as env:
            result = await run(env, market, ledger, req, ArbRiskLimits())
            assert result.outcome is ArbOutcome.COMPENSATED, result.reason
            await save_histories(env.client, {"arbitrage_unwind_retried_compensated": req.workflow_id})
        ledger.close()


if __name__ == "__main__":
    asyncio.run(main())
