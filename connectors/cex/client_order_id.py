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


def client_order_id(intent_key: str) -> str:
    """``intent_key`` names the order's business intent, e.g. ``"<workflow id>/<step>"`` or
    ``"<parent id>/<child index>"``."""
    digest = hashlib.sha256(intent_key.encode()).digest()
    body = base64.b32encode(digest).decode().rstrip("=").lower()
    return PREFIX + body[: LENGTH - len(PREFIX)]
