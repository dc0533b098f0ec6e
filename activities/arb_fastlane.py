"""The arbitrage fast lane: both legs of an inventory-mode run sent outside Temporal at
detection, then the ``Arbitrage`` run started to adopt them (``ArbitrageRequest.sent_first``).

admit (the run's own admission, recorded) → price both legs on the pools and fees already
read at the chain's head (:meth:`ArbFastLane.refresh`, called per block by a scanner or, when
the head moved, by :meth:`send` itself) and check the profit floor → plan each DEX leg as
its ``DexSwap`` run would (``dex_quote``'s work, recorded under that run's id) → record the
lane's quote → at once: each CEX leg routed by the fast path under the parent id the run's
``cex_execute`` uses; each DEX swap signed with a ledger nonce and recorded as attempt 0 of
the lifecycle the run's ``DexSwap`` starts (``tx_prepare``'s work), then broadcast. The run
then finds every leg where its own steps would have put it: the parent order (returned by
id, placed once), the swap's plan, its signed transaction (``dex_build_swap`` returns it
unchecked) and attempt 0 (re-sent, same bytes); it only waits, accounts, reconciles and
compensates.

Nothing is sent twice: every write is keyed by the run's ids, so sending the same request
again (the process died before the run started) re-sends the recorded bytes and gets the
recorded parent back, and starts the run at the recorded quote even if the profit is gone.
When the lane cannot send both legs (not admitted, the floor not met, a DEX leg needing an
approval first) it sends nothing and the run is started as usual (it quotes, and aborts or
approves as it always does). Gas: the swap's gas limit is the route's estimate plus
``dex_build_swap``'s headroom (no ``eth_estimateGas`` on the hot path); its limit (the least
it takes) still bounds what a moved pool can cost, the swap reverting past it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from activities.arbitrage import ArbActivities, KnownBlock
from activities.cex import cex_parent_id
from activities.dex_swap import DexSwapActivities, swap_tx, swap_tx_id
from activities.runtime import ChainRuntime
from activities.tx import TxActivities
from connectors.dex.arbitrage_curves import chain_gas
from connectors.dex.tokens import resolve_token
from connectors.evm.fees import suggest_fees
from crosslane.arbitrage import ArbMode
from crosslane.crashpoints import crash_point
from crosslane.domain.arb_steps import ArbitrageRequest, ArbQuote, ArbRiskLimits, LegName, LegQuote
from crosslane.domain.dex import SwapPlan, SwapRequest
from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import OrderKind
from crosslane.routing.side import Side

log = logging.getLogger(__name__)

LANE_STEP = "fastlane"  # the ledger operation (run's workflow id, "fastlane"): the quote both legs went at


class ArbFastLane:
    """Sends both legs of an ``Arbitrage`` request before its run starts (:meth:`send`)."""

    def __init__(self, runtime: ChainRuntime, limits: ArbRiskLimits, socket_path: Path | None = None) -> None:
        self.rt = runtime
        self.socket_path = socket_path
        self.arb = ArbActivities(runtime, limits, socket_path)
        self.swaps = DexSwapActivities(runtime)
        self.txs = TxActivities(runtime)
        self.blocks: dict[str, KnownBlock] = {}
        self.marks: dict[str, float] = {}  # the last send's steps, wall time each ended (bench.arb_capture)
        self._fp: FastPathClient | None = None

    def _mark(self, step: str) -> None:
        self.marks[step] = time.time()

    async def refresh(self, request: ArbitrageRequest) -> None:
        """Read, once per new block, the pools the request's DEX legs trade and price gas on,
        and the chain's fees: what :meth:`send` prices with (a scanner's per-block read)."""
        for venue in (request.buy, request.sell):
            if venue.is_cex or venue.chain is None:
                continue
            client = self.rt.client(venue.chain)
            finder = self.arb._finder(venue.chain)
            asset, quote = await asyncio.gather(
                resolve_token(client, request.asset), resolve_token(client, request.quote)
            )
            routes = finder.candidates(asset.address, quote.address, max_hops=1, dex_names=[venue.venue])
            pools = [p for r in routes for p in r.pools]
            pools += finder.pricing_pools((asset.address, quote.address), [venue.venue])
            pools += finder.pricing_pools([quote.address])
            market, fees = await asyncio.gather(finder.read(pools), suggest_fees(client))
            block = KnownBlock(market, fees)
            block.gas[quote.address] = await chain_gas(client, quote.address, block.gas_price_wei, market)
            self.blocks[venue.chain] = block

    async def _fresh(self, request: ArbitrageRequest) -> None:
        """The pools read again when a DEX leg's chain has a block newer than the state held
        (one ``eth_blockNumber`` when it has not: a scanner refreshing every block keeps it so)."""
        for venue in (request.buy, request.sell):
            if venue.chain is None:
                continue
            known = self.blocks.get(venue.chain)
            if known is None or known.market.block_number < await self.rt.client(venue.chain).block_number():
                await self.refresh(request)
                return

    async def _priced(self, request: ArbitrageRequest) -> ArbQuote:
        """Both legs priced on the pools at the head (``arb_quote``'s work): no side effect,
        so it runs beside the admission."""
        await self._fresh(request)
        quote = await self.arb.quote(request, "recheck", known=self.blocks)
        self._mark("priced")
        return quote

    async def _fastpath(self) -> FastPathClient:
        if self._fp is None:
            self._fp = await FastPathClient.connect(self.socket_path)
        return self._fp

    async def send(self, request: ArbitrageRequest) -> ArbitrageRequest:
        """Both legs sent, and the request to start with ``sent_first`` set; or nothing sent
        and the request as given. Safe to call again for the same request (sends nothing twice)."""
        if request.mode is not ArbMode.INVENTORY or request.sent_first is not None:
            return request
        wf_id = request.workflow_id
        ledger = self.rt.ledger
        self.marks = {}
        recorded = await asyncio.to_thread(ledger.get_operation, wf_id, LANE_STEP)
        if recorded is not None:  # sent (or being sent) already: the same legs, at the same quote
            quote = ArbQuote.model_validate(recorded.detail["quote"])
            plans = [await self._plan(request, leg, quote) for leg in _dex_legs(quote)]
        else:
            try:
                admission, quote = await asyncio.gather(self.arb.admit(wf_id, request), self._priced(request))
                if not admission.admitted:
                    return request
                if not quote.viable:
                    return request
                plans = [await self._plan(request, leg, quote) for leg in _dex_legs(quote)]
                self._mark("DEX legs planned")
            except Exception as exc:  # noqa: BLE001 - nothing sent: the run starts as usual and says why
                log.warning("%s: the fast lane sent nothing (%s); the run quotes for itself", wf_id, exc)
                return request
            if any(plan.approval is not None for _, plan in plans):
                log.info("%s: a DEX leg needs an approval first; started without the fast lane", wf_id)
                return request
            op = await asyncio.to_thread(
                ledger.begin_operation,
                wf_id,
                LANE_STEP,
                "arb_fastlane",
                detail={"quote": quote.model_dump(mode="json")},
            )
            quote = ArbQuote.model_validate(op.detail["quote"])  # a concurrent sender that recorded first wins
            self._mark("quote recorded")
        sends = await asyncio.gather(
            *(self._send_cex(request, leg) for leg in (quote.buy, quote.sell) if leg.venue.is_cex),
            *(self._send_dex(swap, plan) for swap, plan in plans),
            return_exceptions=True,
        )
        for failed in (r for r in sends if isinstance(r, BaseException)):
            # recorded as sent: the run's own steps place (or find) it by the same id
            log.warning("%s: a leg's send failed (%s); the run's step sends it", wf_id, failed)
        crash_point("arb.fastlane.after_send", wf_id)  # legs out, run not started: a retry adopts them
        return request.model_copy(update={"sent_first": quote})

    async def _plan(self, request: ArbitrageRequest, leg: LegQuote, quote: ArbQuote) -> tuple[SwapRequest, SwapPlan]:
        """A DEX leg's plan as its ``DexSwap`` run records it (the recorded one if any)."""
        venue = leg.venue
        assert venue.chain is not None
        side = Side.BUY if leg.leg is LegName.BUY else Side.SELL
        swap = request.dex_leg(
            leg.leg, venue, side, request.size, leg.slippage_bps, quote.asset_decimals.get(venue.chain, 18)
        )
        block = self.blocks.get(venue.chain)
        plan = await self.swaps.plan(
            swap.workflow_id,
            swap,
            market=block.market if block else None,
            gas_price_wei=block.gas_price_wei if block else None,
            now=int(time.time()),
            simulate_sandwich=False,  # an arbitrage leg enforces no sandwich bound: not simulated on the hot path
        )
        return swap, plan

    async def _send_cex(self, request: ArbitrageRequest, leg: LegQuote) -> None:
        assert leg.venue.symbol is not None
        side = Side.BUY if leg.leg is LegName.BUY else Side.SELL
        fp = await self._fastpath()
        await fp.route(
            cex_parent_id(request.workflow_id, str(leg.leg)),
            leg.venue.symbol,
            side,
            request.size,
            kind=OrderKind.IOC,
            limit_price=leg.limit_price,
        )
        self._mark(f"{leg.leg} routed")

    async def _send_dex(self, swap: SwapRequest, plan: SwapPlan) -> None:
        """Sign the swap as attempt 0 of its lifecycle (``tx_prepare``) and send it."""
        tx = swap_tx(swap.workflow_id, swap, plan, plan.quote.gas_estimate)
        block = self.blocks.get(swap.chain)
        record = await self.txs.prepare(swap_tx_id(swap.workflow_id), tx, fees=block.fees if block else None)
        self._mark(f"{swap.request_id.rsplit('.', 1)[-1]} signed")
        await self.txs.send(record, tx.chain, protected=tx.protected)
        self._mark(f"{swap.request_id.rsplit('.', 1)[-1]} broadcast")

    async def close(self) -> None:
        if self._fp is not None:
            await self._fp.close()
            self._fp = None


def _dex_legs(quote: ArbQuote) -> list[LegQuote]:
    return [leg for leg in (quote.buy, quote.sell) if not leg.venue.is_cex]
