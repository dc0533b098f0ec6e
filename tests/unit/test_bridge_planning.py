"""Planning around the selector: a deadline bounds the expected arrival, routes without a
quote are named with their reason, and a deadline already past is refused."""

from __future__ import annotations

import time

import pytest

from connectors.bridges.planning import RouteOffers, check_deadline, choose, exclusions, with_deadline
from crosslane.domain.bridge import BridgeRoute, RoutePreferences, RouteQuote
from crosslane.errors import InvalidRequest


def quote(route: BridgeRoute, seconds: int, fee: int = 0) -> RouteQuote:
    return RouteQuote(
        route=route, fee=fee, source_gas=1, destination_gas=0, expected_seconds=seconds, security_score=50, min_amount=1
    )


def test_a_deadline_bounds_the_expected_arrival() -> None:
    prefs = RoutePreferences()
    assert with_deadline(prefs, None, 1000) is prefs
    assert with_deadline(prefs, 1090, 1000).max_seconds == 90
    assert with_deadline(RoutePreferences(max_seconds=30), 1090, 1000).max_seconds == 30
    assert with_deadline(prefs, 1000, 1000).max_seconds == 1  # never zero: still a bound


def test_choice_under_a_deadline_names_the_slow_route() -> None:
    offers = RouteOffers([quote(BridgeRoute.WORMHOLE, 1080), quote(BridgeRoute.ACROSS, 30, fee=5)])
    prefs = with_deadline(RoutePreferences(), 1090, 1000)
    choice = choose(offers, 1_000, prefs)
    assert choice.chosen.route is BridgeRoute.ACROSS
    assert "wormhole excluded: takes ~1080 s, beyond the 90 s allowed" in choice.reason
    assert exclusions(offers.quotes, 1_000, prefs) == {BridgeRoute.WORMHOLE: "takes ~1080 s, beyond the 90 s allowed"}


def test_no_route_lists_every_reason_including_routes_without_a_quote() -> None:
    offers = RouteOffers([quote(BridgeRoute.ACROSS, 30)], {"wormhole": "FOO is not attested on devnet-b"})
    with pytest.raises(InvalidRequest) as err:
        choose(offers, 1_000, RoutePreferences(deny=[BridgeRoute.ACROSS]))
    assert str(err.value) == (
        "no bridge route can take this transfer "
        "(across: denied by preference; wormhole: FOO is not attested on devnet-b)"
    )
    with pytest.raises(InvalidRequest, match=r"\(wormhole: down\)"):
        choose(RouteOffers([], {"wormhole": "down"}), 1, RoutePreferences())


def test_a_deadline_already_past_is_refused() -> None:
    now = int(time.time())
    check_deadline(None, now)
    check_deadline(now + 60, now)
    with pytest.raises(InvalidRequest, match="has already passed"):
        check_deadline(now - 1, now)
    with pytest.raises(InvalidRequest, match="has already passed"):  # the chain's clock may lead the wall clock
        check_deadline(now + 60, now + 120)
