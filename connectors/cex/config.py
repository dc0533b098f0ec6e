"""Per-venue settings: which ccxt class, where it lives (simulator URLs), how to authenticate."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crosslane.registry.model import ExchangeVenue

# What ccxt needs to stay on spot and skip endpoints the venue does not serve to us: valid for
# Binance and OKX (and their simulators); other venues take theirs from their profile.
SPOT_ONLY_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}


class VenueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", description="our name, e.g. binance or okx-sim")
    exchange: str = Field(description="ccxt exchange id, e.g. binance, okx, kraken")
    rest_url: str | None = Field(default=None, description="replaces the host of every REST URL (simulators)")
    ws_url: str | None = Field(default=None, description="replaces the host of every websocket URL")
    secrets_file: Path | None = None
    enable_rate_limit: bool = True
    timeout_ms: int = Field(default=10_000, ge=100)
    options: dict[str, Any] | None = Field(default=None, description="ccxt options; default: the venue profile's")
    symbols: list[str] = Field(default_factory=list, description="symbols whose books the fast path keeps")
    maker_bps: Decimal | None = Field(default=None, description="the account's fee tier; default: ccxt's market fees")
    taker_bps: Decimal | None = None
    networks: dict[str, str] = Field(
        default_factory=dict, description="our chain name -> the venue's network code; default: the name upper-cased"
    )

    def network(self, chain: str) -> str:
        return self.networks.get(chain, chain.upper())

    @classmethod
    def from_registry(cls, name: str, venue: ExchangeVenue, environ: Mapping[str, str] | None = None) -> VenueConfig:
        """The registry file's venue: its secrets file is the one its credentials reference
        names (directly, or through the env var they name; none if that is unset)."""
        env = os.environ if environ is None else environ
        ref = venue.credentials
        secrets = None if ref is None else ref.secrets_file or (env.get(ref.env) if ref.env else None)
        return cls(
            name=name,
            exchange=venue.exchange,
            rest_url=venue.rest_url,
            ws_url=venue.ws_url,
            secrets_file=Path(secrets) if secrets else None,
            enable_rate_limit=venue.rate_limit,
            symbols=venue.symbols,
            maker_bps=venue.maker_bps,
            taker_bps=venue.taker_bps,
        )
