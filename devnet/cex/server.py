"""The HTTP and websocket server of one simulated venue (REST, websockets and admin on one port).

In-process use (tests)::

    server = VenueServer("binance", port=0, seed=7)
    await server.start()
    key = server.add_account("alice")            # random key, default balances
    server.rest_url, server.ws_url                # http://127.0.0.1:P, ws://127.0.0.1:P/stream
    ...
    await server.stop()

``ws_url`` ends in ``/stream`` because ccxt.pro's binance recognises spot streams by
``/stream`` in the URL; the server accepts websocket paths with or without that prefix.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

from aiohttp import web

from devnet.cex import admin
from devnet.cex.accounts import DEFAULT_BALANCES, new_secret
from devnet.cex.auth import ApiKey
from devnet.cex.dialect import ORDER_ACCEPTED, USED_WEIGHT, Dialect
from devnet.cex.market_maker import MarketMaker, MarketMakerConfig
from devnet.cex.ratelimit import Verdict
from devnet.cex.venue import Venue

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_dialect(name: str, venue_factory: Callable[..., Venue], **kwargs: object) -> tuple[Venue, Dialect]:
    """The venue state and its dialect for a venue name (``binance``, ``okx`` or ``kraken``)."""
    if name == "binance":
        from devnet.cex.binance import PROFILE, BinanceDialect

        venue = venue_factory(PROFILE, **kwargs)
        return venue, BinanceDialect(venue)
    if name == "okx":
        from devnet.cex.okx import PROFILE as OKX_PROFILE
        from devnet.cex.okx import OkxDialect

        venue = venue_factory(OKX_PROFILE, **kwargs)
        return venue, OkxDialect(venue)
    if name == "kraken":
        from devnet.cex.kraken import PROFILE as KRAKEN_PROFILE
        from devnet.cex.kraken import KrakenDialect

        venue = venue_factory(KRAKEN_PROFILE, **kwargs)
        return venue, KrakenDialect(venue)
    raise ValueError(f"unknown venue {name!r}: expected binance, okx or kraken")


class VenueServer:
    def __init__(
        self,
        venue: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        market_maker: MarketMakerConfig | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.venue, self.dialect = make_dialect(venue, Venue, seed=seed, clock=clock)
        self.host = host
        self.port = port
        self.market_maker = MarketMaker(self.venue, market_maker) if market_maker is not None else None
        self._runner: web.AppRunner | None = None

    @property
    def name(self) -> str:
        return self.venue.name

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/stream"

    def add_account(
        self,
        account: str,
        *,
        balances: Mapping[str, Decimal] | None = None,
        api_key: str | None = None,
        secret: str | None = None,
        passphrase: str | None = None,
    ) -> ApiKey:
        """Register an API key for ``account`` (random key/secret unless given) and fund it.

        ``balances`` default to :data:`~devnet.cex.accounts.DEFAULT_BALANCES`; pass ``{}`` for none.
        """
        key = self.venue.add_key(
            api_key or secrets.token_hex(16),
            secret or new_secret(self.name),
            account,
            passphrase if passphrase is not None else (secrets.token_urlsafe(12) if self.name == "okx" else None),
        )
        for asset, amount in (DEFAULT_BALANCES if balances is None else balances).items():
            if amount:
                self.venue.credit(account, asset, Decimal(amount))
        return key

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 20)
        admin.install(app, self)
        self.dialect.install(app)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(admin.PREFIX) or request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        venue = self.venue
        venue.faults.stats.requests += 1
        faults = venue.faults.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if venue.faults.roll_error():
            venue.faults.stats.errored += 1
            return self.dialect.unavailable()
        cost = self.dialect.cost(request)
        if cost is not None:
            decision = venue.limiter.check(cost.client, cost.weight, cost.order_account, venue.now_ms())
            if decision.verdict is not Verdict.OK:
                return self.dialect.limited(decision)
            request[USED_WEIGHT] = decision.used_weight
        response = await handler(request)
        lost = request.get(ORDER_ACCEPTED) and venue.faults.take_lost_response()
        if lost and request.transport is not None:
            # The order is booked; the client never hears so. Abort: no status line, no body.
            request.transport.abort()
        return response

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server  # only way to learn an ephemeral port
            assert server is not None and isinstance(server, asyncio.base_events.Server)
            self.port = int(server.sockets[0].getsockname()[1])
        if self.market_maker is not None:
            self.market_maker.start()
        self.venue.funding.start()

    async def stop(self) -> None:
        await self.venue.funding.stop()
        if self.market_maker is not None:
            await self.market_maker.stop()
        self.venue.drop_websockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> VenueServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
