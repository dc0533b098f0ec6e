"""The devnet's Solana accounts: keypairs derived from public seeds, like anvil's dev
accounts. Index 0 is the mint authority (it also pays for seeding); 1..4 are the signers
``crosslane dev up`` loads into the worker. Devnet only: anyone can derive these keys."""

from __future__ import annotations

import hashlib

from solders.keypair import Keypair

MINT_AUTHORITY = 0
DEV_SIGNER_INDEXES = (1, 2, 3, 4)


def dev_keypair(index: int) -> Keypair:
    return Keypair.from_seed(hashlib.sha256(f"crosslane-devnet-solana-{index}".encode()).digest())


def dev_signer_keys() -> str:
    """``CROSSLANE_SOLANA_KEYS`` for the dev worker: the dev signers' base58 keypairs."""
    return ",".join(str(dev_keypair(i)) for i in DEV_SIGNER_INDEXES)


def dev_signer_addresses() -> list[str]:
    return [str(dev_keypair(i).pubkey()) for i in DEV_SIGNER_INDEXES]
