"""Building, broadcasting and observing EIP-1559 transactions.

Broadcast errors are classified by the node's message, because nodes agree on wording
rather than codes: geth, anvil and reth all say "nonce too low", "already known" and
"replacement transaction underpriced".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import AsyncWeb3
from web3.exceptions import TransactionNotFound, Web3RPCError

from connectors.evm.client import EvmClient
from crosslane.domain.tx import BroadcastOutcome
from crosslane.errors import BroadcastRejected

_OUTCOME_BY_MESSAGE: list[tuple[str, BroadcastOutcome]] = [
    ("already known", BroadcastOutcome.ALREADY_KNOWN),
    ("already imported", BroadcastOutcome.ALREADY_KNOWN),
    ("known transaction", BroadcastOutcome.ALREADY_KNOWN),
    ("nonce too low", BroadcastOutcome.NONCE_TOO_LOW),
    ("replacement transaction underpriced", BroadcastOutcome.UNDERPRICED),
    ("replacement underpriced", BroadcastOutcome.UNDERPRICED),
    ("less than block base fee", BroadcastOutcome.FEE_BELOW_BASE_FEE),
    ("fee cap less than block base fee", BroadcastOutcome.FEE_BELOW_BASE_FEE),
]


def classify_send_error(message: str) -> BroadcastOutcome | None:
    lowered = message.lower()
    for needle, outcome in _OUTCOME_BY_MESSAGE:
        if needle in lowered:
            return outcome
    return None


def eip1559_tx(
    *,
    chain_id: int,
    nonce: int,
    to: str,
    value: int,
    data: str,
    gas: int,
    max_fee_per_gas: int,
    max_priority_fee_per_gas: int,
) -> dict[str, Any]:
    return {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "to": to,
        "value": value,
        "data": data,
        "gas": gas,
        "maxFeePerGas": max_fee_per_gas,
        "maxPriorityFeePerGas": max_priority_fee_per_gas,
    }


async def send_raw(client: EvmClient, raw_tx: str) -> BroadcastOutcome:
    """Send signed bytes; a node that already has them (or mined them) is not an error.

    Raises ``BroadcastRejected`` for refusals a retry cannot fix; transport failures
    surface as ``RpcUnavailable`` (retryable).
    """

    async def _send(w3: AsyncWeb3) -> BroadcastOutcome:
        try:
            await w3.eth.send_raw_transaction(raw_tx)
        except (Web3RPCError, ValueError) as exc:
            outcome = classify_send_error(str(exc))
            if outcome is None:
                raise BroadcastRejected(f"{client.chain.name} refused the transaction: {_node_message(exc)}") from None
            return outcome
        return BroadcastOutcome.SENT

    return await client.call(_send, "eth_sendRawTransaction")


def _node_message(exc: Exception) -> str:
    message = exc.args[0] if exc.args else exc
    if isinstance(message, dict):
        return str(message.get("message", message))
    return str(message)


@dataclass(frozen=True)
class MinedTx:
    tx_hash: str
    block_number: int
    block_hash: str
    status: int  # 1 success, 0 reverted
    gas_used: int
    effective_gas_price: int


async def get_receipt(client: EvmClient, tx_hash: str) -> MinedTx | None:
    async def _receipt(w3: AsyncWeb3) -> MinedTx | None:
        try:
            receipt = await w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        if receipt is None or receipt.get("blockNumber") is None:
            return None
        return MinedTx(
            tx_hash=tx_hash.lower(),
            block_number=int(receipt["blockNumber"]),
            block_hash="0x" + bytes(receipt["blockHash"]).hex(),
            status=int(receipt["status"]),
            gas_used=int(receipt["gasUsed"]),
            effective_gas_price=int(receipt.get("effectiveGasPrice", 0)),
        )

    return await client.call(_receipt, "eth_getTransactionReceipt")


async def block_hash_at(client: EvmClient, number: int) -> str | None:
    async def _block(w3: AsyncWeb3) -> str | None:
        try:
            block = await w3.eth.get_block(number)
        except Exception:  # noqa: BLE001 - a missing block after a reorg reads as "no hash"
            return None
        return "0x" + bytes(block["hash"]).hex()

    return await client.call(_block, "eth_getBlockByNumber")


async def is_known(client: EvmClient, tx_hash: str) -> bool:
    """Whether the node still has the transaction (pending or mined); false once evicted."""

    async def _lookup(w3: AsyncWeb3) -> bool:
        try:
            return await w3.eth.get_transaction(tx_hash) is not None  # type: ignore[arg-type]
        except TransactionNotFound:
            return False

    return await client.call(_lookup, "eth_getTransactionByHash")


async def find_mined(client: EvmClient, tx_hashes: list[str]) -> MinedTx | None:
    """The attempt that mined, if any: at most one can, since they share a nonce."""
    for tx_hash in tx_hashes:
        mined = await get_receipt(client, tx_hash)
        if mined is not None:
            return mined
    return None


async def is_canonical(client: EvmClient, mined: MinedTx) -> bool:
    """Reorg check: the receipt's block is still the chain's block at that height."""
    return await block_hash_at(client, mined.block_number) == mined.block_hash
