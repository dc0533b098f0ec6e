"""Solana-specific failures (the shared vocabulary is crosslane.errors)."""

from __future__ import annotations

from crosslane.errors import CrosslaneError


class BlockhashExpired(CrosslaneError):
    """The node refused the transaction because its blockhash is unknown or too old: sign
    it again with a fresh blockhash."""


class TransactionFailed(CrosslaneError):
    """The transaction landed (its fee is paid) but an instruction failed."""

    def __init__(self, signature: str, err: object) -> None:
        super().__init__(f"transaction {signature} landed and failed: {err}")
        self.signature = signature
        self.err = err
