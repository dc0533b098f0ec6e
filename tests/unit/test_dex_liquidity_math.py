"""Liquidity pieces without a chain: V3 position accounting (fee growth with uint256
wrap-around, tokens owed, burn amounts), V2 LP-token math, slippage and deadline bounds,
approvals, tick-range checks, and calldata checked against the real contracts' ABIs.

Exactness against the deployed contracts (fees to the wei, event amounts) is proven end to
end in tests/e2e/test_dex_liquidity.py.
"""

from __future__ import annotations

import time
from math import isqrt

import pytest
from web3 import Web3

from connectors.dex.liquidity_bounds import amount_min, require_deadline, require_slippage, resolve_deadline
from connectors.dex.liquidity_plan import Approval, TokenNeed, approvals_for, token_pair
from connectors.dex.receipts import EventLog
from connectors.dex.uniswap_v2 import liquidity as v2
from connectors.dex.uniswap_v3 import events as v3_events
from connectors.dex.uniswap_v3 import position_manager as npm
from connectors.dex.uniswap_v3.math.full_math import Q128, UINT128_MAX, UINT256_MAX
from connectors.dex.uniswap_v3.math.liquidity_amounts import amounts_owed_for_mint
from connectors.dex.uniswap_v3.math.position_math import (
    amounts_for_burn,
    fee_growth_inside,
    fees_earned,
    plan_liquidity,
    uncollected,
)
from connectors.dex.uniswap_v3.math.tick_math import get_sqrt_ratio_at_tick
from crosslane.errors import InsufficientBalance, InvalidRequest
from devnet.uniswap_artifacts import artifact

A = "0x1111111111111111111111111111111111111111"
B = "0x2222222222222222222222222222222222222222"
OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
E18 = 10**18

# --- V3 fee growth and tokens owed -------------------------------------------------------


def test_fee_growth_inside_in_range_below_and_above() -> None:
    g, lo, up = 1_000, 300, 200
    assert fee_growth_inside(-60, 60, 0, g, lo, up) == g - lo - up  # inside
    assert fee_growth_inside(-60, 60, -100, g, lo, up) == lo - up  # below: g - (g - lo) - up
    assert fee_growth_inside(-60, 60, 100, g, lo, up) == (up - lo) % 2**256  # above: g - lo - (g - up)


def test_fee_growth_inside_wraps_like_uint256() -> None:
    # Outside values above the global counter happen after crossings: Solidity wraps.
    inside = fee_growth_inside(-60, 60, 0, 10, 50, 20)
    assert inside == (10 - 50 - 20) % 2**256 and 0 <= inside <= UINT256_MAX


