"""What ships where: the product wheel carries no devnet, the crosslane-devnet wheel carries all
of it and the plugin that adds its commands, and ``crosslane`` works where the devnet is absent.

Wheels are built the way a user builds them (``pip wheel``, isolated build) from a copy of the
working tree, so the checkout gets no ``build/`` or ``*.egg-info`` from the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("crosslane", "workflows", "activities", "workers", "connectors")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info", "node_modules")


def _copy_tree(dest: Path) -> Path:
    for name in (*PRODUCT_PACKAGES, "devnet"):
        shutil.copytree(REPO_ROOT / name, dest / name, ignore=SKIP)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, dest / name)
    return dest


def _wheel(project: Path, out: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_tree(tmp_path_factory.mktemp("source"))


@pytest.fixture(scope="module")
def product_wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _wheel(source, tmp_path_factory.mktemp("product-wheel"))


def _entries(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_the_product_wheel_ships_no_devnet(product_wheel: Path) -> None:
    entries = _entries(product_wheel)
    assert product_wheel.name.startswith("crosslane-"), product_wheel.name
    assert [e for e in entries if e.split("/")[0] == "devnet"] == []
    tops = {e.split("/")[0] for e in entries if not e.split("/")[0].endswith(".dist-info")}
    assert tops == set(PRODUCT_PACKAGES)
    assert "crosslane/embedded/processes.py" in entries
    assert "crosslane/embedded/temporal_server.py" in entries


def test_the_devnet_wheel_ships_every_devnet_package_and_its_commands(source: Path, tmp_path: Path) -> None:
    wheel = _wheel(source / "devnet", tmp_path)
    entries = _entries(wheel)
    assert wheel.name.startswith("crosslane_devnet-"), wheel.name
    packages = sorted(str(init.parent.relative_to(REPO_ROOT)) for init in (REPO_ROOT / "devnet").rglob("__init__.py"))
    assert len(packages) > 5
    for package in packages:
        assert f"{package}/__init__.py" in entries, f"{package} is missing from the crosslane-devnet wheel"
    assert {"devnet/wormhole/artifacts.lock.json", "devnet/across/artifacts.lock.json"} <= set(entries)
    assert {e.split("/")[0] for e in entries if ".dist-info/" not in e} == {"devnet"}
    with zipfile.ZipFile(wheel) as zf:
        (points,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(points).decode()
    assert "[crosslane.cli_plugins]" in text and "devnet.cli:register" in text


@pytest.fixture(scope="module")
def without_devnet(product_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment with the product wheel and its dependencies but no devnet: this venv's
    site-packages minus the crosslane distributions (run with ``-S``, so no ``.pth`` file
    brings the editable installs back)."""
    root = tmp_path_factory.mktemp("no-devnet")
    lib = root / "lib"
    with zipfile.ZipFile(product_wheel) as zf:
        zf.extractall(lib)
    site = root / "site"
    site.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name.startswith(("crosslane", "__editable__", "devnet")) or name.endswith(".pth"):
            continue
        (site / entry.name).symlink_to(entry)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLANE_")}
    env.update(PYTHONPATH=os.pathsep.join([str(lib), str(site)]), COLUMNS="200", CROSSLANE_HOME=str(root / "home"))
    return env


def _python(env: dict[str, str], code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _crosslane(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.argv = ['crosslane', *{list(args)!r}]; from crosslane.cli.main import main; main()"
    return _python(env, code, cwd)


def test_crosslane_runs_without_the_devnet(without_devnet: dict[str, str], tmp_path: Path) -> None:
    where = _python(without_devnet, "import crosslane, importlib.util as u; print(crosslane.__file__)", tmp_path)
    assert where.returncode == 0, where.stderr
    assert not where.stdout.startswith(str(REPO_ROOT)), where.stdout  # the wheel's copy, not the checkout
    absent = _python(without_devnet, "import devnet", tmp_path)
    assert absent.returncode != 0 and "No module named 'devnet'" in absent.stderr

    shown = _crosslane(without_devnet, "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    for command in ("tx", "registry", "bridge", "cex", "worker"):
        assert f" {command} " in shown.stdout, shown.stdout
    assert "Not installed" in shown.stdout
    assert "warning" not in shown.stderr, shown.stderr
    schema = _crosslane(without_devnet, "registry", "schema", cwd=tmp_path)
    assert schema.returncode == 0 and '"chains"' in schema.stdout, schema.stderr


@pytest.mark.parametrize("args", [("dev", "up"), ("dev", "--help"), ("demo",), ("devnet", "down")])
def test_devnet_commands_say_how_to_get_the_devnet(
    without_devnet: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    proc = _crosslane(without_devnet, *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    assert f"crosslane {args[0]}" in message and "dev-only" in message, message
    assert "pip install -e ./devnet" in message, message
    assert not Path(without_devnet["CROSSLANE_HOME"]).exists()  # nothing started, nothing written


def test_a_broken_plugin_is_reported_and_the_product_still_runs(without_devnet: dict[str, str], tmp_path: Path) -> None:
    dist = tmp_path / "plugins" / "broken_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[crosslane.cli_plugins]\nbroken = no_such_module:register\n")
    env = {**without_devnet, "PYTHONPATH": os.pathsep.join([without_devnet["PYTHONPATH"], str(dist.parent)])}
    shown = _crosslane(env, "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    warning = " ".join(shown.stderr.split())
    assert "CLI plugin broken (no_such_module:register) not loaded" in warning, shown.stderr
    assert " tx " in shown.stdout
