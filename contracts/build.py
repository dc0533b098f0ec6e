"""Compile our Solidity sources with the npm ``solc`` (solcjs) and write artifacts.

Why solcjs through node: it compiles offline (py-solc-x would download a compiler), and the
npm lockfile pins its version. Settings are fixed here so a recompile is byte-identical,
which lets a test prove the committed artifacts match the sources.

Usage: ``.venv/bin/python -m contracts.build`` or ``python contracts/build.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from devnet.node import node_runtime

CONTRACTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = CONTRACTS_DIR.parent
NODE_MODULES = REPO_ROOT / "node_modules"
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"

# Pinned so artifacts are reproducible. cancun: every devnet/L2 target supports it.
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


class CompileError(RuntimeError):
    """solc reported at least one error."""


def _solc_dir() -> Path:
    path = NODE_MODULES / "solc"
    if not (path / "package.json").exists():
        raise CompileError(f"npm solc not found at {path}; run `npm ci` in {REPO_ROOT}")
    return path


def solc_version() -> str:
    node = node_runtime()
    out = subprocess.run(
        node.command("node", "-e", "process.stdout.write(require(process.argv[1]).version())", str(_solc_dir())),
        env=node.env(),
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    return out.stdout.strip()


# solc.js's CLI prints an SMT notice on stdout in --standard-json mode, so call the library
# directly; the import callback resolves `@openzeppelin/...` under node_modules and
# repo-relative units under the repo root, and nothing else.
_NODE_COMPILE = r"""
const fs = require('fs'), path = require('path');
const [root, nodeModules] = process.argv.slice(1);
const solc = require(path.join(nodeModules, 'solc'));
function findImports(unit) {
  for (const base of [root, nodeModules]) {
    const p = path.resolve(base, unit);
    if (p.startsWith(base + path.sep) && fs.existsSync(p)) {
      return { contents: fs.readFileSync(p, 'utf8') };
    }
  }
  return { error: 'File not found: ' + unit };
}
const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
"""


def _sources() -> dict[str, dict[str, str]]:
    # Source unit names are repo-relative so the metadata hash is path-independent.
    return {f"contracts/{p.name}": {"content": p.read_text()} for p in sorted(CONTRACTS_DIR.glob("*.sol"))}


def compile_sources() -> dict[str, dict[str, Any]]:
    """Compile contracts/*.sol; return {contract name: artifact} without writing files."""
    _solc_dir()
    sources = _sources()
    std_input = {"language": "Solidity", "sources": sources, "settings": SETTINGS}
    node = node_runtime()
    proc = subprocess.run(
        node.command("node", "-e", _NODE_COMPILE, str(REPO_ROOT), str(NODE_MODULES)),
        env=node.env(),
        check=False,
        input=json.dumps(std_input),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    if proc.returncode != 0:
        raise CompileError(f"solcjs failed ({proc.returncode}): {proc.stderr.strip()}")
    output = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    for diag in output.get("errors", []):
        if diag.get("severity") != "error":
            print(diag.get("formattedMessage", diag.get("message")), file=sys.stderr)
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))

    version = solc_version()
    artifacts: dict[str, dict[str, Any]] = {}
    for unit in sources:
        for name, out in output["contracts"].get(unit, {}).items():
            artifacts[name] = {
                "contractName": name,
                "sourceName": unit,
                "compiler": {"version": version, "settings": SETTINGS},
                "abi": out["abi"],
                "bytecode": "0x" + out["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            }
    return artifacts


def artifact_text(artifact: dict[str, Any]) -> str:
    """Canonical serialisation, so rebuilding an unchanged source leaves git clean."""
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def load_artifact(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
    return data


def main() -> int:
    artifacts = compile_sources()
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for name, artifact in artifacts.items():
        path = ARTIFACTS_DIR / f"{name}.json"
        path.write_text(artifact_text(artifact))
        print(f"wrote {path.relative_to(REPO_ROOT)} ({len(artifact['bytecode']) // 2 - 1} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
