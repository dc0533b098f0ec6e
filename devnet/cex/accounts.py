"""Devnet trading accounts: API credentials in a 0600 JSON file, funded on venue start.

The file has the shape ``connectors.cex.credentials`` reads (``{"<name>": {"api_key",
"secret", "password"}}``): ``binance``, ``okx`` and ``kraken`` are the default trader accounts,
``binance-2``, ``okx-2`` and ``kraken-2`` a second one each. A venue process funds every account whose
name is its venue or starts with ``<venue>-``. Devnet credentials only: random per
``devnet up``, never in the JSON state file, never logged.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

DEFAULT_BALANCES: dict[str, Decimal] = {
    "BTC": Decimal("10"),
    "ETH": Decimal("200"),
    "SOL": Decimal("5000"),
    "USDT": Decimal("1000000"),
}

VENUES = ("binance", "okx", "kraken")


@dataclass(frozen=True)
class Credential:
    name: str  # "binance", "okx-2", ...
    api_key: str
    secret: str = field(repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def venue(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def account(self) -> str:
        """The venue account this key trades for (one account per credential)."""
        return "acct-" + self.name


def generate(venues: tuple[str, ...] = VENUES, per_venue: int = 2) -> list[Credential]:
    out = []
    for venue in venues:
        for i in range(per_venue):
            name = venue if i == 0 else f"{venue}-{i + 1}"
            out.append(
                Credential(
                    name=name,
                    api_key=secrets.token_hex(16) if venue == "okx" else secrets.token_urlsafe(48)[:64],
                    secret=new_secret(venue),
                    password=secrets.token_urlsafe(12) if venue == "okx" else None,
                )
            )
    return out


def new_secret(venue: str) -> str:
    """A random API secret in the venue's form: Kraken's is base64 of 64 bytes (it signs with the
    decoded bytes), the others' hex."""
    return base64.b64encode(secrets.token_bytes(64)).decode() if venue == "kraken" else secrets.token_hex(32)


def write(path: Path, credentials: list[Credential]) -> None:
    """Create (mode 0600 from the first byte) and fill the credentials file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {c.name: {"api_key": c.api_key, "secret": c.secret, "password": c.password} for c in credentials}
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(body, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


def read(path: Path, venue: str | None = None) -> list[Credential]:
    """Credentials in the file, those of ``venue`` only if given."""
    raw = json.loads(path.read_text())
    out = [
        Credential(name=name, api_key=entry["api_key"], secret=entry["secret"], password=entry.get("password"))
        for name, entry in raw.items()
        if isinstance(entry, dict) and "api_key" in entry
    ]
    return [c for c in out if venue is None or c.venue == venue]
