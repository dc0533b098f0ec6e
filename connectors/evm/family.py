"""The EVM family behind the chain-family seam: thin over the EVM connector's own modules
(checksummed addresses, ``SignerRegistry``, ``eip1559_tx``, the fee oracle, a submitter,
receipts). Exclusive by the account's nonce; commitment levels map to one block
(``processed``), the chain's configured confirmations (``confirmed``) and the ``finalized``
block tag."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import TypeAdapter, ValidationError
from web3 import AsyncWeb3

from connectors.chain_family import ChainSigner, expect_exclusivity
from connectors.evm.client import EvmClient
from connectors.evm.fees import suggest_fees
from connectors.evm.signer import SignerRegistry
from connectors.evm.submission import PublicMempool, TxSubmitter
from connectors.evm.transactions import eip1559_tx, get_receipt, is_canonical
from crosslane.domain.evm import Address
from crosslane.domain.families import (
    ChainFamily,
    Commitment,
    Exclusivity,
    FeeQuote,
    Landing,
    NativeTransfer,
    NonceExclusivity,
    SignedAttempt,
    chain_key,
)
from crosslane.domain.tx import BroadcastOutcome
from crosslane.errors import BroadcastRejected, InvalidRequest, NonceConsumed

NATIVE_TRANSFER_GAS = 21_000
_ADDRESS: TypeAdapter[str] = TypeAdapter(Address)


class EvmFamily:
    """``ChainFamilyAdapter`` for EVM chains."""

    family: ChainFamily = "evm"

    def __init__(
        self,
        clients: Callable[[str], EvmClient],
        signers: SignerRegistry,
        submitter: Callable[[str], TxSubmitter] | None = None,
    ) -> None:
        self._clients = clients
        self._signers = signers
        self._submitter = submitter or (lambda chain: PublicMempool(clients(chain)))

    def parse_address(self, value: object, field: str = "address") -> str:
        try:
            return _ADDRESS.validate_python(value)
        except ValidationError as exc:
            raise InvalidRequest(f"{field}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None

    def signer(self, address: str) -> ChainSigner:
        return self._signers.get(address)

    async def exclusivity(self, chain: str, account: str) -> Exclusivity:
        return NonceExclusivity(nonce=await self._clients(chain).nonce(account, "pending"))

    async def fee_quote(self, chain: str, account: str) -> FeeQuote:
        fees = await suggest_fees(self._clients(chain))
        return FeeQuote(
            family="evm",
            unit="wei per gas",
            base=fees.base_fee,
            priority=fees.max_priority_fee_per_gas,
            max_price=fees.max_fee_per_gas,
        )

    async def build_and_sign(
        self, chain: str, transfer: NativeTransfer, fee: FeeQuote, exclusivity: Exclusivity
    ) -> SignedAttempt:
        nonce = expect_exclusivity(exclusivity, NonceExclusivity, "evm").nonce
        client = self._clients(chain)
        sender = self.parse_address(transfer.sender, "sender")
        tx = eip1559_tx(
            chain_id=client.chain_id,
            nonce=nonce,
            to=self.parse_address(transfer.recipient, "recipient"),
            value=transfer.amount,
            data="0x",
            gas=NATIVE_TRANSFER_GAS,
            max_fee_per_gas=fee.max_price,
            max_priority_fee_per_gas=min(fee.priority, fee.max_price),
        )
        signed = await self._signers.get(sender).sign_transaction(tx)
        return SignedAttempt(
            family="evm",
            chain=chain_key("evm", client.chain_id),
            account=sender,
            tx_id=signed.tx_hash,
            raw=signed.raw,
            units=NATIVE_TRANSFER_GAS,
            exclusivity=exclusivity,
            fee=fee,
        )

    async def submit(self, chain: str, attempt: SignedAttempt) -> str:
        outcome = await self._submitter(chain).submit(attempt.raw)
        if outcome in (BroadcastOutcome.SENT, BroadcastOutcome.ALREADY_KNOWN):
            return attempt.tx_id
        if outcome is BroadcastOutcome.NONCE_TOO_LOW:
            if await get_receipt(self._clients(chain), attempt.tx_id) is not None:
                return attempt.tx_id  # these very bytes were mined: a re-send is not an error
            raise NonceConsumed(f"{chain}: the nonce of {attempt.tx_id} was used by another transaction")
        raise BroadcastRejected(f"{chain} did not take {attempt.tx_id}: {outcome.value}")

    async def confirm(
        self, chain: str, attempt: SignedAttempt, commitment: Commitment, *, poll_interval_s: float = 0.1
    ) -> Landing | None:
        client = self._clients(chain)
        nonce = expect_exclusivity(attempt.exclusivity, NonceExclusivity, "evm").nonce
        depth = {"processed": 1, "confirmed": client.chain.confirmations}.get(commitment)
        while True:
            mined = await get_receipt(client, attempt.tx_id)
            if mined is None:
                if await client.nonce(attempt.account, "latest") > nonce:
                    if await get_receipt(client, attempt.tx_id) is None:  # not ours between the reads
                        return None
                    continue
            elif await is_canonical(client, mined):
                settled = (
                    await client.block_number() - mined.block_number + 1 >= depth
                    if depth is not None
                    else await _finalized_height(client) >= mined.block_number
                )
                if settled:
                    return Landing(
                        tx_id=mined.tx_hash,
                        height=mined.block_number,
                        commitment=commitment,
                        succeeded=mined.status == 1,
                    )
            await asyncio.sleep(poll_interval_s)


async def _finalized_height(client: EvmClient) -> int:
    async def _block(w3: AsyncWeb3) -> int:
        return int((await w3.eth.get_block("finalized"))["number"])

    return await client.call(_block, "eth_getBlockByNumber(finalized)")
