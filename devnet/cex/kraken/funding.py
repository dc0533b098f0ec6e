"""Kraken funding endpoints as ccxt's ``kraken`` class calls them: ``DepositMethods``,
``DepositAddresses``, ``DepositStatus``, ``WithdrawMethods``, ``WithdrawAddresses``,
``WithdrawInfo``, ``Withdraw`` and ``WithdrawStatus`` (all private POSTs).

Kraken withdraws to a withdrawal *key*: the name of an entry of the account's address book
(configured here through ``/__admin/whitelist`` ``keys``), never to a raw address; an
``address`` sent along must be that entry's. There is no client reference on a withdrawal:
the answer is a ``refid`` only. The fee comes out of the amount (``WithdrawInfo`` and
``WithdrawStatus`` report the net amount and the fee). Methods are named per network:
``USDC (DEVNET-A)``, ``Ether (DEVNET-B)``. Statuses: withdrawals ``Initial`` → ``Settled``
(broadcast) → ``Success`` (``Failure``); deposits ``Pending`` → ``Success``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from devnet.cex.auth import ApiKey
from devnet.cex.funding import (
    CreditedDeposit,
    DepositStatus,
    FundingError,
    FundingRefusal,
    Withdrawal,
    WithdrawalStatus,
)
from devnet.cex.kraken import errors, wire
from devnet.cex.kraken.errors import KrakenError
from devnet.cex.kraken.profile import ASSET_BY_ID, ASSET_IDS
from devnet.cex.kraken.rest import reply  # imported by KrakenDialect.install, after rest loaded
from devnet.cex.numbers import BadNumber, parse_decimal, plain

if TYPE_CHECKING:
    from devnet.cex.kraken.rest import KrakenDialect

Params = dict[str, Any]
R = TypeVar("R", CreditedDeposit, Withdrawal)
PrivateHandler = Callable[[web.Request, ApiKey, Params], Awaitable[web.Response]]
UNKNOWN_KEY = "EFunding:Unknown withdraw key"
INVALID_AMOUNT = "EFunding:Invalid amount"
INSUFFICIENT = "EFunding:Insufficient funds"
UNKNOWN_ASSET = "EFunding:Unknown asset"
NO_METHOD = "EFunding:No funding method"
BAD_ADDRESS = "EFunding:Invalid withdraw address"
LABELS = {"ETH": "Ether"}  # a method's name: "<label> (<network>)"
_WITHDRAWAL_STATUS = {
    WithdrawalStatus.PROCESSING: "Initial",
    WithdrawalStatus.SENT: "Settled",
    WithdrawalStatus.COMPLETED: "Success",
    WithdrawalStatus.FAILED: "Failure",
}


def method_name(asset: str, network: str) -> str:
    return f"{LABELS.get(asset, asset)} ({network})"


def _refusal(exc: FundingError) -> KrakenError:
    return KrakenError(
        {
            FundingRefusal.UNKNOWN_ASSET: UNKNOWN_ASSET,
            FundingRefusal.UNKNOWN_NETWORK: NO_METHOD,
            FundingRefusal.NOT_WHITELISTED: UNKNOWN_KEY,
            FundingRefusal.BELOW_MINIMUM: INVALID_AMOUNT,
            FundingRefusal.NOT_ABOVE_FEE: INVALID_AMOUNT,
            FundingRefusal.PRECISION: INVALID_AMOUNT,
            FundingRefusal.INSUFFICIENT: INSUFFICIENT,
            FundingRefusal.DUPLICATE_REF: errors.INVALID_ARGUMENTS,
            FundingRefusal.BAD_ADDRESS: BAD_ADDRESS,
        }[exc.kind]
    )


def withdrawal_row(w: Withdrawal, key: str) -> dict[str, Any]:
    return {
        "method": method_name(w.asset, w.network),
        "network": w.network,
        "aclass": "currency",
        "asset": ASSET_IDS.get(w.asset, w.asset),
        "refid": wire.txid(w.id, "A"),
        "txid": w.tx_hash or "",
        "info": w.address,
        "amount": plain(w.amount),
        "fee": plain(w.fee),
        "time": w.created_ms // 1000,
        "status": _WITHDRAWAL_STATUS[w.status],
        "key": key,
    }


def deposit_row(d: CreditedDeposit) -> dict[str, Any]:
    return {
        "method": method_name(d.asset, d.network),
        "network": d.network,
        "aclass": "currency",
        "asset": ASSET_IDS.get(d.asset, d.asset),
        "refid": wire.txid(d.id, "Q"),
        "txid": d.tx_hash,
        "info": d.address,
        "amount": plain(d.amount),
        "fee": "0",
        "time": d.created_ms // 1000,
        "status": "Success" if d.status is DepositStatus.CREDITED else "Pending",
    }


def routes(dialect: KrakenDialect) -> dict[str, PrivateHandler]:
    desk = dialect.venue.funding

    def asset_of(params: Params) -> str:
        raw = str(params.get("asset") or "")
        asset = ASSET_BY_ID.get(raw, raw)
        if not raw or not desk.networks_of(asset):
            raise KrakenError(UNKNOWN_ASSET)
        return asset

    def network_of(asset: str, params: Params) -> str | None:
        """The network a ``method`` names (None: any of the asset's)."""
        method = str(params.get("method") or "")
        if not method:
            return None
        for network, _spec in desk.networks_of(asset):
            if method in (method_name(asset, network.network), network.network):
                return network.network
        raise KrakenError(NO_METHOD)

    def key_of(account: str, asset: str, params: Params) -> tuple[str, str, str | None]:
        """(key name, address, network) of the address-book entry ``key`` names."""
        name = str(params.get("key") or "")
        entry = desk.withdraw_keys.get(account, {}).get(name)
        if entry is None:
            raise KrakenError(UNKNOWN_KEY)
        address, network = entry
        sent = str(params.get("address") or "")
        if sent and sent.lower() != address.lower():
            raise KrakenError(BAD_ADDRESS)
        if network is not None and network not in {n.network for n, _ in desk.networks_of(asset)}:
            raise KrakenError(NO_METHOD)
        return name, address, network

    def amount_of(params: Params) -> Decimal:
        try:
            amount = parse_decimal(params["amount"])
        except (KeyError, BadNumber):
            raise errors.argument("amount") from None
        if amount <= 0:
            raise KrakenError(INVALID_AMOUNT)
        return amount

    def key_name(account: str, address: str) -> str:
        keys = desk.withdraw_keys.get(account, {})
        return next((name for name, (a, _n) in keys.items() if a.lower() == address.lower()), "")

    def selected(records: list[R], account: str, params: Params) -> list[R]:
        """The account's records, newest first, of ``asset``/``method`` between ``start`` and ``end`` (s)."""
        asset = asset_of(params) if params.get("asset") else None
        network = network_of(asset, params) if asset else None
        try:
            start = float(params["start"]) if params.get("start") not in (None, "") else None
            end = float(params["end"]) if params.get("end") not in (None, "") else None
        except ValueError:
            raise errors.argument("start") from None
        return [
            r
            for r in reversed(records)
            if r.account == account
            and (asset is None or r.asset == asset)
            and (network is None or r.network == network)
            and (start is None or r.created_ms / 1000 >= start)
            and (end is None or r.created_ms / 1000 <= end)
        ]

    async def deposit_methods(_request: web.Request, _key: ApiKey, params: Params) -> web.Response:
        asset = asset_of(params)
        rows = [
            {"method": method_name(asset, n.network), "limit": False, "fee": "0.0000000000", "gen-address": True,
             "minimum": "0"}
            for n, _spec in desk.networks_of(asset)
        ]  # fmt: skip
        return reply(rows)

    async def deposit_addresses(_request: web.Request, key: ApiKey, params: Params) -> web.Response:
        asset = asset_of(params)
        if not params.get("method"):
            raise errors.argument("method")
        network_of(asset, params)
        # One deposit address per account here: `new` answers it as well (never a second one).
        return reply([{"address": desk.deposit_address(key.account), "expiretm": "0", "new": False}])

    async def deposit_status(_request: web.Request, key: ApiKey, params: Params) -> web.Response:
        return reply([deposit_row(d) for d in selected(desk.deposits, key.account, params)])

    async def withdraw_methods(_request: web.Request, _key: ApiKey, params: Params) -> web.Response:
        assets = [asset_of(params)] if params.get("asset") else desk.assets()
        rows = [
            {"asset": ASSET_IDS.get(asset, asset), "method": method_name(asset, n.network), "network": n.network,
             "minimum": plain(spec.withdraw_min), "fee": plain(spec.withdraw_fee), "decimals": spec.decimals}
            for asset in assets
            for n, spec in desk.networks_of(asset)
            if not params.get("network") or n.network == params["network"]
        ]  # fmt: skip
        return reply(rows)

    async def withdraw_addresses(_request: web.Request, key: ApiKey, params: Params) -> web.Response:
        asset = asset_of(params) if params.get("asset") else None
        wanted = network_of(asset, params) if asset else None
        rows = []
        for name, (address, pinned) in sorted(desk.withdraw_keys.get(key.account, {}).items()):
            if params.get("key") and params["key"] != name:
                continue
            for served in [asset] if asset else desk.assets():
                for n, _spec in desk.networks_of(served):
                    if (pinned is None or pinned == n.network) and (wanted is None or wanted == n.network):
                        method = method_name(served, n.network)
                        asset_id = ASSET_IDS.get(served, served)
                        rows.append({"address": address, "asset": asset_id, "method": method, "key": name,
                                     "verified": True})  # fmt: skip
        return reply(rows)

    async def withdraw_info(_request: web.Request, key: ApiKey, params: Params) -> web.Response:
        asset = asset_of(params)
        _name, _address, network = key_of(key.account, asset, params)
        amount = amount_of(params)
        net, spec = next((n, s) for n, s in desk.networks_of(asset) if network in (None, n.network))
        if amount <= spec.withdraw_fee:
            raise KrakenError(INVALID_AMOUNT)
        wallet = dialect.venue.engine.wallets(key.account).get(asset)
        limit = wallet.free if wallet is not None else Decimal(0)
        net_amount = amount - spec.withdraw_fee
        return reply(
            {"method": method_name(asset, net.network), "limit": plain(limit), "amount": plain(net_amount),
             "fee": plain(spec.withdraw_fee)}
        )  # fmt: skip

    async def withdraw(_request: web.Request, key: ApiKey, params: Params) -> web.Response:
        asset = asset_of(params)
        _name, address, network = key_of(key.account, asset, params)
        amount = amount_of(params)
        try:
            made = desk.request_withdrawal(key.account, asset, network, address, amount, "")
        except FundingError as exc:
            raise _refusal(exc) from None
        return reply({"refid": wire.txid(made.id, "A")})

    async def withdraw_status(_request: web.Request, key: ApiKey, params: Params) -> web.Response:
        rows = [
            withdrawal_row(w, key_name(key.account, w.address)) for w in selected(desk.withdrawals, key.account, params)
        ]
        if params.get("cursor") not in (None, "", "false"):
            return reply({"withdrawals": rows, "next_cursor": None})
        return reply(rows)

    return {
        "DepositMethods": deposit_methods,
        "DepositAddresses": deposit_addresses,
        "DepositStatus": deposit_status,
        "WithdrawMethods": withdraw_methods,
        "WithdrawAddresses": withdraw_addresses,
        "WithdrawInfo": withdraw_info,
        "Withdraw": withdraw,
        "WithdrawStatus": withdraw_status,
    }
