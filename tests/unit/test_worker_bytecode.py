"""The worker keeps the workflows' bytecode when Python may not write it next to the sources."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workers.orchestrator import cache_workflow_bytecode


@pytest.fixture
def installed_pyc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the workflows' installed bytecode would be (absent until a test writes it); the
    interpreter's bytecode flags are restored afterwards."""
    pyc = tmp_path / "installed" / "registry.cpython-311.pyc"
    monkeypatch.setattr(importlib.util, "cache_from_source", lambda _source: str(pyc))
    saved = sys.dont_write_bytecode, sys.pycache_prefix
    try:
        yield pyc
    finally:
        sys.dont_write_bytecode, sys.pycache_prefix = saved


def test_without_bytecode_it_is_cached_under_the_home(tmp_path: Path, installed_pyc: Path) -> None:
    sys.dont_write_bytecode, sys.pycache_prefix = True, None
    assert cache_workflow_bytecode(tmp_path) is True
    assert (sys.dont_write_bytecode, sys.pycache_prefix) == (False, str(tmp_path / "pycache"))


def test_installed_bytecode_is_used_as_it_is(tmp_path: Path, installed_pyc: Path) -> None:
    installed_pyc.parent.mkdir()
    installed_pyc.write_bytes(b"")
    sys.dont_write_bytecode, sys.pycache_prefix = True, None
    assert cache_workflow_bytecode(tmp_path) is False
    assert (sys.dont_write_bytecode, sys.pycache_prefix) == (True, None)


@pytest.mark.parametrize(("dont_write", "prefix"), [(False, None), (True, "/somewhere/else")])
def test_an_explicit_choice_is_left_alone(
    tmp_path: Path, installed_pyc: Path, dont_write: bool, prefix: str | None
) -> None:
    sys.dont_write_bytecode, sys.pycache_prefix = dont_write, prefix
    assert cache_workflow_bytecode(tmp_path) is False
    assert (sys.dont_write_bytecode, sys.pycache_prefix) == (dont_write, prefix)
