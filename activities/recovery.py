"""Signer sweep for StuckTxRecovery: what is stuck in the pool and which nonces are gaps."""

from __future__ import annotations

import asyncio
from typing import Any

from eth_utils import to_checksum_address
from temporalio import activity

from activities.errors import business_errors
from activities.runtime import ChainRuntime
from connectors.evm.fees import suggest_fees
from crosslane.domain.tx_steps import ScanInput, ScanResult, StuckTx, TxActivity


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _pool_for(content: Any, signer: str) -> dict[int, dict[str, Any]]:
    """txpool_content's pending and queued transactions of ``signer``, by nonce."""
    by_nonce: dict[int, dict[str, Any]] = {}
    for section in ("pending", "queued"):
        for address, txs in (content or {}).get(section, {}).items():
            if address.lower() == signer.lower():
                for nonce, tx in txs.items():
                    by_nonce[int(nonce)] = tx
    return by_nonce


class RecoveryActivities:
    def __init__(self, runtime: ChainRuntime) -> None:
        self.rt = runtime

    @activity.defn(name=TxActivity.SCAN_SIGNER)
    @business_errors
    async def tx_scan_signer(self, inp: ScanInput) -> ScanResult:
        chain = self.rt.chain(inp.chain)
        client = self.rt.client(inp.chain)
        mined_nonce = await client.nonce(inp.signer, "latest")
        pending_nonce = await client.nonce(inp.signer, "pending")
        fees = await suggest_fees(client)
        pool = _pool_for(await client.rpc("txpool_content", []), inp.signer)
        held = await asyncio.to_thread(self.rt.ledger.nonces_held, chain.chain_id, inp.signer)

        stuck: list[StuckTx] = []
        for nonce in sorted(n for n in pool if n >= mined_nonce):
            tx = pool[nonce]
            max_fee = _int(tx.get("maxFeePerGas", tx.get("gasPrice", 0)))
            if max_fee >= fees.base_fee:
                continue
            owner = held.get(nonce)
            stuck.append(
                StuckTx(
                    nonce=nonce,
                    tx_hash=tx.get("hash"),
                    owner_workflow_id=owner.workflow_id if owner else None,
                    to=to_checksum_address(tx.get("to") or inp.signer),
                    value=_int(tx.get("value", 0)),
                    data=tx.get("input", "0x"),
                    gas=_int(tx.get("gas", 21_000)),
                    max_fee_per_gas=max_fee,
                    max_priority_fee_per_gas=_int(tx.get("maxPriorityFeePerGas", max_fee)),
                    reason=f"max fee {max_fee} wei/gas is below the base fee {fees.base_fee}",
                )
            )
        top = max(pool, default=mined_nonce - 1)
        gaps = [n for n in range(mined_nonce, top) if n not in pool]
        return ScanResult(
            chain=inp.chain,
            signer=inp.signer,
            mined_nonce=mined_nonce,
            pending_nonce=pending_nonce,
            base_fee=fees.base_fee,
            stuck=stuck,
            gaps=gaps,
        )
