"""The Across SpokePool artifacts, fetched as one pinned npm tarball (not as a dependency).

``@across-protocol/contracts`` pulls a heavy tree (Solana SDKs, ethers...) for the sake of
two JSON files. ``npm pack`` fetches exactly the version and integrity pinned in
``artifacts.lock.json`` (through npm's own cache and registry settings), and the artifacts
we deploy are extracted into ``node_modules/.cache/crosslane-across/`` (not committed).

    python -m devnet.across.artifacts        # build (idempotent), prints the cache dir
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from devnet.anvil import DevnetError, node_modules_dir
from devnet.node import node_runtime

LOCK_FILE = Path(__file__).with_name("artifacts.lock.json")


def lock() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LOCK_FILE.read_text())
    return data


def cache_dir() -> Path:
    return node_modules_dir() / ".cache" / "crosslane-across"


def _artifact_dir() -> Path:
    pinned = lock()
    return cache_dir() / f"artifacts-{pinned['version']}"


def integrity_of(data: bytes) -> str:
    """npm's Subresource-Integrity string (sha512, base64) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def build(force: bool = False) -> Path:
    """Fetch the pinned tarball, check its integrity, extract the artifacts; returns their dir."""
    pinned = lock()
    out = _artifact_dir()
    if not force and all((out / f"{name}.json").exists() for name in pinned["artifacts"]):
        return out
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    spec = f"{pinned['name']}@{pinned['version']}"
    try:
        node = node_runtime()
        proc = subprocess.run(
            node.command("npm", "pack", spec, "--json", "--pack-destination", str(cache)),
            env=node.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DevnetError(f"npm pack {spec} failed: {exc}") from exc
    if proc.returncode != 0:
        raise DevnetError(f"npm pack {spec} failed:\n{proc.stderr[-2000:]}")
    filename = json.loads(proc.stdout)[0]["filename"]
    tarball = cache / filename
    got = integrity_of(tarball.read_bytes())
    if got != pinned["integrity"]:
        tarball.unlink(missing_ok=True)
        raise DevnetError(f"{spec}: tarball integrity {got} != pinned {pinned['integrity']}")
    with tempfile.TemporaryDirectory(dir=cache) as tmp, tarfile.open(tarball, "r:gz") as tar:
        staged = Path(tmp)
        for name, member in pinned["artifacts"].items():
            fh = tar.extractfile(member)
            if fh is None:
                raise DevnetError(f"{spec} has no {member}")
            data = json.loads(fh.read())
            if data.get("linkReferences"):
                raise DevnetError(f"{name} needs linked libraries {sorted(data['linkReferences'])}: not handled")
            (staged / f"{name}.json").write_text(json.dumps({"abi": data["abi"], "bytecode": data["bytecode"]}))
        out.mkdir(parents=True, exist_ok=True)
        for path in staged.iterdir():
            path.replace(out / path.name)
    return out


@functools.cache
def artifact(name: str) -> dict[str, Any]:
    """``{"abi": [...], "bytecode": "0x..."}`` of a pinned artifact (building the cache if needed)."""
    if name not in lock()["artifacts"]:
        raise DevnetError(f"{name} is not among the pinned Across artifacts")
    data: dict[str, Any] = json.loads((build() / f"{name}.json").read_text())
    return data


def abi(name: str = "Ethereum_SpokePool") -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = artifact(name)["abi"]
    return result


if __name__ == "__main__":
    print(build(force="--force" in sys.argv[1:]))
