"""Transaction-lifecycle activities: thin, idempotent steps keyed by (workflow id, "tx").

Order of effects, so that any retry after a crash is safe:
1. ``tx_prepare``  records the operation, takes a nonce from the ledger, signs attempt 0 and
   stores its raw bytes — all before anything is broadcast;
2. ``tx_broadcast`` re-sends exactly the stored bytes (same hash), so a retry can only
   produce "already known";
3. ``tx_replace``  signs attempt *i* (bump or cancel) once; a retry finds it in the ledger;
4. ``tx_wait``     watches every attempt's hash, since any of them may be the one that mines.

``TransactionLifecycle`` runs 1-3 as local activities (``tx_send`` is 1 then 2 in one step):
a worker that dies before the workflow task that ran them completed, runs them all again from
the start of that task. Each is idempotent on (workflow id, attempt index) in the ledger, so
that re-run finds the stored nonce and bytes and re-sends the same hash.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError, Web3RPCError

from activities.errors import business_errors
from activities.metrics import count
from activities.runtime import ChainRuntime
from connectors.evm.client import EvmClient
from connectors.evm.fee_models import cost_text, priced
from connectors.evm.fees import FeeSuggestion, suggest_fees
from connectors.evm.signer import LocalKeySigner, SignedTx, Signer
from connectors.evm.transactions import MinedTx, eip1559_tx, find_mined, get_receipt, is_canonical
from crosslane.crashpoints import crash_point
from crosslane.domain.tx import AttemptKind, BroadcastOutcome, TxAttempt, TxRequest
from crosslane.domain.tx_steps import (
    BroadcastInput,
    BroadcastResult,
    PrepareInput,
    ReplaceInput,
    ReplaceResult,
    SendResult,
    TxActivity,
    WaitInput,
    WaitOutcome,
    WaitResult,
)
from crosslane.errors import FeeCapBelowBaseFee, InvalidRequest
from crosslane.ledger.coltypes import utcnow
from crosslane.ledger.records import AttemptRecord, AttemptStatus, OperationRecord
from crosslane.money import BPS, bump, format_gwei
from crosslane.telemetry.names import NONCE_ALLOCATIONS, TX_ATTEMPTS, TX_REPLACEMENTS

TX_STEP = "tx"
GAS_HEADROOM_BPS = 12_000
CANCEL_GAS = 21_000


def _attempt_view(record: AttemptRecord, broadcast: BroadcastOutcome | None = None) -> TxAttempt:
    return TxAttempt(
        index=record.attempt_index,
        kind=AttemptKind(record.kind),
        tx_hash=record.tx_hash,
        nonce=record.nonce,
        max_fee_per_gas=int(record.max_fee_per_gas),
        max_priority_fee_per_gas=int(record.max_priority_fee_per_gas),
        broadcast=broadcast,
    )


@dataclass(frozen=True)
class FirstAttempt:
    """Attempt 0 of a request: what is signed, then stored before it is broadcast."""

    request: TxRequest
    chain_id: int
    nonce: int
    gas: int
    max_fee: int
    tip: int

    def tx(self) -> dict[str, Any]:
        return eip1559_tx(
            chain_id=self.chain_id,
            nonce=self.nonce,
            to=self.request.to,
            value=self.request.value,
            data=self.request.data,
            gas=self.gas,
            max_fee_per_gas=self.max_fee,
            max_priority_fee_per_gas=self.tip,
        )


class TxActivities:
    def __init__(self, runtime: ChainRuntime) -> None:
        self.rt = runtime

    async def _operation(self, workflow_id: str) -> OperationRecord:
        op = await asyncio.to_thread(self.rt.ledger.get_operation, workflow_id, TX_STEP)
        if op is None:
            raise InvalidRequest(f"no transaction operation recorded for workflow {workflow_id}")
        return op

    async def _estimate_gas(self, request: TxRequest) -> int:
        if request.gas_limit is not None:
            return request.gas_limit
        client = self.rt.client(request.chain)

        async def _estimate(w3: AsyncWeb3) -> int:
            tx = {"from": request.signer, "to": request.to, "value": request.value, "data": request.data}
            # Against the pending block, where the transaction will run: at the latest block a
            # contract that works once per block (MasterChef's pool update, which mints the
            # rewards) may already have run, and the estimate misses that work.
            return int(await w3.eth.estimate_gas(tx, "pending"))  # type: ignore[arg-type]

        try:
            estimate = await client.call(_estimate, "eth_estimateGas")
        except (ContractLogicError, Web3RPCError) as exc:
            raise InvalidRequest(f"the transaction would fail on {request.chain}: {exc}") from None
        return max(CANCEL_GAS, estimate * GAS_HEADROOM_BPS // BPS)

    async def _check_explicit_nonce(self, request: TxRequest, chain_id: int) -> None:
        """An explicit nonce (recovery: replace a stuck transaction, fill a gap) must be one
        the signer has not used and not past the next one: below, it can never mine; above,
        it would wait in the pool forever behind a gap."""
        assert request.nonce is not None
        client = self.rt.client(request.chain)
        mined, pending = await asyncio.gather(
            client.nonce(request.signer, "latest"), client.nonce(request.signer, "pending")
        )
        allocated = await asyncio.to_thread(self.rt.ledger.next_nonce, chain_id, request.signer)
        following = max(pending, allocated or 0)
        if request.nonce < mined:
            raise InvalidRequest(
                f"nonce {request.nonce} of {request.signer} is already used on {request.chain} "
                f"(its next nonce is {following}); omit nonce to take the next one"
            )
        if request.nonce > following:
            raise InvalidRequest(
                f"nonce {request.nonce} would leave a gap on {request.chain}: the next nonce of {request.signer} "
                f"is {following}, and a later one waits in the pool until every nonce before it is used"
            )

    async def _check_total_fee(self, request: TxRequest, signer: Signer, gas: int, max_fee: int, tip: int) -> None:
        """Refuse, before anything is recorded, a transaction whose cost (with the chain's L1
        data fee, priced on the transaction signed at the signer's pending nonce) exceeds the
        request's ``max_total_fee``."""
        assert request.fees.max_total_fee is not None
        client = self.rt.client(request.chain)
        nonce = request.nonce if request.nonce is not None else await client.nonce(request.signer, "pending")
        probe = FirstAttempt(request, client.chain.chain_id, nonce, gas, max_fee, tip).tx()
        cost = await priced(client, (await signer.sign_transaction(probe)).raw, gas, max_fee)
        if cost.total > request.fees.max_total_fee:
            raise InvalidRequest(
                f"fees.max_total_fee {request.fees.max_total_fee} wei is below what this transaction may cost on "
                f"{request.chain}: {cost_text(cost, gas, max_fee)}; nothing was sent"
            )

    @activity.defn(name=TxActivity.PREPARE)
    @business_errors
    async def tx_prepare(self, inp: PrepareInput) -> TxAttempt:
        """Record, take a nonce, sign attempt 0 and store it; idempotent per workflow id."""
        return _attempt_view(await self.prepare(inp.workflow_id, inp.request))

    @activity.defn(name=TxActivity.SEND)
    @business_errors
    async def tx_send(self, inp: PrepareInput) -> TxAttempt:
        """``tx_prepare`` then ``tx_broadcast`` of attempt 0, in the same order of effects (raw
        bytes stored before the send), without reading back what the first half just wrote."""
        record = await self.prepare(inp.workflow_id, inp.request)
        outcome = await self.send(record, inp.request.chain, protected=inp.request.protected)
        crash_point("tx.after_broadcast", inp.workflow_id)
        return _attempt_view(record, outcome)

    @activity.defn(name=TxActivity.SEND_SETTLE)
    @business_errors
    async def tx_send_settle(self, inp: PrepareInput) -> SendResult:
        """``tx_send``, then one look for the receipt (a devnet that automines has mined the
        transaction during the send): mined with the request's confirmations on the canonical
        chain, it is settled in the ledger as ``tx_wait`` settles it, and the lifecycle ends in
        this workflow task; else the lifecycle goes on to ``tx_wait``. One look, no polling: a
        step that waits holds a local-activity slot and the workflow task open; a caller may
        ask for more looks for ``settle_within_ms`` (``BridgeTransfer`` does: its fallback, a
        child lifecycle, costs more than a few looks). Re-run after a
        crash, it re-sends the same bytes and finds the same receipt (the ledger writes are
        idempotent). The broadcast mark shares the settle's ledger transaction (one commit and
        one thread hand-off fewer than ``tx_send`` then the settle)."""
        request = inp.request
        record = await self.prepare(inp.workflow_id, request)
        outcome = await self.send(record, request.chain, protected=request.protected, mark=False)
        crash_point("tx.after_broadcast", inp.workflow_id)
        crash_point("tx.waiting", inp.workflow_id)  # the one look for the receipt: this path's wait
        client = self.rt.client(request.chain)
        mined = await get_receipt(client, record.tx_hash)
        # A node that mines on arrival (anvil's automine) may answer the send before the block
        # with a contract call in it is sealed: a caller may ask for a few more looks.
        until = time.monotonic() + inp.settle_within_ms / 1000
        while mined is None and _delivered(outcome) and time.monotonic() < until:
            await asyncio.sleep(SETTLE_LOOK_S)
            mined = await get_receipt(client, record.tx_hash)
        if mined is not None and not await _settled_at_send(client, mined, request.policy.confirmations):
            mined = None  # tx_wait records the sighting and waits for the confirmations
        if _delivered(outcome) or mined is not None:
            await asyncio.to_thread(self._record_send, inp.workflow_id, record.tx_hash, outcome, mined)
        attempt = _attempt_view(record, outcome)
        if mined is None:
            return SendResult(attempt=attempt)
        crash_point("tx.after_settle", inp.workflow_id)
        return SendResult(attempt=attempt, mined=_mined_result(mined, 0))

    def _record_send(self, workflow_id: str, tx_hash: str, outcome: BroadcastOutcome, mined: MinedTx | None) -> None:
        """One ledger transaction (run in a thread) for what ``tx_send_settle`` saw: the
        broadcast mark and, when it found the receipt, the sighting and the settle."""
        with self.rt.ledger.atomic():
            if _delivered(outcome):
                self.rt.ledger.mark_attempt(tx_hash, AttemptStatus.BROADCAST.value, broadcast=True)
            if mined is not None:
                self._record_receipt(workflow_id, [tx_hash], mined, True, True)

    async def prepare(self, workflow_id: str, request: TxRequest, fees: FeeSuggestion | None = None) -> AttemptRecord:
        """``tx_prepare``'s work, also called outside Temporal by the arbitrage fast lane to
        sign a leg before its run starts: the run's lifecycle then finds attempt 0 recorded
        under ``workflow_id``. ``fees``: the chain's suggestion already read this block."""
        chain = self.rt.chain(request.chain)
        signer = self.rt.signers.get(request.signer)
        ledger = self.rt.ledger
        existing = await asyncio.to_thread(ledger.get_attempt_of, workflow_id, TX_STEP, 0)
        if existing is not None:
            return existing

        # Refusals come before the ledger records anything, so bad input leaves no trace.
        if request.protected:
            self.rt.submitter(request.chain, protected=True)  # refuses a chain without a relay
        client = self.rt.client(request.chain)
        max_fee, tip = self.first_fees(request, fees or await suggest_fees(client))
        if request.nonce is not None:
            await self._check_explicit_nonce(request, chain.chain_id)
        gas = await self._estimate_gas(request)
        if request.fees.max_total_fee is not None:
            await self._check_total_fee(request, signer, gas, max_fee, tip)
        # The operation and its nonce in one ledger transaction (an explicit nonce is the caller's).
        # Shared with the lifecycles of the same signer reading it at once: the ledger hands out
        # max(its cursor, this), so an answer from a moment ago allocates the same nonce.
        pending = None if request.nonce is not None else await client.nonce(request.signer, "pending", shared=True)
        if pending is not None and isinstance(signer, LocalKeySigner):
            record = await asyncio.to_thread(
                self._allocate_sign_record, workflow_id, request, chain.chain_id, signer, pending, (gas, max_fee, tip)
            )
            count(NONCE_ALLOCATIONS, "nonces allocated by the ledger", chain=request.chain)
            crash_point("tx.after_sign", workflow_id)
            return record
        op = await asyncio.to_thread(
            ledger.begin_operation,
            workflow_id,
            TX_STEP,
            "tx",
            chain_id=chain.chain_id,
            signer=request.signer,
            detail={"request": request.model_dump(mode="json")},
            allocate_nonce_from=pending,
        )
        if request.nonce is not None:
            nonce = request.nonce
        else:
            assert op.nonce is not None
            nonce = op.nonce
            count(NONCE_ALLOCATIONS, "nonces allocated by the ledger", chain=request.chain)
        crash_point("tx.after_nonce")

        first = FirstAttempt(request, chain.chain_id, nonce, gas, max_fee, tip)
        signed = await signer.sign_transaction(first.tx())
        record = await asyncio.to_thread(self.record_first, op.id, first, signed)
        crash_point("tx.after_sign", workflow_id)
        return record

    def _allocate_sign_record(
        self,
        workflow_id: str,
        request: TxRequest,
        chain_id: int,
        signer: LocalKeySigner,
        pending: int,
        pricing: tuple[int, int, int],
    ) -> AttemptRecord:
        """The operation, its nonce and attempt 0's signed bytes in one ledger transaction (in
        a thread), for a signer whose key is in this process: one commit where the two-step
        path makes two, and nothing is broadcast before it (``tx_send`` sends what this
        returns). A crash before the commit leaves nothing: no nonce was handed to anyone and
        nothing signed left the process, so the re-run allocates the same nonce afresh."""
        gas, max_fee, tip = pricing
        ledger = self.rt.ledger
        with ledger.atomic():
            op = ledger.begin_operation(
                workflow_id,
                TX_STEP,
                "tx",
                chain_id=chain_id,
                signer=request.signer,
                detail={"request": request.model_dump(mode="json")},
                allocate_nonce_from=pending,
            )
            assert op.nonce is not None
            crash_point("tx.after_nonce")
            first = FirstAttempt(request, chain_id, op.nonce, gas, max_fee, tip)
            return self.record_first(op.id, first, signer.sign_transaction_here(first.tx()))

    def first_fees(self, request: TxRequest, fees: FeeSuggestion) -> tuple[int, int]:
        """Attempt 0's (max fee, tip) on the chain's ``fees``; FeeCapBelowBaseFee when the
        request's cap is below the base fee and it forbids waiting."""
        cap = request.fees.max_fee_per_gas_cap
        if cap < fees.base_fee and not request.fees.wait_for_base_fee:
            raise FeeCapBelowBaseFee(
                f"max_fee_per_gas_cap {format_gwei(cap)} is below {self.rt.chain(request.chain).name}'s base fee "
                f"{format_gwei(fees.base_fee)} and the request forbids waiting"
            )
        # None means "not set": a tip of 0 is honoured, never replaced by the oracle's.
        initial, initial_tip = request.fees.initial_max_fee_per_gas, request.fees.initial_max_priority_fee_per_gas
        max_fee = min(fees.max_fee_per_gas, cap) if initial is None else initial
        return max_fee, min(fees.max_priority_fee_per_gas if initial_tip is None else initial_tip, max_fee)

    def record_first(self, operation_id: int, first: FirstAttempt, signed: SignedTx) -> AttemptRecord:
        """Attempt 0's signed bytes stored (in a thread; joins an open ``Ledger.atomic``
        block): the attempt as stored (an earlier one's, if it was recorded first)."""
        request = first.request
        return self.rt.ledger.record_attempt(
            operation_id,
            0,
            kind=AttemptKind.ORIGINAL.value,
            chain_id=first.chain_id,
            signer=request.signer,
            nonce=first.nonce,
            tx_hash=signed.tx_hash,
            raw_tx=signed.raw,
            to_address=request.to,
            value=request.value,
            gas_limit=first.gas,
            max_fee_per_gas=first.max_fee,
            max_priority_fee_per_gas=first.tip,
        )

    @activity.defn(name=TxActivity.BROADCAST)
    @business_errors
    async def tx_broadcast(self, inp: BroadcastInput) -> BroadcastResult:
        """Send the stored bytes of one attempt; never signs."""
        record = await asyncio.to_thread(self.rt.ledger.get_attempt_of, inp.workflow_id, TX_STEP, inp.attempt_index)
        if record is None:
            await self._operation(inp.workflow_id)  # says so if the operation itself is missing
            raise InvalidRequest(f"attempt {inp.attempt_index} of {inp.workflow_id} was never signed")
        outcome = await self.send(record, inp.chain, protected=inp.protected)
        crash_point("tx.after_broadcast", inp.workflow_id)
        return BroadcastResult(outcome=outcome)

    async def send(
        self, record: AttemptRecord, chain: str, *, protected: bool = False, mark: bool = True
    ) -> BroadcastOutcome:
        """Send an attempt's stored bytes and mark it broadcast (``tx_broadcast``, the fast lane);
        ``mark=False``: the caller marks it, in a ledger transaction of its own."""
        outcome = await self.rt.submitter(chain, protected=protected).submit(record.raw_tx)
        answered = utcnow()  # broadcast_at: when the node answered, not when the ledger's thread got to it
        count(TX_ATTEMPTS, "attempts broadcast (each send of signed bytes)", chain=chain, kind=record.kind.value)
        if mark and _delivered(outcome):
            await asyncio.to_thread(
                self.rt.ledger.mark_attempt, record.tx_hash, AttemptStatus.BROADCAST.value, broadcast=True, at=answered
            )
        return outcome

    @activity.defn(name=TxActivity.REPLACE)
    @business_errors
    async def tx_replace(self, inp: ReplaceInput) -> ReplaceResult:
        """Sign (once) a fee-bumped replacement or a cancel for the same nonce."""
        request = inp.request
        ledger = self.rt.ledger
        op = await self._operation(inp.workflow_id)
        existing = await asyncio.to_thread(ledger.get_attempt, op.id, inp.attempt_index)
        if existing is not None:
            return ReplaceResult(attempt=_attempt_view(existing))
        attempts = await asyncio.to_thread(ledger.list_attempts, op.id)
        if not attempts:
            raise InvalidRequest(f"{inp.workflow_id} has no attempt to replace")
        last = attempts[-1]
        fees = await suggest_fees(self.rt.client(request.chain))
        priced = _replacement_fees(request, last, fees, inp.kind)
        if priced is None:
            return ReplaceResult(
                at_cap=True,
                detail=f"a {request.fees.bump_bps / 100:.1f}% bump over {format_gwei(int(last.max_fee_per_gas))} "
                f"exceeds the cap {format_gwei(request.fees.max_fee_per_gas_cap)}",
            )
        max_fee, tip = priced
        if inp.kind is AttemptKind.CANCEL:
            to, value, data, gas = request.signer, 0, "0x", CANCEL_GAS
        else:
            to, value, data, gas = request.to, request.value, request.data, int(last.gas_limit)
        chain = self.rt.chain(request.chain)
        tx = eip1559_tx(
            chain_id=chain.chain_id,
            nonce=last.nonce,
            to=to,
            value=value,
            data=data,
            gas=gas,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
        )
        signed = await self.rt.signers.get(request.signer).sign_transaction(tx)
        record = await asyncio.to_thread(
            ledger.record_attempt,
            op.id,
            inp.attempt_index,
            kind=inp.kind.value,
            chain_id=chain.chain_id,
            signer=request.signer,
            nonce=last.nonce,
            tx_hash=signed.tx_hash,
            raw_tx=signed.raw,
            to_address=to,
            value=value,
            gas_limit=gas,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
        )
        count(TX_REPLACEMENTS, "replacement and cancel attempts signed", chain=request.chain, kind=inp.kind.value)
        crash_point("tx.after_replace_sign")
        return ReplaceResult(attempt=_attempt_view(record))

    @activity.defn(name=TxActivity.WAIT)
    @business_errors
    async def tx_wait(self, inp: WaitInput) -> WaitResult:
        """Poll until one attempt has ``confirmations`` on the canonical chain, or the policy's
        window passes with none included. Heartbeats every poll."""
        client = self.rt.client(inp.chain)
        start_block = await client.block_number()
        started = time.monotonic()
        poll_s = inp.poll_interval_ms / 1000
        unseen = 0
        sighted: MinedTx | None = None  # the receipt last recorded in the ledger
        looked: tuple[int, float] | None = None  # head and time of the last full look
        while True:
            head = await client.block_number()
            blocks_waited = head - start_block
            activity.heartbeat({"head": head, "blocks_waited": blocks_waited})
            crash_point("tx.waiting", inp.workflow_id)
            now = time.monotonic()
            if sighted is None and looked is not None and looked[0] == head and now - looked[1] < FULL_LOOK_S:
                # Receipts and the account's nonce change only with a new block: look again when
                # one comes (and at least every FULL_LOOK_S, for a dropped attempt or the window).
                await asyncio.sleep(poll_s)
                continue
            looked = (head, now)
            mined = await find_mined(client, inp.tx_hashes)
            if mined is not None:
                new_sighting = sighted is None or (sighted.tx_hash, sighted.block_hash) != (
                    mined.tx_hash,
                    mined.block_hash,
                )
                confirmed = await _confirmed(client, mined, inp.confirmations, head)
                if new_sighting or confirmed:
                    await asyncio.to_thread(
                        self._record_receipt, inp.workflow_id, inp.tx_hashes, mined, new_sighting, confirmed
                    )
                    sighted = mined
                if confirmed:
                    crash_point("tx.after_settle", inp.workflow_id)  # settled in the ledger, as in tx_send_settle
                    return _mined_result(mined, blocks_waited)
            elif await client.nonce(inp.signer, "latest") > inp.nonce:
                # The nonce is used; re-read receipts in case ours mined between the two calls.
                mined = await find_mined(client, inp.tx_hashes)
                if mined is None:
                    return WaitResult(outcome=WaitOutcome.NONCE_CONSUMED, blocks_waited=blocks_waited)
                continue
            else:
                if inp.detect_drops:
                    known = await self.rt.submitter(inp.chain, protected=inp.protected).is_known(inp.tx_hashes[-1])
                    unseen = 0 if known else unseen + 1
                # Twice unseen, so a node that has not indexed a fresh broadcast yet is not a drop.
                if unseen >= 2:
                    await asyncio.to_thread(self.rt.ledger.mark_attempt, inp.tx_hashes[-1], AttemptStatus.DROPPED.value)
                    return WaitResult(outcome=WaitOutcome.DROPPED, blocks_waited=blocks_waited)
                if _window_passed(inp, blocks_waited, time.monotonic() - started):
                    return WaitResult(outcome=WaitOutcome.NOT_INCLUDED, blocks_waited=blocks_waited)
            await asyncio.sleep(poll_s)

    def _record_receipt(
        self, workflow_id: str, tx_hashes: list[str], mined: MinedTx, sighting: bool, settle: bool
    ) -> None:
        """One ledger transaction (run in a thread) for what a poll saw: the sighting, appended
        to the operation's ``receipt_sightings`` so a reorg shows in the ledger as the orphaned
        block followed by the canonical one; and, once confirmed, every attempt's final status."""
        ledger = self.rt.ledger
        with ledger.atomic():
            if sighting:
                where = {"tx_hash": mined.tx_hash, "block_number": mined.block_number, "block_hash": mined.block_hash}
                if ledger.append_operation_detail(workflow_id, TX_STEP, "receipt_sightings", where) is None:
                    raise InvalidRequest(f"no transaction operation recorded for workflow {workflow_id}")
            if settle:
                self._settle(tx_hashes, mined)

    def _settle(self, tx_hashes: list[str], mined: MinedTx) -> None:
        status = AttemptStatus.MINED if mined.status == 1 else AttemptStatus.REVERTED
        for tx_hash in tx_hashes:
            if tx_hash.lower() == mined.tx_hash:
                self.rt.ledger.mark_attempt(
                    tx_hash,
                    status.value,
                    block_number=mined.block_number,
                    block_hash=mined.block_hash,
                    gas_used=mined.gas_used,
                    effective_gas_price=mined.effective_gas_price,
                )
            else:
                self.rt.ledger.mark_attempt(tx_hash, AttemptStatus.REPLACED.value)


def _delivered(outcome: BroadcastOutcome) -> bool:
    """The node has the attempt (sent now, or already): it is marked broadcast."""
    return outcome in (BroadcastOutcome.SENT, BroadcastOutcome.ALREADY_KNOWN)


SETTLE_LOOK_S = 0.02  # tx_send_settle's further looks for the receipt, when its caller allows them
FULL_LOOK_S = 1.0  # tx_wait looks at receipts, nonce and mempool on a new head, else at this pace


async def _confirmed(client: EvmClient, mined: MinedTx, confirmations: int, head: int | None = None) -> bool:
    """Whether a receipt has ``confirmations`` blocks (its own included) under ``head`` (read
    now if not given) and its block is still the canonical one at that height."""
    head = await client.block_number() if head is None else head
    return head - mined.block_number + 1 >= confirmations and await is_canonical(client, mined)


async def _settled_at_send(client: EvmClient, mined: MinedTx, confirmations: int) -> bool:
    """``_confirmed`` for the receipt ``tx_send_settle`` has just read. At one confirmation
    that receipt answers both questions: a node answers a receipt only for a transaction in
    its canonical chain, and its block is the confirmation. Reading the head and the block at
    that height a moment later (two calls more per lifecycle) would only re-ask the same node
    the same question. A reorg after the look can undo one confirmation either way: more
    confirmations are what guard against it, and those still take both reads."""
    return confirmations <= 1 or await _confirmed(client, mined, confirmations)


def _window_passed(inp: WaitInput, blocks: int, seconds: float) -> bool:
    return (inp.max_blocks is not None and blocks >= inp.max_blocks) or (
        inp.max_seconds is not None and seconds >= inp.max_seconds
    )


def _mined_result(mined: MinedTx, blocks_waited: int) -> WaitResult:
    return WaitResult(
        outcome=WaitOutcome.MINED,
        tx_hash=mined.tx_hash,
        block_number=mined.block_number,
        block_hash=mined.block_hash,
        status=mined.status,
        gas_used=mined.gas_used,
        effective_gas_price=mined.effective_gas_price,
        blocks_waited=blocks_waited,
    )


def _replacement_fees(
    request: TxRequest, last: AttemptRecord, fees: FeeSuggestion, kind: AttemptKind
) -> tuple[int, int] | None:
    """(max fee, tip) for the next attempt, or None when the cap leaves no valid bump.

    A replacement must raise both fields by at least ``bump_bps`` over the last attempt
    and follows the oracle when it asks for more, never past the cap. A cancel pays the
    minimum valid bump even past the cap (it burns only 21000 gas).
    """
    cap = request.fees.max_fee_per_gas_cap
    min_max_fee = bump(int(last.max_fee_per_gas), request.fees.bump_bps)
    min_tip = bump(int(last.max_priority_fee_per_gas), request.fees.bump_bps)
    if kind is AttemptKind.CANCEL:
        if min_max_fee > bump(cap, request.fees.bump_bps):
            return None
        max_fee = max(min_max_fee, min(fees.max_fee_per_gas, cap))
        return max_fee, min(max(min_tip, fees.max_priority_fee_per_gas), max_fee)
    if min_max_fee > cap:
        return None
    max_fee = min(max(min_max_fee, fees.max_fee_per_gas), cap)
    tip = min(max(min_tip, fees.max_priority_fee_per_gas), max_fee)
    if tip < min_tip:
        return None
    return max_fee, tip
