"""Why a mined swap reverted, and whether that was its slippage bound.

The reason comes from the node's ``debug_traceTransaction`` call tracer (exact: it replays
the transaction in its block, after the transactions before it). A node without tracing
gets the call replayed with ``eth_call`` on the state before the block, which misses a
price moved by an earlier transaction of the same block: that case reads as "unknown".
"""

from __future__ import annotations

from enum import StrEnum

from eth_abi.abi import decode as abi_decode

from connectors.dex.receipts import ReceiptLogs, revert_reason
from connectors.evm.client import EvmClient

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)

SLIPPAGE_REASONS = (
    "Too little received",  # SwapRouter exactInput*
    "Too much requested",  # SwapRouter exactOutput*
    "INSUFFICIENT_OUTPUT_AMOUNT",  # Router02 swapExactTokensForTokens
    "EXCESSIVE_INPUT_AMOUNT",  # Router02 swapTokensForExactTokens
)
DEADLINE_REASONS = ("Transaction too old", "UniswapV2Router: EXPIRED")


class SwapRevert(StrEnum):
    SLIPPAGE = "slippage"
    DEADLINE = "deadline"
    OTHER = "other"


def classify_revert(reason: str) -> SwapRevert:
    if any(r in reason for r in SLIPPAGE_REASONS):
        return SwapRevert.SLIPPAGE
    if any(r in reason for r in DEADLINE_REASONS):
        return SwapRevert.DEADLINE
    return SwapRevert.OTHER


def decode_error_string(output: str | bytes | None) -> str:
    """The message of a Solidity ``Error(string)`` revert payload; "" for anything else."""
    raw = bytes.fromhex(output.removeprefix("0x")) if isinstance(output, str) else (output or b"")
    if not raw.startswith(_ERROR_STRING):
        return ""
    try:
        return str(abi_decode(["string"], raw[4:])[0])
    except Exception:  # noqa: BLE001 - a malformed payload is just not a reason
        return ""


async def traced_revert_reason(client: EvmClient, tx_hash: str) -> str | None:
    """The top call's revert reason from the call tracer; None if the node cannot trace."""
    try:
        trace = await client.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
    except RuntimeError:
        return None
    if not isinstance(trace, dict):
        return None
    reason = trace.get("revertReason") or decode_error_string(trace.get("output"))
    return str(reason or trace.get("error") or "")


async def swap_revert_reason(client: EvmClient, receipt: ReceiptLogs, calldata: str) -> str:
    """Why the swap in ``receipt`` reverted (node wording)."""
    traced = await traced_revert_reason(client, receipt.tx_hash)
    if traced is not None:
        return traced
    return await revert_reason(client, receipt, calldata)
