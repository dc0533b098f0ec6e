"""The registry: one typed, versioned file describing the chains, assets, venues and bridges."""

from crosslane.registry.files import (
    SCHEMA_PATH,
    RegistryError,
    RegistryMissing,
    configured_registry,
    dump_registry,
    load_registry,
    parse_registry,
    registry_schema,
    write_registry,
)
from crosslane.registry.model import REGISTRY_VERSION, Registry

__all__ = [
    "REGISTRY_VERSION",
    "SCHEMA_PATH",
    "Registry",
    "RegistryError",
    "RegistryMissing",
    "configured_registry",
    "dump_registry",
    "load_registry",
    "parse_registry",
    "registry_schema",
    "write_registry",
]
