"""How a workflow fails when a step does: with the business error itself (its type and
message, which the Temporal UI shows), not a wrapper saying that an activity failed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

T = TypeVar("T")


def business_failure(exc: ActivityError | ChildWorkflowError) -> BaseException:
    """The error to fail the run with: the step's ApplicationError, non-retryable, or ``exc``."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, type=cause.type, non_retryable=True)
    return exc


def failure_reason(exc: ActivityError | ChildWorkflowError | ApplicationError) -> str:
    """What to record as the reason a step failed: the business error's message."""
    if isinstance(exc, ApplicationError):
        return exc.message
    return str(exc.cause or exc)


async def failing_with_business_error(body: Awaitable[T], mark_failed: Callable[[str], None]) -> T:
    """Await a workflow's body; on failure, record why (``mark_failed``, e.g. the FAILED
    state and its detail for the status query) and fail with the business error."""
    try:
        return await body
    except (ActivityError, ChildWorkflowError) as exc:
        mark_failed(str(exc.cause or exc))
        failure = business_failure(exc)
        if failure is exc:
            raise
        raise failure from exc
    except ApplicationError as exc:
        mark_failed(exc.message)
        raise
