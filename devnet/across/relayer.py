"""A devnet Across relayer: watches ``FundsDeposited`` on every chain, fills on the destination.

It fills from its own inventory (dev account 8, funded and approved at deployment) with
``fillRelay``, asking to be repaid on the origin chain, within limits: a route must exist
(same-symbol tokens), the input amount must not exceed ``max_input`` (per symbol, token
units), and the fee ``(input - output) / input`` must be at least ``min_fee_bps``. A deposit
it cannot fill yet (no inventory) stays pending and is retried until its fill deadline.

Quote endpoint, in the shape of the Across API's (``https://app.across.to/api``)::

    GET /api/suggested-fees?inputToken=&outputToken=&originChainId=&destinationChainId=&amount=
        -> {"totalRelayFee": {"pct", "total"}, "timestamp", "isAmountTooLow", "spokePoolAddress",
            "exclusiveRelayer", "exclusivityDeadline", "estimatedFillTimeSec",
            "limits": {"minDeposit", "maxDeposit", "maxDepositInstant", "maxDepositShortDelay",
                       "recommendedDepositInstant"}}
        400 {"message"} for a route it does not serve

``pct`` is a fraction scaled by 1e18, amounts are input-token base units as strings;
``maxDepositInstant`` is what this relayer can fill now from its inventory.

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
import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from devnet.across.deploy import relayer_account
from devnet.across.services import SpokeChain, read_config, serve_forever
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

    def max_input_units(self, symbol: str) -> int:
        """The largest deposit this relayer fills, in base units of ``symbol``."""
        return int(Decimal(self.max_input[symbol]) * 10 ** DECIMALS[symbol])

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
        limit = self.max_input_units(sym_in)
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

    async def suggested_fees(
        self, origin_chain_id: int, destination_chain_id: int, input_token: str, output_token: str, amount: int
    ) -> dict[str, Any]:
        """This relayer's answer to the Across API's suggested-fees question; KeyError: no route."""
        origin, dest = self.chains.get(origin_chain_id), self.chains.get(destination_chain_id)
        if origin is None or dest is None or origin_chain_id == destination_chain_id:
            raise KeyError(f"Unsupported route: chain {origin_chain_id} -> {destination_chain_id}")
        symbol = origin.symbol_of(input_token)
        if symbol is None or dest.symbol_of(output_token) != symbol:
            raise KeyError(f"Unsupported token pair {input_token} -> {output_token} ({origin.name} -> {dest.name})")
        rpc = self.rpcs[destination_chain_id]
        held = 0 if self.out_of_inventory else await rpc.balance_of(output_token, self.address)
        fee_bps = max(self.min_fee_bps, 1)
        fee = -(-amount * fee_bps // 10_000)
        max_input = self.max_input_units(symbol)
        instant = min(max_input, held)
        return {
            "totalRelayFee": {"pct": str(fee * 10**18 // amount) if amount else "0", "total": str(fee)},
            "timestamp": str(await self.rpcs[origin_chain_id].timestamp()),
            "isAmountTooLow": amount <= fee,
            "spokePoolAddress": origin.spoke_pool,
            "exclusiveRelayer": "0x" + "00" * 20,
            "exclusivityDeadline": 0,
            "estimatedFillTimeSec": max(1, round(2 * self.poll_interval + 1)),
            "limits": {
                "minDeposit": str(-(-10_000 // fee_bps)),  # below it the fee rounds to the whole amount
                "maxDeposit": str(max_input),
                "maxDepositInstant": str(instant),
                "maxDepositShortDelay": str(max_input),
                "recommendedDepositInstant": str(instant),
            },
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

    async def suggested_fees(request: web.Request) -> web.Response:
        q = request.query
        try:
            route = (int(q["originChainId"]), int(q["destinationChainId"]), q["inputToken"], q["outputToken"])
            body = await relayer.suggested_fees(*route, int(q["amount"]))
        except KeyError as exc:
            return web.json_response({"message": str(exc).strip("'\"")}, status=400)
        except ValueError as exc:
            return web.json_response({"message": str(exc)}, status=400)
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/state", state)
    app.router.add_get("/api/suggested-fees", suggested_fees)
    app.router.add_post("/admin", admin)
    return app


async def serve(config: Path, port: int, host: str = "127.0.0.1") -> None:
    relayer = Relayer(read_config(config))
    await serve_forever(make_app(relayer), relayer.run(), port, host)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.config, args.port))


if __name__ == "__main__":
    main()
