"""Names that cross the boundary (chains, assets, symbols, DEX deployments): short, ASCII.

Bounded so that no request can carry a value Temporal refuses as a search attribute
(2 KB per keyword) or that floods a log line; ASCII because every name Crosslane knows
is, and a look-alike letter (a Cyrillic ``В`` in ``ВTC/USDT``) would otherwise be
refused as "unknown" by a message that reads exactly like the valid name.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

MAX_NAME_LENGTH = 64


def non_ascii(value: str) -> str | None:
    """Where ``value`` stops being ASCII, for a message: ``position 0: 'В' U+0412 CYRILLIC
    CAPITAL LETTER VE``; None if it is all ASCII."""
    for position, char in enumerate(value):
        if not char.isascii():
            name = unicodedata.name(char, "")
            return f"position {position}: {char!r} U+{ord(char):04X}" + (f" {name}" if name else "")
    return None


def unknown_name_hint(value: str) -> str:
    """A suffix for an "unknown name" message: says when ``value`` has non-ASCII characters."""
    where = non_ascii(value)
    return f" ({value!r} contains non-ASCII characters, {where})" if where else ""


def check_name(value: str) -> str:
    """``value`` if it is a non-empty ASCII name of at most MAX_NAME_LENGTH characters."""
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"is {len(value)} characters long; names have at most {MAX_NAME_LENGTH}")
    where = non_ascii(value)
    if where:
        raise ValueError(f"{value!r} contains non-ASCII characters ({where})")
    return value


Name = Annotated[str, AfterValidator(check_name)]
