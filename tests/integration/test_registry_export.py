"""The registry file the sandbox's devnet writes (``registry.yaml`` beside its state file)
validates, and carries everything the devnet recorded that the product reads: chains,
tokens, dexes, Wormhole and Across endpoints, the Solana cluster and its mints, the venues."""

from __future__ import annotations

from crosslane.domain.chains import ChainRegistry
from crosslane.registry import load_registry
from tests.support.solana_stack import SolanaStack
from tests.support.stack import Stack


def test_bridge_devnet_registry_equals_its_state(bridge_stack: Stack) -> None:
    sandbox = bridge_stack.sandbox
    registry = load_registry(sandbox.registry_path)
    chains = ChainRegistry.from_registry(registry)
    assert chains == sandbox.devnet.registry()
    assert chains.bridges.wormhole is not None and chains.bridges.across is not None
    assert {r.bridge for r in registry.bridges.routes} == {"wormhole", "across"}


def test_solana_devnet_registry_equals_its_state(solana_stack: SolanaStack) -> None:
    sandbox = solana_stack.stack.sandbox
    registry = load_registry(sandbox.registry_path)
    assert ChainRegistry.from_registry(registry) == sandbox.devnet.registry()
    families = {name: chain.family for name, chain in registry.chains.items()}
    assert "solana" in families.values() and "evm" in families.values()
