"""Token references (a registry symbol or an address) resolved to symbol, address, decimals."""

from __future__ import annotations

from eth_utils.address import is_address, to_checksum_address

from connectors.dex.reads import Read, read_batch
from connectors.evm.client import EvmClient
from crosslane.domain.chains import TokenInfo
from crosslane.errors import InvalidRequest


async def resolve_token(client: EvmClient, ref: str) -> TokenInfo:
    """``ref`` as the chain registry knows it (symbol, case-insensitive, or address); an
    address the registry lacks is accepted if it answers ERC20 ``decimals()``. Refuses
    anything else with InvalidRequest naming the known symbols."""
    chain = client.chain
    by_symbol = {info.symbol.lower(): info for info in chain.tokens.values()}
    if not ref.startswith("0x"):
        found = by_symbol.get(ref.lower())
        if found is None:
            known = ", ".join(sorted(t.symbol for t in chain.tokens.values())) or "none"
            raise InvalidRequest(f"unknown token {ref!r} on {chain.name}; known: {known}")
        return found.model_copy(update={"address": to_checksum_address(found.address)})
    if not is_address(ref):
        raise InvalidRequest(f"{ref!r} is not a token address")
    address = to_checksum_address(ref)
    for info in chain.tokens.values():
        if to_checksum_address(info.address) == address:
            return info.model_copy(update={"address": address})
    code = await client.call(lambda w3: w3.eth.get_code(address), "eth_getCode")
    if not code:
        raise InvalidRequest(
            f"unknown token {address} on {chain.name}: no ERC20 lives there "
            f"({address} is not a contract on {chain.name})"
        )
    batch = await read_batch(
        client, [Read.of(address, "decimals()", ("uint8",)), Read.of(address, "symbol()", ("string",))]
    )
    decimals, symbol = batch.results
    if decimals is None:
        raise InvalidRequest(f"unknown token {address} on {chain.name}: no ERC20 answers decimals() there")
    return TokenInfo(symbol=str(symbol[0]) if symbol else address[:10], address=address, decimals=int(decimals[0]))
