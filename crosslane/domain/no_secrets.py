"""Requests never carry keys: signing keys stay in the worker's signer registry."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

SECRET_FIELDS = frozenset(
    {
        "private_key",
        "privatekey",
        "secret_key",  # Solana keypairs are "secret keys"
        "secretkey",
        "keypair",
        "key",
        "secret",
        "mnemonic",
        "seed",
        "password",
        "keystore_password",
    }
)


def refuse_secret_fields(data: Any) -> Any:
    """For a ``model_validator(mode="before")``: a clear error naming the field (never its value)."""
    if isinstance(data, dict):
        leaked = sorted(k for k in data if str(k).lower().replace("-", "_") in SECRET_FIELDS)
        if leaked:
            raise ValueError(
                f"requests must not carry secrets (field {leaked[0]!r}): "
                "signing keys stay in the worker's signer registry"
            )
    return data


class SecretFreeRequest(BaseModel):
    """Base of every request model: a request with a key-like field is refused, naming it.

    Errors never show the input: pydantic would otherwise print the offending value (and,
    for the check below, the whole input dict) in ``input_value=…``, key included. The
    setting governs nested models' errors too, and subclasses' configs merge with it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        return refuse_secret_fields(data)
