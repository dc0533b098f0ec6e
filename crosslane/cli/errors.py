"""One clear line and a non-zero exit for anything a user can fix; tracebacks stay for bugs."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from crosslane.errors import CrosslaneError, describe_validation_error

P = ParamSpec("P")
R = TypeVar("R")
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def run_async(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Run an async command body, mapping user-facing failures to one line."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return asyncio.run(fn(*args, **kwargs))
        except ValidationError as exc:
            raise fail(f"invalid request: {describe_validation_error(exc)}", 2) from None
        except CrosslaneError as exc:
            raise fail(f"{exc.type_name}: {exc}") from None
        except WorkflowFailureError as exc:
            cause = exc.cause
            while getattr(cause, "cause", None) is not None:
                cause = cause.cause
            raise fail(f"workflow failed: {cause}") from None
        except RPCError as exc:
            raise fail(f"Temporal: {exc.message}") from None
        except (ConnectionError, OSError) as exc:
            raise fail(f"cannot connect: {exc} (is the stack up? try `crosslane dev up`)") from None
        except RuntimeError as exc:
            if "Failed client connect" in str(exc) or "connect" in str(exc).lower():
                raise fail(f"cannot reach Temporal: {exc} (is the stack up? try `crosslane dev up`)") from None
            raise

    return wrapper
