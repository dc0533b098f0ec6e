"""NonfungiblePositionManager calldata (mint, increaseLiquidity, decreaseLiquidity, collect,
burn) and the tick-range check a mint needs before it is sent.

The manager wraps each position (a tick range of one pool) in an ERC721 token. Amounts are
token base units; deadlines unix seconds; liquidity the pool's uint128 units.
"""

from __future__ import annotations

from eth_abi.abi import encode as abi_encode

from connectors.dex.reads import selector
from connectors.dex.uniswap_v3.math.full_math import UINT128_MAX
from connectors.dex.uniswap_v3.math.tick_math import MAX_TICK, MIN_TICK
from crosslane.errors import InvalidRequest

_MINT = selector("mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))")
_INCREASE = selector("increaseLiquidity((uint256,uint256,uint256,uint256,uint256,uint256))")
_DECREASE = selector("decreaseLiquidity((uint256,uint128,uint256,uint256,uint256))")
_COLLECT = selector("collect((uint256,address,uint128,uint128))")
_BURN = selector("burn(uint256)")


def check_tick_range(tick_lower: int, tick_upper: int, tick_spacing: int) -> None:
    """Refuse a range the pool would reject (or revert on without a reason): bounds out of
    order or outside [MIN_TICK, MAX_TICK], or not multiples of the pool's tick spacing."""
    if tick_lower >= tick_upper:
        raise InvalidRequest(f"tick_lower {tick_lower} must be below tick_upper {tick_upper}")
    if tick_lower < MIN_TICK or tick_upper > MAX_TICK:
        raise InvalidRequest(f"tick range [{tick_lower}, {tick_upper}) leaves [{MIN_TICK}, {MAX_TICK}]")
    misaligned = [t for t in (tick_lower, tick_upper) if t % tick_spacing]
    if misaligned:
        hints = ", ".join(
            f"{t} (nearest {t // tick_spacing * tick_spacing} or {t // tick_spacing * tick_spacing + tick_spacing})"
            for t in misaligned
        )
        raise InvalidRequest(
            f"tick range [{tick_lower}, {tick_upper}) is not aligned to the pool's tick spacing {tick_spacing}: {hints}"
        )


def mint_calldata(
    token0: str,
    token1: str,
    fee: int,
    tick_lower: int,
    tick_upper: int,
    amount0_desired: int,
    amount1_desired: int,
    amount0_min: int,
    amount1_min: int,
    recipient: str,
    deadline: int,
) -> bytes:
    """mint(MintParams): a new NFT for ``recipient``; token0 < token1 (the pool's order)."""
    params = (
        token0,
        token1,
        fee,
        tick_lower,
        tick_upper,
        amount0_desired,
        amount1_desired,
        amount0_min,
        amount1_min,
        recipient,
        deadline,
    )
    return _MINT + abi_encode(
        ["(address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256)"], [params]
    )


def increase_liquidity_calldata(
    token_id: int, amount0_desired: int, amount1_desired: int, amount0_min: int, amount1_min: int, deadline: int
) -> bytes:
    """increaseLiquidity(IncreaseLiquidityParams): anyone may add to any NFT; tokens come from the sender."""
    params = (token_id, amount0_desired, amount1_desired, amount0_min, amount1_min, deadline)
    return _INCREASE + abi_encode(["(uint256,uint256,uint256,uint256,uint256,uint256)"], [params])


def decrease_liquidity_calldata(
    token_id: int, liquidity: int, amount0_min: int, amount1_min: int, deadline: int
) -> bytes:
    """decreaseLiquidity(DecreaseLiquidityParams): the released tokens become owed to the NFT
    (``tokensOwed``) and leave the pool only with a ``collect``."""
    params = (token_id, liquidity, amount0_min, amount1_min, deadline)
    return _DECREASE + abi_encode(["(uint256,uint128,uint256,uint256,uint256)"], [params])


def collect_calldata(
    token_id: int, recipient: str, amount0_max: int = UINT128_MAX, amount1_max: int = UINT128_MAX
) -> bytes:
    """collect(CollectParams): fees and released principal, up to the maxima (default: all)."""
    return _COLLECT + abi_encode(
        ["(uint256,address,uint128,uint128)"], [(token_id, recipient, amount0_max, amount1_max)]
    )


def burn_calldata(token_id: int) -> bytes:
    """burn(tokenId): only once liquidity and tokens owed are zero ('Not cleared' otherwise)."""
    return _BURN + abi_encode(["uint256"], [token_id])
