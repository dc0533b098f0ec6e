"""Validated field types shared by the adapters' typed configurations."""

from __future__ import annotations

import re
from typing import Annotated

from eth_utils.address import is_address, to_checksum_address
from pydantic import AfterValidator


def _checksum(value: str) -> str:
    if not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    return to_checksum_address(value)


def _hash32(value: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
        raise ValueError(f"not a 0x-prefixed 32-byte hex hash: {value!r}")
    return value.lower()


Address = Annotated[str, AfterValidator(_checksum)]
Hash32 = Annotated[str, AfterValidator(_hash32)]
