"""SolTransferRequest refuses bad input at the edge, naming the field and never echoing a key."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crosslane.domain.solana import NATIVE, PriorityFeePolicy, SolTransferRequest
from crosslane.errors import describe_validation_error

SIGNER, RECIPIENT = str(Keypair().pubkey()), str(Keypair().pubkey())
PDA = str(Pubkey.find_program_address([b"vault"], Pubkey.from_string("11111111111111111111111111111111"))[0])
GOOD = {"request_id": "r-1", "signer": SIGNER, "recipient": RECIPIENT, "amount": "1.5"}


def test_a_good_request_and_its_business_key() -> None:
    request = SolTransferRequest.model_validate({**GOOD, "asset": "sol"})
    assert request.asset == NATIVE and request.amount == Decimal("1.5")
    assert request.workflow_id == "sol-r-1" and request.commitment is None
    assert request.fees == PriorityFeePolicy()
    mint = str(Keypair().pubkey())
    assert SolTransferRequest.model_validate({**GOOD, "asset": mint}).asset == mint


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"recipient": "0OIl"}, "recipient: '0OIl' is not a Solana address"),
        ({"recipient": PDA}, f"recipient: {PDA} is off the ed25519 curve"),
        ({"signer": PDA}, "signer: "),
        ({"amount": "0"}, "amount: Input should be greater than 0"),
        ({"amount": "-2"}, "amount: Input should be greater than 0"),
        ({"amount": "0.0000000001"}, "amount: 0.0000000001 has more than 9 decimal places (SOL has 9 decimals)"),
        ({"asset": "US-DC"}, "asset: 'US-DC' is neither a mint symbol nor a mint address"),
        ({"asset": "x" * 40}, "is not a Solana address"),
        ({"recipient": SIGNER}, "recipient: is the signer itself"),
        ({"private_key": "5" * 88}, "requests must not carry secrets (field 'private_key')"),
        ({"secret_key": "5" * 88}, "requests must not carry secrets (field 'secret_key')"),
        ({"keypair": [1] * 64}, "requests must not carry secrets (field 'keypair')"),
        ({"commitment": "final"}, "commitment: "),
    ],
)
def test_bad_input_is_refused_naming_the_field(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SolTransferRequest.model_validate({**GOOD, **patch})
    described = describe_validation_error(refused.value)
    assert message in described
    assert "5" * 88 not in described and "5" * 88 not in str(refused.value)


def test_token_amounts_are_checked_against_the_mint_later() -> None:
    """Decimals of an SPL mint are known only to the plan step (registry or chain)."""
    request = SolTransferRequest.model_validate({**GOOD, "asset": "USDC", "amount": "0.0000000001"})
    assert request.amount == Decimal("1E-10")
