"""A V3 position moved to another fee tier and range: LPMigration vs the same chain work by raw
web3, same run; the workflow's end-to-end time split into chain time and workflow overhead.

    .venv/bin/python -m bench.lp_migration [--count 5] [--rounds 3]

Each migration: a fresh owner's WETH/USDC 0.05% position (set up untimed) moved to the 0.3%
pool, ±10 tick spacings around the price: decrease all → collect → burn → zap swap
(approve + exactInputSingle, sized with the same pool math) → approve both tokens → mint.

- raw web3 (baseline): those transactions one after another from the owner's key (sign,
  ``send_raw_transaction``, receipt polled every 50 ms), amounts from static calls and the
  product's zap math; no ledger, no durability, no retries.
- Temporal: one ``LPMigration`` (plan, DexLiquidity/DexSwap/TransactionLifecycle children,
  finish with ledger record) on a worker in its own process, dev server on SQLite.

Chain time of a Temporal migration: the sum over its transactions of ``mined_at -
broadcast_at`` from the ledger (broadcast until the lifecycle saw the receipt, its 50 ms
poll included). Overhead = end-to-end - chain time. Runs are sequential (one at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from bench.stats import percentile
from connectors.dex import build_dexes
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3.position_manager import (
    burn_calldata,
    collect_calldata,
    decrease_liquidity_calldata,
    mint_calldata,
)
from connectors.dex.uniswap_v3.router import exact_input_single
from connectors.dex.uniswap_v3.zap import plan_zap
from connectors.evm.client import EvmClient
from connectors.evm.erc20 import approve_calldata
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.domain.lp_migration import LPMigrationRequest, V3PositionSource, V3RangeTarget
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.ledger import Ledger
from crosslane.registry import load_registry
from devnet.anvil import rpc_call
from devnet.sandbox import WorkerProcess, sandbox
from devnet.uniswap_artifacts import artifact

CHAIN = "devnet-a"
GWEI = 10**9
ETH = 10**18
UINT256_MAX = 2**256 - 1
SLIPPAGE = 100  # bps, both paths
FROM_FEE, TO_FEE = 500, 3000


@dataclass
class Net:
    w3: Web3
    url: str
    chain: ChainConfig
    npm: Any
    router: str
    t0: str
    t1: str

    def tick(self, fee: int) -> tuple[int, int]:
        pool = next(
            p
            for p in self.chain.dexes["uniswap_v3"].pools
            if {p.token0, p.token1} == {self.t0, self.t1} and p.fee == fee
        )
        contract = self.w3.eth.contract(address=pool.address, abi=artifact("UniswapV3Pool")["abi"])
        return int(contract.functions.slot0().call()[1]), int(pool.tick_spacing or 1)

    def around(self, fee: int, below: int, above: int) -> tuple[int, int]:
        tick, spacing = self.tick(fee)
        return (tick // spacing - below) * spacing, (tick // spacing + above) * spacing


def send(net: Net, owner: LocalAccount, to: str, data: bytes | str, gas: int = 1_000_000) -> Any:
    base = int(net.w3.eth.get_block("latest")["baseFeePerGas"])
    tx = {
        "type": 2,
        "chainId": net.w3.eth.chain_id,
        "nonce": net.w3.eth.get_transaction_count(owner.address, "pending"),
        "to": to,
        "data": data if isinstance(data, str) else "0x" + data.hex(),
        "value": 0,
        "gas": gas,
        "maxFeePerGas": 2 * base + GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    tx_hash = net.w3.eth.send_raw_transaction(owner.sign_transaction(tx).raw_transaction)
    receipt = net.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.05)
    assert receipt["status"] == 1, f"{to} {tx['data'][:10]} reverted"
    return receipt


def new_owner(net: Net) -> LocalAccount:
    account = Account.from_key("0x" + secrets.token_hex(32))
    rpc_call(net.url, "anvil_setBalance", [account.address, hex(100 * ETH)])
    return account


def mint_position(net: Net, owner: LocalAccount) -> int:
    """Untimed set-up: 1 WETH and 3,000 USDC (at most) around the 0.05% pool's price."""
    weth, usdc = net.chain.tokens["WETH"].address, net.chain.tokens["USDC"].address
    rpc_call(net.url, "anvil_dealERC20", [owner.address, weth, hex(2 * ETH)])
    rpc_call(net.url, "anvil_dealERC20", [owner.address, usdc, hex(6_000 * 10**6)])
    for t in (net.t0, net.t1):
        send(net, owner, t, approve_calldata(net.npm.address, UINT256_MAX), 100_000)
    lower, upper = net.around(FROM_FEE, 30, 10)
    amounts = (ETH, 3_000 * 10**6) if net.t0 == weth else (3_000 * 10**6, ETH)
    data = mint_calldata(net.t0, net.t1, FROM_FEE, lower, upper, *amounts, 0, 0, owner.address, UINT256_MAX)
    receipt = send(net, owner, net.npm.address, data)
    for t in (net.t0, net.t1):
        send(net, owner, t, approve_calldata(net.npm.address, 0), 100_000)
    (minted,) = [
        e for e in net.npm.events.Transfer().process_receipt(receipt, errors=DISCARD) if int(e.args["from"], 16) == 0
    ]
    return int(minted.args["tokenId"])


