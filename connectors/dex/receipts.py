"""A mined transaction's receipt with its logs, and event decoding by signature.

Results of DEX transactions are read from these events (exact amounts, token ids,
liquidity), never from the estimates made before sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

from connectors.evm.client import EvmClient
from crosslane.errors import InvalidRequest


def event_topic(signature: str) -> bytes:
    """topic0 of an event: keccak256 of its canonical signature, e.g. ``Transfer(address,address,uint256)``."""
    return keccak(text=signature)


@dataclass(frozen=True)
class EventLog:
    address: str  # checksummed emitter
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int

    def is_event(self, address: str, topic0: bytes, topic_count: int | None = None) -> bool:
        if self.address != address or not self.topics or self.topics[0] != topic0:
            return False
        return topic_count is None or len(self.topics) == topic_count

    def indexed(self, i: int, abi_type: str) -> Any:
        """The ``i``-th indexed argument (1-based, after topic0), decoded as ``abi_type``."""
        return abi_decode([abi_type], self.topics[i])[0]

    def decoded(self, abi_types: list[str]) -> tuple[Any, ...]:
        """The non-indexed arguments."""
        return tuple(abi_decode(abi_types, self.data))


@dataclass(frozen=True)
class ReceiptLogs:
    tx_hash: str
    status: int  # 1 success, 0 reverted
    block_number: int
    gas_used: int
    effective_gas_price: int
    sender: str
    to: str | None
    logs: tuple[EventLog, ...]


async def receipt_logs(client: EvmClient, tx_hash: str) -> ReceiptLogs:
    """The receipt of a mined transaction; refuses one the node does not know as mined."""

    async def _receipt(w3: AsyncWeb3) -> Any:
        try:
            return await w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    receipt = await client.call(_receipt, "eth_getTransactionReceipt")
    if receipt is None or receipt.get("blockNumber") is None:
        raise InvalidRequest(f"{client.chain.name}: transaction {tx_hash} is not mined")
    logs = tuple(
        EventLog(
            address=to_checksum_address(log["address"]),
            topics=tuple(bytes(t) for t in log["topics"]),
            data=bytes(log["data"]),
            log_index=int(log["logIndex"]),
        )
        for log in receipt["logs"]
    )
    to = receipt.get("to")
    return ReceiptLogs(
        tx_hash=tx_hash.lower(),
        status=int(receipt["status"]),
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
        effective_gas_price=int(receipt.get("effectiveGasPrice", 0)),
        sender=to_checksum_address(receipt["from"]),
        to=to_checksum_address(to) if to else None,
        logs=logs,
    )


_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


def decode_revert(output: bytes) -> str:
    """A revert's return data as text: the ``Error(string)`` message, ``Panic(code)``, or hex."""
    if output[:4] == _ERROR_STRING:
        try:
            return str(abi_decode(["string"], output[4:])[0])
        except Exception:  # noqa: BLE001 - malformed revert data is shown raw below
            pass
    if output[:4] == _PANIC and len(output) == 36:
        return f"panic 0x{int.from_bytes(output[4:], 'big'):x}"
    return "0x" + output.hex() if output else ""


async def revert_reason(client: EvmClient, receipt: ReceiptLogs, data: str, value: int = 0) -> str:
    """Why a mined transaction reverted.

    From the node's call tracer (``debug_traceTransaction``), which re-executes it in its
    block after the transactions before it; where the node has no tracer, the same call
    replayed by ``eth_call`` on the state before the block (marked so: an earlier
    transaction of the block may be what made it revert).
    """
    try:
        trace = await client.rpc("debug_traceTransaction", [receipt.tx_hash, {"tracer": "callTracer"}])
    except RuntimeError:
        trace = None
    if isinstance(trace, dict):
        output = bytes.fromhex(str(trace.get("output") or "0x").removeprefix("0x"))
        return decode_revert(output) or str(trace.get("revertReason") or trace.get("error") or "")
    if receipt.to is None:
        return ""

    async def _replay(w3: AsyncWeb3) -> str:
        tx: dict[str, Any] = {"from": receipt.sender, "to": receipt.to, "data": data, "value": value}
        try:
            await w3.eth.call(tx, receipt.block_number - 1)  # type: ignore[arg-type]
        except (ContractLogicError, Web3RPCError) as exc:  # the revert is the answer we are after
            return f"{getattr(exc, 'message', None) or exc} (replayed before its block)"
        return "(no tracer; the call succeeds on the state before its block)"

    return await client.call(_replay, "eth_call (revert reason)")
