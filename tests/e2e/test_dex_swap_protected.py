"""Protected submission: a swap sent through the chain's private relay is never visible in the
public mempool (anvil's ``txpool_content``) before the relay includes it.

The relay here is the devnet stand-in, run in the test's process and told when to include,
so the test can look at the public pool for as long as the transactions are held. A public
transaction sent meanwhile shows the pool is being watched for real.
"""

from __future__ import annotations

import asyncio
from typing import Any

from crosslane.domain.chains import ChainRegistry
from crosslane.domain.dex import SwapResult
from crosslane.domain.tx import TxOutcome
from devnet.anvil import rpc_call
from devnet.mining import manual_mining
from devnet.private_relay import RelayServer
from tests.support.dex import balance, deal, send_tx, swap_request, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

CHAIN = "devnet-b"


def with_relay(stack: Stack, relay_url: str) -> ChainRegistry:
    chains = dict(stack.chains.chains)
    chains[CHAIN] = chains[CHAIN].model_copy(update={"private_relay_url": relay_url})
    return ChainRegistry(chains=chains)


async def pool_hashes(url: str) -> set[str]:
    content: dict[str, Any] = await asyncio.to_thread(rpc_call, url, "txpool_content")
    return {tx["hash"] for section in content.values() for by_nonce in section.values() for tx in by_nonce.values()}


async def wait_held(relay: RelayServer, count: int, timeout_s: float = 30.0) -> list[str]:
    for _ in range(int(timeout_s / 0.02)):
        if len(relay.held) >= count:
            return [t.tx_hash for t in relay.held.values()]
        await asyncio.sleep(0.02)
    raise TimeoutError(f"the relay never held {count} transaction(s)")


async def test_protected_swap_never_shows_in_the_public_pool_before_inclusion(stack: Stack) -> None:
    signer, bystander = stack.fund_signer(), stack.fund_signer()
    anvil = stack.anvil_urls[CHAIN]
    w3 = w3_for(stack, CHAIN)
    deal(stack, CHAIN, signer.address, "WETH", 10 * 10**18)
    relay = RelayServer(anvil, include_interval=None)
    await relay.start()
    queue = unique_queue("prot")
    # 3% slippage on 10 WETH: a public swap is refused as sandwichable (test_dex_swap), a protected one is not.
    request = swap_request(
        signer.address, unique_queue("prot"), chain=CHAIN, amount=10 * 10**18, slippage_bps=300, protected=True
    )
    seen_public: set[str] = set()
    held_hashes: list[str] = []
    try:
        async with running_worker(stack, queue, chains=with_relay(stack, relay.url)):
            client = await crosslane_client(stack, queue)
            with manual_mining(anvil):
                handle = await client.start_swap(request)
                for step in ("approve", "swap"):
                    (held,) = await wait_held(relay, 1)
                    held_hashes.append(held)
                    public = send_tx(w3, bystander, {"to": bystander.address, "gas": 21_000}, wait=False)
                    for _ in range(25):  # ~0.5 s of the public pool while the relay holds our transaction
                        in_pool = await pool_hashes(anvil)
                        seen_public |= in_pool
                        assert held not in in_pool, f"the {step} leaked to the public pool"
                        assert public in in_pool
                        await asyncio.sleep(0.02)
                    assert await asyncio.to_thread(rpc_call, anvil, "eth_getTransactionByHash", [held]) is None
                    assert await relay.include() == [held]  # the relay sends it and mines the block
                result: SwapResult = await asyncio.wait_for(handle.result(), 60)
            quote = (await client.swap_status(request.request_id)).quote
    finally:
        await relay.stop()

    assert [result.approve_tx_hash, result.swap_tx_hash] == held_hashes == relay.included
    assert not set(held_hashes) & seen_public and len(seen_public) >= 2
    assert result.swap.outcome is TxOutcome.CONFIRMED
    assert result.amount_in == 10 * 10**18 and result.amount_out == result.quoted_amount_out
    assert balance(stack, CHAIN, "WETH", signer.address) == 0
    assert balance(stack, CHAIN, "USDC", signer.address) == result.amount_out
    assert w3.eth.get_transaction_count(signer.address) == 2
    # The sandwich exposure was measured and reported, but not enforced: nobody sees the swap.
    assert quote is not None and not quote.sandwich.enforced and quote.sandwich.profit_bps > 50
