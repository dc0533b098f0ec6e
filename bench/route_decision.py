"""Route decisions over a 5-venue consolidated book, and book-update ingestion, each against a
baseline measured in the same run.

    .venv/bin/python -m bench.route_decision [--decisions 20000] [--rounds 3] [--messages 100000] [--depth 20]

Route decision: BTC/USDT on 5 venues (different fees, ticks, steps and minimum notionals),
20 levels a side. Each decision is one ``Router.route(side, size)`` call (Decimal size in,
``RoutePlan`` with Decimal child orders, averages and fees out); sizes are log-uniform between
0.01 and 30 BTC, buys and sells alternating, and one random level changes on one venue between
decisions (untimed) so no decision sees the same book twice. Baseline: the straightforward
router (every level of every venue as Decimals, fee-adjusted, sorted, then walked) over the
same books and the same sequence; the two must choose the same child orders (checked).
Goal: p99 under 100 microseconds.

Ingestion: a stream of Binance-style ``depthUpdate`` messages (1-4 level changes a side, prices
and sizes as 8-decimal strings) applied to one ``VenueBook`` via ``apply_text``, and the same
messages through ccxt.pro's own handler (``binance.handle_order_book_message`` into its
``OrderBook``, which is what ``watch_order_book`` runs per message; it holds floats). Throughput
on one core; a third row applies the same diffs pre-parsed to integers, to show what the text
parsing costs.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from statistics import median

from bench.stats import percentile
from crosslane.routing import (
    ConsolidatedBook,
    Router,
    Side,
    SymbolScale,
    VenueBook,
    VenueCosts,
    VenueMarket,
    VenuePrecision,
)

SYMBOL = "BTC/USDT"
MID = Decimal(65_000)
NOW_MS = 1_000_000

# venue, taker bps, tick, step, min notional (USDT): fees within 2.5 bps of each other (VIP tiers),
# so the cheapest venue's book runs out within its 20 levels and sizes over ~1 BTC split
VENUES = [
    ("binance", "10", "0.01", "0.00001", "5"),
    ("okx", "8", "0.1", "0.00001", "1"),
    ("bybit", "10", "0.01", "0.000001", "5"),
    ("kraken", "9.5", "0.1", "0.0001", "10"),
    ("coinbase", "7.5", "0.01", "0.00000001", "1"),
]
LEVEL_GAP_USDT = (Decimal("0.5"), Decimal(5))  # between adjacent levels: 20 levels span ~50 USDT (~8 bps)

DecimalLevels = list[tuple[Decimal, Decimal]]

# -- the books -------------------------------------------------------------------------------


def markets() -> list[VenueMarket]:
    return [
        VenueMarket(name, VenueCosts(taker_bps=Decimal(taker)),
                    VenuePrecision(tick=Decimal(tick), step=Decimal(step), min_notional=Decimal(min_notional)))
        for name, taker, tick, step, min_notional in VENUES
    ]


def snapshot(rng: random.Random, depth: int) -> dict[str, tuple[DecimalLevels, DecimalLevels]]:
    """``depth`` bids and asks per venue around a mid within 5 USDT of the others (Decimal levels)."""
    books = {}
    for name, _, tick, step, _ in VENUES:
        tick_d, step_d = Decimal(tick), Decimal(step)
        gaps = [int(gap / tick_d) for gap in LEVEL_GAP_USDT]
        mid = MID + Decimal(rng.randint(-5, 5))
        bids, asks, bid, ask = [], [], mid - tick_d, mid + tick_d
        for _ in range(depth):
            bids.append((bid, random_qty(rng, step_d)))
            asks.append((ask, random_qty(rng, step_d)))
            bid -= tick_d * rng.randint(*gaps)
            ask += tick_d * rng.randint(*gaps)
        books[name] = (bids, asks)
    return books


def random_qty(rng: random.Random, step: Decimal) -> Decimal:
    return (Decimal(rng.randint(1_000, 150_000)) / 100_000).quantize(step, ROUND_DOWN).max(step)


@dataclass(frozen=True)
class Decision:
    side: Side
    size: Decimal
    venue: str  # the level change applied (untimed) before the decision
    is_bid: bool
    level: int
    qty: Decimal


def decisions(rng: random.Random, count: int, depth: int) -> list[Decision]:
    ops = []
    for n in range(count):
        size = Decimal(math.exp(rng.uniform(math.log(0.01), math.log(30)))).quantize(Decimal("0.0001"))
        name, _, _, step, _ = rng.choice(VENUES)
        ops.append(Decision(Side.BUY if n % 2 == 0 else Side.SELL, max(size, Decimal("0.001")), name,
                            rng.random() < 0.5, rng.randrange(depth), random_qty(rng, Decimal(step))))
    return ops


# -- ours ------------------------------------------------------------------------------------


def crosslane_router(books: dict) -> Router:
    consolidated = ConsolidatedBook.covering(SYMBOL, markets())
    for name, (bids, asks) in books.items():
        consolidated.book(name).replace_text([(str(p), str(q)) for p, q in bids], [(str(p), str(q)) for p, q in asks],
                                             update_id=1, ts_ms=NOW_MS)
    return Router([consolidated], clock_ms=lambda: NOW_MS)


def run_crosslane(books: dict, ops: list[Decision], plans: list | None = None) -> list[float]:
    """Latency of each decision; the plans are kept only when ``plans`` is given (keeping 20k
    plans alive would make the garbage collector's passes, and so the timings, longer)."""
    router = crosslane_router(books)
    consolidated = router.book(SYMBOL)
    scale = consolidated.scale
    level_prices = {name: ([scale.price_units(p) for p, _ in bids], [scale.price_units(p) for p, _ in asks])
                    for name, (bids, asks) in books.items()}
    latencies = []
    clock = time.perf_counter_ns
    for n, op in enumerate(ops, start=2):
        venue_book = consolidated.book(op.venue)
        price = level_prices[op.venue][0 if op.is_bid else 1][op.level]
        change = [(price, scale.qty_units(op.qty))]
        venue_book.apply(change if op.is_bid else (), () if op.is_bid else change, n, NOW_MS)
        started = clock()
        plan = router.route(op.side, op.size, SYMBOL)
        latencies.append((clock() - started) / 1e9)
        if plans is not None:
            plans.append(plan)
    return latencies


# -- the straightforward baseline ------------------------------------------------------------


class NaiveRouter:
    """What a first implementation looks like: Decimal books, merged and sorted per decision."""

    def __init__(self, books: dict) -> None:
        self.books = {name: ({p: q for p, q in bids}, {p: q for p, q in asks}) for name, (bids, asks) in books.items()}
        self.fees = {name: Decimal(taker) / 10_000 for name, taker, *_ in VENUES}
        self.steps = {name: Decimal(step) for name, _, _, step, _ in VENUES}
        self.min_notional = {name: Decimal(mn) for name, *_, mn in VENUES}

    def route(self, side: Side, size: Decimal) -> tuple[list[tuple[str, Decimal, Decimal]], Decimal, Decimal, bool]:
        """(children as (venue, qty, limit price), average price, fees, whether a share was dropped)."""
        buy = side is Side.BUY
        rows = []
        for order, (name, (bids, asks)) in enumerate(self.books.items()):
            fee = self.fees[name]
            for price, qty in (asks if buy else bids).items():
                rows.append((price * (1 + fee) if buy else price * (1 - fee), order, name, price, qty))
        rows.sort(key=lambda row: (row[0] if buy else -row[0], row[1]))
        remaining = size
        took: dict[str, Decimal] = {}
        notional: dict[str, Decimal] = {}
        worst: dict[str, Decimal] = {}
        for _, _, name, price, qty in rows:
            if remaining <= 0:
                break
            step = self.steps[name]
            take = (min(qty, remaining) / step).to_integral_value(ROUND_DOWN) * step
            if take:
                took[name] = took.get(name, Decimal(0)) + take
                notional[name] = notional.get(name, Decimal(0)) + take * price
                worst[name] = price
                remaining -= take
        children = [(name, took[name], worst[name]) for name in took if notional[name] >= self.min_notional[name]]
        filled = sum((qty for _, qty, _ in children), Decimal(0))
        total = sum((notional[name] for name, _, _ in children), Decimal(0))
        fees = sum((notional[name] * self.fees[name] for name, _, _ in children), Decimal(0))
        return children, (total / filled if filled else Decimal(0)), fees, len(children) < len(took)


def run_naive(books: dict, ops: list[Decision], results: list | None = None) -> list[float]:
    router = NaiveRouter(books)
    level_prices = {name: ([p for p, _ in bids], [p for p, _ in asks]) for name, (bids, asks) in books.items()}
    latencies = []
    clock = time.perf_counter_ns
    for op in ops:
        router.books[op.venue][0 if op.is_bid else 1][level_prices[op.venue][0 if op.is_bid else 1][op.level]] = op.qty
        started = clock()
        result = router.route(op.side, op.size)
        latencies.append((clock() - started) / 1e9)
        if results is not None:
            results.append(result)
    return latencies


def same_children(books: dict, ops: list[Decision]) -> tuple[int, int]:
    """Both routers over the same sequence (untimed): (decisions compared, mismatches). Compared
    where the baseline dropped no share under a venue minimum: it does not re-allocate those,
    the router does."""
    plans: list = []
    results: list = []
    run_crosslane(books, ops, plans)
    run_naive(books, ops, results)
    compared = mismatched = 0
    for plan, (children, _, _, dropped) in zip(plans, results, strict=True):
        if not dropped:
            compared += 1
            mismatched += sorted((c.venue, c.qty, c.limit_price) for c in plan.children) != sorted(children)
    return compared, mismatched


# -- ingestion -------------------------------------------------------------------------------


def depth_stream(rng: random.Random, count: int) -> tuple[dict, list[dict]]:
    """A Binance depth snapshot and ``count`` ``depthUpdate`` diffs: 60% size changes, 20% levels
    emptied, 20% new levels (prices cluster near the top). Bids stay under and asks over the
    mid, so the book never crosses."""
    tick = Decimal("0.01")
    live: dict[bool, list[Decimal]] = {True: [], False: []}  # a list for O(1) random picks
    present: dict[bool, set[Decimal]] = {True: set(), False: set()}

    def new_price(is_bid: bool) -> Decimal:
        offset = Decimal(int(rng.expovariate(1 / 300)) + 1) * tick
        return MID - offset if is_bid else MID + offset

    def qty() -> str:
        return f"{rng.randint(1, 300_000) / 100_000:.8f}"

    def add(is_bid: bool) -> Decimal:
        price = new_price(is_bid)
        if price not in present[is_bid]:
            present[is_bid].add(price)
            live[is_bid].append(price)
        return price

    snapshot: dict = {"lastUpdateId": 1, "bids": [], "asks": []}
    for is_bid, key in ((True, "bids"), (False, "asks")):
        while len(live[is_bid]) < 500:
            add(is_bid)
        snapshot[key] = [[f"{price:.8f}", qty()] for price in live[is_bid]]
    messages = []
    for n in range(count):
        message: dict = {"e": "depthUpdate", "E": 1_700_000_000_000 + n, "s": "BTCUSDT", "U": n + 2, "u": n + 2}
        for is_bid, key in ((True, "b"), (False, "a")):
            changes = message[key] = []
            for _ in range(rng.randint(1, 4)):
                roll, prices = rng.random(), live[is_bid]
                if roll < 0.6 and prices:
                    changes.append([f"{rng.choice(prices):.8f}", qty()])
                elif roll < 0.8 and prices:
                    i = rng.randrange(len(prices))
                    prices[i], prices[-1] = prices[-1], prices[i]
                    gone = prices.pop()
                    present[is_bid].discard(gone)
                    changes.append([f"{gone:.8f}", "0.00000000"])
                else:
                    changes.append([f"{add(is_bid):.8f}", qty()])
        messages.append(message)
    return snapshot, messages


def ingest_crosslane(snapshot: dict, messages: list[dict]) -> tuple[float, VenueBook]:
    book = VenueBook("binance", SymbolScale(SYMBOL, price_decimals=2, qty_decimals=5))
    book.replace_text(snapshot["bids"], snapshot["asks"], snapshot["lastUpdateId"], 0)
    apply_text = book.apply_text
    started = time.perf_counter()
    for message in messages:
        apply_text(message["b"], message["a"], message["u"], message["E"])
    return time.perf_counter() - started, book


def ingest_crosslane_units(snapshot: dict, messages: list[dict]) -> float:
    """The same diffs pre-parsed to integer units (untimed): the book alone, without text parsing."""
    book = VenueBook("binance", SymbolScale(SYMBOL, price_decimals=2, qty_decimals=5))
    book.replace_text(snapshot["bids"], snapshot["asks"], snapshot["lastUpdateId"], 0)
    parsed = [(book._parse(m["b"]), book._parse(m["a"]), m["u"], m["E"]) for m in messages]
    apply = book.apply
    started = time.perf_counter()
    for bids, asks, update_id, ts_ms in parsed:
        apply(bids, asks, update_id, ts_ms)
    return time.perf_counter() - started


def ingest_ccxt(snapshot: dict, messages: list[dict]) -> tuple[float, object]:
    import ccxt.pro  # the baseline only: crosslane.routing never imports ccxt

    exchange = ccxt.pro.binance()
    book = exchange.order_book(exchange.parse_order_book(snapshot, "BTC/USDT"))
    handle = exchange.handle_order_book_message
    started = time.perf_counter()
    for message in messages:
        handle(None, message, book)
    return time.perf_counter() - started, book


# -- main ------------------------------------------------------------------------------------


def micros(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=20, help="levels a side per venue")
    args = parser.parse_args()

    rng = random.Random(20261126)
    books = snapshot(rng, args.depth)
    ops = decisions(rng, args.decisions, args.depth)
    print(f"route decision: {len(VENUES)} venues x {args.depth} levels a side, {args.decisions} decisions a round, "
          f"{args.rounds} rounds")
    compared, mismatched = same_children(books, ops)
    assert mismatched == 0, f"{mismatched} of {compared} decisions differ from the baseline"
    skipped = len(ops) - compared
    print(f"  same child orders as the baseline in {compared}/{compared} decisions compared"
          + (f" ({skipped} skipped: a share under a venue minimum, which only the router re-allocates)"
             if skipped else ""))
    ours_p50, ours_p99, naive_p50, naive_p99 = [], [], [], []
    for round_no in range(1, args.rounds + 1):
        ours = run_crosslane(books, ops)
        naive = run_naive(books, ops)
        ours_p50.append(median(ours))
        ours_p99.append(percentile(ours, 99))
        naive_p50.append(median(naive))
        naive_p99.append(percentile(naive, 99))
        print(f"  round {round_no}: crosslane p50 {micros(ours_p50[-1])} p99 {micros(ours_p99[-1])} "
              f"max {micros(max(ours))} | naive p50 {micros(naive_p50[-1])} p99 {micros(naive_p99[-1])}")
    p50, p99, base_p50, base_p99 = map(median, (ours_p50, ours_p99, naive_p50, naive_p99))
    print(f"{'path':<40} {'p50':>11} {'p99':>11}")
    print(f"{'crosslane.routing Router.route':<40} {micros(p50)} {micros(p99)}")
    print(f"{'naive Decimal merge-sort-walk':<40} {micros(base_p50)} {micros(base_p99)}")
    print(f"ratio (naive / crosslane): p50 {base_p50 / p50:.1f}x, p99 {base_p99 / p99:.1f}x; "
          f"goal p99 < 100 us: {'met' if p99 < 100e-6 else 'NOT met'}")

    snapshot_msg, messages = depth_stream(rng, args.messages)
    levels = sum(len(m["b"]) + len(m["a"]) for m in messages)
    print(f"\nbook-update ingestion: {len(messages)} depthUpdate messages ({levels} level changes), "
          f"{args.rounds} rounds, one core")
    ours_rates, units_rates, ccxt_rates = [], [], []
    for _ in range(args.rounds):
        wall, book = ingest_crosslane(snapshot_msg, messages)
        ours_rates.append(len(messages) / wall)
        units_rates.append(len(messages) / ingest_crosslane_units(snapshot_msg, messages))
        wall, ccxt_book = ingest_ccxt(snapshot_msg, messages)
        ccxt_rates.append(len(messages) / wall)
        # both books must agree (ccxt holds floats: compare at the scale's precision)
        for ours_side, theirs in ((book.bids, ccxt_book["bids"]), (book.asks, ccxt_book["asks"])):
            assert ours_side.top(50) == [(round(p * 100), round(q * 100_000)) for p, q in theirs[:50]]
    ours_rate, units_rate, ccxt_rate = median(ours_rates), median(units_rates), median(ccxt_rates)
    per_msg = levels / len(messages)
    print(f"{'path':<40} {'msgs/s':>11} {'levels/s':>12}")
    print(f"{'crosslane VenueBook.apply_text':<40} {ours_rate:>11,.0f} {ours_rate * per_msg:>12,.0f}")
    print(f"{'ccxt.pro binance OrderBook handler':<40} {ccxt_rate:>11,.0f} {ccxt_rate * per_msg:>12,.0f}")
    print(f"{'crosslane VenueBook.apply (ints, no parse)':<40} {units_rate:>11,.0f} {units_rate * per_msg:>12,.0f}")
    print(f"ratio (crosslane / ccxt.pro): {ours_rate / ccxt_rate:.1f}x")


if __name__ == "__main__":
    main()
