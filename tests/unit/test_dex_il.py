"""Impermanent loss, V2 (50/50) and V3 ranges: closed forms, symmetry, the full-range = V2
identity, concentration amplifying the loss, out-of-range behaviour, and agreement with
the pool's own integer math for a real tick range."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from connectors.dex.impermanent_loss import (
    tick_price,
    v2_impermanent_loss,
    v3_impermanent_loss,
    v3_impermanent_loss_ticks,
)
from connectors.dex.uniswap_v3.math.liquidity_amounts import amounts_owed_for_mint
from connectors.dex.uniswap_v3.math.position_math import amounts_for_burn
from connectors.dex.uniswap_v3.math.tick_math import get_sqrt_ratio_at_tick
from crosslane.errors import InvalidRequest

TINY = Decimal("1e-40")
RATIOS = [Decimal("0.01"), Decimal("0.25"), Decimal("0.5"), Decimal("0.9"), Decimal("1.1"), Decimal(2), Decimal(4), 100]


def close(a: Decimal, b: Decimal, tolerance: Decimal = TINY) -> bool:
    return abs(a - b) <= tolerance


def test_v2_no_move_no_loss() -> None:
    il = v2_impermanent_loss(1)
    assert il.loss == 0 and il.value_lp == il.value_hold == 1


@pytest.mark.parametrize(
    ("ratio", "loss"),
    [
        (Decimal(4), Decimal("-0.2")),  # 2*2/5 - 1
        (Decimal("0.25"), Decimal("-0.2")),
        (Decimal(9), Decimal("-0.4")),  # 2*3/10 - 1
    ],
)
def test_v2_closed_form_exact_points(ratio: Decimal, loss: Decimal) -> None:
    assert v2_impermanent_loss(ratio).loss == loss


def test_v2_doubling_is_the_textbook_5_72_percent() -> None:
    loss = v2_impermanent_loss(2).loss
    with localcontext() as ctx:
        ctx.prec = 50
        assert close(loss, 2 * Decimal(2).sqrt() / 3 - 1)
    assert f"{loss:.4%}" == "-5.7191%"


@pytest.mark.parametrize("ratio", RATIOS)
def test_v2_loss_is_symmetric_in_log_price_and_never_positive(ratio: Decimal | int) -> None:
    with localcontext() as ctx:
        ctx.prec = 50
        inverse = 1 / Decimal(ratio)
    up, down = v2_impermanent_loss(ratio), v2_impermanent_loss(inverse)
    assert close(up.loss, down.loss)
    assert up.loss <= 0


@pytest.mark.parametrize("ratio", RATIOS)
def test_v3_full_range_equals_v2(ratio: Decimal | int) -> None:
    v2 = v2_impermanent_loss(ratio)
    v3 = v3_impermanent_loss(0, None, Decimal(3000), ratio)
    assert close(v3.loss, v2.loss)
    assert close(v3.value_lp, v2.value_lp) and close(v3.value_hold, v2.value_hold)


@pytest.mark.parametrize("ratio", [Decimal("0.95"), Decimal("0.98"), Decimal("1.02"), Decimal("1.05")])
def test_concentration_amplifies_the_loss_in_range(ratio: Decimal) -> None:
    v2 = v2_impermanent_loss(ratio).loss
    wide = v3_impermanent_loss(Decimal(2000), Decimal(4500), Decimal(3000), ratio).loss
    narrow = v3_impermanent_loss(Decimal(2850), Decimal(3150), Decimal(3000), ratio).loss
    assert narrow < wide < v2 < 0


def test_v3_no_move_no_loss() -> None:
    assert v3_impermanent_loss(Decimal(2700), Decimal(3300), Decimal(3000), 1).loss == 0


def test_v3_above_the_range_the_position_is_all_token1_and_stops_moving() -> None:
    # Past the upper bound the position holds token1 only: its value (in token1) is fixed,
    # so per unit of entry value it is the same at 1.2x and at 3x.
    at_12 = v3_impermanent_loss(Decimal(2700), Decimal(3300), Decimal(3000), Decimal("1.2"))
    at_30 = v3_impermanent_loss(Decimal(2700), Decimal(3300), Decimal(3000), Decimal(3))
    assert at_12.value_lp == at_30.value_lp
    assert at_30.loss < at_12.loss < 0  # holding keeps gaining, the position does not


def test_v3_below_the_range_the_position_is_all_token0() -> None:
    # Below the lower bound the position is token0 only: its value tracks the price 1:1.
    a = v3_impermanent_loss(Decimal(2700), Decimal(3300), Decimal(3000), Decimal("0.8"))
    b = v3_impermanent_loss(Decimal(2700), Decimal(3300), Decimal(3000), Decimal("0.4"))
    assert close(a.value_lp / b.value_lp, Decimal(2))


def test_v3_matches_the_pools_integer_math_for_a_tick_range() -> None:
    """Value of real V3 amounts (mint at tick 0, burn at tick 300 of [-600, 600)) vs holding."""
    liquidity = 10**30
    lower, upper, entry, exit_tick = -600, 600, 0, 300
    in0, in1 = amounts_owed_for_mint(get_sqrt_ratio_at_tick(entry), entry, lower, upper, liquidity)
    out0, out1 = amounts_for_burn(get_sqrt_ratio_at_tick(exit_tick), exit_tick, lower, upper, liquidity)
    with localcontext() as ctx:
        ctx.prec = 50
        price = (Decimal(get_sqrt_ratio_at_tick(exit_tick)) / Decimal(2**96)) ** 2
        integer_loss = (out0 * price + out1) / (in0 * price + in1) - 1
    exact = v3_impermanent_loss_ticks(lower, upper, entry, price)
    assert exact.loss < 0
    assert close(exact.loss, integer_loss, Decimal("1e-20"))


def test_tick_price() -> None:
    assert tick_price(0) == 1
    assert tick_price(1) == Decimal("1.0001")
    assert close(tick_price(-10) * tick_price(10), Decimal(1))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: v2_impermanent_loss(2.0), "never float"),
        (lambda: v2_impermanent_loss(0), "must be positive"),
        (lambda: v2_impermanent_loss("abc"), "not a number"),
        (lambda: v2_impermanent_loss("Infinity"), "must be finite"),
        (lambda: v3_impermanent_loss(3300, 2700, 3000, 2), "must be above price_lower"),
        (lambda: v3_impermanent_loss(-1, 2700, 3000, 2), "must be positive"),
        (lambda: tick_price(1.5), "tick must be an int"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_refused(call: object, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        call()  # type: ignore[operator]
