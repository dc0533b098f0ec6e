"""How a workflow fails when a step does: with the business error itself (its type and
message, which the Temporal UI shows), not a wrapper saying that an activity failed."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError


def business_failure(exc: ActivityError | ChildWorkflowError) -> BaseException:
    """The error to fail the run with: the step's ApplicationError, non-retryable, or ``exc``."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, type=cause.type, non_retryable=True)
    return exc
