"""A V2 pair: its CREATE2 address, its reserves at a block, and quotes from them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from eth_utils.address import to_checksum_address

from connectors.dex.base import Pool, PoolQuote, TradeType, require_positive
from connectors.dex.reads import Read
from connectors.dex.uniswap_v2.math import get_amount_in, get_amount_out

GET_RESERVES = ("getReserves()", ("uint112", "uint112", "uint32"))


def reserves_read(pair_address: str) -> Read:
    return Read.of(pair_address, GET_RESERVES[0], GET_RESERVES[1])


@dataclass(frozen=True)
class PairState:
    """Reserves (base units) of ``pool`` at ``block_number``; quotes without I/O."""

    pool: Pool
    reserve0: int
    reserve1: int
    block_number: int

    def _reserves(self, token_in: str) -> tuple[int, int]:
        return (self.reserve0, self.reserve1) if self.pool.zero_for_one(token_in) else (self.reserve1, self.reserve0)

    def quote_exact_in(self, token_in: str, amount_in: int) -> PoolQuote:
        require_positive(amount_in, "amount_in")
        reserve_in, reserve_out = self._reserves(token_in)
        amount_out = get_amount_out(amount_in, reserve_in, reserve_out, self.pool.fee)
        return PoolQuote(
            pool=self.pool,
            trade_type=TradeType.EXACT_IN,
            token_in=to_checksum_address(token_in),
            token_out=self.pool.other(token_in),
            amount_in=amount_in,
            amount_out=amount_out,
            block_number=self.block_number,
        )

    def quote_exact_out(self, token_out: str, amount_out: int) -> PoolQuote:
        require_positive(amount_out, "amount_out")
        token_in = self.pool.other(token_out)
        reserve_in, reserve_out = self._reserves(token_in)
        amount_in = get_amount_in(amount_out, reserve_in, reserve_out, self.pool.fee)
        return PoolQuote(
            pool=self.pool,
            trade_type=TradeType.EXACT_OUT,
            token_in=token_in,
            token_out=to_checksum_address(token_out),
            amount_in=amount_in,
            amount_out=amount_out,
            block_number=self.block_number,
        )

    def swap_exact_in(self, token_in: str, amount_in: int) -> tuple[PoolQuote, PairState]:
        quote = self.quote_exact_in(token_in, amount_in)
        return quote, self._moved(quote)

    def swap_exact_out(self, token_out: str, amount_out: int) -> tuple[PoolQuote, PairState]:
        quote = self.quote_exact_out(token_out, amount_out)
        return quote, self._moved(quote)

    def _moved(self, quote: PoolQuote) -> PairState:
        # V2 keeps the whole input (fee included) in the reserves.
        if self.pool.zero_for_one(quote.token_in):
            return replace(self, reserve0=self.reserve0 + quote.amount_in, reserve1=self.reserve1 - quote.amount_out)
        return replace(self, reserve0=self.reserve0 - quote.amount_out, reserve1=self.reserve1 + quote.amount_in)

    def one_per_zero(self) -> Fraction:
        if self.reserve0 == 0 or self.reserve1 == 0:
            return Fraction(0)
        return Fraction(self.reserve1, self.reserve0)
