"""YieldCompound runs in the ledger, and a position's yield computed from them.

One row per run (idempotent per workflow id: a retried activity records once). A
position's net APR is (rewards + fees − gas) over its average value and the time from its
first run to its last; net APY compounds that at the position's interval.

    book = YieldBook(ledger)
    book.record(row)
    book.position_yield("devnet-a", owner, "sushiswap:masterchef:0", interval_seconds=21600)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from crosslane.compounding import apy, net_apr
from crosslane.domain.yield_compound import CompoundOutcome, PositionYield
from crosslane.ledger.models import YieldRun
from crosslane.ledger.repository import Ledger

_REASON_MAX = 1000


@dataclass(frozen=True)
class YieldRunRecord:
    workflow_id: str
    request_id: str
    chain: str
    owner: str
    position: str
    outcome: str
    reason: str
    reward: int
    reward_value_wei: int
    fees_value_wei: int
    gas_wei: int
    position_value_wei: int
    liquidity: int
    fee_mark: str | None
    chain_time: int
    block_number: int
    tx_hashes: dict[str, str] = field(default_factory=dict)
    reward_carry: int = 0


class YieldBook:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def record(self, run: YieldRunRecord) -> bool:
        """Store ``run``; False when its workflow id is recorded already (a retry)."""
        with self._ledger._sessions.write() as s:
            if s.scalars(select(YieldRun.id).where(YieldRun.workflow_id == run.workflow_id)).first() is not None:
                return False
            values = dict(run.__dict__)
            values["reason"] = run.reason[:_REASON_MAX]
            s.add(YieldRun(**values))
            return True

    def runs(self, chain: str, owner: str, position: str) -> list[YieldRunRecord]:
        """The position's runs, oldest first."""
        with self._ledger._sessions.read() as s:
            rows = s.scalars(
                select(YieldRun)
                .where(YieldRun.chain == chain, YieldRun.owner == owner, YieldRun.position == position)
                .order_by(YieldRun.chain_time, YieldRun.id)
            ).all()
            return [_record(r) for r in rows]

    def last_carry(self, chain: str, owner: str, position: str) -> int:
        """Reward the position's last run left in the owner's wallet, for the next to compound."""
        runs = self.runs(chain, owner, position)
        return runs[-1].reward_carry if runs else 0

    def last_compounded(self, chain: str, owner: str, position: str) -> YieldRunRecord | None:
        compounded = [r for r in self.runs(chain, owner, position) if r.outcome == CompoundOutcome.COMPOUNDED]
        return compounded[-1] if compounded else None

    def position_yield(self, chain: str, owner: str, position: str, *, interval_seconds: int) -> PositionYield:
        return position_yield(position, self.runs(chain, owner, position), interval_seconds)


def position_yield(position: str, runs: list[YieldRunRecord], interval_seconds: int) -> PositionYield:
    """Net APR/APY from the runs: what was earned after the first run (the first run's
    rewards accrued before tracking began), the gas of every run, over the average value."""
    compounded = [r for r in runs if r.outcome == CompoundOutcome.COMPOUNDED]
    earned_runs = runs[1:]
    rewards = sum(r.reward_value_wei for r in earned_runs if r.outcome == CompoundOutcome.COMPOUNDED)
    fees = sum(r.fees_value_wei for r in earned_runs)
    gas = sum(r.gas_wei for r in earned_runs)
    elapsed = runs[-1].chain_time - runs[0].chain_time if runs else 0
    principal = sum(r.position_value_wei for r in runs) // len(runs) if runs else 0
    rate = net_apr(rewards + fees, gas, principal, elapsed)
    return PositionYield(
        position=position,
        runs=len(runs),
        compounded=len(compounded),
        skipped=len(runs) - len(compounded),
        rewards_value_wei=rewards,
        fees_value_wei=fees,
        gas_wei=gas,
        principal_wei=principal,
        elapsed_seconds=elapsed,
        net_apr=rate,
        net_apy=apy(rate, interval_seconds),
    )


def _record(r: YieldRun) -> YieldRunRecord:
    return YieldRunRecord(
        workflow_id=r.workflow_id,
        request_id=r.request_id,
        chain=r.chain,
        owner=r.owner,
        position=r.position,
        outcome=r.outcome,
        reason=r.reason,
        reward=int(r.reward),
        reward_value_wei=int(r.reward_value_wei),
        fees_value_wei=int(r.fees_value_wei),
        gas_wei=int(r.gas_wei),
        position_value_wei=int(r.position_value_wei),
        liquidity=int(r.liquidity),
        fee_mark=r.fee_mark,
        chain_time=int(r.chain_time),
        block_number=int(r.block_number),
        tx_hashes=dict(r.tx_hashes or {}),
        reward_carry=int(r.reward_carry),
    )
