"""Search attributes the Temporal UI lists runs by (registered by ``crosslane dev up``)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CHAIN = SearchAttributeKey.for_keyword("CrosslaneChain")
SIGNER = SearchAttributeKey.for_keyword("CrosslaneSigner")
STATE = SearchAttributeKey.for_keyword("CrosslaneState")

ALL = (CHAIN, SIGNER, STATE)
