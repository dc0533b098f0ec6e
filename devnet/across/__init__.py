"""Across on the devnet: the real SpokePool (npm ``@across-protocol/contracts``), a relayer, a dataworker.

- :mod:`devnet.across.artifacts`: ``npm pack`` the pinned tarball, verify its integrity, cache the artifacts.
- :mod:`devnet.across.deploy`: ``Ethereum_SpokePool`` behind ``ERC1967Proxy`` on each chain.
- :mod:`devnet.across.relayer`: fills deposits from its own inventory (``python -m devnet.across.relayer``).
- :mod:`devnet.across.dataworker`: relays root bundles as the SpokePools' admin (the HubPool's role).
"""
