"""The architecture is part of the test suite: the import contracts in .importlinter hold."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / ".importlinter"


def lint_imports() -> list[str]:
    """The ``lint-imports`` installed next to this interpreter, or the same entry point via -c."""
    script = Path(sys.executable).with_name("lint-imports")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]


def test_import_contracts_are_kept() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [*lint_imports(), "--config", str(CONFIG), "--no-cache"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"lint-imports failed:\n{report}"
    assert "0 broken" in report


def test_contracts_cover_the_documented_layers() -> None:
    """Guard against the config quietly losing a contract (a kept contract proves nothing
    if it is gone)."""
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    roots = parser["importlinter"]["root_packages"].split()
    assert set(roots) == {"crosslane", "workflows", "activities", "workers", "connectors", "devnet"}
    contracts = {name: section for name, section in parser.items() if name.startswith("importlinter:contract:")}

    def forbidden(source: str) -> set[str]:
        found: set[str] = set()
        for section in contracts.values():
            if source in section.get("source_modules", "").split():
                found |= set(section.get("forbidden_modules", "").split())
        return found

    for core in ("crosslane.domain", "crosslane.ledger", "crosslane.config", "crosslane.money", "crosslane.errors"):
        assert {"workflows", "activities", "workers", "connectors", "devnet", "crosslane.cli"} <= forbidden(core)
    assert {"temporalio", "workflows", "activities", "workers"} <= forbidden("connectors")
    assert {"connectors", "activities", "crosslane.ledger", "devnet", "web3", "aiohttp", "sqlalchemy"} <= forbidden(
        "workflows"
    )
    assert {"workflows", "workers"} <= forbidden("activities")
    # The devnet is a dev-only distribution the product wheel does not ship.
    for product in ("crosslane", "workflows", "activities", "connectors", "workers"):
        assert "devnet" in forbidden(product), f"{product} may import devnet"
