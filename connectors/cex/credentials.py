"""API credentials for a venue, from the environment or a secrets file; never printable.

Environment: ``CROSSLANE_CEX_<VENUE>_API_KEY``, ``..._SECRET``, ``..._PASSWORD`` (OKX's
passphrase), with ``<VENUE>`` the venue name upper-cased and ``-`` as ``_``. Secrets file:
JSON ``{"<venue>": {"api_key": ..., "secret": ..., "password": ...}}`` (mode 600).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from crosslane.errors import InvalidRequest


@dataclass(frozen=True)
class ApiCredentials:
    api_key: str
    secret: str = field(repr=False)
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"ApiCredentials(api_key={self.api_key[:4]}…)"

    def ccxt_params(self) -> dict[str, str]:
        params = {"apiKey": self.api_key, "secret": self.secret}
        if self.password is not None:
            params["password"] = self.password
        return params


def env_prefix(venue: str) -> str:
    return "CROSSLANE_CEX_" + venue.upper().replace("-", "_") + "_"


def load_credentials(
    venue: str, *, secrets_file: Path | None = None, environ: dict[str, str] | None = None
) -> ApiCredentials | None:
    """The venue's credentials, or None for public-data-only use."""
    env = os.environ if environ is None else environ
    prefix = env_prefix(venue)
    if env.get(prefix + "API_KEY"):
        secret = env.get(prefix + "SECRET")
        if not secret:
            raise InvalidRequest(f"{prefix}API_KEY is set but {prefix}SECRET is not")
        return ApiCredentials(env[prefix + "API_KEY"], secret, env.get(prefix + "PASSWORD"))
    if secrets_file is not None and secrets_file.exists():
        entry = json.loads(secrets_file.read_text()).get(venue)
        if entry:
            try:
                return ApiCredentials(entry["api_key"], entry["secret"], entry.get("password"))
            except KeyError as exc:
                raise InvalidRequest(f"{secrets_file.name}: venue {venue!r} lacks {exc.args[0]!r}") from None
    return None
