"""Venue profiles: what differs between venues, declared once per venue instead of assumed."""

from __future__ import annotations

from connectors.cex.profiles.model import (
    CancelStrategy,
    ClientIdKind,
    FindStrategy,
    PrecisionMode,
    UserStream,
    VenueProfile,
    WithdrawalLookup,
)
from connectors.cex.profiles.seed import SEED_PROFILES

__all__ = [
    "CancelStrategy",
    "ClientIdKind",
    "FindStrategy",
    "PrecisionMode",
    "SEED_PROFILES",
    "UserStream",
    "VenueProfile",
    "WithdrawalLookup",
    "profile_for",
]


def profile_for(exchange: str) -> VenueProfile:
    """The seed profile of a ccxt exchange id; any other exchange gets the conservative
    default (find by client id, then in open orders; no extra ccxt options)."""
    return SEED_PROFILES.get(exchange) or VenueProfile(exchange=exchange)
