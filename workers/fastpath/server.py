"""``crosslane fastpath``: a separate asyncio (uvloop) process holding warm venue connections
and live books, taking orders over a local Unix socket (see crosslane.fastpath.protocol)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import cast

import msgspec
from pydantic import BaseModel, Field

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import load_credentials
from connectors.cex.factory import build_exchange
from connectors.cex.http_transport import install_fast_http
from connectors.cex.venue import CexVenue
from crosslane.config import Settings, settings
from crosslane.embedded.heap import settle_heap
from crosslane.errors import CrosslaneError
from crosslane.fastpath.protocol import (
    ENCODER,
    HEADER,
    REQUEST_DECODER,
    BalancesRequest,
    BookRequest,
    CancelRequest,
    FrameReader,
    FrameTooLarge,
    HealthRequest,
    QuoteRequest,
    Reply,
    RouteRequest,
    StatusRequest,
)
from crosslane.registry import Registry, configured_registry
from crosslane.routing import HealthPolicy, Router
from crosslane.telemetry.prometheus import serve_metrics
from workers.fastpath.engine import OrderEngine
from workers.fastpath.feeds import follow_book
from workers.fastpath.journal import COMMIT_WINDOW_S, Journal
from workers.fastpath.metrics import register_engine
from workers.fastpath.user_data import follow_user_stream, user_stream_exchange

log = logging.getLogger(__name__)

DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT")
STRAY_LOOKBACK_MS = 3_600_000  # an empty journal: closed orders this far back are checked for strays
STRAY_MARGIN_MS = 60_000  # clock skew between this host and the venues
QUEUED_REQUESTS = 64  # a connection's requests read ahead of the one handled before reading pauses


class _Connection(asyncio.Protocol):
    """One client's connection: its requests handled one at a time, in order, each answered
    before the next starts (a task runs only while requests are queued). A request already
    read is handled and its effects kept even if the client goes away meanwhile; its answer is
    then dropped. Reading pauses while ``QUEUED_REQUESTS`` wait, and answering while the
    socket's write buffer is full."""

    def __init__(self, handle: Callable[[bytes], Awaitable[Reply]]) -> None:
        self._handle = handle
        self._frames = FrameReader()
        self._requests: deque[bytes] = deque()
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._writable: asyncio.Future[None] | None = None  # set while the write buffer is full
        self._reading = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        try:
            self._requests.extend(self._frames.feed(data))
        except FrameTooLarge:
            self._transport.close()
            return
        if len(self._requests) >= QUEUED_REQUESTS and self._reading:
            self._reading = False
            self._transport.pause_reading()
        if self._task is None and self._requests:
            self._task = asyncio.get_running_loop().create_task(self._answer())

    async def _answer(self) -> None:
        transport = self._transport
        assert transport is not None
        try:
            while self._requests:
                reply = await self._handle(self._requests.popleft())
                if not self._reading and len(self._requests) < QUEUED_REQUESTS // 2 and not transport.is_closing():
                    self._reading = True
                    transport.resume_reading()
                if transport.is_closing():
                    continue  # the client went away: nothing to answer to
                payload = ENCODER.encode(reply)
                transport.write(HEADER.pack(len(payload)) + payload)
                if self._writable is not None:
                    await self._writable
        except Exception:
            log.exception("fast path connection: unexpected error; closing it")
            transport.close()
        finally:
            self._task = None

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None:
            self._writable.set_result(None)
            self._writable = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.resume_writing()


class FastPathConfig(BaseModel):
    venues: list[VenueConfig] = Field(min_length=1)
    symbols: list[str] = Field(min_length=1)
    socket_path: Path
    journal_path: Path
    fsync: bool = True
    journal_commit_window_s: float = Field(default=COMMIT_WINDOW_S, ge=0)  # see workers/fastpath/journal.py
    latency_penalty_bps_per_ms: Decimal = Decimal("0.2")  # see crosslane.routing.HealthPolicy
    degraded_penalty_bps: Decimal = Decimal(5)
    # Venue REST calls through connectors.cex.http_transport instead of ccxt's aiohttp session:
    # same wire bytes, answers and errors, ~100 us less CPU a call. Not a VenueConfig field, so
    # a plain ccxt built from the same venue config (bench/order_to_ack's baseline) stays aiohttp.
    fast_http: bool = True

    @classmethod
    def load(cls, cfg: Settings | None = None) -> FastPathConfig:
        """From ``CROSSLANE_FASTPATH_CONFIG`` (JSON) if set, else the registry file's venues."""
        explicit = os.environ.get("CROSSLANE_FASTPATH_CONFIG")
        if explicit:
            return cls.model_validate_json(Path(explicit).read_text())
        cfg = cfg or settings()
        registry = configured_registry(cfg)
        if not registry.venues:
            raise CrosslaneError(
                f"no venues in {cfg.registry_path} ({cfg.registry_why}) and no CROSSLANE_FASTPATH_CONFIG: "
                "the fast path needs at least one exchange"
            )
        return cls.from_registry(registry, cfg.home)

    @classmethod
    def from_registry(cls, registry: Registry, home: Path, symbols: list[str] | None = None) -> FastPathConfig:
        """Every venue of the registry; ``symbols`` else every venue's listed markets, else
        BTC/USDT and ETH/USDT. Socket and journal in ``home``."""
        venues = [VenueConfig.from_registry(name, v) for name, v in registry.venues.items()]
        listed = list(dict.fromkeys(s for v in venues for s in v.symbols))
        return cls(
            venues=venues,
            symbols=symbols or listed or list(DEFAULT_SYMBOLS),
            socket_path=home / "fastpath.sock",
            journal_path=home / "fastpath.journal",
        )


