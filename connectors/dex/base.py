"""The protocol-agnostic DEX interface every adapter implements, and its vocabulary.

Amounts are ``int`` token base units throughout; tokens are checksummed addresses (symbol
resolution belongs to the edge: activities, CLI). Fees are in pips, hundredths of a basis
point, the unit Uniswap V3 uses: 3000 = 0.3%, the fee every Uniswap V2 pair charges.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from eth_utils.address import to_checksum_address

# The enums live in the domain so that workflow models can carry them too.
from crosslane.domain.dex import DexProtocol, TradeType
from crosslane.errors import InvalidRequest

__all__ = ["Dex", "DexProtocol", "Pool", "PoolState", "PoolQuote", "TradeType", "require_positive"]


@dataclass(frozen=True)
class Pool:
    """One pool (a V2 pair or a V3 pool) of a deployment; ``token0 < token1`` by address."""

    protocol: DexProtocol
    address: str
    token0: str
    token1: str
    fee: int  # pips
    tick_spacing: int | None = None  # V3 only

    def other(self, token: str) -> str:
        """The pool's other token; refuses a token the pool does not hold."""
        try:
            token = to_checksum_address(token)
        except (ValueError, TypeError):
            raise InvalidRequest(f"not a token address: {token!r}") from None
        if token == self.token0:
            return self.token1
        if token == self.token1:
            return self.token0
        raise InvalidRequest(f"token {token} is not in pool {self.address} ({self.token0}/{self.token1})")

    def zero_for_one(self, token_in: str) -> bool:
        """Does selling ``token_in`` swap token0 for token1?"""
        self.other(token_in)
        return to_checksum_address(token_in) == self.token0


@dataclass(frozen=True)
class PoolQuote:
    """What a swap through ``pool`` pays out or costs, in base units.

    For ``EXACT_IN`` ``amount_in`` is the request and ``amount_out`` the result; for
    ``EXACT_OUT`` the reverse. ``block_number`` is the state it was computed from.
    """

    pool: Pool
    trade_type: TradeType
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    block_number: int | None = None
    sqrt_price_x96_after: int | None = None  # V3
    initialized_ticks_crossed: int | None = None  # V3
    gas_estimate: int | None = None  # on-chain quoters only


class PoolState(Protocol):
    """A pool's state at one block that can quote any size without further I/O."""

    @property
    def pool(self) -> Pool: ...

    @property
    def block_number(self) -> int: ...

    def quote_exact_in(self, token_in: str, amount_in: int) -> PoolQuote: ...

    def quote_exact_out(self, token_out: str, amount_out: int) -> PoolQuote: ...

    def swap_exact_in(self, token_in: str, amount_in: int) -> tuple[PoolQuote, PoolState]:
        """The quote and the pool's state after that swap (its own integer math)."""
        ...

    def swap_exact_out(self, token_out: str, amount_out: int) -> tuple[PoolQuote, PoolState]: ...

    def one_per_zero(self) -> Fraction:
        """The marginal price, token1 per token0 in base units, no fee (0: an empty pool)."""
        ...


def require_positive(amount: int, what: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidRequest(f"{what} must be an int in base units, got {type(amount).__name__}")
    if amount <= 0:
        raise InvalidRequest(f"{what} must be positive, got {amount}")


class Dex(ABC):
    """One deployment of one AMM protocol on one chain (Uniswap V3 on devnet-a, a fork...).

    Off-chain quotes (``quote_exact_*``) read pool state with batched Multicall3 calls and
    compute the result with the protocol's integer math; ``onchain_quote_exact_*`` ask the
    deployment's own router or quoter by ``eth_call``, as the reference the engine must
    match to the wei.
    """

    protocol: DexProtocol
    name: str

    @abstractmethod
    async def pools(self, token_a: str, token_b: str) -> list[Pool]:
        """Pools that exist for the pair, at their CREATE2 addresses (one per fee tier for V3)."""

    @abstractmethod
    async def pool_states(self, pools: list[Pool]) -> list[PoolState]:
        """Current state of each pool, read in a fixed small number of round trips for all."""

    async def pool_state(self, pool: Pool) -> PoolState:
        (state,) = await self.pool_states([pool])
        return state

    async def quote_exact_in(self, pool: Pool, token_in: str, amount_in: int) -> PoolQuote:
        """Off-chain: ``amount_out`` for selling exactly ``amount_in`` of ``token_in``.

        Raises InvalidRequest (bad token or amount) or InsufficientLiquidity.
        """
        return (await self.pool_state(pool)).quote_exact_in(token_in, amount_in)

    async def quote_exact_out(self, pool: Pool, token_out: str, amount_out: int) -> PoolQuote:
        """Off-chain: ``amount_in`` needed to receive exactly ``amount_out`` of ``token_out``."""
        return (await self.pool_state(pool)).quote_exact_out(token_out, amount_out)

    @abstractmethod
    async def onchain_quote_exact_in(self, pool: Pool, token_in: str, amount_in: int) -> PoolQuote:
        """The deployment's router or quoter, by eth_call, for the same exact-in request."""

    @abstractmethod
    async def onchain_quote_exact_out(self, pool: Pool, token_out: str, amount_out: int) -> PoolQuote:
        """The deployment's router or quoter, by eth_call, for the same exact-out request."""

    @property
    @abstractmethod
    def swap_router(self) -> str | None:
        """The router swaps go through (None: the deployment is configured without one)."""

    @abstractmethod
    def candidate_pools(self, token_a: str, token_b: str) -> list[Pool]:
        """The pools the deployment could have for a pair, at their CREATE2 addresses,
        whether or not they exist on chain (V2: the pair; V3: one per fee tier)."""

    @abstractmethod
    def listed_pool(self, token0: str, token1: str, fee: int) -> Pool | None:
        """A pool a configuration lists (tokens, fee), as this adapter models it; None if it
        cannot be one of this deployment's pools."""

    @abstractmethod
    def swap_calldata(
        self,
        path: Sequence[str],
        fees: Sequence[int],
        exact_in: bool,
        *,
        amount_in: int,
        amount_out: int,
        limit: int,
        recipient: str,
        deadline: int,
    ) -> bytes:
        """The router call swapping along ``path`` (``fees``: one per hop). Exact-in sells
        ``amount_in`` for at least ``limit``; exact-out buys ``amount_out`` for at most ``limit``."""

    async def complete(
        self, state: PoolState, quote: Callable[[PoolState], PoolQuote]
    ) -> tuple[PoolQuote, PoolState]:
        """Run ``quote`` on ``state``; returns the quote and the state to quote the next sizes
        on. Adapters whose states hold only part of a pool (V3: bitmap words near the price)
        read more, at the same block, when a swap needs it."""
        return quote(state), state
