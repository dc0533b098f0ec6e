"""The OKX v5 dialect: REST ``/api/v5`` (spot), public and private websockets."""

from devnet.cex.okx.profile import PROFILE
from devnet.cex.okx.rest import OkxDialect

__all__ = ["PROFILE", "OkxDialect"]
