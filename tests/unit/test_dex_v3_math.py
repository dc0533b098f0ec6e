"""Uniswap V3 integer math ported to Python: boundaries, round trips, rounding, reverts.

Exactness against the real contracts is proven end to end in
tests/integration/test_uniswap_quotes.py (QuoterV2 to the wei); these pin the pieces.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from connectors.dex.base import DexProtocol, Pool
from connectors.dex.uniswap_v3.math import MathRevert
from connectors.dex.uniswap_v3.math.bit_math import least_significant_bit, most_significant_bit
from connectors.dex.uniswap_v3.math.full_math import (
    Q96,
    Q128,
    UINT256_MAX,
    div_rounding_up,
    mul_div,
    mul_div_rounding_up,
)
from connectors.dex.uniswap_v3.math.liquidity_amounts import amounts_owed_for_mint, get_liquidity_for_amounts
from connectors.dex.uniswap_v3.math.liquidity_math import add_delta
from connectors.dex.uniswap_v3.math.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)
from connectors.dex.uniswap_v3.math.swap_math import compute_swap_step
from connectors.dex.uniswap_v3.math.tick_bitmap import next_initialized_tick_within_one_word
from connectors.dex.uniswap_v3.math.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from connectors.dex.uniswap_v3.swap import PoolSnapshot, TickDataMissing, simulate_swap

E18 = 10**18

# --- TickMath -------------------------------------------------------------------------


def test_sqrt_ratio_at_boundary_ticks() -> None:
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO == 4295128739
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO == 1461446703485210103287273052203988822378723970342
    assert get_sqrt_ratio_at_tick(0) == Q96
    assert get_sqrt_ratio_at_tick(MIN_TICK + 1) == 4295343490
    assert get_sqrt_ratio_at_tick(MAX_TICK - 1) == 1461373636630004318706518188784493106690254656249


@pytest.mark.parametrize("tick", [MIN_TICK - 1, MAX_TICK + 1, 2**23])
def test_sqrt_ratio_refuses_ticks_out_of_range(tick: int) -> None:
    with pytest.raises(MathRevert, match="T"):
        get_sqrt_ratio_at_tick(tick)


def test_tick_at_boundary_sqrt_ratios() -> None:
    assert get_tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert get_tick_at_sqrt_ratio(MIN_SQRT_RATIO + 1) == MIN_TICK
    assert get_tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1
    assert get_tick_at_sqrt_ratio(Q96) == 0
    assert get_tick_at_sqrt_ratio(Q96 - 1) == -1
    for bad in (MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO, 0):
        with pytest.raises(MathRevert, match="R"):
            get_tick_at_sqrt_ratio(bad)


def _ticks_to_check() -> list[int]:
    ticks = {MIN_TICK, MIN_TICK + 1, MAX_TICK - 1, -1, 0, 1, 50, -50, 887271, -276325, 276324, 200_000}
    ticks |= {sign * (1 << bit) for bit in range(20) for sign in (1, -1) if (1 << bit) <= MAX_TICK}
    ticks |= set(range(-300, 301, 7)) | set(range(MIN_TICK, MAX_TICK, 7919))
    return sorted(ticks)


@pytest.mark.parametrize("tick", _ticks_to_check())
def test_tick_sqrt_price_round_trip(tick: int) -> None:
    sqrt_price = get_sqrt_ratio_at_tick(tick)
    assert get_tick_at_sqrt_ratio(sqrt_price) == tick
    if tick > MIN_TICK:
        # The greatest tick whose price is <= the argument: one wei below is the tick before.
        assert get_tick_at_sqrt_ratio(sqrt_price - 1) == tick - 1
    if tick < MAX_TICK - 1:
        assert get_tick_at_sqrt_ratio(get_sqrt_ratio_at_tick(tick + 1) - 1) == tick


@pytest.mark.parametrize("tick", [MIN_TICK, -500_000, -50_000, -1, 1, 10, 50_000, 500_000, MAX_TICK])
def test_sqrt_ratio_close_to_real_value(tick: int) -> None:
    """sqrt(1.0001^tick) * 2^96 (60 digits) rounded up: within 1e-14 relative, plus the
    one unit of rounding that dominates at the low end (MIN_SQRT_RATIO is only ~4.3e9)."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = (Decimal("1.0001") ** tick).sqrt() * Decimal(Q96)
        assert abs(Decimal(get_sqrt_ratio_at_tick(tick)) - exact) < 1 + exact * Decimal("1e-14")


def test_sqrt_ratio_is_monotonic() -> None:
    previous = 0
    for tick in range(-1000, 1000):
        current = get_sqrt_ratio_at_tick(tick)
        assert current > previous
        previous = current


# --- FullMath / UnsafeMath ------------------------------------------------------------


