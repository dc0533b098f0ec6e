"""Calldata and events of the contracts-bedrock contracts, from their forge ABIs (eth_abi, no
web3 contract machinery), and the rollup's fixed addresses."""

from __future__ import annotations

import functools
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from devnet.anvil import DevnetError
from devnet.opstack.artifacts import abi

# L2 predeploys (Predeploys.sol) and the system addresses (Constants.sol).
PREDEPLOYS: dict[str, str] = {
    "L2CrossDomainMessenger": "0x4200000000000000000000000000000000000007",
    "GasPriceOracle": "0x420000000000000000000000000000000000000F",
    "L2StandardBridge": "0x4200000000000000000000000000000000000010",
    "L1Block": "0x4200000000000000000000000000000000000015",
    "L2ToL1MessagePasser": "0x4200000000000000000000000000000000000016",
}
DEPOSITOR_ACCOUNT = "0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001"
ALIAS_OFFSET = 0x1111000000000000000000000000000000001111


def apply_l1_to_l2_alias(address: str) -> str:
    """AddressAliasHelper.applyL1ToL2Alias: the L2 sender of a deposit made by an L1 contract."""
    return to_checksum_address(((int(address, 16) + ALIAS_OFFSET) % 2**160).to_bytes(20, "big"))


def is_predeploy(address: str) -> bool:
    """Predeploys.isPredeployNamespace: 0x4200…0000 to 0x4200…07FF."""
    return int(address, 16) >> 11 == 0x4200000000000000000000000000000000000000 >> 11


def _type(param: dict[str, Any]) -> str:
    t: str = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + t[len("tuple") :]
    return t


def _entry(contract: str, kind: str, name: str) -> dict[str, Any]:
    entries = [e for e in abi(contract) if e["type"] == kind and e.get("name") == name]
    if len(entries) != 1:
        raise DevnetError(f"{contract}: {len(entries)} ABI {kind}s named {name}")
    return entries[0]


@functools.cache
def _signature(contract: str, kind: str, name: str) -> str:
    entry = _entry(contract, kind, name)
    return f"{name}({','.join(_type(i) for i in entry['inputs'])})"


def calldata(contract: str, fn: str, *args: Any) -> str:
    entry = _entry(contract, "function", fn)
    selector = function_signature_to_4byte_selector(_signature(contract, "function", fn))
    return "0x" + (selector + abi_encode([_type(i) for i in entry["inputs"]], list(args))).hex()


def constructor_args(contract: str, *args: Any) -> str:
    entry = next(e for e in abi(contract) if e["type"] == "constructor")
    return abi_encode([_type(i) for i in entry["inputs"]], list(args)).hex()


def decode_result(contract: str, fn: str, data: bytes) -> tuple[Any, ...]:
    entry = _entry(contract, "function", fn)
    return tuple(abi_decode([_type(o) for o in entry["outputs"]], data))


def event_topic(contract: str, name: str) -> str:
    return "0x" + keccak(text=_signature(contract, "event", name)).hex()


def decode_event(contract: str, name: str, log: dict[str, Any]) -> dict[str, Any]:
    entry = _entry(contract, "event", name)
    indexed = [i for i in entry["inputs"] if i["indexed"]]
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    out: dict[str, Any] = {}
    for param, topic in zip(indexed, log["topics"][1:], strict=True):
        (out[param["name"]],) = abi_decode([_type(param)], bytes.fromhex(topic.removeprefix("0x")))
    values = abi_decode([_type(p) for p in plain], bytes.fromhex(log["data"].removeprefix("0x")))
    out.update({p["name"]: v for p, v in zip(plain, values, strict=True)})
    return out
