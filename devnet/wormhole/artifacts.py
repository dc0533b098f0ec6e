"""Wormhole core and token-bridge artifacts, extracted from the pinned npm tarball.

``@certusone/wormhole-sdk`` would pull 18 heavy packages as a dependency, so it is not one:
``artifacts.lock.json`` pins name, version and tarball integrity, and :func:`build` runs
``npm pack`` for exactly that version into ``node_modules/.cache/crosslane-wormhole``,
checks the integrity (sha512, as npm records it), and reads ``const _abi = [...]`` and
``const _bytecode = "0x..."`` out of the typechain ``*__factory.js`` files into one JSON
file there. Nothing is committed; a second build is a cache hit.

Run ``python -m devnet.wormhole.artifacts`` to build ahead of time (tests build on demand).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from devnet.anvil import DevnetError, node_modules_dir
from devnet.node import node_runtime

LOCK_FILE = Path(__file__).with_name("artifacts.lock.json")
_LINK_PLACEHOLDER = re.compile(r"__\$[0-9a-fA-F]{34}\$__")


def lock() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LOCK_FILE.read_text())
    return data


def cache_dir() -> Path:
    return node_modules_dir() / ".cache" / "crosslane-wormhole"


def _tarball_name(pin: dict[str, Any]) -> str:
    # npm pack's naming: scope without "@", "/" -> "-".
    return f"{pin['package'].lstrip('@').replace('/', '-')}-{pin['version']}.tgz"


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch_tarball(pin: dict[str, Any] | None = None) -> Path:
    """``npm pack`` the pinned version into the cache (unless present), verified by integrity."""
    pin = pin or lock()
    out = cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    tarball = out / _tarball_name(pin)
    if not tarball.exists():
        spec = f"{pin['package']}@{pin['version']}"
        node = node_runtime()
        proc = subprocess.run(
            node.command("npm", "pack", spec, "--pack-destination", str(out), "--silent"),
            env=node.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0 or not tarball.exists():
            raise DevnetError(f"npm pack {spec} failed: {proc.stderr.strip()[-1000:]}")
    got = _integrity(tarball)
    if got != pin["integrity"]:
        tarball.unlink(missing_ok=True)
        raise DevnetError(f"{tarball.name}: integrity {got} != pinned {pin['integrity']}; removed it")
    return tarball


def _js_literal_to_json(js: str) -> Any:
    """Typechain's pretty-printed ABI literal (unquoted keys, trailing commas) as JSON."""
    quoted = re.sub(r"^(\s*)([A-Za-z_$][\w$]*):", r'\1"\2":', js, flags=re.MULTILINE)
    no_trailing = re.sub(r",(\s*[\]}])", r"\1", quoted)
    return json.loads(no_trailing)


def extract_factory(source: str, name: str) -> dict[str, Any]:
    abi_match = re.search(r"^const _abi = (\[.*?^\]);", source, flags=re.MULTILINE | re.DOTALL)
    code_match = re.search(r'^const _bytecode = "(0x[0-9a-fA-F$_]*)";', source, flags=re.MULTILINE)
    if not abi_match or not code_match:
        raise DevnetError(f"{name}__factory.js: _abi or _bytecode not found")
    bytecode = code_match.group(1)
    links = sorted(set(_LINK_PLACEHOLDER.findall(bytecode)))
    return {"abi": _js_literal_to_json(abi_match.group(1)), "bytecode": bytecode, "linkPlaceholders": links}


def artifacts_path(pin: dict[str, Any] | None = None) -> Path:
    pin = pin or lock()
    return cache_dir() / f"artifacts-{pin['version']}-{hashlib.sha256(pin['integrity'].encode()).hexdigest()[:12]}.json"


def build(force: bool = False) -> Path:
    """Fetch (if needed) and extract every pinned contract; the JSON file's path."""
    pin = lock()
    target = artifacts_path(pin)
    if target.exists() and not force:
        return target
    tarball = fetch_tarball(pin)
    result: dict[str, Any] = {"package": pin["package"], "version": pin["version"], "contracts": {}}
    with tarfile.open(tarball, "r:gz") as tar:
        for name in pin["contracts"]:
            member = f"{pin['factories']}/{name}__factory.js"
            fh = tar.extractfile(member)
            if fh is None:
                raise DevnetError(f"{tarball.name} has no {member}")
            result["contracts"][name] = extract_factory(fh.read().decode(), name)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(target)
    return target


@functools.cache
def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(build().read_text())["contracts"]
    return data


def abi(name: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = _load()[name]["abi"]
    return result


def creation_code(name: str, libraries: dict[str, str] | None = None) -> bytes:
    """Creation code; any ``__$<34 hex>$__`` placeholder must be given in ``libraries``.

    (The pinned 0.10.18 contracts link no libraries, but refuse silently-broken code if a
    future pin does.)
    """
    entry = _load()[name]
    code: str = entry["bytecode"]
    for placeholder in entry["linkPlaceholders"]:
        address = (libraries or {}).get(placeholder)
        if address is None:
            raise DevnetError(f"{name} needs library {placeholder} linked")
        code = code.replace(placeholder, address.removeprefix("0x").lower())
    return bytes.fromhex(code.removeprefix("0x"))


if __name__ == "__main__":
    path = build(force=True)
    data = json.loads(path.read_text())
    for cname, entry in data["contracts"].items():
        print(
            f"{cname}: abi {len(entry['abi'])} entries, code {len(entry['bytecode']) // 2 - 1} bytes, "
            f"links {entry['linkPlaceholders']}"
        )
    print(path)
