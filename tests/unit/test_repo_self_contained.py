"""A clone runs on its own: no file of the project reaches a path outside the repository.

A user's clone has nothing beside it, so a test or script that reads ``../something`` passes
here and fails there. The check reads every Python file, every script under ``scripts/`` and
``.ci/``, and the project's config files, and fails on:

- a path built from ``Path(__file__)`` (``.parent``, ``.parents[N]``, ``/ "..."``,
  ``.with_name``) or from the repo root (``REPO_ROOT.parent``...) that resolves outside the
  repository;
- a string with ``..`` path steps that, taken from the file's folder or from the repo root
  (where scripts ``cd`` to and tests run), leaves the repository;
- in a shell script, ``$(dirname "$0")/...`` resolving outside the repository;
- any mention of the reference folder beside the repo that the project must never read.

The last tests feed the checker the kinds of lines it exists to catch, so it cannot pass by
finding nothing.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parents[2]
THIS_FILE = Path(__file__).resolve()
# Names the project binds to the repository root (``from devnet.anvil import REPO_ROOT``).
ROOT_NAMES = frozenset({"REPO_ROOT"})
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".crosslane"})
CONFIG_SUFFIXES = frozenset({".toml", ".json", ".yml", ".yaml", ".cfg", ".ini", ".md"})
CONFIG_NAMES = frozenset({".importlinter"})
# The folder of reference material beside the checkout (built up so this file is not a hit).
FORBIDDEN = ("shared" + "/fixtures", "../" + "shared")
# A path with a ``..`` step: "..", "../x", "a/../../x" (not an ellipsis in prose).
_PATH_STRING = re.compile(r"(?:[\w.\-]+/)*\.\.(?:/[\w.\-]*)*")
_SHELL_DOTDOT = re.compile(r"(?<![\w./$}\-])((?:[\w.\-]+/)*\.\.(?:/[\w.\-]*)*)(?![\w.])")
_SHELL_DIRNAME = re.compile(r"""\$\(dirname\s+"?\$(?:0|\{BASH_SOURCE\[0\]\})"?\)/?([\w./\-]*)""")


def _inside(path: PurePosixPath, root: PurePosixPath) -> bool:
    return path == root or root in path.parents


def _normal(path: PurePosixPath) -> PurePosixPath:
    """``..`` steps applied lexically (the files need not exist)."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if len(parts) > 1:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts)


def _join(base: PurePosixPath, rel: str) -> PurePosixPath:
    return _normal(base / rel)


class _PathEvaluator(ast.NodeVisitor):
    """Evaluates path expressions anchored at ``__file__`` or the repo root, lexically."""

    def __init__(self, file: Path, root: PurePosixPath) -> None:
        self.file = PurePosixPath(file)
        self.root = root
        self.names: dict[str, PurePosixPath] = {name: root for name in ROOT_NAMES}
        self.escapes: list[str] = []

    def value(self, node: ast.expr) -> PurePosixPath | None:  # noqa: PLR0911 - one case per path operation
        if isinstance(node, ast.Name):
            return self.file if node.id == "__file__" else self.names.get(node.id)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in {"Path", "PurePath", "PurePosixPath"} and node.args:
                return self.value(node.args[0])
            if isinstance(func, ast.Attribute):
                if func.attr == "dirname" and node.args:  # os.path.dirname(...)
                    inner = self.value(node.args[0])
                    return inner.parent if inner is not None else None
                base = self.value(func.value)
                if base is None:
                    return None
                if func.attr in {"resolve", "absolute", "expanduser"}:
                    return base
                if func.attr in {"with_name", "joinpath"} and node.args:
                    text = _constant(node.args[0])
                    if text is None:
                        return None
                    return _join(base.parent if func.attr == "with_name" else base, text)
            return None
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            base = self.value(node.value)
            return base.parent if base is not None else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
            base = self.value(node.value.value)
            index = _constant_int(node.slice)
            if base is None or index is None:
                return None
            path = base
            for _ in range(index + 1):
                path = path.parent
            return path
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            base = self.value(node.left)
            text = _constant(node.right)
            if base is None or text is None:
                return None
            return _join(base, text)
        return None

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            path = self.value(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name) and path is not None:
                    self.names[target.id] = path
        elif isinstance(node, ast.expr) and not isinstance(node, ast.Name):  # a name: flagged where bound
            path = self.value(node)
            if path is not None and not _inside(path, self.root):
                # The outermost escaping expression only, not each of its sub-paths.
                self.escapes.append(f"line {node.lineno}: {ast.unparse(node)} -> {path}")
                return
        super().generic_visit(node)


def _constant(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _constant_int(node: ast.expr) -> int | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, int) else None


def _relative_escape(rel: str, base: PurePosixPath, root: PurePosixPath) -> str | None:
    """Where ``rel`` leads from ``base`` if that is outside ``root`` (absolute paths are not ours to judge)."""
    if rel.startswith("/"):
        return None
    target = _join(base, rel)
    return None if _inside(target, root) else f"{rel!r} from {base} -> {target}"


