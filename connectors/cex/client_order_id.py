"""Deterministic client order ids: the same intent always yields the same id, so a
placement whose response was lost is found again by id instead of being sent twice.

Venues limit the format (Binance ``^[.A-Za-z0-9:/_-]{1,36}$``, OKX alphanumeric up to 32),
so ids are ``cl`` + 30 lowercase base32 characters of a SHA-256 of the intent key.
"""

from __future__ import annotations

import base64
import hashlib

PREFIX = "cl"
LENGTH = 32
_BYTES = 20  # whole 5-byte base32 groups covering the (LENGTH - len(PREFIX)) * 5 bits kept


def client_order_id(intent_key: str) -> str:
    """``intent_key`` names the order's business intent, e.g. ``"<workflow id>/<step>"`` or
    ``"<parent id>/<child index>"``."""
    # The id keeps the first 30 base32 characters (150 bits) of the digest: the first 20
    # bytes (160 bits, 32 characters, no padding) give the same ones as all 32 at 4 of b32encode's 7 rounds.
    body = base64.b32encode(hashlib.sha256(intent_key.encode()).digest()[:_BYTES]).decode().lower()
    return PREFIX + body[: LENGTH - len(PREFIX)]
