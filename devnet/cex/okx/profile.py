"""OKX spot as simulated: its instruments (tick and lot sizes as OKX lists them), fees and ids.

OKX has no minimum notional but a minimum size (``minSz``) and a fine lot size (``lotSz``),
so the same order can be valid on one venue and refused on the other.
"""

from __future__ import annotations

from decimal import Decimal as D

from devnet.cex.engine import FeeSchedule, MarketSpec, PostOnlyCross
from devnet.cex.profile import REFERENCE_PRICES, SimulatorSetup
from devnet.cex.ratelimit import RateLimits


def _spot(base: str, quote: str, tick: str, lot: str, min_size: str) -> MarketSpec:
    return MarketSpec(
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
        tick_size=D(tick),
        step_size=D(lot),
        min_qty=D(min_size),
        max_qty=D("9999999999"),
        min_price=D(tick),
        max_price=D("100000000"),
        min_notional=D(0),
        max_notional=D("20000000"),
        base_precision=18,
        quote_precision=18,
    )


MARKETS: tuple[MarketSpec, ...] = (
    _spot("BTC", "USDT", "0.1", "0.00000001", "0.00001"),
    _spot("ETH", "USDT", "0.01", "0.000001", "0.001"),
    _spot("SOL", "USDT", "0.01", "0.000001", "0.01"),
    _spot("ETH", "USDC", "0.01", "0.000001", "0.001"),  # the market the devnet's WETH/USDC pools join
    _spot("ETH", "BTC", "0.00001", "0.000001", "0.001"),
)

PROFILE = SimulatorSetup(
    name="okx",
    markets=MARKETS,
    fees=FeeSchedule(maker=D("0.0008"), taker=D("0.001")),
    post_only_cross=PostOnlyCross.CANCEL,
    first_order_id=2_100_000_000_000_000_001,
    rate_limits=RateLimits(request_weight=120, weight_window_s=2, orders=300, orders_window_s=2, ban_after=0),
    reference_prices=REFERENCE_PRICES,
)


def inst_id(symbol: str) -> str:
    """``BTC/USDT`` → ``BTC-USDT``."""
    return symbol.replace("/", "-")


SYMBOL_BY_INST: dict[str, str] = {inst_id(m.symbol): m.symbol for m in MARKETS}
