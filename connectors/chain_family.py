"""The chain-family seam: what every family's connector answers, whatever its transaction model.

A family (EVM, Solana; a Cosmos SDK chain next) implements ``ChainFamilyAdapter`` once, over
its own connector modules, and registers it in a ``FamilyRegistry`` under its name. Callers
pick an adapter by the family a request names (``request.family``), never by testing types:

    adapter = families.get(request.family)
    exclusive = await adapter.exclusivity(chain, sender)        # nonce / blockhash / ...
    fee = await adapter.fee_quote(chain, sender)
    attempt = await adapter.build_and_sign(chain, transfer, fee, exclusive)
    await adapter.submit(chain, attempt)                        # store attempt.raw first
    landing = await adapter.confirm(chain, attempt, "confirmed")

Adding a family is one new adapter and its workflow; the other families' adapters,
activities and workflows stay untouched. The models it hands back (``SignedAttempt``,
``FeeQuote``, ``Landing``, the ``Exclusivity`` descriptors) are the core's
(``crosslane.domain.families``), so the ledger and workflow payloads carry them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar, runtime_checkable

from crosslane.domain.families import (
    ChainFamily,
    Commitment,
    Exclusivity,
    FeeQuote,
    Landing,
    NativeTransfer,
    SignedAttempt,
)
from crosslane.errors import InvalidRequest

E = TypeVar("E")


@runtime_checkable
class ChainSigner(Protocol):
    """Whoever signs for one account of one family: a local key, a keystore, a KMS/HSM.

    ``sign_payload`` signs what the family signs: a 32-byte transaction digest on EVM
    (secp256k1, r || s || y-parity), the serialized message on Solana (ed25519). The key
    never leaves the implementation, and ``repr`` shows only the address.
    """

    family: ChainFamily
    address: str

    async def sign_payload(self, payload: bytes) -> bytes: ...


class ChainFamilyAdapter(Protocol):
    """One family's connector behind the seam. ``chain`` is the registry's name for the chain
    (an EVM chain name, a Solana cluster name)."""

    family: ChainFamily

    def parse_address(self, value: object, field: str = "address") -> str:
        """The canonical text of an address of this family; InvalidRequest naming ``field``."""
        ...

    def signer(self, address: str) -> ChainSigner:
        """The worker's signer for ``address``; SignerUnavailable when it holds no key."""
        ...

    async def exclusivity(self, chain: str, account: str) -> Exclusivity:
        """What the next attempt from ``account`` will be exclusive by (the pending nonce,
        a fresh blockhash and its last valid block height, ...)."""
        ...

    async def fee_quote(self, chain: str, account: str) -> FeeQuote:
        """What the next attempt should bid, from the chain's recent fees."""
        ...

    async def build_and_sign(
        self, chain: str, transfer: NativeTransfer, fee: FeeQuote, exclusivity: Exclusivity
    ) -> SignedAttempt:
        """Build the transfer bound to ``exclusivity``, priced at ``fee``, and sign it with
        the sender's signer. Nothing is sent: the caller stores the attempt first."""
        ...

    async def submit(self, chain: str, attempt: SignedAttempt) -> str:
        """Send the signed bytes as they are; the transaction id. Re-sending bytes the chain
        already has (or landed) is not an error."""
        ...

    async def confirm(
        self, chain: str, attempt: SignedAttempt, commitment: Commitment, *, poll_interval_s: float = 0.1
    ) -> Landing | None:
        """Wait until the attempt reaches ``commitment``: its Landing (``succeeded`` False when
        it landed and failed). None once it is proven it can never land (EVM: its nonce was
        used by another transaction; Solana: its blockhash expired with no status)."""
        ...


class FamilyRegistry:
    """Adapters by family name; the only place a family is looked up."""

    def __init__(self, adapters: Iterable[ChainFamilyAdapter] = ()) -> None:
        self._by_family: dict[str, ChainFamilyAdapter] = {}
        for adapter in adapters:
            self.add(adapter)

    def add(self, adapter: ChainFamilyAdapter) -> None:
        if adapter.family in self._by_family:
            raise InvalidRequest(f"chain family {adapter.family!r} is registered twice")
        self._by_family[adapter.family] = adapter

    def get(self, family: str) -> ChainFamilyAdapter:
        try:
            return self._by_family[family]
        except KeyError:
            known = ", ".join(sorted(self._by_family)) or "none"
            raise InvalidRequest(f"family: no adapter for chain family {family!r} (known: {known})") from None

    @property
    def families(self) -> list[str]:
        return sorted(self._by_family)


def expect_exclusivity(exclusivity: Exclusivity, kind: type[E], family: ChainFamily) -> E:
    """``exclusivity`` as the descriptor an adapter builds with; InvalidRequest otherwise."""
    if not isinstance(exclusivity, kind):
        raise InvalidRequest(f"exclusivity: a {family} transaction is not bound by {exclusivity.kind!r}")
    return exclusivity
