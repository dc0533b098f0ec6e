"""A dataworker stand-in: relays root bundles to the SpokePools as their admin (the HubPool's role).

Each bundle looks at every chain's ``FundsDeposited`` and ``FilledRelay`` events and pays:
- the relayer of each fill not yet repaid: ``inputAmount`` of the input token on the
  repayment chain (the origin chain; that is where the deposited tokens sit), and
- the depositor of each deposit whose fill deadline has passed on the destination while
  unfilled there (``fillStatuses`` checked on-chain): a refund of ``inputAmount`` on the origin.

Per chain, one relayer-refund leaf per token (amounts summed per address), a keccak Merkle
tree of ``keccak256(abi.encode(leaf))`` (:mod:`devnet.across.merkle`), ``relayRootBundle``
from the admin (the Ethereum spoke's owner), then ``executeRelayerRefundLeaf`` for every
leaf. Each fill and refund is paid once: settled deposits are remembered (in ``--state-file``
when given, so a restart does not pay twice), and the contract refuses a claimed leaf.

Admin endpoint: ``GET /state``; ``POST /bundle`` (run one now, returns what it paid);
``POST /admin`` with ``stopped`` (bool) or ``interval`` (seconds between automatic bundles).

    python -m devnet.across.dataworker --config across.json --port 8622 [--interval 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from devnet.across.deploy import admin_account
from devnet.across.merkle import MerkleTree, relayer_refund_leaf_hash
from devnet.across.services import SpokeChain, read_config, serve_forever
from devnet.across.spoke import GAS, Deposit, Rpc, calldata, decode_log, event_topic, from_bytes32

log = logging.getLogger("devnet.across.dataworker")


@dataclass(frozen=True)
class Payment:
    key: str  # origin_chain_id:deposit_id
    kind: str  # "repayment" | "refund"
    chain_id: int
    token: str
    to: str
    amount: int


class Dataworker:
    def __init__(self, chains: list[SpokeChain], *, state_file: Path | None = None, interval: float = 2.0) -> None:
        self.chains = {c.chain_id: c for c in chains}
        self.rpcs = {c.chain_id: Rpc(c.rpc_url) for c in chains}
        self.admin, self.key = admin_account()
        self.state_file = state_file
        self.interval = interval
        self.stopped = False
        self.next_block: dict[int, int] = {}
        self.deposits: dict[str, Deposit] = {}
        self.fills: dict[str, dict[str, Any]] = {}
        self.settled: dict[str, str] = {}  # deposit key -> "repaid" | "refunded"
        self.bundles: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()
        if state_file is not None and state_file.exists():
            self.settled = json.loads(state_file.read_text()).get("settled", {})

    def _save(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps({"settled": self.settled}))
        os.replace(tmp, self.state_file)

    async def scan(self) -> None:
        deposited, filled = event_topic("FundsDeposited"), event_topic("FilledRelay")
        for chain_id, chain in self.chains.items():
            rpc = self.rpcs[chain_id]
            head = await rpc.block_number()
            start = self.next_block.get(chain_id, 0)
            if start > head:
                continue
            for raw in await rpc.logs(chain.spoke_pool, deposited, start, head):
                dep = Deposit.from_log(chain_id, raw)
                self.deposits[dep.key] = dep
            for raw in await rpc.logs(chain.spoke_pool, filled, start, head):
                ev = decode_log("FilledRelay", raw)
                self.fills[f"{ev['originChainId']}:{ev['depositId']}"] = {**ev, "destinationChainId": chain_id}
            self.next_block[chain_id] = head + 1

    async def fill_status(self, dep: Deposit) -> int:
        dest = self.chains[dep.destination_chain_id]
        rpc = self.rpcs[dep.destination_chain_id]
        relay_hash = await rpc.eth_call(dest.spoke_pool, calldata("getV3RelayHash", dep.relay_data()))
        status = await rpc.eth_call(dest.spoke_pool, calldata("fillStatuses", relay_hash))
        return int.from_bytes(status, "big")

    async def payments(self) -> list[Payment]:
        out: list[Payment] = []
        for key, fill in self.fills.items():
            if key in self.settled or fill["repaymentChainId"] not in self.chains:
                continue
            if fill["repaymentChainId"] != fill["originChainId"]:
                log.warning("fill %s asks repayment on %s: only the origin chain is supported", key, fill)
                continue
            out.append(
                Payment(
                    key=key,
                    kind="repayment",
                    chain_id=fill["repaymentChainId"],
                    token=from_bytes32(fill["inputToken"]),
                    to=from_bytes32(fill["relayer"]),
                    amount=fill["inputAmount"],
                )
            )
        for key, dep in self.deposits.items():
            if key in self.settled or key in self.fills or dep.destination_chain_id not in self.chains:
                continue
            if await self.rpcs[dep.destination_chain_id].timestamp() <= dep.fill_deadline:
                continue
            if await self.fill_status(dep) != 0:  # filled (event not scanned yet) or slow fill requested
                continue
            out.append(
                Payment(
                    key=key,
                    kind="refund",
                    chain_id=dep.origin_chain_id,
                    token=from_bytes32(dep.input_token),
                    to=from_bytes32(dep.depositor),
                    amount=dep.input_amount,
                )
            )
        return out

    async def bundle(self) -> dict[str, Any]:
        """Scan, then relay and execute one root bundle per chain that owes anything."""
        async with self._lock:
            await self.scan()
            pays = await self.payments()
            summary: dict[str, Any] = {"payments": [p.__dict__ for p in pays], "chains": {}}
            by_chain: dict[int, list[Payment]] = defaultdict(list)
            for p in pays:
                by_chain[p.chain_id].append(p)
            for chain_id, chain_pays in by_chain.items():
                summary["chains"][str(chain_id)] = await self._relay_and_execute(chain_id, chain_pays)
                for p in chain_pays:
                    self.settled[p.key] = "repaid" if p.kind == "repayment" else "refunded"
                self._save()
            if pays:
                self.bundles.append(summary)
            return summary

    async def _relay_and_execute(self, chain_id: int, pays: list[Payment]) -> dict[str, Any]:
        chain, rpc = self.chains[chain_id], self.rpcs[chain_id]
        per_token: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for p in pays:
            per_token[p.token][p.to] += p.amount
        leaves = []
        for leaf_id, token in enumerate(sorted(per_token)):
            addresses = sorted(per_token[token])
            leaves.append((0, chain_id, [per_token[token][a] for a in addresses], leaf_id, token, addresses))
        tree = MerkleTree([relayer_refund_leaf_hash(leaf) for leaf in leaves])
        receipt = await rpc.transact(
            self.key, chain.spoke_pool, calldata("relayRootBundle", tree.root, bytes(32)), GAS["relay_root_bundle"]
        )
        topic = event_topic("RelayedRootBundle")
        relayed = next(lg for lg in receipt["logs"] if lg["topics"][0] == topic)
        root_bundle_id = decode_log("RelayedRootBundle", {**relayed, "transactionHash": ""})["rootBundleId"]
        txs = []
        for i, leaf in enumerate(leaves):
            data = calldata("executeRelayerRefundLeaf", root_bundle_id, leaf, tree.proof(i))
            executed = await rpc.transact(self.key, chain.spoke_pool, data, GAS["execute_refund_leaf"])
            txs.append(executed["transactionHash"])
        log.info("chain %s: root bundle %s, %d leaves", chain.name, root_bundle_id, len(leaves))
        return {"root_bundle_id": root_bundle_id, "root": "0x" + tree.root.hex(), "leaves": len(leaves), "txs": txs}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.stopped:
                continue
            try:
                await self.bundle()
            except Exception:  # keep going through transient RPC failures
                log.exception("bundle failed")

    def state(self) -> dict[str, Any]:
        return {
            "admin": self.admin,
            "stopped": self.stopped,
            "interval": self.interval,
            "settled": self.settled,
            "bundles": self.bundles,
        }


def make_app(worker: Dataworker) -> web.Application:
    async def state(_: web.Request) -> web.Response:
        return web.json_response(worker.state())

    async def bundle(_: web.Request) -> web.Response:
        return web.json_response(await worker.bundle())

    async def admin(request: web.Request) -> web.Response:
        body = await request.json()
        if "stopped" in body:
            worker.stopped = bool(body["stopped"])
        if "interval" in body:
            worker.interval = float(body["interval"])
        return web.json_response(worker.state())

    app = web.Application()
    app.router.add_get("/state", state)
    app.router.add_post("/bundle", bundle)
    app.router.add_post("/admin", admin)
    return app


async def serve(config: Path, port: int, state_file: Path | None, interval: float) -> None:
    worker = Dataworker(read_config(config), state_file=state_file, interval=interval)
    await serve_forever(make_app(worker), worker.run(), port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-file", type=Path, default=None)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.config, args.port, args.state_file, args.interval))


if __name__ == "__main__":
    main()
