"""TickBitmap: where a tick's initialized bit lives, and the next initialized tick in a word."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.dex.uniswap_v3.math.bit_math import least_significant_bit, most_significant_bit


def compress(tick: int, tick_spacing: int) -> int:
    """tick / tick_spacing rounded towards negative infinity (Solidity truncates, then fixes up)."""
    return tick // tick_spacing


def position(compressed_tick: int) -> tuple[int, int]:
    """(word position int16, bit position uint8) of a compressed tick."""
    return compressed_tick >> 8, compressed_tick % 256


def next_initialized_tick_within_one_word(
    bitmap: Mapping[int, int], tick: int, tick_spacing: int, lte: bool
) -> tuple[int, bool]:
    """The next initialized tick at or left of ``tick`` (``lte``) or right of it, looking no
    further than the current bitmap word; (that tick or the word's edge, found?).

    ``bitmap`` must hold the word this looks at (a missing word raises ``KeyError``, so a
    caller holding a partial bitmap knows it must read more).
    """
    compressed = compress(tick, tick_spacing)
    if lte:
        word_pos, bit_pos = position(compressed)
        mask = (1 << bit_pos) - 1 + (1 << bit_pos)
        masked = bitmap[word_pos] & mask
        if masked:
            return (compressed - (bit_pos - most_significant_bit(masked))) * tick_spacing, True
        return (compressed - bit_pos) * tick_spacing, False
    word_pos, bit_pos = position(compressed + 1)
    mask = ~((1 << bit_pos) - 1) & ((1 << 256) - 1)
    masked = bitmap[word_pos] & mask
    if masked:
        return (compressed + 1 + (least_significant_bit(masked) - bit_pos)) * tick_spacing, True
    return (compressed + 1 + (255 - bit_pos)) * tick_spacing, False
