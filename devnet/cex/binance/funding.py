"""Binance wallet endpoints (``/sapi/v1/capital/...``) as ccxt's ``binance`` calls them:
``fetch_currencies`` (config/getall), ``fetch_deposit_address``, ``withdraw`` (withdraw/apply,
``withdrawOrderId`` = the client's reference), ``fetch_withdrawals`` (withdraw/history,
filterable by ``withdrawOrderId``) and ``fetch_deposits`` (deposit/hisrec).

Statuses as Binance reports them: withdrawals 4 processing → 6 completed (5 failure);
deposits 0 pending → 1 success, with ``confirmTimes`` "seen/required".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from devnet.cex.binance.errors import BinanceError
from devnet.cex.binance.rest import reply  # imported by BinanceDialect.install, after rest loaded
from devnet.cex.funding import (
    CreditedDeposit,
    DepositStatus,
    FundingError,
    FundingRefusal,
    Withdrawal,
    WithdrawalStatus,
)
from devnet.cex.numbers import fixed, plain

if TYPE_CHECKING:
    from devnet.cex.binance.rest import BinanceDialect

SAPI = "/sapi/v1/capital"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_WITHDRAWAL_STATUS = {
    WithdrawalStatus.PROCESSING: 4,
    WithdrawalStatus.SENT: 4,
    WithdrawalStatus.COMPLETED: 6,
    WithdrawalStatus.FAILED: 5,
}


def _refusal(exc: FundingError) -> BinanceError:
    """The code and text Binance answers (ccxt maps the codes: -4035 PermissionDenied,
    -4022/-4021/-4028/-4019 BadRequest, -4026 InsufficientFunds, -4018 BadSymbol)."""
    detail = exc.detail
    return {
        FundingRefusal.UNKNOWN_ASSET: BinanceError(-4018, "We don't have this asset."),
        FundingRefusal.UNKNOWN_NETWORK: BinanceError(-4019, "Current asset is not open for withdrawal."),
        FundingRefusal.NOT_WHITELISTED: BinanceError(
            -4035, "This address is not on the whitelist. Please join and try again."
        ),
        FundingRefusal.BELOW_MINIMUM: BinanceError(-4022, f"Not less than the minimum pick-up quantity {detail}."),
        FundingRefusal.PRECISION: BinanceError(-4021, f"Asset withdrawal must be an multiple of {detail}."),
        FundingRefusal.NOT_ABOVE_FEE: BinanceError(
            -4028, "The amount of withdrawal must be greater than the Commission."
        ),
        FundingRefusal.INSUFFICIENT: BinanceError(-4026, "You have insufficient balance."),
        FundingRefusal.DUPLICATE_REF: BinanceError(-4001, "Invalid operation: duplicate withdrawOrderId."),
        FundingRefusal.BAD_ADDRESS: BinanceError(-4033, "Illegal address."),
    }[exc.kind]


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def withdrawal_row(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": str(w.id),
        "amount": plain(w.amount),
        "transactionFee": plain(w.fee),
        "coin": w.asset,
        "status": _WITHDRAWAL_STATUS[w.status],
        "address": w.address,
        "txId": w.tx_hash or "",
        "applyTime": _time(w.created_ms),
        "network": w.network,
        "transferType": 0,
        "withdrawOrderId": w.client_ref,
        "info": "",
        "confirmNo": 0,
        "walletType": 0,
        "txKey": "",
        "completeTime": _time(w.updated_ms) if w.status is WithdrawalStatus.COMPLETED else "",
    }


def deposit_row(d: CreditedDeposit, required: int) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "amount": plain(d.amount),
        "coin": d.asset,
        "network": d.network,
        "status": 1 if d.status is DepositStatus.CREDITED else 0,
        "address": d.address,
        "addressTag": "",
        "txId": d.tx_hash,
        "insertTime": d.created_ms,
        "transferType": 0,
        "confirmTimes": f"{min(d.confirmations, required)}/{required}",
        "unlockConfirm": required,
        "walletType": 0,
    }


def routes(dialect: BinanceDialect) -> list[tuple[str, str, Handler]]:
    venue = dialect.venue
    desk = venue.funding

    async def config_getall(request: web.Request) -> web.Response:
        key, _ = await dialect._signed(request)
        wallets = venue.engine.wallets(key.account)
        rows = []
        for asset in desk.assets():
            wallet = wallets.get(asset)
            networks = []
            for i, (network, spec) in enumerate(desk.networks_of(asset)):
                networks.append(
                    {
                        "network": network.network,
                        "coin": asset,
                        "withdrawIntegerMultiple": plain(spec.step),
                        "isDefault": i == 0,
                        "depositEnable": True,
                        "withdrawEnable": True,
                        "depositDesc": "",
                        "withdrawDesc": "",
                        "specialTips": "",
                        "name": f"{network.chain} (devnet)",
                        "resetAddressStatus": False,
                        "addressRegex": "^(0x)[0-9A-Fa-f]{40}$",
                        "memoRegex": "",
                        "withdrawFee": plain(spec.withdraw_fee),
                        "withdrawMin": plain(spec.withdraw_min),
                        "withdrawMax": "9999999999",
                        "depositDust": "0",
                        "minConfirm": desk.confirmations,
                        "unLockConfirm": desk.confirmations,
                        "sameAddress": False,
                        "estimatedArrivalTime": 1,
                        "busy": False,
                        "contractAddressUrl": "",
                        "contractAddress": spec.token or "",
                    }
                )
            rows.append(
                {
                    "coin": asset,
                    "depositAllEnable": True,
                    "withdrawAllEnable": True,
                    "name": asset,
                    "free": fixed(wallet.free if wallet else Decimal(0)),
                    "locked": fixed(wallet.locked if wallet else Decimal(0)),
                    "freeze": "0",
                    "withdrawing": "0",
                    "ipoing": "0",
                    "ipoable": "0",
                    "storage": "0",
                    "isLegalMoney": False,
                    "trading": True,
                    "networkList": networks,
                }
            )
        return reply(rows)

    async def deposit_address(request: web.Request) -> web.Response:
        key, params = await dialect._signed(request)
        coin = params.require("coin")
        try:
            address, network = desk.address_for(key.account, coin, params.get("network"))
        except FundingError as exc:
            raise _refusal(exc) from None
        return reply({"address": address, "coin": coin, "tag": "", "url": f"devnet://{network.chain}/{address}"})

    async def withdraw_apply(request: web.Request) -> web.Response:
        key, params = await dialect._signed(request)
        amount = params.decimal("amount")
        if amount is None:
            raise BinanceError(-1102, "Mandatory parameter 'amount' was not sent, was empty/null, or malformed.")
        try:
            withdrawal = desk.request_withdrawal(
                key.account,
                params.require("coin"),
                params.get("network"),
                params.require("address"),
                amount,
                params.get("withdrawOrderId") or "",
            )
        except FundingError as exc:
            raise _refusal(exc) from None
        return reply({"id": str(withdrawal.id)})

    async def withdraw_history(request: web.Request) -> web.Response:
        key, params = await dialect._signed(request)
        coin, ref = params.get("coin"), params.get("withdrawOrderId")
        start, end = params.integer("startTime"), params.integer("endTime")
        rows = [
            withdrawal_row(w)
            for w in reversed(desk.withdrawals)
            if w.account == key.account
            and (coin is None or w.asset == coin)
            and (ref is None or w.client_ref == ref)
            and (start is None or w.created_ms >= start)
            and (end is None or w.created_ms <= end)
        ]
        return reply(rows[: params.integer("limit", 1000) or 1000])

    async def deposit_history(request: web.Request) -> web.Response:
        key, params = await dialect._signed(request)
        coin, tx_id = params.get("coin"), params.get("txId")
        start, end = params.integer("startTime"), params.integer("endTime")
        rows = [
            deposit_row(d, desk.confirmations)
            for d in reversed(desk.deposits)
            if d.account == key.account
            and (coin is None or d.asset == coin)
            and (tx_id is None or d.tx_hash.lower() == tx_id.lower())
            and (start is None or d.created_ms >= start)
            and (end is None or d.created_ms <= end)
        ]
        return reply(rows[: params.integer("limit", 1000) or 1000])

    return [
        ("GET", SAPI + "/config/getall", config_getall),
        ("GET", SAPI + "/deposit/address", deposit_address),
        ("POST", SAPI + "/withdraw/apply", withdraw_apply),
        ("GET", SAPI + "/withdraw/history", withdraw_history),
        ("GET", SAPI + "/deposit/hisrec", deposit_history),
    ]
