"""Models and activity names of the ``Arbitrage`` workflow (inventory mode).

Amounts that cross the boundary are whole-token ``Decimal``s (``"0.5"`` WETH, ``"12.3"``
USDC) so a CEX fill and an on-chain transfer add up exactly in one currency; in JSON they
are strings. ``asset`` and ``quote`` are the canonical names of the registry's asset map;
a CEX leg trades them under the fast path's ``symbol`` (``ETH/USDT``), a DEX leg as the
chain's tokens. Requests carry no keys: signing stays in the worker.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from crosslane.arbitrage import ArbKind, ArbMode, LegOutcome, Opportunity
from crosslane.domain.bridge import BridgeResult, BridgeRoute, BridgeState
from crosslane.domain.cex import CexExecution
from crosslane.domain.dex import SwapRequest, SwapResult, TradeType
from crosslane.domain.evm import Address
from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.tx import FeePolicy
from crosslane.money import from_base_units, parse_decimal
from crosslane.routing.side import Side

CEX = "cex"  # the venue name of a leg executed by the fast path (best execution across the CEX venues)
# Child ids derive from it: swap-arb-<id>.buy, cex parent arb-<id>/unwind (<= 128 characters).
ARB_REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$"


def _decimal(value: Any, *, allow_zero: bool) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f'must be a number as a string of whole tokens ("0.5"), got {type(value).__name__}')
    return parse_decimal(str(value), allow_zero=allow_zero)


Size = Annotated[
    Decimal,
    BeforeValidator(lambda v: _decimal(v, allow_zero=False)),
    PlainSerializer(str, return_type=str, when_used="json"),
]
Money = Annotated[
    Decimal,
    BeforeValidator(lambda v: _decimal(v, allow_zero=True)),
    PlainSerializer(str, return_type=str, when_used="json"),
]
Signed = Annotated[Decimal, PlainSerializer(str, return_type=str, when_used="json")]


class ArbActivity(StrEnum):
    ADMIT = "arb_admit"  # risk controls: kill switch, concurrent runs, per-asset notional
    QUOTE = "arb_quote"  # both legs priced now, the profit floor re-checked, limits derived
    FINISH = "arb_finish"  # realised P&L recorded, the daily loss checked (may trip the kill switch)
    LEG_GAS = "arb_leg_gas"  # the gas a failed DEX leg still burnt (its approval, a reverted swap)


class LegName(StrEnum):
    BUY = "buy"
    SELL = "sell"
    UNWIND = "unwind"
    BRIDGE = "bridge"  # transfer mode: the asset from the buy chain to the sell chain
    REBALANCE = "rebalance"  # transfer mode: the quote currency to the buy chain first


class ArbVenue(BaseModel):
    """Where one leg trades: ``venue`` ``cex`` (the fast path; ``symbol`` as it lists the
    market, e.g. ``ETH/USDT``) or a DEX deployment (``uniswap_v3``) on ``chain``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    venue: Name
    chain: Name | None = None
    symbol: Name | None = None
    tick: Size = Field(default=Decimal("0.01"), description="cex: the finest price tick of symbol on the fast path")

    @model_validator(mode="after")
    def _complete(self) -> ArbVenue:
        if self.venue == CEX:
            if self.symbol is None or "/" not in self.symbol:
                raise ValueError('a cex leg needs the fast path\'s symbol, e.g. "ETH/USDT"')
            if self.chain is not None:
                raise ValueError("a cex leg trades off chain: give no chain")
        elif self.chain is None:
            raise ValueError(f"a DEX leg ({self.venue}) needs its chain")
        return self

    @property
    def is_cex(self) -> bool:
        return self.venue == CEX

    def limit_price(self, price: Decimal, side: Side) -> Decimal:
        """``price`` on the tick, inside the limit: a buy rounds down, a sell up (never 0)."""
        rounding = ROUND_DOWN if side is Side.BUY else ROUND_UP
        return max((price / self.tick).to_integral_value(rounding=rounding) * self.tick, self.tick)

    def describe(self) -> str:
        return f"cex {self.symbol}" if self.is_cex else f"{self.chain}:{self.venue}"


