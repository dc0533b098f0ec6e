"""A Solana RPC endpoint through solana-py's ``AsyncClient``: reads, send, confirmation at
a commitment level, and the proof that a transaction can no longer land.

Errors: transport failures, HTTP errors and "node unhealthy"/internal JSON-RPC errors are
``RpcUnavailable`` (retryable); a send refused for its blockhash is ``BlockhashExpired``;
any other refused send is ``BroadcastRejected``; a transaction that landed and failed is
``TransactionFailed``. Re-sending bytes that already landed answers their signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Commitment
from solana.rpc.core import RPCException
from solana.rpc.models import TxOpts
from solders.pubkey import Pubkey
from solders.rpc.responses import InvalidParamsMessage, SendTransactionPreflightFailureMessage
from solders.signature import Signature
from solders.transaction_status import TransactionErrorFieldless, TransactionStatus

from connectors.solana.errors import BlockhashExpired, TransactionFailed
from connectors.solana.transactions import TOKEN_PROGRAMS, RecentBlockhash, SignedSolanaTx
from crosslane.domain.families import COMMITMENTS
from crosslane.domain.families import Commitment as FamilyCommitment
from crosslane.errors import BroadcastRejected, CrosslaneError, InvalidRequest, RpcUnavailable

T = TypeVar("T")
CommitmentLevel = FamilyCommitment
LEVELS: tuple[CommitmentLevel, ...] = COMMITMENTS  # also solders' rank order
MINT_DECIMALS_OFFSET = 44  # in the SPL Token / Token-2022 mint layout


class Confirmation(BaseModel):
    model_config = ConfigDict(frozen=True)

    signature: str
    slot: int
    commitment: CommitmentLevel  # the level reached (at least the one asked for)


class MintInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    mint: str
    decimals: int
    token_program: str


class _AlreadyProcessed(BroadcastRejected):
    """The same transaction already landed (only ``send`` sees it, and answers its signature)."""


def _classify(what: str, payload: object) -> CrosslaneError:
    """A JSON-RPC error answer as one of our error classes."""
    if isinstance(payload, SendTransactionPreflightFailureMessage):
        if payload.data.err == TransactionErrorFieldless.BlockhashNotFound:
            return BlockhashExpired(f"solana {what}: blockhash not found (expired or unknown); sign again")
        if payload.data.err == TransactionErrorFieldless.AlreadyProcessed:
            return _AlreadyProcessed(f"solana {what}: already processed")
        return BroadcastRejected(f"solana {what}: {payload.message}")
    if isinstance(payload, InvalidParamsMessage):
        return InvalidRequest(f"solana {what}: {payload.message}")
    message = getattr(payload, "message", None) or str(payload)
    return RpcUnavailable(f"solana {what}: {message}")


class SolanaClient:
    def __init__(self, url: str, *, timeout_s: float = 10.0, poll_interval_s: float = 0.05) -> None:
        self.url = url
        self.poll_interval_s = poll_interval_s
        self._rpc = AsyncClient(url, commitment=Commitment.CONFIRMED, timeout=timeout_s)

    async def close(self) -> None:
        await self._rpc.close()

    async def __aenter__(self) -> SolanaClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except SolanaRpcException as exc:
            raise RpcUnavailable(f"solana {what} at {self.url}: {exc.__cause__ or exc}") from None
        except RPCException as exc:
            raise _classify(what, exc.args[0] if exc.args else exc) from None

    # --- reads ----------------------------------------------------------------------

    async def latest_blockhash(self, commitment: CommitmentLevel = "confirmed") -> RecentBlockhash:
        value = (await self._call("getLatestBlockhash", self._rpc.get_latest_blockhash(Commitment(commitment)))).value
        return RecentBlockhash(blockhash=str(value.blockhash), last_valid_block_height=value.last_valid_block_height)

    async def block_height(self, commitment: CommitmentLevel = "confirmed") -> int:
        return (await self._call("getBlockHeight", self._rpc.get_block_height(Commitment(commitment)))).value

    async def balance(self, address: Pubkey) -> int:
        return (await self._call("getBalance", self._rpc.get_balance(address))).value

    async def token_balance(self, token_account: Pubkey) -> int:
        """Base units in a token account; 0 when the account does not exist."""
        if (await self._call("getAccountInfo", self._rpc.get_account_info(token_account))).value is None:
            return 0
        resp = await self._call("getTokenAccountBalance", self._rpc.get_token_account_balance(token_account))
        return int(resp.value.amount)

    async def mint_info(self, mint: Pubkey) -> MintInfo:
        account = (await self._call("getAccountInfo", self._rpc.get_account_info(mint))).value
        if account is None:
            raise InvalidRequest(f"mint: no account at {mint}")
        if account.owner not in TOKEN_PROGRAMS or len(account.data) <= MINT_DECIMALS_OFFSET:
            raise InvalidRequest(f"mint: {mint} is not an SPL Token or Token-2022 mint")
        return MintInfo(mint=str(mint), decimals=account.data[MINT_DECIMALS_OFFSET], token_program=str(account.owner))

    async def rent_exempt_minimum(self, size: int) -> int:
        """Lamports an account of ``size`` data bytes must hold (890,880 for a plain wallet)."""
        call = self._rpc.get_minimum_balance_for_rent_exemption(size)
        return (await self._call("getMinimumBalanceForRentExemption", call)).value

    async def recent_priority_fees(self, accounts: list[Pubkey]) -> list[int]:
        """Micro-lamports per CU paid in recent slots by transactions touching ``accounts``."""
        resp = await self._call("getRecentPrioritizationFees", self._rpc.get_recent_prioritization_fees(accounts))
        return [fee.prioritization_fee for fee in resp.value]

    # --- send and confirm -----------------------------------------------------------

    async def send(self, tx: SignedSolanaTx, *, skip_preflight: bool = False) -> str:
        """Broadcast the signed bytes; their signature. Bytes that already landed answer
        their signature again (an idempotent re-broadcast)."""
        opts = TxOpts(skip_confirmation=True, skip_preflight=skip_preflight, preflight_commitment=Commitment.CONFIRMED)
        try:
            resp = await self._call("sendTransaction", self._rpc.send_raw_transaction(tx.wire, opts))
        except _AlreadyProcessed:
            return tx.signature
        return str(resp.value)

    async def request_airdrop(self, address: Pubkey, lamports: int) -> str:
        """Devnet/testnet faucet: the airdrop transaction's signature."""
        return str((await self._call("requestAirdrop", self._rpc.request_airdrop(address, lamports))).value)

    async def status(self, signature: str, *, search_history: bool = False) -> TransactionStatus | None:
        resp = await self._call(
            "getSignatureStatuses",
            self._rpc.get_signature_statuses([Signature.from_string(signature)], search_history),
        )
        return resp.value[0]

    async def expired(self, signature: str, last_valid_block_height: int) -> bool:
        """True only when it is proven that ``signature`` can never land: the finalized block
        height is past the blockhash's last valid block height, and *after that* the node has
        no status for the signature in its whole history. (In that order: a status read first
        could miss a landing between the two reads.)"""
        if await self.block_height("finalized") <= last_valid_block_height:
            return False
        return await self.status(signature, search_history=True) is None

    async def confirm(
        self,
        signature: str,
        last_valid_block_height: int,
        commitment: CommitmentLevel = "confirmed",
        *,
        poll_interval_s: float | None = None,
    ) -> Confirmation | None:
        """Wait until the transaction reaches ``commitment``: its Confirmation; None when it is
        proven it can no longer land (see :meth:`expired`). TransactionFailed when it landed
        with an error."""
        while True:
            # With history: a caller may start confirming long after the transaction landed
            # (a worker restarted), when the recent-status cache no longer has it.
            status = await self.status(signature, search_history=True)
            if status is not None:
                if status.err is not None:
                    raise TransactionFailed(signature, status.err)
                reached = LEVELS[int(status.confirmation_status)] if status.confirmation_status else "processed"
                if LEVELS.index(reached) >= LEVELS.index(commitment):
                    return Confirmation(signature=signature, slot=status.slot, commitment=reached)
            elif await self.expired(signature, last_valid_block_height):
                return None
            await asyncio.sleep(self.poll_interval_s if poll_interval_s is None else poll_interval_s)

    async def send_and_confirm(
        self, tx: SignedSolanaTx, commitment: CommitmentLevel = "confirmed", *, skip_preflight: bool = False
    ) -> Confirmation:
        """``send`` then ``confirm``; BlockhashExpired when it is proven the transaction will not land."""
        await self.send(tx, skip_preflight=skip_preflight)
        confirmation = await self.confirm(tx.signature, tx.last_valid_block_height, commitment)
        if confirmation is None:
            raise BlockhashExpired(f"transaction {tx.signature} expired without landing; sign again")
        return confirmation
