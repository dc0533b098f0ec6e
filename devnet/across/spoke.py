"""Talking to a SpokePool: JSON-RPC, signed transactions, calldata, events, and revert classification.

Kept free of web3's contract machinery so the relayer and dataworker stay small: calldata is
encoded from the pinned ABI with eth_abi, logs decoded likewise, and a revert's custom error
is named from its selector (``classify_revert``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from devnet.across.artifacts import abi
from devnet.anvil import DevnetError

RELAY_DATA = "(bytes32,bytes32,bytes32,bytes32,bytes32,uint256,uint256,uint256,uint256,uint32,uint32,bytes)"
FILL_STATUS = {0: "unfilled", 1: "slow_fill_requested", 2: "filled"}
TIP_WEI = 10**9

GAS = {
    "deploy_spoke": 9_000_000,
    "deploy_proxy": 1_500_000,
    "approve": 120_000,
    "wrap": 120_000,
    "deposit": 450_000,
    "fill": 600_000,
    "relay_root_bundle": 400_000,
    "execute_refund_leaf": 800_000,
    "admin": 300_000,
}


class AcrossRevert(DevnetError):
    """A SpokePool call the contract refused; ``error`` is the custom error's name (or the reason)."""

    def __init__(self, error: str, message: str, data: str = "") -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.data = data


def _type(param: dict[str, Any]) -> str:
    t: str = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + t[len("tuple") :]
    return t


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"


def error_selectors() -> dict[bytes, dict[str, Any]]:
    out = {}
    for entry in abi():
        if entry["type"] == "error":
            out[function_signature_to_4byte_selector(_signature(entry))] = entry
    return out


def classify_revert(data: str | bytes | None, message: str = "") -> str:
    """The name of the SpokePool error in revert ``data`` (``Error(string)`` gives its reason)."""
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else (data or b"")
    if len(raw) >= 4:
        if raw[:4] == function_signature_to_4byte_selector("Error(string)"):
            (reason,) = abi_decode(["string"], raw[4:])
            return str(reason)
        entry = error_selectors().get(raw[:4])
        if entry is not None:
            return str(entry["name"])
        return "0x" + raw[:4].hex()
    return message or "reverted without data"


def fn_selector(name: str) -> bytes:
    entries = [e for e in abi() if e["type"] == "function" and e["name"] == name]
    if len(entries) != 1:
        raise DevnetError(f"{len(entries)} ABI functions named {name}")
    return function_signature_to_4byte_selector(_signature(entries[0]))


def calldata(name: str, *args: Any) -> str:
    entry = next(e for e in abi() if e["type"] == "function" and e["name"] == name)
    return "0x" + (fn_selector(name) + abi_encode([_type(i) for i in entry["inputs"]], list(args))).hex()


def raw_calldata(signature: str, types: Sequence[str], args: Sequence[Any]) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + abi_encode(list(types), list(args))).hex()


def event_topic(name: str) -> str:
    entry = next(e for e in abi() if e["type"] == "event" and e["name"] == name)
    return "0x" + keccak(text=_signature(entry)).hex()


def decode_log(name: str, log: dict[str, Any]) -> dict[str, Any]:
    entry = next(e for e in abi() if e["type"] == "event" and e["name"] == name)
    indexed = [i for i in entry["inputs"] if i["indexed"]]
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    out: dict[str, Any] = {}
    for param, topic in zip(indexed, log["topics"][1:], strict=True):
        (out[param["name"]],) = abi_decode([_type(param)], bytes.fromhex(topic.removeprefix("0x")))
    values = abi_decode([_type(p) for p in plain], bytes.fromhex(log["data"].removeprefix("0x")))
    out.update({p["name"]: v for p, v in zip(plain, values, strict=True)})
    out["blockNumber"] = int(log["blockNumber"], 16)
    out["transactionHash"] = log["transactionHash"]
    return out


def to_bytes32(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address.removeprefix("0x"))


def from_bytes32(value: bytes) -> str:
    return to_checksum_address(value[12:])


