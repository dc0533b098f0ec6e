"""Reading, writing and describing registry files; errors name the file, the path in it, and what is wrong."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from crosslane.atomic import write_text_atomic
from crosslane.config import Settings
from crosslane.errors import CrosslaneError
from crosslane.registry.checks import Problem, problems, secret_fields
from crosslane.registry.model import Registry

_FAMILIES = {"evm", "solana"}


class RegistryError(CrosslaneError):
    """A registry file that does not validate: one ``file: path: message`` line per problem."""

    def __init__(self, source: str, found: Sequence[Problem]) -> None:
        self.lines = [f"{source}: {path}: {message}" if path else f"{source}: {message}" for path, message in found]
        super().__init__("\n".join(self.lines))


def _path(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    if len(parts) > 2 and parts[0] == "chains" and parts[2] in _FAMILIES:
        del parts[2]  # the discriminator's tag is not in the file
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    return [(_path(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]


def parse_registry(text: str, source: str) -> Registry:
    """A registry from the file's text; RegistryError naming ``source`` otherwise."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:  # its problem and place only: never the line's text
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise RegistryError(source, [("", f"not YAML: {where}{exc.problem}")]) from None
    except yaml.YAMLError:
        raise RegistryError(source, [("", "not YAML")]) from None
    if not isinstance(raw, dict):
        raise RegistryError(source, [("", "expected a mapping with version, chains, assets, venues, bridges")])
    leaked = list(secret_fields(raw))
    if leaked:
        raise RegistryError(source, leaked)
    try:
        registry = Registry.model_validate(raw)
    except ValidationError as exc:
        raise RegistryError(source, _pydantic_problems(exc)) from None
    found = problems(registry)
    if found:
        raise RegistryError(source, found)
    return registry


class RegistryMissing(RegistryError):
    """No registry file where the settings point: says where it looked, why there, and how to get one."""

    def __init__(self, cfg: Settings) -> None:
        path = cfg.registry_path
        if cfg.registry_override:
            how = "check the path, or unset CROSSLANE_REGISTRY to read the one `crosslane dev up` writes in the home"
        else:
            how = (
                "`crosslane dev up` starts the devnet and writes its registry there; "
                "for other networks set CROSSLANE_REGISTRY to your file (example: registries/mainnet.example.yaml)"
            )
        super().__init__(str(path), [("", f"no registry file here ({cfg.registry_why}): {how}")])


def configured_registry(cfg: Settings) -> Registry:
    """The registry file the settings name (``CROSSLANE_REGISTRY``, else the home's);
    RegistryMissing if there is none, RegistryError if it does not validate."""
    if not cfg.registry_path.is_file():
        raise RegistryMissing(cfg)
    return load_registry(cfg.registry_path)


def load_registry(path: Path) -> Registry:
    try:
        text = path.read_text()
    except OSError as exc:
        raise RegistryError(str(path), [("", f"cannot read: {exc.strerror}")]) from None
    return parse_registry(text, str(path))


def dump_registry(registry: Registry) -> str:
    header = "# Crosslane registry (schema: crosslane/registry/registry.schema.json)\n"
    return header + yaml.safe_dump(registry.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def write_registry(registry: Registry, path: Path) -> None:
    """Atomic replace, so readers never see a half-written file."""
    write_text_atomic(path, dump_registry(registry))


def registry_schema() -> str:
    """The JSON schema editors use for registry files (committed as registry.schema.json)."""
    schema = Registry.model_json_schema()
    schema["title"] = "Crosslane registry"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


SCHEMA_PATH = Path(__file__).with_name("registry.schema.json")
