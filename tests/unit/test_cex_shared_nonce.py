"""Kraken wants each private call's nonce above the key's last. The fast path holds several
ccxt instances of one key (REST, the user stream's token call): at its start two of them
signed in the same millisecond, the venue refused one (``EAPI:Invalid nonce``) and the fast
path exited. Nonces now rise across the instances of a key, and a call refused for its
nonce is signed again."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

import ccxt
import pytest

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.factory import NONCE_RETRIES, build_exchange

SECRET = base64.b64encode(b"test-secret-not-a-real-key").decode()


def kraken(key: str, *, pro: bool = False) -> Any:
    config = VenueConfig(name="kraken", exchange="kraken", rest_url="http://127.0.0.1:9")
    exchange = build_exchange(config, ApiCredentials(api_key=key, secret=SECRET), pro=pro)
    exchange.milliseconds = lambda: 1_000  # every instance signs in the same millisecond
    return exchange


def test_instances_of_one_key_never_sign_the_same_nonce_twice() -> None:
    rest, stream, other = kraken("key-a"), kraken("key-a", pro=True), kraken("key-b")
    seen = [rest.nonce(), stream.nonce(), rest.nonce(), stream.nonce()]
    assert seen == sorted(seen) and len(set(seen)) == 4
    assert other.nonce() == 1_000  # another key has its own sequence, in the venue's unit


def test_binance_keeps_ccxt_s_own_timestamp() -> None:
    config = VenueConfig(name="binance", exchange="binance", rest_url="http://127.0.0.1:9")
    exchange = build_exchange(config, ApiCredentials(api_key="k", secret="s"))
    assert "fetch2" not in vars(exchange)


async def test_a_call_refused_for_its_nonce_is_signed_again() -> None:
    exchange = kraken("key-c")
    nonces: list[int] = []

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        nonces.append(int(parse_qs(body)["nonce"][0]))
        if len(nonces) == 1:
            raise ccxt.InvalidNonce('kraken {"error":["EAPI:Invalid nonce"]}')
        return json.loads('{"error": [], "result": {"open": {}}}')

    exchange.fetch = fetch
    assert await exchange.privatePostOpenOrders({}) == {"error": [], "result": {"open": {}}}
    assert len(nonces) == 2 and nonces[1] > nonces[0]
    await exchange.close()


async def test_a_nonce_refused_every_time_is_an_error_after_the_retries() -> None:
    exchange = kraken("key-d")
    calls = 0

    async def refused(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        nonlocal calls
        calls += 1
        raise ccxt.InvalidNonce("refused")

    exchange.fetch = refused
    with pytest.raises(ccxt.InvalidNonce):
        await exchange.privatePostOpenOrders({})
    assert calls == NONCE_RETRIES
    await exchange.close()
