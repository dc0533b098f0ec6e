"""YieldCompound's request validation, the profit gate and the compounding arithmetic."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from crosslane.compounding import (
    SECONDS_PER_YEAR,
    apy,
    break_even_seconds,
    gate_passes,
    observed_apr,
    optimal_interval_seconds,
)
from crosslane.domain.yield_compound import CompoundRequest, CompoundSchedule

OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _request(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "request_id": "farm0",
        "chain": "devnet-a",
        "owner": OWNER,
        "position": {"kind": "masterchef", "pid": 0},
        "fees": {"max_fee_per_gas_cap": 100 * 10**9},
    }
    base.update(changes)
    return base


def test_a_valid_request_names_its_position() -> None:
    farm = CompoundRequest.model_validate(_request())
    assert farm.position.key == "sushiswap:masterchef:0" and farm.workflow_id == "compound-farm0"
    staked = CompoundRequest.model_validate(_request(position={"kind": "v3_staker", "token_id": 7}))
    assert staked.position.key == "uniswap_v3:v3:7"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"interval_seconds": 59}, "interval 59 s is outside 60 s (one minute)"),
        ({"slippage_bps": 5001}, "slippage 5001 bps is outside 0-5000 bps"),
        ({"slippage_bps": -1}, "slippage -1 bps is outside"),
        ({"gas_fraction": "0"}, "gas_fraction 0 must be above 0 and at most 1"),
        ({"gas_fraction": "1.5"}, "gas_fraction 1.5 must be above 0"),
        ({"position": {"kind": "masterchef", "pid": -1}}, "greater than or equal to 0"),
        ({"position": {"kind": "v3_staker", "token_id": 0}}, "greater than 0"),
        ({"position": {"kind": "curve", "pid": 0}}, "does not match any of the expected tags"),
        ({"private_key": "0xabc"}, "private_key"),
    ],
)
def test_bad_requests_are_refused_saying_why(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        CompoundRequest.model_validate(_request(**changes))


def test_a_schedule_below_one_minute_or_jitter_above_its_interval_is_refused() -> None:
    request = CompoundRequest.model_validate(_request(interval_seconds=60))
    with pytest.raises(ValidationError, match="interval 30 s is outside 60 s"):
        CompoundSchedule(schedule_id="s", request=request, every_seconds=30)
    with pytest.raises(ValidationError, match="jitter 60 s must be shorter than the interval 60 s"):
        CompoundSchedule(schedule_id="s", request=request, every_seconds=60, jitter_seconds=60)
    with pytest.raises(ValidationError, match="interval_seconds 60 is not the schedule's 120"):
        CompoundSchedule(schedule_id="s", request=request, every_seconds=120)


def test_the_gate_compounds_only_when_gas_is_within_the_fraction_of_rewards() -> None:
    assert gate_passes(reward_value=1000, gas_cost=500, fraction=Decimal("0.5"))
    assert not gate_passes(reward_value=1000, gas_cost=501, fraction=Decimal("0.5"))
    assert not gate_passes(reward_value=0, gas_cost=1, fraction=Decimal(1))


def test_break_even_interval_is_where_rewards_times_fraction_pay_the_gas() -> None:
    principal, gas, fraction = 10**20, 10**15, Decimal("0.5")
    rate = observed_apr(reward_value=10**18, principal=principal, elapsed_seconds=SECONDS_PER_YEAR // 10)
    assert rate == Decimal("0.1")
    seconds = break_even_seconds(gas, principal, rate, fraction)
    assert seconds is not None
    earned = principal * rate * seconds / SECONDS_PER_YEAR
    one_second = principal * rate / SECONDS_PER_YEAR * fraction
    assert abs(earned * fraction - gas) <= one_second  # rewards × fraction = gas, to the second
    assert break_even_seconds(gas, principal, None, fraction) is None
    # More often than the optimum pays more gas than it gains; less often loses compounding.
    best = optimal_interval_seconds(gas, principal, rate)
    assert best is not None

    def net(interval: int) -> Decimal:
        periods = Decimal(SECONDS_PER_YEAR) / interval
        gain = apy(rate, interval)
        assert gain is not None
        return gain - Decimal(gas) * periods / principal

    assert net(best) > net(best // 4) and net(best) > net(best * 4)


def test_apy_compounds_the_apr_at_the_interval() -> None:
    daily = apy(Decimal("0.365"), 24 * 3600)
    assert daily is not None and abs(daily - (Decimal("1.001") ** 365 - 1)) < Decimal("1e-12")
    assert apy(None, 3600) is None
