"""Solana addresses (in the core: request models validate them too): base58 of 32 bytes.
A wallet (a key that can sign, and own token accounts through the associated-token
program) is on the ed25519 curve; a program-derived address (PDA) is not, and sending
tokens to one as if it were a wallet loses them."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from solders.pubkey import Pubkey

from crosslane.errors import InvalidRequest


def _pubkey(value: object, wallet: bool) -> Pubkey:
    """ValueError (without a field name) for anything but an address of the wanted kind."""
    if isinstance(value, Pubkey):
        pubkey = value
    elif isinstance(value, str):
        try:
            pubkey = Pubkey.from_string(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a Solana address (base58 of 32 bytes)") from None
    else:
        raise ValueError(f"expected a base58 Solana address, got {type(value).__name__}")
    if wallet and not pubkey.is_on_curve():
        raise ValueError(
            f"{pubkey} is off the ed25519 curve (a program-derived address), not a wallet; "
            "give the owner's wallet address"
        )
    return pubkey


def parse_address(value: object, field: str = "address", *, wallet: bool = False) -> Pubkey:
    """``value`` as a Pubkey; InvalidRequest naming ``field`` when it is not base58 of 32
    bytes, or (``wallet=True``) when it is off the ed25519 curve."""
    try:
        return _pubkey(value, wallet)
    except ValueError as exc:
        raise InvalidRequest(f"{field}: {exc}") from None


def canonical_address(value: object, *, wallet: bool = False) -> str:
    """The base58 text of an address; ValueError (for pydantic validators) otherwise."""
    return str(_pubkey(value, wallet))


SolanaAddress = Annotated[str, AfterValidator(lambda v: canonical_address(v))]
"""A pydantic field holding any Solana address (program, mint, PDA or wallet)."""

SolanaWallet = Annotated[str, AfterValidator(lambda v: canonical_address(v, wallet=True))]
"""A pydantic field holding an on-curve (wallet) Solana address."""
