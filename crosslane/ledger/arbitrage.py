"""Arbitrage runs, their legs and realised P&L in the ledger, and the risk controls that
hold across runs, workers and restarts: pause (an operator's, or the daily-loss kill
switch's, with its reason), the number of runs in flight, the size per asset.

Admission and finishing are one write transaction each, holding the controls row's lock
(``FOR UPDATE`` on PostgreSQL, the database lock on SQLite), so two workers admitting at
once see each other's runs. Both are idempotent per workflow id: a retried activity gets
the recorded answer back.

    book = ArbBook(ledger)
    admitted, reason = book.admit(workflow_id, run, limits)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosslane.ledger.models import ArbControls, ArbLegRow, ArbRun
from crosslane.ledger.repository import Ledger

RUNNING = "running"
REFUSED = "refused"
ABORTED = "aborted"
_DETAIL_MAX = 1000
_CONTROLS_ID = 1


@dataclass(frozen=True, slots=True)
class ArbRunRecord:
    workflow_id: str
    request_id: str
    kind: str
    asset: str
    quote: str
    size: Decimal
    state: str
    expected_profit: Decimal | None
    realised_profit: Decimal | None
    day: str
    detail: str | None
    created_at: datetime
    legs: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ArbControlsRecord:
    paused: bool
    reason: str | None
    running: int
    day: str
    day_pnl: Decimal


@dataclass(frozen=True, slots=True)
class Admitted:
    """An admission's answer, with the pause state it was decided under (the kill switch's gauge)."""

    admitted: bool
    reason: str
    paused: bool


@dataclass(frozen=True, slots=True)
class NewRun:
    request_id: str
    kind: str
    asset: str
    quote: str
    size: Decimal


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= _DETAIL_MAX:
        return text
    return text[: _DETAIL_MAX - 1] + "…"


class ArbBook:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write session: on the open ``Ledger.atomic`` block's connection when there is one
        (it commits with the block's other writes), else a transaction of its own."""
        conn = self._ledger.joined_connection()
        if conn is None:
            with self._ledger._sessions.write() as s:
                yield s
            return
        with Session(bind=conn, expire_on_commit=False, join_transaction_mode="rollback_only") as s:
            yield s
            s.flush()

    def _controls(self, s: Session) -> ArbControls:
        row = s.get(ArbControls, _CONTROLS_ID, with_for_update=True)
        if row is None:
            s.execute(self._ledger._insert(ArbControls).values(id=_CONTROLS_ID, paused=False).on_conflict_do_nothing())
            row = s.get(ArbControls, _CONTROLS_ID, with_for_update=True)
            assert row is not None
        return row

    def admit(
        self, workflow_id: str, run: NewRun, *, max_concurrent: int, max_size: Decimal | None
    ) -> tuple[bool, str]:
        """Record the run as running, or as refused with the reason: paused (kill switch or
        operator), ``max_concurrent`` runs already in flight, or ``size`` above ``max_size``."""
        admitted = self.admit_run(workflow_id, run, max_concurrent=max_concurrent, max_size=max_size)
        return admitted.admitted, admitted.reason

    def admit_run(self, workflow_id: str, run: NewRun, *, max_concurrent: int, max_size: Decimal | None) -> Admitted:
        """``admit``, with the pause state read under the same lock; joins an open
        ``Ledger.atomic`` block (the fast lane admits and records its legs in one transaction)."""
        with self._write() as s:
            controls = self._controls(s)
            paused = bool(controls.paused)
            known = s.scalars(select(ArbRun).where(ArbRun.workflow_id == workflow_id)).one_or_none()
            if known is not None:  # a retried activity, or the id used again after its run ended
                if known.state in (RUNNING, REFUSED):
                    return Admitted(known.state == RUNNING, known.detail or "", paused)
                return Admitted(False, f"{workflow_id} already ran ({known.state}); start a new request id", paused)
            running = s.scalar(select(func.count()).select_from(ArbRun).where(ArbRun.state == RUNNING)) or 0
            reason = ""
            if controls.paused:
                reason = f"arbitrage is paused: {controls.reason or 'by an operator'}"
            elif running >= max_concurrent:
                reason = f"{running} runs in flight, at the limit of {max_concurrent} concurrent runs"
            elif max_size is not None and run.size > max_size:
                reason = f"size {run.size} {run.asset} is above the per-run limit of {max_size} {run.asset}"
            s.add(
                ArbRun(
                    workflow_id=workflow_id,
                    request_id=run.request_id,
                    kind=run.kind,
                    asset=run.asset,
                    quote=run.quote,
                    size=str(run.size),
                    state=REFUSED if reason else RUNNING,
                    day=today(),
                    detail=_cut(reason or "admitted"),
                )
            )
            return Admitted(not reason, reason or "admitted", paused)

    def finish(
        self,
        workflow_id: str,
        *,
        state: str,
        detail: str,
        expected_profit: Decimal | None,
        realised_profit: Decimal,
        legs: list[dict[str, Any]],
        daily_loss_limit: Decimal,
    ) -> str | None:
        """Record the run's end, its legs and realised P&L; trip the kill switch (pause,
        with the reason) when the day's net P&L is a loss beyond ``daily_loss_limit``.
        Returns the kill switch's reason when this run tripped it. Idempotent."""
        with self._ledger._sessions.write() as s:
            controls = self._controls(s)
            run = s.scalars(select(ArbRun).where(ArbRun.workflow_id == workflow_id)).one()
            if run.state not in (RUNNING, REFUSED):
                return None  # recorded already: a retried activity
            run.state = state
            run.detail = _cut(detail)
            run.expected_profit = None if expected_profit is None else str(expected_profit)
            run.realised_profit = str(realised_profit)
            for leg in legs:
                s.add(
                    ArbLegRow(
                        run_id=run.id,
                        leg=leg["leg"],
                        venue=leg["venue"],
                        state=leg["state"],
                        asset_delta=leg["asset_delta"],
                        quote_delta=leg["quote_delta"],
                        gas_cost=leg["gas_cost"],
                        changes=leg["changes"],
                        refs=leg["refs"],
                        detail=_cut(leg["detail"]),
                    )
                )
            s.flush()
            pnl = _day_pnl(s, run.day)
            if realised_profit < 0 and -pnl > daily_loss_limit and not controls.paused:
                controls.paused = True
                controls.reason = _cut(
                    f"kill switch: the daily loss on {run.day} is {-pnl} {run.quote}, beyond the limit of "
                    f"{daily_loss_limit} (tripped by {workflow_id}); `crosslane arb resume` to start runs again"
                )
                return controls.reason
            return None

    def running_since(self, admitted_before: datetime) -> list[str]:
        """Workflow ids of the runs still ``running`` that were admitted before ``admitted_before``."""
        query = select(ArbRun.workflow_id).where(ArbRun.state == RUNNING, ArbRun.created_at < admitted_before)
        with self._ledger._sessions.read() as s:
            return list(s.scalars(query))

    def release(self, workflow_id: str, detail: str) -> bool:
        """End a ``running`` run whose workflow never started and that sent nothing (its
        sender stopped between admitting it and sending) as ``aborted``, freeing its slot.
        False when the run is not ``running`` (finished or released already)."""
        with self._ledger._sessions.write() as s:
            run = s.scalars(select(ArbRun).where(ArbRun.workflow_id == workflow_id)).one_or_none()
            if run is None or run.state != RUNNING:
                return False
            run.state, run.detail, run.realised_profit = ABORTED, _cut(detail), "0"
            return True

    def pause(self, reason: str) -> None:
        with self._ledger._sessions.write() as s:
            controls = self._controls(s)
            controls.paused, controls.reason = True, _cut(reason)

    def resume(self) -> None:
        with self._ledger._sessions.write() as s:
            controls = self._controls(s)
            controls.paused, controls.reason = False, None

    def controls(self) -> ArbControlsRecord:
        with self._ledger._sessions.write() as s:
            controls = self._controls(s)
            running = s.scalar(select(func.count()).select_from(ArbRun).where(ArbRun.state == RUNNING)) or 0
            day = today()
            return ArbControlsRecord(controls.paused, controls.reason, running, day, _day_pnl(s, day))

    def runs(self, *, day: str | None = None, limit: int = 50) -> list[ArbRunRecord]:
        query = select(ArbRun).order_by(ArbRun.id.desc()).limit(limit)
        if day is not None:
            query = query.where(ArbRun.day == day)
        with self._ledger._sessions.read() as s:
            rows = list(s.scalars(query))
            legs: dict[int, list[ArbLegRow]] = {}
            for leg in s.scalars(select(ArbLegRow).where(ArbLegRow.run_id.in_([r.id for r in rows]))):
                legs.setdefault(leg.run_id, []).append(leg)
            return [_record(r, legs.get(r.id, [])) for r in rows]


def _day_pnl(s: Session, day: str) -> Decimal:
    values = s.scalars(select(ArbRun.realised_profit).where(ArbRun.day == day, ArbRun.realised_profit.is_not(None)))
    return sum((Decimal(v) for v in values if v is not None), start=Decimal(0))


def _record(r: ArbRun, legs: list[ArbLegRow]) -> ArbRunRecord:
    return ArbRunRecord(
        workflow_id=r.workflow_id,
        request_id=r.request_id,
        kind=r.kind,
        asset=r.asset,
        quote=r.quote,
        size=Decimal(r.size),
        state=r.state,
        expected_profit=None if r.expected_profit is None else Decimal(r.expected_profit),
        realised_profit=None if r.realised_profit is None else Decimal(r.realised_profit),
        day=r.day,
        detail=r.detail,
        created_at=r.created_at,
        legs=tuple(
            {
                "leg": leg.leg,
                "venue": leg.venue,
                "state": leg.state,
                "asset_delta": leg.asset_delta,
                "quote_delta": leg.quote_delta,
                "gas_cost": leg.gas_cost,
                "changes": leg.changes,
                "refs": leg.refs,
                "detail": leg.detail,
            }
            for leg in legs
        ),
    )
