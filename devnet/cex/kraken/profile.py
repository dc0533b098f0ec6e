"""Kraken spot as simulated: its pairs as ``AssetPairs`` lists them, its asset names, fees, ids.

Kraken names things three ways: the pair key (``XXBTZUSD``, ``XBTUSDT``), the ``altname``
(``XBTUSD``) that order descriptions use, and the ``wsname`` (``XBT/USD``); websocket v2
speaks the unified ``BTC/USD``. Legacy assets carry an X (crypto) or Z (fiat) prefix:
``XXBT``, ``XETH``, ``ZUSD``; newer ones do not (``USDT``, ``USDC``, ``SOL``). Precision is
``pair_decimals`` (price) and ``lot_decimals`` (volume); minimums are ``ordermin`` (volume)
and ``costmin`` (quote).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D

from devnet.cex.engine import FeeSchedule, MarketSpec, PostOnlyCross
from devnet.cex.profile import SimulatorSetup
from devnet.cex.ratelimit import RateLimits

# Unified asset → Kraken's asset id, and the altname Kraken lists it under.
ASSET_IDS: dict[str, str] = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD", "USDT": "USDT", "USDC": "USDC", "SOL": "SOL"}
ALTNAMES: dict[str, str] = {"BTC": "XBT", "ETH": "ETH", "USD": "USD", "USDT": "USDT", "USDC": "USDC", "SOL": "SOL"}
ASSET_DECIMALS: dict[str, int] = {"BTC": 10, "ETH": 10, "USD": 4, "USDT": 8, "USDC": 8, "SOL": 10}
ASSET_BY_ID: dict[str, str] = {v: k for k, v in ASSET_IDS.items()} | {v: k for k, v in ALTNAMES.items()}


@dataclass(frozen=True)
class Pair:
    """One ``AssetPairs`` entry: its key, names and decimals, around the engine's spec."""

    key: str  # the result key and ccxt's market id: XXBTZUSD, XBTUSDT
    altname: str  # XBTUSD: what descr.pair and descr.order use
    spec: MarketSpec
    pair_decimals: int
    lot_decimals: int

    @property
    def wsname(self) -> str:
        return f"{ALTNAMES[self.spec.base]}/{ALTNAMES[self.spec.quote]}"

    @property
    def symbol(self) -> str:
        """The unified name, also websocket v2's: ``BTC/USD``."""
        return self.spec.symbol


def _pair(key: str, base: str, quote: str, pair_decimals: int, ordermin: str, costmin: str) -> Pair:
    tick = D(1).scaleb(-pair_decimals)
    spec = MarketSpec(
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
        tick_size=tick,
        step_size=D("0.00000001"),
        min_qty=D(ordermin),
        max_qty=D("100000000"),
        min_price=tick,
        max_price=D("100000000"),
        min_notional=D(costmin),
        max_notional=D("100000000"),
        base_precision=ASSET_DECIMALS[base],
        quote_precision=ASSET_DECIMALS[quote],
    )
    return Pair(key, f"{ALTNAMES[base]}{ALTNAMES[quote]}", spec, pair_decimals, 8)


PAIRS: tuple[Pair, ...] = (
    _pair("XBTUSDT", "BTC", "USDT", 1, "0.00005", "0.5"),
    _pair("ETHUSDT", "ETH", "USDT", 2, "0.002", "0.5"),
    _pair("SOLUSDT", "SOL", "USDT", 2, "0.02", "0.5"),
    _pair("XETHXXBT", "ETH", "BTC", 5, "0.002", "0.00002"),
    _pair("XXBTZUSD", "BTC", "USD", 1, "0.00005", "0.5"),
    _pair("XETHZUSD", "ETH", "USD", 2, "0.002", "0.5"),
    _pair("XBTUSDC", "BTC", "USDC", 2, "0.00005", "0.5"),
    _pair("ETHUSDC", "ETH", "USDC", 2, "0.002", "0.5"),
)

PROFILE = SimulatorSetup(
    name="kraken",
    markets=tuple(p.spec for p in PAIRS),
    fees=FeeSchedule(maker=D("0.0016"), taker=D("0.0026")),
    post_only_cross=PostOnlyCross.CANCEL,
    first_order_id=7_000_001,
    # Kraken meters private calls per key with a decaying counter; a window is close enough here.
    rate_limits=RateLimits(request_weight=150, weight_window_s=3, orders=60, orders_window_s=1, ban_after=0),
    reference_prices={
        "BTC/USDT": D("60000"),
        "ETH/USDT": D("3000"),
        "SOL/USDT": D("150"),
        "ETH/BTC": D("0.05"),
        "BTC/USD": D("60000"),
        "ETH/USD": D("3000"),
        "BTC/USDC": D("60000"),
        "ETH/USDC": D("3000"),
    },
)

PAIR_BY_KEY: dict[str, Pair] = {p.key: p for p in PAIRS}
PAIR_BY_SYMBOL: dict[str, Pair] = {p.symbol: p for p in PAIRS}
# What a request may name a pair by: its key, altname, wsname or (websocket v2) unified symbol.
PAIR_BY_NAME: dict[str, Pair] = (
    {p.wsname: p for p in PAIRS} | {p.symbol: p for p in PAIRS} | {p.altname: p for p in PAIRS} | PAIR_BY_KEY
)
