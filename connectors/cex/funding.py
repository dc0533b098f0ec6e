"""Deposits and withdrawals through ccxt: the venue's network rules, its answers parsed into
our models, and its refusals sorted into what a caller can act on.

ccxt maps many venue codes to exception classes only for the venue's production hosts
(Binance's ``-40xx`` by ``api.binance.com`` URLs), so a refusal is recognised by its
code or text as well as by its class.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import ccxt

from connectors.cex.errors import translate
from crosslane.domain.cex_transfer_steps import VenueDeposit, VenueTransferStatus, VenueWithdrawal
from crosslane.errors import CrosslaneError, InsufficientBalance, InvalidRequest


class WithdrawalRefused(CrosslaneError):
    """The venue refused the withdrawal: nothing was debited; retrying cannot help."""


class AddressNotWhitelisted(WithdrawalRefused):
    """The recipient is not on the account's withdrawal whitelist."""


class BelowWithdrawalMinimum(WithdrawalRefused):
    """The amount is below the network's minimum (or does not cover the fee)."""


class AmbiguousWithdrawal(CrosslaneError):
    """A venue without client references lists more than one withdrawal that could be ours:
    sending again might withdraw twice, so nothing is sent; an operator must decide."""


_WHITELIST = re.compile(
    r"-4035|-4007|58207|58203|whitelist|verified address|Unknown withdraw key|Invalid withdraw address", re.I
)
# Kraken answers EFunding:Invalid amount below the minimum (ccxt: InsufficientFunds)
_MINIMUM = re.compile(
    r"-4022|-4028|58206|minimum|lower limit|greater than the Commission|EFunding:Invalid amount", re.I
)
_INSUFFICIENT = re.compile(r"-4026|-4025|-4024|58350|insufficient", re.I)


def refusal(exc: BaseException, venue: str, action: str) -> CrosslaneError:
    """The error for a failed wallet call: whitelist, minimum and balance refusals by name,
    anything else as the connector's taxonomy says."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ccxt.ExchangeError) and not isinstance(exc, ccxt.NetworkError):
        if _WHITELIST.search(text):
            return AddressNotWhitelisted(
                f"{venue}: {action}: the address is not on the account's withdrawal whitelist ({text})"
            )
        if _MINIMUM.search(text):
            return BelowWithdrawalMinimum(f"{venue}: {action}: below the venue's withdrawal minimum or fee ({text})")
        if _INSUFFICIENT.search(text):
            return InsufficientBalance(f"{venue}: {action}: the account's balance does not cover it ({text})")
    return translate(exc, venue, action)


def network_rules(currencies: dict[str, Any], venue: str, asset: str, network: str) -> dict[str, Any]:
    """ccxt's entry for ``asset`` on ``network`` (fee, limits, precision); InvalidRequest naming
    what the venue does offer when it has none."""
    currency = currencies.get(asset)
    if currency is None:
        known = ", ".join(sorted(currencies)[:20]) or "none"
        raise InvalidRequest(f"{venue} has no currency {asset!r} (known: {known})")
    networks = currency.get("networks") or {}
    found = networks.get(network)
    if found is None:
        raise InvalidRequest(
            f"{venue} does not move {asset} on network {network} (it does on: {', '.join(sorted(networks)) or 'none'})"
        )
    return dict(found)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _status(value: Any) -> VenueTransferStatus:
    try:
        return VenueTransferStatus(str(value))
    except ValueError:
        return VenueTransferStatus.PENDING


def parse_withdrawal(tx: dict[str, Any], client_ref: str) -> VenueWithdrawal:
    fee = tx.get("fee") or {}
    return VenueWithdrawal(
        id=str(tx["id"]),
        client_ref=client_ref,
        status=_status(tx.get("status")),
        amount=_decimal(tx.get("amount")),
        fee=_decimal(fee.get("cost")),
        tx_hash=tx.get("txid") or None,
        address=tx.get("address") or tx.get("addressTo"),
        network=tx.get("network"),
    )


def parse_deposit(tx: dict[str, Any]) -> VenueDeposit:
    return VenueDeposit(
        id=str(tx["id"]),
        status=_status(tx.get("status")),
        amount=_decimal(tx.get("amount")) or Decimal(0),
        tx_hash=str(tx.get("txid") or ""),
        address=tx.get("address") or tx.get("addressTo"),
        network=tx.get("network"),
    )


def carries_ref(tx: dict[str, Any], param: str, client_ref: str) -> bool:
    info = tx.get("info") or {}
    return isinstance(info, dict) and str(info.get(param)) == client_ref


def funding_method(methods: list[dict[str, Any]], venue: str, asset: str, network: str) -> dict[str, Any]:
    """The venue's method row for ``network`` (its ``network`` field, or a method name that
    contains it, as ccxt matches them: ``USDC (DEVNET-A)``)."""
    for row in methods:
        if row.get("network") == network:
            return row
    for row in methods:
        if network in str(row.get("method") or ""):
            return row
    named = ", ".join(str(r.get("method")) for r in methods) or "none"
    raise InvalidRequest(f"{venue} does not move {asset} on network {network} (its methods: {named})")


def method_rules(row: dict[str, Any]) -> dict[str, Any]:
    """A ``WithdrawMethods`` row in the shape of ccxt's currency network entry."""
    return {
        "network": row.get("network"),
        "fee": _decimal(row.get("fee")),
        "precision": None,
        "limits": {"withdraw": {"min": _decimal(row.get("minimum")), "max": None}},
    }


def recent_matches(rows: list[dict[str, Any]], address: str, amount: Decimal, since_ms: int) -> list[dict[str, Any]]:
    """Withdrawals to ``address`` of ``amount`` (net of a fee taken out of it, or not) made
    since ``since_ms``: what could be ours on a venue that keeps no client reference."""
    found = []
    since_s = since_ms // 1000 * 1000  # venues stamp withdrawals to the second
    for tx in rows:
        to = str(tx.get("address") or tx.get("addressTo") or "")
        if to.lower() != address.lower() or (tx.get("timestamp") or 0) < since_s:
            continue
        net = _decimal(tx.get("amount"))
        fee = _decimal((tx.get("fee") or {}).get("cost")) or Decimal(0)
        if net is not None and amount in (net, net + fee):
            found.append(tx)
    return found
