"""OP Stack withdrawals as the L1 ``OptimismPortal`` checks them (contracts-bedrock's
``Hashing``/``Types``): the withdrawal transaction from the L2 ``MessagePassed`` event, its
hash, the message passer storage slot that proves it, and the output root proof.

Pure functions over JSON-RPC answers, so the adapter and the devnet share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

MESSAGE_PASSED = keccak(text="MessagePassed(uint256,address,address,uint256,uint256,bytes,bytes32)")
WITHDRAWAL_TX_TYPE = "(uint256,address,address,uint256,uint256,bytes)"
OUTPUT_ROOT_PROOF_TYPE = "(bytes32,bytes32,bytes32,bytes32)"


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else bytes.fromhex(value.removeprefix("0x"))


@dataclass(frozen=True)
class WithdrawalTx:
    """``Types.WithdrawalTransaction``: what the portal proves and finalizes."""

    nonce: int
    sender: str
    target: str
    value: int
    gas_limit: int
    data: bytes

    def as_tuple(self) -> tuple[int, str, str, int, int, bytes]:
        return (self.nonce, self.sender, self.target, self.value, self.gas_limit, self.data)

    @property
    def hash(self) -> bytes:
        """``Hashing.hashWithdrawal``."""
        return keccak(
            abi_encode(["uint256", "address", "address", "uint256", "uint256", "bytes"], list(self.as_tuple()))
        )

    @property
    def storage_slot(self) -> bytes:
        """The ``sentMessages[hash]`` slot of ``L2ToL1MessagePasser`` (the mapping is slot 0)."""
        return keccak(abi_encode(["bytes32", "uint256"], [self.hash, 0]))

    def to_json(self) -> dict[str, Any]:
        return {
            "nonce": str(self.nonce),
            "sender": self.sender,
            "target": self.target,
            "value": str(self.value),
            "gas_limit": str(self.gas_limit),
            "data": "0x" + self.data.hex(),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> WithdrawalTx:
        return cls(
            nonce=int(raw["nonce"]),
            sender=raw["sender"],
            target=raw["target"],
            value=int(raw["value"]),
            gas_limit=int(raw["gas_limit"]),
            data=_bytes(raw["data"]),
        )


def withdrawal_from_log(topics: list[bytes], data: bytes) -> WithdrawalTx:
    """The withdrawal a ``MessagePassed`` log announces (nonce, sender, target are indexed)."""
    if topics[0] != MESSAGE_PASSED:
        raise ValueError("not a MessagePassed log")
    value, gas_limit, payload, withdrawal_hash = abi_decode(["uint256", "uint256", "bytes", "bytes32"], data)
    tx = WithdrawalTx(
        nonce=int.from_bytes(topics[1], "big"),
        sender=to_checksum_address(topics[2][12:]),
        target=to_checksum_address(topics[3][12:]),
        value=value,
        gas_limit=gas_limit,
        data=payload,
    )
    if tx.hash != withdrawal_hash:
        raise ValueError(f"MessagePassed hash {withdrawal_hash.hex()} is not the withdrawal's {tx.hash.hex()}")
    return tx


def output_root_proof(block: dict[str, Any], storage_hash: str | bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """``Types.OutputRootProof`` (version 0) of an L2 block and its message passer storage root."""
    return (bytes(32), _bytes(block["stateRoot"]), _bytes(storage_hash), _bytes(block["hash"]))


def output_root(proof: tuple[bytes, bytes, bytes, bytes]) -> bytes:
    """``Hashing.hashOutputRootProof``: what the proposer posts and the portal recomputes."""
    return keccak(b"".join(proof))
