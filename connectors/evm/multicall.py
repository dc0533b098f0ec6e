"""Batched reads through Multicall3 ``aggregate3``: one RPC round trip for many calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from web3 import AsyncWeb3

from connectors.evm.client import EvmClient

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
_AGGREGATE3_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "aggregate3",
        "stateMutability": "payable",
        "inputs": [
            {
                "name": "calls",
                "type": "tuple[]",
                "components": [
                    {"name": "target", "type": "address"},
                    {"name": "allowFailure", "type": "bool"},
                    {"name": "callData", "type": "bytes"},
                ],
            }
        ],
        "outputs": [
            {
                "name": "returnData",
                "type": "tuple[]",
                "components": [{"name": "success", "type": "bool"}, {"name": "returnData", "type": "bytes"}],
            }
        ],
    }
]


@dataclass(frozen=True)
class Call:
    target: str
    calldata: str
    output_types: tuple[str, ...]


async def multicall(
    client: EvmClient, calls: list[Call], address: str = MULTICALL3_ADDRESS
) -> list[tuple[Any, ...] | None]:
    """Decoded outputs per call, ``None`` where a call reverted."""

    async def _aggregate(w3: AsyncWeb3) -> list[tuple[bool, bytes]]:
        contract = w3.eth.contract(address=address, abi=_AGGREGATE3_ABI)  # type: ignore[arg-type]
        payload = [(c.target, True, bytes.fromhex(c.calldata.removeprefix("0x"))) for c in calls]
        return await contract.functions.aggregate3(payload).call()

    results = await client.call(_aggregate, "multicall3.aggregate3")
    return [decode(list(c.output_types), data) if ok else None for c, (ok, data) in zip(calls, results, strict=True)]
