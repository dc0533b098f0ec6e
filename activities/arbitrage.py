"""Arbitrage steps: admission against the risk controls, both legs priced now with the
profit floor re-checked and each leg's limit derived from it, and the realised P&L
recorded (which may trip the daily-loss kill switch). The legs themselves run through
``cex_execute`` and ``DexSwap``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from temporalio import activity

from activities.errors import business_errors
from activities.metrics import gauge
from activities.runtime import ChainRuntime
from activities.tx import TX_STEP
from connectors.bridges.planning import quote_transfer_cost
from connectors.bridges.registry import bridge_adapters
from connectors.dex.arbitrage_curves import chain_gas
from connectors.dex.routing import MarketSnapshot, RouteFinder
from connectors.dex.swap_plan import quote_swap
from connectors.dex.tokens import resolve_token
from connectors.evm.erc20 import Erc20
from connectors.evm.fees import FeeSuggestion
from crosslane.arbitrage import ArbMode, ChainGas, PriceRisk
from crosslane.crashpoints import crash_point
from crosslane.domain.arb_steps import (
    Admission,
    AdmitInput,
    ArbActivity,
    ArbitrageRequest,
    ArbQuote,
    ArbQuoteInput,
    ArbResult,
    ArbRiskLimits,
    ArbVenue,
    FinishInput,
    LegGas,
    LegGasInput,
    LegName,
    LegQuote,
    Shortfall,
    realised_profit,
    summed_changes,
)
from crosslane.domain.bridge import BridgeRequest
from crosslane.domain.dex import MAX_SLIPPAGE_BPS, TradeType
from crosslane.errors import InvalidRequest
from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import VenueQuoteView
from crosslane.ledger.arbitrage import Admitted, ArbBook, NewRun
from crosslane.ledger.records import AttemptStatus
from crosslane.money import compact, from_base_units, from_base_units_compact
from crosslane.routing.side import Side
from crosslane.telemetry.names import KILL_SWITCH


@dataclass(frozen=True)
class _Priced:
    amount: Decimal  # quote received (sell) or paid (buy), fees included
    gas: Decimal  # quote
    fee_rate: Decimal
    short: str = ""  # why it cannot fill (the CEX books)
    shortfall: Shortfall | None = None  # the inventory it spends is short
    slices: tuple[VenueQuoteView, ...] = ()  # a CEX leg: what each venue would fill
    step: Decimal | None = None  # a CEX leg: the finest quantity the fast path trades


@dataclass(frozen=True)
class _Bridged:
    route: str | None = None
    fee: Decimal = Decimal(0)  # asset, whole tokens
    seconds: int = 0
    risk: Decimal = Decimal(0)  # quote
    short: str = ""


_NO_BRIDGE = _Bridged()


async def cex_shortfall(
    fp: FastPathClient, symbol: str, side: Side, slices: Sequence[VenueQuoteView]
) -> Shortfall | None:
    """The first venue whose slice spends more than the account holds there (a buy its quote
    currency, fees included; a sell the base); None when every slice is covered. A venue
    whose balance cannot be read counts as holding nothing."""
    base, quote = symbol.split("/", 1)
    spent = quote if side is Side.BUY else base
    held = {b.venue: b.free.get(spent, Decimal(0)) for b in await fp.balances([spent])}
    leg = LegName.BUY if side is Side.BUY else LegName.SELL
    for slice_ in slices:
        need = slice_.qty * slice_.avg_price + slice_.fee if side is Side.BUY else slice_.qty
        has = held.get(slice_.venue, Decimal(0))
        if has < need:
            return Shortfall(leg=leg, chain=f"cex:{slice_.venue}", token=spent, held=compact(has), needed=compact(need))
    return None


@dataclass(frozen=True)
class KnownBlock:
    """One chain's state read once per block (the fast lane's, a scanner's): its pools
    (those the legs trade and those that price gas) and the fees a transaction pays."""

    market: MarketSnapshot
    fees: FeeSuggestion
    gas: dict[str, ChainGas | None] = field(default_factory=dict)  # quote token address -> gas priced in it
    # (token address, holder), lowercase -> base units held at this block, less what the fast lane has
    # sent since (its swaps still pending): the inventory a DEX leg is checked against
    balances: dict[tuple[str, str], int] = field(default_factory=dict)
    allowances: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (token, holder, spender)
    pending_nonce: dict[str, int] = field(default_factory=dict)  # holder -> its pending nonce at the read

    @property
    def gas_price_wei(self) -> int:
        return self.fees.base_fee + self.fees.max_priority_fee_per_gas


async def _done(priced: _Priced) -> _Priced:
    return priced


def limits_from_env() -> ArbRiskLimits:
    """``CROSSLANE_ARB_MAX_CONCURRENT``, ``CROSSLANE_ARB_DAILY_LOSS_LIMIT`` (quote, whole
    tokens) and ``CROSSLANE_ARB_MAX_SIZE`` (``WETH=10,BTC=0.5``: the largest size per run)."""
    sizes = {}
    for item in filter(None, os.environ.get("CROSSLANE_ARB_MAX_SIZE", "").split(",")):
        asset, _, size = item.partition("=")
        sizes[asset.strip()] = Decimal(size.strip())
    defaults = ArbRiskLimits()
    return ArbRiskLimits(
        max_concurrent=int(os.environ.get("CROSSLANE_ARB_MAX_CONCURRENT", defaults.max_concurrent)),
        daily_loss_limit=Decimal(os.environ.get("CROSSLANE_ARB_DAILY_LOSS_LIMIT", defaults.daily_loss_limit)),
        max_notional=sizes,
    )


class ArbActivities:
    def __init__(self, runtime: ChainRuntime, limits: ArbRiskLimits, socket_path: Path | None = None) -> None:
        self.rt = runtime
        self.limits = limits
        self.socket_path = socket_path
        self.book = ArbBook(runtime.ledger)
        self._finders: dict[str, RouteFinder] = {}
        self.fastpath: FastPathClient | None = None  # a connection to price CEX legs on (else one per quote)

    def all(self) -> list[object]:
        return [self.arb_admit, self.arb_quote, self.arb_finish, self.arb_leg_gas]

    def _finder(self, chain: str) -> RouteFinder:
        if chain not in self._finders:
            self._finders[chain] = RouteFinder(self.rt.client(chain))
        return self._finders[chain]

    async def _check(self, request: ArbitrageRequest) -> None:
        """Unknown chains, DEX deployments, tokens and signers refused before anything is done."""
        for venue in (request.buy, request.sell):
            if venue.is_cex:
                continue
            assert venue.chain is not None
            chain = self.rt.chain(venue.chain)
            if venue.venue not in chain.dexes:
                known = ", ".join(sorted(chain.dexes)) or "none"
                raise InvalidRequest(f"unknown DEX {venue.venue!r} on {venue.chain}; known: {known}")
            client = self.rt.client(venue.chain)
            await asyncio.gather(resolve_token(client, request.asset), resolve_token(client, request.quote))
            assert request.signer is not None
            self.rt.signers.get(request.signer)

    @activity.defn(name=ArbActivity.ADMIT)
    @business_errors
    async def arb_admit(self, inp: AdmitInput) -> Admission:
        return await self.admit(inp.workflow_id, inp.request)

    async def admit(self, workflow_id: str, request: ArbitrageRequest) -> Admission:
        """``arb_admit``'s work (the fast lane admits before it sends; the run then finds it admitted)."""
        await self._check(request)
        admitted = await asyncio.to_thread(self.admit_run, workflow_id, request)
        self.report_paused(admitted.paused)
        return Admission(admitted=admitted.admitted, reason=admitted.reason)

    def admit_run(self, workflow_id: str, request: ArbitrageRequest) -> Admitted:
        """The admission's ledger write (in a thread; joins an open ``Ledger.atomic`` block)."""
        run = NewRun(request.request_id, str(request.kind), request.asset, request.quote, request.size)
        return self.book.admit_run(
            workflow_id,
            run,
            max_concurrent=self.limits.max_concurrent,
            max_size=self.limits.max_notional.get(request.asset),
        )

    @staticmethod
    def report_paused(paused: bool) -> None:
        gauge(KILL_SWITCH, "1 while arbitrage is paused (kill switch or operator)", int(paused))

    async def _report_paused(self) -> None:
        """The kill switch's state as a gauge, read at every admission and finish."""
        controls = await asyncio.to_thread(self.book.controls)
        self.report_paused(controls.paused)

    @activity.defn(name=ArbActivity.QUOTE)
    @business_errors
    async def arb_quote(self, inp: ArbQuoteInput) -> ArbQuote:
        """Both legs priced now for the request's size (or ``inp.size``). Transfer mode also
        charges the bridge's fee and the price risk while the asset is in flight; its later
        phases price what is still to do: ``bridge`` the sale (the buy is done), ``sell`` the
        sale of what arrived (its inventory checked: the bridge has delivered it)."""
        return await self.quote(inp.request, inp.phase, inp.size)

    async def quote(
        self,
        request: ArbitrageRequest,
        phase: str,
        size: Decimal | None = None,
        known: Mapping[str, KnownBlock] | None = None,
    ) -> ArbQuote:
        """``arb_quote``'s work; the fast lane gives ``known``: each chain's pools and fees
        already read this block, so a DEX leg is priced without reading them again."""
        size = size or request.size
        transfer = request.mode is ArbMode.TRANSFER
        bought = transfer and phase in ("bridge", "sell")
        known = known or {}
        native: dict[str, Decimal] = {}
        decimals: dict[str, int] = {}
        quote_decimals: dict[str, int] = {}
        places = (native, decimals, quote_decimals)
        no_buy = _Priced(Decimal(0), Decimal(0), Decimal(0))
        buy, sell = await asyncio.gather(
            _done(no_buy) if bought else self._price(request, request.buy, Side.BUY, size, places, known=known),
            self._price(
                request, request.sell, Side.SELL, size, places, check=not transfer or phase == "sell", known=known
            ),
        )
        if phase == "plan":  # the venues' balances: a REST call each, read once per run, before it decides
            buy, sell = await asyncio.gather(
                self._cex_covered(request.buy, Side.BUY, buy), self._cex_covered(request.sell, Side.SELL, sell)
            )
        price = (buy.amount + sell.amount) / 2 / size if not bought else sell.amount / size
        bridge = _NO_BRIDGE
        if transfer and phase != "sell":
            bridge = await self._bridge_cost(request, size, decimals.get(str(request.buy.chain), 18), price)
        profit = sell.amount - buy.amount - buy.gas - sell.gas - bridge.fee * price - bridge.risk
        slack = profit - request.min_profit
        shortfall = buy.shortfall or sell.shortfall
        short = (
            buy.short or sell.short or bridge.short or (shortfall.describe(str(request.signer)) if shortfall else "")
        )
        viable = not short and slack >= 0
        q = request.quote
        costs = f"sell {sell.amount}, buy {buy.amount}, gas {buy.gas + sell.gas}"
        if transfer and phase != "sell":
            costs += (
                f", bridge {bridge.fee} {request.asset} via {bridge.route} in {bridge.seconds} s, risk {bridge.risk}"
            )
        if short:
            reason = short
        elif viable:
            reason = f"expected {profit} {q} ({costs}), floor {request.min_profit} {q}"
        else:
            reason = f"expected {profit} {q} ({costs}) is below the minimum profit {request.min_profit} {q}"
        half = max(slack, Decimal(0)) / 2
        fee_rate = buy.fee_rate if request.buy.is_cex else sell.fee_rate
        return ArbQuote(
            buy=self._limit(LegName.BUY, request.buy, buy, buy.amount + half, size),
            sell=self._limit(LegName.SELL, request.sell, sell, sell.amount - half, size),
            expected_profit=profit,
            viable=viable,
            reason=reason,
            price=price,
            cex_fee_rate=fee_rate,
            cex_step=buy.step or sell.step,
            native_price=native,
            asset_decimals=decimals,
            quote_decimals=quote_decimals,
            shortfall=shortfall,
            bridge_route=bridge.route,
            bridge_fee=bridge.fee,
            bridge_seconds=bridge.seconds,
            price_risk=bridge.risk,
        )

    async def _cex_covered(self, venue: ArbVenue, side: Side, priced: _Priced) -> _Priced:
        """A CEX leg whose venues' slices the account cannot pay for, as its shortfall."""
        if not venue.is_cex or not priced.slices:
            return priced
        assert venue.symbol is not None
        async with await FastPathClient.connect(self.socket_path) as fp:
            short = await cex_shortfall(fp, venue.symbol, side, priced.slices)
        return priced if short is None else replace(priced, shortfall=short)

    async def _bridge_cost(self, request: ArbitrageRequest, size: Decimal, decimals: int, price: Decimal) -> _Bridged:
        """The route the bridge selector takes for ``size`` of the asset from the buy chain to
        the sell chain: its fee and gas (in the asset) and the price risk over its time in flight."""
        assert request.buy.chain is not None and request.sell.chain is not None and request.fees is not None
        amount = int((size * Decimal(10) ** decimals).to_integral_value(rounding=ROUND_DOWN))
        bridge_request = BridgeRequest(
            request_id=f"{request.workflow_id}.quote",
            source_chain=request.buy.chain,
            destination_chain=request.sell.chain,
            asset=request.asset,
            amount=amount,
            signer=str(request.signer),
            route=request.bridge_route,
            fees=request.fees,
        )
        adapters = bridge_adapters(self.rt.chains.bridges, self.rt.client)
        if not adapters:
            return _Bridged(short="no bridge route is configured (the chain registry has no bridges section)")
        cost = await quote_transfer_cost(self.rt.chains, self.rt.client, adapters, bridge_request)
        if cost.bridge is None:
            return _Bridged(short=f"no bridge can carry it: {cost.reason}")
        fee = from_base_units(cost.bridge.cost_in_asset(amount), decimals)
        risk = PriceRisk(request.risk_aversion, request.volatility).factor(cost.bridge.seconds) * size * price
        return _Bridged(route=cost.bridge.route, fee=fee, seconds=cost.bridge.seconds, risk=risk)

    @staticmethod
    def _limit(leg: LegName, venue: ArbVenue, priced: _Priced, limit: Decimal, size: Decimal) -> LegQuote:
        """The leg's limit as its executor takes it: a fee-exclusive IOC price on the fast path
        (rounded inside the limit), a slippage bound on DexSwap's own quote (rounded down)."""
        expected, gas, fee_rate = priced.amount, priced.gas, priced.fee_rate
        if venue.is_cex:
            per = limit / size
            if leg is LegName.BUY:
                price = venue.limit_price(per / (1 + fee_rate), Side.BUY)
            else:
                price = venue.limit_price(per / (1 - fee_rate), Side.SELL)
            return LegQuote(leg=leg, venue=venue, expected=expected, limit=limit, gas_cost=gas, limit_price=price)
        room = abs(limit - expected)
        bps = int((room / expected * 10_000).to_integral_value(rounding=ROUND_DOWN)) if expected > 0 else 0
        return LegQuote(
            leg=leg, venue=venue, expected=expected, limit=limit, gas_cost=gas, slippage_bps=min(bps, MAX_SLIPPAGE_BPS)
        )

    async def _price(
        self,
        request: ArbitrageRequest,
        venue: ArbVenue,
        side: Side,
        size: Decimal,
        places: tuple[dict[str, Decimal], dict[str, int], dict[str, int]],
        *,
        check: bool = True,
        known: Mapping[str, KnownBlock] | None = None,
    ) -> _Priced:
        """The quote received or paid with fees, gas in quote, the fee rate, and why it cannot
        fill; a DEX leg's inventory (what it spends) is read now unless ``check`` is off."""
        native, decimals, quote_decimals = places
        if venue.is_cex:
            assert venue.symbol is not None
            if self.fastpath is not None:  # the fast lane's connection, kept open
                view = await self.fastpath.quote(venue.symbol, side, size)
            else:
                async with await FastPathClient.connect(self.socket_path) as fp:
                    view = await fp.quote(venue.symbol, side, size)
            if view.filled_qty < size:
                return _Priced(
                    Decimal(0), Decimal(0), Decimal(0), f"the CEX books hold only {view.filled_qty} of {size}"
                )
            amount = view.notional + view.fees if side is Side.BUY else view.notional - view.fees
            rate = view.fees / view.notional if view.notional else Decimal(0)
            return _Priced(amount, Decimal(0), rate, slices=tuple(view.legs), step=view.step)
        assert venue.chain is not None
        client = self.rt.client(venue.chain)
        asset, quote = await asyncio.gather(resolve_token(client, request.asset), resolve_token(client, request.quote))
        decimals[venue.chain], quote_decimals[venue.chain] = asset.decimals, quote.decimals
        base_size = int((size * Decimal(10) ** asset.decimals).to_integral_value(rounding=ROUND_DOWN))
        token_in, token_out = (asset, quote) if side is Side.SELL else (quote, asset)
        trade = TradeType.EXACT_IN if side is Side.SELL else TradeType.EXACT_OUT
        block = (known or {}).get(venue.chain)
        swap, _ = await quote_swap(
            self._finder(venue.chain),
            token_in,
            token_out,
            trade,
            base_size,
            slippage_bps=0,
            max_hops=1,
            dex_names=[venue.venue],
            market=block.market if block else None,
            gas_price_wei=block.gas_price_wei if block else None,
        )
        if check:  # what earlier runs left, read now: never sent to fail after the other leg filled
            assert request.signer is not None
            held = block.balances.get((token_in.address.lower(), request.signer.lower())) if block else None
            if held is None:
                held = await Erc20(client, token_in.address).balance_of(request.signer)
            if held < swap.amount_in:
                leg = LegName.SELL if side is Side.SELL else LegName.BUY
                need, has = (from_base_units_compact(n, token_in.decimals) for n in (swap.amount_in, held))
                short = Shortfall(leg=leg, chain=venue.chain, token=token_in.symbol, held=has, needed=need)
                return _Priced(Decimal(0), Decimal(0), Decimal(0), shortfall=short)
        if block is not None and quote.address in block.gas:
            gas = block.gas[quote.address]
        else:
            gas = await chain_gas(client, quote.address)
        per_native = Decimal(0)
        if gas is not None:
            per_wei = gas.quote_per_wei
            per_native = Decimal(per_wei.numerator) * Decimal(10) ** 18 / Decimal(per_wei.denominator)
            per_native = per_native / Decimal(10) ** quote.decimals
        native[venue.chain] = per_native
        gas_cost = from_base_units(swap.gas_cost_wei, 18) * per_native
        amount = swap.amount_out if side is Side.SELL else swap.amount_in
        return _Priced(from_base_units(amount, quote.decimals), gas_cost, Decimal(0))

    @activity.defn(name=ArbActivity.LEG_GAS)
    @business_errors
    async def arb_leg_gas(self, inp: LegGasInput) -> LegGas:
        """What a leg's mined transactions cost (the ledger records each attempt's receipt):
        an approval mined before a swap was refused, a swap that reverted, a bridge's
        deposit and redeem. Its children are ``tx-<leg's workflow id>.<step>``."""
        wei: dict[int, int] = {}
        hashes = []
        for step in inp.steps:
            op = await asyncio.to_thread(self.rt.ledger.get_operation, f"tx-{inp.swap_workflow_id}.{step}", TX_STEP)
            if op is None:
                continue
            for attempt in await asyncio.to_thread(self.rt.ledger.list_attempts, op.id):
                mined = attempt.status in (AttemptStatus.MINED, AttemptStatus.REVERTED)
                if mined and attempt.gas_used is not None and attempt.effective_gas_price is not None:
                    burnt = attempt.gas_used * attempt.effective_gas_price
                    wei[attempt.chain_id] = wei.get(attempt.chain_id, 0) + burnt
                    hashes.append(attempt.tx_hash)
        names = {chain.chain_id: name for name, chain in self.rt.chains.chains.items()} if wei else {}
        per_chain = {names.get(cid, str(cid)): from_base_units(amount, 18) for cid, amount in wei.items()}
        return LegGas(native=sum(per_chain.values(), start=Decimal(0)), per_chain=per_chain, tx_hashes=hashes)

    @activity.defn(name=ArbActivity.FINISH)
    @business_errors
    async def arb_finish(self, inp: FinishInput) -> ArbResult:
        crash_point("arb.before_finish", inp.workflow_id)  # legs done, P&L not yet recorded
        realised = realised_profit(inp.legs, inp.asset_price)
        tripped = await asyncio.to_thread(
            self.book.finish,
            inp.workflow_id,
            state=str(inp.outcome),
            detail=inp.reason,
            expected_profit=inp.expected_profit,
            realised_profit=realised,
            legs=[leg.model_dump(mode="json") for leg in inp.legs],
            daily_loss_limit=self.limits.daily_loss_limit,
        )
        await self._report_paused()
        return ArbResult(
            request_id=inp.request.request_id,
            kind=inp.request.kind,
            outcome=inp.outcome,
            reason=inp.reason,
            expected_profit=inp.expected_profit,
            realised_profit=realised,
            asset_price=inp.asset_price,
            legs=inp.legs,
            changes=summed_changes(inp.legs),
            kill_switch=tripped,
        )
