"""The registry file the sandbox's devnet writes (``registry.yaml`` beside its state file)
validates, and carries exactly what readers get from the state file today: chains, tokens,
dexes, Wormhole and Across endpoints, the Solana cluster and its mints."""

from __future__ import annotations

from crosslane.domain.chains import ChainRegistry
from crosslane.registry import load_registry
from devnet.registry_export import registry_path
from tests.support.solana_stack import SolanaStack
from tests.support.stack import Stack


def test_bridge_devnet_registry_equals_its_state(bridge_stack: Stack) -> None:
    sandbox = bridge_stack.sandbox
    registry = load_registry(registry_path(sandbox.devnet_state_path))
    chains = registry.chain_registry()
    assert chains == ChainRegistry.load(sandbox.devnet_state_path)
    assert chains.bridges.wormhole is not None and chains.bridges.across is not None
    assert {r.bridge for r in registry.bridges.routes} == {"wormhole", "across"}


def test_solana_devnet_registry_equals_its_state(solana_stack: SolanaStack) -> None:
    sandbox = solana_stack.stack.sandbox
    registry = load_registry(registry_path(sandbox.devnet_state_path))
    assert registry.chain_registry() == ChainRegistry.load(sandbox.devnet_state_path)
    families = {name: chain.family for name, chain in registry.chains.items()}
    assert "solana" in families.values() and "evm" in families.values()
