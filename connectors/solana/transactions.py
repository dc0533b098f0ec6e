"""Building and signing Solana transactions: SOL transfers, SPL ``transfer_checked`` with
idempotent creation of the recipient's associated token account, ComputeBudget price and
limit, a recent blockhash. The signed bytes are what a caller stores before broadcast and
re-broadcasts as they are."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.system_program import TransferParams as SystemTransferParams
from solders.system_program import transfer as system_transfer
from solders.transaction import VersionedTransaction
from spl.token.constants import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from spl.token.instructions import (
    create_idempotent_associated_token_account,
    get_associated_token_address,
    transfer_checked,
)
from spl.token.models import TransferCheckedParams

from connectors.solana.amounts import positive_base_units
from connectors.solana.signer import SolanaSigner
from crosslane.errors import InvalidRequest

# Compute unit limits with headroom over what the devnet measures (a transfer uses 150 CU
# plus 150 per ComputeBudget instruction; creating an ATA and transfer_checked ~30k).
SOL_TRANSFER_COMPUTE_UNITS = 1_000
SPL_TRANSFER_COMPUTE_UNITS = 60_000
TOKEN_PROGRAMS = (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID)


class RecentBlockhash(BaseModel):
    """A blockhash and the last block height at which a transaction using it can land."""

    model_config = ConfigDict(frozen=True)

    blockhash: str
    last_valid_block_height: int


class SignedSolanaTx(BaseModel):
    """A signed transaction: safe to store and to put in workflow payloads (no secret)."""

    model_config = ConfigDict(frozen=True)

    raw: str  # base64 of the wire bytes
    signature: str  # base58; the transaction's id
    blockhash: str
    last_valid_block_height: int
    unit_price: int  # micro-lamports per compute unit
    unit_limit: int

    @property
    def wire(self) -> bytes:
        return base64.b64decode(self.raw)


def compute_budget(unit_limit: int, unit_price: int) -> list[Instruction]:
    return [set_compute_unit_limit(unit_limit), set_compute_unit_price(unit_price)]


def sol_transfer(sender: Pubkey, recipient: Pubkey, lamports: int) -> list[Instruction]:
    lamports = positive_base_units(lamports, "lamports")
    return [system_transfer(SystemTransferParams(from_pubkey=sender, to_pubkey=recipient, lamports=lamports))]


def associated_token_address(owner: Pubkey, mint: Pubkey, token_program: Pubkey = TOKEN_PROGRAM_ID) -> Pubkey:
    return get_associated_token_address(owner, mint, token_program)


def spl_transfer(
    owner: Pubkey,
    recipient: Pubkey,
    mint: Pubkey,
    amount: int,
    decimals: int,
    token_program: Pubkey = TOKEN_PROGRAM_ID,
    payer: Pubkey | None = None,
) -> list[Instruction]:
    """Create the recipient wallet's ATA if it is missing (idempotent: a no-op when it
    exists), then ``transfer_checked`` from the owner's ATA (the mint's decimals are checked
    on chain)."""
    if token_program not in TOKEN_PROGRAMS:
        raise InvalidRequest(f"token_program: {token_program} is neither SPL Token nor Token-2022")
    amount = positive_base_units(amount, "amount")
    destination = associated_token_address(recipient, mint, token_program)
    return [
        create_idempotent_associated_token_account(payer or owner, recipient, mint, token_program),
        transfer_checked(
            TransferCheckedParams(
                program_id=token_program,
                source=associated_token_address(owner, mint, token_program),
                mint=mint,
                dest=destination,
                owner=owner,
                amount=amount,
                decimals=decimals,
            )
        ),
    ]


async def sign_transaction(
    signer: SolanaSigner,
    instructions: list[Instruction],
    recent: RecentBlockhash,
    unit_limit: int,
    unit_price: int,
    co_signers: Sequence[SolanaSigner] = (),
) -> SignedSolanaTx:
    """A v0 transaction paid and signed by ``signer`` (and ``co_signers``, e.g. a new
    account's key), with the compute budget prepended."""
    message = MessageV0.try_compile(
        signer.pubkey, [*compute_budget(unit_limit, unit_price), *instructions], [], Hash.from_string(recent.blockhash)
    )
    by_key = {s.pubkey: s for s in (signer, *co_signers)}
    required = message.account_keys[: message.header.num_required_signatures]
    missing = [str(key) for key in required if key not in by_key]
    if missing:
        raise InvalidRequest(f"signers: the transaction also needs signatures of {', '.join(missing)}")
    payload = to_bytes_versioned(message)
    signatures = [await by_key[key].sign_message(payload) for key in required]
    tx = VersionedTransaction.populate(message, signatures)
    return SignedSolanaTx(
        raw=base64.b64encode(bytes(tx)).decode(),
        signature=str(signatures[0]),
        blockhash=recent.blockhash,
        last_valid_block_height=recent.last_valid_block_height,
        unit_price=unit_price,
        unit_limit=unit_limit,
    )
