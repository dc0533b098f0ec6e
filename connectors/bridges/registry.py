"""The bridge adapters a deployment has, by route."""

from __future__ import annotations

from connectors.bridges.across import AcrossBridge
from connectors.bridges.base import BridgeAdapter, ClientFor
from connectors.bridges.op_canonical import OpCanonicalBridge
from connectors.bridges.wormhole import WormholeBridge
from crosslane.domain.bridge import BridgeRoute
from crosslane.domain.bridge_endpoints import BridgeEndpoints


def bridge_adapters(endpoints: BridgeEndpoints, client: ClientFor) -> dict[BridgeRoute, BridgeAdapter]:
    out: dict[BridgeRoute, BridgeAdapter] = {}
    if endpoints.wormhole is not None:
        out[BridgeRoute.WORMHOLE] = WormholeBridge(endpoints.wormhole, client)
    if endpoints.across is not None:
        out[BridgeRoute.ACROSS] = AcrossBridge(endpoints.across, client)
    if endpoints.op_canonical is not None:
        out[BridgeRoute.OP_CANONICAL] = OpCanonicalBridge(endpoints.op_canonical, client)
    return out
