"""Bad arbitrage input refused with a message that names the problem: by the request model
(negative minimum profit, size zero, a key field, transfer mode, one venue twice, a DEX leg
without its signer), by the admission step against the chain registry (unknown chain, DEX,
asset, signer) before anything is recorded, and at the Temporal boundary for a plain-JSON
start (``InvalidRequest``, the run fails at once)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.arbitrage import ArbActivities
from activities.runtime import ChainRuntime
from connectors.evm.signer import SignerRegistry
from crosslane.domain.arb_steps import ArbitrageRequest, ArbRiskLimits, ArbVenue
from crosslane.domain.chains import ChainConfig, ChainRegistry, DexDeployment, TokenInfo
from crosslane.errors import CrosslaneError, InvalidRequest
from crosslane.ledger import Ledger
from crosslane.ledger.arbitrage import ArbBook
from tests.support.time_skipping import time_skipping_env
from workers.orchestrator import workflow_runner
from workflows.arbitrage import Arbitrage
from workflows.input_guard import WorkflowInputGuard

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def plain(**kw: Any) -> dict[str, Any]:
    """A valid CEX/DEX request as plain JSON, for a case to spoil one field of."""
    body: dict[str, Any] = {
        "request_id": uuid.uuid4().hex[:12],
        "asset": "WETH",
        "quote": "USDC",
        "size": "0.5",
        "buy": {"venue": "cex", "symbol": "ETH/USDT"},
        "sell": {"venue": "uniswap_v3", "chain": "devnet-a"},
        "min_profit": "1.5",
        "max_loss": "10",
        "signer": SIGNER,
        "fees": {"max_fee_per_gas_cap": 100_000_000_000},
    }
    body.update(kw)
    return body


def refusal(**kw: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        ArbitrageRequest.model_validate(plain(**kw))
    return str(refused.value)


def test_a_valid_request_reads_from_plain_json() -> None:
    req = ArbitrageRequest.model_validate(plain())
    assert str(req.kind) == "cex-dex" and req.workflow_id.startswith("arb-")
    assert req.model_dump(mode="json")["size"] == "0.5"


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("min_profit", "-1", "must be zero or more"),
        ("size", "0", "must be positive"),
        ("size", "-2", "must be positive"),
        ("size", "abc", "is not a number"),
        ("max_loss", "-5", "must be zero or more"),
        (
            "mode",
            "transfer",
            "transfer mode buys on one chain's DEX, bridges the asset and sells on another chain's DEX",
        ),
        ("buy", {"venue": "uniswap_v3", "chain": "devnet-a"}, "same venue"),
        ("sell", {"venue": "uniswap_v3"}, "needs its chain"),
        ("buy", {"venue": "cex"}, "needs the fast path's symbol"),
        ("quote", "WETH", "asset and quote are the same"),
        ("asset", "WЕTH", "non-ASCII"),
    ],
)
def test_bad_fields_are_refused_naming_the_problem(field: str, value: Any, says: str) -> None:
    assert says in refusal(**{field: value})


def test_a_dex_leg_needs_its_signer_and_fees() -> None:
    assert "needs the signer" in refusal(signer=None)


def test_a_key_field_is_refused_without_echoing_it() -> None:
    key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
    text = refusal(private_key=key)
    assert "must not carry secrets" in text and key not in text


def runtime(tmp_path: Path) -> ChainRuntime:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    usdc = TokenInfo(symbol="USDC", address="0x" + "11" * 20, decimals=6)
    weth = TokenInfo(symbol="WETH", address="0x" + "22" * 20, decimals=18)
    v3 = DexDeployment(protocol="uniswap_v3", factory="0x" + "33" * 20, init_code_hash="0x" + "44" * 32)
    chain = ChainConfig(
        name="devnet-a",
        chain_id=31337,
        rpc_urls=["http://127.0.0.1:1"],
        tokens={"USDC": usdc, "WETH": weth},
        dexes={"uniswap_v3": v3},
    )
    return ChainRuntime(ledger=ledger, chains=ChainRegistry(chains={"devnet-a": chain}), signers=SignerRegistry())


@pytest.mark.parametrize(
    ("spoilt", "says"),
    [
        ({"sell": {"venue": "uniswap_v3", "chain": "devnet-z"}}, "unknown chain 'devnet-z'"),
        ({"sell": {"venue": "sushiswap", "chain": "devnet-a"}}, "unknown DEX 'sushiswap' on devnet-a"),
        ({"asset": "DOGE"}, "unknown token 'DOGE' on devnet-a"),
        ({}, "SignerUnavailable"),  # no key for the signer in this worker
    ],
)
async def test_unknown_names_are_refused_before_anything_is_recorded(
    tmp_path: Path, spoilt: dict[str, Any], says: str
) -> None:
    rt = runtime(tmp_path)
    acts = ArbActivities(rt, ArbRiskLimits())
    req = ArbitrageRequest.model_validate(plain(**spoilt))
    with pytest.raises(CrosslaneError) as refused:
        await acts._check(req)
    assert says in f"{type(refused.value).__name__}: {refused.value}"
    assert isinstance(refused.value, InvalidRequest) or says == "SignerUnavailable"
    assert ArbBook(rt.ledger).runs() == []
    rt.ledger.close()


async def test_a_plain_json_start_with_size_zero_fails_at_once_with_invalid_request() -> None:
    async with time_skipping_env() as env:
        queue = uuid.uuid4().hex
        body = plain(size="0")
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[Arbitrage],
            activities=[],
            workflow_runner=workflow_runner(),
            interceptors=[WorkflowInputGuard()],
        ):
            with pytest.raises(WorkflowFailureError) as failed:
                await env.client.execute_workflow("Arbitrage", body, id=f"arb-{body['request_id']}", task_queue=queue)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert "size" in cause.message and "must be positive" in cause.message


def test_a_scanned_opportunity_becomes_a_request() -> None:
    from crosslane.arbitrage import ArbKind, ArbMode, CostItem, LegOutcome, Opportunity
    from crosslane.routing.side import Side

    def leg(venue: str, market: str, side: Side, chain: str | None) -> LegOutcome:
        return LegOutcome(venue=venue, market=market, side=side, chain=chain, size=5 * 10**17, quote=1, at_best=1,
                          fee=0, impact=0)  # fmt: skip

    opp = Opportunity(
        kind=ArbKind.CEX_DEX, mode=ArbMode.INVENTORY, asset="WETH", quote_asset="USDC", asset_decimals=18,
        quote_decimals=6, buy=leg("binance", "ETH/USDT", Side.BUY, None),
        sell=leg("devnet-a:uniswap_v3", "WETH/USDC 0.3%", Side.SELL, "devnet-a"), size=5 * 10**17,
        items=[CostItem(name="sell at best price", amount=12_000_000)], net_profit=12_000_000, decision="taken",
        reasons=["net 12 USDC"], evaluated_at_ms=1,
    )  # fmt: skip
    req = ArbitrageRequest.from_opportunity(
        opp, "scan-1", min_profit=5_000_000, signer=SIGNER, fees={"max_fee_per_gas_cap": 10**11}
    )
    assert req.size == Decimal("0.5") and req.min_profit == Decimal(5)
    assert req.buy == ArbVenue(venue="cex", symbol="ETH/USDT")
    assert req.sell == ArbVenue(venue="uniswap_v3", chain="devnet-a")
    assert str(req.kind) == "cex-dex"


def test_a_scanned_transfer_opportunity_becomes_a_transfer_run() -> None:
    """The scanner's auto-execution starts transfer-mode opportunities too (buy on one chain,
    bridge, sell on the other), with the risk aversion it priced them at."""
    from crosslane.arbitrage import ArbKind, ArbMode, CostItem, LegOutcome, Opportunity
    from crosslane.routing.side import Side

    def leg(chain: str, side: Side) -> LegOutcome:
        return LegOutcome(venue=f"{chain}:uniswap_v3", market="WETH/USDC 0.3%", side=side, chain=chain,
                          size=5 * 10**17, quote=1, at_best=1, fee=0, impact=0)  # fmt: skip

    opp = Opportunity(
        kind=ArbKind.DEX_DEX, mode=ArbMode.TRANSFER, asset="WETH", quote_asset="USDC", asset_decimals=18,
        quote_decimals=6, buy=leg("devnet-a", Side.BUY), sell=leg("devnet-b", Side.SELL), size=5 * 10**17,
        items=[CostItem(name="sell at best price", amount=12_000_000)], net_profit=12_000_000, decision="taken",
        reasons=["net 12 USDC"], evaluated_at_ms=1,
    )  # fmt: skip
    req = ArbitrageRequest.from_opportunity(
        opp, "scan-2", signer=SIGNER, fees={"max_fee_per_gas_cap": 10**11}, risk_aversion=Decimal(2)
    )
    assert req.mode is ArbMode.TRANSFER and req.risk_aversion == Decimal(2)
    assert req.buy == ArbVenue(venue="uniswap_v3", chain="devnet-a")
    assert req.sell == ArbVenue(venue="uniswap_v3", chain="devnet-b")
