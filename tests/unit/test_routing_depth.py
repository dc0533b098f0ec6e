"""crosslane.routing.depth: websocket depth frames decoded straight to integer units give the
very book ``VenueBook.apply_text`` gives (the reference), on random message streams: same
levels, same update id, same refusals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosslane.routing import SymbolScale, VenueBook
from crosslane.routing.depth import DepthFeed, LevelParser

SCALE = SymbolScale("BTC/USDT", price_decimals=2, qty_decimals=5)

# Numbers as venues write them (fixed 8 decimals, shortest form, trailing zeros; mostly at or
# near the scale's places, so whole frames often take the float route) and as they should not
# (finer than the scale, too many digits, signs, exponents, stray characters).
_scaled = st.builds(
    lambda n, places, pad: f"{Decimal(n).scaleb(-places):f}" + ("0" * pad if places else ""),
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=0, max_value=6),
)
_long = st.text("0123456789", min_size=14, max_size=20).map(lambda d: f"{d[:-3]}.{d[-3:]}")
_odd = st.sampled_from(
    ["0", "0.0", "-1", "+1", "1e2", "1E-3", ".5", "5.", "", " 1", "1_0", "0x10", "00012.5", "1.2.3", "inf", "١٢"]
)
numbers = st.one_of(_scaled, _scaled, _scaled, _scaled, _long, _odd)
levels = st.lists(st.tuples(numbers, numbers), max_size=5)
messages = st.lists(st.tuples(levels, levels, st.integers(min_value=0, max_value=60)), max_size=25)


def outcome(call: Any) -> Any:
    try:
        return call()
    except ValueError:
        return ValueError


def same(book: VenueBook, reference: VenueBook) -> None:
    assert book.bids.levels == reference.bids.levels and book.asks.levels == reference.asks.levels
    assert book.bids.ranks == reference.bids.ranks and book.asks.ranks == reference.asks.ranks
    assert (book.update_id, book.ts_ms) == (reference.update_id, reference.ts_ms)


def seeded() -> tuple[VenueBook, VenueBook]:
    snapshot = ([["100.00", "1"], ["99.50", "2.5"]], [["100.50", "0.75"], ["101.00", "3"]])
    books = VenueBook("x", SCALE), VenueBook("x", SCALE)
    for book in books:
        book.replace_text(*snapshot, update_id=10, ts_ms=0)
    return books


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(stream=messages)
def test_binance_frames_build_the_reference_book(stream: list) -> None:
    fast, reference = seeded()
    feed = DepthFeed(fast)
    for bids, asks, update_id in stream:
        frame = {"e": "depthUpdate", "E": 1000 + update_id, "s": "BTCUSDT", "U": update_id, "u": update_id}
        frame |= {"b": [list(level) for level in bids], "a": [list(level) for level in asks]}
        raw = json.dumps(frame, separators=(",", ":")).encode()
        decoded = json.loads(raw)
        expected = outcome(lambda m=decoded: reference.apply_text(m["b"], m["a"], m["u"], m["E"]))
        assert outcome(lambda raw=raw: feed.apply_binance(raw)) == expected
        same(fast, reference)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(stream=messages, snapshot_at=st.integers(min_value=0, max_value=30))
def test_okx_frames_build_the_reference_book(stream: list, snapshot_at: int) -> None:
    fast, reference = seeded()
    feed = DepthFeed(fast)
    for n, (bids, asks, seq) in enumerate(stream):
        action = "snapshot" if n == snapshot_at else "update"
        data = {
            "asks": [[p, q, "0", "1"] for p, q in asks],
            "bids": [[p, q, "0", "1"] for p, q in bids],
            "ts": str(2000 + n),
            "checksum": 0,
            "prevSeqId": seq - 1,
            "seqId": seq,
        }
        push = {"arg": {"channel": "books"}, "action": action, "data": [data]}
        raw = json.dumps(push, separators=(",", ":")).encode()  # compact, as OKX sends it

        def by_reference(d: dict = data, action: str = action) -> bool:
            if action == "snapshot":
                reference.replace_text(d["bids"], d["asks"], d["seqId"], int(d["ts"]))
                return True
            return reference.apply_text(d["bids"], d["asks"], d["seqId"], int(d["ts"]))

        assert outcome(lambda raw=raw: feed.apply_okx(raw)) == outcome(by_reference)
        same(fast, reference)


def test_the_float_route_is_taken_for_plain_frames_and_refuses_what_it_cannot_read_exactly() -> None:
    book = VenueBook("x", SCALE)
    feed = DepthFeed(book)
    plain = b'{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":1,"u":1,"b":[["65000.10000000","0.00150000"]],"a":[]}'
    assert feed._exact_floats is not None and feed._exact_floats.search(plain)
    assert feed.apply_binance(plain) and book.bids.levels == {6_500_010: 150}
    finer = b'{"e":"depthUpdate","E":6,"s":"BTCUSDT","U":2,"u":2,"b":[["65000.10000000","0.00150001"]],"a":[]}'
    assert not feed._exact_floats.search(finer)
    with pytest.raises(ValueError):
        feed.apply_binance(finer)
    long = b'{"e":"depthUpdate","E":7,"s":"BTCUSDT","U":3,"u":3,"b":[["1000000000000000.10","1"]],"a":[]}'
    assert not feed._exact_floats.search(long)  # 18 digits: the string route, exact
    assert feed.apply_binance(long) and book.bids.levels[100_000_000_000_000_010] == 100_000


def test_level_parser_remembers_prices_but_not_refusals() -> None:
    parser = LevelParser(SCALE, cache_size=2)
    assert parser.levels([["1.5", "2"], ["1.50", "0.00001"], ["3", "4.000000"]]) == [
        (150, 200_000),
        (150, 1),
        (300, 400_000),
    ]
    with pytest.raises(ValueError):
        parser.levels([["1.555", "1"]])
    with pytest.raises(ValueError):
        parser.levels([["1.5", "0.000001"]])
    assert parser.levels([["1.5", "7"]]) == [(150, 700_000)]
