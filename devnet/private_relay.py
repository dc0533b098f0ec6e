"""A private relay stand-in for the devnet: holds signed transactions out of anvil's public
pool and includes them itself, the way Flashbots Protect hands them to a builder.

JSON-RPC on ``POST /`` (single calls and batches):

- ``eth_sendRawTransaction [raw]`` and ``eth_sendPrivateTransaction [{"tx": raw,
  "maxBlockNumber"?}]``: the transaction is decoded and checked (chain id, signature, nonce
  not below the sender's mined nonce), then *held* here; the answer is its hash. The same
  bytes again answer "already known"; another transaction for a held (sender, nonce) must
  raise both fees by 10% ("replacement transaction underpriced") and then replaces it.
- ``eth_cancelPrivateTransaction [{"txHash": h}]``: drop a held transaction (true if held).
- ``eth_getTransactionByHash [h]``: a held transaction reads as pending (no block); others
  are the chain's answer.
- anything else is forwarded to the chain, so the relay is a complete RPC endpoint.

Inclusion: every ``include_interval`` seconds (or on ``POST /__relay {"include": true}``),
held transactions are sent to anvil in (sender, nonce) order in one batch and, unless anvil
automines, a block is mined at once. They reach anvil's pool only as the block that
includes them is built: ``txpool_content`` never lists them while they wait here.

Admin: ``GET /__relay`` → ``{"held": [hashes], "included": [hashes], "failed": {hash: why}}``.
Run as a process: ``python -m devnet.private_relay --listen-port P --upstream URL
[--include-interval S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from devnet.services import serve_until_signalled

ADMIN_PATH = "/__relay"
MIN_BUMP_PERCENT = 10
SEND_METHODS = ("eth_sendRawTransaction", "eth_sendPrivateTransaction")


class RelayRefusal(Exception):
    """A JSON-RPC error answer (message worded like a node's, so clients classify it alike)."""


@dataclass(frozen=True)
class HeldTx:
    tx_hash: str
    raw: str
    sender: str
    nonce: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    fields: dict[str, Any] = field(hash=False, compare=False)
    max_block_number: int | None = None


def decode_raw(raw: str, chain_id: int) -> HeldTx:
    """Decode and check a signed typed transaction (EIP-2930/1559); refuses anything else."""
    try:
        data = bytes.fromhex(raw.removeprefix("0x"))
        if not data or data[0] > 0x7F:
            raise RelayRefusal("only typed (EIP-1559/2930) transactions are relayed")
        fields = TypedTransaction.from_bytes(HexBytes(data)).as_dict()
        sender = Account.recover_transaction(data)
    except RelayRefusal:
        raise
    except Exception as exc:  # noqa: BLE001 - anything undecodable is the sender's problem
        raise RelayRefusal(f"invalid transaction: {exc}") from None
    if int(fields["chainId"]) != chain_id:
        raise RelayRefusal(f"invalid chain id {fields['chainId']}, this relay serves {chain_id}")
    max_fee = int(fields.get("maxFeePerGas", fields.get("gasPrice", 0)))
    tip = int(fields.get("maxPriorityFeePerGas", fields.get("gasPrice", 0)))
    return HeldTx(
        tx_hash="0x" + keccak(data).hex(),
        raw="0x" + data.hex(),
        sender=sender,
        nonce=int(fields["nonce"]),
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=tip,
        fields=fields,
    )


class RelayServer:
    """The relay server; ``await start()`` in a running loop, ``await stop()`` after."""

    def __init__(
        self, upstream: str, *, host: str = "127.0.0.1", port: int = 0, include_interval: float | None = 1.0
    ) -> None:
        self.upstream = upstream
        self.host = host
        self.port = port
        self.include_interval = include_interval
        self.held: dict[tuple[str, int], HeldTx] = {}
        self.included: list[str] = []
        self.failed: dict[str, str] = {}
        self._chain_id: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get(ADMIN_PATH, self._admin_get)
        app.router.add_post(ADMIN_PATH, self._admin_post)
        app.router.add_post("/{tail:.*}", self._rpc)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server  # only way to learn an ephemeral port
            assert server is not None and isinstance(server, asyncio.base_events.Server)
            self.port = int(server.sockets[0].getsockname()[1])
        if self.include_interval is not None:
            self._loop_task = asyncio.create_task(self._include_loop(self.include_interval))

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- upstream -----------------------------------------------------------------------

    async def _upstream(self, body: Any) -> Any:
        assert self._session is not None
        async with self._session.post(self.upstream, json=body) as resp:
            return await resp.json(content_type=None)

    async def _call(self, method: str, params: list[Any]) -> Any:
        reply = await self._upstream({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        if "error" in reply:
            raise RelayRefusal(str(reply["error"].get("message", reply["error"])))
        return reply["result"]

    async def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(await self._call("eth_chainId", []), 16)
        return self._chain_id

    # -- holding --------------------------------------------------------------------------

    async def hold(self, raw: str, max_block_number: int | None = None) -> str:
        """Check and hold a signed transaction; its hash."""
        tx = decode_raw(raw, await self.chain_id())
        tx = HeldTx(**{**tx.__dict__, "max_block_number": max_block_number})
        async with self._lock:
            key = (tx.sender, tx.nonce)
            current = self.held.get(key)
            if (current is not None and current.tx_hash == tx.tx_hash) or tx.tx_hash in self.included:
                raise RelayRefusal("already known")
            mined_nonce = int(await self._call("eth_getTransactionCount", [tx.sender, "latest"]), 16)
            if tx.nonce < mined_nonce:
                raise RelayRefusal(f"nonce too low: next nonce {mined_nonce}, tx nonce {tx.nonce}")
            if current is not None and not _bumped(current, tx):
                raise RelayRefusal("replacement transaction underpriced")
            self.held[key] = tx
        return tx.tx_hash

    def find_held(self, tx_hash: str) -> HeldTx | None:
        return next((t for t in self.held.values() if t.tx_hash == tx_hash.lower()), None)

    async def cancel(self, tx_hash: str) -> bool:
        async with self._lock:
            held = self.find_held(tx_hash)
            if held is None:
                return False
            del self.held[(held.sender, held.nonce)]
            return True

    # -- inclusion ------------------------------------------------------------------------

    async def include(self) -> list[str]:
        """Send every held transaction to the chain and, unless it automines, mine a block."""
        async with self._lock:
            if not self.held:
                return []
            head = int(await self._call("eth_blockNumber", []), 16)
            batch = []
            for key in sorted(self.held):
                tx = self.held.pop(key)
                if tx.max_block_number is not None and head + 1 > tx.max_block_number:
                    self.failed[tx.tx_hash] = f"not included by block {tx.max_block_number}"
                    continue
                batch.append(tx)
            if not batch:
                return []
            automine = bool(await self._call("anvil_getAutomine", []))
            requests = [
                {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [tx.raw]}
                for i, tx in enumerate(batch)
            ]
            if not automine:  # mine in the same request: the pool holds them only while this block is built
                requests.append({"jsonrpc": "2.0", "id": len(batch), "method": "evm_mine", "params": []})
            replies = {r["id"]: r for r in await self._upstream(requests)}
            sent = []
            for i, tx in enumerate(batch):
                reply = replies.get(i, {})
                if "error" in reply:
                    self.failed[tx.tx_hash] = str(reply["error"].get("message", reply["error"]))
                else:
                    sent.append(tx.tx_hash)
            self.included += sent
            return sent

    async def _include_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.include()
            except (aiohttp.ClientError, TimeoutError, RelayRefusal) as exc:
                print(f"relay: inclusion failed, will retry: {exc}", flush=True)

    # -- HTTP -----------------------------------------------------------------------------

    async def _rpc(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
            )
        if isinstance(body, list):
            return web.json_response([await self._one(call) for call in body])
        return web.json_response(await self._one(body))

    async def _one(self, call: dict[str, Any]) -> dict[str, Any]:
        call_id, method, params = call.get("id"), call.get("method"), call.get("params") or []
        try:
            result = await self._dispatch(str(method), params, call)
        except RelayRefusal as exc:
            return {"jsonrpc": "2.0", "id": call_id, "error": {"code": -32000, "message": str(exc)}}
        except (aiohttp.ClientError, TimeoutError) as exc:
            return {"jsonrpc": "2.0", "id": call_id, "error": {"code": -32603, "message": f"upstream: {exc}"}}
        if isinstance(result, _Forwarded):
            return {**result.reply, "id": call_id}
        return {"jsonrpc": "2.0", "id": call_id, "result": result}

    async def _dispatch(self, method: str, params: list[Any], call: dict[str, Any]) -> Any:
        if method == "eth_sendRawTransaction":
            return await self.hold(str(params[0]))
        if method == "eth_sendPrivateTransaction":
            spec = params[0] if params and isinstance(params[0], dict) else {}
            if "tx" not in spec:
                raise RelayRefusal('eth_sendPrivateTransaction takes [{"tx": "0x..."}]')
            max_block = spec.get("maxBlockNumber")
            return await self.hold(str(spec["tx"]), int(max_block, 16) if max_block else None)
        if method == "eth_cancelPrivateTransaction":
            spec = params[0] if params and isinstance(params[0], dict) else {}
            return await self.cancel(str(spec.get("txHash", "")))
        if method == "eth_getTransactionByHash" and params:
            held = self.find_held(str(params[0]))
            if held is not None:
                return _pending_view(held)
        return _Forwarded(await self._upstream({**call, "id": 1}))

    async def _admin_get(self, _request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def _admin_post(self, request: web.Request) -> web.Response:
        body = await request.json()
        included = await self.include() if isinstance(body, dict) and body.get("include") else []
        return web.json_response({**self.snapshot(), "just_included": included})

    def snapshot(self) -> dict[str, Any]:
        return {"held": [t.tx_hash for t in self.held.values()], "included": self.included, "failed": self.failed}


@dataclass(frozen=True)
class _Forwarded:
    reply: dict[str, Any]


def _bumped(old: HeldTx, new: HeldTx) -> bool:
    def raised(a: int, b: int) -> bool:
        return b * 100 >= a * (100 + MIN_BUMP_PERCENT)

    return raised(old.max_fee_per_gas, new.max_fee_per_gas) and raised(
        old.max_priority_fee_per_gas, new.max_priority_fee_per_gas
    )


def _pending_view(tx: HeldTx) -> dict[str, Any]:
    f = tx.fields
    return {
        "hash": tx.tx_hash,
        "from": tx.sender,
        "to": ("0x" + bytes(f["to"]).hex()) if f.get("to") else None,
        "nonce": hex(tx.nonce),
        "value": hex(int(f["value"])),
        "gas": hex(int(f["gas"])),
        "input": "0x" + bytes(f["data"]).hex(),
        "maxFeePerGas": hex(tx.max_fee_per_gas),
        "maxPriorityFeePerGas": hex(tx.max_priority_fee_per_gas),
        "chainId": hex(int(f["chainId"])),
        "type": hex(int(f["type"])),
        "v": hex(int(f["v"])),
        "r": hex(int(f["r"])),
        "s": hex(int(f["s"])),
        "accessList": [],
        "blockHash": None,
        "blockNumber": None,
        "transactionIndex": None,
    }


# --- clients of the admin endpoint --------------------------------------------------


def relay_state_sync(url: str, timeout: float = 2.0) -> dict[str, Any]:
    """``{"held": [...], "included": [...], "failed": {...}}`` of a running relay."""
    with urllib.request.urlopen(url.rstrip("/") + ADMIN_PATH, timeout=timeout) as resp:
        data: dict[str, Any] = json.loads(resp.read())
    return data


def include_now_sync(url: str, timeout: float = 10.0) -> list[str]:
    """Make a running relay include what it holds now; the hashes it sent."""
    req = urllib.request.Request(
        url.rstrip("/") + ADMIN_PATH,
        data=json.dumps({"include": True}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        exc.close()
        raise
    return list(data["just_included"])


# --- process entry point -------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devnet.private_relay", description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="the chain's JSON-RPC URL, e.g. http://127.0.0.1:8545")
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument(
        "--include-interval", type=float, default=1.0, help="seconds between inclusions; 0: only when asked"
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    relay = RelayServer(
        args.upstream,
        host=args.listen_host,
        port=args.listen_port,
        include_interval=args.include_interval or None,
    )
    await relay.start()
    banner = f"private relay {relay.url} -> {args.upstream} include every {args.include_interval}s"
    await serve_until_signalled(banner, relay.stop)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
