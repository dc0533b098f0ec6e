"""Off-chain ``UniswapV3Pool.swap``: the pool's loop over initialized ticks, on a snapshot.

Pure and deterministic: the same snapshot and request give the pool's own amounts to the
wei. A snapshot holds only the bitmap words that were read; a swap that walks past them
raises :class:`TickDataMissing` naming the word, so the reader can fetch it and retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction

from eth_utils.address import to_checksum_address

from connectors.dex.base import Pool, PoolQuote, TradeType, require_positive
from connectors.dex.errors import InsufficientLiquidity
from connectors.dex.uniswap_v3.math.errors import MathRevert
from connectors.dex.uniswap_v3.math.full_math import INT256_MAX, to_int256
from connectors.dex.uniswap_v3.math.liquidity_math import add_delta
from connectors.dex.uniswap_v3.math.swap_math import compute_swap_step
from connectors.dex.uniswap_v3.math.tick_bitmap import compress, next_initialized_tick_within_one_word, position
from connectors.dex.uniswap_v3.math.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from crosslane.errors import InvalidRequest


class TickDataMissing(LookupError):
    """The swap needs a tick bitmap word (or a tick) the snapshot did not read."""

    def __init__(self, word: int, tick: int | None = None) -> None:
        super().__init__(f"bitmap word {word}" + (f" tick {tick}" if tick is not None else "") + " not in snapshot")
        self.word = word
        self.tick = tick


@dataclass(frozen=True)
class PoolSnapshot:
    """A V3 pool's swap-relevant state at one block; quotes any size without I/O.

    ``bitmap`` maps every word position that was read (empty words included) to its word;
    ``liquidity_net`` maps every initialized tick in those words to its liquidityNet.
    """

    pool: Pool
    sqrt_price_x96: int
    tick: int
    liquidity: int
    bitmap: Mapping[int, int]
    liquidity_net: Mapping[int, int]
    block_number: int

    @property
    def tick_spacing(self) -> int:
        if self.pool.tick_spacing is None:
            raise ValueError(f"pool {self.pool.address} has no tick spacing: not a V3 pool")
        return self.pool.tick_spacing

    def quote_exact_in(self, token_in: str, amount_in: int) -> PoolQuote:
        """What selling exactly ``amount_in`` (base units) returns, as QuoterV2 computes it.

        Raises InsufficientLiquidity if the pool's whole price range cannot absorb the
        input, TickDataMissing if this snapshot is too narrow for the swap.
        """
        return self._exact_in(token_in, amount_in)[0]

    def quote_exact_out(self, token_out: str, amount_out: int) -> PoolQuote:
        """What receiving exactly ``amount_out`` (base units) costs, fee included."""
        return self._exact_out(token_out, amount_out)[0]

    def swap_exact_in(self, token_in: str, amount_in: int) -> tuple[PoolQuote, PoolSnapshot]:
        quote, result = self._exact_in(token_in, amount_in)
        return quote, self._moved(result)

    def swap_exact_out(self, token_out: str, amount_out: int) -> tuple[PoolQuote, PoolSnapshot]:
        quote, result = self._exact_out(token_out, amount_out)
        return quote, self._moved(result)

    def one_per_zero(self) -> Fraction:
        return Fraction(self.sqrt_price_x96**2, 2**192)

    def _moved(self, result: SwapSimulation) -> PoolSnapshot:
        # A swap moves price, tick and active liquidity; the ticks' liquidityNet stay as they are.
        return replace(
            self, sqrt_price_x96=result.sqrt_price_x96_after, tick=result.tick_after, liquidity=result.liquidity_after
        )

    def _exact_in(self, token_in: str, amount_in: int) -> tuple[PoolQuote, SwapSimulation]:
        require_positive(amount_in, "amount_in")
        zero_for_one = self.pool.zero_for_one(token_in)
        result = self._simulate(zero_for_one, amount_in)
        paid_in = result.amount0 if zero_for_one else result.amount1
        if paid_in != amount_in:
            raise InsufficientLiquidity(
                f"pool {self.pool.address} absorbs only {paid_in} of {amount_in} before its price limit"
            )
        received = -(result.amount1 if zero_for_one else result.amount0)
        return self._quote(TradeType.EXACT_IN, token_in, amount_in, received, result), result

    def _exact_out(self, token_out: str, amount_out: int) -> tuple[PoolQuote, SwapSimulation]:
        require_positive(amount_out, "amount_out")
        token_in = self.pool.other(token_out)
        zero_for_one = self.pool.zero_for_one(token_in)
        result = self._simulate(zero_for_one, -amount_out)
        received = -(result.amount1 if zero_for_one else result.amount0)
        if received != amount_out:
            raise InsufficientLiquidity(f"pool {self.pool.address} holds only {received} of {amount_out} wanted")
        paid = result.amount0 if zero_for_one else result.amount1
        return self._quote(TradeType.EXACT_OUT, token_in, paid, amount_out, result), result

    def _simulate(self, zero_for_one: bool, amount_specified: int) -> SwapSimulation:
        if abs(amount_specified) > INT256_MAX:
            raise InvalidRequest(f"amount {abs(amount_specified)} exceeds int256")
        try:
            return simulate_swap(self, zero_for_one, amount_specified)
        except MathRevert as exc:
            raise InsufficientLiquidity(f"pool {self.pool.address}: {exc}") from exc

    def _quote(
        self, kind: TradeType, token_in: str, amount_in: int, amount_out: int, result: SwapSimulation
    ) -> PoolQuote:
        return PoolQuote(
            pool=self.pool,
            trade_type=kind,
            token_in=to_checksum_address(token_in),
            token_out=self.pool.other(token_in),
            amount_in=amount_in,
            amount_out=amount_out,
            block_number=self.block_number,
            sqrt_price_x96_after=result.sqrt_price_x96_after,
            initialized_ticks_crossed=result.initialized_ticks_crossed,
        )


@dataclass(frozen=True)
class SwapSimulation:
    """The pool's result. ``amount0``/``amount1`` are its balance deltas in base units:
    positive is paid into the pool, negative is paid out of it."""

    amount0: int
    amount1: int
    sqrt_price_x96_after: int
    tick_after: int
    liquidity_after: int
    initialized_ticks_crossed: int


def default_price_limit(zero_for_one: bool) -> int:
    """The limit QuoterV2 and routers pass when the caller gives none: the whole range."""
    return MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1


def simulate_swap(
    snapshot: PoolSnapshot,
    zero_for_one: bool,
    amount_specified: int,
    sqrt_price_limit_x96: int | None = None,
) -> SwapSimulation:
    """``pool.swap(zeroForOne, amountSpecified, sqrtPriceLimitX96)`` without the chain.

    ``amount_specified`` > 0 is an exact input, < 0 an exact output (base units). Raises
    :class:`MathRevert` where the pool reverts ('AS', 'SPL', overflows) and
    :class:`TickDataMissing` when the snapshot is too narrow for the swap.
    """
    if amount_specified == 0:
        raise MathRevert("AS: amount specified is zero")
    limit = default_price_limit(zero_for_one) if sqrt_price_limit_x96 is None else sqrt_price_limit_x96
    if zero_for_one:
        if not (MIN_SQRT_RATIO < limit < snapshot.sqrt_price_x96):
            raise MathRevert("SPL: price limit not below the current price")
    elif not (snapshot.sqrt_price_x96 < limit < MAX_SQRT_RATIO):
        raise MathRevert("SPL: price limit not above the current price")

    exact_input = amount_specified > 0
    remaining = amount_specified
    calculated = 0
    sqrt_price = snapshot.sqrt_price_x96
    tick = snapshot.tick
    liquidity = snapshot.liquidity
    crossed = 0
    spacing = snapshot.tick_spacing

    while remaining != 0 and sqrt_price != limit:
        step_start = sqrt_price
        compressed = compress(tick, spacing)
        word = position(compressed if zero_for_one else compressed + 1)[0]
        if word not in snapshot.bitmap:
            raise TickDataMissing(word)
        tick_next, initialized = next_initialized_tick_within_one_word(snapshot.bitmap, tick, spacing, zero_for_one)
        tick_next = max(MIN_TICK, min(MAX_TICK, tick_next))
        sqrt_price_next_tick = get_sqrt_ratio_at_tick(tick_next)
        past_limit = sqrt_price_next_tick < limit if zero_for_one else sqrt_price_next_tick > limit
        step = compute_swap_step(
            sqrt_price, limit if past_limit else sqrt_price_next_tick, liquidity, remaining, snapshot.pool.fee
        )
        sqrt_price = step.sqrt_price_next_x96
        if exact_input:
            remaining -= to_int256(step.amount_in + step.fee_amount)
            calculated -= to_int256(step.amount_out)
        else:
            remaining += to_int256(step.amount_out)
            calculated += to_int256(step.amount_in + step.fee_amount)

        if sqrt_price == sqrt_price_next_tick:
            if initialized:
                try:
                    liquidity_net = snapshot.liquidity_net[tick_next]
                except KeyError:
                    raise TickDataMissing(word, tick_next) from None
                liquidity = add_delta(liquidity, -liquidity_net if zero_for_one else liquidity_net)
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_price != step_start:
            # Moved within the range without reaching its end: recompute the tick.
            tick = get_tick_at_sqrt_ratio(sqrt_price)

    if zero_for_one == exact_input:
        amount0, amount1 = amount_specified - remaining, calculated
    else:
        amount0, amount1 = calculated, amount_specified - remaining
    return SwapSimulation(amount0, amount1, sqrt_price, tick, liquidity, crossed)
