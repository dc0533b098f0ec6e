"""Compile our Solidity sources with the npm ``solc`` (solcjs) and write artifacts.

Why solcjs through node: it compiles offline (py-solc-x would download a compiler), and the
npm lockfile pins its version. Settings are fixed here so a recompile is byte-identical,
which lets a test prove the committed artifacts match the sources.

Usage: ``.venv/bin/python -m contracts.build`` or ``python contracts/build.py``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Build:
    """One solc run: which npm solc, which source units, which settings, which contracts kept.

    Our own sources use the project's solc; SushiSwap's MasterChef (its npm package ships
    sources and ABIs, no bytecode) is compiled from ``node_modules`` with the 0.6.12 it was
    written for, its OpenZeppelin 3.x imports remapped to the pinned 3.x package.
    """

    solc_package: str
    settings: dict[str, Any]
    units: tuple[str, ...] = ()  # repo-relative or node_modules-relative; empty: contracts/*.sol
    keep: frozenset[str] | None = None  # contract names to write; None: every one in ``units``

    def sources(self) -> dict[str, dict[str, str]]:
        if not self.units:
            # Source unit names are repo-relative so the metadata hash is path-independent.
            return {f"contracts/{p.name}": {"content": p.read_text()} for p in sorted(CONTRACTS_DIR.glob("*.sol"))}
        return {unit: {"content": (NODE_MODULES / unit).read_text()} for unit in self.units}


_OUTPUTS = {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}
LOCAL = Build("solc", SETTINGS)
SUSHISWAP = Build(
    "solc-0.6.12",
    {
        "optimizer": {"enabled": True, "runs": 200},
        "evmVersion": "istanbul",  # 0.6.12's newest; what MasterChef was built for
        "remappings": ["@openzeppelin/contracts/=openzeppelin-contracts-3/"],
        "outputSelection": _OUTPUTS,
    },
    units=("@sushiswap/core/contracts/MasterChef.sol", "@sushiswap/core/contracts/SushiToken.sol"),
    keep=frozenset({"MasterChef", "SushiToken"}),
)
BUILDS: tuple[Build, ...] = (LOCAL, SUSHISWAP)


def _solc_dir(package: str = "solc") -> Path:
    path = NODE_MODULES / package
    if not (path / "package.json").exists():
        raise CompileError(f"npm {package} not found at {path}; run `npm ci` in {REPO_ROOT}")
    return path


def solc_version(package: str = "solc") -> str:
    node = node_runtime()
    out = subprocess.run(
        node.command("node", "-e", "process.stdout.write(require(process.argv[1]).version())", str(_solc_dir(package))),
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
const [root, nodeModules, solcDir] = process.argv.slice(1);
const solc = require(solcDir);
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


def _source_hash(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


def compile_build(build: Build) -> dict[str, dict[str, Any]]:
    """Run one build; {contract name: artifact} without writing files."""
    solc_dir = _solc_dir(build.solc_package)
    sources = build.sources()
    std_input = {"language": "Solidity", "sources": sources, "settings": build.settings}
    node = node_runtime()
    proc = subprocess.run(
        node.command("node", "-e", _NODE_COMPILE, str(REPO_ROOT), str(NODE_MODULES), str(solc_dir)),
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
        if diag.get("severity") != "error" and build is LOCAL:
            print(diag.get("formattedMessage", diag.get("message")), file=sys.stderr)
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))

    version = solc_version(build.solc_package)
    artifacts: dict[str, dict[str, Any]] = {}
    for unit, source in sources.items():
        for name, out in output["contracts"].get(unit, {}).items():
            if build.keep is not None and name not in build.keep:
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceName": unit,
                "sourceHash": _source_hash(source["content"]),
                "compiler": {"version": version, "settings": build.settings},
                "abi": out["abi"],
                "bytecode": "0x" + out["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            }
    return artifacts


def compile_sources() -> dict[str, dict[str, Any]]:
    """Every build; {contract name: artifact} without writing files."""
    artifacts: dict[str, dict[str, Any]] = {}
    for build in BUILDS:
        artifacts.update(compile_build(build))
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
