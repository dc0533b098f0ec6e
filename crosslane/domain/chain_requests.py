"""One request type over every chain family: a pydantic union discriminated by ``family``.

Each family's request model names its family (``TxRequest.family == "evm"``,
``SolTransferRequest.family == "solana"``), the workflow that runs it (``workflow_type``)
and its workflow id, so a caller holding a ``ChainRequest`` starts the right workflow
without asking which family it is.

Plain JSON without ``family`` (every request written before families existed) still
parses: ``recipient`` is the Solana transfer's field (an EVM transaction has ``to``), so
a request with one is Solana, anything else EVM. Each family's workflow takes its own model,
whose ``family`` defaults, so today's ``temporal workflow start`` inputs are unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Discriminator, Tag, TypeAdapter

from crosslane.domain.families import ChainFamily
from crosslane.domain.solana import SolTransferRequest
from crosslane.domain.tx import TxRequest


def request_family(data: Any) -> ChainFamily | str:
    """The family of a request (a model, or plain JSON that may predate ``family``)."""
    if isinstance(data, dict):
        return data.get("family") or ("solana" if "recipient" in data else "evm")
    return getattr(data, "family", "evm")


ChainRequestModel = TxRequest | SolTransferRequest

ChainRequest = Annotated[
    Annotated[TxRequest, Tag("evm")] | Annotated[SolTransferRequest, Tag("solana")],
    Discriminator(
        request_family,
        custom_error_type="unknown_family",
        custom_error_message="family must be one of: evm, solana",
    ),
]
# Errors never echo the input: it is the caller's request, and a refused one may hold a key.
CHAIN_REQUEST: TypeAdapter[ChainRequestModel] = TypeAdapter(ChainRequest, config=ConfigDict(hide_input_in_errors=True))


def parse_chain_request(data: Any) -> ChainRequestModel:
    """Validate plain JSON (or a dict) as whichever family's request it is."""
    if isinstance(data, str | bytes):
        return CHAIN_REQUEST.validate_json(data)
    return CHAIN_REQUEST.validate_python(data)
