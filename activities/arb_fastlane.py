"""The arbitrage fast lane: both legs of an inventory-mode run sent outside Temporal at
detection, then the ``Arbitrage`` run started to adopt them (``ArbitrageRequest.sent_first``).

Per new head (:meth:`ArbFastLane.refresh`, kept current by :meth:`ArbFastLane.watch` or a
scanner): the pools the legs trade and price gas on, the chain's fees, and each DEX leg
signer's balances, router allowances and pending nonce. At detection (:meth:`send`), with
nothing read from the chain when that state is fresh: price both legs and check the profit
floor (``arb_quote``'s work) → plan each DEX leg as its ``DexSwap`` run would (``dex_quote``'s
work) and sign its swap at the nonce the ledger is expected to give → one ledger transaction:
the run admitted (kill switch, concurrency, size), the lane's quote, each swap's plan, its
lifecycle's operation and nonce, and its signed bytes as attempt 0 (``tx_prepare``'s work)
→ at once, side by side: each CEX leg routed by the fast path under the parent id the run's
``cex_execute`` uses, each swap broadcast. The run then finds every leg where its own steps
would have put it: the parent order (returned by id, placed once), the swap's plan, its
signed transaction (``dex_build_swap`` returns it unchecked) and attempt 0 (re-sent, same
bytes); it only waits, accounts, reconciles and compensates.

Nothing is sent twice: every write is keyed by the run's ids, so sending the same request
again (the process died before the run started) re-sends the recorded bytes and gets the
recorded parent back, and starts the run at the recorded quote even if the profit is gone.
Nothing is sent before that one transaction committed (a refused admission, a missed floor,
a DEX leg needing an approval first: nothing sent, the run started as usual: it quotes, and
aborts or approves as it always does), and the signed bytes are stored before their
broadcast. A swap signed at a nonce the ledger then does not give (another process took it)
is dropped unsent and signed again at the ledger's. Gas: the swap's gas limit is the route's
estimate plus ``dex_build_swap``'s headroom (no ``eth_estimateGas`` on the hot path); its
limit (the least it takes) still bounds what a moved pool can cost, the swap reverting past it.

Freshness: a chain's state is used at detection without asking the chain when a watcher
polled its head within ``max_staleness_s`` and saw no newer block; otherwise one
``eth_blockNumber`` says, and a newer head is read again before anything is priced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from activities.arbitrage import ArbActivities, KnownBlock
from activities.cex import cex_parent_id
from activities.dex_swap import DexSwapActivities, swap_tx, swap_tx_id
from activities.runtime import ChainRuntime
from activities.tx import TX_STEP, FirstAttempt, TxActivities
from connectors.dex.arbitrage_curves import chain_gas
from connectors.dex.reads import Read, read_batch
from connectors.dex.swaps import router_address
from connectors.dex.tokens import resolve_token
from connectors.evm.fees import suggest_fees
from connectors.evm.signer import SignedTx
from crosslane.arbitrage import ArbMode
from crosslane.crashpoints import crash_point
from crosslane.domain.arb_steps import ArbitrageRequest, ArbQuote, ArbRiskLimits, LegName, LegQuote
from crosslane.domain.dex import SwapPlan, SwapRequest, TradeType
from crosslane.domain.tx import TxRequest
from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import OrderKind
from crosslane.ledger.arbitrage import Admitted
from crosslane.ledger.records import AttemptRecord
from crosslane.routing.side import Side

log = logging.getLogger(__name__)

LANE_STEP = "fastlane"  # the ledger operation (run's workflow id, "fastlane"): the quote both legs went at


@dataclass(frozen=True)
class _Presigned:
    """A swap signed before the ledger gave its nonce: stored only if the ledger gives that nonce."""

    first: FirstAttempt
    signed: SignedTx
    pending: int  # the signer's pending nonce read at the head (the ledger takes the larger of it and its cursor)


@dataclass(frozen=True)
class _DexLeg:
    swap: SwapRequest
    plan: SwapPlan
    tx: TxRequest
    attempt: AttemptRecord | None  # attempt 0 as stored in the lane's transaction (None: signed after it)


@dataclass(frozen=True)
class _Committed:
    """What the lane's one ledger transaction decided."""

    recorded_before: bool = False  # the lane had recorded this run already: the legs are re-sent as recorded
    admitted: Admitted | None = None
    quote: ArbQuote | None = None  # set when the legs are to be sent
    legs: tuple[_DexLeg, ...] = ()


