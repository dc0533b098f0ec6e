"""Wormhole VAA v1: encoding, guardian signing, parsing; governance payloads.

Layout (big-endian)::

    header: version u8 (=1) | guardian_set_index u32 | n u8 | n x (index u8 | r 32 | s 32 | v u8)
    body:   timestamp u32 | nonce u32 | emitter_chain u16 | emitter_address 32 | sequence u64
            | consistency_level u8 | payload

Guardians sign ``keccak256(keccak256(body))`` (secp256k1, recoverable; ``v`` is the
recovery id 0/1: the core contract adds 27), signatures sorted by guardian index.
The devnet guardian set is four fixed keys; quorum is ``2n // 3 + 1`` (3 of 4).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from coincurve import PrivateKey
from eth_account import Account
from eth_utils.crypto import keccak

VAA_VERSION = 1
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


def quorum(guardians: int) -> int:
    """Wormhole's quorum: more than two thirds, ``2n // 3 + 1``."""
    return guardians * 2 // 3 + 1


def emitter_bytes32(address: str | bytes) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x")) if isinstance(address, str) else address
    if len(raw) > 32:
        raise ValueError("emitter address longer than 32 bytes")
    return raw.rjust(32, b"\x00")


@dataclass(frozen=True)
class Signature:
    index: int
    r: bytes
    s: bytes
    v: int  # recovery id, 0 or 1

    def encode(self) -> bytes:
        return bytes([self.index]) + self.r + self.s + bytes([self.v])


@dataclass(frozen=True)
class VAABody:
    timestamp: int
    nonce: int
    emitter_chain: int
    emitter_address: bytes  # 32 bytes
    sequence: int
    consistency_level: int
    payload: bytes

    def encode(self) -> bytes:
        if len(self.emitter_address) != 32:
            raise ValueError("emitter_address must be 32 bytes")
        return (
            struct.pack(">IIH", self.timestamp, self.nonce, self.emitter_chain)
            + self.emitter_address
            + struct.pack(">QB", self.sequence, self.consistency_level)
            + self.payload
        )

    def digest(self) -> bytes:
        """What guardians sign: keccak256(keccak256(body))."""
        return keccak(keccak(self.encode()))

    @property
    def message_id(self) -> str:
        """``chain/emitter(hex, 64)/sequence``, as the guardian REST API addresses it."""
        return f"{self.emitter_chain}/{self.emitter_address.hex()}/{self.sequence}"


@dataclass(frozen=True)
class VAA:
    guardian_set_index: int
    signatures: tuple[Signature, ...]
    body: VAABody
    version: int = VAA_VERSION

    def encode(self) -> bytes:
        sigs = sorted(self.signatures, key=lambda s: s.index)
        head = struct.pack(">BIB", self.version, self.guardian_set_index, len(sigs))
        return head + b"".join(s.encode() for s in sigs) + self.body.encode()

    @property
    def hash(self) -> bytes:
        """The VM hash the contracts key replay protection on: keccak256(keccak256(body))."""
        return self.body.digest()


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


def parse_vaa(data: bytes) -> VAA:
    if len(data) < 6:
        raise ValueError("VAA too short")
    version, gsi, n = struct.unpack_from(">BIB", data, 0)
    if version != VAA_VERSION:
        raise ValueError(f"unsupported VAA version {version}")
    off = 6
    sigs = []
    for _ in range(n):
        if len(data) < off + 66:
            raise ValueError("VAA truncated in signatures")
        sigs.append(Signature(data[off], data[off + 1 : off + 33], data[off + 33 : off + 65], data[off + 65]))
        off += 66
    if len(data) < off + 51:
        raise ValueError("VAA truncated in body")
    timestamp, nonce, chain = struct.unpack_from(">IIH", data, off)
    emitter = data[off + 10 : off + 42]
    sequence, consistency = struct.unpack_from(">QB", data, off + 42)
    body = VAABody(timestamp, nonce, chain, emitter, sequence, consistency, data[off + 51 :])
    return VAA(gsi, tuple(sigs), body, version)


def recover_signers(vaa: VAA) -> dict[int, str]:
    """Guardian index -> recovered address, for checking a VAA off-chain."""
    from coincurve import PublicKey

    digest = vaa.body.digest()
    out = {}
    for s in vaa.signatures:
        pub = PublicKey.from_signature_and_message(s.r + s.s + bytes([s.v]), digest, hasher=None)
        out[s.index] = "0x" + keccak(pub.format(compressed=False)[1:])[-20:].hex()
    return out


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


@dataclass(frozen=True)
class TransferPayload:
    """Token bridge payload 1 (amounts normalised to at most 8 decimals)."""

    amount: int
    token_address: bytes
    token_chain: int
    to: bytes
    to_chain: int
    fee: int

    @classmethod
    def parse(cls, payload: bytes) -> TransferPayload:
        if len(payload) < 133 or payload[0] != 1:
            raise ValueError("not a token bridge transfer payload")
        amount = int.from_bytes(payload[1:33], "big")
        (token_chain,) = struct.unpack_from(">H", payload, 65)
        (to_chain,) = struct.unpack_from(">H", payload, 99)
        fee = int.from_bytes(payload[101:133], "big")
        return cls(amount, payload[33:65], token_chain, payload[67:99], to_chain, fee)
