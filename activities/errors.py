"""Turn Crosslane's business errors into Temporal application errors.

The error's class name becomes the ``type`` the Temporal UI shows; non-retryable unless
the error says otherwise, so Temporal never hammers a request that cannot succeed.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from temporalio.exceptions import ApplicationError

from crosslane.errors import CrosslaneError

P = ParamSpec("P")
R = TypeVar("R")


def business_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except CrosslaneError as exc:
            raise ApplicationError(str(exc), type=exc.type_name, non_retryable=not exc.retryable) from None

    return wrapper