class ArbitrageRequest(SecretFreeRequest):
    """Buy ``size`` of ``asset`` on ``buy`` and sell it on ``sell`` at once, from inventory
    already held on each side, if it still earns ``min_profit`` (quote, whole tokens) after
    fees and gas. A leg that fails after the other filled is unwound, losing at most
    ``max_loss``. Workflow id ``arb-<request_id>``."""

    request_id: str = Field(pattern=ARB_REQUEST_ID_PATTERN)
    mode: ArbMode = ArbMode.INVENTORY
    asset: Name
    quote: Name
    size: Size
    buy: ArbVenue
    sell: ArbVenue
    min_profit: Money = Field(description="quote, whole tokens; 0 or more")
    max_loss: Money = Field(default=Decimal(0), description="bound on a compensation's loss, quote whole tokens")
    signer: Address | None = Field(default=None, description="holds the inventory of the DEX legs")
    fees: FeePolicy | None = Field(default=None, description="fee cap of the DEX legs' transactions")
    # transfer mode: buy on one chain, bridge the asset, sell on the other
    bridge_route: BridgeRoute | None = Field(default=None, description="transfer: force one route")
    risk_aversion: Money = Field(default=Decimal(1), description="transfer: weight of the price risk in flight")
    volatility: Money = Field(
        default=Decimal("0.0001"),
        description="transfer: the asset's recent volatility per square-root second (0.0001: 1 bp per sqrt s)",
    )
    rebalance: bool = Field(default=True, description="transfer: bridge the quote over first when the buy is short")
    sent_first: ArbQuote | None = Field(
        default=None,
        description="inventory: both legs were sent at this quote before the run started (the fast lane); "
        "the run adopts them by their ids, never re-quotes them",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ArbitrageRequest:
        if self.asset == self.quote:
            raise ValueError(f"asset and quote are the same ({self.asset})")
        if self.mode is ArbMode.TRANSFER and (self.buy.is_cex or self.sell.is_cex or self.buy.chain == self.sell.chain):
            raise ValueError(
                "transfer mode buys on one chain's DEX, bridges the asset and sells on another chain's DEX: "
                f"got buy {self.buy.describe()}, sell {self.sell.describe()}"
            )
        if self.buy == self.sell and not self.buy.is_cex:  # the fast path routes each side to its best venue
            raise ValueError(f"buy and sell are the same venue ({self.buy.describe()})")
        if (not self.buy.is_cex or not self.sell.is_cex) and (self.signer is None or self.fees is None):
            raise ValueError("a DEX leg needs the signer holding its inventory and fees (max_fee_per_gas_cap)")
        return self

    @classmethod
    def from_opportunity(
        cls,
        opportunity: Opportunity,
        request_id: str,
        *,
        min_profit: int = 0,
        max_loss: Decimal = Decimal(0),
        signer: str | None = None,
        fees: FeePolicy | None = None,
        risk_aversion: Decimal = Decimal(1),
        volatility: Decimal | None = None,
    ) -> ArbitrageRequest:
        """The run for a scanned opportunity (sizes and money in its base units): a CEX leg
        goes through the fast path under its market's symbol, a pool leg (``chain:dex``) to
        that DEX on its chain; the DEX legs' ``signer`` and ``fees`` come from the caller. A
        transfer-mode opportunity becomes a transfer-mode run (buy, bridge, sell, each step
        re-quoted with its bridge fee and price risk weighted by ``risk_aversion``, at the
        ``volatility`` the scanner charged, else the request's default)."""
        opp = opportunity
        if opp.buy is None or opp.sell is None:
            raise ValueError("only an opportunity with both legs can be started")

        def venue(leg: LegOutcome) -> ArbVenue:
            if leg.chain is None:
                return ArbVenue(venue=CEX, symbol=leg.market)
            return ArbVenue(venue=leg.venue.rsplit(":", 1)[-1], chain=leg.chain)

        return cls(
            request_id=request_id,
            mode=opp.mode,
            asset=opp.asset,
            quote=opp.quote_asset,
            size=from_base_units(opp.size, opp.asset_decimals),
            buy=venue(opp.buy),
            sell=venue(opp.sell),
            min_profit=from_base_units(min_profit, opp.quote_decimals),
            max_loss=max_loss,
            signer=signer,
            fees=fees,
            risk_aversion=risk_aversion,
            **({} if volatility is None else {"volatility": volatility}),
        )

    def dex_leg(
        self, leg: LegName, venue: ArbVenue, side: Side, size: Decimal, slippage_bps: int, decimals: int
    ) -> SwapRequest:
        """A DEX leg as its ``DexSwap`` child runs it (workflow id ``swap-arb-<id>.<leg>``)."""
        assert self.signer is not None and self.fees is not None and venue.chain is not None
        return SwapRequest(
            request_id=f"{self.workflow_id}.{leg}",
            chain=venue.chain,
            signer=self.signer,
            token_in=self.asset if side is Side.SELL else self.quote,
            token_out=self.quote if side is Side.SELL else self.asset,
            trade_type=TradeType.EXACT_IN if side is Side.SELL else TradeType.EXACT_OUT,
            amount=int((size * Decimal(10) ** decimals).to_integral_value(rounding=ROUND_DOWN)),
            slippage_bps=slippage_bps,
            dexes=[venue.venue],
            max_hops=1,
            max_sandwich_bps=None,
            fees=self.fees,
        )

    @property
    def kind(self) -> ArbKind:
        cexes = self.buy.is_cex + self.sell.is_cex
        return (ArbKind.DEX_DEX, ArbKind.CEX_DEX, ArbKind.CEX_CEX)[cexes]

    @property
    def workflow_id(self) -> str:
        return f"arb-{self.request_id}"


class ArbRiskLimits(BaseModel):
    """Risk controls that hold across runs and restarts (the worker's configuration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_concurrent: int = Field(default=4, ge=1)
    daily_loss_limit: Decimal = Field(default=Decimal(1000), ge=0, description="quote whole tokens per UTC day")
    max_notional: dict[str, Decimal] = Field(default_factory=dict, description="asset -> largest size per run")


class AdmitInput(BaseModel):
    workflow_id: str
    request: ArbitrageRequest


class Admission(BaseModel):
    admitted: bool
    reason: str


class LegQuote(BaseModel):
    """One leg priced now: what it receives (sell) or pays (buy) in quote, fees included, and
    the limit the profit floor leaves it (a sell's least proceeds, a buy's largest cost)."""

    leg: LegName
    venue: ArbVenue
    expected: Signed
    limit: Signed
    gas_cost: Signed = Decimal(0)  # quote, the leg's transaction at the current gas price
    slippage_bps: int = 0  # the limit as DexSwap's bound on its own quote (DEX legs)
    limit_price: Signed | None = None  # the limit as a fee-exclusive IOC price (CEX legs)


class ArbQuoteInput(BaseModel):
    workflow_id: str
    request: ArbitrageRequest
    phase: Literal["plan", "recheck", "bridge", "sell"]  # transfer mode re-quotes before the bridge and the sale
    size: Size | None = Field(default=None, description="what to price; default the request's size")


class Shortfall(BaseModel):
    """A leg's inventory short of what it spends, read at the quote (whole tokens): a DEX
    leg's signer on its ``chain``, or the account on a CEX venue (``chain`` ``cex:<venue>``)."""

    leg: LegName
    chain: str
    token: str
    held: Signed
    needed: Signed

    def describe(self, signer: str) -> str:
        held = f"{self.held} {self.token} on {self.chain}"
        owner = "the account" if self.chain.startswith("cex:") else signer
        return f"inventory: {owner} holds {held}, the {self.leg} leg needs {self.needed}"


class ArbQuote(BaseModel):
    """Both legs priced together: ``expected_profit`` = sell - buy - gas; ``viable`` when it
    reaches the floor (``reason`` says why not)."""

    buy: LegQuote
    sell: LegQuote
    expected_profit: Signed
    viable: bool
    reason: str
    price: Signed = Field(description="the asset's mid value, quote per asset (values an unwind's bound)")
    cex_fee_rate: Signed = Decimal(0)  # the fast path's taker fees as a share of the notional
    cex_step: Size | None = None  # the finest quantity the fast path trades the CEX leg's symbol in
    native_price: dict[str, Signed] = Field(default_factory=dict, description="chain -> quote per native coin")
    asset_decimals: dict[str, int] = Field(default_factory=dict, description="chain -> the asset token's decimals")
    quote_decimals: dict[str, int] = Field(default_factory=dict, description="chain -> the quote token's decimals")
    shortfall: Shortfall | None = None
    # transfer mode: the bridge's fee (asset, whole tokens), time in flight and the price risk over it (quote)
    bridge_route: str | None = None
    bridge_fee: Signed = Decimal(0)
    bridge_seconds: int = 0
    price_risk: Signed = Decimal(0)


class LegGasInput(BaseModel):
    swap_workflow_id: str = Field(description="the leg's child workflow (DexSwap, BridgeTransfer)")
    steps: list[str] = Field(default_factory=lambda: ["approve", "swap"], description="its transactions' steps")


class LegGas(BaseModel):
    """Gas burnt by the transactions a leg mined (reverted ones included), native coin per chain."""

    native: Signed = Decimal(0)  # on the leg's only chain (a swap); the sum over ``per_chain``
    per_chain: dict[str, Signed] = Field(default_factory=dict)
    tx_hashes: list[str] = Field(default_factory=list)


class LegState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FILLED = "filled"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


class BalanceChange(BaseModel):
    """One currency's change at one place (``cex:binance``, ``devnet-a``), whole tokens."""

    place: str
    currency: str
    amount: Signed


class LegResult(BaseModel):
    leg: LegName
    venue: str
    state: LegState
    asset_delta: Signed = Decimal(0)  # the asset this leg moved into (+) or out of (-) inventory
    quote_delta: Signed = Decimal(0)
    gas_cost: Signed = Decimal(0)  # quote value of the gas it burnt
    changes: list[BalanceChange] = Field(default_factory=list)
    refs: list[str] = Field(default_factory=list, description="client order ids, child workflow ids, tx hashes")
    detail: str = ""


class ArbOutcome(StrEnum):
    COMPLETED = "completed"  # both legs filled
    ABORTED = "aborted"  # nothing done (refused, or the profit was gone)
    COMPENSATED = "compensated"  # one leg failed; the other was unwound (realised loss)


class FinishInput(BaseModel):
    workflow_id: str
    request: ArbitrageRequest
    outcome: ArbOutcome
    reason: str
    expected_profit: Signed | None
    asset_price: Signed = Decimal(0)
    legs: list[LegResult]


class ArbResult(BaseModel):
    request_id: str
    kind: ArbKind
    outcome: ArbOutcome
    reason: str
    expected_profit: Signed | None = None
    realised_profit: Signed = Decimal(0)
    asset_price: Signed = Field(default=Decimal(0), description="values the asset's net change (quote per asset)")
    legs: list[LegResult] = Field(default_factory=list)
    changes: list[BalanceChange] = Field(default_factory=list, description="summed per place and currency")
    kill_switch: str | None = Field(default=None, description="set when this run's loss tripped it")


class ArbState(StrEnum):
    ADMITTING = "admitting"
    QUOTING = "quoting"
    REBALANCING = "rebalancing"  # transfer mode: the quote currency bridged to the buy chain
    EXECUTING = "executing"
    BRIDGING = "bridging"  # transfer mode: the asset in flight
    COMPENSATING = "compensating"
    SETTLING = "settling"
    COMPLETED = "completed"
    ABORTED = "aborted"
    COMPENSATED = "compensated"
    FAILED = "failed"


class ArbStatus(BaseModel):
    request_id: str
    kind: str
    state: ArbState
    detail: str
    quote: ArbQuote | None = None
    legs: dict[str, LegState] = Field(default_factory=dict, description="buy / sell / unwind sub-state")
    leg_detail: dict[str, str] = Field(default_factory=dict)


def realised_profit(legs: list[LegResult], asset_price: Decimal) -> Decimal:
    """Quote earned by the legs (fills and fees in their deltas) less their gas, plus the
    asset's net change at ``asset_price``: a fee a venue charged in the asset (a CEX buy's
    fee in ETH), or what an unwind could not trade back."""
    quote = sum((leg.quote_delta - leg.gas_cost for leg in legs), start=Decimal(0))
    return quote + sum((leg.asset_delta for leg in legs), start=Decimal(0)) * asset_price


def summed_changes(legs: list[LegResult]) -> list[BalanceChange]:
    totals: dict[tuple[str, str], Decimal] = {}
    for leg in legs:
        for change in leg.changes:
            key = (change.place, change.currency)
            totals[key] = totals.get(key, Decimal(0)) + change.amount
    return [BalanceChange(place=p, currency=c, amount=a) for (p, c), a in sorted(totals.items()) if a]


def attempts_as_one(attempts: list[LegResult]) -> LegResult:
    """A leg sent more than once (an unwind retried on fresh books) as the one leg it is:
    what every attempt moved, filled when the last one did."""
    if len(attempts) == 1:
        return attempts[0]
    moved = any(a.asset_delta for a in attempts)
    last = attempts[-1]
    state = LegState.FILLED if last.state is LegState.FILLED else LegState.PARTIAL if moved else LegState.FAILED
    return LegResult(
        leg=last.leg,
        venue=last.venue,
        state=state,
        asset_delta=sum((a.asset_delta for a in attempts), start=Decimal(0)),
        quote_delta=sum((a.quote_delta for a in attempts), start=Decimal(0)),
        gas_cost=sum((a.gas_cost for a in attempts), start=Decimal(0)),
        changes=summed_changes(attempts),
        refs=[ref for a in attempts for ref in a.refs],
        detail="; ".join(f"attempt {i} {a.state}: {a.detail}" for i, a in enumerate(attempts, start=1)),
    )


def cex_leg_result(leg: LegName, execution: CexExecution) -> LegResult:
    """A fast-path parent order as the inventory it moved: the base asset in or out, the
    quote currency spent or received, each child's fee in whichever currency it was paid."""
    base, quote = execution.symbol.split("/", 1)
    sign = 1 if execution.side is Side.BUY else -1
    changes: dict[tuple[str, str], Decimal] = {}
    asset = quote_delta = Decimal(0)
    for child in execution.children:
        place = f"cex:{child.venue}"
        cost = (child.avg_price or Decimal(0)) * child.filled
        fee_asset = child.fee if child.fee_currency == base else Decimal(0)
        fee_quote = child.fee if child.fee_currency != base else Decimal(0)
        moved, paid = sign * child.filled - fee_asset, -sign * cost - fee_quote
        asset += moved
        quote_delta += paid
        changes[(place, base)] = changes.get((place, base), Decimal(0)) + moved
        changes[(place, quote)] = changes.get((place, quote), Decimal(0)) + paid
    filled = execution.filled
    state = LegState.FILLED if filled == execution.qty else LegState.PARTIAL if filled else LegState.FAILED
    return LegResult(
        leg=leg,
        venue=f"cex {execution.symbol}",
        state=state,
        asset_delta=asset,
        quote_delta=quote_delta,
        changes=[BalanceChange(place=p, currency=c, amount=a) for (p, c), a in changes.items() if a],
        refs=[execution.parent_id, *(c.client_order_id for c in execution.children)],
        detail=f"{execution.side} {filled} of {execution.qty} {execution.symbol}"
        + (f" at {execution.avg_price}" if execution.avg_price else ""),
    )


def dex_leg_result(leg: LegName, swap: SwapResult, *, asset_is_in: bool, native_price: Decimal) -> LegResult:
    """A settled swap as the inventory it moved: its exact token amounts and its gas (the
    approval's too), valued in quote at the quote's native price."""
    amount_in = from_base_units(swap.amount_in, swap.token_in.decimals)
    amount_out = from_base_units(swap.amount_out, swap.token_out.decimals)
    gas_wei = swap.gas_used * swap.effective_gas_price
    if swap.approve is not None and swap.approve.gas_used and swap.approve.effective_gas_price:
        gas_wei += swap.approve.gas_used * swap.approve.effective_gas_price
    gas_native = from_base_units(gas_wei, 18)
    asset, quote = (-amount_in, amount_out) if asset_is_in else (amount_out, -amount_in)
    tokens = (swap.token_in.symbol, swap.token_out.symbol)
    return LegResult(
        leg=leg,
        venue=f"{swap.chain}:{swap.route.dex}",
        state=LegState.FILLED,
        asset_delta=asset,
        quote_delta=quote,
        gas_cost=gas_native * native_price,
        changes=[
            BalanceChange(place=swap.chain, currency=tokens[0], amount=-amount_in),
            BalanceChange(place=swap.chain, currency=tokens[1], amount=amount_out),
            BalanceChange(place=swap.chain, currency="native", amount=-gas_native),
        ],
        refs=[swap.swap_tx_hash, *([swap.approve_tx_hash] if swap.approve_tx_hash else [])],
        detail=f"{amount_in} {tokens[0]} -> {amount_out} {tokens[1]} in block {swap.block_number}",
    )


def bridge_leg_result(
    leg: LegName, bridge: BridgeResult, currency: str, *, is_asset: bool, decimals: int, gas: LegGas,
    native_price: dict[str, Decimal],
) -> LegResult:  # fmt: skip
    """A ``BridgeTransfer`` as the inventory it moved: ``currency`` out of the source chain,
    what arrived into the destination (or, refunded, back into the source), the difference
    being its fee; the gas of its deposit and redeem on each chain, valued in quote."""
    sent, got = from_base_units(bridge.amount, decimals), from_base_units(bridge.received, decimals)
    completed = bridge.state is BridgeState.COMPLETED
    into = bridge.destination_chain if completed else bridge.source_chain
    changes = [
        BalanceChange(place=bridge.source_chain, currency=currency, amount=-sent),
        BalanceChange(place=into, currency=currency, amount=got),
        *(BalanceChange(place=chain, currency="native", amount=-n) for chain, n in gas.per_chain.items() if n),
    ]
    fee = got - sent
    return LegResult(
        leg=leg,
        venue=f"{bridge.route} {bridge.source_chain}->{bridge.destination_chain}",
        state=LegState.FILLED if completed else LegState.FAILED,
        asset_delta=fee if is_asset else Decimal(0),
        quote_delta=Decimal(0) if is_asset else fee,
        gas_cost=sum((n * native_price.get(chain, Decimal(0)) for chain, n in gas.per_chain.items()), Decimal(0)),
        changes=[c for c in changes if c.amount],
        refs=[bridge.deposit_tx, *([bridge.completion_tx] if bridge.completion_tx else []), *gas.tx_hashes],
        detail=f"{sent} {currency} {bridge.state}: {got} arrived on {into}",
    )


for _model in (ArbitrageRequest, AdmitInput, ArbQuoteInput, FinishInput):
    _model.model_rebuild()  # ``sent_first`` refers to ArbQuote, defined after ArbitrageRequest
