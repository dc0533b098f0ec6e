"""A market-maker bot that keeps a venue's books alive and moving.

Every ``interval_s`` it quotes ``levels`` bids and asks around a mid price and replaces
the quotes that moved. The mid is a common mean-reverting random walk (an AR(1) process,
a random walk over short horizons) plus a venue-specific deviation. Both are computed
from wall-clock step numbers and a hash of the seed, never from process state, so two
venue processes started with the same seed follow the same common path without talking
to each other, and their deviations (seeded by venue name) make cross-venue price gaps
appear and vanish.

The bot trades through the engine directly (not over HTTP): it pays no fees, is not rate
limited and publishes through the same event bus as every other order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import struct
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from devnet.cex.engine import EngineRejection, FeeSchedule, OrderRequest, OrderType, Side
from devnet.cex.numbers import ZERO, floor_to_step, plain

if TYPE_CHECKING:
    from devnet.cex.venue import Venue

log = logging.getLogger(__name__)

ACCOUNT = "__market_maker__"
_BPS = Decimal("0.0001")


@dataclass
class MarketMakerConfig:
    interval_s: float = 0.5
    levels: int = 5
    half_spread_bps: Decimal = Decimal(4)  # mid to best quote
    level_step_bps: Decimal = Decimal(3)  # between quote levels
    level_notional: Decimal = Decimal(25_000)  # quote-currency size of each level
    common_vol_bps: Decimal = Decimal(6)  # std of one step of the shared walk
    # std of one step of this venue's deviation: with the defaults one venue's best bid tops
    # the other's best ask about one step in eight, for a step or a few
    venue_vol_bps: Decimal = Decimal("1.5")
    offset_bps: Decimal = Decimal(0)  # a standing dislocation of this venue, set at runtime for demos
    gaps_bps: dict[str, Decimal] = field(default_factory=dict)  # symbol -> injected gap (tests, showcase)
    seed: int = 1
    running: bool = True


def _gaussian(seed: str, step: int) -> float:
    """A standard normal draw that depends only on (seed, step)."""
    digest = hashlib.blake2b(f"{seed}:{step}".encode(), digest_size=16).digest()
    a, b = struct.unpack("<QQ", digest)
    u1 = (a + 1) / 2**64
    u2 = b / 2**64
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def _ar1(seed: str, step: int, rho: float, lookback: int) -> float:
    """x_k = rho * x_(k-1) + e_k, truncated to ``lookback`` terms (stationary std 1/sqrt(1-rho²))."""
    return sum(rho**j * _gaussian(seed, step - j) for j in range(lookback))


class MarketMaker:
    def __init__(self, venue: Venue, config: MarketMakerConfig) -> None:
        self.venue = venue
        self.config = config
        self.interval_s = config.interval_s
        self._running = config.running
        self._task: asyncio.Task[None] | None = None
        self._quoted_step: dict[str, int] = {}
        self.quotes_placed = 0
        self._funded = False
        self._closers: dict[str, asyncio.TimerHandle] = {}  # symbol -> the timer closing its gap

    def fund(self) -> None:
        """Deep pockets: enough of every asset to quote for the life of a devnet."""
        if self._funded:
            return
        self.venue.engine.set_fees(ACCOUNT, FeeSchedule(ZERO, ZERO))
        for asset in self.venue.profile.assets:
            self.venue.credit(ACCOUNT, asset, Decimal(10) ** 12)
        self._funded = True

    def mid(self, symbol: str, step: int) -> Decimal:
        """This venue's mid for ``symbol`` at wall-clock step ``step``."""
        cfg = self.config
        reference = self.venue.profile.reference_prices[symbol]
        common = _ar1(f"{cfg.seed}:{symbol}", step, rho=0.995, lookback=300) * float(cfg.common_vol_bps)
        own = _ar1(f"{cfg.seed}:{symbol}:{self.venue.name}", step, rho=0.9, lookback=60) * float(cfg.venue_vol_bps)
        shift = float(cfg.offset_bps + cfg.gaps_bps.get(symbol, Decimal(0)))
        return reference * Decimal(math.exp((common + own + shift) * 1e-4))

    def ladder(self, symbol: str, step: int) -> dict[tuple[Side, Decimal], Decimal]:
        """(side, price) → quantity of the quotes wanted at ``step``."""
        cfg = self.config
        spec = self.venue.engine.markets[symbol]
        mid = self.mid(symbol, step)
        out: dict[tuple[Side, Decimal], Decimal] = {}
        for i in range(cfg.levels):
            offset = (cfg.half_spread_bps + cfg.level_step_bps * i) * _BPS
            bid = (mid * (1 - offset) / spec.tick_size).to_integral_value(ROUND_FLOOR) * spec.tick_size
            ask = (mid * (1 + offset) / spec.tick_size).to_integral_value(ROUND_CEILING) * spec.tick_size
            for side, price in ((Side.BUY, bid), (Side.SELL, ask)):
                size = floor_to_step(cfg.level_notional * (1 + Decimal(i) / 2) / price, spec.step_size)
                if size >= spec.min_qty and price * size >= spec.min_notional:
                    out[(side, price)] = size
        return out

    def quote(self, step: int | None = None) -> int:
        """Bring every book to the ladder of ``step`` (default: now); orders placed."""
        self.fund()
        if step is None:
            step = self._step_now()
        placed = 0
        for symbol in self.venue.engine.markets:
            wanted = self.ladder(symbol, step)
            for order in self.venue.engine.open_orders(ACCOUNT, symbol):
                key = (order.side, order.price)
                if key in wanted and order.remaining * 2 >= wanted[key]:
                    del wanted[key]  # still there and mostly unfilled: keep its queue place
                else:
                    self.venue.execute(lambda e, o=order: e.cancel(ACCOUNT, o.symbol, o.order_id))
            for (side, price), size in sorted(wanted.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
                request = OrderRequest(ACCOUNT, symbol, side, OrderType.LIMIT, quantity=size, price=price)
                try:
                    self.venue.execute(lambda e, r=request: e.submit(r))
                    placed += 1
                except EngineRejection as exc:
                    log.debug("quote %s %s %s refused: %s", symbol, side, plain(price), exc)
            self._quoted_step[symbol] = step
        self.quotes_placed += placed
        return placed

    def inject_gap(self, symbol: str, bps: Decimal, close_after_ms: int | None = None) -> dict[str, Any]:
        """Shift this venue's ``symbol`` quotes by ``bps`` (0 removes the gap) and requote now,
        paused or not: when this returns the venue's book already holds the shifted ladder.
        ``close_after_ms``: the gap closes itself that long after (requoted unshifted, paused
        or not), as a real gap closes on its own clock; a later injection replaces the timer."""
        if symbol not in self.venue.engine.markets:
            raise ValueError(f"unknown symbol {symbol!r}")
        if close_after_ms is not None and close_after_ms <= 0:
            raise ValueError(f"close_after_ms must be positive, not {close_after_ms}")
        pending = self._closers.pop(symbol, None)
        if pending is not None:
            pending.cancel()
        if bps:
            self.config.gaps_bps[symbol] = bps
        else:
            self.config.gaps_bps.pop(symbol, None)
        self.quote()
        closes_at_ms = None
        if bps and close_after_ms is not None:
            closes_at_ms = self.venue.now_ms() + close_after_ms
            self._closers[symbol] = asyncio.get_running_loop().call_later(
                close_after_ms / 1000, self._close_gap, symbol
            )
        book = self.venue.engine.books[symbol]
        bids, asks = book.bids.levels(1), book.asks.levels(1)
        return {
            "symbol": symbol,
            "gap_bps": plain(bps),
            "closes_at_ms": closes_at_ms,
            "best_bid": plain(bids[0][0]) if bids else None,
            "best_ask": plain(asks[0][0]) if asks else None,
            "sequence": book.sequence,
        }

    def _close_gap(self, symbol: str) -> None:
        self._closers.pop(symbol, None)
        self.config.gaps_bps.pop(symbol, None)
        try:
            self.quote()
        except Exception:  # noqa: BLE001 - the next tick requotes anyway
            log.exception("closing the %s gap failed", symbol)

    def _step_now(self) -> int:
        return int(self.venue.now_ms() / 1000 / self.interval_s)

    async def _run(self) -> None:
        while True:
            if self._running:
                try:
                    self.quote()
                except Exception:  # noqa: BLE001 - a bad tick must not stop the books
                    log.exception("market maker tick failed")
            delay = self.interval_s - (self.venue.now_ms() / 1000) % self.interval_s
            await asyncio.sleep(max(delay, 0.01))

    def start(self) -> None:
        self.fund()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"market-maker-{self.venue.name}")

    def resume(self) -> None:
        self._running = True

    async def pause(self) -> None:
        """Stop requoting (books stay as they are) until :meth:`resume`."""
        self._running = False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def status(self) -> dict[str, Any]:
        return {
            "running": self._running,
            "interval_s": self.interval_s,
            "offset_bps": plain(self.config.offset_bps),
            "gaps_bps": {s: plain(b) for s, b in self.config.gaps_bps.items()},
            "quotes_placed": self.quotes_placed,
            "account": ACCOUNT,
            "mids": {
                s: plain(self.mid(s, self._step_now()).quantize(Decimal("0.00000001")))
                for s in self.venue.engine.markets
            },
        }
