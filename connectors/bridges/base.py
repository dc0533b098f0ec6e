"""One interface for every bridge route: quote, deposit, status, complete, refund.

An adapter knows one protocol's contracts and off-chain services. It never sends a
transaction itself: it returns the calls (``ContractCall``) that the caller lands through
``TransactionLifecycle``, and reads the chain to say where a deposit is, in the shared
state model of :class:`crosslane.domain.bridge.BridgeState`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from web3 import AsyncWeb3

from connectors.dex.receipts import ReceiptLogs, event_topic, receipt_logs
from connectors.dex.routing import RouteFinder
from connectors.dex.tokens import resolve_token
from connectors.evm.calls import ContractCall
from connectors.evm.client import EvmClient
from crosslane.domain.bridge import (
    WRAPPED_PREFIX,
    BridgePlan,
    BridgeProgress,
    BridgeRequest,
    BridgeRoute,
    DepositRef,
    RouteQuote,
    TokenSide,
)
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.errors import CrosslaneError, InvalidRequest

ClientFor = Callable[[str], EvmClient]


class RouteUnavailable(CrosslaneError):
    """This route cannot take this transfer (no such asset, over its limit, no liquidity...)."""


class RefundUnsupported(InvalidRequest):
    """The route has no refund for this deposit."""


@dataclass(frozen=True)
class TransferContext:
    """A request resolved against the chain registry: what every adapter quotes from."""

    request: BridgeRequest
    source: ChainConfig
    destination: ChainConfig
    token: TokenSide  # the asset on the source chain
    now: int  # source chain time (unix seconds)


@dataclass(frozen=True)
class DepositPlan:
    """What the route will do for this transfer: the token it delivers and the deposit call."""

    destination_token: TokenSide
    expected_output: int
    spender: str | None  # what the source token must be approved to; None: the call pulls nothing (burns, pays value)
    call: ContractCall
    fill_deadline: int | None = None
    finality: int = 1  # source confirmations the route itself waits for (Wormhole's guardians)


@dataclass(frozen=True)
class Delivery:
    """What arrived on the destination (or, refunded, back on the source) in one transaction."""

    tx_hash: str
    block_number: int
    amount: int  # base units of the delivered token, summed from the transaction's Transfer events


class BridgeAdapter(Protocol):
    route: BridgeRoute

    async def quote(self, ctx: TransferContext) -> RouteQuote:
        """This route's offer; RouteUnavailable with the reason when it cannot take the transfer."""
        ...

    async def plan_deposit(self, ctx: TransferContext, quote: RouteQuote) -> DepositPlan: ...

    async def deposit_ref(self, plan: BridgePlan, receipt: ReceiptLogs) -> DepositRef:
        """The deposit as the route tracks it, from the mined deposit's receipt."""
        ...

    async def status(self, ref: DepositRef) -> BridgeProgress: ...

    async def completion_call(self, ref: DepositRef, progress: BridgeProgress) -> ContractCall | None:
        """The destination transaction still needed (None: the route delivers by itself, or it is done)."""
        ...

    async def delivered(self, ref: DepositRef, tx_hash: str | None) -> Delivery:
        """What the recipient received in the delivering ``tx_hash`` (None: find it on the
        destination), read from that transaction's receipt, not assumed."""
        ...

    async def refund(self, ref: DepositRef) -> BridgeProgress:
        """Where the refund of an unfilled deposit is; RefundUnsupported where the route has none."""
        ...

    async def refunded(self, ref: DepositRef, progress: BridgeProgress) -> Delivery:
        """What the depositor got back in the refund transaction ``progress`` names (from its receipt)."""
        ...


NATIVE_SYMBOL = "ETH"
NATIVE_ADDRESS = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"  # the native coin as a token address (the usual sentinel)


def native_token(chain: str) -> TokenSide:
    """The chain's native coin as a transfer's asset (no contract: moved as the call's value)."""
    return TokenSide(chain=chain, address=NATIVE_ADDRESS, symbol=NATIVE_SYMBOL, decimals=18)


