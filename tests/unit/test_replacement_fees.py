"""Fee pricing of replacements and cancels (activities.tx._replacement_fees), without a chain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from activities.tx import _replacement_fees
from connectors.evm.fees import FeeSuggestion
from crosslane.domain.tx import AttemptKind, TxRequest
from crosslane.ledger.records import AttemptRecord, AttemptStatus
from crosslane.money import BPS, GWEI

SIGNER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TO = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
CAP = 100 * GWEI


def tx_request(cap: int = CAP, bump_bps: int = 1250) -> TxRequest:
    return TxRequest.model_validate(
        {
            "request_id": "fees",
            "chain": "devnet-a",
            "signer": SIGNER,
            "to": TO,
            "value": 1,
            "fees": {"max_fee_per_gas_cap": cap, "bump_bps": bump_bps},
        }
    )


def attempt(max_fee: int, tip: int, *, index: int = 0, kind: str = "original") -> AttemptRecord:
    return AttemptRecord(
        id=index + 1,
        operation_id=1,
        attempt_index=index,
        kind=AttemptKind(kind),
        chain_id=31337,
        signer=SIGNER,
        nonce=7,
        tx_hash="0x" + f"{index:064x}",
        raw_tx="0x02",
        to_address=TO,
        value=1,
        gas_limit=21_000,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=tip,
        status=AttemptStatus.BROADCAST,
        block_number=None,
        block_hash=None,
        gas_used=None,
        effective_gas_price=None,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        broadcast_at=None,
        mined_at=None,
    )


def oracle(max_fee: int, tip: int, base_fee: int | None = None) -> FeeSuggestion:
    base = base_fee if base_fee is not None else max_fee - tip
    return FeeSuggestion(base_fee=base, max_priority_fee_per_gas=tip, max_fee_per_gas=max_fee)


QUIET = oracle(2 * GWEI, GWEI // 10)  # the oracle asks for less than any bump

# Expected fees are written out from the rule, not computed with crosslane.money.bump (the helper
# under test): a replacement raises each field by at least the bump (12.5 % unless configured),
# rounded up to the next wei.
BUMPED_20_GWEI = {1250: 22_500_000_000, 2000: 24_000_000_000, 5000: 30_000_000_000}
BUMPED_2_GWEI = {1250: 2_250_000_000, 2000: 2_400_000_000, 5000: 3_000_000_000}
CAP_PLUS_BUMP = 112_500_000_000  # 100 gwei + 12.5 %
LARGEST_BUMPABLE_UNDER_CAP = 88_888_888_888  # x 1.125 = 99_999_999_999 <= CAP


def accepted_as_replacement(new: tuple[int, int], old: AttemptRecord, bump_bps: int) -> bool:
    """What geth/anvil/reth check: both fields raised by at least the bump."""
    max_fee, tip = new
    return (
        max_fee * BPS >= old.max_fee_per_gas * (BPS + bump_bps)
        and tip * BPS >= old.max_priority_fee_per_gas * (BPS + bump_bps)
        and tip <= max_fee
    )


# -- replacements --------------------------------------------------------------------------------


@pytest.mark.parametrize("bump_bps", [1250, 2000, 5000])
def test_replacement_raises_both_fields_by_the_bump(bump_bps: int) -> None:
    last = attempt(20 * GWEI, 2 * GWEI)
    priced = _replacement_fees(tx_request(bump_bps=bump_bps), last, QUIET, AttemptKind.REPLACEMENT)
    assert priced == (BUMPED_20_GWEI[bump_bps], BUMPED_2_GWEI[bump_bps])
    assert accepted_as_replacement(priced, last, bump_bps)


def test_replacement_rounds_up_so_nodes_accept_it() -> None:
    last = attempt(8, 7)  # 12.5% of odd small values is fractional
    priced = _replacement_fees(tx_request(), last, oracle(1, 1), AttemptKind.REPLACEMENT)
    assert priced == (9, 8)
    assert accepted_as_replacement(priced, last, 1250)


def test_replacement_follows_the_oracle_when_it_asks_for_more() -> None:
    last = attempt(20 * GWEI, 2 * GWEI)
    market = oracle(50 * GWEI, 5 * GWEI)
    assert _replacement_fees(tx_request(), last, market, AttemptKind.REPLACEMENT) == (50 * GWEI, 5 * GWEI)
    # the oracle may raise one field and not the other: each field takes the larger
    tip_only = oracle(21 * GWEI, 4 * GWEI)
    assert _replacement_fees(tx_request(), last, tip_only, AttemptKind.REPLACEMENT) == (22_500_000_000, 4 * GWEI)


def test_replacement_never_exceeds_the_cap() -> None:
    last = attempt(80 * GWEI, 2 * GWEI)  # a bump (90) still fits under the cap (100)
    spike = oracle(500 * GWEI, 300 * GWEI)
    max_fee, tip = _replacement_fees(tx_request(), last, spike, AttemptKind.REPLACEMENT) or (0, 0)
    assert max_fee == CAP
    assert tip == CAP  # the tip follows the oracle but never above the max fee
    for last_fee in range(1 * GWEI, CAP + 1, 7 * GWEI):
        for market in (QUIET, spike):
            priced = _replacement_fees(tx_request(), attempt(last_fee, last_fee // 10), market, AttemptKind.REPLACEMENT)
            if priced is not None:
                assert priced[0] <= CAP and priced[1] <= priced[0]
                assert accepted_as_replacement(priced, attempt(last_fee, last_fee // 10), 1250)


@pytest.mark.parametrize("last_fee", [CAP, CAP - 1, 95 * GWEI, LARGEST_BUMPABLE_UNDER_CAP + 1])
def test_replacement_returns_none_when_the_cap_leaves_no_valid_bump(last_fee: int) -> None:
    # the smallest accepted replacement, last_fee x 1.125 rounded up, is above the cap for all of these
    # (88_888_888_889 x 1.125 = 100_000_000_000.125)
    assert _replacement_fees(tx_request(), attempt(last_fee, GWEI), QUIET, AttemptKind.REPLACEMENT) is None
    spike = oracle(10 * CAP, GWEI)
    assert _replacement_fees(tx_request(), attempt(last_fee, GWEI), spike, AttemptKind.REPLACEMENT) is None


def test_replacement_exactly_reaching_the_cap_is_allowed() -> None:
    last_fee = LARGEST_BUMPABLE_UNDER_CAP
    assert _replacement_fees(tx_request(), attempt(last_fee, GWEI), QUIET, AttemptKind.REPLACEMENT) == (
        99_999_999_999,
        1_125_000_000,
    )


# -- cancels -------------------------------------------------------------------------------------


def test_cancel_below_the_cap_is_priced_like_a_replacement() -> None:
    last = attempt(20 * GWEI, 2 * GWEI)
    assert _replacement_fees(tx_request(), last, QUIET, AttemptKind.CANCEL) == (22_500_000_000, 2_250_000_000)
    market = oracle(60 * GWEI, 3 * GWEI)
    assert _replacement_fees(tx_request(), last, market, AttemptKind.CANCEL) == (60 * GWEI, 3 * GWEI)
    spike = oracle(10 * CAP, 3 * GWEI)
    assert _replacement_fees(tx_request(), last, spike, AttemptKind.CANCEL) == (CAP, 3 * GWEI)


def test_cancel_at_the_cap_exceeds_it_by_the_minimum_bump_only() -> None:
    last = attempt(CAP, 5 * GWEI)
    for market in (QUIET, oracle(10 * CAP, 50 * GWEI)):
        max_fee, tip = _replacement_fees(tx_request(), last, market, AttemptKind.CANCEL) or (0, 0)
        assert max_fee == CAP_PLUS_BUMP
        assert accepted_as_replacement((max_fee, tip), last, 1250)
        assert tip <= max_fee


def test_cancel_just_under_the_cap_stays_within_one_bump_of_it() -> None:
    last = attempt(CAP - 1, GWEI)
    max_fee, _ = _replacement_fees(tx_request(), last, QUIET, AttemptKind.CANCEL) or (0, 0)
    assert CAP < max_fee <= CAP_PLUS_BUMP


def test_a_second_cancel_does_not_climb_past_one_bump_over_the_cap() -> None:
    """TransactionLifecycle keeps sending cancels while one is stuck (base fee above the cap):
    each is priced over the previous cancel, so without a ceiling the fee grows 12.5% per
    window without bound. ReplacementPolicy.cancel_at_cap promises a cancel exceeds the cap
    "by exactly the minimum replacement bump"; a further cancel must wait (None) instead."""
    first_cancel = attempt(CAP_PLUS_BUMP, 5_625_000_000, index=3, kind="cancel")
    priced = _replacement_fees(tx_request(), first_cancel, oracle(10 * CAP, GWEI), AttemptKind.CANCEL)
    assert priced is None or priced[0] <= CAP_PLUS_BUMP
