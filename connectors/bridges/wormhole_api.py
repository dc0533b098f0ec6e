"""The guardians' REST API (the guardian/spy ``signed_vaa`` endpoint): a VAA once quorate."""

from __future__ import annotations

import base64

import aiohttp

from connectors.bridges.wormhole_vaa import emitter_bytes32


async def fetch_signed_vaa(
    url: str, chain: int, emitter: str | bytes, sequence: int, session: aiohttp.ClientSession | None = None
) -> bytes | None:
    """The signed VAA from a guardian REST API, or None while it is not available (404)."""
    emitter_hex = emitter_bytes32(emitter).hex()
    own = session is None
    session = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        async with session.get(f"{url.rstrip('/')}/v1/signed_vaa/{chain}/{emitter_hex}/{sequence}") as r:
            if r.status == 404:
                return None
            r.raise_for_status()
            return base64.b64decode((await r.json())["vaaBytes"])
    finally:
        if own:
            await session.close()
