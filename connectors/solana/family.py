"""The Solana family behind the chain-family seam: thin over the Solana connector's own
modules (base58 addresses, ``SolanaSignerRegistry``, ``sign_transaction`` with a compute
budget, ``PriorityFeePolicy`` over ``getRecentPrioritizationFees``, ``SolanaClient`` send and
confirm). Exclusive by a recent blockhash's last valid block height: another attempt is safe
only once the previous one is proven expired. Durable nonce accounts are described
(``DurableNonce``) but not built yet."""

from __future__ import annotations

from collections.abc import Callable

from solders.pubkey import Pubkey

from connectors.chain_family import ChainSigner, expect_exclusivity
from connectors.solana.client import SolanaClient
from connectors.solana.errors import TransactionFailed
from connectors.solana.fees import LAMPORTS_PER_SIGNATURE
from connectors.solana.signer import SolanaSignerRegistry
from connectors.solana.transactions import (
    SOL_TRANSFER_COMPUTE_UNITS,
    RecentBlockhash,
    SignedSolanaTx,
    sign_transaction,
    sol_transfer,
)
from crosslane.domain.families import (
    BlockhashExpiry,
    ChainFamily,
    Commitment,
    Exclusivity,
    FeeQuote,
    Landing,
    NativeTransfer,
    SignedAttempt,
    chain_key,
)
from crosslane.domain.solana import PriorityFeePolicy
from crosslane.domain.solana_address import parse_address


class SolanaFamily:
    """``ChainFamilyAdapter`` for Solana clusters."""

    family: ChainFamily = "solana"

    def __init__(
        self,
        clients: Callable[[str], SolanaClient],
        signers: SolanaSignerRegistry,
        fees: PriorityFeePolicy | None = None,
    ) -> None:
        self._clients = clients
        self._signers = signers
        self._fees = fees or PriorityFeePolicy()

    def parse_address(self, value: object, field: str = "address") -> str:
        return str(parse_address(value, field))

    def signer(self, address: str) -> ChainSigner:
        return self._signers.get(address)

    async def exclusivity(self, chain: str, account: str) -> Exclusivity:
        recent = await self._clients(chain).latest_blockhash()
        return BlockhashExpiry(blockhash=recent.blockhash, last_valid_block_height=recent.last_valid_block_height)

    async def fee_quote(self, chain: str, account: str) -> FeeQuote:
        recent = await self._clients(chain).recent_priority_fees([parse_address(account, "account")])
        price = self._fees.price(recent)
        return FeeQuote(
            family="solana",
            unit="micro-lamports per compute unit",
            base=LAMPORTS_PER_SIGNATURE,
            priority=price,
            max_price=self._fees.cap_micro_lamports,
        )

    async def build_and_sign(
        self, chain: str, transfer: NativeTransfer, fee: FeeQuote, exclusivity: Exclusivity
    ) -> SignedAttempt:
        recent = expect_exclusivity(exclusivity, BlockhashExpiry, "solana")
        signer = self._signers.get(self.parse_address(transfer.sender, "sender"))
        recipient: Pubkey = parse_address(transfer.recipient, "recipient")
        signed = await sign_transaction(
            signer,
            sol_transfer(signer.pubkey, recipient, transfer.amount),
            RecentBlockhash(blockhash=recent.blockhash, last_valid_block_height=recent.last_valid_block_height),
            SOL_TRANSFER_COMPUTE_UNITS,
            fee.priority,
        )
        return SignedAttempt(
            family="solana",
            chain=chain_key("solana", chain),
            account=signer.address,
            tx_id=signed.signature,
            raw=signed.raw,
            units=signed.unit_limit,
            exclusivity=recent,
            fee=fee,
        )

    async def submit(self, chain: str, attempt: SignedAttempt) -> str:
        return await self._clients(chain).send(_signed(attempt))

    async def confirm(
        self, chain: str, attempt: SignedAttempt, commitment: Commitment, *, poll_interval_s: float = 0.1
    ) -> Landing | None:
        recent = expect_exclusivity(attempt.exclusivity, BlockhashExpiry, "solana")
        client = self._clients(chain)
        try:
            confirmation = await client.confirm(
                attempt.tx_id, recent.last_valid_block_height, commitment, poll_interval_s=poll_interval_s
            )
        except TransactionFailed:
            status = await client.status(attempt.tx_id, search_history=True)
            return Landing(
                tx_id=attempt.tx_id, height=status.slot if status else 0, commitment=commitment, succeeded=False
            )
        if confirmation is None:
            return None
        return Landing(
            tx_id=confirmation.signature,
            height=confirmation.slot,
            commitment=confirmation.commitment,
            succeeded=True,
        )


def _signed(attempt: SignedAttempt) -> SignedSolanaTx:
    recent = expect_exclusivity(attempt.exclusivity, BlockhashExpiry, "solana")
    return SignedSolanaTx(
        raw=attempt.raw,
        signature=attempt.tx_id,
        blockhash=recent.blockhash,
        last_valid_block_height=recent.last_valid_block_height,
        unit_price=attempt.fee.priority,
        unit_limit=attempt.units,
    )
