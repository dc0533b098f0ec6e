"""What activities share inside one worker process: ledger, chains, signers, RPC clients."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from connectors.cex.config import VenueConfig
from connectors.evm.client import EvmClient
from connectors.evm.signer import SignerRegistry
from connectors.evm.submission import PrivateRelay, PublicMempool, TxSubmitter
from crosslane.config import Settings
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.errors import InvalidRequest
from crosslane.ledger import Ledger
from crosslane.registry import configured_registry


@dataclass
class ChainRuntime:
    ledger: Ledger
    chains: ChainRegistry
    signers: SignerRegistry
    venues: dict[str, VenueConfig] = field(default_factory=dict)  # the registry's exchanges
    _clients: dict[str, EvmClient] = field(default_factory=dict)
    _relays: dict[str, PrivateRelay] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChainRuntime:
        """Chains from the registry file (``CROSSLANE_REGISTRY`` or the home's): a worker
        without one refuses to start, saying where it looked."""
        registry = configured_registry(settings)
        chains = ChainRegistry.from_registry(registry)
        ledger = Ledger(settings.db_url)
        ledger.migrate()
        return cls(
            ledger=ledger,
            chains=chains,
            signers=SignerRegistry.from_env(),
            venues={name: VenueConfig.from_registry(name, v) for name, v in registry.venues.items()},
        )

    def chain(self, name: str) -> ChainConfig:
        return self.chains.get(name)

    def client(self, chain: str) -> EvmClient:
        if chain not in self._clients:
            self._clients[chain] = EvmClient(self.chains.get(chain))
        return self._clients[chain]

    def submitter(self, chain: str, *, protected: bool = False) -> TxSubmitter:
        """Where ``chain``'s signed transactions go: its private relay when ``protected``
        (refused if the chain has none), else the public mempool."""
        if not protected:
            return PublicMempool(self.client(chain))
        if chain not in self._relays:
            config = self.chains.get(chain)
            if not config.private_relay_url:
                raise InvalidRequest(f"{chain} has no private relay configured (private_relay_url): cannot protect")
            self._relays[chain] = PrivateRelay(config, config.private_relay_url)
        return self._relays[chain]

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._clients.values()), *(r.close() for r in self._relays.values()))
