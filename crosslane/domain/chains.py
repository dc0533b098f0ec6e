"""Chains Crosslane knows, and where to reach them.

The registry is loaded from one JSON file (the devnet writes it; production points
``CROSSLANE_DEVNET_STATE`` at its own file of the same shape). Workflows carry only chain
names; activities resolve them here.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from crosslane.errors import InvalidRequest


class TokenInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    address: str
    decimals: int = Field(ge=0, le=36)


class ChainConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    chain_id: int = Field(gt=0)
    rpc_urls: list[str] = Field(min_length=1, description="ordered: first is primary")
    confirmations: int = Field(default=1, ge=1)
    contracts: dict[str, str] = Field(default_factory=dict)
    tokens: dict[str, TokenInfo] = Field(default_factory=dict)


class ChainRegistry(BaseModel):
    chains: dict[str, ChainConfig] = Field(default_factory=dict)

    def get(self, name: str) -> ChainConfig:
        try:
            return self.chains[name]
        except KeyError:
            known = ", ".join(sorted(self.chains)) or "none (is the devnet up?)"
            raise InvalidRequest(f"unknown chain {name!r}; known chains: {known}") from None

    @classmethod
    def load(cls, path: Path) -> ChainRegistry:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls.model_validate({"chains": raw.get("chains", {})})
