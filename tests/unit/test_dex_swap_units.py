"""Swap pieces without a chain: router calldata, V3 paths, limits from slippage, ratios,
revert classification, the swap models' JSON, the sandwich on a known V2 pair."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from connectors.dex.base import DexProtocol, Pool, TradeType
from connectors.dex.gas import estimate_swap_gas
from connectors.dex.pricing import amount_in_max, amount_out_min, fee_retained, shortfall, to_bps
from connectors.dex.reads import selector
from connectors.dex.routing import MarketSnapshot, PricedRoute, Route
from connectors.dex.sandwich import sandwich_exposure
from connectors.dex.swap_reverts import SwapRevert, classify_revert, decode_error_string
from connectors.dex.uniswap_v2 import PairState
from connectors.dex.uniswap_v2 import router as v2
from connectors.dex.uniswap_v3 import router as v3
from crosslane.domain.dex import SwapRequest
from crosslane.errors import InvalidRequest

A = "0x" + "11" * 20
B = "0x" + "22" * 20
C = "0x" + "33" * 20
ME = "0x" + "44" * 20


def test_v3_path_is_token_fee_token_and_reversed_for_exact_output() -> None:
    path = v3.encode_path([A, B, C], [500, 3000])
    assert len(path) == 20 + 3 + 20 + 3 + 20
    assert path.hex() == "11" * 20 + "0001f4" + "22" * 20 + "000bb8" + "33" * 20
    assert v3.decode_path(path) == ([A, B, C], [500, 3000])
    data = v3.exact_output([A, B, C], [500, 3000], ME, 99, 7, 8)
    assert data[:4] == selector(v3.EXACT_OUTPUT)
    ((encoded, recipient, deadline, amount_out, amount_in_max),) = abi_decode(
        ["(bytes,address,uint256,uint256,uint256)"], data[4:]
    )
    assert v3.decode_path(encoded) == ([C, B, A], [3000, 500])  # output token first
    assert (recipient.lower(), deadline, amount_out, amount_in_max) == (ME, 99, 7, 8)
    with pytest.raises(ValueError, match="needs 2 fees"):
        v3.encode_path([A, B, C], [500])


def test_v3_single_hop_calldata_carries_no_price_limit() -> None:
    data = v3.exact_input_single(A, B, 500, ME, 123, 10**18, 2_990 * 10**6)
    assert data[:4] == selector(v3.EXACT_INPUT_SINGLE)
    (params,) = abi_decode(["(address,address,uint24,address,uint256,uint256,uint256,uint160)"], data[4:])
    assert [p.lower() if isinstance(p, str) else p for p in params] == [A, B, 500, ME, 123, 10**18, 2_990 * 10**6, 0]


def test_v2_router_calldata() -> None:
    data = v2.swap_tokens_for_exact_tokens(5, 9, [A, B, C], ME, 77)
    assert data == selector(v2.SWAP_TOKENS_FOR_EXACT_TOKENS) + abi_encode(
        ["uint256", "uint256", "address[]", "address", "uint256"], [5, 9, [A, B, C], ME, 77]
    )
    with pytest.raises(ValueError, match="at least two tokens"):
        v2.swap_exact_tokens_for_tokens(1, 1, [A], ME, 1)


@pytest.mark.parametrize(
    ("expected", "bps", "out_min", "in_max"),
    [
        (10_000, 50, 9_950, 10_050),
        (999, 50, 994, 1_004),
        (1, 0, 1, 1),
        (3, 5_000, 1, 5),
        (10**30, 1, 10**30 - 10**26, 10**30 + 10**26),
    ],
)
def test_limits_round_against_the_trader(expected: int, bps: int, out_min: int, in_max: int) -> None:
    assert amount_out_min(expected, bps) == out_min  # rounded down: never accept less than asked
    assert amount_in_max(expected, bps) == in_max  # rounded up
    with pytest.raises(InvalidRequest):
        amount_out_min(expected, -1)


def test_ratios_in_bps() -> None:
    assert to_bps(Fraction(3, 1000)) == Decimal("30.00")
    assert to_bps(Fraction(1, 3)) == Decimal("3333.33")
    assert to_bps(1 - fee_retained([500, 3000])) == Decimal("34.98")  # 1 - 0.9995 * 0.997
    assert shortfall(100, 99, Fraction(1)) == Fraction(1, 100)
    assert shortfall(100, 101, Fraction(1)) == Fraction(-1, 100)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("Too little received", SwapRevert.SLIPPAGE),
        ("execution reverted: Too much requested", SwapRevert.SLIPPAGE),
        ("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT", SwapRevert.SLIPPAGE),
        ("UniswapV2Router: EXCESSIVE_INPUT_AMOUNT", SwapRevert.SLIPPAGE),
        ("Transaction too old", SwapRevert.DEADLINE),
        ("UniswapV2Router: EXPIRED", SwapRevert.DEADLINE),
        ("STF", SwapRevert.OTHER),
        ("", SwapRevert.OTHER),
    ],
)
def test_revert_classification(reason: str, kind: SwapRevert) -> None:
    assert classify_revert(reason) is kind


def test_error_string_payloads_decode() -> None:
    payload = "0x08c379a0" + abi_encode(["string"], ["Too little received"]).hex()
    assert decode_error_string(payload) == "Too little received"
    assert decode_error_string("0x1234") == "" and decode_error_string(None) == ""


def test_gas_model_grows_with_hops_and_ticks() -> None:
    from connectors.dex.base import PoolQuote

    pool = Pool(DexProtocol.UNISWAP_V3, A, A, B, 500, 10)
    one = PoolQuote(pool, TradeType.EXACT_IN, A, B, 1, 1, initialized_ticks_crossed=0)
    crossing = PoolQuote(pool, TradeType.EXACT_IN, A, B, 1, 1, initialized_ticks_crossed=3)
    assert estimate_swap_gas(DexProtocol.UNISWAP_V3, [one]) < estimate_swap_gas(DexProtocol.UNISWAP_V3, [crossing])
    assert estimate_swap_gas(DexProtocol.UNISWAP_V3, [one, one]) > estimate_swap_gas(DexProtocol.UNISWAP_V3, [one])
    assert estimate_swap_gas(DexProtocol.UNISWAP_V2, [one]) > 21_000


def test_swap_request_ids_leave_room_for_child_lifecycles() -> None:
    longest = "r" * 112
    request = SwapRequest(
        request_id=longest, chain="c", signer="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        token_in="WETH", token_out="USDC", amount=1, fees={"max_fee_per_gas_cap": 1},
    )  # fmt: skip
    assert request.workflow_id == "swap-" + longest
    assert len(f"{request.workflow_id}.approve") <= 128  # TxRequest.request_id's limit
    with pytest.raises(ValueError):
        SwapRequest.model_validate({**request.model_dump(), "request_id": "r" * 113})


def test_amounts_are_exact_strings_in_json() -> None:
    request = SwapRequest(
        request_id="j", chain="c", signer="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        token_in="WETH", token_out="USDC", amount=2_500_256_897_107_764_123_456, fees={"max_fee_per_gas_cap": 1},
    )  # fmt: skip
    dumped = request.model_dump(mode="json")
    assert dumped["amount"] == "2500256897107764123456"
    assert SwapRequest.model_validate(dumped).amount == 2_500_256_897_107_764_123_456
    assert SwapRequest.model_validate({**dumped, "amount": 7}).amount == 7  # plain JSON numbers still work


def _pair(reserve0: int, reserve1: int) -> PairState:
    return PairState(Pool(DexProtocol.UNISWAP_V2, C, A, B, 3000), reserve0, reserve1, 1)


def test_sandwich_profit_grows_with_the_room_the_limit_leaves() -> None:
    pair = _pair(1_000 * 10**18, 3_000_000 * 10**6)
    market = MarketSnapshot(1, {C: pair})
    amount = 10 * 10**18
    out = pair.swap_exact_in(A, amount)[0].amount_out
    hop = pair.quote_exact_in(A, amount)
    quote = PricedRoute(
        route=Route("v2", DexProtocol.UNISWAP_V2, (pair.pool,), (A, B)), trade_type=TradeType.EXACT_IN,
        amount_in=amount, amount_out=out, hops=(hop,), block_number=1, mid_amount=0,
        price_impact_bps=Decimal(0), slippage_bps=Decimal(0), lp_fee_bps=Decimal(30), gas_estimate=0,
        gas_price_wei=0, gas_cost_wei=0, gas_cost_in_output=None, gas_cost_in_input=None,
    )  # fmt: skip
    tight = sandwich_exposure(market, quote, amount_out_min(out, 10))
    loose = sandwich_exposure(market, quote, amount_out_min(out, 300))
    # The attacker earns at most what the victim loses, and the victim loses at most the room.
    assert 0 < tight.profit_bps < 10 and tight.profit < loose.profit
    assert 100 < loose.profit_bps < 300 and loose.token == A and loose.front_run > tight.front_run
    assert sandwich_exposure(market, quote, out).profit_bps == 0  # no slack: rounding dust at most