def is_native(token: TokenSide) -> bool:
    return token.address == NATIVE_ADDRESS


async def resolve_asset(client: EvmClient, asset: str) -> TokenSide:
    """``asset`` on the client's chain: ``ETH`` (the native coin), a registry symbol, or a
    Wormhole-wrapped asset held there (``Wormhole:<origin>:<symbol>``, its decimals read from
    the token)."""
    source = client.chain
    if asset.upper() == NATIVE_SYMBOL:
        return native_token(source.name)
    if asset.startswith(WRAPPED_PREFIX):
        address = source.contracts.get(asset)
        if address is None:
            raise InvalidRequest(f"{source.name} holds no {asset} (no such wrapped asset attested there)")
        info = await resolve_token(client, address)
        return TokenSide(chain=source.name, address=info.address, symbol=asset, decimals=info.decimals)
    for info in source.tokens.values():
        if info.symbol.lower() == asset.lower():
            return TokenSide(
                chain=source.name, address=to_checksum_address(info.address), symbol=info.symbol, decimals=info.decimals
            )
    wrapped = sorted(k for k in source.contracts if k.startswith(WRAPPED_PREFIX))
    known = ", ".join([*sorted(t.symbol for t in source.tokens.values()), *wrapped]) or "none"
    raise InvalidRequest(f"unknown asset {asset!r} on {source.name}; known: {known}")


async def context(chains: ChainRegistry, client: ClientFor, request: BridgeRequest, now: int) -> TransferContext:
    source, destination = chains.get(request.source_chain), chains.get(request.destination_chain)
    token = await resolve_asset(client(source.name), request.asset)
    return TransferContext(request, source, destination, token, now)


async def gas_in_asset(client: EvmClient, token: str, gas_units: int, gas_price_wei: int | None = None) -> int:
    """``gas_units`` at the chain's current price, in ``token`` base units (through the
    chain's WETH/token DEX pools); 0 when no pool prices the token there."""
    finder = RouteFinder(client)
    if gas_price_wei is None:
        gas_price_wei = await finder.gas_price()
    wei = gas_units * gas_price_wei
    if token == NATIVE_ADDRESS:
        return wei
    market = await finder.read(finder.pricing_pools([token]))
    return finder.wei_in(market, token, wei) or 0


TRANSFER = event_topic("Transfer(address,address,uint256)")


def topic(abi_type: str, value: Any) -> str:
    """An indexed argument as the 0x-hex topic it is filtered by."""
    return "0x" + abi_encode([abi_type], [value]).hex()


def log_tx_hash(log: Any) -> str:
    return "0x" + bytes(log["transactionHash"]).hex().removeprefix("0x")


async def get_logs(
    client: EvmClient, address: str, topics: list[str | None], from_block: int, to_block: int | str = "latest"
) -> list[Any]:
    """``eth_getLogs`` of one contract, through the client's endpoint failover."""

    async def _logs(w3: AsyncWeb3) -> list[Any]:
        flt: Any = {
            "address": to_checksum_address(address),
            "topics": topics,
            "fromBlock": from_block,
            "toBlock": to_block,
        }
        return list(await w3.eth.get_logs(flt))

    result: list[Any] = await client.call(_logs, "eth_getLogs")
    return result


async def transferred_in(client: EvmClient, tx_hash: str, token: str, recipient: str) -> Delivery:
    """What ``recipient`` received of ``token`` in the mined ``tx_hash``: the sum of the
    token's ``Transfer`` events to it in that transaction's receipt (exact, and blind to
    other transfers landing in the same block). A reverted transaction delivered nothing."""
    receipt = await receipt_logs(client, tx_hash)
    token_address, to = to_checksum_address(token), topic("address", to_checksum_address(recipient))
    amount = sum(
        int.from_bytes(log.data[:32], "big")
        for log in receipt.logs
        if receipt.status == 1 and log.is_event(token_address, TRANSFER, 3) and "0x" + log.topics[2].hex() == to
    )
    return Delivery(tx_hash=receipt.tx_hash, block_number=receipt.block_number, amount=amount)
