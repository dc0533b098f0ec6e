"""The zap (ratio swap) sizing and the LPMigration request's own validation, without a chain."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.dex.uniswap_v3.math.position_math import plan_liquidity
from connectors.dex.uniswap_v3.swap import simulate_swap
from connectors.dex.uniswap_v3.zap import plan_zap
from crosslane.domain.lp_migration import LPMigrationRequest, MigrationKind
from tests.unit.test_dex_v3_math import _snapshot

E18 = 10**18
POOL = [(-887220, 887220, 10**21), (-1200, 1200, 10**22)]


def _liquidity_after(x: int, zero_for_one: bool, a0: int, a1: int, lower: int, upper: int) -> int:
    """Liquidity a mint gets after swapping ``x`` through the same pool (the brute-force check)."""
    snapshot = _snapshot(POOL, tick=0)
    if x == 0:
        return plan_liquidity(snapshot.sqrt_price_x96, 0, lower, upper, a0, a1).liquidity
    sim = simulate_swap(snapshot, zero_for_one, x)
    return plan_liquidity(
        sim.sqrt_price_x96_after, sim.tick_after, lower, upper, a0 - sim.amount0, a1 - sim.amount1
    ).liquidity


@pytest.mark.parametrize(("a0", "a1"), [(100 * E18, 0), (0, 100 * E18), (80 * E18, 5 * E18), (3 * E18, 90 * E18)])
def test_the_swap_size_maximises_the_minted_liquidity(a0: int, a1: int) -> None:
    lower, upper = -600, 1200
    zap = plan_zap(_snapshot(POOL, tick=0), lower, upper, a0, a1)
    zero_for_one = zap.amount0 < a0
    assert zap.token_in == ("0x" + "22" * 20 if zero_for_one else "0x" + "33" * 20)
    best = _liquidity_after(zap.amount_in, zero_for_one, a0, a1, lower, upper)
    assert best == zap.liquidity
    for other in (zap.amount_in * 999 // 1000, zap.amount_in * 1001 // 1000):
        assert _liquidity_after(other, zero_for_one, a0, a1, lower, upper) <= best
    # What is left is dust: a millionth of what there was, or less.
    assert zap.dust0 * 10**6 <= a0 + a1 and zap.dust1 * 10**6 <= a0 + a1
    assert zap.amount0 - zap.dust0 >= 0 and zap.amount1 - zap.dust1 >= 0


def test_amounts_already_at_the_ranges_ratio_need_almost_no_swap() -> None:
    snapshot = _snapshot(POOL, tick=0)
    deposit = plan_liquidity(snapshot.sqrt_price_x96, 0, -600, 600, 10 * E18, 10 * E18)
    zap = plan_zap(snapshot, -600, 600, deposit.amount0, deposit.amount1)
    assert zap.amount_in <= 10**6  # wei of rounding, not a trade


def test_a_range_above_the_price_takes_token0_only_so_all_token1_is_sold() -> None:
    zap = plan_zap(_snapshot(POOL, tick=0), 600, 1200, 0, 50 * E18)
    assert zap.token_in == "0x" + "33" * 20 and zap.amount_in == 50 * E18
    assert zap.amount1 == 0 and zap.liquidity > 0


def _request(**over: object) -> LPMigrationRequest:
    fields: dict[str, object] = {
        "request_id": "m-1",
        "chain": "devnet-a",
        "owner": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "source": {"protocol": "uniswap_v3", "token_id": 7},
        "target": {"fee": 500, "tick_lower": -600, "tick_upper": 600},
        "fees": {"max_fee_per_gas_cap": 10**11},
        **over,
    }
    return LPMigrationRequest.model_validate(fields)


def test_requests_are_checked_before_they_reach_a_worker() -> None:
    assert _request().kind is MigrationKind.V3_TO_V3
    v2 = {"protocol": "uniswap_v2", "token_a": "WETH", "token_b": "USDC"}
    assert _request(source=v2).kind is MigrationKind.V2_TO_V3
    assert _request(source=v2, via_migrator=True).kind is MigrationKind.V2_TO_V3_MIGRATOR
    refused = {
        "tick_lower 600 must be below tick_upper 600": {"target": {"fee": 500, "tick_lower": 600, "tick_upper": 600}},
        "slippage 5001 bps is outside 0-5000": {"slippage_bps": 5001},
        "slippage -1 bps": {"slippage_bps": -1},
        "via_migrator moves V2 liquidity": {"via_migrator": True},
        "token_a and token_b are the same token": {"source": {**v2, "token_b": "WETH"}},
        "greater than 0": {"source": {"protocol": "uniswap_v3", "token_id": 0}},
    }
    for message, over in refused.items():
        with pytest.raises(ValidationError, match=message):
            _request(**over)
