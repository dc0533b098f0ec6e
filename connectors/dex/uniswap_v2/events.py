"""A V2 pair's liquidity events in a receipt: Mint, Burn and LP-token Transfer."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from connectors.dex.receipts import EventLog, event_topic

MINT = event_topic("Mint(address,uint256,uint256)")
BURN = event_topic("Burn(address,uint256,uint256,address)")
TRANSFER = event_topic("Transfer(address,address,uint256)")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class PairMint:
    sender: str
    amount0: int
    amount1: int


@dataclass(frozen=True)
class PairBurn:
    sender: str
    to: str
    amount0: int
    amount1: int


@dataclass(frozen=True)
class LpTransfer:
    sender: str  # "from"; the zero address for a mint
    to: str  # the zero address for a burn
    value: int


@dataclass(frozen=True)
class PairEvents:
    mints: list[PairMint]
    burns: list[PairBurn]
    transfers: list[LpTransfer]

    def minted_to(self, owner: str) -> int:
        """LP tokens the pair minted to ``owner`` in this receipt."""
        return sum(t.value for t in self.transfers if t.sender == ZERO_ADDRESS and t.to == owner)

    def sent_from(self, owner: str, to: str) -> int:
        """LP tokens moved from ``owner`` to ``to`` (a remove sends them to the pair itself)."""
        return sum(t.value for t in self.transfers if t.sender == owner and t.to == to)


def _address(log: EventLog, i: int) -> str:
    return to_checksum_address(log.indexed(i, "address"))


def pair_events(logs: tuple[EventLog, ...], pair: str) -> PairEvents:
    """The events ``pair`` emitted, in log order."""
    mints, burns, transfers = [], [], []
    for log in logs:
        if log.is_event(pair, MINT, 2):
            amount0, amount1 = log.decoded(["uint256", "uint256"])
            mints.append(PairMint(_address(log, 1), int(amount0), int(amount1)))
        elif log.is_event(pair, BURN, 3):
            amount0, amount1 = log.decoded(["uint256", "uint256"])
            burns.append(PairBurn(_address(log, 1), _address(log, 2), int(amount0), int(amount1)))
        elif log.is_event(pair, TRANSFER, 3):
            (value,) = log.decoded(["uint256"])
            transfers.append(LpTransfer(_address(log, 1), _address(log, 2), int(value)))
    return PairEvents(mints, burns, transfers)
