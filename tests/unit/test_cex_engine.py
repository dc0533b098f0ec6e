"""The simulators' matching engine on its own: priority, fees, reservations, filters, ids."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from devnet.cex.engine import (
    BalanceEvent,
    BookDelta,
    EngineRejection,
    ExecType,
    FeeSchedule,
    MarketSpec,
    MatchingEngine,
    OrderEvent,
    OrderNotFound,
    OrderNotOpen,
    OrderRequest,
    OrderStatus,
    OrderType,
    PostOnlyCross,
    Reject,
    Side,
    TimeInForce,
    TradeEvent,
)

BTC_USDT = MarketSpec(
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    tick_size=D("0.01"),
    step_size=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("100"),
    min_price=D("0.01"),
    max_price=D("1000000"),
    min_notional=D("5"),
)
FEES = FeeSchedule(maker=D("0.001"), taker=D("0.002"))


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        self.now += 1
        return self.now


def make_engine(post_only: PostOnlyCross = PostOnlyCross.REJECT) -> MatchingEngine:
    engine = MatchingEngine([BTC_USDT], FEES, clock=Clock(), post_only_cross=post_only, first_order_id=100)
    for account in ("maker", "maker2", "taker"):
        engine.credit(account, "BTC", D("10"))
        engine.credit(account, "USDT", D("1000000"))
    return engine


def limit(account: str, side: Side, qty: str, price: str, **kw: object) -> OrderRequest:
    return OrderRequest(account, "BTC/USDT", side, OrderType.LIMIT, quantity=D(qty), price=D(price), **kw)  # type: ignore[arg-type]


def market(account: str, side: Side, qty: str | None = None, quote: str | None = None) -> OrderRequest:
    return OrderRequest(
        account,
        "BTC/USDT",
        side,
        OrderType.MARKET,
        quantity=D(qty) if qty else None,
        quote_quantity=D(quote) if quote else None,
    )


def wallet(engine: MatchingEngine, account: str, asset: str) -> tuple[D, D]:
    w = engine.wallets(account)[asset]
    return w.free, w.locked


def test_price_time_priority_and_partial_fills() -> None:
    engine = make_engine()
    first = engine.submit(limit("maker", Side.SELL, "1", "100")).order
    second = engine.submit(limit("maker2", Side.SELL, "1", "100")).order
    better = engine.submit(limit("maker2", Side.SELL, "0.5", "99.5")).order
    assert first and second and better
    result = engine.submit(limit("taker", Side.BUY, "1.2", "100"))
    trades = [e.trade for e in result.events if isinstance(e, TradeEvent)]
    # Best price first, then the earlier of two orders at one price.
    assert [(t.price, t.quantity, t.sell_order_id) for t in trades] == [
        (D("99.5"), D("0.5"), better.order_id),
        (D("100"), D("0.7"), first.order_id),
    ]
    assert result.order is not None and result.order.status is OrderStatus.FILLED
    assert engine.order("maker", "BTC/USDT", first.order_id).status is OrderStatus.PARTIALLY_FILLED
    assert engine.order("maker", "BTC/USDT", first.order_id).remaining == D("0.3")
    assert engine.order("maker2", "BTC/USDT", second.order_id).filled == 0
    assert engine.books["BTC/USDT"].asks.levels() == [(D("100"), D("1.3"))]


def test_fees_in_received_asset_and_totals_conserved() -> None:
    engine = make_engine()
    totals = engine.balances.totals()
    engine.submit(limit("maker", Side.SELL, "2", "100"))
    result = engine.submit(limit("taker", Side.BUY, "2", "100"))
    fills = {f.account: f for f in result.fills}
    # Taker buys: pays 0.2 % in BTC received. Maker sells: pays 0.1 % in USDT received.
    assert (fills["taker"].fee, fills["taker"].fee_asset, fills["taker"].is_maker) == (D("0.004"), "BTC", False)
    assert (fills["maker"].fee, fills["maker"].fee_asset, fills["maker"].is_maker) == (D("0.2"), "USDT", True)
    assert wallet(engine, "taker", "BTC") == (D("11.996"), 0)
    assert wallet(engine, "taker", "USDT") == (D("999800"), 0)
    assert wallet(engine, "maker", "BTC") == (D("8"), 0)
    assert wallet(engine, "maker", "USDT") == (D("1000199.8"), 0)
    assert engine.balances.totals() == totals  # the fee account holds the difference
    assert wallet(engine, MatchingEngine.FEE_ACCOUNT, "BTC") == (D("0.004"), 0)


def test_reservations_lock_release_and_surplus() -> None:
    engine = make_engine()
    order = engine.submit(limit("taker", Side.BUY, "1", "100")).order
    assert order is not None
    assert wallet(engine, "taker", "USDT") == (D("999900"), D("100"))
    engine.cancel("taker", "BTC/USDT", order.order_id)
    assert wallet(engine, "taker", "USDT") == (D("1000000"), 0)
    # A buy that trades below its limit and rests gets the saving back at once.
    engine.submit(limit("maker", Side.SELL, "1", "90"))
    resting = engine.submit(limit("taker", Side.BUY, "2", "100")).order
    assert resting is not None and resting.status is OrderStatus.PARTIALLY_FILLED
    assert wallet(engine, "taker", "USDT") == (D("1000000") - D("90") - D("100"), D("100"))
    with pytest.raises(OrderNotOpen):
        engine.cancel("maker", "BTC/USDT", resting.order_id - 1)  # the filled maker order


def test_ioc_fok_and_market_orders() -> None:
    engine = make_engine()
    engine.submit(limit("maker", Side.SELL, "1", "100"))
    ioc = engine.submit(limit("taker", Side.BUY, "3", "100", time_in_force=TimeInForce.IOC)).order
    assert ioc is not None and (ioc.status, ioc.filled) == (OrderStatus.EXPIRED, D("1"))
    assert wallet(engine, "taker", "USDT")[1] == 0 and not engine.books["BTC/USDT"].bids.levels()
    engine.submit(limit("maker", Side.SELL, "1", "100"))
    fok = engine.submit(limit("taker", Side.BUY, "2", "100", time_in_force=TimeInForce.FOK)).order
    assert fok is not None and (fok.status, fok.filled) == (OrderStatus.EXPIRED, 0)
    sold = engine.submit(market("taker", Side.SELL, "0.5"))
    assert sold.order is not None and sold.order.status is OrderStatus.EXPIRED and sold.order.filled == 0  # no bids
    bought = engine.submit(market("taker", Side.BUY, quote="50")).order
    assert bought is not None and (bought.status, bought.filled, bought.filled_quote) == (
        OrderStatus.FILLED,
        D("0.5"),
        D("50"),
    )
    rest = engine.submit(market("taker", Side.BUY, "0.6")).order
    assert rest is not None and (rest.status, rest.filled) == (OrderStatus.EXPIRED, D("0.5"))


def test_post_only_reject_or_cancel() -> None:
    engine = make_engine()
    engine.submit(limit("maker", Side.SELL, "1", "100"))
    with pytest.raises(EngineRejection) as refused:
        engine.submit(limit("taker", Side.BUY, "1", "100", post_only=True))
    assert refused.value.reason is Reject.WOULD_TAKE
    assert engine.submit(limit("taker", Side.BUY, "1", "99.99", post_only=True)).order.status is OrderStatus.NEW  # type: ignore[union-attr]
    okx_like = make_engine(PostOnlyCross.CANCEL)
    okx_like.submit(limit("maker", Side.SELL, "1", "100"))
    canceled = okx_like.submit(limit("taker", Side.BUY, "1", "100", post_only=True)).order
    assert canceled is not None and canceled.status is OrderStatus.CANCELED and canceled.filled == 0
    assert wallet(okx_like, "taker", "USDT") == (D("1000000"), 0)


@pytest.mark.parametrize(
    ("qty", "price", "reason"),
    [
        ("1", "100.001", Reject.PRICE_FILTER),
        ("1", "0", Reject.PRICE_FILTER),
        ("1.0005", "100", Reject.LOT_SIZE),
        ("0.0005", "100", Reject.LOT_SIZE),
        ("101", "100", Reject.LOT_SIZE),
        ("0.01", "100", Reject.NOTIONAL),
        ("20000", "1", Reject.LOT_SIZE),
        ("11", "100", Reject.INSUFFICIENT_BALANCE),
    ],
)
def test_filters_and_balance_refuse_without_side_effects(qty: str, price: str, reason: Reject) -> None:
    engine = make_engine()
    before = engine.wallets("taker")
    with pytest.raises(EngineRejection) as refused:
        engine.submit(limit("taker", Side.SELL, qty, price))
    assert refused.value.reason is reason
    assert engine.wallets("taker") == before and not engine.orders("taker")
    with pytest.raises(EngineRejection) as unknown:
        engine.submit(OrderRequest("taker", "DOGE/USDT", Side.BUY, OrderType.LIMIT, D("1"), D("1")))
    assert unknown.value.reason is Reject.UNKNOWN_SYMBOL


def test_self_trade_expires_the_resting_order() -> None:
    engine = make_engine()
    own = engine.submit(limit("taker", Side.SELL, "1", "100")).order
    engine.submit(limit("maker", Side.SELL, "1", "100.5"))
    result = engine.submit(limit("taker", Side.BUY, "1", "101"))
    assert own is not None
    assert engine.order("taker", "BTC/USDT", own.order_id).status is OrderStatus.EXPIRED_IN_MATCH
    assert [t.trade.price for t in result.events if isinstance(t, TradeEvent)] == [D("100.5")]
    assert wallet(engine, "taker", "BTC")[1] == 0


def test_client_order_ids_unique_among_open_orders() -> None:
    engine = make_engine()
    first = engine.submit(limit("taker", Side.BUY, "1", "50", client_order_id="abc")).order
    with pytest.raises(EngineRejection) as dup:
        engine.submit(limit("taker", Side.BUY, "1", "50", client_order_id="abc"))
    assert dup.value.reason is Reject.DUPLICATE_CLIENT_ORDER_ID
    assert first is not None
    assert engine.order("taker", "BTC/USDT", client_order_id="abc").order_id == first.order_id
    engine.cancel("taker", "BTC/USDT", client_order_id="abc")
    again = engine.submit(limit("taker", Side.BUY, "1", "50", client_order_id="abc")).order
    assert again is not None and engine.order("taker", "BTC/USDT", client_order_id="abc").order_id == again.order_id
    with pytest.raises(OrderNotFound):
        engine.order("maker", "BTC/USDT", client_order_id="abc")  # another account's id space
    with pytest.raises(OrderNotFound):
        engine.cancel("taker", "BTC/USDT", order_id=999_999)


def test_book_deltas_are_gap_free_and_exact() -> None:
    engine = make_engine()
    deltas: list[BookDelta] = []
    for request in (
        limit("maker", Side.SELL, "1", "100"),
        limit("maker", Side.SELL, "2", "101"),
        limit("maker2", Side.BUY, "1", "99"),
        limit("taker", Side.BUY, "1.5", "101"),
    ):
        deltas += [e for e in engine.submit(request).events if isinstance(e, BookDelta)]
    assert [(d.previous, d.sequence) for d in deltas] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert deltas[-1].asks == ((D("100"), D("0")), (D("101"), D("1.5")))
    assert engine.books["BTC/USDT"].sequence == 4


def test_events_and_ids_are_deterministic() -> None:
    def run() -> list[object]:
        engine = make_engine()
        out: list[object] = []
        for request in (limit("maker", Side.SELL, "1", "100"), market("taker", Side.BUY, "0.4")):
            for event in engine.submit(request).events:
                if isinstance(event, OrderEvent):
                    out.append((event.order.order_id, event.exec_type, event.order.status, event.order.filled))
                elif isinstance(event, TradeEvent):
                    out.append((event.trade.trade_id, event.trade.price, event.trade.quantity))
                elif isinstance(event, BalanceEvent):
                    out.append((event.account, event.assets))
        return out

    first = run()
    assert first == run()
    assert first[0] == (100, ExecType.NEW, OrderStatus.NEW, 0)
