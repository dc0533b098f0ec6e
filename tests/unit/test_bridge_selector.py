"""The bridge route selector: Across for a small urgent transfer, Wormhole when the relayer
lacks inventory or the fee bound excludes Across — and the choice says why."""

from __future__ import annotations

import pytest

from connectors.bridges.selector import choose_route
from crosslane.domain.bridge import BridgeRoute, BridgeState, RoutePreferences, RouteQuote
from crosslane.errors import InvalidRequest

USDC = 10**6


def across(**kw: int | None) -> RouteQuote:
    base = dict(
        route=BridgeRoute.ACROSS,
        fee=2 * USDC,
        source_gas=USDC // 2,
        destination_gas=0,
        expected_seconds=30,
        security_score=70,
        min_amount=USDC,
        max_amount=50_000 * USDC,
        liquidity=100_000 * USDC,
    )
    return RouteQuote(**{**base, **kw})


def wormhole(**kw: int | None) -> RouteQuote:
    base = dict(
        route=BridgeRoute.WORMHOLE,
        fee=0,
        source_gas=USDC // 2,
        destination_gas=USDC,
        expected_seconds=15 * 60,
        security_score=90,
        min_amount=1,
        max_amount=None,
        liquidity=None,
    )
    return RouteQuote(**{**base, **kw})


def test_small_urgent_transfer_goes_across() -> None:
    choice = choose_route([across(), wormhole()], 1_000 * USDC, RoutePreferences(value_of_time_per_hour_bps=50))
    assert choice.chosen.route is BridgeRoute.ACROSS
    assert "across: total cost" in choice.reason and "wormhole scores" in choice.reason


def test_relayer_without_inventory_sends_it_over_wormhole_and_says_why() -> None:
    choice = choose_route([across(liquidity=500 * USDC), wormhole()], 1_000 * USDC, RoutePreferences())
    assert choice.chosen.route is BridgeRoute.WORMHOLE
    assert choice.rejected[BridgeRoute.ACROSS] == f"the route can deliver only {500 * USDC} now (relayer inventory)"
    assert "across excluded: the route can deliver only" in choice.reason


def test_fee_bound_excludes_across() -> None:
    prefs = RoutePreferences(max_fee=2 * USDC, value_of_time_per_hour_bps=50)
    choice = choose_route([across(), wormhole()], 1_000 * USDC, prefs)
    assert choice.chosen.route is BridgeRoute.WORMHOLE
    assert "above the fee bound" in choice.rejected[BridgeRoute.ACROSS]


def test_nothing_eligible_lists_every_reason() -> None:
    expected = "across: amount .* above the route's limit [0-9]+; wormhole: denied by preference"
    with pytest.raises(InvalidRequest, match=expected):
        choose_route(
            [across(max_amount=10 * USDC), wormhole()], 20 * USDC, RoutePreferences(deny=[BridgeRoute.WORMHOLE])
        )


def test_deadline_and_security_preferences() -> None:
    assert choose_route([across(), wormhole()], 100 * USDC, RoutePreferences(max_seconds=60)).chosen.route == "across"
    secure = choose_route([across(), wormhole()], 100 * USDC, RoutePreferences(min_security_score=80))
    assert secure.chosen.route is BridgeRoute.WORMHOLE and "security score 70" in secure.rejected[BridgeRoute.ACROSS]


def test_states_know_when_they_are_done() -> None:
    assert {s for s in BridgeState if s.done} == {BridgeState.COMPLETED, BridgeState.REFUNDED, BridgeState.FAILED}


def test_quote_limits_are_consistent() -> None:
    with pytest.raises(ValueError, match="max_amount is below min_amount"):
        across(min_amount=10, max_amount=5)
