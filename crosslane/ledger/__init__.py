"""Persistence: operations (side-effect intents), signed tx attempts and nonce cursors.

Use ``Ledger``; it returns frozen records from ``records`` and never ORM instances.
"""

from crosslane.ledger.errors import (
    AttemptNotFound,
    LedgerConflict,
    LedgerError,
    OperationNotFound,
)
from crosslane.ledger.records import (
    AttemptKind,
    AttemptRecord,
    AttemptStatus,
    OperationRecord,
    OperationStatus,
)
from crosslane.ledger.repository import Ledger

__all__ = [
    "AttemptKind",
    "AttemptNotFound",
    "AttemptRecord",
    "AttemptStatus",
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "OperationNotFound",
    "OperationRecord",
    "OperationStatus",
]
