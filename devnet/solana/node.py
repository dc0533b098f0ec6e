"""The chain behind the devnet's Solana RPC: LiteSVM plus slots, blockhash expiry,
signature statuses by commitment, prioritization fees and send faults (see the package
docstring for what is and is not emulated). Synchronous; ``server.py`` puts it on HTTP."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from solders.account import Account
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import TransactionErrorFieldless, TransactionErrorType, TransactionStatus

Commitment = Literal["processed", "confirmed", "finalized"]
DEPTH: dict[str, int] = {"processed": 0, "confirmed": 1, "finalized": 32}  # slots behind the tip
DEFAULT_BLOCKHASH_VALIDITY = 150  # blocks, as MAX_PROCESSING_AGE on mainnet
STATUS_CACHE_SLOTS = 300  # how long a status is answered without searchTransactionHistory
FEE_HISTORY_SLOTS = 150  # what getRecentPrioritizationFees reports
COMPUTE_BUDGET_PROGRAM = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
SET_COMPUTE_UNIT_PRICE = 3  # ComputeBudget instruction tag
TOKEN_ACCOUNT_LEN = 165  # SPL Token / Token-2022 base account layout
MINT_DECIMALS_OFFSET = 44


class RpcFailure(Exception):
    """A JSON-RPC error answer, worded like a real node's so clients classify it alike."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class Faults(BaseModel):
    """What ``POST /admin/faults`` sets (the whole set at once; absent fields reset)."""

    model_config = ConfigDict(extra="forbid")

    drop_sends: int = Field(0, ge=0, description="answer the next N sendTransaction calls but never execute them")
    confirm_delay_s: float = Field(0, ge=0, description="execute sent transactions this many seconds later")
    rpc_errors: int = Field(0, ge=0, description="fail the next N RPC calls")
    rpc_error_rate: float = Field(0, ge=0, le=1, description="fail this fraction of RPC calls")
    rpc_error_kind: Literal["http", "jsonrpc"] = "http"
    rpc_error_methods: list[str] | None = Field(None, description="only these methods fail; all when absent")
    priority_fee_floor: int = Field(0, ge=0, description="micro-lamports per CU every recent slot reports")


@dataclass(frozen=True)
class Landed:
    slot: int
    err: TransactionErrorType | None


@dataclass(frozen=True)
class Delayed:
    due: float  # monotonic seconds
    tx: VersionedTransaction


@dataclass(frozen=True)
class Block:
    slot: int
    height: int
    blockhash: Hash


def error_json(err: TransactionErrorType) -> Any:
    """A transaction error as the RPC writes it (``"BlockhashNotFound"``, ``{"InstructionError": [0, ...]}``)."""
    return json.loads(TransactionStatus(0, None, None, err, None).to_json())["err"]


def compute_unit_price(tx: VersionedTransaction) -> int:
    """The micro-lamports per compute unit a transaction bids (0 without a ComputeBudget price)."""
    message = tx.message
    keys = message.account_keys
    for ix in message.instructions:
        data = bytes(ix.data)
        if keys[ix.program_id_index] == COMPUTE_BUDGET_PROGRAM and data[:1] == bytes([SET_COMPUTE_UNIT_PRICE]):
            return int.from_bytes(data[1:9], "little")
    return 0


def decode_transaction(raw: bytes) -> VersionedTransaction:
    try:
        return VersionedTransaction.from_bytes(raw)
    except Exception as exc:  # noqa: BLE001 - whatever solders cannot decode is the caller's problem
        raise RpcFailure(-32602, f"invalid transaction: cannot deserialize: {exc}") from None


def preflight_failure(err: TransactionErrorType, logs: list[str] | None = None, units: int = 0) -> RpcFailure:
    readable = str(err).rsplit(".", 1)[-1]
    return RpcFailure(
        -32002,
        f"Transaction simulation failed: {readable}",
        {"err": error_json(err), "logs": logs or [], "accounts": None, "unitsConsumed": units, "returnData": None},
    )


