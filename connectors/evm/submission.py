"""Where signed transactions go: the public mempool, or a private relay.

A private relay (Flashbots Protect and its kind) takes signed transactions over JSON-RPC and
hands them to block builders without showing them in the public mempool, so nobody can
front-run or sandwich them while they wait. Both submitters answer the two questions a
lifecycle asks: "send these bytes" and "does the endpoint still know this transaction?".

A relay that fails is never bypassed for the public mempool: that would leak exactly the
transaction the caller asked to protect. Its transport failures are ``RpcUnavailable``
(retryable), its refusals classified like a node's.
"""

from __future__ import annotations

from typing import Any, Protocol

from web3 import AsyncWeb3
from web3.exceptions import TransactionNotFound

from connectors.evm.client import EvmClient
from connectors.evm.transactions import classify_send_error, is_known, send_raw
from crosslane.domain.chains import ChainConfig
from crosslane.domain.tx import BroadcastOutcome
from crosslane.errors import BroadcastRejected

SEND_PRIVATE = "eth_sendPrivateTransaction"


class TxSubmitter(Protocol):
    """One way of getting signed transactions to block producers."""

    name: str

    async def submit(self, raw_tx: str) -> BroadcastOutcome:
        """Send signed bytes (0x hex); already-known bytes are not an error."""
        ...

    async def is_known(self, tx_hash: str) -> bool:
        """Whether the endpoint still has the transaction (pending, held or mined)."""
        ...


class PublicMempool:
    """``eth_sendRawTransaction`` to the chain's own RPC endpoints (with their failover)."""

    name = "public mempool"

    def __init__(self, client: EvmClient) -> None:
        self.client = client

    async def submit(self, raw_tx: str) -> BroadcastOutcome:
        return await send_raw(self.client, raw_tx)

    async def is_known(self, tx_hash: str) -> bool:
        return await is_known(self.client, tx_hash)


class PrivateRelay:
    """A private relay's JSON-RPC endpoint.

    Sends with ``eth_sendPrivateTransaction`` (``[{"tx": raw, "maxBlockNumber": ...}]``, the
    Flashbots method), or plain ``eth_sendRawTransaction`` for relays that take that. Asks the
    relay, not the public nodes, whether a transaction is still known: the public nodes
    never see a held one.
    """

    def __init__(
        self, chain: ChainConfig, url: str, *, method: str = SEND_PRIVATE, max_block_number: int | None = None
    ) -> None:
        self.name = f"private relay {url}"
        self.url = url
        self.method = method
        self.max_block_number = max_block_number
        self.client = EvmClient(chain.model_copy(update={"rpc_urls": [url]}))

    def _params(self, raw_tx: str) -> list[Any]:
        if self.method != SEND_PRIVATE:
            return [raw_tx]
        body: dict[str, Any] = {"tx": raw_tx}
        if self.max_block_number is not None:
            body["maxBlockNumber"] = hex(self.max_block_number)
        return [body]

    async def submit(self, raw_tx: str) -> BroadcastOutcome:
        async def _send(w3: AsyncWeb3) -> BroadcastOutcome:
            response = await w3.provider.make_request(self.method, self._params(raw_tx))  # type: ignore[arg-type]
            error = response.get("error")
            if error is None:
                return BroadcastOutcome.SENT
            message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            outcome = classify_send_error(message)
            if outcome is None:
                raise BroadcastRejected(f"{self.name} refused the transaction: {message}")
            return outcome

        return await self.client.call(_send, self.method)

    async def is_known(self, tx_hash: str) -> bool:
        async def _lookup(w3: AsyncWeb3) -> bool:
            try:
                return await w3.eth.get_transaction(tx_hash) is not None  # type: ignore[arg-type]
            except TransactionNotFound:
                return False

        return await self.client.call(_lookup, "eth_getTransactionByHash (relay)")

    async def close(self) -> None:
        await self.client.close()
