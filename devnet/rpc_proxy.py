"""A fault-injecting JSON-RPC HTTP proxy in front of an anvil.

Why: RPC failover, retries and timeouts are only tested for real if an endpoint can be
made slow, flaky or dead on demand while the chain behind it keeps running. Two proxies
per chain give a chain a primary and a secondary URL that fail independently.

Faults (settable at start and at runtime through ``/__faults``):
- ``latency_ms``: delay before forwarding;
- ``error_rate``: fraction answered ``HTTP 503`` without reaching upstream;
- ``drop_rate``: fraction whose connection is closed with no response;
- ``down``: every request is dropped (as ``drop_rate=1``) until cleared.

Admin: ``GET /__faults`` returns ``{"faults": {...}, "stats": {...}}``; ``POST /__faults``
with a partial JSON object updates the named fields only; ``{"reset": true}`` clears all.
Every other POST is forwarded verbatim (single calls and batches alike). HTTP only: no
websocket subscriptions through the proxy.

Run as a process: ``python -m devnet.rpc_proxy --listen-port P --upstream URL [--seed N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from devnet.services import serve_until_signalled

ADMIN_PATH = "/__faults"


class RpcFaults(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    down: bool = False


@dataclass
class ProxyStats:
    requests: int = 0
    forwarded: int = 0
    errored: int = 0
    dropped: int = 0
    upstream_failures: int = 0


class RpcProxy:
    """The proxy server; ``await start()`` in a running loop, ``await stop()`` after."""

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: RpcFaults | None = None,
        seed: int | None = None,
        upstream_timeout: float = 30.0,
    ) -> None:
        self.upstream = upstream
        self.host = host
        self.port = port
        self.faults = faults or RpcFaults()
        self.stats = ProxyStats()
        # Seeded: the same request sequence sees the same faults, so tests are repeatable.
        self._rng = random.Random(seed)
        self._upstream_timeout = upstream_timeout
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_faults(self, **changes: Any) -> RpcFaults:
        self.faults = RpcFaults.model_validate({**self.faults.model_dump(), **changes})
        return self.faults

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(ADMIN_PATH, self._get_faults)
        app.router.add_post(ADMIN_PATH, self._post_faults)
        app.router.add_post("/{tail:.*}", self._forward)
        return app

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._upstream_timeout),
            connector=aiohttp.TCPConnector(limit=256),
        )
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server  # only way to learn an ephemeral port
            assert server is not None and isinstance(server, asyncio.base_events.Server)
            self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get_faults(self, _request: web.Request) -> web.Response:
        return web.json_response({"faults": self.faults.model_dump(), "stats": asdict(self.stats)})

    async def _post_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
            if body.pop("reset", False):
                self.faults = RpcFaults()
            self.faults = RpcFaults.model_validate({**self.faults.model_dump(), **body})
        except (TypeError, ValueError) as exc:  # ValidationError is a ValueError
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"faults": self.faults.model_dump(), "stats": asdict(self.stats)})

    def _drop(self, request: web.Request) -> web.Response:
        """Abort the connection: the client sees a disconnect and no bytes at all."""
        self.stats.dropped += 1
        if request.transport is not None:
            request.transport.abort()
        # aiohttp wants a response object; the transport is gone, so nothing is sent.
        return web.Response(status=503)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        faults = self.faults
        if faults.down:
            return self._drop(request)
        roll = self._rng.random()
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if roll < faults.drop_rate:
            return self._drop(request)
        if roll < faults.drop_rate + faults.error_rate:
            self.stats.errored += 1
            return web.Response(status=503, text="injected fault: service unavailable")
        body = await request.read()
        assert self._session is not None
        try:
            async with self._session.post(
                self.upstream, data=body, headers={"Content-Type": "application/json"}
            ) as upstream:
                payload = await upstream.read()
                status = upstream.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.stats.upstream_failures += 1
            return web.Response(status=502, text=f"upstream unreachable: {exc}")
        self.stats.forwarded += 1
        return web.Response(body=payload, status=status, content_type="application/json")


# --- clients of the admin endpoint --------------------------------------------------


async def set_faults(proxy_url: str, **changes: Any) -> RpcFaults:
    """Change faults of a running proxy (async); only the given fields change."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(proxy_url.rstrip("/") + ADMIN_PATH, json=changes) as resp,
    ):
        data = await resp.json()
        if resp.status != 200:
            raise ValueError(f"proxy refused faults {changes}: {data}")
    return RpcFaults.model_validate(data["faults"])


def set_faults_sync(proxy_url: str, **changes: Any) -> RpcFaults:
    """Blocking twin of :func:`set_faults`, for sync tests and the CLI."""
    req = urllib.request.Request(
        proxy_url.rstrip("/") + ADMIN_PATH,
        data=json.dumps(changes).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the socket; callers keep the exception around
        raise
    return RpcFaults.model_validate(data["faults"])


def get_faults_sync(proxy_url: str, timeout: float = 2.0) -> dict[str, Any]:
    """``{"faults": ..., "stats": ...}`` of a running proxy."""
    with urllib.request.urlopen(proxy_url.rstrip("/") + ADMIN_PATH, timeout=timeout) as resp:
        data: dict[str, Any] = json.loads(resp.read())
    return data


# --- process entry point -------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devnet.rpc_proxy", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--upstream",
        required=True,
        help="upstream JSON-RPC URL, e.g. http://127.0.0.1:8545",
    )
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--down", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    faults = RpcFaults(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        down=args.down,
    )
    proxy = RpcProxy(
        args.upstream,
        host=args.listen_host,
        port=args.listen_port,
        faults=faults,
        seed=args.seed,
    )
    await proxy.start()
    await serve_until_signalled(f"rpc proxy {proxy.url} -> {args.upstream} faults={faults.model_dump()}", proxy.stop)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    try:
        RpcFaults(
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
        )
    except ValidationError as exc:
        raise SystemExit(f"invalid faults: {exc}") from None
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
