"""A sync web3 call on the event loop must never wait on a lock an async provider holds."""

from __future__ import annotations

from web3 import HTTPProvider

from connectors.evm.client import async_http_provider

URL = "http://127.0.0.1:8545"


def test_async_providers_do_not_share_the_sync_providers_session_lock() -> None:
    sync_lock = HTTPProvider(URL)._request_session_manager._lock
    first, second = (async_http_provider(URL)._request_session_manager._lock for _ in range(2))
    # web3 8 shares one class-level lock; ours are per provider, so the deadlock cannot form
    assert first is not sync_lock and second is not sync_lock and first is not second
