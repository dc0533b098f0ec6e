"""The pools the devnet seeds, and the exact token amounts each seeding transaction pulls.

Prices are exact fractions (whole token_b per whole token_a): ETH = 3000 USDC = 3000 DAI,
BTC = 20 ETH, DAI = USDC. V3 positions sit in several overlapping and adjacent tick ranges
around the price (plus a full-range one), so a large swap crosses several initialized ticks.

The liquidity provider is the deployer (anvil account 0), which also holds the test tokens
minted to every dev account. Its balances must not change, so the deployment mints it
exactly what the mints will pull: V2 ``addLiquidity`` on a new pair takes the desired
amounts; for V3 the NonfungiblePositionManager sizes liquidity with LiquidityAmounts and
the pool charges the amounts for that liquidity, rounded up. :func:`v3_positions` runs the
same integer math.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import isqrt

from connectors.dex.create2 import sort_tokens
from connectors.dex.uniswap_v3.math.liquidity_amounts import amounts_owed_for_mint, get_liquidity_for_amounts
from connectors.dex.uniswap_v3.math.tick_math import MAX_TICK, MIN_TICK, get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio
from crosslane.domain.chains import TokenInfo

# UniswapV3Factory enables 500/10, 3000/60 and 10000/200 in its constructor; 100/1 is the
# tier Uniswap governance enabled later (enableFeeAmount), and so does the devnet.
V3_FEE_TIERS: dict[int, int] = {100: 1, 500: 10, 3000: 60, 10000: 200}
V3_EXTRA_FEE_TIERS: dict[int, int] = {100: 1}


@dataclass(frozen=True)
class V2PairSeed:
    token_a: str
    token_b: str
    amount_a: int  # whole tokens
    amount_b: int


V2_PAIRS: tuple[V2PairSeed, ...] = (
    V2PairSeed("WETH", "USDC", 500, 1_500_000),
    V2PairSeed("WETH", "DAI", 500, 1_500_000),
    V2PairSeed("WBTC", "WETH", 25, 500),
    V2PairSeed("USDC", "DAI", 1_000_000, 1_000_000),
)


# SushiSwap (a Uniswap V2 fork: same pair code, its own factory) at the same prices, smaller.
SUSHISWAP_PAIRS: tuple[V2PairSeed, ...] = (
    V2PairSeed("WETH", "USDC", 100, 300_000),
    V2PairSeed("WETH", "DAI", 100, 300_000),
)


@dataclass(frozen=True)
class FarmSeed:
    """A MasterChef pool for the SushiSwap pair of ``pair`` (index in SUSHISWAP_PAIRS)."""

    pair: int
    alloc_point: int


# MasterChef as on mainnet: 100 SUSHI a block, x10 (its BONUS_MULTIPLIER) for the bonus
# period; farms share that by alloc points (3:1 here).
SUSHI_PER_BLOCK = 100 * 10**18
MASTERCHEF_BONUS_BLOCKS = 100_000
FARMS: tuple[FarmSeed, ...] = (FarmSeed(0, 300), FarmSeed(1, 100))

# SUSHI's market, as on mainnet a SushiSwap SUSHI/WETH pair: what compounding sells the
# farms' and the incentive's rewards on (1 SUSHI = 1 USDC here).
SUSHI_MARKET_WETH = 100
SUSHI_MARKET_SUSHI = 300_000

# A UniswapV3Staker incentive on WETH/USDC 0.05%, paid in SUSHI: starts shortly after the
# deployment (the staker refuses a start in the past), runs 30 days.
INCENTIVE_POOL = ("WETH", "USDC", 500)
INCENTIVE_REWARD = 1_000_000 * 10**18
INCENTIVE_START_LEAD = 60  # seconds after the deployment's first block
INCENTIVE_DURATION = 30 * 24 * 3600
# The staker's limits, as its mainnet deployment's: 1 month lead, 2 years duration.
STAKER_MAX_START_LEAD = 30 * 24 * 3600
STAKER_MAX_DURATION = 2 * 365 * 24 * 3600


@dataclass(frozen=True)
class RangeSeed:
    """A position over [start + lower, start + upper) ticks, ``start`` being the pool's
    starting tick rounded down to its spacing; ``None`` bounds are the full range. Sized by
    ``size`` whole token_a (and ``size * price`` token_b); the range decides what is used."""

    lower: int | None
    upper: int | None
    size: Fraction


@dataclass(frozen=True)
class V3PoolSeed:
    token_a: str
    token_b: str
    fee: int
    price: Fraction  # whole token_b per whole token_a
    ranges: tuple[RangeSeed, ...]


def _ranges(width: int, size: int) -> tuple[RangeSeed, ...]:
    """Full range; +-width, +-2*width and +-3*width around the price; and one-sided ranges
    adjacent to the narrowest one on each side (token0-only above, token1-only below).
    Wider ranges get more tokens, so depth thins out gradually away from the price."""
    return (
        RangeSeed(None, None, Fraction(size)),
        RangeSeed(-width, width, Fraction(size)),
        RangeSeed(-2 * width, 2 * width, Fraction(3 * size, 2)),
        RangeSeed(-3 * width, 3 * width, Fraction(2 * size)),
        RangeSeed(width, 4 * width, Fraction(size)),
        RangeSeed(-4 * width, -width, Fraction(size)),
    )


V3_POOLS: tuple[V3PoolSeed, ...] = (
    V3PoolSeed("WETH", "USDC", 500, Fraction(3000), _ranges(200, 40)),
    V3PoolSeed("WETH", "USDC", 3000, Fraction(3000), _ranges(600, 60)),
    V3PoolSeed("WBTC", "WETH", 3000, Fraction(20), _ranges(600, 4)),
    V3PoolSeed("USDC", "DAI", 100, Fraction(1), _ranges(10, 200_000)),
)


def fee_label(fee: int) -> str:
    """Pips as a percentage: 3000 -> "0.3%", 100 -> "0.01%"."""
    return f"{Decimal(fee).scaleb(-4).normalize():f}%"


@dataclass(frozen=True)
class V3PositionPlan:
    token0: str  # address
    token1: str
    fee: int
    tick_lower: int
    tick_upper: int
    amount0_desired: int  # base units, what the mint is asked for (sizes its liquidity)
    amount1_desired: int
    liquidity: int
    amount0_owed: int  # base units, exactly what the pool then pulls for that liquidity
    amount1_owed: int


@dataclass(frozen=True)
class V3PoolPlan:
    seed: V3PoolSeed
    token0: str
    token1: str
    sqrt_price_x96: int
    tick: int
    positions: tuple[V3PositionPlan, ...]


def _base(whole: Fraction, token: TokenInfo) -> int:
    return int(whole * 10**token.decimals)  # floor: never more than the seed asks


def sqrt_price_x96(price_1_per_0: Fraction) -> int:
    """floor(sqrt(price) * 2^96) for a raw (base unit) price of token1 in token0."""
    return isqrt(price_1_per_0.numerator * 2**192 // price_1_per_0.denominator)


def v3_pool_plan(seed: V3PoolSeed, tokens: dict[str, TokenInfo]) -> V3PoolPlan:
    a, b = tokens[seed.token_a], tokens[seed.token_b]
    token0, token1 = sort_tokens(a.address, b.address)
    raw_b_per_a = seed.price * Fraction(10**b.decimals, 10**a.decimals)
    raw_price = raw_b_per_a if token0 == a.address else 1 / raw_b_per_a
    sqrt_price = sqrt_price_x96(raw_price)
    tick = get_tick_at_sqrt_ratio(sqrt_price)
    spacing = V3_FEE_TIERS[seed.fee]
    start = tick // spacing * spacing
    positions = []
    for r in seed.ranges:
        lower = -(-MIN_TICK // spacing) * spacing if r.lower is None else start + r.lower
        upper = MAX_TICK // spacing * spacing if r.upper is None else start + r.upper
        want_a, want_b = _base(r.size, a), _base(r.size * seed.price, b)
        want0, want1 = (want_a, want_b) if token0 == a.address else (want_b, want_a)
        liquidity = get_liquidity_for_amounts(
            sqrt_price, get_sqrt_ratio_at_tick(lower), get_sqrt_ratio_at_tick(upper), want0, want1
        )
        owed0, owed1 = amounts_owed_for_mint(sqrt_price, tick, lower, upper, liquidity)
        positions.append(V3PositionPlan(token0, token1, seed.fee, lower, upper, want0, want1, liquidity, owed0, owed1))
    return V3PoolPlan(seed, token0, token1, sqrt_price, tick, tuple(positions))
