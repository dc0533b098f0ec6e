"""One simulated exchange's live state, below the wire: engine, keys, limits, faults, feeds.

Every engine call goes through :meth:`Venue.execute`, which publishes the events it caused
before returning, so websocket feeds see changes in exactly the engine's order.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from devnet.cex.auth import ApiKey, KeyStore
from devnet.cex.bus import EventBus, Outbox, Subscriptions
from devnet.cex.engine import EngineResult, MatchingEngine
from devnet.cex.engine.balances import Wallet
from devnet.cex.faults import FaultState
from devnet.cex.funding import FundingDesk
from devnet.cex.numbers import plain
from devnet.cex.profile import SimulatorSetup
from devnet.cex.ratelimit import RateLimiter

_NO_WALLET = Wallet()


class Venue:
    def __init__(
        self, profile: SimulatorSetup, *, seed: int | None = None, clock: Callable[[], int] | None = None
    ) -> None:
        self.profile = profile
        kwargs: dict[str, Any] = {"clock": clock} if clock is not None else {}
        self.engine = MatchingEngine(
            profile.markets,
            profile.fees,
            post_only_cross=profile.post_only_cross,
            first_order_id=profile.first_order_id,
            **kwargs,
        )
        self.keys = KeyStore()
        self.bus = EventBus()
        self.faults = FaultState(seed)
        self.limiter = RateLimiter(profile.rate_limits.model_copy())
        self.outboxes: set[Outbox] = set()
        self.subscriptions = Subscriptions()
        self.funding = FundingDesk(
            profile.name,
            lambda account, asset, amount: self.credit(account, asset, amount),
            lambda account, asset: self.engine.wallets(account).get(asset, _NO_WALLET).free,
            self.now_ms,
            self.keys.accounts,
            fee_inside=profile.name in ("binance", "kraken"),
        )

    @property
    def name(self) -> str:
        return self.profile.name

    def now_ms(self) -> int:
        return self.engine.clock()

    def execute(self, command: Callable[[MatchingEngine], EngineResult]) -> EngineResult:
        """Run one engine command and publish what it did."""
        result = command(self.engine)
        self.bus.publish(result.events)
        return result

    def add_key(self, api_key: str, secret: str, account: str, passphrase: str | None = None) -> ApiKey:
        key = ApiKey(api_key=api_key, secret=secret, account=account, passphrase=passphrase)
        self.keys.add(key)
        return key

    def credit(self, account: str, asset: str, amount: Decimal) -> EngineResult:
        return self.execute(lambda engine: engine.credit(account, asset, amount))

    def open_outbox(self, ws: web.WebSocketResponse, request: web.Request) -> Outbox:
        outbox = Outbox(ws, request)
        self.outboxes.add(outbox)
        return outbox

    async def close_outbox(self, outbox: Outbox) -> None:
        self.outboxes.discard(outbox)
        await outbox.close()

    def drop_websockets(self) -> int:
        """Abort every websocket now; the count dropped."""
        dropped = list(self.outboxes)
        for outbox in dropped:
            outbox.abort()
        self.outboxes.clear()
        self.faults.stats.dropped_websockets += len(dropped)
        return len(dropped)

    def balances_of(self, account: str) -> dict[str, dict[str, str]]:
        return {
            asset: {"free": plain(w.free), "locked": plain(w.locked)}
            for asset, w in sorted(self.engine.wallets(account).items())
        }

    def fee_rates_of(self, account: str) -> dict[str, str]:
        fees = self.engine.fees_for(account)
        return {"maker": plain(fees.maker), "taker": plain(fees.taker)}

    def state(self) -> dict[str, Any]:
        """What the admin endpoint reports: faults, limits, books, accounts, fees, market rules."""
        engine = self.engine
        return {
            "venue": self.name,
            "time_ms": self.now_ms(),
            "faults": self.faults.faults.model_dump(),
            "fault_stats": vars(self.faults.stats),
            "rate_limits": self.limiter.limits.model_dump(),
            "rate_limited": self.limiter.rejected,
            "websockets": len(self.outboxes),
            "ws_subscriptions": self.subscriptions.snapshot(),
            "books": {
                symbol: {
                    "sequence": book.sequence,
                    "best_bid": plain(b) if (b := book.best_bid()) is not None else None,
                    "best_ask": plain(a) if (a := book.best_ask()) is not None else None,
                    "bid_levels": len(book.bids),
                    "ask_levels": len(book.asks),
                }
                for symbol, book in engine.books.items()
            },
            "accounts": {account: self.balances_of(account) for account in engine.balances.accounts()},
            # the rates the engine charges each account (the venue schedule unless overridden)
            "fees": {account: self.fee_rates_of(account) for account in engine.balances.accounts()},
            "markets": {
                spec.symbol: {
                    "tick_size": plain(spec.tick_size),
                    "step_size": plain(spec.step_size),
                    "min_qty": plain(spec.min_qty),
                    "min_notional": plain(spec.min_notional),
                    "base_precision": spec.base_precision,
                    "quote_precision": spec.quote_precision,
                }
                for spec in engine.markets.values()
            },
            "asset_totals": {asset: plain(total) for asset, total in sorted(engine.balances.totals().items())},
        }
