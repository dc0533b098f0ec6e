"""V3Migrator calldata: Uniswap's own V2 → V3 move (burn the V2 LP tokens, mint a V3 position
with what they release, refund the rest to the caller) in one transaction."""

from __future__ import annotations

from eth_abi.abi import encode as abi_encode

from connectors.dex.reads import selector

_MIGRATE = selector(
    "migrate((address,uint256,uint8,address,address,uint24,int24,int24,uint256,uint256,address,uint256,bool))"
)


def migrate_calldata(
    pair: str,
    liquidity_to_migrate: int,
    token0: str,
    token1: str,
    fee: int,
    tick_lower: int,
    tick_upper: int,
    amount0_min: int,
    amount1_min: int,
    recipient: str,
    deadline: int,
) -> bytes:
    """migrate(MigrateParams) of all ``liquidity_to_migrate`` (percentageToMigrate 100); the
    mins bound the V3 mint; leftovers are refunded as tokens (refundAsETH false)."""
    params = (
        pair,
        liquidity_to_migrate,
        100,
        token0,
        token1,
        fee,
        tick_lower,
        tick_upper,
        amount0_min,
        amount1_min,
        recipient,
        deadline,
        False,
    )
    return _MIGRATE + abi_encode(
        ["(address,uint256,uint8,address,address,uint24,int24,int24,uint256,uint256,address,uint256,bool)"], [params]
    )
