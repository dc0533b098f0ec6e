"""Read V3 pools' swap state (slot0, liquidity, tick bitmap words, liquidityNet of initialized
ticks) with batched Multicall3 calls, every pool of a request in the same batches.

Phases, each one ``eth_call`` for all pools, pinned to the block of the first:

1. ``slot0``, ``liquidity``, ``tickSpacing`` and the bitmap words around the tick the
   reader last saw for the pool (its *hint*);
2. ``ticks(t)`` of the initialized ticks in those words, plus any words of the window
   around the actual tick that the hint missed;
3. only if phase 2 read new words: their initialized ticks.

A pool read before (the usual case: a quoting loop) costs two round trips; a first read
costs three.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from connectors.dex.base import Pool
from connectors.dex.errors import PoolNotFound, QuoteFailed
from connectors.dex.reads import Read, read_batch
from connectors.dex.uniswap_v3.config import UniswapV3Config
from connectors.dex.uniswap_v3.math.tick_bitmap import compress, position
from connectors.dex.uniswap_v3.math.tick_math import MAX_TICK, MIN_TICK
from connectors.dex.uniswap_v3.swap import PoolSnapshot
from connectors.evm.client import EvmClient

SLOT0_TYPES = ("uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool")
# One tickBitmap read costs ~5k gas inside aggregate3: 1024 stay far below eth_call gas caps.
MAX_WORDS_PER_READ = 1024
TICKS_TYPES = ("uint128", "int128", "uint256", "uint256", "int56", "uint160", "uint32", "bool")


def slot0_read(pool: str) -> Read:
    return Read.of(pool, "slot0()", SLOT0_TYPES)


def _liquidity_read(pool: str) -> Read:
    return Read.of(pool, "liquidity()", ("uint128",))


def _tick_spacing_read(pool: str) -> Read:
    return Read.of(pool, "tickSpacing()", ("int24",))


def _bitmap_read(pool: str, word: int) -> Read:
    return Read.of(pool, "tickBitmap(int16)", ("uint256",), word)


def _ticks_read(pool: str, tick: int) -> Read:
    return Read.of(pool, "ticks(int24)", TICKS_TYPES, tick)


def word_bounds(tick_spacing: int) -> range:
    """Every bitmap word that can hold an initialized tick."""
    return range(position(compress(MIN_TICK, tick_spacing))[0], position(compress(MAX_TICK, tick_spacing))[0] + 1)


def word_window(tick: int, tick_spacing: int, tick_window: int) -> range:
    """Bitmap words covering ``tick ± tick_window`` (clamped to the tick range)."""
    lo = position(compress(max(MIN_TICK, tick - tick_window), tick_spacing))[0]
    hi = position(compress(min(MAX_TICK, tick + tick_window), tick_spacing))[0]
    return range(lo, hi + 1)


def initialized_ticks(word_pos: int, word: int, tick_spacing: int) -> list[int]:
    """The ticks whose bits are set in bitmap word ``word_pos``."""
    ticks = []
    while word:
        bit = (word & -word).bit_length() - 1
        ticks.append((word_pos * 256 + bit) * tick_spacing)
        word &= word - 1
    return ticks


@dataclass
class _Pending:
    """One pool's reads in flight, collected phase by phase."""

    pool: Pool
    sqrt_price_x96: int = 0
    tick: int = 0
    liquidity: int = 0
    bitmap: dict[int, int] = field(default_factory=dict)
    liquidity_net: dict[int, int] = field(default_factory=dict)


