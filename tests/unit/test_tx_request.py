"""Edge validation of transaction requests: bad input fails early, with a message that helps."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from crosslane.domain.evm import MAX_CALLDATA_BYTES
from crosslane.domain.tx import MIN_BUMP_BPS, FeePolicy, ReplacementPolicy, TxRequest
from crosslane.errors import describe_validation_error
from crosslane.money import GWEI, UINT256_MAX

SIGNER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
TO = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
# a well-known throwaway key (anvil's account #0); only its absence from messages matters
PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def request(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "request_id": "order-42",
        "chain": "devnet-a",
        "signer": SIGNER,
        "to": TO,
        "value": 10**18,
        "fees": {"max_fee_per_gas_cap": 100 * GWEI},
    }
    base.update(overrides)
    return base


def refusal(data: dict[str, Any]) -> str:
    """The one-line message a caller sees for ``data`` (the converter and CLI show this)."""
    with pytest.raises(ValidationError) as info:
        TxRequest.model_validate(data)
    return describe_validation_error(info.value)


def test_a_valid_request_and_its_business_key() -> None:
    req = TxRequest.model_validate(request())
    assert req.workflow_id == "tx-order-42"
    assert req.value == 10**18 and req.data == "0x"
    assert req.fees.bump_bps == MIN_BUMP_BPS
    assert req.policy == ReplacementPolicy()


def test_round_trips_through_json() -> None:
    req = TxRequest.model_validate(request(value=str(UINT256_MAX)))
    assert TxRequest.model_validate_json(req.model_dump_json()) == req


@pytest.mark.parametrize("field", ["signer", "to"])
def test_bad_checksum_is_refused_and_the_right_one_suggested(field: str) -> None:
    wrong_case = SIGNER[:3] + SIGNER[3].swapcase() + SIGNER[4:] if field == "signer" else TO.lower()
    right = SIGNER if field == "signer" else TO
    message = refusal(request(**{field: wrong_case}))
    assert field in message and "EIP-55" in message
    assert f"did you mean {right}?" in message


@pytest.mark.parametrize("bad", ["0x1234", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x" + "g" * 40, SIGNER + "00"])
def test_malformed_addresses_are_refused(bad: str) -> None:
    assert "20-byte hex address" in refusal(request(to=bad))


def test_non_string_address_is_refused() -> None:
    assert refusal(request(to=int(TO, 16))).startswith("to: ")


def test_negative_value_is_refused() -> None:
    message = refusal(request(value=-1))
    assert "value" in message and "negative" in message


@pytest.mark.parametrize("bad", [1.5, 1.0, 1e18, "1.5", "1e18", "-1", "0x10", " 1", "", True])
def test_value_must_be_integer_base_units(bad: object) -> None:
    message = refusal(request(value=bad))
    assert message.startswith("value: ")
    assert "integer" in message or "base units" in message


def test_value_above_uint256_is_refused() -> None:
    assert "exceeds uint256" in refusal(request(value=UINT256_MAX + 1))
    assert "exceeds uint256" in refusal(request(value=str(UINT256_MAX + 1)))


@pytest.mark.parametrize("big", [str(UINT256_MAX), str(2**64), "9007199254740993"])
def test_decimal_strings_carry_values_beyond_json_safe_integers(big: str) -> None:
    assert TxRequest.model_validate(request(value=big)).value == int(big)
    # plain JSON, as `temporal workflow start --input` would send it
    as_json = json.dumps(request(value=big))
    assert TxRequest.model_validate_json(as_json).value == int(big)


def test_json_float_value_is_refused() -> None:
    with pytest.raises(ValidationError, match="integer number of base units"):
        TxRequest.model_validate_json(json.dumps(request(value=1.5)))


@pytest.mark.parametrize(
    "field", ["private_key", "privateKey", "Private-Key", "mnemonic", "seed", "password", "keystore_password", "key"]
)
def test_secrets_are_refused_and_the_message_says_where_keys_live(field: str) -> None:
    message = refusal(request(**{field: PRIVATE_KEY}))
    assert "must not carry secrets" in message
    assert "signing keys stay in the worker" in message
    assert PRIVATE_KEY not in message and PRIVATE_KEY[2:] not in message


def test_secret_refusal_never_echoes_the_secret() -> None:
    """Even ``str(ValidationError)`` (what a logger or traceback prints) must not show the key.

    Pydantic appends a truncated ``input_value=...`` to each error unless the model sets
    ``hide_input_in_errors``; the truncation keeps the *end* of the input, which here is the
    private key's tail.
    """
    with pytest.raises(ValidationError) as info:
        TxRequest.model_validate(request(private_key=PRIVATE_KEY))
    rendered = str(info.value)
    assert "must not carry secrets" in rendered
    assert PRIVATE_KEY[-16:] not in rendered


def test_unknown_fields_are_refused() -> None:
    assert "gasPrice" in refusal(request(gasPrice=1))
    assert "fees.max_fee" in refusal(request(fees={"max_fee_per_gas_cap": 1, "max_fee": 1}))
    assert "policy.retries" in refusal(request(policy={"retries": 3}))


def test_request_id_is_a_safe_business_key() -> None:
    for bad in ["", "-starts-with-dash", "has space", "x" * 129, "emoji-🙂"]:
        assert refusal(request(request_id=bad)).startswith("request_id: ")
    for good in ["a", "bridge/2025-01-01:42", "A.b_c-d"]:
        assert TxRequest.model_validate(request(request_id=good)).workflow_id == f"tx-{good}"


def test_requests_are_immutable() -> None:
    req = TxRequest.model_validate(request())
    with pytest.raises(ValidationError):
        req.value = 1  # type: ignore[misc]


# -- fee policy ---------------------------------------------------------------------------------


def test_bump_below_twelve_and_a_half_percent_is_refused() -> None:
    with pytest.raises(ValidationError, match="bump_bps"):
        FeePolicy(max_fee_per_gas_cap=GWEI, bump_bps=MIN_BUMP_BPS - 1)
    assert FeePolicy(max_fee_per_gas_cap=GWEI, bump_bps=MIN_BUMP_BPS).bump_bps == 1250
    assert "bump_bps" in refusal(request(fees={"max_fee_per_gas_cap": GWEI, "bump_bps": 1000}))


def test_initial_fee_above_cap_is_refused() -> None:
    with pytest.raises(ValidationError, match="initial_max_fee_per_gas is above max_fee_per_gas_cap"):
        FeePolicy(max_fee_per_gas_cap=10 * GWEI, initial_max_fee_per_gas=10 * GWEI + 1)
    assert FeePolicy(max_fee_per_gas_cap=10 * GWEI, initial_max_fee_per_gas=10 * GWEI).initial_max_fee_per_gas


def test_initial_tip_above_max_fee_is_refused() -> None:
    with pytest.raises(ValidationError, match="priority"):
        FeePolicy(
            max_fee_per_gas_cap=10 * GWEI, initial_max_fee_per_gas=GWEI, initial_max_priority_fee_per_gas=2 * GWEI
        )
    with pytest.raises(ValidationError, match="priority"):
        FeePolicy(max_fee_per_gas_cap=GWEI, initial_max_priority_fee_per_gas=GWEI + 1)


@pytest.mark.parametrize("cap", [0, -1, 1.5, "abc"])
def test_fee_cap_must_be_positive_integer_wei(cap: object) -> None:
    assert refusal(request(fees={"max_fee_per_gas_cap": cap})).startswith("fees.max_fee_per_gas_cap: ")


def test_fee_fields_accept_decimal_strings() -> None:
    fees = FeePolicy.model_validate({"max_fee_per_gas_cap": str(200 * GWEI), "initial_max_fee_per_gas": "1000"})
    assert fees.max_fee_per_gas_cap == 200 * GWEI and fees.initial_max_fee_per_gas == 1000


# -- replacement policy --------------------------------------------------------------------------


def test_replacement_policy_needs_a_limit() -> None:
    with pytest.raises(ValidationError, match="replace_after_blocks or replace_after_seconds"):
        ReplacementPolicy(replace_after_blocks=None, replace_after_seconds=None)
    assert ReplacementPolicy(replace_after_blocks=None, replace_after_seconds=5).replace_after_seconds == 5


@pytest.mark.parametrize(
    "bad",
    [
        {"confirmations": 0},
        {"confirmations": 129},
        {"replace_after_blocks": 0},
        {"poll_interval_ms": 5},
        {"cancel_at_cap": "maybe"},
    ],
)
def test_replacement_policy_bounds(bad: dict[str, Any]) -> None:
    assert refusal(request(policy=bad)).startswith("policy.")


def test_calldata_is_bounded_by_what_a_node_accepts() -> None:
    assert TxRequest.model_validate(request(data="0x" + "ab" * MAX_CALLDATA_BYTES)).data.endswith("ab")
    message = refusal(request(data="0x" + "ab" * (MAX_CALLDATA_BYTES + 1)))
    assert message.startswith("data: ") and f"above the {MAX_CALLDATA_BYTES}-byte limit" in message
