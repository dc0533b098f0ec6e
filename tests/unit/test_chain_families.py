"""The chain-family seam without a chain: addresses, exclusivity descriptors, the family
registry, signers behind one protocol, requests discriminated by family."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from pydantic import ValidationError
from solders.keypair import Keypair

from connectors.chain_family import ChainSigner, FamilyRegistry
from connectors.evm.family import EvmFamily
from connectors.evm.signer import LocalKeySigner, Signer, SignerRegistry
from connectors.solana.family import SolanaFamily
from connectors.solana.signer import LocalKeypairSigner, SolanaSignerRegistry
from crosslane.domain.chain_requests import parse_chain_request
from crosslane.domain.families import (
    EXCLUSIVITY,
    BlockhashExpiry,
    DurableNonce,
    FeeQuote,
    NativeTransfer,
    NonceExclusivity,
    Replacement,
    chain_key,
    reaches,
)
from crosslane.domain.solana import SolTransferRequest
from crosslane.domain.tx import TxRequest
from crosslane.errors import InvalidRequest, SignerUnavailable

EVM_KEY = "0x" + "11" * 32
EVM_ADDR = Account.from_key(EVM_KEY).address
EVM_TO = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
SOL_KEYPAIR = Keypair.from_seed(bytes(range(32)))
SOL_ADDR = str(SOL_KEYPAIR.pubkey())
SOL_TO = str(Keypair.from_seed(bytes(range(1, 33))).pubkey())
PDA = "4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziofM"  # off the ed25519 curve
BLOCKHASH = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"


def no_client(_chain: str) -> Any:
    raise AssertionError("this test must not reach a chain")


@pytest.fixture
def families() -> FamilyRegistry:
    return FamilyRegistry(
        [
            EvmFamily(no_client, SignerRegistry([LocalKeySigner(EVM_KEY)])),
            SolanaFamily(no_client, SolanaSignerRegistry([LocalKeypairSigner(SOL_KEYPAIR)])),
        ]
    )


# -- addresses ------------------------------------------------------------------------------------


def test_each_family_parses_its_own_addresses(families: FamilyRegistry) -> None:
    assert families.get("evm").parse_address(EVM_TO, "to") == EVM_TO
    assert families.get("solana").parse_address(f"  {SOL_TO} ", "recipient") == SOL_TO
    assert families.get("solana").parse_address(PDA) == PDA  # any address; wallets are the request's check


@pytest.mark.parametrize(
    ("family", "value", "message"),
    [
        ("evm", EVM_TO.lower().replace("0x3c", "0x3C"), "recipient: .* fails the EIP-55 checksum \\(did you mean"),
        ("evm", "0x1234", "recipient: '0x1234' is not a 0x-prefixed 20-byte hex address"),
        ("evm", SOL_TO, "recipient: .* is not a 0x-prefixed 20-byte hex address"),
        ("solana", EVM_TO, "recipient: .* is not a Solana address \\(base58 of 32 bytes\\)"),
        ("solana", "not-base58-0OIl", "recipient: .* is not a Solana address"),
        ("solana", 42, "recipient: expected a base58 Solana address, got int"),
    ],
)
def test_address_errors_name_the_field(families: FamilyRegistry, family: str, value: object, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        families.get(family).parse_address(value, "recipient")


# -- exclusivity ----------------------------------------------------------------------------------


def test_exclusivity_descriptors_say_when_another_attempt_is_safe() -> None:
    nonce = NonceExclusivity(nonce=7)
    recent = BlockhashExpiry(blockhash=BLOCKHASH, last_valid_block_height=1_000)
    durable = DurableNonce(nonce_account=SOL_ADDR, nonce_value=BLOCKHASH)
    assert (nonce.key, nonce.replacement) == ("nonce:7", Replacement.SAME_KEY)
    assert (recent.key, recent.replacement) == (f"blockhash:{BLOCKHASH}", Replacement.AFTER_EXPIRY)
    assert (durable.key, durable.replacement) == (f"durable_nonce:{SOL_ADDR}:{BLOCKHASH}", Replacement.ADVANCE_NONCE)
    for descriptor in (nonce, recent, durable):  # the ledger stores them as JSON text
        assert EXCLUSIVITY.validate_json(descriptor.model_dump_json()) == descriptor
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        EXCLUSIVITY.validate_python({"kind": "sequence", "sequence": 3})
    with pytest.raises(ValidationError):
        NonceExclusivity(nonce=-1)


async def test_an_adapter_refuses_another_familys_exclusivity(families: FamilyRegistry) -> None:
    fee = FeeQuote(family="evm", unit="wei per gas", base=1, priority=1, max_price=2)
    recent = BlockhashExpiry(blockhash=BLOCKHASH, last_valid_block_height=1)
    with pytest.raises(InvalidRequest, match="a evm transaction is not bound by 'blockhash'"):
        await families.get("evm").build_and_sign(
            "devnet-a", NativeTransfer(sender=EVM_ADDR, recipient=EVM_TO, amount=1), fee, recent
        )
    with pytest.raises(InvalidRequest, match="a solana transaction is not bound by 'nonce'"):
        await families.get("solana").build_and_sign(
            "solana-devnet", NativeTransfer(sender=SOL_ADDR, recipient=SOL_TO, amount=1), fee, NonceExclusivity(nonce=0)
        )


def test_commitment_levels_and_chain_keys() -> None:
    assert reaches("finalized", "confirmed") and reaches("confirmed", "confirmed")
    assert not reaches("processed", "confirmed")
    assert chain_key("evm", 31337) == "eip155:31337" and chain_key("solana", "solana-devnet") == "solana:solana-devnet"


# -- the registry ---------------------------------------------------------------------------------


def test_registry_looks_families_up_by_name(families: FamilyRegistry) -> None:
    assert families.families == ["evm", "solana"]
    with pytest.raises(InvalidRequest, match="no adapter for chain family 'cosmos' \\(known: evm, solana\\)"):
        families.get("cosmos")
    with pytest.raises(InvalidRequest, match="registered twice"):
        families.add(SolanaFamily(no_client, SolanaSignerRegistry()))


# -- signers --------------------------------------------------------------------------------------


def test_every_familys_signer_is_a_chain_signer(families: FamilyRegistry) -> None:
    evm, sol = families.get("evm").signer(EVM_ADDR), families.get("solana").signer(SOL_ADDR)
    assert isinstance(evm, ChainSigner) and isinstance(sol, ChainSigner)
    assert (evm.family, evm.address, sol.family, sol.address) == ("evm", EVM_ADDR, "solana", SOL_ADDR)
    assert repr(evm) == f"LocalKeySigner({EVM_ADDR})" and repr(sol) == f"LocalKeypairSigner({SOL_ADDR})"
    with pytest.raises(SignerUnavailable, match=f"no key for Solana signer {SOL_TO}"):
        families.get("solana").signer(SOL_TO)


async def test_sign_payload_is_what_each_family_signs() -> None:
    sol = LocalKeypairSigner(SOL_KEYPAIR)
    message = b"a serialized message"
    assert await sol.sign_payload(message) == bytes(SOL_KEYPAIR.sign_message(message))
    evm = LocalKeySigner(EVM_KEY)
    digest = bytes(range(32))
    signature = await evm.sign_payload(digest)
    assert len(signature) == 65 and signature[64] in (0, 1)
    assert Account._recover_hash(digest, vrs=(signature[64], signature[:32], signature[32:64])) == EVM_ADDR
    with pytest.raises(InvalidRequest, match="32-byte digests, not 3 bytes"):
        await evm.sign_payload(b"abc")


class DigestOnlySigner(Signer):
    """What a KMS-backed signer implements: an address and a digest signature."""

    def __init__(self, key: str) -> None:
        self._inner = LocalKeySigner(key)
        self.address = self._inner.address

    async def sign_payload(self, payload: bytes) -> bytes:
        return await self._inner.sign_payload(payload)


async def test_a_digest_only_signer_signs_the_same_transaction_as_a_local_key() -> None:
    tx = {
        "type": 2, "chainId": 31337, "nonce": 3, "to": EVM_TO, "value": 10**15, "data": "0x", "gas": 21_000,
        "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9,
    }  # fmt: skip
    assert await DigestOnlySigner(EVM_KEY).sign_transaction(tx) == await LocalKeySigner(EVM_KEY).sign_transaction(tx)


# -- requests discriminated by family -------------------------------------------------------------

EVM_JSON = {
    "request_id": "order-42", "chain": "devnet-a", "signer": EVM_ADDR, "to": EVM_TO, "value": "1000",
    "fees": {"max_fee_per_gas_cap": 100_000_000_000},
}  # fmt: skip
SOL_JSON = {"request_id": "sol-1", "signer": SOL_ADDR, "recipient": SOL_TO, "asset": "USDC", "amount": "12.5"}


def test_todays_plain_json_parses_as_its_family() -> None:
    evm, sol = parse_chain_request(EVM_JSON), parse_chain_request(json.dumps(SOL_JSON))
    assert isinstance(evm, TxRequest) and evm.family == "evm" and evm.workflow_type == "TransactionLifecycle"
    assert isinstance(sol, SolTransferRequest) and sol.family == "solana" and sol.amount == Decimal("12.5")
    assert sol.workflow_type == "SolanaTransaction" and sol.workflow_id == "sol-sol-1"
    # each workflow's own model takes today's input unchanged, and an explicit family
    assert TxRequest.model_validate(EVM_JSON) == evm == TxRequest.model_validate({**EVM_JSON, "family": "evm"})
    assert SolTransferRequest.model_validate(SOL_JSON) == sol
    assert parse_chain_request({**SOL_JSON, "family": "solana"}) == sol


def test_a_request_of_the_wrong_or_unknown_family_is_refused() -> None:
    with pytest.raises(ValidationError, match="family must be one of: evm, solana"):
        parse_chain_request({**SOL_JSON, "family": "cosmos"})
    with pytest.raises(ValidationError, match="Input should be 'evm'"):
        TxRequest.model_validate({**EVM_JSON, "family": "solana"})
    with pytest.raises(ValidationError) as info:  # the EVM model's own errors, input not echoed
        parse_chain_request({**EVM_JSON, "family": "evm", "to": "0x1234"})
    assert "is not a 0x-prefixed 20-byte hex address" in str(info.value) and "order-42" not in str(info.value)
    with pytest.raises(ValidationError, match="requests must not carry secrets \\(field 'private_key'\\)") as info:
        parse_chain_request({**SOL_JSON, "private_key": "5" * 88})
    assert "5" * 88 not in str(info.value)
