"""Choose a bridge route: total cost against time, security and what the route can deliver
now, within the user's preferences — and say why each other route lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crosslane.domain.bridge import BridgeRoute, RoutePreferences, RouteQuote
from crosslane.errors import InvalidRequest

_SECONDS_PER_HOUR = 3600
_BPS = 10_000

AmountText = Callable[[int], str]
"""How a message shows an amount of base units (``TokenSide.amount_text``: "249.975 USDC")."""


@dataclass(frozen=True)
class RankedRoute:
    quote: RouteQuote
    score: int  # base units: total cost plus the value of the waiting time (lower is better)


@dataclass(frozen=True)
class RouteChoice:
    chosen: RouteQuote
    ranked: list[RankedRoute]
    rejected: dict[BridgeRoute, str]
    reason: str


def refusal(quote: RouteQuote, amount: int, prefs: RoutePreferences, units: AmountText = str) -> str | None:
    """Why ``quote`` cannot take ``amount`` under ``prefs`` (None: eligible), amounts shown by ``units``."""
    if prefs.allow is not None and quote.route not in prefs.allow:
        return "not in the allowed routes"
    if quote.route in prefs.deny:
        return "denied by preference"
    if amount < quote.min_amount:
        return f"amount {units(amount)} is below the route's minimum {units(quote.min_amount)}"
    if quote.max_amount is not None and amount > quote.max_amount:
        return f"amount {units(amount)} is above the route's limit {units(quote.max_amount)}"
    if quote.liquidity is not None and amount > quote.liquidity:
        return f"the route can deliver only {units(quote.liquidity)} now (relayer inventory)"
    if prefs.max_fee is not None and quote.total_cost > prefs.max_fee:
        return f"costs {units(quote.total_cost)}, above the fee bound {units(prefs.max_fee)}"
    if prefs.max_seconds is not None and quote.expected_seconds > prefs.max_seconds:
        return f"takes ~{quote.expected_seconds} s, beyond the {prefs.max_seconds} s allowed"
    if quote.security_score < prefs.min_security_score:
        return f"security score {quote.security_score} is below {prefs.min_security_score}"
    return None


def choose_route(
    quotes: list[RouteQuote], amount: int, prefs: RoutePreferences, units: AmountText = str
) -> RouteChoice:
    """The cheapest eligible route once waiting is priced at ``value_of_time_per_hour_bps``
    of the amount per hour; ties go to the more secure route. InvalidRequest, listing every
    route's reason, when none is eligible."""
    rejected: dict[BridgeRoute, str] = {}
    ranked: list[RankedRoute] = []
    for quote in quotes:
        reason = refusal(quote, amount, prefs, units)
        if reason is not None:
            rejected[quote.route] = reason
            continue
        time_cost = amount * prefs.value_of_time_per_hour_bps * quote.expected_seconds // (_BPS * _SECONDS_PER_HOUR)
        ranked.append(RankedRoute(quote, quote.total_cost + time_cost))
    if not ranked:
        detail = "; ".join(f"{route}: {why}" for route, why in rejected.items()) or "no route quoted"
        raise InvalidRequest(f"no bridge route can take this transfer ({detail})")
    ranked.sort(key=lambda r: (r.score, -r.quote.security_score))
    chosen = ranked[0]
    reason = (
        f"{chosen.quote.route}: total cost {units(chosen.quote.total_cost)} plus waiting"
        f" ~{chosen.quote.expected_seconds} s scores {units(chosen.score)}"
    )
    for other in ranked[1:]:
        reason += f"; {other.quote.route} scores {units(other.score)}"
    for route, why in rejected.items():
        reason += f"; {route} excluded: {why}"
    return RouteChoice(chosen=chosen.quote, ranked=ranked, rejected=rejected, reason=reason)
