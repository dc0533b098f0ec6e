"""Arbitrage in the ledger on SQLite and PostgreSQL: admission against the controls (pause,
concurrent runs, size per asset), idempotent per workflow id; the realised P&L and legs
recorded once; the daily loss tripping the kill switch, which holds for a new ledger
handle (another worker, a restart) until resumed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crosslane.ledger import Ledger
from crosslane.ledger.arbitrage import ArbBook, NewRun
from tests.integration.test_ledger import db_url, ledger, pg_database  # noqa: F401  (fixtures)

ONE = NewRun(request_id="r", kind="cex-dex", asset="WETH", quote="USDC", size=Decimal("1.5"))


def leg(name: str, quote_delta: str) -> dict[str, Any]:
    return {
        "leg": name, "venue": "cex ETH/USDT", "state": "filled", "asset_delta": "0", "quote_delta": quote_delta,
        "gas_cost": "0", "changes": [{"place": "cex:binance", "currency": "USDT", "amount": quote_delta}],
        "refs": ["arb-x/buy"], "detail": "",
    }  # fmt: skip


def admit(book: ArbBook, wf: str, **kw: Any) -> tuple[bool, str]:
    return book.admit(wf, ONE, max_concurrent=kw.get("max_concurrent", 2), max_size=kw.get("max_size"))


def test_admission_limits_and_idempotence(ledger: Ledger) -> None:  # noqa: F811
    book = ArbBook(ledger)
    assert admit(book, "arb-1") == (True, "admitted")
    assert admit(book, "arb-1") == (True, "admitted")  # a retried activity
    assert admit(book, "arb-2")[0]
    refused, why = admit(book, "arb-3")
    assert not refused and "at the limit of 2 concurrent runs" in why
    assert not admit(book, "arb-4", max_concurrent=9, max_size=Decimal(1))[0]
    book.pause("maintenance window")
    refused, why = admit(book, "arb-5", max_concurrent=9)
    assert not refused and why == "arbitrage is paused: maintenance window"
    book.resume()
    assert admit(book, "arb-6", max_concurrent=9)[0]


def test_pnl_recorded_once_and_the_kill_switch_survives_a_restart(ledger: Ledger, db_url: str) -> None:  # noqa: F811
    book = ArbBook(ledger)
    admit(book, "arb-a")
    finish = {
        "state": "compensated", "detail": "sell failed; unwound", "expected_profit": Decimal("4.2"),
        "realised_profit": Decimal("-12.5"), "legs": [leg("buy", "-3003"), leg("unwind", "2990.5")],
        "daily_loss_limit": Decimal(10),
    }  # fmt: skip
    tripped = book.finish("arb-a", **finish)
    assert tripped is not None and "daily loss on" in tripped and "12.5 USDC" in tripped
    assert book.finish("arb-a", **finish) is None  # recorded once
    [run] = book.runs()
    assert run.state == "compensated" and run.realised_profit == Decimal("-12.5")
    assert [leg["leg"] for leg in run.legs] == ["buy", "unwind"]
    assert run.expected_profit == Decimal("4.2")

    with Ledger(db_url) as other:  # another worker, or the same one restarted
        again = ArbBook(other)
        controls = again.controls()
        assert controls.paused and controls.day_pnl == Decimal("-12.5") and controls.running == 0
        refused, why = admit(again, "arb-b")
        assert not refused and why.startswith("arbitrage is paused: kill switch")


def test_an_admission_inside_an_atomic_block_commits_or_rolls_back_with_the_block(ledger: Ledger) -> None:  # noqa: F811
    """The fast lane admits a run and records its quote in one transaction: a failure after
    the admission leaves neither (no slot held for a run that recorded nothing), a success both."""
    book = ArbBook(ledger)
    try:
        with ledger.atomic():
            admitted = book.admit_run("arb-a", ONE, max_concurrent=2, max_size=None)
            assert admitted.admitted and not admitted.paused
            ledger.begin_operation("arb-a", "fastlane", "arb_fastlane", detail={"quote": 1})
            raise RuntimeError("the sender died before committing")
    except RuntimeError:
        pass
    assert book.controls().running == 0 and ledger.get_operation("arb-a", "fastlane") is None
    with ledger.atomic():
        assert book.admit_run("arb-a", ONE, max_concurrent=2, max_size=None).admitted
        ledger.begin_operation("arb-a", "fastlane", "arb_fastlane", detail={"quote": 1})
    assert book.controls().running == 1 and ledger.get_operation("arb-a", "fastlane") is not None
    book.pause("kill switch")
    with ledger.atomic():
        refused = book.admit_run("arb-b", ONE, max_concurrent=9, max_size=None)
    assert not refused.admitted and refused.paused and "paused: kill switch" in refused.reason
