"""A contract call a connector plans and the caller lands (as a ``TransactionLifecycle``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContractCall:
    """``to`` with calldata ``data`` (0x-hex) and ``value`` wei; ``gas_limit`` None lets the
    lifecycle estimate it (set it where a node's estimate is known to run short)."""

    to: str
    data: str
    value: int = 0
    gas_limit: int | None = None

    @classmethod
    def encoded(cls, to: str, data: bytes, value: int = 0) -> ContractCall:
        """From ABI-encoded calldata bytes."""
        return cls(to, "0x" + data.hex(), value)