def at_min(amount: int) -> int:
    return amount * (10_000 - SLIPPAGE) // 10_000


async def raw_migration(net: Net, dex: UniswapV3, owner: LocalAccount, token_id: int) -> None:
    """The same chain work, by hand: static calls for the amounts, then each transaction."""
    me = {"from": owner.address}
    liquidity = int(net.npm.functions.positions(token_id).call()[7])
    out0, out1 = net.npm.functions.decreaseLiquidity((token_id, liquidity, 0, 0, UINT256_MAX)).call(me)
    send(
        net,
        owner,
        net.npm.address,
        decrease_liquidity_calldata(token_id, liquidity, at_min(out0), at_min(out1), UINT256_MAX),
    )
    got0, got1 = net.npm.functions.collect((token_id, owner.address, 2**128 - 1, 2**128 - 1)).call(me)
    send(net, owner, net.npm.address, collect_calldata(token_id, owner.address))
    send(net, owner, net.npm.address, burn_calldata(token_id))
    lower, upper = net.around(TO_FEE, 10, 10)
    pool = dex.pool_for(net.t0, net.t1, TO_FEE)
    (snapshot,) = await dex.pool_states([pool])
    zap = plan_zap(snapshot, lower, upper, got0, got1)
    if zap.token_in is not None and zap.amount_in > 0:
        token_out = pool.other(zap.token_in)
        send(net, owner, zap.token_in, approve_calldata(net.router, zap.amount_in), 100_000)
        swap = exact_input_single(
            zap.token_in, token_out, TO_FEE, owner.address, UINT256_MAX, zap.amount_in, at_min(zap.amount_out)
        )
        send(net, owner, net.router, swap)
    for token, amount in ((net.t0, zap.amount0), (net.t1, zap.amount1)):
        if amount:
            send(net, owner, token, approve_calldata(net.npm.address, amount), 100_000)
    deposit0, deposit1 = zap.amount0 - zap.dust0, zap.amount1 - zap.dust1
    data = mint_calldata(
        net.t0,
        net.t1,
        TO_FEE,
        lower,
        upper,
        zap.amount0,
        zap.amount1,
        at_min(deposit0),
        at_min(deposit1),
        owner.address,
        UINT256_MAX,
    )
    send(net, owner, net.npm.address, data)


def chain_seconds(ledger: Ledger, chain_id: int, signer: str) -> float:
    attempts = ledger.attempts_for_signer(chain_id, signer)
    return sum((a.mined_at - a.broadcast_at).total_seconds() for a in attempts if a.mined_at and a.broadcast_at)


