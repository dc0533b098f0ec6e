"""Arbitrage steps: admission against the risk controls, both legs priced now with the
profit floor re-checked and each leg's limit derived from it, and the realised P&L
recorded (which may trip the daily-loss kill switch). The legs themselves run through
``cex_execute`` and ``DexSwap``.
"""

from __future__ import annotations

import asyncio
import os
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from temporalio import activity

from activities.errors import business_errors
from activities.metrics import gauge
from activities.runtime import ChainRuntime
from connectors.dex.arbitrage_curves import chain_gas
from connectors.dex.routing import RouteFinder
from connectors.dex.swap_plan import quote_swap
from connectors.dex.tokens import resolve_token
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
    LegName,
    LegQuote,
    realised_profit,
    summed_changes,
)
from crosslane.domain.dex import MAX_SLIPPAGE_BPS, TradeType
from crosslane.errors import InvalidRequest
from crosslane.fastpath.client import FastPathClient
from crosslane.ledger.arbitrage import ArbBook, NewRun
from crosslane.money import from_base_units
from crosslane.routing.side import Side
from crosslane.telemetry.names import KILL_SWITCH


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

    def all(self) -> list[object]:
        return [self.arb_admit, self.arb_quote, self.arb_finish]

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
        request = inp.request
        await self._check(request)
        run = NewRun(request.request_id, str(request.kind), request.asset, request.quote, request.size)
        admitted, reason = await asyncio.to_thread(
            self.book.admit,
            inp.workflow_id,
            run,
            max_concurrent=self.limits.max_concurrent,
            max_size=self.limits.max_notional.get(request.asset),
        )
        await self._report_paused()
        return Admission(admitted=admitted, reason=reason)

    async def _report_paused(self) -> None:
        """The kill switch's state as a gauge, read at every admission and finish."""
        controls = await asyncio.to_thread(self.book.controls)
        gauge(KILL_SWITCH, "1 while arbitrage is paused (kill switch or operator)", int(controls.paused))

    @activity.defn(name=ArbActivity.QUOTE)
    @business_errors
    async def arb_quote(self, inp: ArbQuoteInput) -> ArbQuote:
        request = inp.request
        native: dict[str, Decimal] = {}
        decimals: dict[str, int] = {}
        buy, sell = await asyncio.gather(
            self._price(request, request.buy, Side.BUY, native, decimals),
            self._price(request, request.sell, Side.SELL, native, decimals),
        )
        (buy_amount, buy_gas, buy_fee, buy_short), (sell_amount, sell_gas, sell_fee, sell_short) = buy, sell
        profit = sell_amount - buy_amount - buy_gas - sell_gas
        slack = profit - request.min_profit
        short = buy_short or sell_short
        viable = not short and slack >= 0
        q = request.quote
        if short:
            reason = short
        elif viable:
            reason = (
                f"expected {profit} {q} (sell {sell_amount}, buy {buy_amount}, gas {buy_gas + sell_gas}), "
                f"floor {request.min_profit} {q}"
            )
        else:
            reason = (
                f"expected {profit} {q} (sell {sell_amount}, buy {buy_amount}, gas {buy_gas + sell_gas}) is below "
                f"the minimum profit {request.min_profit} {q}"
            )
        half = max(slack, Decimal(0)) / 2
        fee_rate = buy_fee if request.buy.is_cex else sell_fee
        return ArbQuote(
            buy=self._limit(LegName.BUY, request.buy, buy_amount, buy_amount + half, buy_gas, buy_fee, request),
            sell=self._limit(LegName.SELL, request.sell, sell_amount, sell_amount - half, sell_gas, sell_fee, request),
            expected_profit=profit,
            viable=viable,
            reason=reason,
            price=(buy_amount + sell_amount) / 2 / request.size,
            cex_fee_rate=fee_rate,
            native_price=native,
            asset_decimals=decimals,
        )

    @staticmethod
    def _limit(
        leg: LegName,
        venue: ArbVenue,
        expected: Decimal,
        limit: Decimal,
        gas: Decimal,
        fee_rate: Decimal,
        request: ArbitrageRequest,
    ) -> LegQuote:
        """The leg's limit as its executor takes it: a fee-exclusive IOC price on the fast path
        (rounded inside the limit), a slippage bound on DexSwap's own quote (rounded down)."""
        if venue.is_cex:
            per = limit / request.size
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
        native: dict[str, Decimal],
        decimals: dict[str, int],
    ) -> tuple[Decimal, Decimal, Decimal, str]:
        """(quote received or paid with fees, gas in quote, fee rate, why it cannot fill or "")."""
        if venue.is_cex:
            assert venue.symbol is not None
            async with await FastPathClient.connect(self.socket_path) as fp:
                view = await fp.quote(venue.symbol, side, request.size)
            if view.filled_qty < request.size:
                return (
                    Decimal(0),
                    Decimal(0),
                    Decimal(0),
                    f"the CEX books hold only {view.filled_qty} of {request.size}",
                )
            amount = view.notional + view.fees if side is Side.BUY else view.notional - view.fees
            rate = view.fees / view.notional if view.notional else Decimal(0)
            return amount, Decimal(0), rate, ""
        assert venue.chain is not None
        client = self.rt.client(venue.chain)
        asset, quote = await asyncio.gather(resolve_token(client, request.asset), resolve_token(client, request.quote))
        decimals[venue.chain] = asset.decimals
        size = int((request.size * Decimal(10) ** asset.decimals).to_integral_value(rounding=ROUND_DOWN))
        token_in, token_out = (asset, quote) if side is Side.SELL else (quote, asset)
        trade = TradeType.EXACT_IN if side is Side.SELL else TradeType.EXACT_OUT
        swap, _ = await quote_swap(
            self._finder(venue.chain),
            token_in,
            token_out,
            trade,
            size,
            slippage_bps=0,
            max_hops=1,
            dex_names=[venue.venue],
        )
        gas = await chain_gas(client, quote.address)
        per_native = Decimal(0)
        if gas is not None:
            per_wei = gas.quote_per_wei
            per_native = Decimal(per_wei.numerator) * Decimal(10) ** 18 / Decimal(per_wei.denominator)
            per_native = per_native / Decimal(10) ** quote.decimals
        native[venue.chain] = per_native
        gas_cost = from_base_units(swap.gas_cost_wei, 18) * per_native
        amount = swap.amount_out if side is Side.SELL else swap.amount_in
        return from_base_units(amount, quote.decimals), gas_cost, Decimal(0), ""

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