def _path_operands(tree: ast.AST) -> set[int]:
    """Strings the evaluator joins onto an anchored path (``base / "..."``, ``with_name("...")``)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            out.add(id(node.right))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"with_name", "joinpath"}
        ):
            out.update(id(arg) for arg in node.args)
    return out


def python_escapes(source: str, file: Path, root: Path = REPO_ROOT) -> list[str]:
    """Where ``source`` (the text of ``file``) builds or names a path outside ``root``."""
    root_path = PurePosixPath(root)
    evaluator = _PathEvaluator(file, root_path)
    tree = ast.parse(source)
    evaluator.visit(tree)
    out = list(evaluator.escapes)
    joined = _path_operands(tree)
    for node in ast.walk(tree):
        text = _constant(node) if isinstance(node, ast.expr) else None
        if text is None or id(node) in joined or not _PATH_STRING.fullmatch(text):
            continue
        # A bare relative path opens from the working directory: the repo root, where tests run.
        escape = _relative_escape(text, root_path, root_path)
        if escape is not None:
            out.append(f"line {node.lineno}: {escape}")
    return out


def shell_escapes(source: str, file: Path, root: Path = REPO_ROOT) -> list[str]:
    """Where a script resolves a path outside ``root``: ``$(dirname "$0")/..`` or a relative ``..``."""
    root_path = PurePosixPath(root)
    here = PurePosixPath(file).parent
    out = []
    for lineno, line in enumerate(source.splitlines(), 1):
        for match in _SHELL_DIRNAME.finditer(line):
            target = _join(here, match.group(1) or ".")
            if not _inside(target, root_path):
                out.append(f"line {lineno}: {match.group(0)} -> {target}")
        # Scripts cd to the repo root first, so other relative paths start there.
        for match in _SHELL_DOTDOT.finditer(_SHELL_DIRNAME.sub("", line)):
            escape = _relative_escape(match.group(1), root_path, root_path)
            if escape is not None:
                out.append(f"line {lineno}: {escape}")
    return out


def forbidden_mentions(source: str) -> list[str]:
    return [
        f"line {lineno}: {needle!r}"
        for lineno, line in enumerate(source.splitlines(), 1)
        for needle in FORBIDDEN
        if needle in line
    ]


def _is_shell(path: Path, root: Path) -> bool:
    top = path.relative_to(root).parts[0]
    if top in {"scripts", ".ci"} and path.suffix in {"", ".sh"}:
        return True
    return path.suffix == ".sh"


def project_files(root: Path = REPO_ROOT) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix == ".py" or path.suffix in CONFIG_SUFFIXES or name in CONFIG_NAMES or _is_shell(path, root):
                yield path


def test_no_project_file_reaches_outside_the_repository() -> None:
    problems: list[str] = []
    checked = 0
    for path in project_files():
        if path == THIS_FILE or "histories" in path.parts:  # recorded histories are data, not paths
            continue
        source = path.read_text(encoding="utf-8")
        found = forbidden_mentions(source)
        if path.suffix == ".py":
            found += python_escapes(source, path)
        elif _is_shell(path, REPO_ROOT):
            found += shell_escapes(source, path)
        problems += [f"{path.relative_to(REPO_ROOT)} {p}" for p in found]
        checked += 1
    assert checked > 100, f"only {checked} files checked: the walk lost the project"
    assert not problems, "paths outside the repository:\n" + "\n".join(problems)


def test_the_walk_covers_tests_scripts_and_ci() -> None:
    seen = {path.relative_to(REPO_ROOT).as_posix() for path in project_files()}
    assert {"scripts/setup", "scripts/test", ".ci/run", "tests/conftest.py", "pyproject.toml"} <= seen


def test_checker_catches_python_escapes() -> None:
    test_file = REPO_ROOT / "tests" / "integration" / "test_x.py"
    sibling_folder = 'FIXTURES = REPO_ROOT.parent / "elsewhere" / "fixtures" / "binance.json"\n'
    assert python_escapes(sibling_folder, test_file)
    assert python_escapes("x = Path(__file__).resolve().parent.parent.parent.parent\n", test_file)
    assert python_escapes("x = Path(__file__).parents[3] / 'data'\n", test_file)
    assert python_escapes("HERE = Path(__file__).parent\nx = HERE / '../../../elsewhere'\n", test_file)
    assert python_escapes("x = open('../outside.json')\n", test_file)
    four_up = "os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))"
    assert python_escapes(f"x = {four_up}\n", test_file)
    assert forbidden_mentions("p = '/work/" + FORBIDDEN[0] + "/x.json'\n")


def test_checker_accepts_paths_inside() -> None:
    test_file = REPO_ROOT / "tests" / "integration" / "test_x.py"
    fine = (
        "A = Path(__file__).resolve().parents[2]\n"
        "B = Path(__file__).parent.parent / 'fixtures' / 'x.json'\n"
        "C = REPO_ROOT / 'tests' / 'fixtures'\n"
        "D = Path(__file__).with_name('lock.json')\n"
        "E = Path(__file__).parent / '../fixtures/x.json'\n"
        "G = open('tests/../pyproject.toml')\n"
        "F = 'a..b'\n"
    )
    assert python_escapes(fine, test_file) == []


def test_checker_catches_shell_escapes() -> None:
    script = REPO_ROOT / "scripts" / "test"
    assert shell_escapes('cd "$(dirname "$0")/../.."\n', script)
    assert shell_escapes("cat ../elsewhere/file.json\n", script)
    assert shell_escapes('cd "$(dirname "$0")/.."\nls scripts/../tests\n', script) == []
