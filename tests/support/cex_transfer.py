"""Helpers for CEX transfer tests: requests, the venue account as ccxt sees it, the venue's
own record of withdrawals and deposits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.cex.config import SPOT_ONLY_OPTIONS
from connectors.cex.credentials import load_credentials
from crosslane.domain.cex_transfer import CexTransferRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from devnet.cex import admin_client as admin
from devnet.cex.clients import ccxt_client
from tests.support.dex import GWEI
from tests.support.stack import Stack

ACCOUNT = "acct-binance"  # the devnet's default Binance account (credentials name "binance")


def transfer_request(
    request_id: str, direction: str, address: str, amount: str, **overrides: Any
) -> CexTransferRequest:
    body: dict[str, Any] = {
        "request_id": request_id,
        "venue": "binance",
        "direction": direction,
        "asset": "USDC",
        "chain": "devnet-a",
        "amount": amount,
        "address": address,
        "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
        "policy": ReplacementPolicy(poll_interval_ms=100),
        "poll_seconds": 0.3,
        **overrides,
    }
    return CexTransferRequest.model_validate(body)


def rest_url(stack: Stack, venue: str = "binance") -> str:
    return stack.sandbox.devnet.cex[venue].rest_url


async def venue_free(stack: Stack, asset: str, venue: str = "binance") -> Decimal:
    """The account's free balance of ``asset``, read through unmodified ccxt."""
    info = stack.sandbox.devnet.cex[venue]
    creds = load_credentials(venue, secrets_file=Path(info.credentials_file), environ={})
    assert creds is not None
    ex = ccxt_client(
        info.exchange, info.rest_url, info.ws_url, api_key=creds.api_key, secret=creds.secret,
        password=creds.password, options=dict(SPOT_ONLY_OPTIONS),
    )  # fmt: skip
    try:
        balance = await ex.fetch_balance()
    finally:
        await ex.close()
    return Decimal(str((balance.get(asset) or {}).get("free") or 0))


async def withdrawals_of(stack: Stack, client_ref: str, venue: str = "binance") -> list[dict[str, Any]]:
    return [w for w in (await admin.funding(rest_url(stack, venue)))["withdrawals"] if w["client_ref"] == client_ref]


async def withdrawals_to(stack: Stack, address: str, venue: str = "binance") -> list[dict[str, Any]]:
    rows = (await admin.funding(rest_url(stack, venue)))["withdrawals"]
    return [w for w in rows if w["address"].lower() == address.lower()]


async def deposits_of(stack: Stack, tx_hash: str, venue: str = "binance") -> list[dict[str, Any]]:
    rows = (await admin.funding(rest_url(stack, venue)))["deposits"]
    return [d for d in rows if d["tx_hash"].lower() == tx_hash.lower()]
