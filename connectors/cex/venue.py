"""One venue through ccxt: markets loaded once, orders checked before they are sent, placed
with a deterministic client order id and reconciled by that id when the answer is lost.
What differs between venues (id field and format, how to find and cancel) comes from the
venue's profile (``connectors.cex.profiles``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.errors import OrderUnknown, VenueRateLimited, outcome_unknown, translate
from connectors.cex.factory import build_exchange
from connectors.cex.funding import (
    AddressNotWhitelisted,
    AmbiguousWithdrawal,
    carries_ref,
    funding_method,
    method_rules,
    network_rules,
    parse_deposit,
    parse_withdrawal,
    recent_matches,
    refusal,
)
from connectors.cex.health import HealthRecord
from connectors.cex.order_entry import DirectPlacement, LimitOrder
from connectors.cex.profiles import CancelStrategy, FindStrategy, VenueProfile, WithdrawalLookup, profile_for
from connectors.cex.validation import check_order
from crosslane.domain.cex_transfer_steps import VenueDeposit, VenueWithdrawal
from crosslane.errors import CrosslaneError, InvalidRequest

T = TypeVar("T")
log = logging.getLogger(__name__)


class CexVenue:
    def __init__(self, config: VenueConfig, credentials: ApiCredentials | None) -> None:
        self.config = config
        self.name = config.name
        self.profile: VenueProfile = profile_for(config.exchange)
        if credentials is not None and "password" in self.profile.required_credentials and not credentials.password:
            raise InvalidRequest(f"{config.name}: {config.exchange} needs a password (API passphrase) with its key")
        self.exchange = build_exchange(config, credentials)
        self._direct = DirectPlacement.for_exchange(self.exchange, self.profile.client_id_param)
        self.health = HealthRecord(config.name)
        self.markets: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        """Load markets once; every later check uses this cache."""
        self.markets = await self._timed("load_markets", self.exchange.load_markets)

    async def close(self) -> None:
        await self.exchange.close()

    def market(self, symbol: str) -> dict[str, Any]:
        try:
            return self.markets[symbol]
        except KeyError:
            known = ", ".join(sorted(self.markets)[:10])
            raise InvalidRequest(f"{self.name} has no market {symbol!r} (known: {known})") from None

    def fees(self, symbol: str) -> tuple[Decimal, Decimal]:
        """(maker, taker) as fractions: the configured fee tier, else ccxt's market defaults
        (which are the venue's public base tier, not necessarily this account's)."""
        market = self.market(symbol)
        maker = (
            self.config.maker_bps / 10_000
            if self.config.maker_bps is not None
            else Decimal(str(market.get("maker") or 0))
        )
        taker = (
            self.config.taker_bps / 10_000
            if self.config.taker_bps is not None
            else Decimal(str(market.get("taker") or 0))
        )
        return maker, taker

    def check(
        self,
        symbol: str,
        side: str,
        order_type: str,
        amount: Decimal,
        price: Decimal | None,
        *,
        reference_price: Decimal | None = None,
    ) -> None:
        """InvalidRequest, naming the problem, for an order this venue would refuse; a market
        order's notional is checked at ``reference_price`` when given."""
        check_order(
            self.market(symbol),
            side,
            order_type,
            amount,
            price,
            precision_mode=self.profile.precision_mode,
            reference_price=reference_price,
        )

    def _needs_price(self, symbol: str, side: str) -> bool:
        """A market order needs an expected price when the venue has a notional floor, or sizes
        market buys by cost."""
        min_cost = (self.market(symbol)["limits"].get("cost") or {}).get("min")
        return bool(min_cost) or (side == "buy" and self.profile.market_buy_by_cost)

    async def expected_price(self, symbol: str, side: str) -> Decimal | None:
        """The best opposite price in the venue's book, or None when that side is empty."""
        book = await self.order_book(symbol, 5)
        levels = book["asks"] if side == "buy" else book["bids"]
        return Decimal(str(levels[0][0])) if levels else None

    def _respect_backoff(self, action: str) -> None:
        """After a 429/418 nothing is sent until the venue's Retry-After has passed."""
        remaining = self.health.backoff_until - time.monotonic()
        if remaining > 0:
            raise VenueRateLimited(f"{self.name}: {action} not sent: backing off {remaining:.1f}s after a rate limit")

    def _note_rate_limit(self, exc: BaseException, action: str) -> None:
        if not isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
            return
        headers = getattr(self.exchange, "last_response_headers", None) or {}
        retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        try:
            wait_s = float(retry_after) if retry_after is not None else 1.0
        except ValueError:
            wait_s = 1.0
        self.health.backoff_until = time.monotonic() + wait_s
        log.warning("%s rate-limited on %s: backing off %.1fs", self.name, action, wait_s)

    def _record_failure(self, started: float, exc: Exception, action: str) -> None:
        """A venue's refusal still shows it up; a lost answer or a Python error counts against it."""
        ok = isinstance(exc, ccxt.BaseError) and not outcome_unknown(exc)
        self.health.record_call(time.perf_counter() - started, ok=ok)
        self._note_rate_limit(exc, action)

    async def _timed(self, action: str, call: Callable[[], Awaitable[T]]) -> T:
        self._respect_backoff(action)
        started = time.perf_counter()
        try:
            result = await call()
        except Exception as exc:  # ccxt's errors and Python's (a venue shape ccxt mis-parses) alike
            self._record_failure(started, exc, action)
            raise translate(exc, self.name, action) from exc
        self.health.record_call(time.perf_counter() - started, ok=True)
        return result

    async def place(
        self,
        symbol: str,
        side: str,
        order_type: str,
        amount: Decimal,
        price: Decimal | None,
        client_order_id: str,
        *,
        time_in_force: str | None = None,
        reference_price: Decimal | None = None,
        read_back: bool = True,
    ) -> dict[str, Any]:
        """Place once. If the answer is lost, the order is looked up by its client id (in the
        venue's form, ``profile.client_id``); only when the venue provably has no such order is
        it sent again (same id, so a late duplicate is refused by the venue, never filled
        twice). A market order's notional is checked at ``reference_price``, else at the
        book's best opposite price, before anything is sent. An acknowledgement with ids only
        (OKX, Bybit) is read back for the order's state unless ``read_back`` is False (the
        caller knows the order rests: accepted is all there is to learn)."""
        if order_type == "market" and reference_price is None and self._needs_price(symbol, side):
            self.check(symbol, side, order_type, amount, price)  # cheap refusals before a book call
            reference_price = await self.expected_price(symbol, side)
        self.check(symbol, side, order_type, amount, price, reference_price=reference_price)
        venue_id = self.profile.client_id(client_order_id)
        params: dict[str, Any] = self.profile.id_params(venue_id)
        if time_in_force:
            params["timeInForce"] = time_in_force
        if order_type == "market" and side == "buy" and self.profile.market_buy_by_cost:
            price = reference_price  # ccxt sizes the quote cost as amount * price
        direct = None
        if self._direct is not None and price is not None and self._direct.covers(order_type, time_in_force):
            direct = LimitOrder(symbol, side, amount, price, venue_id, time_in_force, params)
        for attempt in range(3):
            try:
                order = await self._send(symbol, order_type, side, amount, price, params, direct)
            except CrosslaneError:
                raise  # not sent (backing off after a rate limit)
            except Exception as exc:
                if isinstance(exc, ccxt.BaseError) and not outcome_unknown(exc):
                    raise translate(exc, self.name, "create_order") from exc
                # Lost answer, or one ccxt could not parse: the order may be live. Look before resending.
                log.warning("%s: create_order %s answer lost (%r); reconciling", self.name, venue_id, exc)
                found = await self.find_order(symbol, client_order_id)
                if found is not None:
                    return found
                if not isinstance(exc, ccxt.BaseError):
                    raise translate(exc, self.name, "create_order") from exc  # a defect: resending repeats it
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            if order.get("status") is None and read_back:
                # Some venues (OKX, Bybit) acknowledge with ids only: read the order's state back.
                order = await self._read_back(symbol, client_order_id, order)
            return order
        raise translate(ccxt.RequestTimeout("no answer after 3 attempts"), self.name, "create_order")

    async def _read_back(self, symbol: str, client_order_id: str, ack: dict[str, Any]) -> dict[str, Any]:
        """The acknowledged order's full state; the ack itself when the venue cannot say yet.
        The order is live, so nothing here may turn into a rejection."""
        try:
            return await self.find_order(symbol, client_order_id) or ack
        except CrosslaneError as exc:  # the ack still stands
            log.warning("%s: read-back of %s failed (%s); keeping the acknowledgement", self.name, client_order_id, exc)
            return ack

    async def _send(
        self,
        symbol: str,
        order_type: str,
        side: str,
        amount: Decimal,
        price: Decimal | None,
        params: dict[str, Any],
        direct: LimitOrder | None = None,
    ) -> dict[str, Any]:
        """One send: ``direct`` through ccxt's endpoint call with our own request when the venue
        has an entry for it (``connectors.cex.order_entry``), else ``create_order``."""
        self._respect_backoff("create_order")
        started = time.perf_counter()
        try:
            order = None if direct is None or self._direct is None else await self._direct.place(direct)
            if order is None:
                # Decimal strings: ccxt formats them with its own precise arithmetic, never via float.
                order = await self.exchange.create_order(
                    symbol, order_type, side, str(amount), None if price is None else str(price), params
                )
        except Exception as exc:
            self._record_failure(started, exc, "create_order")
            raise
        self.health.record_call(time.perf_counter() - started, ok=True)
        return order

    async def find_order(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """The order with our client id, or None when the venue provably has none: each of the
        profile's find strategies in turn; one ccxt cannot run on this venue (ArgumentsRequired,
        NotSupported) gives way to the next."""
        venue_id = self.profile.client_id(client_order_id)
        for strategy in self.profile.find:
            try:
                found = await self._find_by(strategy, symbol, venue_id)
            except OrderUnknown:
                found = None
            except _UnsupportedHere as exc:
                log.info("%s: find by %s not possible here (%s); next strategy", self.name, strategy, exc)
                continue
            if found is not None:
                return found
        return None

    async def _find_by(self, strategy: FindStrategy, symbol: str, venue_id: str) -> dict[str, Any] | None:
        action = f"find_order:{strategy}"
        if strategy is FindStrategy.BY_CLIENT_ID:
            call: Callable[[], Awaitable[Any]] = lambda: self.exchange.fetch_order(  # noqa: E731
                None, symbol, self.profile.id_params(venue_id)
            )
            return await self._timed_supported(action, call)
        # where the venue filters its lists by our id (Kraken cl_ord_id), the answer is that order alone
        narrow = self.profile.id_params(venue_id) if self.profile.lists_filter_by_client_id else {}
        if strategy is FindStrategy.OPEN_ORDERS:
            orders = await self._timed_supported(
                action, lambda: self.exchange.fetch_open_orders(symbol, None, None, narrow)
            )
        else:
            since = self.exchange.milliseconds() - self.profile.recent_window_s * 1000
            orders = await self._timed_supported(
                action, lambda: self.exchange.fetch_closed_orders(symbol, since, None, narrow)
            )
        return next((o for o in orders if self.profile.carries(o, venue_id)), None)

    async def _timed_supported(self, action: str, call: Callable[[], Awaitable[T]]) -> T:
        """A timed call whose ArgumentsRequired/NotSupported (ccxt cannot do it on this venue)
        is kept apart from the venue's own answers."""
        try:
            return await self._timed(action, call)
        except Exception as exc:
            if isinstance(exc.__cause__, ccxt.ArgumentsRequired | ccxt.NotSupported):
                raise _UnsupportedHere(str(exc)) from exc
            raise

    async def cancel(self, symbol: str, client_order_id: str) -> dict[str, Any]:
        """Cancel by our client id (profile.cancel: directly, or via the venue's own id once
        found); OrderUnknown when the venue has no such order."""
        venue_id = self.profile.client_id(client_order_id)
        if self.profile.cancel is CancelStrategy.BY_CLIENT_ID:
            order = await self._timed(
                "cancel_order", lambda: self.exchange.cancel_order(None, symbol, self.profile.id_params(venue_id))
            )
        else:
            found = await self.find_order(symbol, client_order_id)
            if found is None:
                raise OrderUnknown(f"{self.name}: cancel_order: no order with client id {venue_id}")
            order = await self._timed("cancel_order", lambda: self.exchange.cancel_order(found["id"], symbol))
        if order.get("status") is None:  # acknowledged with ids only (OKX): read the final state
            order = await self._read_back(symbol, client_order_id, order)
        return order

    async def balances(self) -> dict[str, Any]:
        return await self._timed("fetch_balance", self.exchange.fetch_balance)

    async def order_book(self, symbol: str, limit: int = 20) -> dict[str, Any]:
        self.market(symbol)
        return await self._timed("fetch_order_book", lambda: self.exchange.fetch_order_book(symbol, limit))

    # -- deposits and withdrawals ---------------------------------------------------------

    async def _wallet_call(self, action: str, call: Callable[[], Awaitable[T]]) -> T:
        """A timed wallet call whose refusals keep their meaning (whitelist, minimum, balance)."""
        try:
            return await self._timed(action, call)
        except CrosslaneError as exc:
            cause = exc.__cause__
            raise (refusal(cause, self.name, action) if cause is not None else exc) from cause

    def network_rules(self, asset: str, network: str) -> dict[str, Any]:
        """ccxt's view of ``asset`` on ``network``: fee, limits, precision (currencies must be
        loaded: options ``fetchCurrencies`` on)."""
        return network_rules(self.exchange.currencies or {}, self.name, asset, network)

    async def transfer_rules(self, asset: str, network: str) -> dict[str, Any]:
        """Fee, limits and precision of ``asset`` on ``network``: ccxt's currencies, or the
        venue's withdrawal methods where ccxt's currencies carry no networks (Kraken)."""
        if not self.profile.funding_methods or asset not in (self.exchange.currencies or {}):
            return self.network_rules(asset, network)
        currency_id = self.exchange.currency(asset)["id"]
        answer = await self._wallet_call(
            "withdraw_methods", lambda: self.exchange.privatePostWithdrawMethods({"asset": currency_id})
        )
        return method_rules(funding_method(answer.get("result") or [], self.name, asset, network))

    def withdrawal_ref(self, canonical: str) -> str:
        """Our reference for a withdrawal in the venue's form; the same on every retry (on a
        RECENT_MATCH venue ours only: the venue never sees it)."""
        if not self.profile.transfers:
            raise InvalidRequest(f"{self.name}: no way to name a withdrawal by our reference on {self.config.exchange}")
        return self.profile.client_id(canonical)

    async def deposit_address(self, asset: str, network: str) -> str:
        params: dict[str, Any] = {"network": network}
        if self.profile.funding_methods:  # ccxt would send its own (mainnet) default method
            methods = await self._wallet_call(
                "fetch_deposit_methods", lambda: self.exchange.fetch_deposit_methods(asset)
            )
            params = {"method": funding_method(methods, self.name, asset, network)["method"]}
        found = await self._wallet_call(
            "fetch_deposit_address", lambda: self.exchange.fetch_deposit_address(asset, params)
        )
        return str(found["address"])

    async def _withdraw_key(self, asset: str, address: str, network: str) -> str:
        """The name of the account's address-book entry for ``address`` on ``network``."""
        currency_id = self.exchange.currency(asset)["id"]
        answer = await self._wallet_call(
            "withdraw_addresses", lambda: self.exchange.privatePostWithdrawAddresses({"asset": currency_id})
        )
        rows = [r for r in answer.get("result") or [] if str(r.get("address") or "").lower() == address.lower()]
        if rows:
            return str(funding_method(rows, self.name, asset, network)["key"])
        raise AddressNotWhitelisted(
            f"{self.name}: withdraw: {address} is not in the account's withdrawal address book (no withdrawal key "
            f"for {asset} on {network}: the address is not on the account's withdrawal whitelist)"
        )

    async def withdraw(
        self,
        asset: str,
        amount: Decimal,
        address: str,
        network: str,
        client_ref: str,
        *,
        since_ms: int | None = None,
        resumed: bool = True,
    ) -> VenueWithdrawal:
        """Ask for the withdrawal once under ``client_ref``: looked up first, and after a lost
        answer looked up again before asking again (the venue also refuses a second
        withdrawal under the same reference), so it is never made twice.

        On a venue without client references (RECENT_MATCH) the look-up is a withdrawal to
        ``address`` of ``amount`` since ``since_ms`` (our recorded request time), made only
        when an earlier attempt may have sent it (``resumed``); more than one such is
        ambiguous and nothing is sent."""
        lookup = {"address": address, "amount": amount, "since_ms": since_ms}
        by_match = self.profile.withdrawal_lookup is WithdrawalLookup.RECENT_MATCH
        if not by_match or resumed:
            found = await self.find_withdrawal(asset, client_ref, **lookup)
            if found is not None:
                return found
        params: dict[str, Any] = {"network": network}
        if self.profile.withdrawal_ref_param is not None:
            params[self.profile.withdrawal_ref_param] = client_ref
        if self.profile.funding_methods:
            params = {"key": await self._withdraw_key(asset, address, network)}
        for attempt in range(3):
            self._respect_backoff("withdraw")
            started = time.perf_counter()
            try:
                sent = await self.exchange.withdraw(asset, str(amount), address, params=params)
            except Exception as exc:
                self._record_failure(started, exc, "withdraw")
                if not outcome_unknown(exc):
                    raise refusal(exc, self.name, "withdraw") from exc
                log.warning("%s: withdraw %s answer lost (%r); looking it up", self.name, client_ref, exc)
                found = await self.find_withdrawal(asset, client_ref, **lookup)
                if found is not None:
                    return found
                await asyncio.sleep(0.1 * (attempt + 1))
                continue
            self.health.record_call(time.perf_counter() - started, ok=True)
            found = await self.find_withdrawal(asset, client_ref, **lookup, withdrawal_id=str(sent.get("id") or ""))
            return found or parse_withdrawal(sent, client_ref)
        raise translate(ccxt.RequestTimeout("no answer after 3 attempts"), self.name, "withdraw")

    async def find_withdrawal(
        self,
        asset: str,
        client_ref: str,
        *,
        address: str | None = None,
        amount: Decimal | None = None,
        since_ms: int | None = None,
        withdrawal_id: str | None = None,
    ) -> VenueWithdrawal | None:
        """The withdrawal made under ``client_ref`` (or, RECENT_MATCH, the venue's
        ``withdrawal_id``, else the one to ``address`` of ``amount`` since ``since_ms``), or
        None when the venue has none; AmbiguousWithdrawal when several could be ours."""
        if self.profile.withdrawal_lookup is WithdrawalLookup.RECENT_MATCH:
            return await self._find_recent(asset, client_ref, address, amount, since_ms, withdrawal_id)
        param = self.profile.withdrawal_ref_param
        if param is None:
            raise InvalidRequest(f"{self.name}: cannot find a withdrawal by our reference on {self.config.exchange}")
        rows = await self._wallet_call(
            "fetch_withdrawals", lambda: self.exchange.fetch_withdrawals(asset, params={param: client_ref})
        )
        mine = [r for r in rows if carries_ref(r, param, client_ref)]
        return parse_withdrawal(mine[0], client_ref) if mine else None

    async def _find_recent(
        self,
        asset: str,
        client_ref: str,
        address: str | None,
        amount: Decimal | None,
        since_ms: int | None,
        withdrawal_id: str | None,
    ) -> VenueWithdrawal | None:
        if since_ms is None:
            raise InvalidRequest(f"{self.name}: finding a withdrawal without a client reference needs its request time")
        since = since_ms // 1000 * 1000
        rows = await self._wallet_call("fetch_withdrawals", lambda: self.exchange.fetch_withdrawals(asset, since))
        if withdrawal_id:
            mine = [r for r in rows if str(r.get("id")) == withdrawal_id]
            return parse_withdrawal(mine[0], client_ref) if mine else None
        if address is None or amount is None:
            raise InvalidRequest(f"{self.name}: finding a withdrawal by match needs its address and amount")
        mine = recent_matches(rows, address, amount, since_ms)
        if len(mine) > 1:
            ids = ", ".join(str(r.get("id")) for r in mine)
            raise AmbiguousWithdrawal(
                f"{self.name}: {len(mine)} withdrawals of {amount} {asset} to {address} since our request "
                f"({ids}); {self.config.exchange} keeps no client reference, so which one is ours cannot be told "
                "and none is sent again: settle it by hand"
            )
        return parse_withdrawal(mine[0], client_ref) if mine else None

    async def deposits(self, asset: str, tx_hash: str | None = None) -> list[VenueDeposit]:
        """The account's deposits of ``asset`` (only those of ``tx_hash`` if given)."""
        rows = await self._wallet_call("fetch_deposits", lambda: self.exchange.fetch_deposits(asset))
        parsed = [parse_deposit(r) for r in rows]
        return [d for d in parsed if tx_hash is None or d.tx_hash.lower() == tx_hash.lower()]


class _UnsupportedHere(Exception):
    """ccxt cannot run this call on this venue (ArgumentsRequired, NotSupported)."""
