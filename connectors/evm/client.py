"""AsyncWeb3 over an ordered list of RPC endpoints with per-call timeouts and failover.

Transport failures (refused, reset, timeout, HTTP 5xx) move on to the next endpoint; a
JSON-RPC error answered by a node is the node's verdict and is raised as is. An endpoint
that failed is tried last for a cool-down period, then first again, so the primary comes
back into use when it recovers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3._utils.http_session_manager import HTTPSessionManager
from web3.exceptions import ProviderConnectionError

from crosslane.domain.chains import ChainConfig
from crosslane.errors import RpcUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ProviderConnectionError,
    ConnectionError,
    OSError,
)


class KeepAliveSessions(HTTPSessionManager):
    """web3's session cache, one ``aiohttp`` session per event loop and endpoint as before,
    with two costs of every request taken out (bench/README.md, tx_lifecycle, issue 15):

    - web3's session runs ``force_close``: a TCP connect and close per JSON-RPC call, on both
      sides (the worker and the node). Ours keeps connections alive and reuses them;
    - web3 finds the session under a ``threading.Lock`` it takes on an executor thread: one
      thread hand-off per call. Ours looks it up on the loop itself: a loop's session is only
      created and used on that loop's thread, so there is nothing to lock against (other
      loops have their own key).
    """

    async def async_cache_and_return_session(
        self,
        endpoint_uri: Any,
        session: aiohttp.ClientSession | None = None,
        request_timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        key = f"{id(loop)}:{endpoint_uri}"
        cached = self.session_cache.get_cache_entry(key)
        if cached is not None and not cached.closed and not cached._loop.is_closed():
            return cached
        fresh = session or aiohttp.ClientSession(
            raise_for_status=True, connector=aiohttp.TCPConnector(limit=KEEP_ALIVE_CONNECTIONS)
        )
        _, evicted = self.session_cache.cache(key, fresh)
        for stale in [*(evicted or {}).values(), *([cached] if cached is not None else [])]:
            if not stale.closed and not stale._loop.is_closed() and stale._loop is loop:
                loop.create_task(stale.close())
        return fresh


# Connections one worker keeps to one endpoint (aiohttp's default): hundreds of lifecycles in
# flight queue for one rather than opening more.
KEEP_ALIVE_CONNECTIONS = 100


def async_http_provider(url: str, **kwargs: Any) -> AsyncHTTPProvider:
    """An ``AsyncHTTPProvider`` on ``KeepAliveSessions``, whose lock is its own.

    web3 8 guards every provider's session cache with one ``threading.Lock`` (a class
    attribute): an async provider takes it on an executor thread and releases it back on the
    event loop. A synchronous web3 call made on that loop in between blocks the loop on the
    same lock, so the release never runs and both hang (seen: a test's sync ``get_block``
    while an in-process worker polled receipts, stuck until the 300 s timeout). Our async
    lookup takes no lock at all; the instance lock stays for anything else of web3's.
    """
    provider = AsyncHTTPProvider(url, **kwargs)
    sessions = KeepAliveSessions()
    sessions.logger = provider._request_session_manager.logger
    provider._request_session_manager = sessions
    sessions._lock = threading.Lock()  # instance lock shadows the shared one
    return provider


# web3's default middleware that Crosslane never needs: it signs its own transactions
# (``eth_sendTransaction``'s gas price and gas estimate never run), takes no ENS names (addresses
# are validated as hex), and ``validation`` fetches ``eth_chainId`` before every
# ``eth_estimateGas`` / ``eth_call`` to check a ``chainId`` our calls never carry (a signed
# transaction carries the registry's, and a node on another chain refuses it). Without them a
# call costs ~0.5 ms less CPU and, for an estimate, one round trip less (bench/README.md).
UNUSED_MIDDLEWARE = ("validation", "ens_name_to_address", "gas_price_strategy", "gas_estimate")


def lean_web3(provider: AsyncHTTPProvider) -> AsyncWeb3:
    """An ``AsyncWeb3`` on ``provider`` without ``UNUSED_MIDDLEWARE`` (results stay attribute
    dicts)."""
    w3 = AsyncWeb3(provider)
    for name in UNUSED_MIDDLEWARE:
        w3.middleware_onion.remove(name)
    return w3


class EvmClient:
    def __init__(self, chain: ChainConfig, *, timeout_s: float = 5.0, cooldown_s: float = 5.0) -> None:
        self.chain = chain
        self._cooldown_s = cooldown_s
        self._endpoints = [
            lean_web3(
                async_http_provider(
                    url,
                    request_kwargs={"timeout": aiohttp.ClientTimeout(total=timeout_s)},
                    exception_retry_configuration=None,
                )
            )
            for url in chain.rpc_urls
        ]
        self._failed_at: dict[int, float] = {}
        self._in_flight: dict[tuple[object, ...], asyncio.Future[Any]] = {}  # shared reads, by request

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    def _order(self) -> list[int]:
        now = time.monotonic()
        healthy = [i for i in range(len(self._endpoints)) if now - self._failed_at.get(i, -1e9) > self._cooldown_s]
        cooling = sorted(set(range(len(self._endpoints))) - set(healthy), key=lambda i: self._failed_at[i])
        return healthy + cooling

    async def call(self, op: Callable[[AsyncWeb3], Awaitable[T]], what: str) -> T:
        """Run ``op`` against the first endpoint that answers; ``what`` names it in errors."""
        failures: list[str] = []
        for i in self._order():
            try:
                result = await op(self._endpoints[i])
            except TRANSPORT_ERRORS as exc:
                self._failed_at[i] = time.monotonic()
                failures.append(f"{self.chain.rpc_urls[i]}: {type(exc).__name__}: {exc}")
                log.warning("rpc %s failed on %s, failing over: %s", what, self.chain.rpc_urls[i], exc)
                continue
            self._failed_at.pop(i, None)
            return result
        raise RpcUnavailable(f"{self.chain.name}: every RPC endpoint failed for {what}: " + "; ".join(failures))

    async def rpc(self, method: str, params: list[object]) -> object:
        """A raw JSON-RPC call (for node methods web3 does not wrap, e.g. ``txpool_content``)."""

        async def _raw(w3: AsyncWeb3) -> object:
            response = await w3.provider.make_request(method, params)  # type: ignore[arg-type]
            if "error" in response:
                raise RuntimeError(f"{method}: {response['error']}")
            return response["result"]

        return await self.call(_raw, method)

    async def shared(self, key: tuple[object, ...], op: Callable[[AsyncWeb3], Awaitable[T]], what: str) -> T:
        """``call(op, what)``, whose answer callers asking while the same request (``key``) is
        in flight share: hundreds of lifecycles read the head, the fee history or their
        signer's pending nonce at once, and one request serves them. Only for reads whose
        answer from a moment ago serves as well as a new one."""
        flight = self._in_flight.get(key)
        if flight is None or flight.done() or flight.get_loop() is not asyncio.get_running_loop():
            flight = self._in_flight[key] = asyncio.ensure_future(self.call(op, what))
        result: T = await asyncio.shield(flight)
        return result

    async def block_number(self) -> int:
        """The head's number, shared with the callers asking while a request is in flight."""
        return await self.shared(("eth_blockNumber",), lambda w3: w3.eth.block_number, "eth_blockNumber")

    async def latest_timestamp(self) -> int:
        """The latest block's timestamp (unix seconds): the chain's own clock."""
        block = await self.call(lambda w3: w3.eth.get_block("latest"), "eth_getBlockByNumber(latest)")
        return int(block["timestamp"])

    async def native_balance(self, address: str) -> int:
        """``address``'s balance of the chain's native coin, in wei."""
        return int(await self.call(lambda w3: w3.eth.get_balance(address), "eth_getBalance"))  # type: ignore[arg-type]

    async def transaction(self, tx_hash: str) -> Mapping[str, Any]:
        """The transaction as the node returns it (``input``, ``value``, ``to``...)."""
        return await self.call(lambda w3: w3.eth.get_transaction(tx_hash), "eth_getTransactionByHash")  # type: ignore[arg-type]

    async def nonce(self, address: str, block: str = "pending", *, shared: bool = False) -> int:
        """``address``'s transaction count at ``block``; ``shared``: the answer of a request
        for the same already in flight will do (see ``shared``)."""
        what = f"eth_getTransactionCount({block})"

        def count(w3: AsyncWeb3) -> Awaitable[int]:
            return w3.eth.get_transaction_count(address, block)  # type: ignore[arg-type]

        if shared:
            return await self.shared(("eth_getTransactionCount", address.lower(), block), count, what)
        return await self.call(count, what)

    async def close(self) -> None:
        for w3 in self._endpoints:
            provider = w3.provider
            disconnect = getattr(provider, "disconnect", None)
            if disconnect is not None:
                await disconnect()
