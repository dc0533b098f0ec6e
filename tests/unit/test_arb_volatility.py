"""The volatility estimator's contract on known series: a steady move answers its own size
per square-root second whatever the half-life; a calm series then one jump answers the
time-weighted share of that jump; samples out of order or at bad prices are ignored; no
figure until enough returns."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from crosslane.arbitrage import PriceRisk
from crosslane.arbitrage.volatility import EwmaVolatility


def fed(series: list[tuple[int, float]], **kw: float) -> EwmaVolatility:
    estimator = EwmaVolatility(**kw)  # type: ignore[arg-type]
    for t_ms, price in series:
        estimator.observe(t_ms, price)
    return estimator


@pytest.mark.parametrize("half_life_s", [1.0, 60.0])
def test_a_steady_zigzag_answers_its_step_per_square_root_second(half_life_s: float) -> None:
    """100, 101, 100, 101... every 4 s: each step moves |ln(1.01)| in 4 s, i.e. ln(1.01)/2 per sqrt s."""
    series = [(i * 4_000, 101.0 if i % 2 else 100.0) for i in range(21)]
    estimator = fed(series, half_life_s=half_life_s, min_returns=20)
    assert estimator.returns == 20
    assert estimator.sigma == pytest.approx(math.log(1.01) / 2, rel=1e-12)


def test_a_jump_after_a_calm_spell_weighs_by_the_time_it_took() -> None:
    """Two flat steps (variance 0), then a 1 % log jump in 1 s with a 1 s half-life: the
    estimate moves half way, to 0.5 x 0.01**2 per second."""
    jump = 100.0 * math.exp(0.01)
    estimator = fed([(0, 100.0), (1_000, 100.0), (2_000, 100.0), (3_000, jump)], half_life_s=1.0, min_returns=3)
    assert estimator.sigma == pytest.approx(math.sqrt(0.5 * 0.01**2), rel=1e-12)
    # a 3 s step with the same half-life moves it 7/8 of the way
    later = fed([(0, 100.0), (1_000, 100.0), (4_000, 100.0 * math.exp(0.03))], half_life_s=1.0, min_returns=2)
    assert later.sigma == pytest.approx(math.sqrt(7 / 8 * 0.03**2 / 3), rel=1e-12)


def test_no_figure_until_enough_returns_and_bad_samples_are_ignored() -> None:
    estimator = EwmaVolatility(half_life_s=10.0, min_returns=2)
    assert not estimator.observe(1_000, 100.0)  # the first sample only anchors
    assert estimator.observe(2_000, 101.0) and estimator.sigma is None  # one return of two
    assert not estimator.observe(2_000, 150.0)  # not later than the last
    assert not estimator.observe(1_500, 150.0)
    assert not estimator.observe(3_000, 0.0) and not estimator.observe(3_000, float("nan"))
    assert estimator.observe(3_000, 100.0)
    assert estimator.returns == 2 and estimator.sigma == pytest.approx(math.log(1.01), rel=1e-12)
    with pytest.raises(ValueError):
        EwmaVolatility(half_life_s=0)


def test_the_figure_scales_to_the_time_in_flight_as_the_price_risk_charges_it() -> None:
    """sigma x sqrt(T): 1 bp per sqrt s over 100 s in flight is 10 bp of the value."""
    steady = fed([(i * 1_000, 100.0 * math.exp(0.0001 * (i % 2))) for i in range(11)], min_returns=10)
    assert steady.sigma == pytest.approx(0.0001, rel=1e-9)
    risk = PriceRisk(Decimal(1), Decimal(f"{steady.sigma:.6g}"))
    assert risk.cost(1_000_000, 100) == 1_000  # 10 bp of 1,000,000
