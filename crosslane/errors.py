"""Error vocabulary shared by every layer.

The class name of a ``CrosslaneError`` subclass is the error *type* Temporal shows in its
UI, and ``retryable`` tells activity wrappers whether to let Temporal retry.
"""

from __future__ import annotations


class CrosslaneError(Exception):
    retryable: bool = False

    @property
    def type_name(self) -> str:
        return type(self).__name__


class InvalidRequest(CrosslaneError):
    """The caller asked for something that can never succeed as asked."""


class InsufficientBalance(InvalidRequest):
    """The owner holds less of a token (or LP token) than the operation needs."""


class FeeCapBelowBaseFee(CrosslaneError):
    """The request's fee cap is under the chain's base fee and it forbids waiting."""


class NonceConsumed(CrosslaneError):
    """The nonce was used by a transaction that is not one of ours."""


class SignerUnavailable(CrosslaneError):
    """No key for the requested signer is loaded in this worker."""


class BroadcastRejected(CrosslaneError):
    """The node refused the signed transaction for a reason a retry cannot change
    (insufficient funds, gas limit, invalid signature...)."""


class RpcUnavailable(CrosslaneError):
    """Every RPC endpoint of a chain failed; transient, so Temporal retries."""

    retryable = True


def describe_validation_error(exc: Exception) -> str:
    """A pydantic ValidationError as one line: ``field: problem; field: problem``."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    parts = []
    for e in errors():
        where = ".".join(str(p) for p in e["loc"]) or "request"
        parts.append(f"{where}: {e['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
