"""Admin endpoints under ``/__admin`` (no auth: the simulator binds to loopback only).

- ``GET  /__admin/state``: faults, limits, books, balances and fee rates of every account, market
  rules (tick, step, minimums, precisions), live websocket subscriptions;
- ``POST /__admin/faults``: ``{latency_ms, error_rate, lose_next_order_response}`` (partial
  updates), ``{"drop_ws": true}`` aborts every websocket now, ``{"reset": true}`` clears;
- ``POST /__admin/rate_limits``: partial :class:`~devnet.cex.ratelimit.RateLimits`, or reset;
- ``POST /__admin/accounts``: ``{account, api_key?, secret?, passphrase?, balances?}`` adds a key;
- ``POST /__admin/credit``: ``{api_key | account, asset, amount}`` deposits (negative withdraws);
- ``GET  /__admin/balances?account=|api_key=``, ``GET /__admin/book?symbol=BTC/USDT&depth=N``;
- ``POST /__admin/funding``: the chains the venue's wallet works on (see
  :meth:`~devnet.cex.funding.FundingDesk.configure`); ``GET`` reports withdrawals and deposits;
- ``POST /__admin/whitelist``: ``{api_key | account, addresses, keys}`` adds withdrawal addresses
  (``keys``: Kraken withdrawal key name → address or ``{address, network}``);
- ``POST /__admin/market_maker``: ``{running?, interval_s?, offset_bps?, common_vol_bps?,
  venue_vol_bps?}`` (``offset_bps`` shifts this venue's quotes, to open a cross-venue gap on
  demand; the two vols scale the mid's random walk, e.g. calmed for a test that sets prices);
- ``POST /__admin/gap``: ``{symbol, bps}`` shifts one market's quotes by ``bps`` (0 closes it) and
  answers once the book holds the shifted quotes (its new top).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from devnet.cex.engine import BalanceShortfall
from devnet.cex.numbers import BadNumber, parse_decimal, plain

if TYPE_CHECKING:
    from devnet.cex.server import VenueServer

PREFIX = "/__admin"


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    body = await request.json() if request.can_read_body else {}
    if not isinstance(body, dict):
        raise TypeError("expected a JSON object")
    return body


def install(app: web.Application, server: VenueServer) -> None:
    venue = server.venue

    async def state(_request: web.Request) -> web.Response:
        data = venue.state()
        data["market_maker"] = server.market_maker.status() if server.market_maker else None
        data["rest_url"] = server.rest_url
        data["ws_url"] = server.ws_url
        return web.json_response(data)

    async def faults(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            drop = bool(body.pop("drop_ws", False))
            current = venue.faults.update(body)
        except (TypeError, ValueError) as exc:  # ValidationError is a ValueError
            return _error(str(exc))
        dropped = venue.drop_websockets() if drop else 0
        return web.json_response(
            {"faults": current.model_dump(), "stats": vars(venue.faults.stats), "dropped_websockets": dropped}
        )

    async def rate_limits(request: web.Request) -> web.Response:
        try:
            limits = venue.limiter.update(await _body(request))
        except (TypeError, ValueError) as exc:
            return _error(str(exc))
        return web.json_response({"rate_limits": limits.model_dump()})

    async def accounts(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            balances = {k: parse_decimal(v) for k, v in (body.get("balances") or {}).items()}
            key = server.add_account(
                str(body["account"]),
                balances=balances,
                api_key=body.get("api_key"),
                secret=body.get("secret"),
                passphrase=body.get("passphrase"),
            )
        except (TypeError, ValueError, KeyError, BadNumber) as exc:
            return _error(f"bad account request: {exc}")
        return web.json_response(
            {"account": key.account, "api_key": key.api_key, "secret": key.secret, "passphrase": key.passphrase}
        )

    def _account(params: dict[str, Any]) -> str:
        if params.get("account"):
            return str(params["account"])
        key = venue.keys.get(params.get("api_key"))
        if key is None:
            raise KeyError("unknown api_key (or give account)")
        return key.account

    async def credit(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            account = _account(body)
            amount = parse_decimal(body["amount"])  # negative: a withdrawal of free funds (never below zero)
            venue.credit(account, str(body["asset"]), amount)
        except (TypeError, ValueError, KeyError, BadNumber, BalanceShortfall) as exc:
            return _error(f"bad credit request: {exc}")
        return web.json_response({"account": account, "balances": venue.balances_of(account)})

    async def balances(request: web.Request) -> web.Response:
        try:
            account = _account(dict(request.query))
        except KeyError as exc:
            return _error(str(exc))
        return web.json_response({"account": account, "balances": venue.balances_of(account)})

    async def book(request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        found = venue.engine.books.get(symbol)
        if found is None:
            return _error(f"unknown symbol {symbol!r}", 404)
        depth = int(request.query.get("depth", "1000"))
        return web.json_response(
            {
                "symbol": symbol,
                "sequence": found.sequence,
                "bids": [[plain(p), plain(q)] for p, q in found.bids.levels(depth)],
                "asks": [[plain(p), plain(q)] for p, q in found.asks.levels(depth)],
            }
        )

    async def market_maker(request: web.Request) -> web.Response:
        if server.market_maker is None:
            return _error("this venue runs no market maker", 404)
        try:
            body = await _body(request)
            if "interval_s" in body:
                server.market_maker.interval_s = float(Decimal(str(body["interval_s"])))
            if "offset_bps" in body:
                server.market_maker.config.offset_bps = parse_decimal(body["offset_bps"])
            for walk in ("common_vol_bps", "venue_vol_bps"):  # the mid's noise (a test may calm it)
                if walk in body:
                    vol = parse_decimal(body[walk])
                    if vol < 0:
                        raise ValueError(f"{walk} must not be negative, got {vol}")
                    setattr(server.market_maker.config, walk, vol)
            if "running" in body:
                if body["running"]:
                    server.market_maker.resume()
                else:
                    await server.market_maker.pause()
        except (TypeError, ValueError, ValidationError, BadNumber) as exc:
            return _error(str(exc))
        return web.json_response(server.market_maker.status())

    async def gap(request: web.Request) -> web.Response:
        if server.market_maker is None:
            return _error("this venue runs no market maker", 404)
        try:
            body = await _body(request)
            close_after = body.get("close_after_ms")
            answer = server.market_maker.inject_gap(
                str(body["symbol"]), parse_decimal(body["bps"]), None if close_after is None else int(close_after)
            )
            return web.json_response(answer)
        except (TypeError, ValueError, KeyError, BadNumber) as exc:
            return _error(f"bad gap request: {exc}")

    async def funding(request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                await asyncio.to_thread(venue.funding.configure, await _body(request))
            except (TypeError, ValueError, KeyError, OSError) as exc:
                return _error(f"bad funding configuration: {exc}")
        return web.json_response(venue.funding.snapshot())

    async def whitelist(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            account = _account(body)
            keys = {
                str(name): (str(e), None) if isinstance(e, str) else (str(e["address"]), e.get("network"))
                for name, e in (body.get("keys") or {}).items()
            }
            entries = venue.funding.whitelist(account, [str(a) for a in body.get("addresses") or []], keys)
        except (TypeError, ValueError, KeyError) as exc:
            return _error(f"bad whitelist request: {exc}")
        return web.json_response({"account": account, "addresses": entries})

    app.router.add_get(PREFIX + "/funding", funding)
    app.router.add_post(PREFIX + "/funding", funding)
    app.router.add_post(PREFIX + "/whitelist", whitelist)
    app.router.add_get(PREFIX + "/state", state)
    app.router.add_post(PREFIX + "/faults", faults)
    app.router.add_post(PREFIX + "/rate_limits", rate_limits)
    app.router.add_post(PREFIX + "/accounts", accounts)
    app.router.add_post(PREFIX + "/credit", credit)
    app.router.add_get(PREFIX + "/balances", balances)
    app.router.add_get(PREFIX + "/book", book)
    app.router.add_post(PREFIX + "/market_maker", market_maker)
    app.router.add_post(PREFIX + "/gap", gap)
