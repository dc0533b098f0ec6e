"""Temporal data converter: pydantic JSON, with invalid input failing the run, not the task.

With the stock pydantic converter, a workflow started with bad JSON (say from
``temporal workflow start``) fails its *workflow task* over and over. Raising a
non-retryable ``ApplicationError`` from decoding instead fails the run at once, with
type ``InvalidRequest`` and a message that names each bad field. The same goes for an
input in an encoding that is not JSON (``--input-meta encoding=binary/plain``, or one no
converter knows): a request model is only ever read from ``json/plain``. (A run started
with no input or too many is the workflows' input guard's to refuse.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.exceptions import ApplicationError

from crosslane.errors import describe_validation_error

JSON_ENCODING = b"json/plain"


def invalid_input(type_hint: type | None, why: str) -> ApplicationError:
    """The failure for input that can never be read: fails the run (or activity), not retried."""
    name = getattr(type_hint, "__name__", "input")
    return ApplicationError(f"invalid {name}: {why}", type="InvalidRequest", non_retryable=True)


class _ValidatingJSONConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as exc:
            raise invalid_input(type_hint, describe_validation_error(exc)) from None


class CrosslanePayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        validating = _ValidatingJSONConverter()
        super().__init__(
            *(
                validating if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )

    def from_payloads(self, payloads: Sequence[Payload], type_hints: list[type] | None = None) -> list[Any]:
        hints = list(type_hints or [])
        for index, payload in enumerate(payloads):
            hint = hints[index] if index < len(hints) else None
            encoding = payload.metadata.get("encoding", b"")
            wants_model = isinstance(hint, type) and issubclass(hint, BaseModel)
            if encoding not in self.converters or (wants_model and encoding != JSON_ENCODING):
                shown = encoding.decode(errors="replace") or "none"
                raise invalid_input(
                    hint, f"input {index + 1} has encoding {shown!r}; send it as JSON (encoding json/plain)"
                )
        return super().from_payloads(payloads, type_hints)


data_converter = DataConverter(payload_converter_class=CrosslanePayloadConverter)
