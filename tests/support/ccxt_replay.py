"""Recorded exchange traffic (ccxt's own static test data, ``tests/fixtures/ccxt-static``)
replayed through unmodified ccxt and our adapter: ccxt's HTTP ``fetch`` is replaced by a
transport that keeps every request ccxt sends and answers it with the recorded response
routed by URL path, run through the exchange's own error handling as a real answer is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.venue import CexVenue

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ccxt-static"
# A syntactically valid key for every venue's signer (Kraken and others decode the secret as base64).
TEST_CREDENTIALS = ApiCredentials("replaykey", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "replaypass")


# The recording accounts' settings, which ccxt would otherwise probe for first (ccxt's static
# tests set the same: the request files' "options", Bybit's unified account, HTX's spot account).
RECORDED_ACCOUNT_OPTIONS: dict[str, dict[str, Any]] = {
    "bybit": {"enableUnifiedMargin": False, "enableUnifiedAccount": True},
    "gate": {"unifiedAccount": False},
    "kucoin": {"hfMigrated": False, "hf": False, "uta": False},
}
RECORDED_ACCOUNTS: dict[str, list[dict[str, Any]]] = {
    "htx": [{"id": "44234548", "type": "spot", "code": None, "info": {}}],
}


class NotRecorded(Exception):
    """ccxt sent a request no recording answers: the shape is checked, the answer is not faked."""


def recorded(venue: str, kind: str, method: str) -> dict[str, Any]:
    """The (single, trimmed) recorded case of ``method``: kind ``request`` (url, input, output
    body) or ``response`` (input, httpResponse, parsedResponse)."""
    cases = json.loads((FIXTURES / f"{venue}-{kind}.json").read_text())["methods"][method]
    return dict(cases[0])


def path_of(url: str) -> str:
    return urlsplit(url).path


@dataclass
class Sent:
    method: str
    url: str
    body: str

    @property
    def path(self) -> str:
        return path_of(self.url)

    def fields(self) -> dict[str, Any]:
        """Query and body parameters together (JSON or form-encoded bodies)."""
        found: dict[str, Any] = dict(parse_qsl(urlsplit(self.url).query))
        if self.body:
            try:
                decoded = json.loads(self.body)
            except ValueError:
                decoded = dict(parse_qsl(self.body))
            if isinstance(decoded, dict):
                found.update(decoded)
        return found


@dataclass
class ReplayTransport:
    exchange: Any
    routes: dict[str, Any] = field(default_factory=dict)  # URL path -> recorded httpResponse
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.exchange.fetch = self.fetch

    def answer(self, path: str, http_response: Any) -> None:
        self.routes[path] = http_response

    async def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        self.sent.append(Sent(method, url, body or ""))
        if path_of(url) not in self.routes:
            raise NotRecorded(f"no recorded response for {method} {path_of(url)}")
        answer = self.routes[path_of(url)]
        if isinstance(answer, BaseException):
            raise answer
        text = json.dumps(answer)
        self.exchange.handle_errors(200, "OK", url, method, {}, text, answer, headers, body)
        return answer

    def to(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.path == path]


def spot_market(
    market_id: str, symbol: str, *, amount_precision: Any = "0.00000001", price_precision: Any = "0.00000001"
) -> dict[str, Any]:
    """A minimal ccxt spot market (the recordings carry no fetchMarkets answer)."""
    base, quote = symbol.split("/")
    return {
        "id": market_id, "symbol": symbol, "base": base, "quote": quote, "baseId": base, "quoteId": quote,
        "settle": None, "settleId": None, "type": "spot", "spot": True, "margin": False, "swap": False,
        "future": False, "option": False, "contract": False, "linear": None, "inverse": None, "active": True,
        "contractSize": None, "taker": Decimal("0.001"), "maker": Decimal("0.001"),
        "precision": {"amount": amount_precision, "price": price_precision},
        "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None},
                   "cost": {"min": None, "max": None}},
        "info": {"altname": market_id, "wsname": symbol},
    }


def replay_venue(exchange_id: str, markets: list[dict[str, Any]], **config: Any) -> tuple[CexVenue, ReplayTransport]:
    """Our adapter over ccxt's ``exchange_id`` with markets set and HTTP replayed; nothing leaves the process."""
    venue = CexVenue(VenueConfig(name=exchange_id, exchange=exchange_id, enable_rate_limit=False, **config),
                     TEST_CREDENTIALS)
    transport = ReplayTransport(venue.exchange)
    venue.exchange.options.update(RECORDED_ACCOUNT_OPTIONS.get(exchange_id, {}))
    if exchange_id in RECORDED_ACCOUNTS:
        venue.exchange.accounts = RECORDED_ACCOUNTS[exchange_id]
    venue.exchange.set_markets(markets)
    venue.markets = venue.exchange.markets
    return venue, transport
