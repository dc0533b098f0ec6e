"""Retry policies shared by workflows: transient errors retry, business errors never do."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

NON_RETRYABLE = (
    "InvalidRequest",
    "FeeCapBelowBaseFee",
    "NonceConsumed",
    "SignerUnavailable",
    "BroadcastRejected",
)

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=NON_RETRYABLE,
)
