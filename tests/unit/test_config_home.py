"""The stack's home is found the same way from any folder: the env var, else the project's
``.crosslane``, else a per-user default."""

from __future__ import annotations

from pathlib import Path

import pytest

import crosslane.config as config
from crosslane.config import resolve_home, settings

REPO = Path(config.__file__).resolve().parent.parent


def test_env_var_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CROSSLANE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(REPO)
    assert resolve_home().path == tmp_path / "home" and resolve_home().why == "CROSSLANE_HOME"
    assert settings().home == tmp_path / "home"


def test_inside_the_project_any_subfolder_finds_the_project_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROSSLANE_HOME", raising=False)
    monkeypatch.chdir(REPO / "crosslane" / "cli")
    home = resolve_home()
    assert home.path == REPO / ".crosslane"
    assert home.why == f"the project of the working directory, {REPO}"


def test_another_project_checkout_uses_its_own_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CROSSLANE_HOME", raising=False)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "crosslane"\n')
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    assert resolve_home().path == tmp_path / ".crosslane"


def test_outside_any_project_the_installed_checkout_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CROSSLANE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    home = resolve_home()
    assert home.path == REPO / ".crosslane", "the stack scripts/demo started in the checkout, seen from elsewhere"
    assert home.why == f"the project crosslane is installed from, {REPO}"


def test_without_any_project_a_per_user_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CROSSLANE_HOME", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "__file__", str(tmp_path / "site-packages" / "crosslane" / "config.py"))
    home = resolve_home()
    assert home.path == tmp_path / "state" / "crosslane"
    assert home.why.startswith("the per-user default")
