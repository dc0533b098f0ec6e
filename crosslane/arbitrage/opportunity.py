"""An arbitrage opportunity: the size worth trading, what it earns item by item, and
why it is taken or dropped (each reason in words, like the bridge selector's).

``evaluate`` is pure: the caller hands in each leg's curve with the freshness and health
of what it was built from, the limits and the costs; it answers one :class:`Opportunity`.
Size is base units of the asset, every amount of money base units of the quote asset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from math import lcm
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosslane.arbitrage.costs import NO_RISK, BridgeCost, ChainGas, PriceRisk, TxGas, approvals
from crosslane.arbitrage.curves import LegCurve, LegFill
from crosslane.arbitrage.optimizer import maximise
from crosslane.money import format_amount
from crosslane.routing.side import Side


class ArbKind(StrEnum):
    CEX_CEX = "cex-cex"
    CEX_DEX = "cex-dex"
    DEX_DEX = "dex-dex"


class ArbMode(StrEnum):
    INVENTORY = "inventory"  # both legs at once from inventory held on each side
    TRANSFER = "transfer"  # buy, bridge the asset, then sell: bridge fee and price risk


class DropReason(StrEnum):
    BELOW_MIN_PROFIT = "below min profit"
    TRANSFER_COST = "bridge fee and price risk exceed the gap"  # the legs alone would reach the floor
    EXPOSURE_LIMIT = "exposure limit"
    INVENTORY_LIMIT = "inventory limit"
    STALE_BOOK = "stale book"
    STALE_POOL = "stale pool state"
    VENUE_UNHEALTHY = "venue unhealthy"
    NO_ROUTE = "no route"


@dataclass(frozen=True)
class ArbMarket:
    """The asset traded and the quote asset it is priced in, by canonical name (the
    registry's asset map joins them to each venue's symbol and each chain's token)."""

    asset: str
    quote: str
    asset_decimals: int
    quote_decimals: int

    def asset_text(self, amount: int) -> str:
        return format_amount(amount, self.asset_decimals, self.asset)

    def quote_text(self, amount: int) -> str:
        return format_amount(amount, self.quote_decimals, self.quote)


@dataclass(frozen=True)
class ArbLeg:
    """One side of an opportunity as its source stands now.

    ``curve`` None means the source has nothing to trade on (``unavailable`` says why).
    A CEX leg gives ``book_ts_ms`` (when its book was last known true); an on-chain leg its
    pool state's ``block_number`` and the chain's ``head_block``, the ``gas`` price of its
    chain and whether its token allowance is missing (then an approval is paid).
    """

    venue: str
    market: str
    curve: LegCurve | None
    chain: str | None = None
    book_ts_ms: int | None = None
    block_number: int | None = None
    head_block: int | None = None
    healthy: bool = True
    health_detail: str = ""
    gas: ChainGas | None = None
    approval_missing: bool = False
    unavailable: str = "no book or pool"


@dataclass(frozen=True)
class ArbPolicy:
    """Limits and bounds: ``min_profit`` and ``max_exposure`` (the asset's value per
    opportunity) in quote base units; staleness bounds; the price-risk aversion."""

    min_profit: int = 0
    max_exposure: int | None = None
    max_book_age_ms: int = 2_000
    max_pool_age_blocks: int = 2
    risk: PriceRisk = NO_RISK


@dataclass(frozen=True)
class Inventory:
    """What can be spent: quote where the buy leg trades, asset where the sell leg trades
    (inventory mode; in transfer mode the bridge brings it). None: not limited."""

    quote_at_buy: int | None = None
    asset_at_sell: int | None = None


@dataclass(frozen=True)
class TransferCost:
    """Transfer mode's bridge, the transactions it sends beyond the ones its quote already
    priced, and the selector's reason for the route (or, with no ``bridge``, why none can
    carry the asset)."""

    bridge: BridgeCost | None
    txs: Sequence[TxGas] = field(default_factory=tuple)
    reason: str = ""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CostItem(_Model):
    """One signed term of the profit, quote base units: positive earns, negative costs."""

    name: str
    amount: int


class LegOutcome(_Model):
    """A leg as the chosen size would execute, and how fresh its inputs were."""

    venue: str
    market: str
    side: Side
    chain: str | None = None
    size: int
    quote: int = Field(description="received (sell) or paid (buy), fees included")
    at_best: int
    fee: int
    impact: int
    gas_units: int = 0
    gas_cost: int = 0
    book_ts_ms: int | None = None
    block_number: int | None = None
    head_block: int | None = None


class Opportunity(_Model):
    """An arbitrage between two legs at its best size, its profit itemised (``items`` sum
    to ``net_profit`` exactly) and the decision with every reason for it."""

    kind: ArbKind
    mode: ArbMode
    asset: str
    quote_asset: str
    asset_decimals: int
    quote_decimals: int
    buy: LegOutcome | None = None
    sell: LegOutcome | None = None
    size: int = 0
    proceeds: int = 0
    cost: int = 0
    items: list[CostItem] = Field(default_factory=list)
    net_profit: int = 0
    decision: Literal["taken", "dropped"]
    dropped_for: list[DropReason] = Field(default_factory=list)
    reasons: list[str] = Field(min_length=1)
    evaluated_at_ms: int
    evaluations: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> Opportunity:
        if sum(i.amount for i in self.items) != self.net_profit:
            raise ValueError("the itemised terms do not sum to the net profit")
        if (self.decision == "taken") == bool(self.dropped_for):
            raise ValueError("an opportunity is dropped exactly when it has drop reasons")
        return self


@dataclass(frozen=True)
class _Costed:
    """Every term of the profit at one size."""

    buy: LegFill
    sell: LegFill
    buy_gas: int
    sell_gas: int
    txs: tuple[tuple[str, int], ...]
    bridge: int
    risk: int

    @property
    def net(self) -> int:
        return (
            self.sell.quote
            - self.buy.quote
            - self.buy_gas
            - self.sell_gas
            - sum(c for _, c in self.txs)
            - self.bridge
            - self.risk
        )

    def items(self) -> list[CostItem]:
        terms = [
            ("sell at best price", self.sell.at_best),
            ("sell fee", -self.sell.fee),
            ("sell price impact", -self.sell.impact),
            ("buy at best price", -self.buy.at_best),
            ("buy fee", -self.buy.fee),
            ("buy price impact", -self.buy.impact),
            ("gas: buy", -self.buy_gas),
            ("gas: sell", -self.sell_gas),
            *((f"gas: {label}", -cost) for label, cost in self.txs),
            ("bridge fee", -self.bridge),
            ("price risk in flight", -self.risk),
        ]
        return [CostItem(name=n, amount=a) for n, a in terms]


class _Pricer:
    """net(size) for one pair of legs and one set of costs."""

    def __init__(
        self,
        market: ArbMarket,
        buy: ArbLeg,
        sell: ArbLeg,
        reference: Fraction,
        policy: ArbPolicy,
        transfer: TransferCost | None,
    ) -> None:
        assert buy.curve is not None and sell.curve is not None
        self.buy_leg, self.sell_leg = buy, sell
        self.buy, self.sell = buy.curve, sell.curve
        self.reference = reference  # quote base units per asset base unit
        self.policy = policy
        self.transfer = transfer
        txs = [*(transfer.txs if transfer else ())]
        for leg, spent in ((buy, market.quote), (sell, market.asset)):  # each leg spends a token
            if leg.gas is not None and leg.approval_missing:
                txs += approvals(leg.gas, {spent: True})
        self.txs = tuple((tx.label, tx.cost()) for tx in txs)

    @staticmethod
    def _gas(leg: ArbLeg, fill: LegFill) -> int:
        return leg.gas.cost(fill.gas_units) if leg.gas is not None and fill.gas_units else 0

    def value(self, size: int) -> int:
        """The asset's value at the reference price, quote base units rounded up."""
        return -(-size * self.reference.numerator // self.reference.denominator)

    def at(self, size: int) -> _Costed:
        buy, sell = self.buy.fill(size), self.sell.fill(size)
        bridge = risk = 0
        if self.transfer is not None and self.transfer.bridge is not None:
            b = self.transfer.bridge
            in_asset = b.cost_in_asset(size)
            bridge = -(-in_asset * self.reference.numerator // self.reference.denominator)
            risk = self.policy.risk.cost(self.value(size), b.seconds)
        return _Costed(buy, sell, self._gas(self.buy_leg, buy), self._gas(self.sell_leg, sell), self.txs, bridge, risk)

    def net(self, size: int) -> int:
        return self.at(size).net


def input_reasons(leg: ArbLeg, policy: ArbPolicy, now_ms: int) -> list[tuple[DropReason, str]]:
    """Why a leg's inputs cannot be trusted now (empty: they can)."""
    reasons: list[tuple[DropReason, str]] = []
    where = f"{leg.venue} {leg.market}"
    if leg.curve is None:
        reasons.append((DropReason.NO_ROUTE, f"{where}: {leg.unavailable}"))
    if not leg.healthy:
        reasons.append((DropReason.VENUE_UNHEALTHY, f"{where}: {leg.health_detail or 'unhealthy'}"))
    if leg.book_ts_ms is not None and now_ms - leg.book_ts_ms > policy.max_book_age_ms:
        age = now_ms - leg.book_ts_ms
        reasons.append((DropReason.STALE_BOOK, f"{where}: book {age} ms old, limit {policy.max_book_age_ms} ms"))
    if leg.block_number is not None and leg.head_block is not None:
        behind = leg.head_block - leg.block_number
        if behind > policy.max_pool_age_blocks:
            reasons.append(
                (
                    DropReason.STALE_POOL,
                    f"{where}: pool state from block {leg.block_number}, {behind} behind the head "
                    f"(limit {policy.max_pool_age_blocks})",
                )
            )
    return reasons


def _outcome(leg: ArbLeg, fill: LegFill, gas_cost: int) -> LegOutcome:
    return LegOutcome(
        venue=leg.venue, market=leg.market, side=fill.side, chain=leg.chain, size=fill.size, quote=fill.quote,
        at_best=fill.at_best, fee=fill.fee, impact=fill.impact, gas_units=fill.gas_units, gas_cost=gas_cost,
        book_ts_ms=leg.book_ts_ms, block_number=leg.block_number, head_block=leg.head_block,
    )  # fmt: skip


def _largest_affordable(curve: LegCurve, low: int, high: int, lot: int, budget: int) -> int | None:
    """The largest whole-lot size in [low, high] whose buy costs at most ``budget`` (costs
    rise with size); None when even ``low`` costs more."""
    lo, hi = -(-low // lot), high // lot
    if lo > hi or curve.fill(lo * lot).quote > budget:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if curve.fill(mid * lot).quote <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo * lot


def _limits(
    market: ArbMarket,
    buy: ArbLeg,
    sell: ArbLeg,
    reference: Fraction,
    policy: ArbPolicy,
    inventory: Inventory,
    mode: ArbMode,
    sizes: tuple[int, int, int],
) -> list[tuple[DropReason, str, int]]:
    """Each limit on the size: (its drop reason, what it is in words, the largest size it allows)."""
    assert buy.curve is not None
    low, capacity, lot = sizes
    limits: list[tuple[DropReason, str, int]] = []
    if policy.max_exposure is not None:
        bound = policy.max_exposure * reference.denominator // reference.numerator
        limits.append((DropReason.EXPOSURE_LIMIT, f"exposure limit {market.quote_text(policy.max_exposure)}", bound))
    if inventory.asset_at_sell is not None and mode is ArbMode.INVENTORY:
        limits.append(
            (
                DropReason.INVENTORY_LIMIT,
                f"{market.asset_text(inventory.asset_at_sell)} held at {sell.venue}",
                inventory.asset_at_sell,
            )
        )
    if inventory.quote_at_buy is not None:
        affordable = _largest_affordable(buy.curve, low, capacity, lot, inventory.quote_at_buy)
        limits.append(
            (
                DropReason.INVENTORY_LIMIT,
                f"{market.quote_text(inventory.quote_at_buy)} held at {buy.venue}",
                -1 if affordable is None else affordable,
            )
        )
    return limits


def evaluate(
    kind: ArbKind,
    market: ArbMarket,
    buy: ArbLeg,
    sell: ArbLeg,
    *,
    now_ms: int,
    policy: ArbPolicy = ArbPolicy(),
    inventory: Inventory = Inventory(),
    transfer: TransferCost | None = None,
) -> Opportunity:
    """The best size for buying on ``buy`` and selling on ``sell``, and whether to take it."""
    mode = ArbMode.TRANSFER if transfer is not None else ArbMode.INVENTORY
    base = {
        "kind": kind, "mode": mode, "asset": market.asset, "quote_asset": market.quote,
        "asset_decimals": market.asset_decimals, "quote_decimals": market.quote_decimals, "evaluated_at_ms": now_ms,
    }  # fmt: skip
    drops = input_reasons(buy, policy, now_ms) + input_reasons(sell, policy, now_ms)
    if transfer is not None and transfer.bridge is None:
        drops.append((DropReason.NO_ROUTE, f"no bridge route: {transfer.reason or 'none quoted'}"))
    if buy.curve is None or sell.curve is None:
        return _dropped(base, drops)
    if buy.curve.side is not Side.BUY or sell.curve.side is not Side.SELL:
        raise ValueError("the buy leg needs a BUY curve and the sell leg a SELL curve")

    lot = lcm(buy.curve.lot, sell.curve.lot)
    low = max(buy.curve.min_size, sell.curve.min_size)
    low += -low % lot
    capacity = min(buy.curve.capacity, sell.curve.capacity)
    if capacity < low:
        thin = buy if buy.curve.capacity < low else sell
        drops.append(
            (
                DropReason.NO_ROUTE,
                f"{thin.venue} {thin.market} can take only {market.asset_text(thin.curve.capacity)}"  # type: ignore[union-attr]
                f", below the smallest tradable size {market.asset_text(low)}",
            )
        )
        return _dropped(base, drops)

    reference = buy.curve.best_price  # values the asset for exposure, bridge fee and risk
    pricer = _Pricer(market, buy, sell, reference, policy, transfer)
    high, binding = capacity, "the curves' capacity"
    limits = _limits(market, buy, sell, reference, policy, inventory, mode, (low, capacity, lot))
    for reason, what, bound in limits:
        if bound < low:
            drops.append((reason, f"{what} allows less than the smallest tradable size {market.asset_text(low)}"))
        elif bound < high:
            high, binding = bound, what
    if high < low:
        return _dropped(base, drops)

    best = maximise(pricer.net, low, high, lot)
    costed = pricer.at(best.size)
    net = costed.net
    size_text, net_text = market.asset_text(best.size), market.quote_text(net)
    at_limit = best.size + lot > high and binding != "the curves' capacity"
    where = f"buy on {buy.venue} {buy.market}, sell on {sell.venue} {sell.market}"
    gap = _gap_before_transfer(pricer, low, high, lot) if transfer is not None and net < policy.min_profit else None
    if gap is not None and gap.net + gap.bridge + gap.risk >= policy.min_profit:
        seconds = transfer.bridge.seconds if transfer is not None and transfer.bridge is not None else 0
        gap_size = market.asset_text(gap.buy.size)
        drops.append(
            (
                DropReason.TRANSFER_COST,
                f"the gap earns {market.quote_text(gap.net + gap.bridge + gap.risk)} at {gap_size} ({where}) but "
                f"the bridge fee {market.quote_text(gap.bridge)} and the price risk {market.quote_text(gap.risk)} "
                f"over {seconds} s in flight leave {market.quote_text(gap.net)} (best with them: {net_text} at "
                f"{size_text}), below the minimum profit {market.quote_text(policy.min_profit)}",
            )
        )
    elif net < policy.min_profit:
        drops.append(
            (
                DropReason.BELOW_MIN_PROFIT,
                f"best net {net_text} at {size_text} ({where}) is below the minimum profit "
                f"{market.quote_text(policy.min_profit)}",
            )
        )
    filled = {
        **base,
        "buy": _outcome(buy, costed.buy, costed.buy_gas),
        "sell": _outcome(sell, costed.sell, costed.sell_gas),
        "size": best.size,
        "proceeds": costed.sell.quote,
        "cost": costed.buy.quote,
        "items": costed.items(),
        "net_profit": net,
        "evaluations": best.evaluations,
    }
    if drops:
        return _dropped(filled, drops)
    why = f"net {net_text} at {size_text} ({where}), at least the minimum {market.quote_text(policy.min_profit)}; " + (
        f"size held at the limit: {binding}" if at_limit else "the most profitable size on the curves"
    )
    bridge = [f"bridge: {transfer.reason}"] if transfer is not None and transfer.reason else []
    return Opportunity(**filled, decision="taken", reasons=[why, *bridge])


def _gap_before_transfer(pricer: _Pricer, low: int, high: int, lot: int) -> _Costed:
    """Every term at the size that earns the most before the bridge fee and the price risk."""
    best = maximise(lambda size: (c := pricer.at(size)).net + c.bridge + c.risk, low, high, lot)
    return pricer.at(best.size)


def _dropped(fields: dict[str, object], drops: list[tuple[DropReason, str]]) -> Opportunity:
    codes = list(dict.fromkeys(code for code, _ in drops))
    return Opportunity(
        **fields,  # type: ignore[arg-type]
        decision="dropped",
        dropped_for=codes,
        reasons=[f"{code}: {text}" for code, text in drops],
    )
