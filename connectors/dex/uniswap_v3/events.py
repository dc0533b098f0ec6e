"""Liquidity events in a receipt: the NonfungiblePositionManager's (IncreaseLiquidity,
DecreaseLiquidity, Collect, ERC721 Transfer) and the pool's own (Mint, Burn, Collect).

The manager's events speak per NFT; the pool's speak for the manager's aggregate position
in a tick range. For one transaction touching one NFT they carry the same amounts, which
is how a result is reconciled with the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address

from connectors.dex.receipts import EventLog, event_topic

INCREASE_LIQUIDITY = event_topic("IncreaseLiquidity(uint256,uint128,uint256,uint256)")
DECREASE_LIQUIDITY = event_topic("DecreaseLiquidity(uint256,uint128,uint256,uint256)")
NPM_COLLECT = event_topic("Collect(uint256,address,uint256,uint256)")
NFT_TRANSFER = event_topic("Transfer(address,address,uint256)")  # ERC721: all three indexed
POOL_MINT = event_topic("Mint(address,address,int24,int24,uint128,uint256,uint256)")
POOL_BURN = event_topic("Burn(address,int24,int24,uint128,uint256,uint256)")
POOL_COLLECT = event_topic("Collect(address,address,int24,int24,uint128,uint128)")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class LiquidityChange:
    """IncreaseLiquidity / DecreaseLiquidity of one NFT."""

    token_id: int
    liquidity: int
    amount0: int
    amount1: int


@dataclass(frozen=True)
class NftCollect:
    token_id: int
    recipient: str
    amount0: int
    amount1: int


@dataclass(frozen=True)
class NftTransfer:
    sender: str  # "from"; the zero address for a mint
    to: str  # the zero address for a burn
    token_id: int


@dataclass(frozen=True)
class PoolLiquidityEvent:
    """The pool's Mint, Burn (liquidity = ``amount``) or Collect (liquidity 0) of a range."""

    owner: str
    tick_lower: int
    tick_upper: int
    liquidity: int
    amount0: int
    amount1: int
    recipient: str | None = None  # Collect only


@dataclass(frozen=True)
class PositionEvents:
    increases: list[LiquidityChange] = field(default_factory=list)
    decreases: list[LiquidityChange] = field(default_factory=list)
    collects: list[NftCollect] = field(default_factory=list)
    transfers: list[NftTransfer] = field(default_factory=list)
    pool_mints: list[PoolLiquidityEvent] = field(default_factory=list)
    pool_burns: list[PoolLiquidityEvent] = field(default_factory=list)
    pool_collects: list[PoolLiquidityEvent] = field(default_factory=list)

    def minted_token_id(self, owner: str) -> int | None:
        """The NFT minted to ``owner`` in this receipt, if one was."""
        ids = [t.token_id for t in self.transfers if t.sender == ZERO_ADDRESS and t.to == owner]
        return ids[-1] if ids else None

    def burned(self, token_id: int) -> bool:
        return any(t.token_id == token_id and t.to == ZERO_ADDRESS for t in self.transfers)


def position_events(logs: tuple[EventLog, ...], position_manager: str, pool: str) -> PositionEvents:
    """The manager's and ``pool``'s liquidity events in log order (others are ignored)."""
    events = PositionEvents()
    for log in logs:
        if log.address == position_manager:
            _manager_event(log, events)
        elif log.address == pool:
            _pool_event(log, events)
    return events


def _manager_event(log: EventLog, events: PositionEvents) -> None:
    topic0 = log.topics[0] if log.topics else b""
    if topic0 in (INCREASE_LIQUIDITY, DECREASE_LIQUIDITY) and len(log.topics) == 2:
        liquidity, amount0, amount1 = log.decoded(["uint128", "uint256", "uint256"])
        change = LiquidityChange(int(log.indexed(1, "uint256")), int(liquidity), int(amount0), int(amount1))
        (events.increases if topic0 == INCREASE_LIQUIDITY else events.decreases).append(change)
    elif topic0 == NPM_COLLECT and len(log.topics) == 2:
        recipient, amount0, amount1 = log.decoded(["address", "uint256", "uint256"])
        events.collects.append(
            NftCollect(int(log.indexed(1, "uint256")), to_checksum_address(recipient), int(amount0), int(amount1))
        )
    elif topic0 == NFT_TRANSFER and len(log.topics) == 4:
        events.transfers.append(
            NftTransfer(
                to_checksum_address(log.indexed(1, "address")),
                to_checksum_address(log.indexed(2, "address")),
                int(log.indexed(3, "uint256")),
            )
        )


def _pool_event(log: EventLog, events: PositionEvents) -> None:
    topic0 = log.topics[0] if log.topics else b""
    if len(log.topics) != 4:
        return
    owner = to_checksum_address(log.indexed(1, "address"))
    lower, upper = int(log.indexed(2, "int24")), int(log.indexed(3, "int24"))
    if topic0 == POOL_MINT:
        _sender, liquidity, amount0, amount1 = log.decoded(["address", "uint128", "uint256", "uint256"])
        events.pool_mints.append(PoolLiquidityEvent(owner, lower, upper, int(liquidity), int(amount0), int(amount1)))
    elif topic0 == POOL_BURN:
        liquidity, amount0, amount1 = log.decoded(["uint128", "uint256", "uint256"])
        events.pool_burns.append(PoolLiquidityEvent(owner, lower, upper, int(liquidity), int(amount0), int(amount1)))
    elif topic0 == POOL_COLLECT:
        recipient, amount0, amount1 = log.decoded(["address", "uint128", "uint128"])
        events.pool_collects.append(
            PoolLiquidityEvent(owner, lower, upper, 0, int(amount0), int(amount1), to_checksum_address(recipient))
        )
