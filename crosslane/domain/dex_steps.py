"""Activity names and their input models for DEX swaps.

The ``DexSwap`` workflow calls activities by these names, so it never imports a connector.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from crosslane.domain.dex import SwapPlan, SwapRequest
from crosslane.domain.tx import TxResult


class DexActivity(StrEnum):
    QUOTE = "dex_quote"
    BUILD_SWAP = "dex_build_swap"
    SETTLE = "dex_settle"


class QuoteInput(BaseModel):
    workflow_id: str
    request: SwapRequest


class BuildSwapInput(BaseModel):
    workflow_id: str
    request: SwapRequest
    plan: SwapPlan


class SwapSettleInput(BaseModel):
    workflow_id: str
    request: SwapRequest
    plan: SwapPlan
    swap: TxResult
    approve: TxResult | None = None
