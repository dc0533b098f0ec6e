"""OKX v5 asset endpoints as ccxt's ``okx`` calls them: ``/asset/currencies`` (with the
networks the venue's wallet serves), ``/asset/deposit-address``, ``/asset/withdrawal``
(``clientId`` = the client's reference), ``/asset/withdrawal-history`` (filterable by
``clientId``) and ``/asset/deposit-history``.

OKX's ``amt`` is what arrives; the fee is charged on top. Chains are ``<CCY>-<network>``.
States: withdrawals 0 waiting → 1 broadcasting (txId known) → 2 success (-1 failed);
deposits 0 waiting for confirmation → 2 successful.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from devnet.cex.funding import (
    CreditedDeposit,
    DepositStatus,
    FundingError,
    FundingRefusal,
    Withdrawal,
    WithdrawalStatus,
)
from devnet.cex.numbers import BadNumber, parse_decimal, plain
from devnet.cex.okx import errors, wire
from devnet.cex.okx.errors import OkxError
from devnet.cex.okx.rest import reply  # imported by OkxDialect.install, after rest loaded

if TYPE_CHECKING:
    from devnet.cex.okx.rest import OkxDialect

API = "/api/v5/asset"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_STATE = {
    WithdrawalStatus.PROCESSING: "0",
    WithdrawalStatus.SENT: "1",
    WithdrawalStatus.COMPLETED: "2",
    WithdrawalStatus.FAILED: "-1",
}
_UNAVAILABLE = "Withdrawal from this account to this chain is unavailable for this currency"


def _refusal(exc: FundingError) -> OkxError:
    """OKX's codes for a refused withdrawal (ccxt: 58207 InvalidAddress, 58350
    InsufficientFunds, 58206/58200 ExchangeError, 51000 BadRequest)."""
    detail = exc.detail
    code, msg = {
        FundingRefusal.UNKNOWN_ASSET: ("58200", _UNAVAILABLE),
        FundingRefusal.UNKNOWN_NETWORK: ("58200", _UNAVAILABLE),
        FundingRefusal.NOT_WHITELISTED: (
            "58207",
            "Withdrawal address isn't on the verified address list. The address is not on the withdrawal whitelist",
        ),
        FundingRefusal.BELOW_MINIMUM: ("58206", f"Withdrawal amount is lower than the lower limit (minimum {detail})"),
        FundingRefusal.PRECISION: ("51000", f"Parameter amt error (must be a multiple of {detail})"),
        FundingRefusal.NOT_ABOVE_FEE: ("58206", "Withdrawal amount is lower than the lower limit"),
        FundingRefusal.INSUFFICIENT: ("58350", "Insufficient balance"),
        FundingRefusal.DUPLICATE_REF: ("51000", "Parameter clientId error: it names another withdrawal"),
        FundingRefusal.BAD_ADDRESS: ("58207", "Withdrawal failed due to address error"),
    }[exc.kind]
    return OkxError(code, msg)


def withdrawal_row(w: Withdrawal) -> dict[str, Any]:
    return {
        "ccy": w.asset,
        "chain": f"{w.asset}-{w.network}",
        "amt": plain(w.amount),
        "fee": plain(w.fee),
        "feeCcy": w.asset,
        "from": "",
        "to": w.address,
        "areaCodeFrom": "",
        "areaCodeTo": "",
        "tag": "",
        "pmtId": "",
        "memo": "",
        "addrEx": None,
        "txId": w.tx_hash or "",
        "state": _STATE[w.status],
        "wdId": str(w.id),
        "clientId": w.client_ref,
        "nonTradableAsset": False,
        "ts": str(w.created_ms),
    }


def deposit_row(d: CreditedDeposit, required: int) -> dict[str, Any]:
    return {
        "actualDepBlkConfirm": str(min(d.confirmations, required)),
        "amt": plain(d.amount),
        "areaCodeFrom": "",
        "ccy": d.asset,
        "chain": f"{d.asset}-{d.network}",
        "depId": str(d.id),
        "from": "",
        "fromWdId": "",
        "state": "2" if d.status is DepositStatus.CREDITED else "0",
        "to": d.address,
        "ts": str(d.created_ms),
        "txId": d.tx_hash,
    }


def currency_rows(dialect: OkxDialect, wanted: set[str] | None) -> list[dict[str, Any]]:
    """The wallet's networks for the assets it serves; the trading assets' defaults for the rest."""
    desk = dialect.venue.funding
    served = desk.assets()
    rows: list[dict[str, Any]] = []
    for asset in served:
        if wanted is not None and asset not in wanted:
            continue
        for network, spec in desk.networks_of(asset):
            row = wire.currencies([asset])[0]
            row.update(
                chain=f"{asset}-{network.network}",
                name=asset,
                fee=plain(spec.withdraw_fee),
                minFee=plain(spec.withdraw_fee),
                maxFee=plain(spec.withdraw_fee),
                minWd=plain(spec.withdraw_min),
                wdTickSz=str(-spec.step.as_tuple().exponent),
                minDepArrivalConfirm=str(desk.confirmations),
                minWdUnlockConfirm=str(desk.confirmations),
                ctAddr=spec.token or "",
                mainNet=False,
            )
            rows.append(row)
    rest = [a for a in dialect.profile.assets if a not in served and (wanted is None or a in wanted)]
    return rows + wire.currencies(rest)


def routes(dialect: OkxDialect) -> list[tuple[str, str, Handler]]:
    desk = dialect.venue.funding

    async def deposit_address(request: web.Request) -> web.Response:
        key, _ = await dialect._authenticate(request)
        ccy = request.query.get("ccy") or ""
        networks = desk.networks_of(ccy)
        if not networks:
            raise OkxError("58200", _UNAVAILABLE)
        address = desk.deposit_address(key.account)
        rows = [
            {
                "chain": f"{ccy}-{network.network}",
                "ctAddr": spec.token or "",
                "ccy": ccy,
                "to": "6",
                "addr": address,
                "verifiedName": "",
                "selected": True,
            }
            for network, spec in networks
        ]
        return reply(wire.envelope(rows))

    async def withdrawal(request: web.Request) -> web.Response:
        key, body = await dialect._authenticate(request)
        item = await dialect._json(body)
        if not isinstance(item, dict):
            raise errors.parameter("body")
        ccy = str(item.get("ccy") or "")
        chain = str(item.get("chain") or "")
        network = chain[len(ccy) + 1 :] if chain.startswith(ccy + "-") else (chain or None)
        try:
            amount = parse_decimal(item["amt"])
        except (KeyError, BadNumber):
            raise errors.parameter("amt") from None
        client_id = str(item.get("clientId") or "")
        try:
            withdrawal = desk.request_withdrawal(
                key.account, ccy, network, str(item.get("toAddr") or ""), amount, client_id
            )
        except FundingError as exc:
            raise _refusal(exc) from None
        row = {"amt": plain(withdrawal.amount), "wdId": str(withdrawal.id), "ccy": ccy, "clientId": client_id,
               "chain": f"{ccy}-{withdrawal.network}"}  # fmt: skip
        return reply(wire.envelope([row]))

    async def withdrawal_history(request: web.Request) -> web.Response:
        key, _ = await dialect._authenticate(request)
        query = request.query
        rows = [
            withdrawal_row(w)
            for w in reversed(desk.withdrawals)
            if w.account == key.account
            and (not query.get("ccy") or w.asset == query["ccy"])
            and (not query.get("clientId") or w.client_ref == query["clientId"])
            and (not query.get("wdId") or str(w.id) == query["wdId"])
        ]
        return reply(wire.envelope(rows[: dialect._limit(request, 100, 100)]))

    async def deposit_history(request: web.Request) -> web.Response:
        key, _ = await dialect._authenticate(request)
        query = request.query
        rows = [
            deposit_row(d, desk.confirmations)
            for d in reversed(desk.deposits)
            if d.account == key.account
            and (not query.get("ccy") or d.asset == query["ccy"])
            and (not query.get("txId") or d.tx_hash.lower() == query["txId"].lower())
            and (not query.get("depId") or str(d.id) == query["depId"])
        ]
        return reply(wire.envelope(rows[: dialect._limit(request, 100, 100)]))

    return [
        ("GET", API + "/deposit-address", deposit_address),
        ("POST", API + "/withdrawal", withdrawal),
        ("GET", API + "/withdrawal-history", withdrawal_history),
        ("GET", API + "/deposit-history", deposit_history),
    ]
