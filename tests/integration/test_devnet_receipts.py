"""A devnet deploy waits for its transactions' receipts. Anvil's automine now and then leaves
an accepted transaction unmined (CI: three deploy transactions sent while a block was being
mined, two mined, the third and every later nonce stayed in the pool and the devnet start
failed after 30 s). The wait nudges anvil with an empty block when no receipt comes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from web3 import AsyncWeb3

from connectors.evm.client import async_http_provider
from devnet.anvil import AnvilProcess, DevnetError, dev_account, find_free_port, rpc_call, start_anvil
from devnet.deploy import mined_receipts

pytestmark = pytest.mark.timeout(60)
CHAIN_ID = 31337


@pytest.fixture
def anvil() -> Iterator[AnvilProcess]:
    node = start_anvil(find_free_port(), CHAIN_ID)
    yield node
    node.stop()


async def send_transfers(w3: AsyncWeb3, count: int) -> list[bytes]:
    sender, key = dev_account(0)
    recipient, _ = dev_account(1)
    nonce = await w3.eth.get_transaction_count(sender, "pending")
    hashes = []
    for i in range(count):
        tx = {"chainId": CHAIN_ID, "nonce": nonce + i, "to": recipient, "value": 1, "gas": 21_000,
              "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}  # fmt: skip
        hashes.append(await w3.eth.send_raw_transaction(Account.sign_transaction(tx, key).raw_transaction))
    return hashes


async def test_transactions_left_in_the_pool_are_mined_by_the_nudge(anvil: AnvilProcess) -> None:
    w3 = AsyncWeb3(async_http_provider(anvil.url))
    rpc_call(anvil.url, "evm_setAutomine", [False])  # what a missed automine leaves: accepted, unmined
    hashes = await send_transfers(w3, 3)
    receipts = await mined_receipts(w3, hashes, timeout=20, chain="test")
    assert [r["transactionHash"] for r in receipts] == hashes
    assert all(r["status"] == 1 for r in receipts)
    await w3.provider.disconnect()


async def test_a_transaction_that_never_mines_is_an_error_naming_it(anvil: AnvilProcess) -> None:
    w3 = AsyncWeb3(async_http_provider(anvil.url))
    missing = b"\x11" * 32  # never sent
    with pytest.raises(DevnetError, match="1 transaction\\(s\\) not mined after 4s, from 1111.*does not hold it"):
        await mined_receipts(w3, [missing], timeout=4, chain="test")
    await w3.provider.disconnect()


async def test_a_nonce_gap_is_named_in_the_error(anvil: AnvilProcess) -> None:
    w3 = AsyncWeb3(async_http_provider(anvil.url))
    sender, key = dev_account(0)
    tx = {"chainId": CHAIN_ID, "nonce": 5, "to": sender, "value": 1, "gas": 21_000,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}  # fmt: skip
    queued = await w3.eth.send_raw_transaction(Account.sign_transaction(tx, key).raw_transaction)
    with pytest.raises(DevnetError, match="holds it at nonce 5, the sender's mined nonce is 0"):
        await mined_receipts(w3, [queued], timeout=4, chain="test")
    await w3.provider.disconnect()