class V3StateReader:
    """Reads :class:`PoolSnapshot`s; remembers each pool's last tick to aim the next read."""

    def __init__(self, client: EvmClient, config: UniswapV3Config) -> None:
        self.client = client
        self.config = config
        self._hints: dict[str, int] = {}
        self.round_trips = 0  # for tests and benchmarks: eth_calls made so far

    async def _batch(self, reads: list[Read], block: int | None) -> tuple[int, list[tuple[object, ...] | None]]:
        self.round_trips += 1
        batch = await read_batch(self.client, reads, block=block, multicall_address=self.config.multicall)
        return batch.block_number, batch.results

    async def read(self, pools: list[Pool]) -> list[PoolSnapshot]:
        """Snapshots of ``pools`` at one block. Raises PoolNotFound for a pool without code
        or not initialized, QuoteFailed if a pool's tick spacing contradicts the config."""
        if not pools:
            return []
        snapshots, _, _ = await self.read_with(pools)
        return [s for s in snapshots if s is not None]

    async def read_with(
        self, pools: list[Pool], extra: Sequence[Read] = (), *, missing_ok: bool = False
    ) -> tuple[list[PoolSnapshot | None], list[tuple[object, ...] | None], int]:
        """:meth:`read`, with ``extra`` reads riding in the first batch (their decoded results
        come back second, in order; the block read comes third) and, with ``missing_ok``,
        ``None`` for a pool that has no code or is not initialized instead of PoolNotFound.
        Route finding reads V2 reserves and every candidate V3 pool this way, in the same
        round trips. Pools of any V3 deployment can be read (each carries its tick spacing)."""
        pending = [_Pending(pool) for pool in pools]

        # Phase 1: heads, plus the hinted windows.
        reads: list[Read] = list(extra)
        hinted: list[list[int]] = []
        for p in pending:
            reads += [slot0_read(p.pool.address), _liquidity_read(p.pool.address), _tick_spacing_read(p.pool.address)]
            hint = self._hints.get(p.pool.address)
            words = list(word_window(hint, self._spacing(p.pool), self.config.tick_window)) if hint is not None else []
            reads += [_bitmap_read(p.pool.address, w) for w in words]
            hinted.append(words)
        block, results = await self._batch(reads, None)
        extra_results = results[: len(extra)]
        cursor = len(extra)
        found: list[_Pending] = []
        for p, words in zip(pending, hinted, strict=True):
            head = self._head(p.pool, *results[cursor : cursor + 3], missing_ok=missing_ok)
            if head is None:
                cursor += 3 + len(words)
                continue
            p.sqrt_price_x96, p.tick, p.liquidity = head
            cursor = self._take_words(p, words, results, cursor + 3)
            found.append(p)

        # Phase 2: ticks of the words held, and the window's words the hint missed.
        missing = [
            [w for w in word_window(p.tick, self._spacing(p.pool), self.config.tick_window) if w not in p.bitmap]
            for p in found
        ]
        await self._read_ticks_and_words(found, [list(p.bitmap) for p in found], missing, block)
        # Phase 3: ticks of the words phase 2 added.
        await self._read_ticks_and_words(found, missing, [[] for _ in found], block)

        held = {id(p) for p in found}
        snapshots: list[PoolSnapshot | None] = []
        for p in pending:
            if id(p) not in held:
                snapshots.append(None)
                continue
            self._hints[p.pool.address] = p.tick
            snapshots.append(
                PoolSnapshot(p.pool, p.sqrt_price_x96, p.tick, p.liquidity, p.bitmap, p.liquidity_net, block)
            )
        return snapshots, extra_results, block

    async def extend(self, snapshot: PoolSnapshot, word: int, count: int | None = None) -> PoolSnapshot:
        """The snapshot plus ``count`` bitmap words (default: a window's worth) from ``word``
        outwards, and their initialized ticks: two round trips, at the snapshot's block."""
        spacing = snapshot.tick_spacing
        bounds = word_bounds(spacing)
        if word not in bounds:
            raise QuoteFailed(f"bitmap word {word} is outside the tick range")
        count = min(count or len(word_window(0, spacing, self.config.tick_window)), MAX_WORDS_PER_READ)
        held = list(snapshot.bitmap) or [word]
        span = range(word, word + count) if word > max(held) else range(word - count + 1, word + 1)
        words = [w for w in span if w in bounds and w not in snapshot.bitmap]
        p = _Pending(snapshot.pool, bitmap=dict(snapshot.bitmap), liquidity_net=dict(snapshot.liquidity_net))
        await self._read_ticks_and_words([p], [[]], [words], snapshot.block_number)
        await self._read_ticks_and_words([p], [words], [[]], snapshot.block_number)
        return replace(snapshot, bitmap=p.bitmap, liquidity_net=p.liquidity_net)

    async def _read_ticks_and_words(
        self, pending: list[_Pending], tick_words: list[list[int]], new_words: list[list[int]], block: int
    ) -> None:
        """One batch: liquidityNet of the initialized ticks in ``tick_words`` and the bitmap
        words ``new_words``, per pool; nothing to read, no round trip."""
        reads: list[Read] = []
        plan: list[tuple[list[int], list[int]]] = []
        for p, words_with_ticks, words in zip(pending, tick_words, new_words, strict=True):
            spacing = self._spacing(p.pool)
            ticks = [
                t
                for w in words_with_ticks
                for t in initialized_ticks(w, p.bitmap[w], spacing)
                if t not in p.liquidity_net
            ]
            reads += [_ticks_read(p.pool.address, t) for t in ticks]
            reads += [_bitmap_read(p.pool.address, w) for w in words]
            plan.append((ticks, words))
        if not reads:
            return
        _, results = await self._batch(reads, block)
        cursor = 0
        for p, (ticks, words) in zip(pending, plan, strict=True):
            for t in ticks:
                info = results[cursor]
                cursor += 1
                if info is None or not info[7]:
                    raise QuoteFailed(f"pool {p.pool.address}: tick {t} is in the bitmap but not initialized")
                p.liquidity_net[t] = int(info[1])  # type: ignore[call-overload]
            cursor = self._take_words(p, words, results, cursor)

    @staticmethod
    def _take_words(p: _Pending, words: Iterable[int], results: list[tuple[object, ...] | None], cursor: int) -> int:
        for w in words:
            word = results[cursor]
            cursor += 1
            if word is None:
                raise QuoteFailed(f"pool {p.pool.address}: tickBitmap({w}) failed")
            p.bitmap[w] = int(word[0])  # type: ignore[call-overload]
        return cursor

    def _spacing(self, pool: Pool) -> int:
        if pool.tick_spacing is None:
            raise QuoteFailed(f"pool {pool.address} has no tick spacing: not a V3 pool")
        return pool.tick_spacing

    def _head(
        self,
        pool: Pool,
        slot0: tuple[object, ...] | None,
        liquidity: tuple[object, ...] | None,
        spacing: tuple[object, ...] | None,
        *,
        missing_ok: bool = False,
    ) -> tuple[int, int, int] | None:
        """(sqrtPriceX96, tick, liquidity) of a pool that exists, is initialized and has the
        tick spacing the configuration gives its fee tier; ``None`` for a missing or
        uninitialized pool if ``missing_ok``."""
        if slot0 is None or liquidity is None or spacing is None:
            if missing_ok:
                return None
            raise PoolNotFound(f"{self.config.name}: no pool at {pool.address}")
        sqrt_price_x96, tick = int(slot0[0]), int(slot0[1])  # type: ignore[call-overload]
        if sqrt_price_x96 == 0:
            if missing_ok:
                return None
            raise PoolNotFound(f"{self.config.name}: pool {pool.address} is not initialized")
        if spacing[0] != pool.tick_spacing:
            raise QuoteFailed(
                f"{self.config.name}: pool {pool.address} has tick spacing {spacing[0]}, "
                f"configuration says {pool.tick_spacing} for fee {pool.fee}"
            )
        return sqrt_price_x96, tick, int(liquidity[0])  # type: ignore[call-overload]
