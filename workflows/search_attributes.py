"""Search attributes the Temporal UI lists runs by (registered by ``crosslane dev up``)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CHAIN = SearchAttributeKey.for_keyword("CrosslaneChain")  # the chain a run acts on; a bridge's source
SIGNER = SearchAttributeKey.for_keyword("CrosslaneSigner")
STATE = SearchAttributeKey.for_keyword("CrosslaneState")
DESTINATION_CHAIN = SearchAttributeKey.for_keyword("CrosslaneDestinationChain")
ASSET = SearchAttributeKey.for_keyword("CrosslaneAsset")
ROUTE = SearchAttributeKey.for_keyword("CrosslaneRoute")
ARB_KIND = SearchAttributeKey.for_keyword("CrosslaneArbKind")
EXPECTED_PROFIT = SearchAttributeKey.for_float("CrosslaneExpectedProfit")  # quote, whole tokens
REALISED_PROFIT = SearchAttributeKey.for_float("CrosslaneRealisedProfit")
# A proven withdrawal's finalizable time: `CrosslaneFinalizableAt < "<tomorrow>"` lists those due today.
FINALIZABLE_AT = SearchAttributeKey.for_datetime("CrosslaneFinalizableAt")

ALL = (CHAIN, SIGNER, STATE, DESTINATION_CHAIN, ASSET, ROUTE, ARB_KIND)  # keywords
NUMERIC = (EXPECTED_PROFIT, REALISED_PROFIT)  # doubles
DATETIMES = (FINALIZABLE_AT,)