@dataclass(frozen=True)
class Deposit:
    """A ``FundsDeposited`` event, with what a fill needs."""

    origin_chain_id: int
    destination_chain_id: int
    deposit_id: int
    depositor: bytes
    recipient: bytes
    exclusive_relayer: bytes
    input_token: bytes
    output_token: bytes
    input_amount: int
    output_amount: int
    quote_timestamp: int
    fill_deadline: int
    exclusivity_deadline: int
    message: bytes
    tx_hash: str = ""

    @property
    def key(self) -> str:
        return f"{self.origin_chain_id}:{self.deposit_id}"

    def relay_data(self) -> tuple[Any, ...]:
        return (
            self.depositor,
            self.recipient,
            self.exclusive_relayer,
            self.input_token,
            self.output_token,
            self.input_amount,
            self.output_amount,
            self.origin_chain_id,
            self.deposit_id,
            self.fill_deadline,
            self.exclusivity_deadline,
            self.message,
        )

    @classmethod
    def from_log(cls, origin_chain_id: int, log: dict[str, Any]) -> Deposit:
        ev = decode_log("FundsDeposited", log)
        return cls(
            origin_chain_id=origin_chain_id,
            destination_chain_id=ev["destinationChainId"],
            deposit_id=ev["depositId"],
            depositor=ev["depositor"],
            recipient=ev["recipient"],
            exclusive_relayer=ev["exclusiveRelayer"],
            input_token=ev["inputToken"],
            output_token=ev["outputToken"],
            input_amount=ev["inputAmount"],
            output_amount=ev["outputAmount"],
            quote_timestamp=ev["quoteTimestamp"],
            fill_deadline=ev["fillDeadline"],
            exclusivity_deadline=ev["exclusivityDeadline"],
            message=ev["message"],
            tx_hash=ev["transactionHash"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "origin_chain_id": self.origin_chain_id,
            "destination_chain_id": self.destination_chain_id,
            "deposit_id": self.deposit_id,
            "depositor": from_bytes32(self.depositor),
            "recipient": from_bytes32(self.recipient),
            "input_token": from_bytes32(self.input_token),
            "output_token": from_bytes32(self.output_token),
            "input_amount": str(self.input_amount),
            "output_amount": str(self.output_amount),
            "fill_deadline": self.fill_deadline,
            "tx_hash": self.tx_hash,
        }


class Rpc:
    """A minimal async JSON-RPC client with signing for one chain."""

    _ids = itertools.count(1)

    def __init__(self, url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.url = url
        self._session = session
        self._own = session is None
        self._lock = asyncio.Lock()  # one sender per key at a time: nonces stay in order

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, params: Sequence[Any] = ()) -> dict[str, Any]:
        session = await self.session()
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        async with session.post(self.url, json=body) as resp:
            reply: dict[str, Any] = await resp.json(content_type=None)
        return reply

    async def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        reply = await self.request(method, params)
        if reply.get("error"):
            err = reply["error"]
            data = err.get("data") if isinstance(err.get("data"), str) else ""
            raise AcrossRevert(classify_revert(data, err.get("message", "")), err.get("message", ""), data or "")
        return reply.get("result")

    async def eth_call(self, to: str, data: str, sender: str | None = None, value: int = 0) -> bytes:
        tx: dict[str, Any] = {"to": to, "data": data, "value": hex(value)}
        if sender:
            tx["from"] = sender
        result = await self.call("eth_call", [tx, "latest"])
        return bytes.fromhex(str(result).removeprefix("0x"))

    async def chain_id(self) -> int:
        return int(await self.call("eth_chainId"), 16)

    async def block_number(self) -> int:
        return int(await self.call("eth_blockNumber"), 16)

    async def timestamp(self) -> int:
        block = await self.call("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    async def balance_of(self, token: str, owner: str) -> int:
        out = await self.eth_call(token, raw_calldata("balanceOf(address)", ["address"], [owner]))
        return int.from_bytes(out, "big")

    async def logs(self, address: str, topic: str, from_block: int, to_block: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.call(
            "eth_getLogs",
            [{"address": address, "topics": [topic], "fromBlock": hex(from_block), "toBlock": hex(to_block)}],
        )
        return result

    async def transact(
        self, key: str, to: str | None, data: str, gas: int, value: int = 0, simulate: bool = True
    ) -> dict[str, Any]:
        """Sign and send, wait for the receipt; a refused call raises :class:`AcrossRevert` first.

        ``simulate`` runs the call with eth_call beforehand, so a revert is classified from its
        data and no failed transaction is mined.
        """
        account = Account.from_key(key)
        async with self._lock:
            if simulate and to is not None:
                await self.eth_call(to, data, sender=account.address, value=value)
            nonce = int(await self.call("eth_getTransactionCount", [account.address, "pending"]), 16)
            # Twice the base fee plus a fixed tip: not eth_gasPrice, which on anvil includes the
            # latest block's lowest tip, i.e. our own last one: doubling it fed on itself fill
            # after fill until the sender could not pay for gas.
            block = await self.call("eth_getBlockByNumber", ["latest", False])
            gas_price = 2 * int(block.get("baseFeePerGas") or "0x0", 16) + TIP_WEI
            tx: dict[str, Any] = {
                "nonce": nonce,
                "gas": gas,
                "gasPrice": gas_price,
                "value": value,
                "data": data,
                "chainId": await self.chain_id(),
            }
            if to is not None:
                tx["to"] = to_checksum_address(to)
            signed = account.sign_transaction(tx)
            tx_hash = await self.call("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        return await self.wait_receipt(tx_hash)

    async def wait_receipt(self, tx_hash: str, timeout: float = 30.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            receipt = await self.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                if int(receipt["status"], 16) != 1:
                    raise AcrossRevert("TransactionFailed", f"{tx_hash} reverted on-chain")
                result: dict[str, Any] = receipt
                return result
            if loop.time() > deadline:
                raise DevnetError(f"no receipt for {tx_hash} after {timeout}s")
            await asyncio.sleep(0.02)
