"""Wormhole VAA v1: the format guardians sign and the contracts verify, and the token
bridge's transfer payload.

Layout (big-endian)::

    header: version u8 (=1) | guardian_set_index u32 | n u8 | n x (index u8 | r 32 | s 32 | v u8)
    body:   timestamp u32 | nonce u32 | emitter_chain u16 | emitter_address 32 | sequence u64
            | consistency_level u8 | payload

Guardians sign ``keccak256(keccak256(body))``; the contracts key replay protection on the
same hash. Quorum is ``2n // 3 + 1`` of the guardian set.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from eth_utils.crypto import keccak

VAA_VERSION = 1


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
