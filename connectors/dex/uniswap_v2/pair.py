"""A V2 pair: its CREATE2 address, its reserves at a block, and quotes from them."""

from __future__ import annotations

from dataclasses import dataclass

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
