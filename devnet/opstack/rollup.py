"""The devnet rollup's off-chain parts in one small service: sequencer/derivation and proposer.

Sequencer/derivation stand-in: every ``TransactionDeposited`` the L1 ``OptimismPortal`` emits
is executed on the L2 anvil as the deposit transaction it describes: ``mint`` is credited to
``from`` (already aliased by the portal when an L1 contract deposited), then the call runs
from ``from`` (impersonated) with ``value``, ``gasLimit`` and ``data``, in a block whose base
fee is zero, as a deposit pays no L2 gas. ``L1Block`` follows the L1 head (the depositor
account's ``setL1BlockValuesEcotone``), so ``GasPriceOracle`` prices L1 data at L1's base fee.

Proposer: every ``--interval`` seconds, the next output the ``L2OutputOracle`` expects
(``nextBlockNumber()``; empty L2 blocks are mined up to it when the L2 is idle) is proposed:
``keccak256(version 0, stateRoot, messagePasserStorageRoot, blockHash)``, the storage root
from ``eth_getProof`` of ``L2ToL1MessagePasser`` at that block.

Executed deposits are remembered in ``--state-file`` (the L1 block scanned up to, and the
deposits' L2 transactions), so a restart executes none twice.

The service may start before the rollup is deployed: it serves once ``--config`` exists.

Endpoints: ``GET /state``; ``POST /propose`` (propose what is due now, returns the outputs).

    python -m devnet.opstack.rollup --config rollup.json --port 8630 [--interval 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from eth_utils.address import to_checksum_address

from connectors.bridges.op_withdrawals import output_root, output_root_proof
from crosslane.atomic import write_text_atomic
from devnet.across.services import serve_forever
from devnet.across.spoke import Rpc
from devnet.opstack.contracts import PREDEPLOYS, calldata, decode_event, decode_result, event_topic
from devnet.opstack.deploy import GAS_INIT, as_depositor, l1_block_values, operator_account

log = logging.getLogger("devnet.opstack.rollup")
L1_BLOCK_EVERY = 2.0  # seconds between L1Block updates (when the L1 head moved)


@dataclass(frozen=True)
class RollupEndpoints:
    """What the service reads: the two anvils and the rollup's L1 contracts."""

    l1_url: str
    l2_url: str
    portal: str
    oracle: str


def write_config(path: Path, endpoints: RollupEndpoints) -> Path:
    write_text_atomic(path, json.dumps(asdict(endpoints), indent=2) + "\n")
    return path


def read_config(path: Path) -> RollupEndpoints:
    return RollupEndpoints(**json.loads(path.read_text()))


@dataclass(frozen=True)
class DepositTx:
    """A ``TransactionDeposited`` event: the L2 transaction it asks for."""

    l1_block: int
    log_index: int
    sender: str
    to: str
    mint: int
    value: int
    gas_limit: int
    is_creation: bool
    data: bytes

    @property
    def key(self) -> str:
        return f"{self.l1_block}:{self.log_index}"

    @classmethod
    def from_log(cls, entry: dict[str, Any]) -> DepositTx:
        ev = decode_event("OptimismPortal", "TransactionDeposited", entry)
        opaque: bytes = ev["opaqueData"]  # abi.encodePacked(mint, value, gasLimit, isCreation, data)
        return cls(
            l1_block=int(entry["blockNumber"], 16),
            log_index=int(entry["logIndex"], 16),
            sender=to_checksum_address(ev["from"]),
            to=to_checksum_address(ev["to"]),
            mint=int.from_bytes(opaque[0:32], "big"),
            value=int.from_bytes(opaque[32:64], "big"),
            gas_limit=int.from_bytes(opaque[64:72], "big"),
            is_creation=opaque[72] == 1,
            data=opaque[73:],
        )


