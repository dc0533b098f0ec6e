"""UniswapV2Library's quote math and the CREATE2 addresses of real mainnet pools."""

from __future__ import annotations

import pytest

from connectors.dex.create2 import sort_tokens, v2_pair_address, v3_pool_address
from connectors.dex.errors import InsufficientLiquidity
from connectors.dex.uniswap_v2.config import UNISWAP_V2_INIT_CODE_HASH, UniswapV2Config
from connectors.dex.uniswap_v2.math import get_amount_in, get_amount_out
from connectors.dex.uniswap_v3.config import UNISWAP_V3_INIT_CODE_HASH, UniswapV3Config

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
V2_FACTORY = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"
V3_FACTORY = "0x1F98431c8aD98523631AE4a59f267346ea31F984"


def _library_get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut verbatim: 997/1000."""
    amount_in_with_fee = amount_in * 997
    return amount_in_with_fee * reserve_out // (reserve_in * 1000 + amount_in_with_fee)


def _library_get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


@pytest.mark.parametrize("amount", [1, 999, 10**6, 123_456_789_012, 10**18, 7 * 10**21])
@pytest.mark.parametrize("reserves", [(10**21, 3 * 10**12), (5 * 10**9, 10**22), (1000, 1000)])
def test_pips_fee_matches_the_library_exactly(amount: int, reserves: tuple[int, int]) -> None:
    reserve_in, reserve_out = reserves
    assert get_amount_out(amount, reserve_in, reserve_out, 3000) == _library_get_amount_out(amount, *reserves)
    if amount < reserve_out:
        assert get_amount_in(amount, reserve_in, reserve_out, 3000) == _library_get_amount_in(amount, *reserves)


def test_exact_out_round_trip_and_limits() -> None:
    reserve_in, reserve_out = 10**21, 3 * 10**12
    amount_in = get_amount_in(10**9, reserve_in, reserve_out, 3000)
    assert get_amount_out(amount_in, reserve_in, reserve_out, 3000) >= 10**9
    assert get_amount_out(amount_in - 1, reserve_in, reserve_out, 3000) < 10**9 or amount_in == 1
    with pytest.raises(InsufficientLiquidity):
        get_amount_in(reserve_out, reserve_in, reserve_out, 3000)
    with pytest.raises(InsufficientLiquidity):
        get_amount_out(1, 0, reserve_out, 3000)


def test_forks_fee_in_pips() -> None:
    """PancakeSwap V2's 0.25% (9975/10000) is 2500 pips."""
    amount_in_with_fee = 10**18 * 9975
    expected = amount_in_with_fee * 10**22 // (10**21 * 10000 + amount_in_with_fee)
    assert get_amount_out(10**18, 10**21, 10**22, 2500) == expected


def test_create2_reproduces_mainnet_addresses() -> None:
    assert v2_pair_address(V2_FACTORY, UNISWAP_V2_INIT_CODE_HASH, WETH, USDC) == (
        "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
    )
    assert v3_pool_address(V3_FACTORY, UNISWAP_V3_INIT_CODE_HASH, WETH, USDC, 500) == (
        "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"
    )
    assert v3_pool_address(V3_FACTORY, UNISWAP_V3_INIT_CODE_HASH, USDC, WETH, 3000) == (
        "0x8ad599c3A0ff1De082011EFDDc58f1908eb6e6D8"
    )


def test_sort_tokens() -> None:
    assert sort_tokens(WETH, USDC) == (USDC, WETH)
    with pytest.raises(ValueError):
        sort_tokens(WETH, WETH.lower())


def test_configs_validate_addresses_and_hashes() -> None:
    config = UniswapV2Config(factory=V2_FACTORY.lower())
    assert config.factory == V2_FACTORY and config.init_code_hash == UNISWAP_V2_INIT_CODE_HASH
    with pytest.raises(ValueError, match="not an address"):
        UniswapV2Config(factory="0x1234")
    with pytest.raises(ValueError, match="32-byte"):
        UniswapV3Config(factory=V3_FACTORY, init_code_hash="0xabc")
    with pytest.raises(ValueError, match="fee tier"):
        UniswapV3Config(factory=V3_FACTORY, fee_tiers={500: 0})
    assert UniswapV3Config(factory=V3_FACTORY).deployer == V3_FACTORY
