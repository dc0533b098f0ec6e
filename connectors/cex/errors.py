"""ccxt's exception tree folded into Crosslane's two questions: may it be retried, and
might the order have reached the venue anyway (so it must be reconciled by client id)."""

from __future__ import annotations

import ccxt

from crosslane.errors import CrosslaneError


class VenueUnavailable(CrosslaneError):
    """Network trouble, 5xx, maintenance: retry later."""

    retryable = True


class VenueRateLimited(CrosslaneError):
    """429/418: back off before the next call."""

    retryable = True


class OrderRejected(CrosslaneError):
    """The venue refused the order (funds, filters, symbol): retrying cannot help."""


class VenueAuthFailed(CrosslaneError):
    """Bad key, signature or permissions."""


class OrderUnknown(CrosslaneError):
    """The venue has no order with that id."""


class VenueCallFailed(CrosslaneError):
    """ccxt or Python failed inside a venue call (a shape it cannot parse, an option it
    mishandles): a defect of the adapter for this venue, so retrying cannot help."""


# Order matters: subclasses before their bases.
_MAPPING: list[tuple[type[BaseException], type[CrosslaneError]]] = [
    (ccxt.RateLimitExceeded, VenueRateLimited),
    (ccxt.DDoSProtection, VenueRateLimited),
    (ccxt.OrderNotFound, OrderUnknown),
    (ccxt.InsufficientFunds, OrderRejected),
    (ccxt.InvalidOrder, OrderRejected),
    (ccxt.BadSymbol, OrderRejected),
    (ccxt.BadRequest, OrderRejected),
    (ccxt.AuthenticationError, VenueAuthFailed),
    (ccxt.PermissionDenied, VenueAuthFailed),
    (ccxt.NetworkError, VenueUnavailable),  # RequestTimeout, ExchangeNotAvailable, ...
    (ccxt.ExchangeError, OrderRejected),
]


def translate(exc: BaseException, venue: str, action: str) -> CrosslaneError:
    """The taxonomy's error for anything raised inside a venue call; never the raw exception."""
    for source, target in _MAPPING:
        if isinstance(exc, source):
            return target(f"{venue}: {action}: {type(exc).__name__}: {exc}")
    if not isinstance(exc, ccxt.BaseError):
        return VenueCallFailed(f"{venue}: {action}: {type(exc).__name__}: {exc}")
    return VenueUnavailable(f"{venue}: {action}: {type(exc).__name__}: {exc}")


def outcome_unknown(exc: BaseException) -> bool:
    """True when the request may have been executed although we got no answer."""
    return isinstance(exc, ccxt.RequestTimeout | ccxt.NetworkError) and not isinstance(
        exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection
    )
