"""Crosslane's thin SDK: typed starts and reads of Crosslane workflows over Temporal.

client = await CrosslaneClient.connect()
handle = await client.start_tx(TxRequest(...))
result: TxResult = await handle.result()
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TypeVar

from temporalio.client import Client, Interceptor, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.runtime import Runtime

from crosslane.config import Settings, settings
from crosslane.converter import data_converter
from crosslane.domain.arb_steps import ArbitrageRequest, ArbResult, ArbStatus
from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeStatus
from crosslane.domain.cex import CexExecution, CexOrderRequest
from crosslane.domain.cex_transfer import CexTransferRequest, CexTransferResult, CexTransferStatus
from crosslane.domain.chain_requests import ChainRequestModel
from crosslane.domain.dex import SwapRequest, SwapResult, SwapStatus
from crosslane.domain.dex_liquidity import LIQUIDITY_WORKFLOW, LiquidityRequest, LiquidityResult, LiquidityStatus
from crosslane.domain.lp_migration import (
    LP_MIGRATION_WORKFLOW,
    LPMigrationRequest,
    MigrationResult,
    MigrationStatus,
)
from crosslane.domain.recovery import RecoveryReport, RecoveryRequest
from crosslane.domain.solana import SolResult, SolStatus, SolTransferRequest
from crosslane.domain.tx import TxRequest, TxResult, TxState, TxStatus
from crosslane.domain.yield_compound import COMPOUND_WORKFLOW, CompoundRequest, CompoundResult, CompoundStatus
from workflows import search_attributes as sa

TX_WORKFLOW = "TransactionLifecycle"
RECOVERY_WORKFLOW = "StuckTxRecovery"
SWAP_WORKFLOW = "DexSwap"
BRIDGE_WORKFLOW = "BridgeTransfer"
SOL_WORKFLOW = "SolanaTransaction"
CEX_ORDER_WORKFLOW = "CexOrder"
ARBITRAGE_WORKFLOW = "Arbitrage"
R = TypeVar("R")


async def connect_temporal(
    cfg: Settings | None = None, *, runtime: Runtime | None = None, interceptors: Sequence[Interceptor] = ()
) -> Client:
    """``runtime``: one with telemetry (the worker's); ``interceptors`` apply to the client's
    calls and to the workers built on it."""
    cfg = cfg or settings()
    return await Client.connect(
        cfg.temporal_address,
        namespace=cfg.temporal_namespace,
        data_converter=data_converter,
        runtime=runtime,
        interceptors=interceptors,
    )


class LegSender(Protocol):
    """Sends an arbitrage's legs before its run starts (``activities.arb_fastlane.ArbFastLane``)."""

    async def send(self, request: ArbitrageRequest) -> ArbitrageRequest: ...

    async def orphans(
        self, started: Callable[[str], Awaitable[bool]], min_age: timedelta
    ) -> list[ArbitrageRequest]: ...


@dataclass
class CrosslaneClient:
    temporal: Client
    task_queue: str

    @classmethod
    async def connect(cls, cfg: Settings | None = None) -> CrosslaneClient:
        cfg = cfg or settings()
        return cls(await connect_temporal(cfg), cfg.task_queue)

    async def _start_once(
        self,
        workflow: str,
        request: TxRequest
        | SwapRequest
        | LiquidityRequest
        | BridgeRequest
        | SolTransferRequest
        | CexOrderRequest
        | CexTransferRequest
        | ArbitrageRequest
        | CompoundRequest
        | LPMigrationRequest,
        result_type: type[R],
        summary: str,
        search_attributes: TypedSearchAttributes | None = None,
    ) -> WorkflowHandle[object, R]:
        """Start (or join, if running) the run keyed by ``request.workflow_id``: the workflow
        id is the business key, so starting twice runs once; a closed run is not repeated."""
        return await self.temporal.start_workflow(
            workflow,
            request,
            id=request.workflow_id,
            task_queue=self.task_queue,
            result_type=result_type,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=summary,
            search_attributes=search_attributes,
        )

    def _handle(self, prefix: str, request_id: str, result_type: type[R]) -> WorkflowHandle[object, R]:
        """The run of a request id, or of a workflow id already carrying ``prefix``."""
        workflow_id = request_id if request_id.startswith(prefix) else f"{prefix}{request_id}"
        return self.temporal.get_workflow_handle(workflow_id, result_type=result_type)

    async def start_tx(self, request: TxRequest) -> WorkflowHandle[object, TxResult]:
        """Start (or join) the lifecycle for ``request.request_id`` (workflow id ``tx-<id>``)."""
        summary = f"{request.value} wei from {request.signer} to {request.to} on {request.chain}"
        # Listed by chain, signer and state from its start; the lifecycle then skips its own
        # first upsert (one history event and one visibility write fewer per run, issue 15).
        listed = TypedSearchAttributes(
            [
                SearchAttributePair(sa.CHAIN, request.chain),
                SearchAttributePair(sa.SIGNER, request.signer),
                SearchAttributePair(sa.STATE, TxState.PREPARING.value),
            ]
        )
        return await self._start_once(TX_WORKFLOW, request, TxResult, summary, listed)

    def tx_handle(self, request_id: str) -> WorkflowHandle[object, TxResult]:
        return self._handle("tx-", request_id, TxResult)

    async def tx_status(self, request_id: str) -> TxStatus:
        return await self.tx_handle(request_id).query("status", result_type=TxStatus)

    async def start_recovery(self, request: RecoveryRequest, run_key: str) -> WorkflowHandle[object, RecoveryReport]:
        """One sweep per ``run_key`` (e.g. a timestamp or ticket id)."""
        return await self.temporal.start_workflow(
            RECOVERY_WORKFLOW,
            request,
            id=f"recover-{request.chain}-{request.signer}-{run_key}",
            task_queue=self.task_queue,
            result_type=RecoveryReport,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )

    async def start_swap(self, request: SwapRequest) -> WorkflowHandle[object, SwapResult]:
        """Start (or join) the DexSwap for ``request.request_id`` (workflow id ``swap-<id>``)."""
        summary = f"{request.trade_type} {request.amount} {request.token_in} -> {request.token_out} on {request.chain}"
        return await self._start_once(SWAP_WORKFLOW, request, SwapResult, summary)

    def swap_handle(self, request_id: str) -> WorkflowHandle[object, SwapResult]:
        return self._handle("swap-", request_id, SwapResult)

    async def swap_status(self, request_id: str) -> SwapStatus:
        return await self.swap_handle(request_id).query("status", result_type=SwapStatus)

    async def start_liquidity(self, request: LiquidityRequest) -> WorkflowHandle[object, LiquidityResult]:
        """Start (or join) the DexLiquidity for ``request.request_id`` (workflow id ``lp-<id>``)."""
        summary = f"{request.action} {request.owner} on {request.chain}"
        return await self._start_once(LIQUIDITY_WORKFLOW, request, LiquidityResult, summary)

    def liquidity_handle(self, request_id: str) -> WorkflowHandle[object, LiquidityResult]:
        return self._handle("lp-", request_id, LiquidityResult)

    async def liquidity_status(self, request_id: str) -> LiquidityStatus:
        return await self.liquidity_handle(request_id).query("status", result_type=LiquidityStatus)

    async def start_lp_migration(self, request: LPMigrationRequest) -> WorkflowHandle[object, MigrationResult]:
        """Start (or join) the LPMigration for ``request.request_id`` (workflow id ``lpm-<id>``)."""
        summary = f"{request.kind} of {request.owner}'s liquidity on {request.chain}"
        return await self._start_once(LP_MIGRATION_WORKFLOW, request, MigrationResult, summary)

    def lp_migration_handle(self, request_id: str) -> WorkflowHandle[object, MigrationResult]:
        return self._handle("lpm-", request_id, MigrationResult)

    async def lp_migration_status(self, request_id: str) -> MigrationStatus:
        return await self.lp_migration_handle(request_id).query("status", result_type=MigrationStatus)

    async def start_cex_order(self, request: CexOrderRequest) -> WorkflowHandle[object, CexExecution]:
        """Start (or join) the CexOrder for ``request.request_id`` (workflow id ``cex-<id>``);
        the run has no status query: its result (or failure) is the venue's answer."""
        leg = request.leg
        summary = f"{leg.side} {leg.qty} {leg.symbol} ({leg.kind}) through the fast path"
        return await self._start_once(CEX_ORDER_WORKFLOW, request, CexExecution, summary)

    def cex_order_handle(self, request_id: str) -> WorkflowHandle[object, CexExecution]:
        return self._handle("cex-", request_id, CexExecution)

    async def start_bridge(self, request: BridgeRequest) -> WorkflowHandle[object, BridgeResult]:
        """Start (or join) the BridgeTransfer for ``request.request_id`` (workflow id ``bridge-<id>``)."""
        summary = f"bridge {request.amount} {request.asset} {request.source_chain} -> {request.destination_chain}"
        if request.route:
            summary += f" via {request.route}"
        return await self._start_once(BRIDGE_WORKFLOW, request, BridgeResult, summary)

    def bridge_handle(self, request_id: str) -> WorkflowHandle[object, BridgeResult]:
        return self._handle("bridge-", request_id, BridgeResult)

    async def bridge_status(self, request_id: str) -> BridgeStatus:
        return await self.bridge_handle(request_id).query("status", result_type=BridgeStatus)

    async def start_cex_transfer(self, request: CexTransferRequest) -> WorkflowHandle[object, CexTransferResult]:
        """Start (or join) the CexTransfer for ``request.request_id`` (workflow id ``cex-transfer-<id>``)."""
        where = f"to {request.address} on" if request.direction == "withdraw" else f"from {request.address} on"
        summary = f"{request.direction} {request.amount} {request.asset} {request.venue} {where} {request.chain}"
        return await self._start_once("CexTransfer", request, CexTransferResult, summary)

    async def cex_transfer_status(self, request_id: str) -> CexTransferStatus:
        handle = self._handle("cex-transfer-", request_id, CexTransferResult)
        return await handle.query("status", result_type=CexTransferStatus)

    async def start_sol(self, request: SolTransferRequest) -> WorkflowHandle[object, SolResult]:
        """Start (or join) the SolanaTransaction for ``request.request_id`` (workflow id ``sol-<id>``)."""
        summary = f"{request.amount} {request.asset} {request.signer} -> {request.recipient} on {request.cluster}"
        return await self._start_once(SOL_WORKFLOW, request, SolResult, summary)

    async def start_chain_request(self, request: ChainRequestModel) -> WorkflowHandle[object, object]:
        """Start (or join) the run of a request of any chain family (``ChainRequest``, e.g.
        from ``parse_chain_request``): the request names its workflow, so no family is asked
        about here. The result is the workflow's result as plain JSON."""
        summary = f"{request.family} request {request.request_id}"
        return await self._start_once(request.workflow_type, request, object, summary)

    def sol_handle(self, request_id: str) -> WorkflowHandle[object, SolResult]:
        return self._handle("sol-", request_id, SolResult)

    async def sol_status(self, request_id: str) -> SolStatus:
        return await self.sol_handle(request_id).query("status", result_type=SolStatus)

    async def start_arbitrage(self, request: ArbitrageRequest) -> WorkflowHandle[object, ArbResult]:
        """Start (or join) the Arbitrage for ``request.request_id`` (workflow id ``arb-<id>``)."""
        summary = (
            f"{request.kind} {request.size} {request.asset}: buy {request.buy.describe()}, "
            f"sell {request.sell.describe()}, min profit {request.min_profit} {request.quote}"
        )
        return await self._start_once(ARBITRAGE_WORKFLOW, request, ArbResult, summary)

    async def start_arbitrage_sent_first(
        self, request: ArbitrageRequest, lane: LegSender
    ) -> WorkflowHandle[object, ArbResult]:
        """The fast lane: ``lane`` sends both legs outside Temporal, then the run is started
        (or joined) to adopt them (``sent_first``); when the lane cannot send both it sends
        nothing and the run starts as usual. Retrying the same request sends nothing twice."""
        return await self.start_arbitrage(await lane.send(request))

    async def start_compound(self, request: CompoundRequest) -> WorkflowHandle[object, CompoundResult]:
        """Compound a position once (workflow id ``compound-<id>``); schedules are in
        ``crosslane.schedules``."""
        summary = f"compound {request.position.key} of {request.owner} on {request.chain}"
        return await self._start_once(COMPOUND_WORKFLOW, request, CompoundResult, summary)

    async def compound_status(self, request_id: str) -> CompoundStatus:
        handle = self._handle("compound-", request_id, CompoundResult)
        return await handle.query("status", result_type=CompoundStatus)

    def arbitrage_handle(self, request_id: str) -> WorkflowHandle[object, ArbResult]:
        return self._handle("arb-", request_id, ArbResult)

    async def arbitrage_status(self, request_id: str) -> ArbStatus:
        return await self.arbitrage_handle(request_id).query("status", result_type=ArbStatus)
