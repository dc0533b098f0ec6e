"""The Across route: ``depositV3`` into the origin SpokePool; a relayer fills the recipient on
the destination from its own inventory and is repaid later from the deposit. Unfilled by
the fill deadline, the deposit is refunded to the depositor on the origin through a
relayer-refund leaf (the HubPool's root bundle).

The fee, limits, instant liquidity and expected fill time come from the Across API's
``GET {api_url}/suggested-fees`` (``https://app.across.to/api`` in production; the devnet
relayer answers the same question); everything else is read from the SpokePools' own
state and events (``fillStatuses``, ``FilledRelay``, ``ExecutedRelayerRefundRoot``).
"""

from __future__ import annotations

from typing import Any

import aiohttp
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from connectors.bridges.base import (
    ClientFor,
    Delivery,
    DepositPlan,
    RouteUnavailable,
    TransferContext,
    gas_in_asset,
    get_logs,
    log_tx_hash,
    topic,
    transferred_in,
)
from connectors.dex.reads import Read, read_batch, selector
from connectors.dex.receipts import ReceiptLogs, event_topic, receipt_logs
from connectors.evm.calls import ContractCall
from connectors.evm.client import EvmClient
from crosslane.domain.bridge import (
    BridgePlan,
    BridgeProgress,
    BridgeRoute,
    BridgeState,
    DepositRef,
    RouteQuote,
    TokenSide,
)
from crosslane.domain.bridge_endpoints import AcrossEndpoints
from crosslane.domain.chains import ChainConfig
from crosslane.errors import InvalidRequest, RpcUnavailable

DEPOSIT_V3 = "depositV3(address,address,address,address,uint256,uint256,uint256,address,uint32,uint32,uint32,bytes)"
RELAY_DATA = "(bytes32,bytes32,bytes32,bytes32,bytes32,uint256,uint256,uint256,uint256,uint32,uint32,bytes)"
FUNDS_DEPOSITED = event_topic(
    "FundsDeposited(bytes32,bytes32,uint256,uint256,uint256,uint256,uint32,uint32,uint32,bytes32,bytes32,bytes32,bytes)"
)
FILLED_RELAY = event_topic(
    "FilledRelay(bytes32,bytes32,uint256,uint256,uint256,uint256,uint256,uint32,uint32,bytes32,bytes32,bytes32,"
    "bytes32,bytes32,(bytes32,bytes32,uint256,uint8))"
)
FILL_DATA = ["bytes32", "bytes32", "uint256", "uint256", "uint256", "uint32", "uint32", "bytes32", "bytes32", "bytes32",
             "bytes32", "(bytes32,bytes32,uint256,uint8)"]  # fmt: skip
WETH_WITHDRAWAL = event_topic("Withdrawal(address,uint256)")  # WETH9's unwrap
EXECUTED_REFUND_ROOT = event_topic(
    "ExecutedRelayerRefundRoot(uint256,uint256,uint256[],uint32,uint32,address,address[],bool,address)"
)
DEPOSIT_DATA = ["bytes32", "bytes32", "uint256", "uint256", "uint32", "uint32", "uint32", "bytes32", "bytes32", "bytes"]
FILL_STATUS = {0: "unfilled", 1: "slow fill requested", 2: "filled"}
GAS_LIMIT = {"deposit": 300_000}
GAS_ESTIMATE = {"approve": 46_000, "deposit": 110_000}


