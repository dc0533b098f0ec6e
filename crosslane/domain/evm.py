"""Validated EVM scalars used at every boundary."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any

from eth_utils import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, BeforeValidator

from crosslane.money import UINT256_MAX

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX_DATA = re.compile(r"^0x([0-9a-fA-F]{2})*$")
_TX_HASH = re.compile(r"^0x[0-9a-f]{64}$")
_INT_STRING = re.compile(r"^-?[0-9]+$")

# EIP-55 costs a keccak per address; the same few addresses (tokens, pools, routers, signers)
# are checksummed on every quote, plan and model validation, so both answers are remembered.
checksum_address = lru_cache(maxsize=8192)(to_checksum_address)
_is_checksummed = lru_cache(maxsize=8192)(is_checksum_address)


def _checksummed(value: str) -> str:
    if not isinstance(value, str) or not _HEX_ADDRESS.match(value):
        raise ValueError(f"{value!r} is not a 0x-prefixed 20-byte hex address")
    if not _is_checksummed(value):
        raise ValueError(f"{value} fails the EIP-55 checksum (did you mean {to_checksum_address(value)}?)")
    return value


def _uint(value: Any) -> int:
    """Integers, or decimal strings for values beyond JSON-safe range; no floats, no bools."""
    if isinstance(value, bool | float):
        raise ValueError(f"{value!r} must be an integer number of base units (wei), not {type(value).__name__}")
    if isinstance(value, str):
        if not _INT_STRING.match(value):
            raise ValueError(f"{value!r} must be an integer number of base units (wei)")
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"{value!r} must be an integer number of base units (wei)")
    if value < 0:
        raise ValueError(f"{value} is negative; amounts are non-negative base units (wei)")
    if value > UINT256_MAX:
        raise ValueError(f"{value} exceeds uint256")
    return value


# Nodes refuse larger transactions into their pools (geth's txMaxSize is 128 KiB), and a
# bound keeps a request far from Temporal's payload limits.
MAX_CALLDATA_BYTES = 128 * 1024


def _hex_data(value: str) -> str:
    if isinstance(value, str) and len(value) > 2 + 2 * MAX_CALLDATA_BYTES:
        raise ValueError(f"data is {(len(value) - 2) // 2} bytes, above the {MAX_CALLDATA_BYTES}-byte limit")
    if not isinstance(value, str) or not _HEX_DATA.match(value):
        raise ValueError("data must be 0x-prefixed hex with whole bytes")
    return value.lower()


def _tx_hash(value: str) -> str:
    if not isinstance(value, str) or not _TX_HASH.match(value.lower()):
        raise ValueError(f"{value!r} is not a 32-byte 0x transaction hash")
    return value.lower()


Address = Annotated[str, AfterValidator(_checksummed)]
Wei = Annotated[int, BeforeValidator(_uint)]
HexData = Annotated[str, AfterValidator(_hex_data)]
TxHash = Annotated[str, AfterValidator(_tx_hash)]