def test_fees_earned_across_a_wrapped_counter() -> None:
    last, now = UINT256_MAX - 99, 50  # fee growth inside advanced by 150 and wrapped
    assert fees_earned(now, last, Q128) == 150
    assert fees_earned(now, last, 2 * Q128) == 300
    assert fees_earned(3 * Q128 // 2, 0, 3) == 4  # floor(1.5 * 3)


def test_fees_earned_truncates_to_uint128() -> None:
    assert fees_earned(UINT256_MAX, 0, UINT128_MAX) == (UINT256_MAX * UINT128_MAX // Q128) & UINT128_MAX


def test_uncollected_adds_fees_only_while_there_is_liquidity() -> None:
    assert uncollected(0, 1234, 10 * Q128, 0) == 1234  # no poke without liquidity
    assert uncollected(5, 1234, 10 * Q128, 0) == 1234 + 50
    assert uncollected(5, UINT128_MAX, Q128, 0) == 4  # uint128 addition wraps in Solidity 0.7


def test_burn_amounts_round_down_against_mint_amounts_rounding_up() -> None:
    liquidity = 123_456_789_012_345_678
    for tick in (-700, -600, -1, 0, 599, 600, 700):
        sqrt_price = get_sqrt_ratio_at_tick(tick)
        minted = amounts_owed_for_mint(sqrt_price, tick, -600, 600, liquidity)
        burned = amounts_for_burn(sqrt_price, tick, -600, 600, liquidity)
        assert all(0 <= m - b <= 1 for m, b in zip(minted, burned, strict=True)), tick
    below, above = amounts_for_burn(get_sqrt_ratio_at_tick(-700), -700, -600, 600, liquidity)
    assert below > 0 and above == 0  # price below the range: all token0


def test_plan_liquidity_one_sided_ranges() -> None:
    sqrt_price = get_sqrt_ratio_at_tick(0)
    above_price = plan_liquidity(sqrt_price, 0, 60, 600, E18, E18)
    assert above_price.liquidity > 0 and above_price.amount1 == 0 and 0 < above_price.amount0 <= E18
    assert plan_liquidity(sqrt_price, 0, 60, 600, 0, E18).liquidity == 0  # token1 cannot fund it
    both = plan_liquidity(sqrt_price, 0, -600, 600, E18, E18)
    assert both.amount0 <= E18 and both.amount1 <= E18 and max(both.amount0, both.amount1) >= E18 - 1


# --- V2 LP tokens ------------------------------------------------------------------------


def test_v2_optimal_amounts_keep_the_pair_ratio() -> None:
    assert v2.optimal_amounts(E18, 5_000 * 10**6, 500 * E18, 1_500_000 * 10**6) == (E18, 3_000 * 10**6)
    assert v2.optimal_amounts(E18, 1_500 * 10**6, 500 * E18, 1_500_000 * 10**6) == (E18 // 2, 1_500 * 10**6)
    assert v2.optimal_amounts(7, 9, 0, 0) == (7, 9)  # an empty pair takes both


def test_v2_first_and_later_mints() -> None:
    assert v2.liquidity_minted(4 * E18, E18, 0, 0, 0) == isqrt(4 * E18 * E18) - v2.MINIMUM_LIQUIDITY
    assert v2.liquidity_minted(10, 30, 100, 300, 1_000) == 100
    assert v2.liquidity_minted(10, 20, 100, 300, 1_000) == 66  # the short side decides, rounded down
    with pytest.raises(Exception, match="INSUFFICIENT_LIQUIDITY_MINTED"):
        v2.liquidity_minted(0, 30, 100, 300, 1_000)


def test_v2_protocol_fee_is_a_sixth_of_the_sqrt_k_growth() -> None:
    assert v2.protocol_fee_liquidity(400, 400, 1_000, 300 * 300, fee_on=False) == 0
    assert v2.protocol_fee_liquidity(400, 400, 1_000, 0, fee_on=True) == 0
    # rootK 400, rootKLast 300: 1000 * 100 / (400 * 5 + 300) = 43
    assert v2.protocol_fee_liquidity(400, 400, 1_000, 300 * 300, fee_on=True) == 43


def test_v2_pair_liquidity_burns_pro_rata_of_balances() -> None:
    pool = _pool()
    pair = v2.PairLiquidity(pool, 1_000, 3_000, 1_010, 3_000, 100, 0, False, 40, 1)
    assert pair.withdrawal(10) == (101, 300)  # the unsynced 10 of token0 is shared too
    assert pair.owner_amounts == (404, 1_200)
    assert pair.deposit(100, 330) == 11  # 110 of token0 counts (100 sent + 10 unsynced): min(11, 11)
    assert pair.deposit(100, 300) == 10  # token1 is the short side


# --- bounds, approvals, ticks ----------------------------------------------------------


def test_slippage_and_deadline_bounds() -> None:
    assert amount_min(1_000_000, 50) == 995_000 and amount_min(999, 0) == 999 and amount_min(3, 5000) == 1
    for bad in (-1, 5001, 1.5, True):
        with pytest.raises(InvalidRequest, match="slippage"):
            require_slippage(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="deadline 99 has expired: the chain's latest block is at 100"):
        require_deadline(99, 100)
    require_deadline(101, 100)
    future = int(time.time()) + 10_000
    assert resolve_deadline(None, 600, future) == future + 600 and resolve_deadline(2_000, 600, 1_000) == 2_000
    # A quiet chain's latest block may be minutes old; the next one is stamped ~now.
    before = int(time.time())
    assert before + 600 <= resolve_deadline(None, 600, 1_000) <= int(time.time()) + 600


def test_approvals_only_where_the_allowance_is_short() -> None:
    needs = [TokenNeed(A, 100, 1_000, 100), TokenNeed(B, 100, 1_000, 99), TokenNeed(OWNER, 0, 0, 0)]
    assert approvals_for("0xspender", needs) == (Approval(B, "0xspender", 100, 99),)
    with pytest.raises(InsufficientBalance, match="owner holds 50 of"):
        approvals_for("0xspender", [TokenNeed(A, 100, 50, 0)])


def test_token_pair_refuses_the_same_token_and_non_addresses() -> None:
    assert token_pair(A.lower(), B) == (Web3.to_checksum_address(A), Web3.to_checksum_address(B))
    with pytest.raises(InvalidRequest, match="same token"):
        token_pair(A, A.upper().replace("0X", "0x"))
    with pytest.raises(InvalidRequest, match="not a token address"):
        token_pair("WETH", B)


@pytest.mark.parametrize(
    ("lower", "upper", "message"),
    [
        (60, 60, "tick_lower 60 must be below tick_upper 60"),
        (120, 60, "tick_lower 120 must be below tick_upper 60"),
        (-887_280, 60, "leaves [-887272, 887272]"),
        (-170, 180, "not aligned to the pool's tick spacing 60: -170 (nearest -180 or -120)"),
        (-180, 190, "190 (nearest 180 or 240)"),
    ],
)
def test_tick_range_refusals(lower: int, upper: int, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        npm.check_tick_range(lower, upper, 60)
    assert message in str(refused.value)


def test_tick_range_aligned_passes() -> None:
    npm.check_tick_range(-887_220, 887_220, 60)
    npm.check_tick_range(-10, 10, 10)


# --- calldata against the real ABIs ------------------------------------------------------


def _pool() -> object:
    from connectors.dex.base import DexProtocol, Pool

    return Pool(DexProtocol.UNISWAP_V2, OWNER, A, B, 3000)


def test_npm_calldata_matches_the_contract_abi() -> None:
    manager = Web3().eth.contract(abi=artifact("NonfungiblePositionManager")["abi"])
    mint = (A, B, 3000, -600, 600, 5, 6, 4, 5, OWNER, 10**10)
    assert "0x" + npm.mint_calldata(*mint).hex() == manager.encode_abi("mint", [mint])
    increase = (7, 5, 6, 4, 5, 10**10)
    assert "0x" + npm.increase_liquidity_calldata(*increase).hex() == manager.encode_abi(
        "increaseLiquidity", [increase]
    )
    decrease = (7, 10**20, 4, 5, 10**10)
    assert "0x" + npm.decrease_liquidity_calldata(*decrease).hex() == manager.encode_abi(
        "decreaseLiquidity", [decrease]
    )
    collect = (7, OWNER, UINT128_MAX, UINT128_MAX)
    assert "0x" + npm.collect_calldata(7, OWNER).hex() == manager.encode_abi("collect", [collect])
    assert "0x" + npm.burn_calldata(7).hex() == manager.encode_abi("burn", [7])


def test_router_calldata_matches_the_contract_abi() -> None:
    router = Web3().eth.contract(abi=artifact("UniswapV2Router02")["abi"])
    add = (A, B, 10, 20, 9, 19, OWNER, 10**10)
    assert "0x" + v2.add_liquidity_calldata(*add).hex() == router.encode_abi("addLiquidity", list(add))
    remove = (A, B, 10, 9, 19, OWNER, 10**10)
    assert "0x" + v2.remove_liquidity_calldata(*remove).hex() == router.encode_abi("removeLiquidity", list(remove))


def test_event_topics_match_the_contract_abis() -> None:
    def topics(name: str) -> dict[str, bytes]:
        contract = Web3().eth.contract(abi=artifact(name)["abi"])
        return {e.event_name: bytes(Web3.keccak(text=e.signature)) for e in contract.all_events()}  # type: ignore[attr-defined]

    manager, pool = topics("NonfungiblePositionManager"), topics("UniswapV3Pool")
    assert manager["IncreaseLiquidity"] == v3_events.INCREASE_LIQUIDITY
    assert manager["DecreaseLiquidity"] == v3_events.DECREASE_LIQUIDITY
    assert manager["Collect"] == v3_events.NPM_COLLECT
    assert (pool["Mint"], pool["Burn"], pool["Collect"]) == (
        v3_events.POOL_MINT,
        v3_events.POOL_BURN,
        v3_events.POOL_COLLECT,
    )


def test_position_events_decode_and_keep_the_manager_apart_from_erc20_transfers() -> None:
    manager, pool, token = A, B, OWNER

    def word(value: int) -> bytes:
        return (value % 2**256).to_bytes(32, "big")

    def address_word(address: str) -> bytes:
        return bytes(12) + bytes.fromhex(address[2:])

    logs = (
        # ERC20 Transfer (3 topics) from a token: not an NFT transfer.
        EventLog(token, (v3_events.NFT_TRANSFER, address_word(OWNER), address_word(pool)), word(5), 0),
        EventLog(
            pool,
            (v3_events.POOL_MINT, address_word(manager), word(-600), word(600)),
            address_word(manager) + word(77) + word(5) + word(6),
            1,
        ),
        EventLog(manager, (v3_events.NFT_TRANSFER, bytes(32), address_word(OWNER), word(9)), b"", 2),
        EventLog(manager, (v3_events.INCREASE_LIQUIDITY, word(9)), word(77) + word(5) + word(6), 3),
    )
    events = v3_events.position_events(logs, manager, pool)
    assert events.minted_token_id(OWNER) == 9
    assert [(c.token_id, c.liquidity, c.amount0, c.amount1) for c in events.increases] == [(9, 77, 5, 6)]
    (mint,) = events.pool_mints
    assert (mint.tick_lower, mint.tick_upper, mint.liquidity, mint.amount0, mint.amount1) == (-600, 600, 77, 5, 6)
    assert len(events.transfers) == 1


def test_revert_data_decoded_for_the_error_message() -> None:
    from eth_abi.abi import encode as abi_encode

    from connectors.dex.receipts import decode_revert

    assert decode_revert(bytes.fromhex("08c379a0") + abi_encode(["string"], ["Price slippage check"])) == (
        "Price slippage check"
    )
    assert decode_revert(bytes.fromhex("4e487b71") + (0x11).to_bytes(32, "big")) == "panic 0x11"
    assert decode_revert(b"") == "" and decode_revert(b"\x01\x02") == "0x0102"