class Rollup:
    def __init__(self, endpoints: RollupEndpoints, *, state_file: Path | None = None, interval: float = 2.0) -> None:
        self.endpoints = endpoints
        self.l1 = Rpc(endpoints.l1_url)
        self.l2 = Rpc(endpoints.l2_url)
        self.state_file = state_file
        self.interval = interval
        self.operator, self.key = operator_account()
        self.scanned = -1
        self.deposits: dict[str, str] = {}  # deposit key -> L2 tx hash
        self.outputs: list[dict[str, Any]] = []
        self._l1_block_seen = -1
        self._lock = asyncio.Lock()
        if state_file is not None and state_file.exists():
            saved = json.loads(state_file.read_text())
            self.scanned, self.deposits = saved["scanned"], saved["deposits"]

    def _save(self) -> None:
        if self.state_file is not None:
            write_text_atomic(self.state_file, json.dumps({"scanned": self.scanned, "deposits": self.deposits}))

    async def derive(self) -> int:
        """Execute the L1 deposits not yet executed; how many ran."""
        head = await self.l1.block_number()
        if head <= self.scanned:
            return 0
        topic = event_topic("OptimismPortal", "TransactionDeposited")
        logs = await self.l1.logs(self.endpoints.portal, topic, self.scanned + 1, head)
        ran = 0
        for entry in logs:
            dep = DepositTx.from_log(entry)
            if dep.key in self.deposits:
                continue
            self.deposits[dep.key] = await self.execute(dep)
            self._save()
            ran += 1
        self.scanned = head
        self._save()
        return ran

    async def execute(self, dep: DepositTx) -> str:
        """The deposit on L2: mint, then the call from the (aliased) sender at zero gas price."""
        balance = int(await self.l2.call("eth_getBalance", [dep.sender, "latest"]), 16)
        await self.l2.call("anvil_setBalance", [dep.sender, hex(balance + dep.mint)])
        await self.l2.call("anvil_impersonateAccount", [dep.sender])
        pending = await self.l2.call("eth_getBlockByNumber", ["latest", False])
        base_fee = int(pending.get("baseFeePerGas") or "0x0", 16)
        await self.l2.call("anvil_setNextBlockBaseFeePerGas", ["0x0"])
        tx: dict[str, Any] = {
            "from": dep.sender,
            "value": hex(dep.value),
            "gas": hex(dep.gas_limit),
            "gasPrice": "0x0",
            "data": "0x" + dep.data.hex(),
        }
        if not dep.is_creation:
            tx["to"] = dep.to
        try:
            tx_hash: str = await self.l2.call("eth_sendTransaction", [tx])
            receipt = await self.l2.request("eth_getTransactionReceipt", [tx_hash])
            while receipt.get("result") is None:
                await asyncio.sleep(0.02)
                receipt = await self.l2.request("eth_getTransactionReceipt", [tx_hash])
        finally:
            await self.l2.call("anvil_stopImpersonatingAccount", [dep.sender])
            await self.l2.call("anvil_setNextBlockBaseFeePerGas", [hex(base_fee)])
        status = int(receipt["result"]["status"], 16)
        log.info("deposit %s -> L2 %s (status %d, mint %d)", dep.key, tx_hash, status, dep.mint)
        return tx_hash

    async def update_l1_block(self) -> bool:
        head = await self.l1.call("eth_getBlockByNumber", ["latest", False])
        number = int(head["number"], 16)
        if number == self._l1_block_seen:
            return False
        await as_depositor(self.l2, PREDEPLOYS["L1Block"], l1_block_values(head))
        self._l1_block_seen = number
        return True

    async def propose(self) -> list[dict[str, Any]]:
        """Every output due up to the L2 head (mining empty L2 blocks to reach the next one)."""
        oracle = self.endpoints.oracle
        proposed = []
        (target,) = decode_result(
            "L2OutputOracle",
            "nextBlockNumber",
            await self.l1.eth_call(oracle, calldata("L2OutputOracle", "nextBlockNumber")),
        )
        head = await self.l2.block_number()
        if head < target:
            await self.l2.call("anvil_mine", [hex(target - head)])
            head = target
        while target <= head:
            block = await self.l2.call("eth_getBlockByNumber", [hex(target), False])
            proof = await self.l2.call("eth_getProof", [PREDEPLOYS["L2ToL1MessagePasser"], [], hex(target)])
            root = output_root(output_root_proof(block, proof["storageHash"]))
            data = calldata("L2OutputOracle", "proposeL2Output", root, target, bytes(32), 0)
            receipt = await self.l1.transact(self.key, oracle, data, GAS_INIT)
            out = {"l2_block": target, "output_root": "0x" + root.hex(), "l1_tx": receipt["transactionHash"]}
            proposed.append(out)
            self.outputs.append(out)
            log.info("proposed output for L2 block %d", target)
            target += await self._interval_blocks()
        return proposed

    async def _interval_blocks(self) -> int:
        raw = await self.l1.eth_call(self.endpoints.oracle, calldata("L2OutputOracle", "submissionInterval"))
        (interval,) = decode_result("L2OutputOracle", "submissionInterval", raw)
        return int(interval)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_proposal = loop.time() + self.interval
        next_l1_block = 0.0
        while True:
            try:
                async with self._lock:
                    await self.derive()
                    if loop.time() >= next_l1_block:
                        await self.update_l1_block()
                        next_l1_block = loop.time() + L1_BLOCK_EVERY
                    if loop.time() >= next_proposal:
                        await self.propose()
                        next_proposal = loop.time() + self.interval
            except Exception:  # keep going through transient RPC failures
                log.exception("rollup step failed")
            await asyncio.sleep(0.1)

    def state(self) -> dict[str, Any]:
        return {
            "operator": self.operator,
            "interval": self.interval,
            "scanned_l1_block": self.scanned,
            "deposits": self.deposits,
            "outputs": self.outputs[-20:],
        }


def make_app(rollup: Rollup) -> web.Application:
    async def state(_: web.Request) -> web.Response:
        return web.json_response(rollup.state())

    async def propose(_: web.Request) -> web.Response:
        async with rollup._lock:
            await rollup.derive()
            return web.json_response({"outputs": await rollup.propose()})

    app = web.Application()
    app.router.add_get("/state", state)
    app.router.add_post("/propose", propose)
    return app


async def serve(config: Path, port: int, state_file: Path | None, interval: float) -> None:
    # Started while the contracts are still being deployed (its imports take seconds on a busy
    # machine): the config file appears once they are.
    while not config.exists():
        await asyncio.sleep(0.05)
    rollup = Rollup(read_config(config), state_file=state_file, interval=interval)
    await serve_forever(make_app(rollup), rollup.run(), port)


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
