"""Exact amounts of a mined swap, from its receipt's events (never from the quote).

What left the payer and what reached the recipient are the ERC20 ``Transfer`` events of the
input and output tokens; each pool's ``Swap`` event says what went through it. Both must
tell the same story: the first pool took what the payer sent, each pool passed its output
to the next, the last paid the recipient. A receipt where they disagree (a fee-on-transfer
token, an unexpected route) is refused rather than settled with a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from eth_utils.address import to_checksum_address

from connectors.dex.base import DexProtocol
from connectors.dex.receipts import EventLog, event_topic
from crosslane.errors import CrosslaneError

TRANSFER = event_topic("Transfer(address,address,uint256)")
V2_SWAP = event_topic("Swap(address,uint256,uint256,uint256,uint256,address)")
V3_SWAP = event_topic("Swap(address,address,int256,int256,uint160,uint128,int24)")


class SettlementMismatch(CrosslaneError):
    """The receipt's transfers and events do not add up to the expected swap or liquidity
    operation: the chain did something else."""


class RouteHopRef(Protocol):
    @property
    def pool(self) -> str: ...

    @property
    def token_in(self) -> str: ...

    @property
    def token_out(self) -> str: ...


@dataclass(frozen=True)
class PoolFill:
    pool: str
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int


@dataclass(frozen=True)
class SwapSettlement:
    amount_in: int  # base units of the route's input token that left the payer
    amount_out: int  # base units of its output token that reached the recipient
    fills: tuple[PoolFill, ...]


def transferred(logs: Sequence[EventLog], token: str, *, sender: str | None = None, to: str | None = None) -> int:
    """Sum of ``token``'s Transfer events matching ``sender`` and/or ``to``."""
    token = to_checksum_address(token)
    total = 0
    for log in logs:
        if not log.is_event(token, TRANSFER, 3):
            continue
        if sender is not None and to_checksum_address(log.indexed(1, "address")) != to_checksum_address(sender):
            continue
        if to is not None and to_checksum_address(log.indexed(2, "address")) != to_checksum_address(to):
            continue
        total += int(log.decoded(["uint256"])[0])
    return total


def pool_fill(logs: Sequence[EventLog], protocol: DexProtocol, hop: RouteHopRef) -> PoolFill:
    """The one Swap event of ``hop.pool`` in ``logs``, as amounts in and out of the pool."""
    pool = to_checksum_address(hop.pool)
    token_in, token_out = to_checksum_address(hop.token_in), to_checksum_address(hop.token_out)
    zero_for_one = int(token_in, 16) < int(token_out, 16)
    topic = V2_SWAP if protocol is DexProtocol.UNISWAP_V2 else V3_SWAP
    events = [log for log in logs if log.is_event(pool, topic, 3)]
    if len(events) != 1:
        raise SettlementMismatch(f"expected one Swap event from pool {pool}, found {len(events)}")
    if protocol is DexProtocol.UNISWAP_V2:
        in0, in1, out0, out1 = (int(v) for v in events[0].decoded(["uint256", "uint256", "uint256", "uint256"]))
        amount_in, amount_out = (in0, out1) if zero_for_one else (in1, out0)
    else:
        delta0, delta1, _price, _liquidity, _tick = events[0].decoded(
            ["int256", "int256", "uint160", "uint128", "int24"]
        )
        # Pool balance deltas: positive went into the pool, negative came out of it.
        amount_in, amount_out = (int(delta0), -int(delta1)) if zero_for_one else (int(delta1), -int(delta0))
    if amount_in <= 0 or amount_out <= 0:
        raise SettlementMismatch(f"pool {pool} swapped {amount_in} in for {amount_out} out: not this route's direction")
    return PoolFill(pool, token_in, token_out, amount_in, amount_out)


def settle_swap(
    logs: Sequence[EventLog], protocol: DexProtocol, hops: Sequence[RouteHopRef], payer: str, recipient: str
) -> SwapSettlement:
    """Exact amounts of a successful router swap along ``hops`` paid by ``payer``."""
    if not hops:
        raise SettlementMismatch("a swap has at least one hop")
    fills = tuple(pool_fill(logs, protocol, hop) for hop in hops)
    amount_in = transferred(logs, hops[0].token_in, sender=payer)
    amount_out = transferred(logs, hops[-1].token_out, to=recipient)
    if amount_in != fills[0].amount_in:
        raise SettlementMismatch(f"{payer} sent {amount_in} but the first pool took {fills[0].amount_in}")
    if amount_out != fills[-1].amount_out:
        raise SettlementMismatch(f"{recipient} received {amount_out} but the last pool paid {fills[-1].amount_out}")
    for a, b in zip(fills, fills[1:], strict=False):
        if a.amount_out != b.amount_in:
            raise SettlementMismatch(f"pool {a.pool} paid {a.amount_out} but pool {b.pool} took {b.amount_in}")
    return SwapSettlement(amount_in, amount_out, fills)
