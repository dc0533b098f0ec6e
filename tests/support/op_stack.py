"""Helpers for tests on devnet-op: USDC on the L2 through a real deposit (so the L1 bridge's
escrow backs it), and a withdrawal's proof and finalization state read from the portal."""

from __future__ import annotations

import asyncio
import secrets

from eth_account import Account
from web3 import Web3

from connectors.bridges.op_withdrawals import WithdrawalTx, withdrawal_from_log
from devnet.opstack.contracts import PREDEPLOYS, calldata, event_topic
from tests.support.bridge import holding
from tests.support.dex import deal, send_tx, w3_for
from tests.support.stack import ETH, Stack

L1, L2 = "devnet-a", "devnet-op"


def l1_contract(stack: Stack, name: str) -> str:
    return stack.chains.get(L1).contracts[f"{L2}:{name}"]


async def fund_l2_usdc(stack: Stack, owner: str, amount: int) -> None:
    """Deposit ``amount`` USDC to ``owner`` on devnet-op from a fresh L1 account, and wait for it."""
    funder = Account.from_key("0x" + secrets.token_hex(32))
    stack.anvil(L1, "anvil_setBalance", funder.address, hex(10 * ETH))
    deal(stack, L1, funder.address, "USDC", amount)
    w3 = w3_for(stack, L1)
    bridge, usdc = l1_contract(stack, "L1StandardBridge"), stack.chains.get(L1).tokens["USDC"].address
    approve = Web3.keccak(text="approve(address,uint256)")[:4].hex()
    send_tx(w3, funder, {"to": usdc, "data": "0x" + approve + bridge[2:].lower().rjust(64, "0") + f"{amount:064x}"})
    before = holding(stack, L2, "USDC", owner)
    data = calldata(
        "L1StandardBridge",
        "depositERC20To",
        usdc,
        stack.chains.get(L2).tokens["USDC"].address,
        owner,
        amount,
        200_000,
        b"",
    )
    send_tx(w3, funder, {"to": bridge, "data": data, "gas": 1_500_000})
    for _ in range(400):
        if holding(stack, L2, "USDC", owner) == before + amount:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the deposit to {owner} never arrived on {L2}")


def withdrawal_of(stack: Stack, initiate_tx: str) -> WithdrawalTx:
    receipt = w3_for(stack, L2).eth.get_transaction_receipt(initiate_tx)
    log = next(entry for entry in receipt["logs"] if entry["address"] == PREDEPLOYS["L2ToL1MessagePasser"])
    return withdrawal_from_log([bytes(t) for t in log["topics"]], bytes(log["data"]))


def portal_events(stack: Stack, event: str, withdrawal: WithdrawalTx) -> int:
    """How many ``WithdrawalProven``/``WithdrawalFinalized`` the portal emitted for it."""
    logs = w3_for(stack, L1).eth.get_logs(
        {
            "address": Web3.to_checksum_address(l1_contract(stack, "OptimismPortal")),
            "topics": [event_topic("OptimismPortal", event), "0x" + withdrawal.hash.hex()],
            "fromBlock": 0,
        }
    )
    return len(logs)
