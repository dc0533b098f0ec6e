"""ERC20 reads and the calldata for its writes (writes go through TransactionLifecycle)."""

from __future__ import annotations

from typing import Any

from web3 import AsyncWeb3

from connectors.evm.client import EvmClient

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "decimals",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
    {
        "type": "function",
        "name": "symbol",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "string"}],
    },
    {
        "type": "function",
        "name": "totalSupply",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "transfer",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
]

_CODEC = AsyncWeb3().eth.contract(abi=ERC20_ABI)


def transfer_calldata(to: str, amount: int) -> str:
    """Calldata of ``transfer(to, amount)``; ``amount`` in token base units."""
    return _CODEC.encode_abi("transfer", [to, amount])


def approve_calldata(spender: str, amount: int) -> str:
    return _CODEC.encode_abi("approve", [spender, amount])


class Erc20:
    def __init__(self, client: EvmClient, address: str) -> None:
        self.client = client
        self.address = address

    async def _call(self, fn: str, *args: Any) -> Any:
        async def _read(w3: AsyncWeb3) -> Any:
            return await w3.eth.contract(address=self.address, abi=ERC20_ABI).functions[fn](*args).call()  # type: ignore[arg-type]

        return await self.client.call(_read, f"{fn}@{self.address}")

    async def balance_of(self, owner: str) -> int:
        """Base units."""
        return int(await self._call("balanceOf", owner))

    async def allowance(self, owner: str, spender: str) -> int:
        return int(await self._call("allowance", owner, spender))

    async def decimals(self) -> int:
        return int(await self._call("decimals"))