class FastPathServer:
    def __init__(self, config: FastPathConfig) -> None:
        self.config = config
        self.venues = {v.name: self._venue(v) for v in config.venues}
        policy = HealthPolicy(
            latency_penalty_bps_per_ms=config.latency_penalty_bps_per_ms,
            degraded_penalty_bps=config.degraded_penalty_bps,
        )
        journal = Journal(config.journal_path, fsync=config.fsync, commit_window_s=config.journal_commit_window_s)
        self.engine = OrderEngine(self.venues, config.symbols, journal, Router(policy=policy))
        self._tasks: list[asyncio.Task[None]] = []
        self._pro: list[object] = []
        self._server: asyncio.Server | None = None

    def _venue(self, config: VenueConfig) -> CexVenue:
        venue = CexVenue(config, load_credentials(config.name, secrets_file=config.secrets_file))
        if self.config.fast_http:
            install_fast_http(venue.exchange)
        return venue

    async def start(self) -> None:
        await asyncio.gather(*(v.start() for v in self.venues.values()))
        books = self.engine.build_books()
        for venue in self.venues.values():
            pro = build_exchange(venue.config, None, pro=True)
            self._pro.append(pro)
            for symbol in self.config.symbols:
                if symbol in venue.markets:
                    self._tasks.append(
                        asyncio.create_task(follow_book(pro, symbol, books[symbol], venue.name, venue.health))
                    )
            user = user_stream_exchange(venue, load_credentials(venue.name, secrets_file=venue.config.secrets_file))
            if user is not None:  # fills of resting children pushed as they happen
                self._pro.append(user)
                self._tasks.append(asyncio.create_task(follow_user_stream(user, venue, self.engine)))
        journaled = Journal.replay(self.config.journal_path)
        recovered = await self.engine.recover(journaled)
        # A power loss may have dropped parents sent after the last journaled one: orders since then.
        last_ms = max((p.created_ns // 1_000_000 for p in journaled.values()), default=None)
        since_ms = (last_ms if last_ms is not None else int(time.time() * 1000) - STRAY_LOOKBACK_MS) - STRAY_MARGIN_MS
        await self.engine.find_strays(since_ms)
        for parent in recovered:
            log.info(
                "recovered %s: %s", parent.parent_id, [(c.venue, c.client_order_id, c.state) for c in parent.children]
            )
        settle_heap()  # before clients can connect: its one full collection holds the loop
        self._server = await self._listen(self.config.socket_path)
        os.chmod(self.config.socket_path, 0o600)
        register_engine(self.engine)
        metrics = serve_metrics(settings())
        log.info(
            "fast path on %s: venues %s, symbols %s, %d open parent(s) recovered; metrics %s",
            self.config.socket_path,
            sorted(self.venues),
            self.config.symbols,
            len(recovered),
            metrics or "off",
        )

    async def _listen(self, path: Path) -> asyncio.Server:
        path.unlink(missing_ok=True)
        return await asyncio.get_running_loop().create_unix_server(lambda: _Connection(self._handle), path=str(path))

    async def _handle(self, data: bytes) -> Reply:
        try:
            request = REQUEST_DECODER.decode(data)
            if isinstance(request, QuoteRequest):
                return Reply(ok=True, quote=self.engine.quote(request))
            if isinstance(request, RouteRequest):
                return Reply(ok=True, parent=await self.engine.route(request))
            if isinstance(request, CancelRequest):
                return Reply(ok=True, parent=await self.engine.cancel(request.parent_id))
            if isinstance(request, HealthRequest):
                return Reply(ok=True, health=self.engine.health())
            if isinstance(request, BookRequest):
                return Reply(ok=True, book=self.engine.book(request))
            if isinstance(request, StatusRequest):
                return Reply(ok=True, parents=self.engine.status(request.parent_id))
            if isinstance(request, BalancesRequest):
                return Reply(ok=True, balances=await self.engine.balances(request.currencies))
        except msgspec.ValidationError as exc:
            return Reply(ok=False, error=f"invalid request: {exc}", error_type="InvalidRequest")
        except CrosslaneError as exc:
            return Reply(ok=False, error=str(exc), error_type=exc.type_name)
        return Reply(ok=False, error="unknown request", error_type="InvalidRequest")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for pro in self._pro:
            with contextlib.suppress(Exception):
                await pro.close()  # type: ignore[attr-defined]
        await asyncio.gather(*(v.close() for v in self.venues.values()), return_exceptions=True)
        await self.engine.journal.aclose()
        self.config.socket_path.unlink(missing_ok=True)


async def run(config: FastPathConfig) -> None:
    server = FastPathServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()


def main() -> None:
    import uvloop

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = FastPathConfig.load()
    except CrosslaneError as exc:  # no registry, or no venues in it: one line, no traceback
        log.error("the fast path cannot start: %s", exc)
        raise SystemExit(2) from None
    uvloop.run(run(config))


if __name__ == "__main__":
    main()