def test_mul_div_rounding() -> None:
    assert mul_div(3, 5, 2) == 7
    assert mul_div_rounding_up(3, 5, 2) == 8
    assert mul_div(6, 5, 3) == mul_div_rounding_up(6, 5, 3) == 10  # exact: no rounding up
    assert mul_div(Q128, 50 * Q128 // 100, 150 * Q128 // 100) == Q128 // 3
    assert mul_div_rounding_up(Q128, 50 * Q128 // 100, 150 * Q128 // 100) == Q128 // 3 + 1
    # Phantom overflow: the 512-bit product is fine as long as the result fits.
    assert mul_div(UINT256_MAX, UINT256_MAX, UINT256_MAX) == UINT256_MAX
    assert mul_div(Q128, 35 * Q128, 8 * Q128) == 4375 * Q128 // 1000


def test_mul_div_reverts_like_solidity() -> None:
    with pytest.raises(MathRevert):
        mul_div(Q128, 5, 0)
    with pytest.raises(MathRevert):
        mul_div(UINT256_MAX, UINT256_MAX, UINT256_MAX - 1)  # result overflows uint256
    # v3-core's FullMath test: fits before rounding up, overflows after.
    with pytest.raises(MathRevert):
        mul_div_rounding_up(535006138814359, 432862656469423142931042426214547535783388063929571229938474969, 2)
    with pytest.raises(MathRevert):
        mul_div_rounding_up(UINT256_MAX, UINT256_MAX, UINT256_MAX - 1)


def test_div_rounding_up_follows_evm_division() -> None:
    assert div_rounding_up(7, 2) == 4
    assert div_rounding_up(8, 2) == 4
    assert div_rounding_up(0, 3) == 0
    assert div_rounding_up(5, 0) == 0  # EVM div by zero is 0


def test_bit_math() -> None:
    assert most_significant_bit(1) == least_significant_bit(1) == 0
    assert most_significant_bit(UINT256_MAX) == 255
    assert least_significant_bit(UINT256_MAX) == 0
    assert most_significant_bit(1 << 255) == least_significant_bit(1 << 255) == 255
    assert most_significant_bit(0b1011000) == 6 and least_significant_bit(0b1011000) == 3
    with pytest.raises(MathRevert):
        most_significant_bit(0)


# --- SqrtPriceMath / SwapMath / LiquidityMath ---------------------------------------


def test_amount_deltas_round_in_favour_of_the_pool() -> None:
    a, b = get_sqrt_ratio_at_tick(-600), get_sqrt_ratio_at_tick(600)
    liquidity = 12_345_678_901_234_567_890
    for fn in (get_amount0_delta, get_amount1_delta):
        down, up = fn(a, b, liquidity, False), fn(a, b, liquidity, True)
        assert up - down in (0, 1)
        assert fn(b, a, liquidity, True) == up  # argument order does not matter
    assert get_amount1_delta(Q96, Q96, E18, True) == 0


def test_next_price_moves_the_right_way_and_reverts_past_the_reserve() -> None:
    price, liquidity = Q96, E18
    assert get_next_sqrt_price_from_input(price, liquidity, E18 // 10, True) < price  # token0 in: price falls
    assert get_next_sqrt_price_from_input(price, liquidity, E18 // 10, False) > price
    assert get_next_sqrt_price_from_input(price, liquidity, 0, True) == price
    # Output of token1 larger than the virtual reserve (L * sqrtP = 1e18): impossible.
    with pytest.raises(MathRevert):
        get_next_sqrt_price_from_output(price, liquidity, E18, True)
    with pytest.raises(MathRevert):
        get_next_sqrt_price_from_input(0, liquidity, 1, True)


def test_swap_step_exact_in_within_range_charges_the_rest_as_fee() -> None:
    price, target = Q96, get_sqrt_ratio_at_tick(-10_000)
    step = compute_swap_step(price, target, 2 * E18, 10**15, 3000)
    assert step.sqrt_price_next_x96 > target  # did not reach the target
    assert step.amount_in + step.fee_amount == 10**15
    assert step.fee_amount >= 10**15 * 3000 // 10**6


def test_swap_step_capped_at_target() -> None:
    price, target = Q96, get_sqrt_ratio_at_tick(100)
    step = compute_swap_step(price, target, 2 * E18, E18, 600)
    assert step.sqrt_price_next_x96 == target
    assert step.amount_in == get_amount1_delta(price, target, 2 * E18, True)
    assert step.fee_amount == mul_div_rounding_up(step.amount_in, 600, 10**6 - 600)
    assert step.amount_out == get_amount0_delta(price, target, 2 * E18, False)


def test_swap_step_exact_out_never_exceeds_request() -> None:
    price, target = Q96, get_sqrt_ratio_at_tick(-5000)
    step = compute_swap_step(price, target, 3 * E18, -(10**16), 500)
    assert step.amount_out == 10**16
    assert step.sqrt_price_next_x96 > target


def test_add_delta_bounds() -> None:
    assert add_delta(10, -10) == 0
    assert add_delta(10, 5) == 15
    with pytest.raises(MathRevert, match="LS"):
        add_delta(10, -11)
    with pytest.raises(MathRevert, match="LA"):
        add_delta(2**128 - 1, 1)


def test_liquidity_for_amounts_and_back() -> None:
    price = get_sqrt_ratio_at_tick(37)
    lower, upper = -600, 600
    liquidity = get_liquidity_for_amounts(
        price, get_sqrt_ratio_at_tick(lower), get_sqrt_ratio_at_tick(upper), 5 * E18, 7 * E18
    )
    owed0, owed1 = amounts_owed_for_mint(price, 37, lower, upper, liquidity)
    assert 0 < owed0 <= 5 * E18 and 0 < owed1 <= 7 * E18
    assert min(5 * E18 - owed0, 7 * E18 - owed1) <= 2  # the binding side is used up to rounding
    assert amounts_owed_for_mint(price, 37, 600, 1200, liquidity)[1] == 0  # above the price: token0 only
    assert amounts_owed_for_mint(price, 37, -1200, -600, liquidity)[0] == 0


# --- TickBitmap and the swap loop --------------------------------------------------------


def test_next_initialized_tick_within_one_word() -> None:
    # Ticks 120 and -60 initialized at spacing 60 (compressed 2 and -1).
    bitmap = {0: 1 << 2, -1: 1 << 255}
    assert next_initialized_tick_within_one_word(bitmap, 100, 60, True) == (0, False)  # word 0 start
    assert next_initialized_tick_within_one_word(bitmap, 130, 60, True) == (120, True)
    assert next_initialized_tick_within_one_word(bitmap, 0, 60, False) == (120, True)
    assert next_initialized_tick_within_one_word(bitmap, 120, 60, False) == (255 * 60, False)
    assert next_initialized_tick_within_one_word(bitmap, -1, 60, True) == (-60, True)  # rounds to -inf
    assert next_initialized_tick_within_one_word(bitmap, -60, 60, True) == (-60, True)


def _snapshot(positions: list[tuple[int, int, int]], tick: int, spacing: int = 60, fee: int = 3000) -> PoolSnapshot:
    """A pool with ``(lower, upper, liquidity)`` positions, built the way mints build it."""
    net: dict[int, int] = {}
    active = 0
    for lower, upper, liquidity in positions:
        net[lower] = net.get(lower, 0) + liquidity
        net[upper] = net.get(upper, 0) - liquidity
        if lower <= tick < upper:
            active += liquidity
    bitmap = {w: 0 for w in range(-58, 58)}
    for t in net:
        word, bit = (t // spacing) >> 8, (t // spacing) % 256
        bitmap[word] |= 1 << bit
    pool = Pool(DexProtocol.UNISWAP_V3, "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, fee, spacing)
    return PoolSnapshot(pool, get_sqrt_ratio_at_tick(tick), tick, active, bitmap, net, 1)


def test_swap_crosses_initialized_ticks_and_conserves_liquidity() -> None:
    snapshot = _snapshot([(-887220, 887220, 10**20), (-600, 600, 10**21), (-1200, -600, 10**21)], tick=0)
    result = simulate_swap(snapshot, True, 200 * E18)
    assert result.initialized_ticks_crossed >= 2
    assert result.amount0 == 200 * E18 and result.amount1 < 0
    assert result.tick_after < -600
    # Swapping the output back exactly lands no higher than the start (fees stay in the pool).
    back = simulate_swap(
        PoolSnapshot(
            snapshot.pool,
            result.sqrt_price_x96_after,
            result.tick_after,
            result.liquidity_after,
            snapshot.bitmap,
            snapshot.liquidity_net,
            1,
        ),
        False,
        -result.amount1,
    )
    assert -back.amount0 < 200 * E18


def test_exact_out_is_the_inverse_of_exact_in() -> None:
    snapshot = _snapshot([(-887220, 887220, 10**20), (-600, 600, 10**21)], tick=5)
    exact_in = simulate_swap(snapshot, False, 50 * E18)
    exact_out = simulate_swap(snapshot, False, exact_in.amount0)  # amount0 < 0: exact output
    assert exact_out.amount0 == exact_in.amount0
    assert 0 <= exact_in.amount1 - exact_out.amount1 <= 1  # input needed: at most the original


def test_swap_needs_the_words_it_walks_through() -> None:
    snapshot = _snapshot([(-887220, 887220, 10**18)], tick=0)
    narrow = PoolSnapshot(snapshot.pool, snapshot.sqrt_price_x96, 0, snapshot.liquidity, {0: 0, -1: 0}, {}, 1)
    with pytest.raises(TickDataMissing) as missing:
        simulate_swap(narrow, True, 10**30)
    assert missing.value.word == -2


def test_swap_reverts_like_the_pool() -> None:
    snapshot = _snapshot([(-600, 600, 10**21)], tick=0)
    with pytest.raises(MathRevert, match="AS"):
        simulate_swap(snapshot, True, 0)
    with pytest.raises(MathRevert, match="SPL"):
        simulate_swap(snapshot, True, 10, sqrt_price_limit_x96=snapshot.sqrt_price_x96 + 1)
