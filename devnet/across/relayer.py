"""A devnet Across relayer: watches ``FundsDeposited`` on every chain, fills on the destination.

It fills from its own inventory (dev account 8, funded and approved at deployment) with
``fillRelay``, asking to be repaid on the origin chain, within limits: a route must exist
(same-symbol tokens), the input amount must not exceed ``max_input`` (per symbol, token
units), and the fee ``(input - output) / input`` must be at least ``min_fee_bps``. A deposit
it cannot fill yet (no inventory) stays pending and is retried until its fill deadline.

Quote endpoint (the role of Across's suggested-fees/limits API)::

    GET /quote?origin_chain_id=&destination_chain_id=&input_token=&amount=
        -> {"fee_bps", "max_input", "liquidity", "output_token", "relayer"}; 404 {"error"} without a route

Admin endpoint (JSON): ``GET /state``; ``POST /admin`` with any of ``stopped`` (bool),
``out_of_inventory`` (bool: behave as if empty), ``min_fee_bps``, ``max_input``. Each entry of
``/state``'s ``deposits`` carries wall-clock times (unix seconds): ``seen_at`` (the relayer first
saw the deposit) and, once filled, ``filled_at`` (the fill's receipt was in), so a benchmark
can tell the relayer's own time from its caller's.

    python -m devnet.across.relayer --config across.json --port 8621
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from devnet.across.deploy import relayer_account
from devnet.across.services import SpokeChain, read_config
from devnet.across.spoke import (
    FILL_STATUS,
    GAS,
    AcrossRevert,
    Deposit,
    Rpc,
    calldata,
    event_topic,
    from_bytes32,
    to_bytes32,
)
from devnet.anvil import DevnetError

log = logging.getLogger("devnet.across.relayer")

DEFAULT_MAX_INPUT = {"USDC": "1000000", "DAI": "1000000", "WBTC": "20", "WETH": "50"}
DECIMALS = {"USDC": 6, "DAI": 18, "WBTC": 8, "WETH": 18}


class Relayer:
    def __init__(
        self,
        chains: list[SpokeChain],
        *,
        poll_interval: float = 0.2,
        min_fee_bps: int = 1,
        max_input: dict[str, str] | None = None,
    ) -> None:
        self.chains = {c.chain_id: c for c in chains}
        self.rpcs = {c.chain_id: Rpc(c.rpc_url) for c in chains}
        self.address, self.key = relayer_account()
        self.poll_interval = poll_interval
        self.min_fee_bps = min_fee_bps
        self.max_input = dict(DEFAULT_MAX_INPUT, **(max_input or {}))
        self.stopped = False
        self.out_of_inventory = False
        self.next_block: dict[int, int] = {}
        self.pending: dict[str, Deposit] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.seen_at: dict[str, float] = {}  # unix seconds each deposit was first seen

    def _record(self, dep: Deposit, result: dict[str, Any]) -> None:
        """The deposit's latest outcome, keeping when it was first seen."""
        seen = {"seen_at": self.seen_at[dep.key]} if dep.key in self.seen_at else {}
        self.results[dep.key] = {**result, **seen}

    # --- decisions -------------------------------------------------------------------------
    def check_limits(self, dep: Deposit) -> str | None:
        """Why this deposit is not for us (permanently), or None."""
        origin = self.chains.get(dep.origin_chain_id)
        dest = self.chains.get(dep.destination_chain_id)
        if origin is None or dest is None:
            return f"unknown chain {dep.destination_chain_id}"
        sym_in = origin.symbol_of(from_bytes32(dep.input_token))
        sym_out = dest.symbol_of(from_bytes32(dep.output_token))
        if sym_in is None or sym_in != sym_out:
            return f"no route: {from_bytes32(dep.input_token)} -> {from_bytes32(dep.output_token)}"
        limit = int(Decimal(self.max_input[sym_in]) * 10 ** DECIMALS[sym_in])
        if dep.input_amount > limit:
            return f"input {dep.input_amount} above the {sym_in} limit {limit}"
        if dep.input_amount == 0 or dep.output_amount > dep.input_amount:
            return "output above input"
        fee_bps = (dep.input_amount - dep.output_amount) * 10_000 // dep.input_amount
        if fee_bps < self.min_fee_bps:
            return f"fee {fee_bps} bps below minimum {self.min_fee_bps}"
        if dep.exclusive_relayer != bytes(32) and from_bytes32(dep.exclusive_relayer) != self.address:
            return "exclusive to another relayer"
        return None

    async def try_fill(self, dep: Deposit) -> bool:
        """True when the deposit is settled for us (filled, refused, expired); False to retry."""
        reason = self.check_limits(dep)
        if reason:
            self._record(dep, {"status": "skipped", "reason": reason})
            return True
        rpc = self.rpcs[dep.destination_chain_id]
        dest = self.chains[dep.destination_chain_id]
        if await rpc.timestamp() > dep.fill_deadline:
            self._record(dep, {"status": "expired"})
            return True
        output_token = from_bytes32(dep.output_token)
        balance = await rpc.balance_of(output_token, str(self.address))
        if self.out_of_inventory or balance < dep.output_amount:
            self._record(dep, {"status": "waiting", "reason": "insufficient inventory"})
            return False
        data = calldata("fillRelay", dep.relay_data(), dep.origin_chain_id, to_bytes32(str(self.address)))
        try:
            receipt = await rpc.transact(self.key, dest.spoke_pool, data, GAS["fill"])
        except AcrossRevert as exc:
            self._record(dep, {"status": "refused", "error": exc.error})
            return True
        filled = {"status": "filled", "tx": receipt["transactionHash"], "block": receipt["blockNumber"]}
        self._record(dep, {**filled, "filled_at": time.time()})
        log.info("filled %s on %s", dep.key, dest.name)
        return True

    async def quote(self, origin_chain_id: int, destination_chain_id: int, input_token: str) -> dict[str, Any]:
        """The fee this relayer asks, its limit and what it holds now for a route; KeyError: no route."""
        origin, dest = self.chains.get(origin_chain_id), self.chains.get(destination_chain_id)
        if origin is None or dest is None or origin_chain_id == destination_chain_id:
            raise KeyError(f"no route between chains {origin_chain_id} and {destination_chain_id}")
        symbol = origin.symbol_of(input_token)
        if symbol is None or symbol not in dest.tokens:
            raise KeyError(f"no route for {input_token} from {origin.name} to {dest.name}")
        output_token = dest.tokens[symbol]
        held = (
            0 if self.out_of_inventory else await self.rpcs[destination_chain_id].balance_of(output_token, self.address)
        )
        return {
            "symbol": symbol,
            "fee_bps": max(self.min_fee_bps, 1),
            "max_input": str(int(Decimal(self.max_input[symbol]) * 10 ** DECIMALS[symbol])),
            "liquidity": str(held),
            "output_token": output_token,
            "relayer": self.address,
        }

    # --- loop ----------------------------------------------------------------------------
    async def poll_once(self) -> None:
        topic = event_topic("FundsDeposited")
        for chain_id, chain in self.chains.items():
            rpc = self.rpcs[chain_id]
            head = await rpc.block_number()
            start = self.next_block.get(chain_id, 0)
            if start > head:
                continue
            for raw in await rpc.logs(chain.spoke_pool, topic, start, head):
                dep = Deposit.from_log(chain_id, raw)
                if dep.key not in self.results:
                    self.pending[dep.key] = dep
                    self.seen_at[dep.key] = time.time()
                    self._record(dep, {"status": "seen", "deposit": dep.to_json()})
            self.next_block[chain_id] = head + 1
        if self.stopped:
            return
        for key, dep in list(self.pending.items()):
            try:
                done = await self.try_fill(dep)
            except (DevnetError, OSError) as exc:
                log.warning("fill of %s failed: %s", key, exc)
                done = False
            self.results[key].setdefault("deposit", dep.to_json())
            if done:
                self.pending.pop(key, None)

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:  # keep relaying through transient RPC failures
                log.exception("relayer poll failed")
            await asyncio.sleep(self.poll_interval)

    def state(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "stopped": self.stopped,
            "out_of_inventory": self.out_of_inventory,
            "min_fee_bps": self.min_fee_bps,
            "max_input": self.max_input,
            "pending": sorted(self.pending),
            "deposits": self.results,
            "fill_statuses": FILL_STATUS,
        }

    def configure(self, body: dict[str, Any]) -> None:
        if "stopped" in body:
            self.stopped = bool(body["stopped"])
        if "out_of_inventory" in body:
            self.out_of_inventory = bool(body["out_of_inventory"])
        if "min_fee_bps" in body:
            self.min_fee_bps = int(body["min_fee_bps"])
        if "max_input" in body:
            self.max_input.update({k: str(v) for k, v in body["max_input"].items()})


def make_app(relayer: Relayer) -> web.Application:
    async def state(_: web.Request) -> web.Response:
        return web.json_response(relayer.state())

    async def admin(request: web.Request) -> web.Response:
        relayer.configure(await request.json())
        return web.json_response(relayer.state())

    async def quote(request: web.Request) -> web.Response:
        q = request.query
        try:
            body = await relayer.quote(int(q["origin_chain_id"]), int(q["destination_chain_id"]), q["input_token"])
        except KeyError as exc:
            return web.json_response({"error": str(exc).strip("'\"")}, status=404)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/state", state)
    app.router.add_get("/quote", quote)
    app.router.add_post("/admin", admin)
    return app


async def serve(config: Path, port: int, host: str = "127.0.0.1") -> None:
    relayer = Relayer(read_config(config))
    runner = web.AppRunner(make_app(relayer))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    task = asyncio.create_task(relayer.run())
    try:
        await asyncio.Event().wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.config, args.port))


if __name__ == "__main__":
    main()
