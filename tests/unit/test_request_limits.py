"""Request limits at the edge: secrets never echoed, names bounded and ASCII, fee 0 never
silently replaced, payees that would lose the funds refused, deadlines capped, and run
inputs that are not one JSON request refused (issue 9's bad input, below the workflows)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.exceptions import ApplicationError

import crosslane.domain.bridge
import crosslane.domain.cex
import crosslane.domain.cex_transfer
import crosslane.domain.dex
import crosslane.domain.dex_liquidity
import crosslane.domain.recovery
import crosslane.domain.tx  # noqa: F401 - every request model is a SecretFreeRequest subclass once imported
from connectors.bridges.planning import check_deadline
from connectors.dex.liquidity_bounds import resolve_deadline
from crosslane.converter import data_converter
from crosslane.domain.chains import ChainConfig, ChainRegistry, DexDeployment, DexPoolInfo, TokenInfo
from crosslane.domain.deadlines import MAX_DEADLINE_AHEAD_S, check_deadline_horizon
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.recipients import check_recipient
from crosslane.domain.tx import FeePolicy, TxRequest
from crosslane.errors import InvalidRequest, describe_validation_error
from workflows.input_guard import run_input_problem
from workflows.tx_lifecycle import TransactionLifecycle

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ROUTER = "0xE592427A0AEce92De3Edee1F18E0157C05861564"
POOL = "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
BRIDGE = "0x3ee18B2214AFF97000D974cf647E7C347E8fa585"


def request_models() -> list[type[SecretFreeRequest]]:
    found: list[type[SecretFreeRequest]] = []
    pending = list(SecretFreeRequest.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return sorted(found, key=lambda m: m.__name__)


def leaks(text: str, secret: str = KEY, run: int = 8) -> bool:
    """Whether ``text`` holds any ``run``-character piece of ``secret``."""
    return any(secret[i : i + run] in text for i in range(len(secret) - run + 1))


def decode(payload: object, model: type[BaseModel]) -> Any:
    raw = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(payload).encode())
    return data_converter.payload_converter.from_payloads([raw], [model])[0]


def test_every_request_model_is_covered() -> None:
    names = {m.__name__ for m in request_models()}
    expected = {"TxRequest", "SwapRequest", "BridgeRequest", "LiquidityRequest", "RecoveryRequest", "CexOrderRequest"}
    expected |= {"CexTransferRequest"}
    assert expected <= names


@pytest.mark.parametrize("model", request_models(), ids=lambda m: m.__name__)
@pytest.mark.parametrize("field", ["private_key", "mnemonic", "secret"])
def test_a_refused_secret_is_never_echoed(model: type[SecretFreeRequest], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"request_id": "r1", field: KEY})
    texts = [str(refused.value), repr(refused.value), describe_validation_error(refused.value)]
    assert all(not leaks(t) for t in texts), texts
    assert f"field {field!r}" in texts[0]
    with pytest.raises(ApplicationError) as failed:
        decode({"request_id": "r1", field: KEY}, model)
    assert failed.value.type == "InvalidRequest" and not leaks(str(failed.value))


def test_a_secret_in_a_nested_model_is_never_echoed() -> None:
    leg = {"step": "s", "symbol": "BTC/USDT", "side": "buy", "qty": "1", "private_key": KEY}
    with pytest.raises(ValidationError) as refused:
        crosslane.domain.cex.CexOrderRequest.model_validate({"request_id": "r1", "leg": leg})
    assert "leg.private_key" in str(refused.value) and not leaks(str(refused.value))
    fees = {"max_fee_per_gas_cap": 10**11, "private_key": KEY}
    tx = {"request_id": "r1", "chain": "devnet-a", "signer": SIGNER, "to": SIGNER, "fees": fees}
    with pytest.raises(ValidationError) as refused:
        TxRequest.model_validate(tx)
    assert "fees.private_key" in str(refused.value) and not leaks(str(refused.value))


def tx(**overrides: Any) -> dict[str, Any]:
    return {
        "request_id": "r1",
        "chain": "devnet-a",
        "signer": SIGNER,
        "to": SIGNER,
        "fees": {"max_fee_per_gas_cap": 10**11},
        **overrides,
    }


@pytest.mark.parametrize(
    ("model", "payload", "field"),
    [
        (TxRequest, tx(chain="a" * 2048), "chain"),
        (
            crosslane.domain.bridge.BridgeRequest,
            {
                "request_id": "r1",
                "source_chain": "devnet-a",
                "destination_chain": "devnet-b",
                "asset": "U" * 2048,
                "amount": 1,
                "signer": SIGNER,
                "fees": {"max_fee_per_gas_cap": 10**11},
            },
            "asset",
        ),
        (
            crosslane.domain.recovery.RecoveryRequest,
            {"chain": "c" * 2048, "signer": SIGNER, "max_fee_per_gas_cap": 1},
            "chain",
        ),
    ],
)
def test_long_names_are_refused_naming_the_field(model: type[BaseModel], payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ApplicationError) as failed:
        decode(payload, model)
    assert f"{field}: is 2048 characters long; names have at most 64" in failed.value.message


def test_a_look_alike_letter_is_named() -> None:
    leg = {"step": "s", "symbol": "ВTC/USDT", "side": "buy", "qty": "1"}
    with pytest.raises(ApplicationError) as failed:
        decode({"request_id": "r1", "leg": leg}, crosslane.domain.cex.CexOrderRequest)
    assert "leg.symbol: 'ВTC/USDT' contains non-ASCII characters (position 0: 'В' U+0412" in failed.value.message
    with pytest.raises(ValidationError, match=r"position 1: 'Е' U\+0415"):
        TxRequest.model_validate(tx(chain="dЕvnet-a"))
    with pytest.raises(InvalidRequest, match="contains non-ASCII characters, position 0"):
        ChainRegistry(chains={}).get("Вnet")


def test_a_zero_initial_max_fee_is_refused_and_a_zero_tip_kept() -> None:
    with pytest.raises(ValidationError, match="initial_max_fee_per_gas 0 can never be mined"):
        FeePolicy(max_fee_per_gas_cap=10**11, initial_max_fee_per_gas=0)
    policy = FeePolicy(max_fee_per_gas_cap=10**11, initial_max_priority_fee_per_gas=0)
    assert policy.initial_max_priority_fee_per_gas == 0


def test_a_zero_recipient_is_refused_before_sending() -> None:
    swap = {
        "request_id": "r1",
        "chain": "devnet-a",
        "signer": SIGNER,
        "token_in": "WETH",
        "token_out": "USDC",
        "amount": 1,
        "recipient": "0x" + "00" * 20,
        "fees": {"max_fee_per_gas_cap": 10**11},
    }
    with pytest.raises(ValidationError, match="recipient is the zero address: the tokens would be lost"):
        crosslane.domain.dex.SwapRequest.model_validate(swap)


CHAIN = ChainConfig(
    name="devnet-a",
    chain_id=31337,
    rpc_urls=["http://x"],
    contracts={"WormholeTokenBridge": BRIDGE},
    tokens={"USDC": TokenInfo(symbol="USDC", address=USDC, decimals=6)},
    dexes={
        "uniswap_v3": DexDeployment(
            protocol="uniswap_v3",
            factory="0x1F98431c8aD98523631AE4a59f267346ea31F984",
            init_code_hash="0x" + "00" * 32,
            router=ROUTER,
            pools=[DexPoolInfo(address=POOL, token0=USDC, token1=SIGNER, fee=500, label="USDC/WETH 0.05%")],
        )
    },
)


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("0x" + "00" * 20, "recipient is the zero address"),
        (ROUTER, f"recipient {ROUTER} is the uniswap_v3 router on devnet-a"),
        (POOL, "is the uniswap_v3 pool USDC/WETH 0.05% on devnet-a"),
        (USDC, "is the USDC contract on devnet-a"),
        (BRIDGE, "is the WormholeTokenBridge contract on devnet-a"),
        ("0x" + "ab" * 20, "is a token this request moves"),
    ],
)
def test_payees_that_would_lose_the_funds_are_refused(recipient: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match="the tokens would be lost") as refused:
        check_recipient(CHAIN, recipient, tokens=["0x" + "ab" * 20])
    assert message in str(refused.value)
    check_recipient(CHAIN, SIGNER, tokens=[USDC])


def test_a_far_deadline_is_refused_with_the_cap() -> None:
    now = 1_700_000_000
    check_deadline_horizon(None, now)
    check_deadline_horizon(now + MAX_DEADLINE_AHEAD_S, now)
    with pytest.raises(InvalidRequest, match=r"is 315360000 s \(3650.0 days\).*at most 86400 s \(1 day\) ahead"):
        check_deadline_horizon(now + 10 * 365 * 86_400, now)


@pytest.mark.parametrize("check", [check_deadline, lambda deadline, now: resolve_deadline(deadline, 600, now)])
def test_bridge_and_liquidity_deadlines_share_the_cap(check: Any) -> None:
    now = int(time.time()) + 3600  # a chain clock ahead of the wall clock: both checks count from it
    check(now + 60, now)
    with pytest.raises(InvalidRequest, match="at most 86400 s"):
        check(now + MAX_DEADLINE_AHEAD_S + 1, now)


def test_run_inputs_that_are_not_one_request_are_described() -> None:
    request = TxRequest.model_validate(tx())
    run = TransactionLifecycle.run
    assert run_input_problem(run, [request]) is None
    assert run_input_problem(run, []) == (
        "takes 1 input(s) (a JSON TxRequest object); the run was started with no input"
    )
    assert "started with 2 inputs" in (run_input_problem(run, [request, request]) or "")
    assert run_input_problem(run, [b"\x00"]) == "input 'request' must be a JSON TxRequest object, got bytes"


@pytest.mark.parametrize(("encoding", "shown"), [(b"binary/plain", "'binary/plain'"), (b"text/yaml", "'text/yaml'")])
def test_a_request_in_another_encoding_is_refused(encoding: bytes, shown: str) -> None:
    raw = Payload(metadata={"encoding": encoding}, data=json.dumps(tx()).encode())
    with pytest.raises(ApplicationError) as failed:
        data_converter.payload_converter.from_payloads([raw], [TxRequest])
    assert failed.value.type == "InvalidRequest" and failed.value.non_retryable
    why = f"input 1 has encoding {shown}; send it as JSON (encoding json/plain)"
    assert failed.value.message == f"invalid TxRequest: {why}"