class AcrossBridge:
    route = BridgeRoute.ACROSS

    def __init__(self, endpoints: AcrossEndpoints, client: ClientFor) -> None:
        self.endpoints = endpoints
        self.client = client

    @staticmethod
    def _pool(chain: ChainConfig) -> str:
        address = chain.contracts.get("AcrossSpokePool")
        if address is None:
            raise RouteUnavailable(f"no Across SpokePool on {chain.name}")
        return to_checksum_address(address)

    @staticmethod
    def _output_token(ctx: TransferContext) -> str:
        """The route delivers the same asset: the destination's token of the same symbol."""
        info = ctx.destination.tokens.get(ctx.token.symbol)
        if info is None:
            raise RouteUnavailable(f"{ctx.token.symbol} has no counterpart on {ctx.destination.name} for Across")
        return to_checksum_address(info.address)

    async def _suggested_fees(self, ctx: TransferContext) -> dict[str, Any]:
        params = {
            "inputToken": ctx.token.address,
            "outputToken": self._output_token(ctx),
            "originChainId": str(ctx.source.chain_id),
            "destinationChainId": str(ctx.destination.chain_id),
            "amount": str(ctx.request.amount),
        }
        url = f"{self.endpoints.api_url.rstrip('/')}/suggested-fees"
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.get(url, params=params) as resp,
            ):
                body: dict[str, Any] = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RouteUnavailable(f"the Across API at {url} is unreachable ({type(exc).__name__})") from None
        if status in (400, 404):
            raise RouteUnavailable(str(body.get("message") or body.get("error") or "route not supported"))
        if status != 200:
            raise RouteUnavailable(f"the Across API answered {status}: {body}")
        return body

    async def quote(self, ctx: TransferContext) -> RouteQuote:
        for chain in (ctx.source, ctx.destination):
            self._pool(chain)
        if ctx.request.asset.startswith("Wormhole:"):
            raise RouteUnavailable(f"Across does not carry Wormhole-wrapped {ctx.request.asset}")
        api = await self._suggested_fees(ctx)
        if api.get("isAmountTooLow"):
            raise RouteUnavailable(
                f"amount {ctx.request.amount} is too low for the relayers' fee ({api['totalRelayFee']['total']})"
            )
        limits = api["limits"]
        source_gas = await gas_in_asset(
            self.client(ctx.source.name), ctx.token.address, GAS_ESTIMATE["approve"] + GAS_ESTIMATE["deposit"]
        )
        return RouteQuote(
            route=self.route,
            fee=int(api["totalRelayFee"]["total"]),
            source_gas=source_gas,
            destination_gas=0,  # the relayer pays it; its fee covers it
            expected_seconds=int(api.get("estimatedFillTimeSec") or self.endpoints.expected_seconds),
            security_score=self.endpoints.security_score,
            min_amount=int(limits["minDeposit"]),
            max_amount=int(limits["maxDeposit"]),
            liquidity=int(limits["maxDepositInstant"]),
        )

    async def plan_deposit(self, ctx: TransferContext, quote: RouteQuote) -> DepositPlan:
        output_token = self._output_token(ctx)
        out_info = ctx.destination.tokens[ctx.token.symbol]
        output = ctx.request.amount - quote.fee
        fill_deadline = ctx.now + self.endpoints.fill_deadline_seconds
        if ctx.request.deadline is not None:
            fill_deadline = min(fill_deadline, ctx.request.deadline)
        pool = self._pool(ctx.source)
        data = (
            selector(DEPOSIT_V3)
            + abi_encode(
                [
                    "address",
                    "address",
                    "address",
                    "address",
                    "uint256",
                    "uint256",
                    "uint256",
                    "address",
                    "uint32",
                    "uint32",
                    "uint32",
                    "bytes",
                ],
                [
                    ctx.request.signer,
                    ctx.request.to,
                    ctx.token.address,
                    output_token,
                    ctx.request.amount,
                    output,
                    ctx.destination.chain_id,
                    "0x" + "00" * 20,
                    ctx.now,
                    fill_deadline,
                    0,
                    b"",
                ],
            )
        ).hex()
        return DepositPlan(
            destination_token=TokenSide(
                chain=ctx.destination.name,
                address=output_token,
                symbol=out_info.symbol,
                decimals=out_info.decimals,
            ),
            expected_output=output,
            spender=pool,
            call=ContractCall(to=pool, data="0x" + data, gas_limit=GAS_LIMIT["deposit"]),
            fill_deadline=fill_deadline,
        )

    async def deposit_ref(self, plan: BridgePlan, receipt: ReceiptLogs) -> DepositRef:
        source = self.client(plan.source_token.chain).chain
        pool = self._pool(source)
        for log in receipt.logs:
            if not log.is_event(pool, FUNDS_DEPOSITED, 4):
                continue
            (
                input_token,
                output_token,
                input_amount,
                output_amount,
                quote_ts,
                fill_deadline,
                excl_deadline,
                recipient,
                exclusive_relayer,
                message,
            ) = log.decoded(DEPOSIT_DATA)
            destination_chain_id = log.indexed(1, "uint256")
            deposit_id = log.indexed(2, "uint256")
            depositor = log.indexed(3, "bytes32")
            relay = [
                "0x" + bytes(depositor).hex(),
                "0x" + bytes(recipient).hex(),
                "0x" + bytes(exclusive_relayer).hex(),
                "0x" + bytes(input_token).hex(),
                "0x" + bytes(output_token).hex(),
                input_amount,
                output_amount,
                source.chain_id,
                deposit_id,
                fill_deadline,
                excl_deadline,
                "0x" + bytes(message).hex(),
            ]
            relay_hash = await self._relay_hash(plan.destination_token.chain, self._relay_tuple_of(relay))
            return DepositRef(
                route=self.route,
                source_chain=source.name,
                destination_chain=plan.destination_token.chain,
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                id=f"{source.chain_id}:{deposit_id}",
                detail={
                    "deposit_id": deposit_id,
                    "destination_chain_id": destination_chain_id,
                    "relay_data": relay,
                    "relay_hash": "0x" + relay_hash.hex(),
                    "fill_deadline": fill_deadline,
                    "quote_timestamp": quote_ts,
                    "depositor": to_checksum_address(bytes(depositor)[12:]),
                    "recipient": plan.recipient,
                    "input_token": plan.source_token.address,
                    "input_amount": input_amount,
                    "destination_token": plan.destination_token.address,
                    "expected_output": output_amount,
                },
            )
        raise InvalidRequest(f"{receipt.tx_hash} made no Across deposit on {source.name}")

    # -- following it ------------------------------------------------------------------------
    @staticmethod
    def _relay_tuple_of(raw: list[Any]) -> tuple[Any, ...]:
        return tuple(bytes.fromhex(v[2:]) if isinstance(v, str) else int(v) for v in raw)

    def _relay_tuple(self, ref: DepositRef) -> tuple[Any, ...]:
        return self._relay_tuple_of(ref.detail["relay_data"])

    async def _relay_hash(self, destination: str, relay: tuple[Any, ...]) -> bytes:
        """The destination SpokePool's key for this relay (``getV3RelayHash``): asked once,
        at the deposit, then kept in the ref."""
        client = self.client(destination)
        pool = self._pool(client.chain)
        read = Read(pool, selector(f"getV3RelayHash({RELAY_DATA})") + abi_encode([RELAY_DATA], [relay]), ("bytes32",))
        batch = await read_batch(client, [read])
        if batch.results[0] is None:
            raise RpcUnavailable(f"{destination}: getV3RelayHash failed")
        return bytes(batch.results[0][0])

    async def _fill_status(self, ref: DepositRef) -> tuple[int, int]:
        """(fill status, destination chain time), in one read."""
        dest = self.client(ref.destination_chain)
        pool = self._pool(dest.chain)
        known = ref.detail.get("relay_hash")  # refs made before it was kept: ask again
        if known:
            relay_hash = bytes.fromhex(str(known)[2:])
        else:
            relay_hash = await self._relay_hash(ref.destination_chain, self._relay_tuple(ref))
        batch = await read_batch(
            dest,
            [
                Read.of(pool, "fillStatuses(bytes32)", ("uint256",), relay_hash),
                Read(pool, selector("getCurrentTime()"), ("uint256",)),
            ],
        )
        status, now = batch.results
        return int(status[0]) if status else 0, int(now[0]) if now else 0

    async def _fill_log(self, ref: DepositRef) -> tuple[str, int] | None:
        dest = self.client(ref.destination_chain)
        pool = self._pool(dest.chain)
        source_id = self.client(ref.source_chain).chain.chain_id
        topics = ["0x" + FILLED_RELAY.hex(), topic("uint256", source_id), topic("uint256", ref.detail["deposit_id"])]
        logs = await get_logs(dest, pool, topics, 0)
        if not logs:
            return None
        return log_tx_hash(logs[-1]), int(logs[-1]["blockNumber"])

    async def status(self, ref: DepositRef) -> BridgeProgress:
        status, now = await self._fill_status(ref)
        fill_deadline = int(ref.detail["fill_deadline"])  # type: ignore[call-overload]
        if status == 2:
            found = await self._fill_log(ref)
            tx, block = found if found else (None, None)
            return BridgeProgress(
                state=BridgeState.COMPLETED,
                detail=f"filled on {ref.destination_chain}" + (f" by {tx}" if tx else ""),
                destination_tx=tx,
                destination_block=block,
            )
        if now <= fill_deadline:
            return BridgeProgress(
                state=BridgeState.PENDING_FILL,
                detail=f"{ref.id} {FILL_STATUS.get(status, status)}: waiting for a relayer "
                f"(fill deadline in {fill_deadline - now} s)",
            )
        return await self.refund(ref)

    async def refund(self, ref: DepositRef) -> BridgeProgress:
        """Past its fill deadline and unfilled, the deposit is refunded on the origin in a
        relayer-refund leaf paying the depositor at least the input amount, after the deposit."""
        status, now = await self._fill_status(ref)
        fill_deadline = int(ref.detail["fill_deadline"])  # type: ignore[call-overload]
        if status == 2:
            raise InvalidRequest(f"{ref.id} was filled on {ref.destination_chain}: nothing to refund")
        if now <= fill_deadline:
            raise InvalidRequest(
                f"{ref.id} can still be filled for {fill_deadline - now} s: it is refunded only after its fill deadline"
            )
        source = self.client(ref.source_chain)
        pool = self._pool(source.chain)
        topics: list[str | None] = ["0x" + EXECUTED_REFUND_ROOT.hex(), topic("uint256", source.chain.chain_id)]
        depositor = str(ref.detail["depositor"]).lower()
        token = str(ref.detail["input_token"]).lower()
        amount = int(ref.detail["input_amount"])  # type: ignore[call-overload]
        for log in await get_logs(source, pool, topics, ref.block_number):
            _, amounts, token_addr, addresses, _, _ = abi_decode(
                ["uint256", "uint256[]", "address", "address[]", "bool", "address"], bytes(log["data"])
            )
            if token_addr.lower() != token:
                continue
            for to, paid in zip(addresses, amounts, strict=True):
                if to.lower() == depositor and paid >= amount:
                    tx = log_tx_hash(log)
                    return BridgeProgress(
                        state=BridgeState.REFUNDED,
                        detail=f"unfilled by its deadline; refunded on {ref.source_chain} in {tx}",
                        refund_tx=tx,
                        destination_block=int(log["blockNumber"]),
                    )
        return BridgeProgress(
            state=BridgeState.PENDING_REFUND,
            detail=f"{ref.id} expired unfilled at {fill_deadline}; waiting for the refund bundle on {ref.source_chain}",
        )

    async def completion_call(self, ref: DepositRef, progress: BridgeProgress) -> ContractCall | None:
        return None  # the relayer delivers

    async def delivered(self, ref: DepositRef, tx_hash: str | None) -> Delivery:
        """What the relayer's fill transaction (``tx_hash``, else the one its ``FilledRelay``
        names) transferred of the output token to the recipient."""
        if tx_hash is None:
            found = await self._fill_log(ref)
            if found is None:
                raise RpcUnavailable(f"{ref.destination_chain} shows no fill of {ref.id} yet")
            tx_hash = found[0]
        dest = self.client(ref.destination_chain)
        token, recipient = str(ref.detail["destination_token"]), str(ref.detail["recipient"])
        delivery = await transferred_in(dest, tx_hash, token, recipient)
        if delivery.amount:
            return delivery
        native = await self._native_payout(dest, tx_hash, ref)
        return Delivery(tx_hash=delivery.tx_hash, block_number=delivery.block_number, amount=native)

    async def _native_payout(self, dest: EvmClient, tx_hash: str, ref: DepositRef) -> int:
        """What the fill paid the recipient in native ETH: a SpokePool filling its wrapped native
        token (WETH) to a plain recipient unwraps it and sends ETH, so no ``Transfer`` reaches
        the recipient. Counted when this deposit's ``FilledRelay`` names the recipient and the
        pool unwrapped exactly its output amount of the output token in the same transaction."""
        receipt = await receipt_logs(dest, tx_hash)
        if receipt.status != 1:
            return 0
        pool = self._pool(dest.chain)
        token = to_checksum_address(str(ref.detail["destination_token"]))
        recipient = to_checksum_address(str(ref.detail["recipient"]))
        source_id = self.client(ref.source_chain).chain.chain_id
        deposit_id = int(str(ref.detail["deposit_id"]))
        unwrapped = [
            log.decoded(["uint256"])[0]
            for log in receipt.logs
            if log.is_event(token, WETH_WITHDRAWAL, 2) and to_checksum_address(log.indexed(1, "address")) == pool
        ]
        paid = 0
        for log in receipt.logs:
            if not log.is_event(pool, FILLED_RELAY, 4) or log.indexed(1, "uint256") != source_id:
                continue
            if log.indexed(2, "uint256") != deposit_id:
                continue
            fields = log.decoded(FILL_DATA)
            output_token, (updated_recipient, _message, updated_amount, _fill_type) = fields[1], fields[11]
            ours = _address(output_token) == token and _address(updated_recipient) == recipient
            if ours and updated_amount in unwrapped:
                unwrapped.remove(updated_amount)
                paid += updated_amount
        return paid

    async def refunded(self, ref: DepositRef, progress: BridgeProgress) -> Delivery:
        """What the refund transaction (the relayer-refund leaf ``progress`` names) transferred
        of the input token to the depositor."""
        if progress.refund_tx is None:
            raise InvalidRequest(f"{ref.id}: no refund transaction to verify ({progress.state})")
        return await transferred_in(
            self.client(ref.source_chain),
            progress.refund_tx,
            str(ref.detail["input_token"]),
            str(ref.detail["depositor"]),
        )


def _address(word: bytes) -> str:
    """A bytes32 address field (Across V3 events) as a checksummed address."""
    return to_checksum_address(word[-20:])
