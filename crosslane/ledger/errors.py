"""Ledger failures, in the shared error vocabulary so activities can map them."""

from __future__ import annotations

from crosslane.errors import CrosslaneError


class LedgerError(CrosslaneError):
    """Base of ledger failures; none is retryable, a retry would hit the same rows."""


class OperationNotFound(LedgerError):
    """No operation with that id: the caller skipped ``begin_operation``."""


class AttemptNotFound(LedgerError):
    """No recorded attempt has that transaction hash."""


class LedgerConflict(LedgerError):
    """The call contradicts what the ledger already recorded under the same key."""
