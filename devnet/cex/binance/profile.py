"""Binance spot as simulated: its markets (filters as listed on binance.com), fees and ids."""

from __future__ import annotations

from decimal import Decimal as D

from devnet.cex.engine import FeeSchedule, MarketSpec, PostOnlyCross
from devnet.cex.profile import REFERENCE_PRICES, SimulatorSetup
from devnet.cex.ratelimit import RateLimits


def _usdt(base: str, tick: str, step: str, max_qty: str, quote: str = "USDT") -> MarketSpec:
    return MarketSpec(
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
        tick_size=D(tick),
        step_size=D(step),
        min_qty=D(step),
        max_qty=D(max_qty),
        min_price=D(tick),
        max_price=D("1000000"),
        min_notional=D("5"),
        max_notional=D("9000000"),
    )


MARKETS: tuple[MarketSpec, ...] = (
    _usdt("BTC", "0.01", "0.00001", "9000"),
    _usdt("ETH", "0.01", "0.0001", "9000"),
    _usdt("SOL", "0.01", "0.001", "9000000"),
    _usdt("ETH", "0.01", "0.0001", "9000", quote="USDC"),  # the market the devnet's WETH/USDC pools join
    MarketSpec(
        symbol="ETH/BTC",
        base="ETH",
        quote="BTC",
        tick_size=D("0.00001"),
        step_size=D("0.0001"),
        min_qty=D("0.0001"),
        max_qty=D("100000"),
        min_price=D("0.00001"),
        max_price=D("922327"),
        min_notional=D("0.0001"),
        max_notional=D("9000000"),
    ),
)

PROFILE = SimulatorSetup(
    name="binance",
    markets=MARKETS,
    fees=FeeSchedule(maker=D("0.001"), taker=D("0.001")),
    post_only_cross=PostOnlyCross.REJECT,
    first_order_id=3_000_000_001,
    rate_limits=RateLimits(request_weight=6000, weight_window_s=60, orders=100, orders_window_s=10, ban_after=10),
    reference_prices=REFERENCE_PRICES,
)


def market_id(symbol: str) -> str:
    """``BTC/USDT`` → ``BTCUSDT``."""
    return symbol.replace("/", "")


SYMBOL_BY_ID: dict[str, str] = {market_id(m.symbol): m.symbol for m in MARKETS}
