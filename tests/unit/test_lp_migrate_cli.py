"""`crosslane lp migrate` refuses bad input with one line saying what is wrong, before it
connects anywhere (no stack runs here: a request that passed would fail to connect)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from crosslane.cli.main import app

OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GOOD = {
    "--kind": "v3_to_v3",
    "--from": "devnet-a:uniswap_v3:7",
    "--to": "devnet-a:uniswap_v3:500:-600:600",
    "--owner": OWNER,
    "--slippage-bps": "100",
}


def lp_migrate(**changes: str | None) -> tuple[int, str]:
    options = {**GOOD, **{f"--{k.replace('_', '-')}": v for k, v in changes.items()}}
    args = [part for option, value in options.items() if value is not None for part in (option, value)]
    result = CliRunner().invoke(app, ["lp", "migrate", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "v4_to_v3"}, "--kind 'v4_to_v3': give one of v3_to_v3, v2_to_v3, v2_to_v3_migrator, cross_chain"),
        ({"from": "devnet-a:7"}, "--from 'devnet-a:7': give CHAIN:DEX:TOKEN_ID (V3) or CHAIN:DEX:TOKEN_A/TOKEN_B"),
        ({"from": "devnet-a:uniswap_v2:WETH"}, "the position is a token id (7) or a V2 pair (WETH/USDC), not 'WETH'"),
        ({"from": "devnet-a:uniswap_v3:0"}, "token_id"),
        ({"to": "devnet-a:uniswap_v3:500:-600"}, "--to 'devnet-a:uniswap_v3:500:-600': give CHAIN:DEX:FEE:TICK_LOWER"),
        ({"to": "devnet-a:uniswap_v3:500:600:-600"}, "tick_lower 600 must be below tick_upper -600"),
        ({"slippage_bps": "1%"}, "--slippage-bps '1%': give a whole number of basis points, 0-5000"),
        ({"slippage_bps": "5001"}, "slippage 5001 bps is outside 0-5000 bps"),
        ({"owner": "0x1234"}, "owner"),
        ({"kind": "v2_to_v3"}, "--kind v2_to_v3 moves V2 LP tokens (CHAIN:DEX:TOKEN_A/TOKEN_B) into a range on the"),
        (
            {
                "kind": "v2_to_v3_migrator",
                "to": "devnet-b:uniswap_v3:500:-600:600",
                "from": "devnet-a:sushiswap:WETH/USDC",
            },
            "via_migrator works on one chain; the target is on another",
        ),
        ({"kind": "cross_chain"}, "--kind cross_chain moves a position into a range on another chain"),
        ({"liquidity": "5"}, "--liquidity is for V2 LP tokens; a V3 position moves whole"),
        ({"id": "has spaces"}, "request_id"),
    ],
    ids=[
        "unknown-kind",
        "short-from",
        "bad-pair",
        "token-id-zero",
        "short-to",
        "ticks-reversed",
        "slippage-text",
        "slippage-too-high",
        "bad-owner",
        "kind-disagrees",
        "migrator-cross-chain",
        "cross-chain-same-chain",
        "liquidity-for-v3",
        "id",
    ],  # fmt: skip
)
def test_bad_input_is_refused_with_what_is_wrong(changes: dict[str, str | None], message: str) -> None:
    code, output = lp_migrate(**changes)
    assert code == 2, output
    assert message in output and output.startswith("error: "), output
    assert "Traceback" not in output
