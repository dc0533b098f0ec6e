"""Helpers for DEX tests: token balances dealt by anvil, reads, swap requests."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from crosslane.domain.dex import SwapRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from tests.support.stack import Stack

GWEI = 10**9
ERC20_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "o", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "allowance", "stateMutability": "view",
     "inputs": [{"name": "o", "type": "address"}, {"name": "s", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "s", "type": "address"}, {"name": "a", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
]  # fmt: skip


def w3_for(stack: Stack, chain: str) -> Web3:
    return Web3(Web3.HTTPProvider(stack.anvil_urls[chain]))


def token(stack: Stack, chain: str, symbol: str) -> str:
    return stack.chains.get(chain).tokens[symbol].address


def deal(stack: Stack, chain: str, owner: str, symbol: str, amount: int) -> None:
    """Set ``owner``'s balance of ``symbol`` to ``amount`` base units (anvil_dealERC20)."""
    stack.anvil(chain, "anvil_dealERC20", owner, token(stack, chain, symbol), hex(amount))


def balance(stack: Stack, chain: str, symbol: str, owner: str) -> int:
    erc20 = w3_for(stack, chain).eth.contract(
        address=Web3.to_checksum_address(token(stack, chain, symbol)), abi=ERC20_ABI
    )
    return int(erc20.functions.balanceOf(owner).call())


def allowance(stack: Stack, chain: str, symbol: str, owner: str, spender: str) -> int:
    erc20 = w3_for(stack, chain).eth.contract(
        address=Web3.to_checksum_address(token(stack, chain, symbol)), abi=ERC20_ABI
    )
    return int(erc20.functions.allowance(owner, spender).call())


def router(stack: Stack, chain: str, dex: str) -> str:
    address = stack.chains.get(chain).dexes[dex].router
    assert address is not None
    return address


def send_tx(w3: Web3, account: LocalAccount, tx: dict[str, Any], *, tip: int = GWEI, wait: bool = True) -> str:
    """Sign and send from ``account`` (nonce from the pending count); the hash."""
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    full = {
        "type": 2,
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "maxFeePerGas": 2 * base_fee + tip,
        "maxPriorityFeePerGas": tip,
        "value": 0,
        "gas": 1_000_000,
        **tx,
    }
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(full).raw_transaction)
    if wait:
        assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    return "0x" + bytes(tx_hash).hex()


def approve(
    stack: Stack, chain: str, account: LocalAccount, symbol: str, spender: str, amount: int = 2**256 - 1
) -> None:
    w3 = w3_for(stack, chain)
    erc20 = w3.eth.contract(address=Web3.to_checksum_address(token(stack, chain, symbol)), abi=ERC20_ABI)
    send_tx(w3, account, {"to": erc20.address, "data": erc20.encode_abi("approve", [spender, amount]), "gas": 100_000})


def swap_request(signer: str, request_id: str, **kw: Any) -> SwapRequest:
    fields: dict[str, Any] = {
        "request_id": request_id,
        "chain": "devnet-a",
        "signer": signer,
        "token_in": "WETH",
        "token_out": "USDC",
        "amount": 10**18,
        "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
        "policy": ReplacementPolicy(poll_interval_ms=50),
        **kw,
    }
    return SwapRequest(**fields)
