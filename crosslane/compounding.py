"""Compounding arithmetic (pure): the profit gate, APR from an observed harvest, the
break-even and optimal compounding intervals, and net APY.

Values are in one unit (wei of ETH here), times in seconds. The gate is Yearn's
``harvestTrigger`` / Beefy's harvest-caller rule: compound only when the gas it costs is at
most ``fraction`` of the rewards it compounds.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from crosslane.domain.yield_compound import Gate

SECONDS_PER_YEAR = 365 * 24 * 3600


def gate_passes(reward_value: int, gas_cost: int, fraction: Decimal) -> bool:
    """True when ``gas_cost <= reward_value × fraction`` (exact in integers)."""
    return Decimal(gas_cost) <= Decimal(reward_value) * fraction


def observed_apr(reward_value: int, principal: int, elapsed_seconds: int) -> Decimal | None:
    """Simple annual rate of ``reward_value`` earned on ``principal`` over ``elapsed_seconds``."""
    if principal <= 0 or elapsed_seconds <= 0:
        return None
    return Decimal(reward_value) / Decimal(principal) * SECONDS_PER_YEAR / elapsed_seconds


def break_even_seconds(gas_cost: int, principal: int, apr: Decimal | None, fraction: Decimal) -> int | None:
    """Shortest interval whose accrued rewards pass the gate: rewards(t) × fraction = gas,
    rewards(t) = principal × apr × t / year."""
    if apr is None or apr <= 0 or principal <= 0 or fraction <= 0:
        return None
    return int((Decimal(gas_cost) * SECONDS_PER_YEAR / (Decimal(principal) * apr * fraction)).to_integral_value())


def optimal_interval_seconds(gas_cost: int, principal: int, apr: Decimal | None) -> int | None:
    """Interval minimising (compounding lost vs continuous) + (gas per year):
    principal·apr²·t/(2·year) + gas·year/t, so t* = year/apr · √(2·gas/principal)."""
    if apr is None or apr <= 0 or principal <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        root = (2 * Decimal(gas_cost) / Decimal(principal)).sqrt()
        return int((SECONDS_PER_YEAR / apr * root).to_integral_value())


def net_apr(earned: int, gas: int, principal: int, elapsed_seconds: int) -> Decimal | None:
    """(earned − gas) on principal over elapsed, per year."""
    return observed_apr(earned - gas, principal, elapsed_seconds)


def apy(apr: Decimal | None, interval_seconds: int) -> Decimal | None:
    """``apr`` compounded every ``interval_seconds``: (1 + apr·t/year)^(year/t) − 1."""
    if apr is None or interval_seconds <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        periods = Decimal(SECONDS_PER_YEAR) / interval_seconds
        base = 1 + apr * interval_seconds / SECONDS_PER_YEAR
        if base <= 0:
            return Decimal(-1)
        return (base.ln() * periods).exp() - 1


def decide_gate(
    *,
    reward: int,
    reward_value: int,
    reward_label: str,
    gas_units: int,
    gas_price: int,
    position_value: int,
    elapsed_seconds: int | None,
    fraction: Decimal,
) -> Gate:
    """The profit gate with its figures: APR from ``reward_value`` accrued over
    ``elapsed_seconds`` (None: no earlier harvest to measure from), the break-even and the
    optimal interval at that APR."""
    gas_cost = gas_units * gas_price
    rate = observed_apr(reward_value, position_value, elapsed_seconds) if elapsed_seconds else None
    proceed = gate_passes(reward_value, gas_cost, fraction)
    if proceed:
        reason = f"gas {gas_cost} wei is within {fraction} of the rewards' value {reward_value} wei"
    else:
        reason = (
            f"skipped: gas to compound {gas_cost} wei exceeds {fraction} of the rewards' value"
            f" {reward_value} wei ({reward} base units of {reward_label})"
        )
    return Gate(
        proceed=proceed,
        reason=reason,
        reward=reward,
        reward_value_wei=reward_value,
        gas_estimate=gas_units,
        gas_price_wei=gas_price,
        gas_cost_wei=gas_cost,
        position_value_wei=position_value,
        apr=None if rate is None else rate.quantize(Decimal("1e-9")),
        break_even_seconds=break_even_seconds(gas_cost, position_value, rate, fraction),
        optimal_interval_seconds=optimal_interval_seconds(gas_cost, position_value, rate),
    )
