"""Venue profiles agree with what ccxt says of each venue, and orders are checked in the
venue's own precision mode before they are sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.profiles import SEED_PROFILES, PrecisionMode, profile_for
from connectors.cex.validation import check_order
from connectors.cex.venue import CexVenue
from crosslane.errors import InvalidRequest

CCXT_PRECISION = {ccxt.TICK_SIZE: PrecisionMode.TICK_SIZE, ccxt.SIGNIFICANT_DIGITS: PrecisionMode.SIGNIFICANT_DIGITS}


@pytest.mark.parametrize("exchange", sorted(SEED_PROFILES))
def test_profile_matches_ccxt(exchange: str) -> None:
    profile, ccxt_exchange = SEED_PROFILES[exchange], getattr(ccxt, exchange)()
    assert CCXT_PRECISION[ccxt_exchange.precisionMode] is profile.precision_mode
    required = {name for name, needed in ccxt_exchange.requiredCredentials.items() if needed}
    assert required == set(profile.required_credentials)


def test_bitmex_is_not_in_this_ccxt() -> None:
    assert not hasattr(ccxt, "bitmex")
    assert profile_for("someother").exchange == "someother", "any other ccxt id gets the default profile"


def test_a_venue_needing_a_passphrase_refuses_credentials_without_one() -> None:
    with pytest.raises(InvalidRequest, match="needs a password"):
        CexVenue(VenueConfig(name="kucoin", exchange="kucoin"), ApiCredentials("key", "secret"))


BITFINEX_STYLE: dict[str, Any] = {
    "symbol": "BTC/USDT",
    "precision": {"amount": 8, "price": 5},  # 8 decimal places, 5 significant digits
    "limits": {"amount": {"min": "0.00004"}, "cost": {"min": None}},
}


@pytest.mark.parametrize("price", [Decimal("30001"), Decimal("30000"), Decimal("0.12345"), Decimal("29999000")])
def test_significant_digit_prices_are_accepted_when_valid(price: Decimal) -> None:
    check_order(BITFINEX_STYLE, "buy", "limit", Decimal("0.00012345"), price,
                precision_mode=PrecisionMode.SIGNIFICANT_DIGITS)


def test_the_same_order_read_as_tick_sizes_would_be_refused() -> None:
    """What the connector did before profiles: Bitfinex's digit counts taken for steps."""
    with pytest.raises(InvalidRequest, match="not a multiple of the step 8"):
        check_order(BITFINEX_STYLE, "buy", "limit", Decimal("0.00012345"), Decimal("30001"))


@pytest.mark.parametrize(
    ("amount", "price", "message"),
    [
        (Decimal("0.001"), Decimal("30001.5"), "more than 5 significant digits"),
        (Decimal("0.000123456"), Decimal("30001"), "more than 8 decimal places"),
        (Decimal("0.00001"), Decimal("30001"), "below the venue minimum"),
    ],
)
def test_significant_digit_orders_outside_the_venues_rules_are_refused(
    amount: Decimal, price: Decimal, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        check_order(BITFINEX_STYLE, "buy", "limit", amount, price, precision_mode=PrecisionMode.SIGNIFICANT_DIGITS)


def test_market_order_notional_is_checked_at_the_reference_price() -> None:
    market = {"symbol": "BTC/USDT", "precision": {"amount": "0.00001", "price": "0.01"},
              "limits": {"amount": {"min": "0.00001"}, "cost": {"min": "5"}}}
    with pytest.raises(InvalidRequest, match="notional 3.0000 is below the venue minimum 5"):
        check_order(market, "buy", "market", Decimal("0.0001"), None, reference_price=Decimal("30000"))
    check_order(market, "buy", "market", Decimal("0.0002"), None, reference_price=Decimal("30000"))


def test_book_subscriptions_ask_a_depth_the_venue_offers() -> None:
    kraken = profile_for("kraken")  # websocket v2 `book`: 10, 25, 100, 500 or 1000
    assert [kraken.book_depth(n) for n in (5, 10, 20, 25, 26, 5000)] == [10, 10, 25, 25, 100, 1000]
    assert profile_for("binance").book_depth(20) == 20
