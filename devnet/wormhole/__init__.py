"""Real Wormhole core + token bridge on the devnet, with a devnet guardian set.

- :mod:`devnet.wormhole.artifacts`: ABI + creation code from the pinned ``@certusone/wormhole-sdk``
  tarball (fetched with ``npm pack``, integrity-checked, never an npm dependency).
- :mod:`devnet.wormhole.vaa`: VAA v1 encoding, signing, parsing.
- :mod:`devnet.wormhole.deploy`: deploy, register peers (governance VAAs), attest test tokens.
- :mod:`devnet.wormhole.guardian`: guardians that observe, sign and serve VAAs over HTTP.
"""
