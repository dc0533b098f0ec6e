"""OP Stack canonical bridge on the devnet: BridgeTransfer's overhead against the chain's own time.

    .venv/bin/python -m bench.op_canonical [--count 5] [--finalization 3]

``count`` USDC deposits devnet-a -> devnet-op, then as many withdrawals back, all started at
once, each path on the same stack (devnet-op with a ``--finalization`` s period, an output
root every 0.5 s):

- raw web3 (the baseline): approve + ``depositERC20To``, poll the L2 balance; withdrawal:
  ``bridgeERC20To``, poll for an output root, ``eth_getProof`` + ``proveWithdrawalTransaction``,
  sleep until finalizable, ``finalizeWithdrawalTransaction``. No ledger, no durability.
- Temporal: one ``BridgeTransfer`` per transfer on one worker process (plan with quotes,
  child lifecycles, tracking, a durable timer for the period, on-chain verification).

Per transfer end to end (seconds); the ratio is Temporal p50 / raw p50. Most of a withdrawal
is chain time (the output root and the finalization period), the same on both paths.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from eth_account import Account

from bench.stats import percentile
from connectors.bridges.op_withdrawals import output_root_proof, withdrawal_from_log
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.bridge import BridgeRequest, BridgeState
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.ledger import Ledger
from devnet.across.spoke import Rpc
from devnet.anvil import rpc_call
from devnet.opstack.contracts import PREDEPLOYS, calldata, decode_result
from devnet.sandbox import Sandbox, WorkerProcess, sandbox

L1, L2 = "devnet-a", "devnet-op"
AMOUNT = 50 * 10**6
GWEI = 10**9


class Raw:
    """The baseline: the same transfer by direct contract calls."""

    def __init__(self, sb: Sandbox) -> None:
        state = sb.devnet
        self.l1, self.l2 = Rpc(state.anvil_url(L1)), Rpc(state.anvil_url(L2))
        self.c = {k.split(":", 1)[1]: v for k, v in state.chains[L1].contracts.items() if k.startswith(f"{L2}:")}
        self.usdc1, self.usdc2 = state.chains[L1].tokens["USDC"].address, state.chains[L2].tokens["USDC"].address

    async def close(self) -> None:
        await self.l1.close()
        await self.l2.close()

    async def balance(self, who: str) -> int:
        out = await self.l2.eth_call(self.usdc2, "0x70a08231" + who[2:].lower().rjust(64, "0"))
        return int.from_bytes(out, "big")

    async def deposit(self, key: str) -> float:
        who, started = Account.from_key(key).address, time.perf_counter()
        before = await self.balance(who)
        approve = "0x095ea7b3" + self.c["L1StandardBridge"][2:].lower().rjust(64, "0") + f"{AMOUNT:064x}"
        await self.l1.transact(key, self.usdc1, approve, 100_000)
        data = calldata("L1StandardBridge", "depositERC20To", self.usdc1, self.usdc2, who, AMOUNT, 200_000, b"")
        await self.l1.transact(key, self.c["L1StandardBridge"], data, 1_500_000, simulate=False)
        while await self.balance(who) < before + AMOUNT:
            await asyncio.sleep(0.1)
        return time.perf_counter() - started

    async def withdraw(self, key: str) -> float:
        who, started = Account.from_key(key).address, time.perf_counter()
        data = calldata("L2StandardBridge", "bridgeERC20To", self.usdc2, self.usdc1, who, AMOUNT, 200_000, b"")
        receipt = await self.l2.transact(key, PREDEPLOYS["L2StandardBridge"], data, 400_000)
        log = next(x for x in receipt["logs"] if x["address"].lower() == PREDEPLOYS["L2ToL1MessagePasser"].lower())
        w = withdrawal_from_log([bytes.fromhex(t[2:]) for t in log["topics"]], bytes.fromhex(log["data"][2:]))
        block, oracle = int(receipt["blockNumber"], 16), self.c["L2OutputOracle"]

        async def read(fn: str, *args: object) -> tuple[object, ...]:
            return decode_result(
                "L2OutputOracle", fn, await self.l1.eth_call(oracle, calldata("L2OutputOracle", fn, *args))
            )

        while (await read("latestBlockNumber"))[0] < block:  # type: ignore[operator]
            await asyncio.sleep(0.1)
        (index,) = await read("getL2OutputIndexAfter", block)
        ((_, _, l2_block),) = await read("getL2Output", index)  # type: ignore[misc]
        head = await self.l2.call("eth_getBlockByNumber", [hex(l2_block), False])
        proof = await self.l2.call(
            "eth_getProof", [PREDEPLOYS["L2ToL1MessagePasser"], ["0x" + w.storage_slot.hex()], hex(l2_block)]
        )
        steps = [bytes.fromhex(p[2:]) for p in proof["storageProof"][0]["proof"]]
        prove = calldata(
            "OptimismPortal", "proveWithdrawalTransaction", w.as_tuple(), index,
            output_root_proof(head, proof["storageHash"]), steps,
        )  # fmt: skip
        portal = self.c["OptimismPortal"]
        await self.l1.transact(key, portal, prove, 800_000)
        finalize = calldata("OptimismPortal", "finalizeWithdrawalTransaction", w.as_tuple())
        while True:  # until the portal accepts it (its eth_call stops reverting)
            try:
                await self.l1.eth_call(portal, finalize, sender=who)
                break
            except Exception:  # noqa: BLE001 - "finalization period has not elapsed"
                await asyncio.sleep(0.2)
        await self.l1.transact(key, portal, finalize, 800_000)
        return time.perf_counter() - started


def request(key: str, rid: str, source: str, destination: str) -> BridgeRequest:
    return BridgeRequest(
        request_id=rid,
        source_chain=source,
        destination_chain=destination,
        asset="USDC",
        amount=AMOUNT,
        signer=Account.from_key(key).address,
        route="op-canonical",  # type: ignore[arg-type]
        fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
        policy=ReplacementPolicy(poll_interval_ms=100),
    )


async def run_workflows(client: CrosslaneClient, keys: list[str], tag: str, source: str, dest: str) -> list[float]:
    async def one(i: int, key: str) -> float:
        started = time.perf_counter()
        result = await (await client.start_bridge(request(key, f"{tag}-{source}-{i}", source, dest))).result()
        assert result.state is BridgeState.COMPLETED, result
        return time.perf_counter() - started

    return list(await asyncio.gather(*(one(i, k) for i, k in enumerate(keys))))


def line(name: str, raw: list[float], wf: list[float]) -> str:
    r50, w50 = statistics.median(raw), statistics.median(wf)
    return (
        f"{name:<11} raw p50 {r50:6.2f} p99 {percentile(raw, 99):6.2f} s | BridgeTransfer p50 {w50:6.2f} "
        f"p99 {percentile(wf, 99):6.2f} s | ratio {w50 / r50:4.2f} | overhead p50 {w50 - r50:+.2f} s"
    )


async def main(count: int, finalization: int) -> None:
    tag = secrets.token_hex(3)
    raw_keys = ["0x" + secrets.token_hex(32) for _ in range(count)]
    wf_keys = ["0x" + secrets.token_hex(32) for _ in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp), op_stack=True, op_finalization_seconds=finalization) as sb:
            Ledger(sb.db_url).migrate()
            for key in raw_keys + wf_keys:
                address = Account.from_key(key).address
                for chain in (L1, L2):
                    rpc_call(sb.devnet.anvil_url(chain), "anvil_setBalance", [address, hex(10**21)])
                token = sb.devnet.chains[L1].tokens["USDC"].address
                rpc_call(sb.devnet.anvil_url(L1), "anvil_dealERC20", [address, token, hex(AMOUNT)])
            queue = f"bench-op-{tag}"
            worker = WorkerProcess(sb.env(queue, CROSSLANE_SIGNER_KEYS=",".join(wf_keys)), sb.home / "worker.log")
            raw = Raw(sb)
            try:
                await worker.wait_polling()
                client = CrosslaneClient(await connect_temporal(sb.settings(queue)), queue)
                raw_in = list(await asyncio.gather(*(raw.deposit(k) for k in raw_keys)))
                wf_in = await run_workflows(client, wf_keys, tag, L1, L2)
                raw_out = list(await asyncio.gather(*(raw.withdraw(k) for k in raw_keys)))
                wf_out = await run_workflows(client, wf_keys, tag, L2, L1)
            finally:
                worker.stop()
                await raw.close()
    print(f"{count} transfers of {AMOUNT // 10**6} USDC each way, finalization period {finalization} s")
    print(line("deposit", raw_in, wf_in))
    print(line("withdrawal", raw_out, wf_out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--finalization", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.finalization))
