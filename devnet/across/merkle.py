"""Keccak Merkle trees as OpenZeppelin's ``MerkleProof.verify`` checks them (sorted-pair hashing).

Across's ``MerkleLib.verifyRelayerRefund`` hashes a leaf as ``keccak256(abi.encode(leaf))``
and verifies with OpenZeppelin's MerkleProof: each step hashes the pair in ascending order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

RELAYER_REFUND_LEAF = "(uint256,uint256,uint256[],uint32,address,address[])"


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


def relayer_refund_leaf_hash(leaf: Sequence[Any]) -> bytes:
    """``keccak256(abi.encode(RelayerRefundLeaf))``; leaf = (amountToReturn, chainId, refundAmounts,
    leafId, l2TokenAddress, refundAddresses)."""
    return keccak(abi_encode([RELAYER_REFUND_LEAF], [tuple(leaf)]))


class MerkleTree:
    """Leaves given as hashes; odd nodes are carried up unpaired (OpenZeppelin-compatible)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        self.layers: list[list[bytes]] = [list(leaves)]
        while len(self.layers[-1]) > 1:
            level = self.layers[-1]
            up = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                up.append(level[-1])
            self.layers.append(up)

    @property
    def root(self) -> bytes:
        return self.layers[-1][0]

    def proof(self, index: int) -> list[bytes]:
        out: list[bytes] = []
        for level in self.layers[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                out.append(level[sibling])
            index //= 2
        return out


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
