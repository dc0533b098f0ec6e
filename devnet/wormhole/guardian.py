"""Devnet Wormhole guardians: observe, sign and serve VAAs over HTTP.

One process plays the whole devnet guardian set (four keys). It polls each chain's core
contract for ``LogMessagePublished`` (``eth_getLogs``), waits until a message's block has
``confirmations`` confirmations (head - block + 1), builds the VAA v1 body (block
timestamp, nonce, Wormhole chain id, emitter, sequence, consistency level, payload) and has
every guardian that is *up* sign it. A VAA is served once it carries a quorum of signatures
(3 of 4), like the guardian/spy REST API. Each observation keeps wall-clock times (unix
seconds): ``observed_at`` (first seen in the chain's logs) and ``quorate_at`` (first held a
quorum), so a benchmark can tell the guardians' own time from its caller's::

    GET /v1/signed_vaa/{chain}/{emitter hex 64}/{sequence}  -> {"vaaBytes": "<base64>"}, 404 until quorate
    GET /v1/observations/{chain}/{emitter}/{sequence}        -> when it was observed and quorate, 404 if unknown
    GET /v1/health                                           -> chains, heads, observations
    GET /admin/faults, POST /admin/faults {"down": [2, 3], "latency": {"1": 0.5}, "response_delay": 0.1}

Fault injection: a guardian that is down signs nothing; when it is back it signs what it
missed (as real guardians re-observe). ``latency`` delays a guardian's signature after the
observation; ``response_delay`` slows every REST answer.

Run: ``python -m devnet.wormhole.guardian --listen-port 7071 --chain devnet-a,2,http://127.0.0.1:8545,0xCore ...``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from eth_abi.abi import decode as abi_decode

from connectors.bridges.wormhole_vaa import VAA, Signature, VAABody, emitter_bytes32, quorum
from devnet.wormhole.vaa import DEVNET_GUARDIAN_KEYS, sign

LOG = logging.getLogger("devnet.wormhole.guardian")
LOG_MESSAGE_PUBLISHED = "0x6eb224fb001ed210e379b335e35efe88672a8ce935d981a6896b27ffdf52a3b2"


@dataclass(frozen=True)
class WatchedChain:
    name: str
    wormhole_chain_id: int
    rpc_url: str
    core: str

    @classmethod
    def parse(cls, spec: str) -> WatchedChain:
        name, wid, url, core = spec.split(",")
        return cls(name, int(wid), url, core)

    def spec(self) -> str:
        return f"{self.name},{self.wormhole_chain_id},{self.rpc_url},{self.core}"


@dataclass
class _Observation:
    body: VAABody
    observed_at: float  # time.monotonic(): signing latency faults count from it
    signatures: dict[int, Signature] = field(default_factory=dict)
    observed_wall: float = field(default_factory=time.time)  # unix seconds, for callers' timings
    quorate_wall: float | None = None  # unix seconds when it first held a quorum of signatures

    def timings(self, quorum: int) -> dict[str, Any]:
        return {
            "message_id": self.body.message_id,
            "observed_at": self.observed_wall,
            "quorate_at": self.quorate_wall,
            "signatures": len(self.signatures),
            "quorum": quorum,
        }


@dataclass
class GuardianFaults:
    down: set[int] = field(default_factory=set)
    latency: dict[int, float] = field(default_factory=dict)  # per guardian, seconds before it signs
    response_delay: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "down": sorted(self.down),
            "latency": {str(k): v for k, v in sorted(self.latency.items())},
            "response_delay": self.response_delay,
        }


class GuardianNetwork:
    """The devnet guardian set, observing ``chains`` and serving quorate VAAs."""

    def __init__(
        self,
        chains: Sequence[WatchedChain],
        *,
        keys: Sequence[bytes] = DEVNET_GUARDIAN_KEYS,
        guardian_set_index: int = 0,
        confirmations: int = 1,
        poll_interval: float = 0.05,
    ) -> None:
        self.chains = list(chains)
        self.keys = list(keys)
        self.guardian_set_index = guardian_set_index
        self.confirmations = max(1, confirmations)
        self.poll_interval = poll_interval
        self.quorum = quorum(len(self.keys))
        self.faults = GuardianFaults()
        self.observations: dict[str, _Observation] = {}
        self._incomplete: set[str] = set()
        self._next_block: dict[str, int] = {c.name: 0 for c in self.chains}
        self._heads: dict[str, int] = {}
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    # -- observing and signing ----------------------------------------------------------

    async def _rpc(self, url: str, method: str, params: list[Any]) -> Any:
        assert self._session is not None
        async with self._session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) as r:
            reply = await r.json(content_type=None)
        if reply.get("error"):
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    async def _poll_chain(self, chain: WatchedChain) -> None:
        head = int(await self._rpc(chain.rpc_url, "eth_blockNumber", []), 16)
        self._heads[chain.name] = head
        safe = head - self.confirmations + 1
        start = self._next_block[chain.name]
        if safe < start:
            return
        logs = await self._rpc(
            chain.rpc_url,
            "eth_getLogs",
            [{"fromBlock": hex(start), "toBlock": hex(safe), "address": chain.core, "topics": [LOG_MESSAGE_PUBLISHED]}],
        )
        timestamps: dict[str, int] = {}
        for log in logs:
            if log.get("removed"):
                continue
            block = log["blockNumber"]
            if block not in timestamps:
                header = await self._rpc(chain.rpc_url, "eth_getBlockByNumber", [block, False])
                timestamps[block] = int(header["timestamp"], 16)
            sequence, nonce, payload, consistency = abi_decode(
                ["uint64", "uint32", "bytes", "uint8"], bytes.fromhex(log["data"][2:])
            )
            emitter = emitter_bytes32(log["topics"][1][-40:])
            body = VAABody(timestamps[block], nonce, chain.wormhole_chain_id, emitter, sequence, consistency, payload)
            if body.message_id not in self.observations:
                self.observations[body.message_id] = _Observation(body, time.monotonic())
                self._incomplete.add(body.message_id)
        self._next_block[chain.name] = safe + 1

    def _sign_pending(self) -> None:
        now = time.monotonic()
        for mid in list(self._incomplete):
            obs = self.observations[mid]
            for index, key in enumerate(self.keys):
                if index in obs.signatures or index in self.faults.down:
                    continue
                if now < obs.observed_at + self.faults.latency.get(index, 0.0):
                    continue
                obs.signatures[index] = sign(obs.body, key, index)
            if obs.quorate_wall is None and len(obs.signatures) >= self.quorum:
                obs.quorate_wall = time.time()
            if len(obs.signatures) == len(self.keys):
                self._incomplete.discard(mid)

    async def poll_once(self) -> None:
        for chain in self.chains:
            try:
                await self._poll_chain(chain)
            except (aiohttp.ClientError, RuntimeError, OSError, ValueError) as exc:
                LOG.warning("%s: poll failed: %s", chain.name, exc)
        self._sign_pending()

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_interval)

    def _observation(self, chain: int, emitter: str, sequence: int) -> _Observation | None:
        return self.observations.get(f"{chain}/{emitter.lower().removeprefix('0x').rjust(64, '0')}/{sequence}")

    def signed_vaa(self, chain: int, emitter: str, sequence: int) -> bytes | None:
        """The quorate VAA for a message, or None (unknown, or not enough signatures yet)."""
        obs = self._observation(chain, emitter, sequence)
        if obs is None or len(obs.signatures) < self.quorum:
            return None
        return VAA(self.guardian_set_index, tuple(obs.signatures.values()), obs.body).encode()

    # -- HTTP -----------------------------------------------------------------------------

    async def _delay(self) -> None:
        if self.faults.response_delay > 0:
            await asyncio.sleep(self.faults.response_delay)

    @staticmethod
    def _message_key(request: web.Request) -> tuple[int, str, int] | web.Response:
        """(chain, emitter, sequence) from the path, or the 400 the guardian API answers."""
        try:
            return int(request.match_info["chain"]), request.match_info["emitter"], int(request.match_info["sequence"])
        except ValueError:
            return web.json_response({"code": 3, "message": "invalid chain or sequence"}, status=400)

    async def _handle_vaa(self, request: web.Request) -> web.Response:
        await self._delay()
        key = self._message_key(request)
        if isinstance(key, web.Response):
            return key
        vaa = self.signed_vaa(*key)
        if vaa is None:
            return web.json_response({"code": 5, "message": "requested VAA not found in store"}, status=404)
        return web.json_response({"vaaBytes": base64.b64encode(vaa).decode()})

    async def _handle_observation(self, request: web.Request) -> web.Response:
        """When a message was observed and when it became quorate (unix seconds; null: not yet)."""
        await self._delay()
        key = self._message_key(request)
        if isinstance(key, web.Response):
            return key
        obs = self._observation(*key)
        if obs is None:
            return web.json_response({"code": 5, "message": "message not observed"}, status=404)
        return web.json_response(obs.timings(self.quorum))

    async def _handle_health(self, _request: web.Request) -> web.Response:
        await self._delay()
        return web.json_response(
            {
                "chains": {
                    c.name: {"wormhole_chain_id": c.wormhole_chain_id, "head": self._heads.get(c.name)}
                    for c in self.chains
                },
                "guardians": len(self.keys),
                "quorum": self.quorum,
                "confirmations": self.confirmations,
                "observations": len(self.observations),
                "faults": self.faults.as_json(),
            }
        )

    async def _handle_get_faults(self, _request: web.Request) -> web.Response:
        return web.json_response(self.faults.as_json())

    async def _handle_set_faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "down" in body:
            down = {int(i) for i in body["down"]}
            bad = [i for i in down if not 0 <= i < len(self.keys)]
            if bad:
                return web.json_response({"error": f"no guardian {bad}"}, status=400)
            self.faults.down = down
        if "latency" in body:
            latency = body["latency"]
            if isinstance(latency, int | float):  # one value for every guardian
                latency = dict.fromkeys(range(len(self.keys)), latency)
            self.faults.latency = {int(k): float(v) for k, v in latency.items() if float(v) > 0}
        if "response_delay" in body:
            self.faults.response_delay = float(body["response_delay"])
        self._sign_pending()
        return web.json_response(self.faults.as_json())

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/signed_vaa/{chain}/{emitter}/{sequence}", self._handle_vaa)
        app.router.add_get("/v1/observations/{chain}/{emitter}/{sequence}", self._handle_observation)
        app.router.add_get("/v1/health", self._handle_health)
        app.router.add_get("/admin/faults", self._handle_get_faults)
        app.router.add_post("/admin/faults", self._handle_set_faults)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}"
        self._task = asyncio.create_task(self._run())
        return self.url

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()


# -- clients --------------------------------------------------------------------------------


def set_faults_sync(url: str, timeout: float = 2.0, **faults: Any) -> dict[str, Any]:
    """``down=[...]``, ``latency={index: s}`` or a number, ``response_delay=s``; the faults now in force."""
    req = urllib.request.Request(
        f"{url}/admin/faults", data=json.dumps(faults).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        result: dict[str, Any] = json.loads(r.read())
    return result


def get_health_sync(url: str, timeout: float = 2.0) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/v1/health", timeout=timeout) as r:
        result: dict[str, Any] = json.loads(r.read())
    return result


def get_observation_sync(
    url: str, chain: int, emitter: str | bytes, sequence: int, timeout: float = 2.0
) -> dict[str, Any] | None:
    """When the guardians observed a message and when it became quorate (unix seconds,
    ``quorate_at`` null until then); None if they never observed it."""
    path = f"{url}/v1/observations/{chain}/{emitter_bytes32(emitter).hex()}/{sequence}"
    try:
        with urllib.request.urlopen(path, timeout=timeout) as r:
            result: dict[str, Any] = json.loads(r.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    return result


async def _serve(args: argparse.Namespace) -> None:
    network = GuardianNetwork(
        [WatchedChain.parse(s) for s in args.chain],
        confirmations=args.confirmations,
        poll_interval=args.poll_interval,
    )
    url = await network.start(args.host, args.listen_port)
    LOG.info("guardians serving on %s", url)
    try:
        await asyncio.Event().wait()
    finally:
        await network.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devnet.wormhole.guardian", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--chain", action="append", required=True, help="name,wormhole_chain_id,rpc_url,core")
    parser.add_argument("--confirmations", type=int, default=1)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