class ArbFastLane:
    """Sends both legs of an ``Arbitrage`` request before its run starts (:meth:`send`)."""

    def __init__(
        self,
        runtime: ChainRuntime,
        limits: ArbRiskLimits,
        socket_path: Path | None = None,
        *,
        max_staleness_s: float = 0.25,
    ) -> None:
        self.rt = runtime
        self.socket_path = socket_path
        self.arb = ArbActivities(runtime, limits, socket_path)
        self.swaps = DexSwapActivities(runtime)
        self.txs = TxActivities(runtime)
        self.blocks: dict[str, KnownBlock] = {}
        self.marks: dict[str, float] = {}  # the last send's steps, wall time each ended (bench.arb_capture)
        self.max_staleness_s = max_staleness_s
        self._fp: FastPathClient | None = None
        self._wanted: dict[str, dict[tuple[str, ...], ArbitrageRequest]] = {}  # chain -> what refresh reads
        self._seen: dict[str, tuple[int, float]] = {}  # chain -> (head, monotonic time it was asked for)
        self._nonces: dict[tuple[str, str], int] = {}  # (chain, signer) -> the nonce the ledger gives next
        self._refreshing = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    def _mark(self, step: str) -> None:
        self.marks[step] = time.time()

    async def refresh(self, request: ArbitrageRequest | None = None) -> None:
        """Read the chains' state at their head (a scanner's per-block read): for ``request``
        (remembered) and every request refreshed before on its chains, the pools its DEX legs
        trade and price gas on, the fees, and the signer's balances, router allowances and
        pending nonce. What :meth:`send` prices, plans and signs with."""
        chains = set()
        for venue in (request.buy, request.sell) if request is not None else ():
            if not venue.is_cex and venue.chain is not None:
                key = (venue.venue, request.asset, request.quote, str(request.signer))
                self._wanted.setdefault(venue.chain, {})[key] = request
                chains.add(venue.chain)
        async with self._refreshing:
            await asyncio.gather(*(self._read_chain(chain) for chain in (chains or set(self._wanted))))

    async def _read_chain(self, chain: str) -> None:
        client = self.rt.client(chain)
        finder = self.arb._finder(chain)
        pools = []
        gas_in: set[str] = set()  # the quote tokens gas is priced in
        holdings: set[tuple[str, str, str]] = set()  # (token, holder, spender)
        for (dex, *_), request in self._wanted.get(chain, {}).items():
            asset, quote = await asyncio.gather(
                resolve_token(client, request.asset), resolve_token(client, request.quote)
            )
            routes = finder.candidates(asset.address, quote.address, max_hops=1, dex_names=[dex])
            pools += [p for r in routes for p in r.pools]
            pools += finder.pricing_pools((asset.address, quote.address), [dex])
            pools += finder.pricing_pools([quote.address])
            gas_in.add(quote.address)
            if request.signer is not None:
                router = router_address(finder.dexes[dex])
                holdings |= {(token.address, request.signer, router) for token in (asset, quote)}
        market, fees = await asyncio.gather(finder.read(pools), suggest_fees(client))
        block = KnownBlock(market, fees)
        held = sorted({(token, holder) for token, holder, _ in holdings})
        allowed = sorted(holdings)
        holders = sorted({holder for _, holder in held})
        reads = [Read.of(token, "balanceOf(address)", ("uint256",), holder) for token, holder in held]
        reads += [Read.of(token, "allowance(address,address)", ("uint256",), h, s) for token, h, s in allowed]
        batch, pending, cursors, gas = await asyncio.gather(
            read_batch(client, reads, block=market.block_number),
            asyncio.gather(*(client.nonce(holder, "pending") for holder in holders)),
            asyncio.to_thread(lambda: [self.rt.ledger.next_nonce(client.chain_id, holder) for holder in holders]),
            asyncio.gather(*(chain_gas(client, token, block.gas_price_wei, market) for token in sorted(gas_in))),
        )
        for (token, holder), result in zip(held, batch.results[: len(held)], strict=True):
            if result is not None:
                block.balances[(token.lower(), holder.lower())] = int(result[0])
        for (token, holder, spender), result in zip(allowed, batch.results[len(held) :], strict=True):
            if result is not None:
                block.allowances[(token.lower(), holder.lower(), spender.lower())] = int(result[0])
        for holder, nonce, cursor in zip(holders, pending, cursors, strict=True):
            block.pending_nonce[holder.lower()] = nonce
            self._nonces[(chain, holder.lower())] = max(nonce, cursor or 0)
        block.gas.update(zip(sorted(gas_in), gas, strict=True))
        self.blocks[chain] = block

    def watch(self, poll_s: float = 0.05) -> asyncio.Task[None]:
        """Poll every refreshed chain's head every ``poll_s`` and read its state again on a
        new block, so :meth:`send` asks no chain anything at detection (within
        ``max_staleness_s`` of a poll). Stopped by :meth:`close`."""
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch(poll_s), name="arb-fastlane-heads")
        return self._watcher

    async def _watch(self, poll_s: float) -> None:
        while True:
            for chain in list(self._wanted):
                try:
                    await self._head(chain)
                except Exception as exc:  # noqa: BLE001 - a missed poll only makes send ask the chain itself
                    log.warning("fast lane: polling %s's head failed (%s)", chain, exc)
            await asyncio.sleep(poll_s)

    async def _head(self, chain: str) -> None:
        """The chain's head asked for now; its state read again if the head moved."""
        asked = time.monotonic()
        head = await self.rt.client(chain).block_number()
        self._seen[chain] = (head, asked)
        known = self.blocks.get(chain)
        if known is None or known.market.block_number < head:
            async with self._refreshing:
                known = self.blocks.get(chain)
                if known is None or known.market.block_number < head:
                    await self._read_chain(chain)

    async def _fresh(self, request: ArbitrageRequest) -> None:
        """Each DEX leg's chain state at the head: used as held when a poll within
        ``max_staleness_s`` saw no newer block, else the head asked for (and the state read
        again when it moved, or when this request's pools were never read)."""
        for venue in (request.buy, request.sell):
            if venue.is_cex or venue.chain is None:
                continue
            key = (venue.venue, request.asset, request.quote, str(request.signer))
            if key not in self._wanted.get(venue.chain, {}):
                await self.refresh(request)
                return
            known, seen = self.blocks.get(venue.chain), self._seen.get(venue.chain)
            if (
                known is not None
                and seen is not None
                and time.monotonic() - seen[1] <= self.max_staleness_s
                and seen[0] <= known.market.block_number
            ):
                continue
            await self._head(venue.chain)

    async def _fastpath(self) -> FastPathClient:
        if self._fp is None:
            self._fp = await FastPathClient.connect(self.socket_path)
        return self._fp

    async def _reset_fastpath(self) -> None:
        fp, self._fp, self.arb.fastpath = self._fp, None, None
        if fp is not None:
            with contextlib.suppress(Exception):
                await fp.close()

    async def send(self, request: ArbitrageRequest) -> ArbitrageRequest:
        """Both legs sent, and the request to start with ``sent_first`` set; or nothing sent
        and the request as given. Safe to call again for the same request (sends nothing twice)."""
        if request.mode is not ArbMode.INVENTORY or request.sent_first is not None:
            return request
        wf_id = request.workflow_id
        self.marks = {}
        try:
            await self.arb._check(request)  # unknown chains, DEXes, tokens, signers: refused before anything
            self.arb.fastpath = await self._fastpath()
            await self._fresh(request)
            quote = await self.arb.quote(request, "recheck", known=self.blocks)
            self._mark("priced")
            drafts = [await self._draft(request, leg, quote) for leg in _dex_legs(quote)] if quote.viable else []
            self._mark("DEX legs planned")
            signed = [await self._presign(swap, plan) for swap, plan in drafts]
            self._mark("swaps signed")
        except Exception as exc:  # noqa: BLE001 - nothing recorded, nothing sent: the run quotes for itself
            log.warning("%s: the fast lane sent nothing (%s); the run quotes for itself", wf_id, exc)
            await self._reset_fastpath()  # a broken connection is opened again by the next send
            return request
        done = await asyncio.to_thread(self._commit, request, quote, drafts, signed)
        self._mark("admitted and recorded")
        if done.recorded_before:  # sent (or being sent) already: the same legs, at the same quote
            return await self._resend(request)
        if done.admitted is not None:
            self.arb.report_paused(done.admitted.paused)
        if done.quote is None:
            if done.admitted is not None and done.admitted.admitted and quote.viable:
                log.info("%s: a DEX leg needs an approval first; started without the fast lane", wf_id)
            return request
        for leg in done.legs:  # spent at this head, whether or not the broadcast below answers
            self._reserve(leg)
        sends = await asyncio.gather(
            *(self._send_cex(request, leg) for leg in (done.quote.buy, done.quote.sell) if leg.venue.is_cex),
            *(self._broadcast(leg) for leg in done.legs),
            return_exceptions=True,
        )
        self._sent(wf_id, sends)
        return request.model_copy(update={"sent_first": done.quote})

    def _sent(self, wf_id: str, sends: list[Any]) -> None:
        for failed in (r for r in sends if isinstance(r, BaseException)):
            # recorded as sent: the run's own steps place (or find) it by the same id
            log.warning("%s: a leg's send failed (%s); the run's step sends it", wf_id, failed)
        crash_point("arb.fastlane.after_send", wf_id)  # legs out, run not started: a retry adopts them

    def _commit(
        self,
        request: ArbitrageRequest,
        quote: ArbQuote,
        drafts: list[tuple[SwapRequest, SwapPlan]],
        signed: list[_Presigned | None],
    ) -> _Committed:
        """One ledger transaction (in a thread): the run admitted; if it is, the quote is
        viable and no DEX leg needs an approval, the lane's quote, each swap's plan, its
        lifecycle's operation and nonce, and its signed bytes when signed at that nonce."""
        ledger, wf_id = self.rt.ledger, request.workflow_id
        with ledger.atomic():
            if ledger.get_operation(wf_id, LANE_STEP) is not None:
                return _Committed(recorded_before=True)
            admitted = self.arb.admit_run(wf_id, request)
            if not admitted.admitted or not quote.viable or any(plan.approval is not None for _, plan in drafts):
                return _Committed(admitted=admitted)
            op = ledger.begin_operation(
                wf_id,
                LANE_STEP,
                "arb_fastlane",
                # the request too: a sender that dies here leaves what to start the run with (:meth:`orphans`)
                detail={"quote": quote.model_dump(mode="json"), "request": request.model_dump(mode="json")},
            )
            legs = []
            for (swap, drafted), pre in zip(drafts, signed, strict=True):
                plan = SwapPlan.model_validate(self.swaps.record(swap.workflow_id, swap, drafted).detail["plan"])
                tx = swap_tx(swap.workflow_id, swap, plan, plan.quote.gas_estimate)
                attempt = None
                if pre is not None and pre.first.request == tx:
                    tx_op = ledger.begin_operation(
                        swap_tx_id(swap.workflow_id),
                        TX_STEP,
                        "tx",
                        chain_id=pre.first.chain_id,
                        signer=tx.signer,
                        detail={"request": tx.model_dump(mode="json")},
                        allocate_nonce_from=pre.pending,
                    )
                    assert tx_op.nonce is not None
                    key = (tx.chain, tx.signer.lower())
                    self._nonces[key] = max(self._nonces.get(key, 0), tx_op.nonce + 1)
                    if tx_op.nonce == pre.first.nonce and tx_op.detail.get("request") == tx.model_dump(mode="json"):
                        attempt = self.txs.record_first(tx_op.id, pre.first, pre.signed)
                legs.append(_DexLeg(swap, plan, tx, attempt))
            return _Committed(admitted=admitted, quote=ArbQuote.model_validate(op.detail["quote"]), legs=tuple(legs))

    async def _resend(self, request: ArbitrageRequest) -> ArbitrageRequest:
        """The legs the lane recorded for this request, sent again by the same ids (the fast
        path answers the placed parent; the swap's stored bytes are re-sent)."""
        recorded = await asyncio.to_thread(self.rt.ledger.get_operation, request.workflow_id, LANE_STEP)
        assert recorded is not None
        quote = ArbQuote.model_validate(recorded.detail["quote"])
        plans = [await self._plan(request, leg, quote) for leg in _dex_legs(quote)]
        sends = await asyncio.gather(
            *(self._send_cex(request, leg) for leg in (quote.buy, quote.sell) if leg.venue.is_cex),
            *(self._broadcast(_DexLeg(swap, plan, swap_tx(swap.workflow_id, swap, plan, plan.quote.gas_estimate), None))
              for swap, plan in plans),
            return_exceptions=True,
        )  # fmt: skip
        self._sent(request.workflow_id, sends)
        return request.model_copy(update={"sent_first": quote})

    def _swap(self, request: ArbitrageRequest, leg: LegQuote, quote: ArbQuote) -> SwapRequest:
        venue = leg.venue
        assert venue.chain is not None
        side = Side.BUY if leg.leg is LegName.BUY else Side.SELL
        return request.dex_leg(
            leg.leg, venue, side, request.size, leg.slippage_bps, quote.asset_decimals.get(venue.chain, 18)
        )

    async def _plan(self, request: ArbitrageRequest, leg: LegQuote, quote: ArbQuote) -> tuple[SwapRequest, SwapPlan]:
        """A DEX leg's plan as recorded (with the lane's quote, in the same transaction)."""
        swap = self._swap(request, leg, quote)
        return swap, await self.swaps.plan(swap.workflow_id, swap)

    async def _draft(self, request: ArbitrageRequest, leg: LegQuote, quote: ArbQuote) -> tuple[SwapRequest, SwapPlan]:
        """A DEX leg's plan as its ``DexSwap`` run would make it, on the state held for the
        head (pools, gas price, the signer's balance and allowances): nothing read, nothing recorded."""
        swap = self._swap(request, leg, quote)
        block = self.blocks.get(swap.chain)
        held = None
        if block is not None:
            token = (await resolve_token(self.rt.client(swap.chain), swap.token_in)).address.lower()
            owner = swap.signer.lower()
            balance = block.balances.get((token, owner))
            if balance is not None:
                held = {
                    spender: (balance, allowed)
                    for (t, h, spender), allowed in block.allowances.items()
                    if (t, h) == (token, owner)
                }
        plan = await self.swaps.draft(
            swap.workflow_id,
            swap,
            market=block.market if block else None,
            gas_price_wei=block.gas_price_wei if block else None,
            now=int(time.time()),
            simulate_sandwich=False,  # an arbitrage leg enforces no sandwich bound: not simulated on the hot path
            held=held,
        )
        return swap, plan

    async def _presign(self, swap: SwapRequest, plan: SwapPlan) -> _Presigned | None:
        """The swap signed as attempt 0 at the nonce the ledger is expected to give (its
        cursor or the chain's pending nonce, read at the head); None when that is not known
        or the request needs what only ``tx_prepare`` does (an explicit nonce, a total-fee cap)."""
        tx = swap_tx(swap.workflow_id, swap, plan, plan.quote.gas_estimate)
        block = self.blocks.get(tx.chain)
        owner = tx.signer.lower()
        pending = block.pending_nonce.get(owner) if block is not None else None
        if block is None or pending is None or plan.approval is not None:
            return None
        if tx.nonce is not None or tx.fees.max_total_fee is not None or tx.gas_limit is None:
            return None
        if tx.protected:
            self.rt.submitter(tx.chain, protected=True)  # refuses a chain without a relay
        max_fee, tip = self.txs.first_fees(tx, block.fees)
        nonce = max(pending, self._nonces.get((tx.chain, owner), 0))
        first = FirstAttempt(tx, self.rt.chain(tx.chain).chain_id, nonce, tx.gas_limit, max_fee, tip)
        return _Presigned(first, await self.rt.signers.get(tx.signer).sign_transaction(first.tx()), pending)

    def _reserve(self, leg: _DexLeg) -> None:
        """What the swap may spend taken off the balance and allowance held for this head
        (until the next read), so a second run at the same head is checked against the rest."""
        block = self.blocks.get(leg.swap.chain)
        if block is None:
            return
        quote = leg.plan.quote
        spent = quote.amount_in if quote.trade_type is TradeType.EXACT_IN else quote.limit
        token, owner = quote.token_in.address.lower(), leg.swap.signer.lower()
        if (token, owner) in block.balances:
            block.balances[(token, owner)] -= spent
        spender = (token, owner, leg.plan.router.lower())
        if spender in block.allowances:
            block.allowances[spender] -= spent

    async def _send_cex(self, request: ArbitrageRequest, leg: LegQuote) -> None:
        assert leg.venue.symbol is not None
        side = Side.BUY if leg.leg is LegName.BUY else Side.SELL
        fp = await self._fastpath()
        try:
            await fp.route(
                cex_parent_id(request.workflow_id, str(leg.leg)),
                leg.venue.symbol,
                side,
                request.size,
                kind=OrderKind.IOC,
                limit_price=leg.limit_price,
            )
        except Exception:
            await self._reset_fastpath()
            raise
        self._mark(f"{leg.leg} routed")

    async def _broadcast(self, leg: _DexLeg) -> None:
        """Send the swap's attempt 0: stored by the lane's transaction, else signed and stored
        now (``tx_prepare``: the recorded one if any), always before the send."""
        record = leg.attempt
        name = leg.swap.request_id.rsplit(".", 1)[-1]
        if record is None:
            block = self.blocks.get(leg.swap.chain)
            record = await self.txs.prepare(
                swap_tx_id(leg.swap.workflow_id), leg.tx, fees=block.fees if block else None
            )
            self._mark(f"{name} signed")
        await self.txs.send(record, leg.tx.chain, protected=leg.tx.protected)
        self._mark(f"{name} broadcast")

    async def orphans(self, started: Callable[[str], Awaitable[bool]], min_age: timedelta) -> list[ArbitrageRequest]:
        """Runs admitted at least ``min_age`` ago whose workflow was never ``started`` (a
        sending process stopped between admitting and starting). Those whose legs the lane
        recorded as sent are returned, to be started again (sending nothing twice, the run
        adopts them); the others sent nothing (the quote is recorded before any leg is sent)
        and are released as aborted, so they no longer hold a concurrency slot."""
        book = self.arb.book
        cutoff = datetime.now(UTC) - min_age
        orphaned: list[ArbitrageRequest] = []
        for wf_id in await asyncio.to_thread(book.running_since, cutoff):
            if await started(wf_id):
                continue
            op = await asyncio.to_thread(self.rt.ledger.get_operation, wf_id, LANE_STEP)
            if op is None:
                detail = "admitted by the fast lane, which stopped before sending a leg; nothing sent, no run started"
                await asyncio.to_thread(book.release, wf_id, detail)
                log.warning("%s: released (%s)", wf_id, detail)
            elif "request" in op.detail:
                orphaned.append(ArbitrageRequest.model_validate(op.detail["request"]))
            else:  # recorded by an older lane, without its request: an operator must start it
                log.error("%s: legs sent by the fast lane, no run started and no request recorded", wf_id)
        return orphaned

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self._reset_fastpath()


def _dex_legs(quote: ArbQuote) -> list[LegQuote]:
    return [leg for leg in (quote.buy, quote.sell) if not leg.venue.is_cex]
