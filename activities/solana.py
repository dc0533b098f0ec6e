"""SolanaTransaction's activities: thin, idempotent steps keyed by (workflow id, "sol").

Order of effects, so that any retry after a crash is safe:
1. ``sol_plan``    validates against the cluster (known asset, amount within the mint's
   decimals, a key for the signer) and only then records the operation;
2. ``sol_sign``    signs attempt *i* with a recent blockhash and stores its raw bytes before
   anything is sent; a retry finds them and returns the same signature. Attempt *i > 0* is
   signed only when attempt *i - 1* is recorded as proven expired;
3. ``sol_send``    sends exactly the stored bytes (a re-send answers the same signature);
4. ``sol_confirm`` waits, heartbeating, until the attempt reaches the commitment, landed
   with an error, or is proven never to land (its blockhash's last valid block height is
   finalized and the signature has no status in the node's whole history).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from solders.pubkey import Pubkey
from temporalio import activity

from activities.errors import business_errors
from activities.runtime import ChainRuntime
from connectors.solana.client import Confirmation, MintInfo, SolanaClient
from connectors.solana.errors import BlockhashExpired, TransactionFailed
from connectors.solana.signer import SolanaSignerRegistry
from connectors.solana.transactions import (
    SOL_TRANSFER_COMPUTE_UNITS,
    SPL_TRANSFER_COMPUTE_UNITS,
    SignedSolanaTx,
    sign_transaction,
    sol_transfer,
    spl_transfer,
)
from crosslane.crashpoints import crash_point
from crosslane.domain.families import chain_key
from crosslane.domain.solana import (
    NATIVE,
    SOL_DECIMALS,
    SolAttempt,
    SolPlan,
    SolTransferRequest,
    base_units,
    lamports,
)
from crosslane.domain.solana_address import parse_address
from crosslane.domain.solana_steps import (
    ConfirmOutcome,
    SendOutcome,
    SolActivity,
    SolConfirmInput,
    SolConfirmResult,
    SolPlanInput,
    SolSendInput,
    SolSendResult,
    SolSignInput,
)
from crosslane.errors import BroadcastRejected, InvalidRequest
from crosslane.ledger.records import OperationRecord
from crosslane.ledger.solana_attempts import SolanaAttemptRecord, SolanaAttempts, SolanaAttemptStatus

SOL_STEP = "sol"
HEARTBEAT_EVERY_S = 1.0


def attempt_view(record: SolanaAttemptRecord) -> SolAttempt:
    return SolAttempt(
        index=record.attempt_index,
        signature=record.signature,
        blockhash=record.recent_blockhash,
        last_valid_block_height=record.last_valid_block_height,
        unit_price=record.unit_price,
        unit_limit=record.unit_limit,
        expired=record.status is SolanaAttemptStatus.EXPIRED,
    )


def _signed(record: SolanaAttemptRecord) -> SignedSolanaTx:
    return SignedSolanaTx(
        raw=record.raw_tx,
        signature=record.signature,
        blockhash=record.recent_blockhash,
        last_valid_block_height=record.last_valid_block_height,
        unit_price=record.unit_price,
        unit_limit=record.unit_limit,
    )


class SolanaActivities:
    """Signing keys come from ``signers`` (default: ``CROSSLANE_SOLANA_KEYS``), clusters from
    the runtime's registry file."""

    def __init__(self, runtime: ChainRuntime, signers: SolanaSignerRegistry | None = None) -> None:
        self.rt = runtime
        self.attempts = SolanaAttempts(runtime.ledger)
        self.signers = signers if signers is not None else SolanaSignerRegistry.from_env()
        self._clients: dict[str, SolanaClient] = {}

    def client(self, cluster: str) -> SolanaClient:
        if cluster not in self._clients:
            self._clients[cluster] = SolanaClient(self.rt.chains.solana_cluster(cluster).rpc_url)
        return self._clients[cluster]

    def all(self) -> list[Callable[..., Any]]:
        return [self.sol_plan, self.sol_sign, self.sol_send, self.sol_confirm]

    async def _operation(self, workflow_id: str) -> OperationRecord:
        op = await asyncio.to_thread(self.rt.ledger.get_operation, workflow_id, SOL_STEP)
        if op is None:
            raise InvalidRequest(f"no Solana transfer recorded for workflow {workflow_id}")
        return op

    async def _attempt(self, workflow_id: str, index: int) -> SolanaAttemptRecord:
        op = await self._operation(workflow_id)
        record = await asyncio.to_thread(self.attempts.get, op.id, index)
        if record is None:
            raise InvalidRequest(f"attempt {index} of {workflow_id} was never signed")
        return record

    async def _mint(self, request: SolTransferRequest) -> MintInfo:
        """The mint of a non-SOL asset: by symbol from the registry, or read on chain by address."""
        cluster = self.rt.chains.solana_cluster(request.cluster)
        known = cluster.mint_by_symbol(request.asset)
        if known is not None:
            return MintInfo(mint=known.mint, decimals=known.decimals, token_program=known.token_program)
        if len(request.asset) < 32:
            symbols = ", ".join([NATIVE, *sorted(cluster.mints)])
            raise InvalidRequest(f"asset: unknown {request.asset!r} on {cluster.name}; known: {symbols}")
        try:
            return await self.client(request.cluster).mint_info(parse_address(request.asset, "asset"))
        except InvalidRequest as exc:
            raise InvalidRequest(f"asset: unknown mint on {cluster.name} ({exc})") from None

    @activity.defn(name=SolActivity.PLAN)
    @business_errors
    async def sol_plan(self, inp: SolPlanInput) -> SolPlan:
        """Validate against the cluster, then record the operation; nothing is recorded for a
        refused request."""
        request = inp.request
        cluster = self.rt.chains.solana_cluster(request.cluster)
        self.signers.get(request.signer)
        commitment = request.commitment or cluster.default_commitment
        if request.asset == NATIVE:
            plan = SolPlan(
                cluster=cluster.name,
                asset=NATIVE,
                decimals=SOL_DECIMALS,
                amount=lamports(request.amount),
                commitment=commitment,
            )
        else:
            mint = await self._mint(request)
            symbol = next((s for s, m in cluster.mints.items() if m.mint == mint.mint), mint.mint)
            plan = SolPlan(
                cluster=cluster.name,
                asset=symbol,
                mint=mint.mint,
                token_program=mint.token_program,
                decimals=mint.decimals,
                amount=base_units(request.amount, mint.decimals, f"the mint has {mint.decimals} decimals"),
                commitment=commitment,
            )
        await asyncio.to_thread(
            self.rt.ledger.begin_operation,
            inp.workflow_id,
            SOL_STEP,
            "sol_transfer",
            detail={"request": request.model_dump(mode="json"), "plan": plan.model_dump(mode="json")},
            family="solana",
            chain=chain_key("solana", cluster.name),
            account=request.signer,
        )
        return plan

    @activity.defn(name=SolActivity.SIGN)
    @business_errors
    async def sol_sign(self, inp: SolSignInput) -> SolAttempt:
        """Sign attempt ``attempt_index`` once, with a recent blockhash and a priority fee from
        recent slots (a re-sign bids higher, within the cap); store it before returning."""
        request, plan = inp.request, inp.plan
        op = await self._operation(inp.workflow_id)
        existing = await asyncio.to_thread(self.attempts.get, op.id, inp.attempt_index)
        if existing is not None:
            return attempt_view(existing)
        previous = None
        if inp.attempt_index > 0:
            previous = await asyncio.to_thread(self.attempts.get, op.id, inp.attempt_index - 1)
            if previous is None or previous.status is not SolanaAttemptStatus.EXPIRED:
                raise InvalidRequest(
                    f"attempt {inp.attempt_index - 1} of {inp.workflow_id} is not proven expired: "
                    "refusing to sign another that could land too"
                )
        signer = self.signers.get(request.signer)
        recipient = Pubkey.from_string(request.recipient)
        if plan.mint is None:
            instructions = sol_transfer(signer.pubkey, recipient, plan.amount)
            unit_limit = SOL_TRANSFER_COMPUTE_UNITS
        else:
            instructions = spl_transfer(
                signer.pubkey,
                recipient,
                Pubkey.from_string(plan.mint),
                plan.amount,
                plan.decimals,
                Pubkey.from_string(plan.token_program or ""),
            )
            unit_limit = SPL_TRANSFER_COMPUTE_UNITS
        client = self.client(request.cluster)
        recent_fees = await client.recent_priority_fees([signer.pubkey, recipient])
        price = request.fees.price(recent_fees)
        if previous is not None:
            price = max(price, request.fees.bumped(previous.unit_price))
        signed = await sign_transaction(signer, instructions, await client.latest_blockhash(), unit_limit, price)
        record = await asyncio.to_thread(
            self.attempts.record,
            op.id,
            inp.attempt_index,
            cluster=request.cluster,
            signer=request.signer,
            signature=signed.signature,
            raw_tx=signed.raw,
            recent_blockhash=signed.blockhash,
            last_valid_block_height=signed.last_valid_block_height,
            unit_price=signed.unit_price,
            unit_limit=signed.unit_limit,
        )
        crash_point("sol.after_sign", inp.workflow_id)
        return attempt_view(record)

    @activity.defn(name=SolActivity.SEND)
    @business_errors
    async def sol_send(self, inp: SolSendInput) -> SolSendResult:
        """Send the stored bytes of one attempt; never signs."""
        record = await self._attempt(inp.workflow_id, inp.attempt_index)
        try:
            await self.client(inp.cluster).send(_signed(record))
        except BlockhashExpired:
            return SolSendResult(outcome=SendOutcome.BLOCKHASH_EXPIRED, signature=record.signature)
        except BroadcastRejected as exc:
            await asyncio.to_thread(self.attempts.mark, record.signature, SolanaAttemptStatus.REJECTED, error=str(exc))
            raise
        await asyncio.to_thread(self.attempts.mark, record.signature, SolanaAttemptStatus.SENT)
        crash_point("sol.after_send", inp.workflow_id)
        return SolSendResult(outcome=SendOutcome.SENT, signature=record.signature)

    @activity.defn(name=SolActivity.CONFIRM)
    @business_errors
    async def sol_confirm(self, inp: SolConfirmInput) -> SolConfirmResult:
        """Until the attempt reaches ``commitment``, landed and failed, or is proven never to
        land; heartbeats meanwhile."""
        client = self.client(inp.cluster)
        waiting = asyncio.ensure_future(
            client.confirm(
                inp.signature,
                inp.last_valid_block_height,
                inp.commitment,
                poll_interval_s=inp.poll_interval_ms / 1000,
            )
        )
        try:
            while not waiting.done():
                activity.heartbeat({"signature": inp.signature})
                crash_point("sol.confirming", inp.workflow_id)
                await asyncio.wait({waiting}, timeout=HEARTBEAT_EVERY_S)
            confirmation: Confirmation | None = waiting.result()
        except TransactionFailed as exc:
            error = str(exc.err)
            await asyncio.to_thread(self.attempts.mark, inp.signature, SolanaAttemptStatus.FAILED, error=error)
            return SolConfirmResult(outcome=ConfirmOutcome.FAILED, error=error)
        finally:
            waiting.cancel()
        if confirmation is None:
            await asyncio.to_thread(self.attempts.mark, inp.signature, SolanaAttemptStatus.EXPIRED)
            return SolConfirmResult(outcome=ConfirmOutcome.EXPIRED)
        await asyncio.to_thread(self.attempts.mark, inp.signature, SolanaAttemptStatus.LANDED, slot=confirmation.slot)
        return SolConfirmResult(
            outcome=ConfirmOutcome.LANDED, slot=confirmation.slot, commitment=confirmation.commitment
        )
