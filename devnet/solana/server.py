"""The Solana node's HTTP face: JSON-RPC on ``POST /`` (single calls and batches), the slot
clock, ``GET /health``, and the admin endpoints:

- ``POST /admin/faults`` with a :class:`~devnet.solana.node.Faults` body sets the faults
  (``GET`` reads them);
- ``POST /admin/advance {"slots": n}`` produces n blocks at once;
- ``GET /admin/status`` → slot, block height, dropped signatures, faults.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature

from crosslane.money import from_base_units_compact
from devnet.solana.node import DEPTH, Commitment, Faults, RpcFailure, SolanaNode, decode_transaction

DEFAULT_SLOT_MS = 50
SOLANA_CORE_VERSION = "2.2.0"  # what getVersion reports


def _config(params: list[Any], index: int) -> dict[str, Any]:
    value = params[index] if len(params) > index else None
    return value if isinstance(value, dict) else {}


def _commitment(config: dict[str, Any]) -> Commitment:
    value = config.get("commitment") or "finalized"
    if value not in DEPTH:
        raise RpcFailure(-32602, f"Invalid params: unknown commitment {value!r}")
    return value  # type: ignore[return-value]


def _pubkey(value: Any) -> Pubkey:
    try:
        return Pubkey.from_string(value)
    except (ValueError, TypeError):
        raise RpcFailure(-32602, f"Invalid param: Invalid pubkey {value!r}") from None


def _signature(value: Any) -> Signature:
    try:
        return Signature.from_string(value)
    except (ValueError, TypeError):
        raise RpcFailure(-32602, f"Invalid param: Invalid signature {value!r}") from None


def _wire_bytes(params: list[Any]) -> bytes:
    encoding = _config(params, 1).get("encoding") or "base58"
    if encoding != "base64":
        raise RpcFailure(-32602, f"Invalid params: this devnet node takes base64 transactions, not {encoding}")
    try:
        return base64.b64decode(params[0], validate=True)
    except (ValueError, TypeError):
        raise RpcFailure(-32602, "invalid transaction: not base64") from None


class SolanaRpcServer:
    def __init__(
        self,
        node: SolanaNode,
        host: str = "127.0.0.1",
        port: int = 0,
        slot_ms: float = DEFAULT_SLOT_MS,
    ) -> None:
        self.node = node
        self.host = host
        self.port = port
        self.slot_ms = slot_ms
        self._runner: web.AppRunner | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._random = random.Random(0)
        self._methods: dict[str, Callable[[list[Any]], Any]] = {
            "getHealth": lambda _params: "ok",
            "getVersion": lambda _params: {"solana-core": SOLANA_CORE_VERSION, "feature-set": 0},
            "getSlot": lambda p: node.slot_at(_commitment(_config(p, 0))),
            "getBlockHeight": lambda p: node.block_height_at(_commitment(_config(p, 0))),
            "getLatestBlockhash": self._latest_blockhash,
            "isBlockhashValid": self._blockhash_valid,
            "getBalance": lambda p: self._in_context(node.balance(_pubkey(p[0]))),
            "getAccountInfo": self._account_info,
            "getTokenAccountBalance": self._token_balance,
            "getMinimumBalanceForRentExemption": lambda p: node.svm.minimum_balance_for_rent_exemption(int(p[0])),
            "getRecentPrioritizationFees": lambda p: node.recent_prioritization_fees(
                [_pubkey(a) for a in (p[0] if p else [])]
            ),
            "getSignatureStatuses": self._signature_statuses,
            "requestAirdrop": lambda p: str(node.airdrop(_pubkey(p[0]), int(p[1]))),
            "sendTransaction": self._send_transaction,
            "simulateTransaction": self._simulate_transaction,
        }

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- methods --------------------------------------------------------------------

    def _in_context(self, value: Any) -> dict[str, Any]:
        return {"context": {"slot": self.node.slot, "apiVersion": SOLANA_CORE_VERSION}, "value": value}

    def _latest_blockhash(self, params: list[Any]) -> dict[str, Any]:
        blockhash, last_valid = self.node.latest_blockhash(_commitment(_config(params, 0)))
        return self._in_context({"blockhash": str(blockhash), "lastValidBlockHeight": last_valid})

    def _blockhash_valid(self, params: list[Any]) -> dict[str, Any]:
        try:
            blockhash = Hash.from_string(params[0])
        except (ValueError, TypeError, IndexError):
            raise RpcFailure(-32602, "Invalid param: Invalid blockhash") from None
        return self._in_context(self.node.blockhash_valid(blockhash))

    def _account_info(self, params: list[Any]) -> dict[str, Any]:
        encoding = _config(params, 1).get("encoding") or "base64"
        if encoding != "base64":
            raise RpcFailure(-32602, f"Invalid params: this devnet node serves base64 accounts, not {encoding}")
        account = self.node.account(_pubkey(params[0]))
        if account is None:
            return self._in_context(None)
        data = bytes(account.data)
        return self._in_context(
            {
                "data": [base64.b64encode(data).decode(), "base64"],
                "executable": account.executable,
                "lamports": account.lamports,
                "owner": str(account.owner),
                "rentEpoch": account.rent_epoch,
                "space": len(data),
            }
        )

    def _token_balance(self, params: list[Any]) -> dict[str, Any]:
        amount, decimals = self.node.token_balance(_pubkey(params[0]))
        ui = f"{from_base_units_compact(amount, decimals):f}"
        # uiAmount is a JSON number on the wire, as real nodes send it; clients should read "amount"
        return self._in_context(
            {"amount": str(amount), "decimals": decimals, "uiAmount": float(ui), "uiAmountString": ui}
        )

    def _signature_statuses(self, params: list[Any]) -> dict[str, Any]:
        signatures = [_signature(s) for s in params[0]]
        search = bool(_config(params, 1).get("searchTransactionHistory"))
        return self._in_context(self.node.signature_statuses(signatures, search))

    def _send_transaction(self, params: list[Any]) -> str:
        config = _config(params, 1)
        raw = _wire_bytes(params)
        return str(self.node.send(raw, skip_preflight=bool(config.get("skipPreflight"))))

    def _simulate_transaction(self, params: list[Any]) -> dict[str, Any]:
        config = _config(params, 1)
        tx = decode_transaction(_wire_bytes(params))
        if config.get("replaceRecentBlockhash"):
            raise RpcFailure(-32602, "Invalid params: this devnet node does not replace blockhashes in simulations")
        if not self.node.blockhash_valid(tx.message.recent_blockhash):
            return self._in_context(
                {"err": "BlockhashNotFound", "logs": [], "accounts": None, "unitsConsumed": 0, "returnData": None}
            )
        return self._in_context(self.node.simulate(tx))

    # --- HTTP -----------------------------------------------------------------------

    def _injected_failure(self, method: str) -> bool:
        faults = self.node.faults
        if faults.rpc_error_methods is not None and method not in faults.rpc_error_methods:
            return False
        if faults.rpc_errors:
            self.node.faults = faults.model_copy(update={"rpc_errors": faults.rpc_errors - 1})
            return True
        return bool(faults.rpc_error_rate) and self._random.random() < faults.rpc_error_rate

    def _call(self, request: Any) -> dict[str, Any]:
        request_id = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                raise RpcFailure(-32600, "Invalid request")
            method = request["method"]
            handler = self._methods.get(method)
            if handler is None:
                raise RpcFailure(-32601, f"Method not found: {method}")
            params = request.get("params") or []
            if not isinstance(params, list):
                raise RpcFailure(-32602, "Invalid params: expected an array")
            try:
                result = handler(params)
            except (IndexError, KeyError, TypeError, ValueError) as exc:
                raise RpcFailure(-32602, f"Invalid params: {exc}") from None
            return {"jsonrpc": "2.0", "result": result, "id": request_id}
        except RpcFailure as failure:
            return {"jsonrpc": "2.0", "error": failure.to_json(), "id": request_id}

    async def _rpc(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            parse_error = RpcFailure(-32700, "Parse error").to_json()
            return web.json_response({"jsonrpc": "2.0", "error": parse_error, "id": None})
        calls = body if isinstance(body, list) else [body]
        methods = [c.get("method", "") if isinstance(c, dict) else "" for c in calls]
        if any(self._injected_failure(m) for m in methods):
            if self.node.faults.rpc_error_kind == "http":
                return web.Response(status=500, text="injected fault: internal server error")
            unhealthy = RpcFailure(-32005, "Node is unhealthy", {"numSlotsBehind": None})
            answers = [{"jsonrpc": "2.0", "error": unhealthy.to_json(), "id": c.get("id")} for c in calls]
            return web.json_response(answers if isinstance(body, list) else answers[0])
        answers = [self._call(c) for c in calls]
        return web.json_response(answers if isinstance(body, list) else answers[0])

    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _set_faults(self, request: web.Request) -> web.Response:
        try:
            self.node.faults = Faults.model_validate(await request.json())
        except (ValueError, ValidationError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.node.faults.model_dump())

    async def _get_faults(self, _request: web.Request) -> web.Response:
        return web.json_response(self.node.faults.model_dump())

    async def _advance(self, request: web.Request) -> web.Response:
        body = await request.json()
        slots = body.get("slots", 1) if isinstance(body, dict) else None
        if not isinstance(slots, int) or slots < 1:
            return web.json_response({"error": "slots: a positive integer"}, status=400)
        self.node.advance(slots)
        return await self._status(request)

    async def _status(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "slot": self.node.slot,
                "block_height": self.node.block_height,
                "blockhash_validity": self.node.blockhash_validity,
                "slot_ms": self.slot_ms,
                "dropped": self.node.dropped,
                "faults": self.node.faults.model_dump(),
            }
        )

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.slot_ms / 1000)
            self.node.advance()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/", self._rpc)
        app.router.add_get("/health", self._health)
        app.router.add_get("/admin/faults", self._get_faults)
        app.router.add_post("/admin/faults", self._set_faults)
        app.router.add_post("/admin/advance", self._advance)
        app.router.add_get("/admin/status", self._status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if self.slot_ms > 0:
            self._clock_task = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
        if self._runner is not None:
            await self._runner.cleanup()
