"""Where each bridge route is reached (loaded with the chain registry)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WormholeEndpoints(BaseModel):
    """Where the Wormhole route is reached: the guardians' signed-VAA API and chain ids."""

    model_config = ConfigDict(frozen=True)

    guardian_url: str
    chain_ids: dict[str, int] = Field(description="chain name -> Wormhole chain id")
    finality: int = Field(default=1, ge=1, description="source confirmations the guardians wait for")
    expected_seconds: int = Field(default=1080, gt=0, description="finality + attestation + redeem, as planned")
    security_score: int = Field(default=80, ge=0, le=100)


class AcrossEndpoints(BaseModel):
    """Where the Across route is quoted: the Across API (``https://app.across.to/api``; on the
    devnet, the relayer answers its ``suggested-fees``)."""

    model_config = ConfigDict(frozen=True)

    api_url: str
    expected_seconds: int = Field(default=30, gt=0, description="when the API gives no estimatedFillTimeSec")
    security_score: int = Field(default=70, ge=0, le=100)
    fill_deadline_seconds: int = Field(default=3600, gt=0, description="how long a relayer may take to fill")


class OpCanonicalEndpoints(BaseModel):
    """OP Stack rollups' canonical bridges (``L1StandardBridge``/``OptimismPortal`` on the L1,
    predeploys on the L2); each rollup is a chain with ``settles_on`` its L1, and its L1
    contracts are the L1 chain's ``<rollup>:<contract>``."""

    model_config = ConfigDict(frozen=True)

    deposit_seconds: int = Field(default=180, gt=0, description="L1 -> L2: the sequencer includes it in minutes")
    finalization_seconds: int = Field(
        default=7 * 24 * 3600, gt=0, description="L2 -> L1: the fault-challenge window after the proof"
    )
    output_interval_seconds: int = Field(default=3600, gt=0, description="how often output roots are posted")
    security_score: int = Field(default=95, ge=0, le=100)


class BridgeEndpoints(BaseModel):
    model_config = ConfigDict(frozen=True)

    wormhole: WormholeEndpoints | None = None
    across: AcrossEndpoints | None = None
    op_canonical: OpCanonicalEndpoints | None = None
