"""The bridge connector's hand-written signatures match the ABIs of the pinned npm builds
(the contracts deployed on the devnet), so a drift in either is caught here."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from connectors.bridges import across, wormhole
from devnet.across.artifacts import abi as across_abi
from devnet.wormhole.artifacts import abi as wormhole_abi


def _type(param: dict[str, Any]) -> str:
    t: str = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + t[len("tuple") :]
    return t


def signatures(entries: list[dict[str, Any]], kind: str) -> set[str]:
    return {f"{e['name']}({','.join(_type(i) for i in e['inputs'])})" for e in entries if e.get("type") == kind}


@pytest.mark.parametrize(
    "signature",
    [
        across.DEPOSIT_V3,
        f"getV3RelayHash({across.RELAY_DATA})",
        "fillStatuses(bytes32)",
        "getCurrentTime()",
    ],
)
def test_across_functions_exist(signature: str) -> None:
    assert signature in signatures(across_abi(), "function")


def test_across_event_topics_match() -> None:
    topics = {keccak(text=s) for s in signatures(across_abi(), "event")}
    assert {across.FUNDS_DEPOSITED, across.FILLED_RELAY, across.EXECUTED_REFUND_ROOT} <= topics


def test_wormhole_signatures_match() -> None:
    bridge = signatures(wormhole_abi("BridgeImplementation"), "function")
    assert {
        wormhole.TRANSFER_TOKENS,
        wormhole.COMPLETE_TRANSFER,
        "isTransferCompleted(bytes32)",
        "wrappedAsset(uint16,bytes32)",
        "isWrappedAsset(address)",
    } <= bridge
    core = wormhole_abi("Implementation")
    assert "messageFee()" in signatures(core, "function")
    assert wormhole.LOG_MESSAGE_PUBLISHED in {keccak(text=s) for s in signatures(core, "event")}
    token = signatures(wormhole_abi("TokenImplementation"), "function")
    assert {"chainId()", "nativeContract()"} <= token