class SolanaNode:
    def __init__(
        self,
        blockhash_validity: int = DEFAULT_BLOCKHASH_VALIDITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.svm = LiteSVM().with_blockhash_check(False)  # this node checks blockhash age itself
        self.blockhash_validity = blockhash_validity
        self.faults = Faults()
        self.dropped: list[str] = []  # signatures a drop fault swallowed
        self._clock = clock
        self._blocks: deque[Block] = deque(maxlen=blockhash_validity + DEPTH["finalized"] + 1)
        self._blockhash_height: dict[Hash, int] = {}
        self._statuses: dict[Signature, Landed] = {}
        self._fees: deque[tuple[int, list[tuple[int, frozenset[Pubkey]]]]] = deque(maxlen=FEE_HISTORY_SLOTS)
        self._delayed: list[Delayed] = []
        self.slot = 0
        self.block_height = 0
        self.advance()

    # --- the clock ------------------------------------------------------------------

    def advance(self, slots: int = 1) -> None:
        """Produce ``slots`` blocks: each with a new blockhash; delayed transactions now due run."""
        for _ in range(slots):
            self.slot += 1
            self.block_height += 1
            self.svm.warp_to_slot(self.slot)
            self.svm.expire_blockhash()
            if len(self._blocks) == self._blocks.maxlen:
                self._blockhash_height.pop(self._blocks[0].blockhash, None)
            block = Block(self.slot, self.block_height, self.svm.latest_blockhash())
            self._blocks.append(block)
            self._blockhash_height[block.blockhash] = block.height
            self._fees.append((self.slot, []))
            self._run_due()

    def _run_due(self) -> None:
        now = self._clock()
        due = [d for d in self._delayed if d.due <= now]
        if due:
            self._delayed = [d for d in self._delayed if d.due > now]
            for delayed in due:
                self._execute(delayed.tx)

    # --- reads ----------------------------------------------------------------------

    def _block_at(self, commitment: Commitment) -> Block:
        depth = min(DEPTH[commitment], len(self._blocks) - 1)
        return self._blocks[-1 - depth]

    def slot_at(self, commitment: Commitment) -> int:
        return self._block_at(commitment).slot

    def block_height_at(self, commitment: Commitment) -> int:
        return self._block_at(commitment).height

    def latest_blockhash(self, commitment: Commitment) -> tuple[Hash, int]:
        """The blockhash at ``commitment`` and the last block height it is valid at."""
        block = self._block_at(commitment)
        return block.blockhash, block.height + self.blockhash_validity

    def blockhash_valid(self, blockhash: Hash) -> bool:
        height = self._blockhash_height.get(blockhash)
        return height is not None and self.block_height <= height + self.blockhash_validity

    def account(self, address: Pubkey) -> Account | None:
        return self.svm.get_account(address)

    def balance(self, address: Pubkey) -> int:
        return self.svm.get_balance(address) or 0

    def token_balance(self, address: Pubkey) -> tuple[int, int]:
        """(amount, mint decimals) of an SPL Token / Token-2022 account."""
        account = self.svm.get_account(address)
        data = bytes(account.data) if account else b""
        mint = self.svm.get_account(Pubkey(data[:32])) if len(data) >= TOKEN_ACCOUNT_LEN else None
        if account is None or mint is None or len(mint.data) <= MINT_DECIMALS_OFFSET:
            raise RpcFailure(-32602, "Invalid param: not a Token account")
        return int.from_bytes(data[64:72], "little"), bytes(mint.data)[MINT_DECIMALS_OFFSET]

    def signature_statuses(self, signatures: list[Signature], search_history: bool) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for signature in signatures:
            landed = self._statuses.get(signature)
            if landed is None or (not search_history and self.slot - landed.slot > STATUS_CACHE_SLOTS):
                out.append(None)
                continue
            depth = self.slot - landed.slot
            if depth >= DEPTH["finalized"]:
                level, confirmations = "finalized", None
            else:
                level, confirmations = ("confirmed" if depth >= DEPTH["confirmed"] else "processed"), depth
            err = None if landed.err is None else error_json(landed.err)
            out.append(
                {
                    "slot": landed.slot,
                    "confirmations": confirmations,
                    "err": err,
                    "status": {"Ok": None} if err is None else {"Err": err},
                    "confirmationStatus": level,
                }
            )
        return out

    def recent_prioritization_fees(self, accounts: list[Pubkey]) -> list[dict[str, int]]:
        """Per recent slot, the lowest price paid there by a transaction touching ``accounts``
        (any transaction when none are given), never below the fault floor."""
        wanted = set(accounts)
        out = []
        for slot, paid in self._fees:
            prices = [price for price, touched in paid if not wanted or wanted & touched]
            out.append({"slot": slot, "prioritizationFee": max(min(prices, default=0), self.faults.priority_fee_floor)})
        return out

    # --- writes ---------------------------------------------------------------------

    def airdrop(self, address: Pubkey, lamports: int) -> Signature:
        result = self.svm.airdrop(address, lamports)
        if isinstance(result, FailedTransactionMetadata):
            raise RpcFailure(-32603, f"airdrop failed: {result.err()}")
        signature = result.signature()
        self._statuses[signature] = Landed(self.slot, None)
        return signature

    def simulate(self, tx: VersionedTransaction) -> dict[str, Any]:
        result = self.svm.simulate_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            meta, err = result.meta(), error_json(result.err())
        else:
            meta, err = result.meta(), None
        return {
            "err": err,
            "logs": list(meta.logs()),
            "accounts": None,
            "unitsConsumed": meta.compute_units_consumed(),
            "returnData": None,
        }

    def send(self, raw: bytes, skip_preflight: bool) -> Signature:
        tx = decode_transaction(raw)
        signature = tx.signatures[0]
        if self.faults.drop_sends:
            self.faults = self.faults.model_copy(update={"drop_sends": self.faults.drop_sends - 1})
            self.dropped.append(str(signature))
            return signature
        if signature in self._statuses:
            if not skip_preflight:
                raise preflight_failure(TransactionErrorFieldless.AlreadyProcessed)
            return signature
        if not self.blockhash_valid(tx.message.recent_blockhash):
            if not skip_preflight:
                raise preflight_failure(TransactionErrorFieldless.BlockhashNotFound)
            return signature  # a leader drops it: it never lands
        if not skip_preflight:
            simulated = self.svm.simulate_transaction(tx)
            if isinstance(simulated, FailedTransactionMetadata):
                meta = simulated.meta()
                raise preflight_failure(simulated.err(), list(meta.logs()), meta.compute_units_consumed())
        if self.faults.confirm_delay_s:
            self._delayed.append(Delayed(self._clock() + self.faults.confirm_delay_s, tx))
            return signature
        self._execute(tx)
        return signature

    def _execute(self, tx: VersionedTransaction) -> None:
        """Run a transaction in the current slot. One whose blockhash expired, or that fails
        before its fee is charged (a fieldless error: bad signature, fee payer cannot pay...),
        does not land, as on a real cluster."""
        if not self.blockhash_valid(tx.message.recent_blockhash):
            return
        result = self.svm.send_transaction(tx)
        err = result.err() if isinstance(result, FailedTransactionMetadata) else None
        if isinstance(err, TransactionErrorFieldless):
            return
        self._statuses[tx.signatures[0]] = Landed(self.slot, err)
        self._fees[-1][1].append((compute_unit_price(tx), frozenset(tx.message.account_keys)))
