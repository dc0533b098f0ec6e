"""CexTransfer's request checks, the simulators' withdrawal rules (one withdrawal per client
reference, whitelist, minimum, precision, fee inside or on top), how the connector names
a venue's refusal and which withdrawals could be ours on a venue without client references."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from connectors.cex.errors import VenueUnavailable
from connectors.cex.funding import AddressNotWhitelisted, BelowWithdrawalMinimum, recent_matches, refusal
from crosslane.domain.cex_transfer import CexTransferRequest
from crosslane.errors import InsufficientBalance
from devnet.cex.funding import FundingDesk, FundingError, FundingRefusal, Network, NetworkAsset

TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BODY = {"request_id": "r1", "venue": "binance", "direction": "withdraw", "asset": "USDC", "chain": "devnet-a",
        "amount": "10", "address": TO}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"amount": "0"}, "must be positive"),
        ({"amount": "-1"}, "must be positive"),
        ({"amount": "NaN"}, "finite number"),
        ({"amount": "1." + "0" * 18 + "1"}, "more than 18 decimals"),
        ({"address": "0x" + "00" * 20}, "zero address"),
        ({"direction": "sideways"}, "direction"),
        ({"secret": "s3cr3t-value"}, "must not carry secrets"),
    ],
)
def test_request_refuses_bad_input(change: dict[str, str], text: str) -> None:
    with pytest.raises(ValueError, match=text) as refused:
        CexTransferRequest.model_validate({**BODY, **change})
    assert "s3cr3t-value" not in str(refused.value)


def _desk(fee_inside: bool) -> tuple[FundingDesk, dict[tuple[str, str], Decimal]]:
    balances = {("a", "USDC"): Decimal(1000)}

    def credit(account: str, asset: str, amount: Decimal) -> None:
        balances[(account, asset)] = balances.get((account, asset), Decimal(0)) + amount

    desk = FundingDesk(
        "binance", credit, lambda a, s: balances.get((a, s), Decimal(0)), lambda: 0, lambda: ["a"],
        fee_inside=fee_inside,
    )  # fmt: skip
    usdc = NetworkAsset("USDC", "0x" + "11" * 20, 6, Decimal(1), Decimal(10))
    desk.networks = {"DEVNET-A": Network("DEVNET-A", "devnet-a", 31337, "http://unused", {"USDC": usdc})}
    desk.whitelist("a", [TO])
    return desk, balances


@pytest.mark.parametrize(("fee_inside", "received", "debited"), [(True, 99, 100), (False, 100, 101)])
def test_one_withdrawal_per_client_reference(fee_inside: bool, received: int, debited: int) -> None:
    desk, balances = _desk(fee_inside)
    first = desk.request_withdrawal("a", "USDC", "DEVNET-A", TO, Decimal(100), "ref-1")
    again = desk.request_withdrawal("a", "USDC", "DEVNET-A", TO.lower(), Decimal(100), "ref-1")
    assert first is again and len(desk.withdrawals) == 1
    assert first.amount == received and balances[("a", "USDC")] == 1000 - debited
    with pytest.raises(FundingError) as other:
        desk.request_withdrawal("a", "USDC", "DEVNET-A", TO, Decimal(50), "ref-1")
    assert other.value.kind is FundingRefusal.DUPLICATE_REF


@pytest.mark.parametrize(
    ("asset", "network", "address", "amount", "kind"),
    [
        ("DOGE", None, TO, "100", FundingRefusal.UNKNOWN_ASSET),
        ("USDC", "DEVNET-Z", TO, "100", FundingRefusal.UNKNOWN_NETWORK),
        ("USDC", "DEVNET-A", "0x" + "22" * 20, "100", FundingRefusal.NOT_WHITELISTED),
        ("USDC", "DEVNET-A", TO, "9.99", FundingRefusal.BELOW_MINIMUM),
        ("USDC", "DEVNET-A", TO, "10.0000001", FundingRefusal.PRECISION),
        ("USDC", "DEVNET-A", TO, "5000", FundingRefusal.INSUFFICIENT),
        ("USDC", "DEVNET-A", "nowhere", "100", FundingRefusal.BAD_ADDRESS),
    ],
)
def test_refused_withdrawals_debit_nothing(
    asset: str, network: str | None, address: str, amount: str, kind: FundingRefusal
) -> None:
    desk, balances = _desk(True)
    with pytest.raises(FundingError) as refused:
        desk.request_withdrawal("a", asset, network, address, Decimal(amount), "ref")
    assert refused.value.kind is kind
    assert balances[("a", "USDC")] == 1000 and not desk.withdrawals


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ccxt.ExchangeError('binance {"code":-4035,"msg":"This address is not on the whitelist."}'),
         AddressNotWhitelisted),
        (ccxt.InvalidAddress('okx {"code":"58207","msg":"..."}'), AddressNotWhitelisted),
        (ccxt.ExchangeError('binance {"code":-4022,"msg":"Not less than the minimum pick-up quantity 10."}'),
         BelowWithdrawalMinimum),
        (ccxt.ExchangeError('okx {"code":"58206","msg":"Withdrawal amount is lower than the lower limit"}'),
         BelowWithdrawalMinimum),
        (ccxt.InsufficientFunds('okx {"code":"58350","msg":"Insufficient balance"}'), InsufficientBalance),
        (ccxt.ExchangeError('binance {"code":-4026,"msg":"You have insufficient balance."}'), InsufficientBalance),
        (ccxt.RequestTimeout("timed out"), VenueUnavailable),
        (ccxt.InvalidAddress('kraken {"error":["EFunding:Unknown withdraw key"]}'), AddressNotWhitelisted),
        (ccxt.InsufficientFunds('kraken {"error":["EFunding:Invalid amount"]}'), BelowWithdrawalMinimum),
        (ccxt.ExchangeError('kraken {"error":["EFunding:Insufficient funds"]}'), InsufficientBalance),
    ],
)  # fmt: skip
def test_refusals_are_named(exc: Exception, expected: type[Exception]) -> None:
    error = refusal(exc, "binance", "withdraw")
    assert type(error) is expected
    assert not (isinstance(error, VenueUnavailable) ^ error.retryable)


def test_recent_matches_are_same_address_and_amount_since_the_request() -> None:
    def tx(address: str, amount: str, fee: str, at_ms: int) -> dict[str, object]:
        return {"address": address, "amount": float(amount), "fee": {"cost": float(fee)}, "timestamp": at_ms}

    other = "0x" + "ab" * 20
    rows = [
        tx(TO.lower(), "99", "1", 5_000),  # ours: 100 asked, the fee taken out of it (stamped to the second)
        tx(TO, "99", "1", 3_999),  # the same, before the request
        tx(other, "99", "1", 6_000),  # elsewhere
        tx(TO, "97", "1", 6_000),  # another amount
    ]
    assert recent_matches(rows, TO, Decimal(100), 5_400) == [rows[0]]
    assert recent_matches(rows, TO, Decimal(99), 5_400) == [rows[0]]  # a fee on top: the amount itself
    assert len(recent_matches([*rows, tx(TO, "99", "1", 7_000)], TO, Decimal(100), 5_000)) == 2  # ambiguous
    assert recent_matches(rows, TO, Decimal(100), 6_000) == []
