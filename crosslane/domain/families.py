"""Chain families: the family-neutral vocabulary every family's connector, ledger rows and
requests share.

A *family* is a kind of chain with one transaction model (EVM chains, Solana clusters).
What differs per family, and is named here so code above the connectors can speak of it
without knowing the family:

- the commitment level a caller waits for (``Commitment``);
- what makes two signed transactions *exclusive*, so that at most one of them can ever land
  (``Exclusivity``): an EVM account's nonce, a Solana recent blockhash's last valid block
  height, or a Solana durable nonce account's current value. It decides when it is safe to
  sign another attempt: a higher-fee replacement for the same key, or only after the
  previous attempt is proven expired.

A third family adds its name to ``ChainFamily`` and, if its exclusivity is new (a Cosmos
SDK chain's account sequence), one descriptor to ``Exclusivity``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

ChainFamily = Literal["evm", "solana"]
FAMILIES: tuple[ChainFamily, ...] = ("evm", "solana")

Commitment = Literal["processed", "confirmed", "finalized"]
"""How settled a landed transaction must be: ``processed`` (in a block/slot the node has
seen), ``confirmed`` (voted on by a supermajority / the requested confirmations deep),
``finalized`` (cannot be rolled back). Solana's levels; an EVM chain maps them to one
block, the request's confirmations, and the ``finalized`` block tag."""
COMMITMENTS: tuple[Commitment, ...] = ("processed", "confirmed", "finalized")  # weakest first


def reaches(reached: Commitment, wanted: Commitment) -> bool:
    """Whether a transaction at ``reached`` satisfies a wait for ``wanted``."""
    return COMMITMENTS.index(reached) >= COMMITMENTS.index(wanted)


class Replacement(StrEnum):
    """When another attempt may be signed for the same intent."""

    SAME_KEY = "same_key"  # any time: a replacement reuses the key (higher fee); one of them lands
    AFTER_EXPIRY = "after_expiry"  # only once the previous attempt is proven never to land
    ADVANCE_NONCE = "advance_nonce"  # only after advancing the durable nonce (voids older attempts)


class _Exclusivity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    replacement: ClassVar[Replacement]

    @property
    def key(self) -> str:
        """Text that is equal for attempts of which at most one can land (ledger column)."""
        raise NotImplementedError


class NonceExclusivity(_Exclusivity):
    """EVM: one transaction per (account, nonce) is ever mined."""

    kind: Literal["nonce"] = "nonce"
    nonce: int = Field(ge=0)
    replacement: ClassVar[Replacement] = Replacement.SAME_KEY

    @property
    def key(self) -> str:
        return f"nonce:{self.nonce}"


class BlockhashExpiry(_Exclusivity):
    """Solana with a recent blockhash: nothing ties two attempts together, so both could
    land until the first one's blockhash is past its last valid block height (finalized)."""

    kind: Literal["blockhash"] = "blockhash"
    blockhash: str = Field(min_length=1, max_length=44)
    last_valid_block_height: int = Field(ge=0)
    replacement: ClassVar[Replacement] = Replacement.AFTER_EXPIRY

    @property
    def key(self) -> str:
        return f"blockhash:{self.blockhash}"


class DurableNonce(_Exclusivity):
    """Solana with a durable nonce account: the transaction's "blockhash" is the account's
    stored nonce value, valid until an ``AdvanceNonceAccount`` instruction changes it (which
    every such transaction starts with). Advancing it voids every older attempt."""

    kind: Literal["durable_nonce"] = "durable_nonce"
    nonce_account: str = Field(min_length=1, max_length=44)
    nonce_value: str = Field(min_length=1, max_length=44)
    replacement: ClassVar[Replacement] = Replacement.ADVANCE_NONCE

    @property
    def key(self) -> str:
        return f"durable_nonce:{self.nonce_account}:{self.nonce_value}"


Exclusivity = Annotated[NonceExclusivity | BlockhashExpiry | DurableNonce, Field(discriminator="kind")]
EXCLUSIVITY: TypeAdapter[NonceExclusivity | BlockhashExpiry | DurableNonce] = TypeAdapter(Exclusivity)


CHAIN_NAMESPACES: dict[ChainFamily, str] = {"evm": "eip155", "solana": "solana"}


def chain_key(family: ChainFamily, reference: str | int) -> str:
    """One text key for a chain across families, CAIP-2 style ``namespace:reference``:
    ``eip155:31337`` for an EVM chain id, ``solana:<cluster name>`` for a Solana cluster."""
    return f"{CHAIN_NAMESPACES[family]}:{reference}"


# --- what a family's adapter hands back (family-neutral, safe for payloads and the ledger) ---


class NativeTransfer(BaseModel):
    """The one intent every family can build: move the chain's native asset (wei, lamports)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sender: str
    recipient: str
    amount: int = Field(gt=0, description="base units of the native asset")


class FeeQuote(BaseModel):
    """What the next attempt would bid, in the family's own fee unit."""

    model_config = ConfigDict(frozen=True)

    family: ChainFamily
    unit: str  # "wei per gas", "micro-lamports per compute unit"
    base: int = Field(ge=0, description="EVM: next block's base fee per gas; Solana: lamports per signature")
    priority: int = Field(ge=0, description="the tip per unit (EVM priority fee, Solana compute unit price)")
    max_price: int = Field(ge=0, description="the most one unit may cost (EVM max fee per gas)")


class SignedAttempt(BaseModel):
    """A signed transaction, family-neutral: its id, wire bytes as text, and what it is
    exclusive by. Holds no secret (a signature is public)."""

    model_config = ConfigDict(frozen=True)

    family: ChainFamily
    chain: str  # chain_key(...)
    account: str
    tx_id: str  # EVM: 0x hash; Solana: base58 signature
    raw: str  # EVM: 0x hex; Solana: base64
    units: int = Field(ge=0, description="the execution limit it was signed with: gas, compute units")
    exclusivity: Exclusivity
    fee: FeeQuote


class Landing(BaseModel):
    """Where an attempt landed and how settled it is."""

    model_config = ConfigDict(frozen=True)

    tx_id: str
    height: int  # EVM block number, Solana slot
    commitment: Commitment  # the level reached (at least the one asked for)
    succeeded: bool  # False: landed but reverted / failed (the fee is paid)
