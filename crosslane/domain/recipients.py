"""Who may be paid: one check for every workflow that sends tokens to a recipient.

A token sent to the zero address, to a token contract or to one of the chain's protocol
contracts (a router, pool, position manager, bridge) is lost: those contracts cannot
send it back. Uniswap's V3 SwapRouter even reads recipient 0 as "the router itself".
"""

from __future__ import annotations

from collections.abc import Iterable

from crosslane.domain.chains import ChainConfig
from crosslane.domain.evm import checksum_address
from crosslane.errors import InvalidRequest


def protocol_contracts(chain: ChainConfig) -> dict[str, str]:
    """Checksummed address -> what it is, for every contract the registry lists on ``chain``."""
    named: dict[str, str] = {}
    for name, address in chain.contracts.items():
        named[checksum_address(address)] = f"the {name} contract"
    for dex_name, dex in chain.dexes.items():
        for role, address in (
            ("factory", dex.factory),
            ("router", dex.router),
            ("quoter", dex.quoter),
            ("position manager", dex.position_manager),
        ):
            if address:
                named[checksum_address(address)] = f"the {dex_name} {role}"
        for pool in dex.pools:
            named[checksum_address(pool.address)] = f"the {dex_name} pool {pool.label or pool.address}"
    for symbol, token in chain.tokens.items():
        named.setdefault(checksum_address(token.address), f"the {symbol} contract")
    return named


def zero_address_refusal(recipient: str | None, field: str = "recipient") -> str | None:
    """The refusal for paying the zero address (for model validators and ``check_recipient``
    alike, so a request is refused before it is sent), or None."""
    if recipient is not None and int(recipient, 16) == 0:
        return f"{field} is the zero address: the tokens would be lost"
    return None


def check_recipient(chain: ChainConfig, recipient: str, tokens: Iterable[str] = (), field: str = "recipient") -> None:
    """InvalidRequest when paying ``recipient`` on ``chain`` would lose the funds: the zero
    address, one of ``tokens`` (addresses the request moves, registered or not) or a
    protocol contract the chain registry knows."""
    refusal = zero_address_refusal(recipient, field)
    if refusal is not None:
        raise InvalidRequest(refusal)
    to = checksum_address(recipient)
    if any(checksum_address(t) == to for t in tokens):
        raise InvalidRequest(f"{field} {to} is a token this request moves: the tokens would be lost")
    what = protocol_contracts(chain).get(to)
    if what is not None:
        raise InvalidRequest(f"{field} {to} is {what} on {chain.name}: the tokens would be lost")
