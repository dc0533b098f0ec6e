"""The protocol-agnostic DEX interface every adapter implements, and its vocabulary.

Amounts are ``int`` token base units throughout; tokens are checksummed addresses (symbol
resolution belongs to the edge: activities, CLI). Fees are in pips, hundredths of a basis
point, the unit Uniswap V3 uses: 3000 = 0.3%, the fee every Uniswap V2 pair charges.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
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
