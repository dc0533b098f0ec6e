"""Ledger pieces that need no server: column types, URL handling, in-memory SQLite."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from crosslane.ledger import Ledger, OperationStatus
from crosslane.ledger.coltypes import UINT256_MAX, Uint256, UtcDateTime
from crosslane.ledger.db import normalize_url


def test_uint256_binds_exactly_per_backend() -> None:
    t = Uint256()
    sq, pg = sqlite.dialect(), postgresql.dialect()
    assert t.process_bind_param(UINT256_MAX, sq) == str(UINT256_MAX).zfill(78)
    assert t.process_bind_param(UINT256_MAX, pg) == Decimal(UINT256_MAX)
    # zero-padding keeps SQLite's text comparison numeric
    assert t.process_bind_param(9, sq) < t.process_bind_param(10, sq)  # type: ignore[operator]
    assert t.process_result_value(str(UINT256_MAX).zfill(78), sq) == UINT256_MAX
    assert t.process_result_value(Decimal(UINT256_MAX), pg) == UINT256_MAX
    for bad in (UINT256_MAX + 1, -1):
        with pytest.raises(ValueError):
            t.process_bind_param(bad, sq)
    for wrong in (1.0, True, "1"):
        with pytest.raises(TypeError):
            t.process_bind_param(wrong, pg)  # type: ignore[arg-type]


def test_utc_datetime_rejects_naive_values() -> None:
    with pytest.raises(ValueError):
        UtcDateTime().process_bind_param(datetime(2025, 1, 1), sqlite.dialect())  # noqa: DTZ001
    back = UtcDateTime().process_result_value(datetime(2025, 1, 1), sqlite.dialect())  # noqa: DTZ001
    assert back is not None and back.utcoffset() is not None


def test_normalize_url_pins_psycopg3() -> None:
    assert normalize_url("postgresql://h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"
    with pytest.raises(ValueError):
        Ledger("mysql://h/db")


def test_in_memory_sqlite_works_single_threaded() -> None:
    with Ledger("sqlite://") as led:
        led.migrate()
        op = led.begin_operation("wf", "s", "k")
        assert led.update_operation(op.id, status="succeeded").status is OperationStatus.SUCCEEDED
        assert led.get_operation("wf", "s") is not None


def test_from_settings_uses_home_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CROSSLANE_DB_URL", raising=False)
    monkeypatch.setenv("CROSSLANE_HOME", str(tmp_path / "home"))
    with Ledger.from_settings() as led:
        assert led.url.get_backend_name() == "sqlite"
        assert led.url.database == str(tmp_path / "home" / "ledger.db")
        assert (tmp_path / "home").is_dir()  # created so the first connect succeeds
    monkeypatch.setenv("CROSSLANE_DB_URL", "postgresql://u:p%40ss@db.example:5432/x")
    with Ledger.from_settings() as pg:  # lazy: nothing connects yet
        assert pg.url.drivername == "postgresql+psycopg"
        # "%" survives alembic's ConfigParser interpolation
        assert pg.alembic_config().get_main_option("sqlalchemy.url") == (
            "postgresql+psycopg://u:p%40ss@db.example:5432/x"
        )
