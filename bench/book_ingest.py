"""Book ingestion from the wire: websocket depth frames into one ``VenueBook``, old path vs new.

    .venv/bin/python -m bench.book_ingest [--messages 100000] [--rounds 5]

Streams: Binance-style ``depthUpdate`` frames (1-4 level changes a side, prices and sizes as
8-decimal strings, as Binance writes them; the same generator as ``bench.route_decision``) and
OKX ``books`` updates (shortest-form strings, ``[price, size, "0", orders]`` levels), as the
bytes a websocket delivers. Paths, each from a fresh book on the same frames:

- old: ``json.loads`` of the frame, then ``VenueBook.apply_text`` (``parse_base_units`` per string);
- old, decoded: ``apply_text`` on frames ``json.loads`` decoded beforehand (untimed), the figure
  ``bench.route_decision`` reports;
- new: ``DepthFeed.apply_binance`` / ``apply_okx`` (msgspec structs, integer units, no ``Decimal``);
- ints: ``VenueBook.apply`` on levels converted beforehand (untimed): the book alone.

Throughput is messages per CPU-second of this process (``time.process_time``): one core's
worth, and steadier than wall time on a shared machine (wall-clock rates are printed too).
Each figure is the median over rounds; the books of every path must be equal at the end.
Goal: the new path >= 250k messages/s on one core.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from statistics import median

import msgspec

from bench.route_decision import depth_stream
from crosslane.routing import SymbolScale, VenueBook
from crosslane.routing.depth import DepthFeed

SCALE = SymbolScale("BTC/USDT", price_decimals=2, qty_decimals=5)
GOAL = 250_000


def binance_frames(rng: random.Random, count: int) -> tuple[dict, list[bytes]]:
    snapshot, messages = depth_stream(rng, count)
    return snapshot, [json.dumps(m, separators=(",", ":")).encode() for m in messages]


def okx_frames(rng: random.Random, count: int) -> tuple[dict, list[bytes]]:
    """The Binance stream's changes as OKX ``books`` pushes: shortest-form numbers, order counts."""
    snapshot, messages = depth_stream(rng, count)

    def short(text: str) -> str:
        out = text.rstrip("0").rstrip(".")
        return out or "0"

    def levels(rows: list[list[str]]) -> list[list[str]]:
        return [[short(p), short(q), "0", str(rng.randint(0, 9) if short(q) != "0" else 0)] for p, q in rows]

    frames = []
    for m in messages:
        data = {
            "asks": levels(m["a"]),
            "bids": levels(m["b"]),
            "ts": str(m["E"]),
            "checksum": 0,
            "prevSeqId": m["u"] - 1,
            "seqId": m["u"],
        }
        push = {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "update", "data": [data]}
        frames.append(json.dumps(push, separators=(",", ":")).encode())
    okx_snapshot = {"bids": levels(snapshot["bids"]), "asks": levels(snapshot["asks"]), "seqId": 1}
    return okx_snapshot, frames


def fresh(snapshot: dict) -> VenueBook:
    book = VenueBook("bench", SCALE)
    book.replace_text(snapshot["bids"], snapshot["asks"], snapshot.get("lastUpdateId", snapshot.get("seqId", 1)), 0)
    return book


def timed(run: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def binance_paths(snapshot: dict, frames: list[bytes]) -> dict[str, tuple[Callable[[], None], VenueBook]]:
    decoded = [json.loads(f) for f in frames]
    books = {name: fresh(snapshot) for name in ("old", "old, decoded", "new", "ints")}
    parsed = [(books["ints"]._parse(m["b"]), books["ints"]._parse(m["a"]), m["u"], m["E"]) for m in decoded]

    def old() -> None:
        apply_text, loads = books["old"].apply_text, json.loads
        for frame in frames:
            m = loads(frame)
            apply_text(m["b"], m["a"], m["u"], m["E"])

    def old_decoded() -> None:
        apply_text = books["old, decoded"].apply_text
        for m in decoded:
            apply_text(m["b"], m["a"], m["u"], m["E"])

    def new() -> None:
        apply = DepthFeed(books["new"]).apply_binance
        for frame in frames:
            apply(frame)

    def ints() -> None:
        apply = books["ints"].apply
        for bids, asks, update_id, ts in parsed:
            apply(bids, asks, update_id, ts)

    return {n: (f, books[n]) for n, f in zip(books, (old, old_decoded, new, ints), strict=True)}


def okx_paths(snapshot: dict, frames: list[bytes]) -> dict[str, tuple[Callable[[], None], VenueBook]]:
    decoded = [json.loads(f)["data"][0] for f in frames]
    books = {name: fresh(snapshot) for name in ("old", "old, decoded", "new")}

    def old() -> None:
        apply_text, loads = books["old"].apply_text, json.loads
        for frame in frames:
            for d in loads(frame)["data"]:
                apply_text(d["bids"], d["asks"], d["seqId"], int(d["ts"]))

    def old_decoded() -> None:
        apply_text = books["old, decoded"].apply_text
        for d in decoded:
            apply_text(d["bids"], d["asks"], d["seqId"], int(d["ts"]))

    def new() -> None:
        apply = DepthFeed(books["new"]).apply_okx
        for frame in frames:
            apply(frame)

    return {n: (f, books[n]) for n, f in zip(books, (old, old_decoded, new), strict=True)}


def measure(name: str, make: Callable[[], dict], count: int, rounds: int) -> dict[str, float]:
    cpu_rates: dict[str, list[float]] = {}
    wall_rates: dict[str, list[float]] = {}
    for _ in range(rounds):
        paths = make()
        for path, (run, _book) in paths.items():
            cpu, wall = timed(run)
            cpu_rates.setdefault(path, []).append(count / cpu)
            wall_rates.setdefault(path, []).append(count / wall)
        books = [book for _run, book in paths.values()]
        for book in books[1:]:  # every path built the same book
            assert book.bids.levels == books[0].bids.levels and book.asks.levels == books[0].asks.levels
            assert book.bids.ranks == books[0].bids.ranks and book.asks.ranks == books[0].asks.ranks
            assert book.update_id == books[0].update_id
    print(f"\n{name}: {count} frames, {rounds} rounds (median), books equal on every path")
    print(f"  {'path':<44} {'msgs/CPU-s':>12} {'msgs/wall-s':>12}")
    p50 = {path: median(rates) for path, rates in cpu_rates.items()}
    for path in cpu_rates:
        print(f"  {path:<44} {p50[path]:>12,.0f} {median(wall_rates[path]):>12,.0f}")
    print(
        f"  new / old: {p50['new'] / p50['old']:.2f}x (from the wire), "
        f"{p50['new'] / p50['old, decoded']:.2f}x (vs apply_text alone); "
        f"goal >= {GOAL:,}/s: {'met' if p50['new'] >= GOAL else 'NOT met'}"
    )
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    b_snapshot, b_frames = binance_frames(random.Random(20261126), args.messages)
    o_snapshot, o_frames = okx_frames(random.Random(20261127), args.messages)
    measure("Binance depthUpdate", lambda: binance_paths(b_snapshot, b_frames), args.messages, args.rounds)
    measure("OKX books", lambda: okx_paths(o_snapshot, o_frames), args.messages, args.rounds)
    print(f"\nmsgspec {msgspec.__version__}")


if __name__ == "__main__":
    main()
