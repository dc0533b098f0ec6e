"""API keys the simulator accepts, and the signature schemes it checks.

Binance: hex HMAC-SHA256 of the request's parameters, key in ``X-MBX-APIKEY``.
OKX: base64 HMAC-SHA256 of ``timestamp + method + path(+query) + body``, with a passphrase.
Kraken: base64 HMAC-SHA512, keyed by the base64-decoded secret, of ``path + SHA256(nonce + body)``.
Secrets are compared in constant time and never logged or echoed in errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ApiKey:
    """One API key of one venue account; ``passphrase`` only for OKX."""

    api_key: str
    secret: str = field(repr=False)
    account: str
    passphrase: str | None = field(default=None, repr=False)


class KeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def add(self, key: ApiKey) -> None:
        self._keys[key.api_key] = key

    def get(self, api_key: str | None) -> ApiKey | None:
        return self._keys.get(api_key) if api_key else None

    def for_account(self, account: str) -> list[ApiKey]:
        return [k for k in self._keys.values() if k.account == account]

    def accounts(self) -> list[str]:
        return sorted({k.account for k in self._keys.values()})


def hmac_sha256_hex(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def hmac_sha256_b64(secret: str, payload: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


def kraken_signature(secret: str, path: str, nonce: str, body: str) -> str:
    """What Kraken's ``API-Sign`` must be; ValueError for a secret that is not base64."""
    try:
        key = base64.b64decode(secret, validate=True)
    except binascii.Error as exc:
        raise ValueError("secret is not base64") from exc
    message = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
    return base64.b64encode(hmac.new(key, message, hashlib.sha512).digest()).decode()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
