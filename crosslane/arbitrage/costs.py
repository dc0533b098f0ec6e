"""What an arbitrage costs beyond its legs' own prices, in quote base units: gas of every
transaction, the bridge, and the price risk while the asset is in flight.

Every term is linear in size or fixed, so it keeps profit concave. Money is integers
rounded against us (costs up); ``Decimal`` only where a square root is unavoidable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Context, Decimal
from fractions import Fraction

from crosslane.domain.bridge import RouteQuote

APPROVAL_GAS = 46_000
"""An ERC20 ``approve`` from a zero allowance; counted only when the allowance is missing."""

_RISK = Context(prec=40)


def _ceil_mul(amount: int, price: Fraction) -> int:
    return -(-amount * price.numerator // price.denominator)


@dataclass(frozen=True, slots=True)
class ChainGas:
    """Gas on one chain priced in the quote asset: ``fee_per_gas`` wei per gas unit, and
    ``quote_per_wei`` (quote base units per wei of the native coin, e.g. from the chain's
    WETH/USDC pools or a venue's ETH price)."""

    chain: str
    fee_per_gas: int
    quote_per_wei: Fraction

    def cost(self, gas_units: int) -> int:
        return _ceil_mul(gas_units * self.fee_per_gas, self.quote_per_wei)


@dataclass(frozen=True, slots=True)
class TxGas:
    """One transaction an opportunity sends besides its swaps (an approval, a bridge deposit
    or redeem): its gas units on a chain."""

    label: str
    gas: ChainGas
    units: int

    def cost(self) -> int:
        return self.gas.cost(self.units)


def approvals(gas: ChainGas, missing: dict[str, bool]) -> list[TxGas]:
    """An approval transaction for each token (label) whose allowance is missing."""
    return [TxGas(f"approve {token} on {gas.chain}", gas, APPROVAL_GAS) for token, need in missing.items() if need]


@dataclass(frozen=True, slots=True)
class BridgeCost:
    """Moving the asset between chains (transfer mode): a fee proportional to the amount
    plus a fixed part, both in asset base units, and the seconds it is in flight.

    :meth:`from_quote` reads a bridge route's quote (``RouteQuote``, asset base units) for
    ``quoted_amount``: its protocol fee scales with the size, its gas does not.
    """

    route: str
    fee_rate: Fraction
    fixed: int
    seconds: int

    @classmethod
    def from_quote(cls, quote: RouteQuote, quoted_amount: int) -> BridgeCost:
        if quoted_amount <= 0:
            raise ValueError("quoted_amount must be positive")
        return cls(
            route=str(quote.route),
            fee_rate=Fraction(quote.fee, quoted_amount),
            fixed=quote.source_gas + quote.destination_gas,
            seconds=quote.expected_seconds,
        )

    def cost_in_asset(self, size: int) -> int:
        return _ceil_mul(size, self.fee_rate) + self.fixed


@dataclass(frozen=True, slots=True)
class PriceRisk:
    """The price risk of holding the asset while the bridge carries it:
    ``risk_aversion x sigma x sqrt(seconds) x value``, with ``sigma`` the asset's recent
    volatility per square-root second (a relative figure: 0.0001 is 1 bp per sqrt s)."""

    risk_aversion: Decimal
    sigma_per_sqrt_s: Decimal

    def __post_init__(self) -> None:
        if self.risk_aversion < 0 or self.sigma_per_sqrt_s < 0:
            raise ValueError("risk aversion and volatility must not be negative")

    def factor(self, seconds: int) -> Decimal:
        """The share of the value charged for ``seconds`` in flight."""
        return _RISK.multiply(_RISK.multiply(self.risk_aversion, self.sigma_per_sqrt_s), _RISK.sqrt(Decimal(seconds)))

    def cost(self, value: int, seconds: int) -> int:
        """Quote base units charged for ``value`` (quote base units) in flight ``seconds``, rounded up."""
        return int(_RISK.multiply(self.factor(seconds), Decimal(value)).to_integral_value(rounding=ROUND_CEILING))


NO_RISK = PriceRisk(Decimal(0), Decimal(0))