def summary(name: str, samples: list[float]) -> str:
    return f"{name:<40} p50 {median(samples) * 1000:>8.0f} ms   p99 {percentile(samples, 99) * 1000:>8.0f} ms"


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as sb:
            chain = ChainRegistry.from_registry(load_registry(sb.registry_path)).get(CHAIN)
            url = sb.devnet.anvil_url(CHAIN)
            w3 = Web3(Web3.HTTPProvider(url))
            v3 = chain.dexes["uniswap_v3"]
            assert v3.position_manager and v3.router
            t0, t1 = sorted([chain.tokens["WETH"].address, chain.tokens["USDC"].address], key=lambda a: int(a, 16))
            npm = w3.eth.contract(address=v3.position_manager, abi=artifact("NonfungiblePositionManager")["abi"])
            net = Net(w3, url, chain, npm, v3.router, t0, t1)
            evm = EvmClient(chain)
            dex = build_dexes(evm)["uniswap_v3"]
            assert isinstance(dex, UniswapV3)
            owners = [new_owner(net) for _ in range(count * rounds)]
            queue = "bench-lpm"
            keys = ",".join(o.key.hex() for o in owners)
            worker = WorkerProcess(sb.env(queue, CROSSLANE_SIGNER_KEYS=keys), sb.home / "worker.log")
            ledger = Ledger(sb.db_url)
            raw_all: list[float] = []
            wf_all: list[float] = []
            chain_all: list[float] = []
            overhead_all: list[float] = []
            try:
                await worker.wait_polling()
                client = CrosslaneClient(await connect_temporal(sb.settings(queue)), queue)
                for r in range(rounds):
                    raw: list[float] = []
                    for _ in range(count):
                        owner = new_owner(net)
                        token_id = mint_position(net, owner)
                        started = time.perf_counter()
                        await raw_migration(net, dex, owner, token_id)
                        raw.append(time.perf_counter() - started)
                    wf: list[float] = []
                    chain_s: list[float] = []
                    for i in range(count):
                        owner = owners[r * count + i]
                        token_id = mint_position(net, owner)
                        lower, upper = net.around(TO_FEE, 10, 10)
                        request = LPMigrationRequest(
                            request_id=f"bench-{r}-{i}-{secrets.token_hex(3)}",
                            chain=CHAIN,
                            owner=owner.address,
                            source=V3PositionSource(token_id=token_id),
                            target=V3RangeTarget(fee=TO_FEE, tick_lower=lower, tick_upper=upper),
                            slippage_bps=SLIPPAGE,
                            fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
                            policy=ReplacementPolicy(poll_interval_ms=50),
                        )
                        started = time.perf_counter()
                        await (await client.start_lp_migration(request)).result()
                        wf.append(time.perf_counter() - started)
                        chain_s.append(await asyncio.to_thread(chain_seconds, ledger, chain.chain_id, owner.address))
                    overhead = [w - c for w, c in zip(wf, chain_s, strict=True)]
                    print(
                        f"round {r + 1}: raw p50 {median(raw):.2f} s, LPMigration p50 {median(wf):.2f} s "
                        f"(chain {median(chain_s):.2f} s, overhead {median(overhead):.2f} s)"
                    )
                    raw_all += raw
                    wf_all += wf
                    chain_all += chain_s
                    overhead_all += overhead
            finally:
                worker.stop()
                ledger.close()
                await evm.close()
    print(f"\n{count} migrations x {rounds} rounds, one at a time")
    print(summary("raw web3 (same chain work)", raw_all))
    print(summary("LPMigration end to end", wf_all))
    print(summary("  of which chain (broadcast -> mined)", chain_all))
    print(summary("  of which workflow overhead", overhead_all))
    print(
        f"ratio LPMigration / raw at p50: {median(wf_all) / median(raw_all):.1f}x; "
        f"at p99: {percentile(wf_all, 99) / percentile(raw_all, 99):.1f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds))
