"""`crosslane arb run` refuses bad input with one line saying what is wrong, before it
connects anywhere (no stack runs here: a request that passed would fail to connect)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from crosslane.cli.main import app

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GOOD = {
    "--asset": "WETH",
    "--quote": "USDC",
    "--size": "0.5",
    "--buy": "cex:ETH/USDT",
    "--sell": "devnet-a:uniswap_v3",
    "--min-profit": "5",
    "--signer": SIGNER,
}


def arb_run(**changes: str | None) -> tuple[int, str]:
    options = {**GOOD, **{f"--{k.replace('_', '-')}": v for k, v in changes.items()}}
    args = [part for option, value in options.items() if value is not None for part in (option, value)]
    result = CliRunner().invoke(app, ["arb", "run", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"size": "0"}, "size"),
        ({"min_profit": "-1"}, "min_profit"),
        ({"buy": "binance"}, "--buy 'binance': give cex:SYMBOL (cex:ETH/USDT) or CHAIN:DEX"),
        ({"sell": "cex:ETHUSDT"}, 'a cex leg needs the fast path\'s symbol, e.g. "ETH/USDT"'),
        ({"signer": None}, "a DEX leg needs the signer holding its inventory"),
        ({"quote": "WETH"}, "asset and quote are the same (WETH)"),
        ({"buy": "devnet-a:uniswap_v3"}, "buy and sell are the same venue (devnet-a:uniswap_v3)"),
        ({"id": "has spaces"}, "request_id"),
        ({"mode": "transfer"}, "transfer mode buys on one chain's DEX"),
        ({"mode": "teleport"}, "mode"),
    ],
    ids=[
        "size-zero", "negative-min-profit", "bad-venue", "bad-symbol", "no-signer", "same-asset", "same-venue", "id",
        "transfer-with-cex-leg", "unknown-mode",
    ],  # fmt: skip
)
def test_bad_input_is_refused_with_what_is_wrong(changes: dict[str, str | None], message: str) -> None:
    code, output = arb_run(**changes)
    assert code == 2, output
    assert message in output and output.startswith("error: "), output
    assert "Traceback" not in output
