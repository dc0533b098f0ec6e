"""Crosslane's thin SDK: typed starts and reads of Crosslane workflows over Temporal.

client = await CrosslaneClient.connect()
handle = await client.start_tx(TxRequest(...))
result: TxResult = await handle.result()
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from crosslane.config import Settings, settings
from crosslane.converter import data_converter
from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeStatus
from crosslane.domain.dex import SwapRequest, SwapResult, SwapStatus
from crosslane.domain.recovery import RecoveryReport, RecoveryRequest
from crosslane.domain.tx import TxRequest, TxResult, TxStatus

TX_WORKFLOW = "TransactionLifecycle"
RECOVERY_WORKFLOW = "StuckTxRecovery"
SWAP_WORKFLOW = "DexSwap"
BRIDGE_WORKFLOW = "BridgeTransfer"


async def connect_temporal(cfg: Settings | None = None) -> Client:
    cfg = cfg or settings()
    return await Client.connect(
        cfg.temporal_address, namespace=cfg.temporal_namespace, data_converter=data_converter
    )


@dataclass
class CrosslaneClient:
    temporal: Client
    task_queue: str

    @classmethod
    async def connect(cls, cfg: Settings | None = None) -> CrosslaneClient:
        cfg = cfg or settings()
        return cls(await connect_temporal(cfg), cfg.task_queue)

    async def start_tx(self, request: TxRequest) -> WorkflowHandle[object, TxResult]:
        """Start (or join, if already running) the lifecycle for ``request.request_id``.

        The workflow id is the business key, so starting twice runs once; a closed run with
        the same id is not repeated.
        """
        return await self.temporal.start_workflow(
            TX_WORKFLOW,
            request,
            id=request.workflow_id,
            task_queue=self.task_queue,
            result_type=TxResult,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"{request.value} wei from {request.signer} to {request.to} on {request.chain}",
        )

    def tx_handle(self, request_id: str) -> WorkflowHandle[object, TxResult]:
        workflow_id = request_id if request_id.startswith("tx-") else f"tx-{request_id}"
        return self.temporal.get_workflow_handle(workflow_id, result_type=TxResult)

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
        """Start (or join) the DexSwap for ``request.request_id`` (workflow id ``swap-<id>``);
        a closed run with the same id is not repeated."""
        return await self.temporal.start_workflow(
            SWAP_WORKFLOW,
            request,
            id=request.workflow_id,
            task_queue=self.task_queue,
            result_type=SwapResult,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=(
                f"{request.trade_type} {request.amount} {request.token_in} -> {request.token_out} on {request.chain}"
            ),
        )

    def swap_handle(self, request_id: str) -> WorkflowHandle[object, SwapResult]:
        workflow_id = request_id if request_id.startswith("swap-") else f"swap-{request_id}"
        return self.temporal.get_workflow_handle(workflow_id, result_type=SwapResult)

    async def swap_status(self, request_id: str) -> SwapStatus:
        return await self.swap_handle(request_id).query("status", result_type=SwapStatus)

    async def start_bridge(self, request: BridgeRequest) -> WorkflowHandle[object, BridgeResult]:
        """Start (or join) the BridgeTransfer for ``request.request_id`` (workflow id
        ``bridge-<id>``); a closed run with the same id is not repeated."""
        return await self.temporal.start_workflow(
            BRIDGE_WORKFLOW,
            request,
            id=request.workflow_id,
            task_queue=self.task_queue,
            result_type=BridgeResult,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=(
                f"bridge {request.amount} {request.asset} {request.source_chain} -> {request.destination_chain}"
                + (f" via {request.route}" if request.route else "")
            ),
        )

    def bridge_handle(self, request_id: str) -> WorkflowHandle[object, BridgeResult]:
        workflow_id = request_id if request_id.startswith("bridge-") else f"bridge-{request_id}"
        return self.temporal.get_workflow_handle(workflow_id, result_type=BridgeResult)

    async def bridge_status(self, request_id: str) -> BridgeStatus:
        return await self.bridge_handle(request_id).query("status", result_type=BridgeStatus)
