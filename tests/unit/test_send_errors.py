"""Broadcast errors classified from the messages geth, anvil and reth actually return."""

from __future__ import annotations

import pytest
from web3.exceptions import Web3RPCError

from connectors.evm.transactions import classify_send_error
from crosslane.domain.tx import BroadcastOutcome


@pytest.mark.parametrize(
    "message",
    [
        "nonce too low",  # anvil, reth
        "nonce too low: next nonce 5, tx nonce 3",  # geth
        "nonce too low: address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, tx: 3 state: 5",  # geth (newer)
        "Nonce too low",
    ],
)
def test_nonce_too_low(message: str) -> None:
    assert classify_send_error(message) is BroadcastOutcome.NONCE_TOO_LOW


@pytest.mark.parametrize(
    "message",
    [
        "already known",  # geth, reth
        "ALREADY_EXISTS: already known",  # erigon
        "transaction already imported",  # anvil
        "known transaction: 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",  # older geth
    ],
)
def test_already_known(message: str) -> None:
    assert classify_send_error(message) is BroadcastOutcome.ALREADY_KNOWN


@pytest.mark.parametrize(
    "message",
    [
        "replacement transaction underpriced",  # geth, anvil, reth
        "Replacement transaction underpriced",
        "replacement underpriced",
    ],
)
def test_replacement_underpriced(message: str) -> None:
    assert classify_send_error(message) is BroadcastOutcome.UNDERPRICED


@pytest.mark.parametrize(
    "message",
    [
        "max fee per gas less than block base fee",  # anvil
        "max fee per gas less than block base fee: address 0x5aAe..., maxFeePerGas: 1 baseFee: 7",  # geth
        "fee cap less than block base fee",
    ],
)
def test_below_base_fee_waits_for_the_base_fee(message: str) -> None:
    assert classify_send_error(message) is BroadcastOutcome.FEE_BELOW_BASE_FEE


@pytest.mark.parametrize(
    "message",
    [
        "transaction underpriced",  # below the pool's minimum, not a replacement: a real failure
        "insufficient funds for gas * price + value",
        "nonce too high",
        "intrinsic gas too low",
        "exceeds block gas limit",
        "invalid sender",
        "future transaction tries to replace pending",
        "",
    ],
)
def test_unrelated_errors_are_not_classified(message: str) -> None:
    """Anything else is a real failure: send_raw re-raises it."""
    assert classify_send_error(message) is None


def test_classifies_web3_rpc_errors_as_rendered() -> None:
    """send_raw classifies ``str(exc)``; web3 renders the node's JSON-RPC error object."""
    exc = Web3RPCError(str({"code": -32000, "message": "replacement transaction underpriced"}))
    assert classify_send_error(str(exc)) is BroadcastOutcome.UNDERPRICED
    exc = Web3RPCError(str({"code": -32003, "message": "nonce too low: next nonce 2, tx nonce 1"}))
    assert classify_send_error(str(exc)) is BroadcastOutcome.NONCE_TOO_LOW
