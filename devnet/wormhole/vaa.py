"""Devnet guardian keys, VAA signing and governance payloads (the format is
:mod:`connectors.bridges.wormhole_vaa`).

Guardians sign ``keccak256(keccak256(body))`` (secp256k1, recoverable; ``v`` is the
recovery id 0/1: the core contract adds 27), signatures sorted by guardian index.
The devnet guardian set is four fixed keys; quorum is 3 of 4.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from coincurve import PrivateKey
from eth_account import Account
from eth_utils.crypto import keccak

from connectors.bridges.wormhole_vaa import VAA, Signature, VAABody, emitter_bytes32

GOVERNANCE_CHAIN_ID = 1
GOVERNANCE_EMITTER = bytes(31) + b"\x04"
TOKEN_BRIDGE_MODULE = b"TokenBridge".rjust(32, b"\x00")
CORE_MODULE = b"Core".rjust(32, b"\x00")

# Fixed devnet guardian keys (devnet only, public by construction): keccak of a label.
DEVNET_GUARDIAN_KEYS: tuple[bytes, ...] = tuple(keccak(text=f"crosslane-devnet-guardian-{i}") for i in range(4))


def guardian_address(key: bytes) -> str:
    return str(Account.from_key(key).address)


def devnet_guardian_addresses() -> list[str]:
    return [guardian_address(k) for k in DEVNET_GUARDIAN_KEYS]


def sign(body: VAABody, key: bytes, index: int) -> Signature:
    sig = PrivateKey(key).sign_recoverable(body.digest(), hasher=None)
    return Signature(index=index, r=sig[:32], s=sig[32:64], v=sig[64])


def sign_vaa(
    body: VAABody,
    keys: Mapping[int, bytes] | Iterable[bytes] = DEVNET_GUARDIAN_KEYS,
    guardian_set_index: int = 0,
) -> VAA:
    """Sign ``body`` with the given guardian keys (a mapping index -> key, or all in order)."""
    items = keys.items() if isinstance(keys, Mapping) else enumerate(keys)
    return VAA(guardian_set_index, tuple(sign(body, k, i) for i, k in sorted(items)), body)


# -- payloads -------------------------------------------------------------------------------


def register_chain_payload(emitter_chain: int, emitter_address: str | bytes, target_chain: int = 0) -> bytes:
    """Token bridge governance action 1, RegisterChain (target chain 0 = every chain)."""
    return (
        TOKEN_BRIDGE_MODULE
        + bytes([1])
        + struct.pack(">HH", target_chain, emitter_chain)
        + emitter_bytes32(emitter_address)
    )


@dataclass
class GovernanceSigner:
    """Signs governance VAAs from the devnet governance emitter (chain 1, 0x..04)."""

    keys: tuple[bytes, ...] = DEVNET_GUARDIAN_KEYS
    guardian_set_index: int = 0
    next_sequence: int = field(default=1)

    def sign(self, payload: bytes, timestamp: int = 0, nonce: int = 0) -> VAA:
        body = VAABody(timestamp, nonce, GOVERNANCE_CHAIN_ID, GOVERNANCE_EMITTER, self.next_sequence, 32, payload)
        self.next_sequence += 1
        return sign_vaa(body, self.keys, self.guardian_set_index)
