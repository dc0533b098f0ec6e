"""Batched contract reads through Multicall3, pinned to one block.

Unlike :func:`connectors.evm.multicall.multicall`, every batch also returns the block it
read (``getBlockNumber`` rides along), later batches can be pinned to that block so a
multi-step read sees one consistent state, and a call to an address without code (empty
return data) reads as ``None`` instead of failing to decode: that is how pool discovery
tells a missing pool from an existing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError

from connectors.evm.client import EvmClient
from connectors.evm.multicall import MULTICALL3_ADDRESS

_AGGREGATE3 = function_signature_to_4byte_selector("aggregate3((address,bool,bytes)[])")
_GET_BLOCK_NUMBER = function_signature_to_4byte_selector("getBlockNumber()")


def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


@dataclass(frozen=True, slots=True)
class Read:
    target: str
    calldata: bytes
    output_types: tuple[str, ...]

    @classmethod
    def of(cls, target: str, signature: str, output_types: tuple[str, ...], *args: Any) -> Read:
        """``Read.of(pool, "ticks(int24)", (...), 60)``: argument types come from the signature."""
        arg_types = signature[signature.index("(") + 1 : -1]
        encoded = abi_encode([t for t in arg_types.split(",") if t], list(args)) if args else b""
        return cls(target, selector(signature) + encoded, output_types)


@dataclass(frozen=True)
class Batch:
    block_number: int
    results: list[tuple[Any, ...] | None]  # decoded outputs in call order; None: reverted or no code


async def read_batch(
    client: EvmClient,
    reads: list[Read],
    *,
    block: int | None = None,
    multicall_address: str = MULTICALL3_ADDRESS,
) -> Batch:
    """One ``eth_call`` of ``aggregate3`` at ``block`` (latest if None): one RPC round trip."""
    calls = [(r.target, True, r.calldata) for r in reads]
    calls.append((multicall_address, False, _GET_BLOCK_NUMBER))
    calldata = "0x" + (_AGGREGATE3 + abi_encode(["(address,bool,bytes)[]"], [calls])).hex()

    async def _call(w3: AsyncWeb3) -> bytes:
        tx: dict[str, Any] = {"to": multicall_address, "data": calldata}
        return bytes(await w3.eth.call(tx, "latest" if block is None else block))  # type: ignore[arg-type]

    raw = await client.call(_call, f"multicall3.aggregate3({len(reads)} reads)")
    (replies,) = abi_decode(["(bool,bytes)[]"], raw)
    *answers, (_, block_data) = replies
    results: list[tuple[Any, ...] | None] = []
    for read, (ok, data) in zip(reads, answers, strict=True):
        if not ok or not data:
            results.append(None)
            continue
        try:
            results.append(tuple(abi_decode(list(read.output_types), data)))
        except DecodingError:
            results.append(None)
    return Batch(block_number=int.from_bytes(block_data, "big"), results=results)


class CallReverted(Exception):
    """A single ``eth_call`` reverted; ``reason`` is the node's message (may be empty)."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what} reverted: {reason or '(no reason)'}")
        self.reason = reason


async def call_contract(
    client: EvmClient, target: str, calldata: bytes, what: str, *, block: int | None = None
) -> bytes:
    """One ``eth_call`` (state-changing functions such as QuoterV2's are only simulated)."""

    async def _call(w3: AsyncWeb3) -> bytes:
        tx: dict[str, Any] = {"to": target, "data": "0x" + calldata.hex()}
        try:
            return bytes(await w3.eth.call(tx, "latest" if block is None else block))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise CallReverted(what, str(exc.message or exc)) from exc

    return await client.call(_call, what)
