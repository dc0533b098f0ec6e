"""Temporal data converter: pydantic JSON, with invalid input failing the run, not the task.

With the stock pydantic converter, a workflow started with bad JSON (say from
``temporal workflow start``) fails its *workflow task* over and over. Raising a
non-retryable ``ApplicationError`` from decoding instead fails the run at once, with
type ``InvalidRequest`` and a message that names each bad field.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
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


class _ValidatingJSONConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as exc:
            name = getattr(type_hint, "__name__", "input")
            raise ApplicationError(
                f"invalid {name}: {describe_validation_error(exc)}", type="InvalidRequest", non_retryable=True
            ) from None


class CrosslanePayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        validating = _ValidatingJSONConverter()
        super().__init__(
            *(
                validating if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = DataConverter(payload_converter_class=CrosslanePayloadConverter)
