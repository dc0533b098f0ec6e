"""Solana input validation: addresses, amounts, keypairs, the priority-fee policy."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from connectors.solana.address import SolanaAddress, SolanaWallet, parse_address
from connectors.solana.amounts import positive_base_units, token_units
from connectors.solana.fees import PriorityFeePolicy, priority_fee_lamports, transaction_fee_lamports
from connectors.solana.signer import LocalKeypairSigner, SolanaSignerRegistry, parse_keypair
from crosslane.errors import InvalidRequest, SignerUnavailable, describe_validation_error

WALLET = str(Keypair.from_seed(bytes(range(32))).pubkey())  # fixed: test ids must match across pytest-xdist workers
PDA = str(
    Pubkey.find_program_address([b"escrow"], Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"))[0]
)


class Transfer(BaseModel):
    recipient: SolanaWallet
    mint: SolanaAddress


def test_valid_addresses_parse() -> None:
    assert str(parse_address(WALLET, wallet=True)) == WALLET
    assert str(parse_address(PDA)) == PDA  # any address may be a PDA where no wallet is required
    assert Transfer(recipient=f" {WALLET} ", mint=PDA).recipient == WALLET


@pytest.mark.parametrize(
    "value",
    ["", "0x" + "ab" * 20, "0OIl" * 11, WALLET[:-4], WALLET + "1111", "not base58!", 42],
)
def test_bad_addresses_are_refused_with_the_field_named(value: object) -> None:
    with pytest.raises(InvalidRequest, match="^recipient: "):
        parse_address(value, "recipient")


def test_off_curve_address_is_refused_where_a_wallet_is_required() -> None:
    with pytest.raises(InvalidRequest, match="recipient: .* off the ed25519 curve .* not a wallet"):
        parse_address(PDA, "recipient", wallet=True)
    with pytest.raises(ValidationError) as refused:
        Transfer(recipient=PDA, mint=PDA)
    assert describe_validation_error(refused.value).startswith("recipient: ")
    assert "off the ed25519 curve" in describe_validation_error(refused.value)


def test_token_amounts() -> None:
    assert token_units(Decimal("12.5"), 6) == 12_500_000
    assert token_units("0.000001", 6) == 1
    assert token_units(Decimal("1.000000000"), 9) == 10**9


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("1.0000001"), "more than 6 decimal places"),
        (Decimal("0"), "must be positive"),
        (Decimal("-1"), "must be positive"),
        ("abc", "not a number"),
        (Decimal("NaN"), "not a finite amount"),
        (Decimal("18446744073709.551616"), "does not fit in a u64"),
    ],
)
def test_bad_token_amounts(amount: Decimal | str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=f"^amount: .*{message}"):
        token_units(amount, 6)


@pytest.mark.parametrize("amount", [0, -5, True, 1.5, Decimal(1)])
def test_base_units_must_be_positive_ints(amount: object) -> None:
    with pytest.raises(InvalidRequest, match="^lamports: "):
        positive_base_units(amount, "lamports")  # type: ignore[arg-type]


def test_keypair_secrets_parse_and_never_show() -> None:
    keypair = Keypair()
    as_base58 = str(keypair)
    as_json = json.dumps(list(bytes(keypair)))
    for secret in (as_base58, as_json, bytes(keypair)):
        signer = LocalKeypairSigner(secret)
        assert signer.address == str(keypair.pubkey())
        assert as_base58 not in repr(signer) and as_base58 not in str(signer)
    assert repr(LocalKeypairSigner(as_base58)) == f"LocalKeypairSigner({keypair.pubkey()})"
    with pytest.raises(InvalidRequest) as refused:
        parse_keypair(as_base58[:-3])
    assert as_base58[:-3] not in str(refused.value)


def test_registry_from_env() -> None:
    keypair = Keypair()
    registry = SolanaSignerRegistry.from_env({"CROSSLANE_SOLANA_KEYS": f" {keypair} ,"})
    assert registry.addresses == [str(keypair.pubkey())]
    assert registry.get(str(keypair.pubkey())).address == str(keypair.pubkey())
    with pytest.raises(SignerUnavailable, match="CROSSLANE_SOLANA_KEYS"):
        registry.get(WALLET)
    with pytest.raises(InvalidRequest) as refused:
        SolanaSignerRegistry.from_env({"CROSSLANE_SOLANA_KEYS": "secret-but-wrong"})
    assert "secret-but-wrong" not in str(refused.value)


def test_priority_fee_policy() -> None:
    policy = PriorityFeePolicy(percentile=75, floor_micro_lamports=10, cap_micro_lamports=1_000)
    assert policy.price([]) == 10
    assert policy.price([0, 0, 0, 0]) == 10
    assert policy.price([100, 200, 300, 400]) == 300
    assert policy.price([5_000, 9_000]) == 1_000  # capped
    assert policy.bumped(400) == 500  # +25%
    assert policy.bumped(0) == 1
    assert policy.bumped(900) == 1_000  # never above the cap
    assert policy.bumped(1_000) == 1_000


def test_fee_arithmetic() -> None:
    assert priority_fee_lamports(1, 1) == 1  # rounded up, as the runtime charges
    assert priority_fee_lamports(2_000_000, 1_000) == 2_000
    assert transaction_fee_lamports(2, 0, 200_000) == 10_000
