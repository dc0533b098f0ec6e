"""EVM connector: RPC failover client, fee oracle, signers, nonces, broadcast, ERC20, Multicall3."""
