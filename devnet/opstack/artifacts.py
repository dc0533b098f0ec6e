"""Forge artifacts of ``@eth-optimism/contracts-bedrock`` (an npm dependency, pinned in
package-lock.json): ABI, creation code and runtime code of the contracts the devnet deploys."""

from __future__ import annotations

import functools
import json
from typing import Any

from devnet.anvil import DevnetError, node_modules_dir

PACKAGE = "@eth-optimism/contracts-bedrock"


def _path(name: str) -> Any:
    return node_modules_dir() / PACKAGE / "forge-artifacts" / f"{name}.sol" / f"{name}.json"


@functools.cache
def artifact(name: str) -> dict[str, Any]:
    """``{"abi", "bytecode", "deployedBytecode"}`` (0x-hex) of contract ``name``."""
    path = _path(name)
    if not path.exists():
        raise DevnetError(f"{path} missing: run scripts/setup (npm ci installs {PACKAGE})")
    data = json.loads(path.read_text())
    if data["bytecode"].get("linkReferences"):
        raise DevnetError(f"{name} needs linked libraries: not handled")
    return {
        "abi": data["abi"],
        "bytecode": data["bytecode"]["object"],
        "deployedBytecode": data["deployedBytecode"]["object"],
        "immutables": bool(data["deployedBytecode"].get("immutableReferences")),
    }


def abi(name: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = artifact(name)["abi"]
    return result
