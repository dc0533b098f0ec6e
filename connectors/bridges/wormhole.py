"""The Wormhole route: the token bridge locks (or burns wrapped) on the source, the guardians
sign a VAA of the message, and ``completeTransfer(vaa)`` on the destination releases or mints.

Works against any deployment given the core/token-bridge addresses (each chain's
``contracts["WormholeCore"]`` / ``["WormholeTokenBridge"]``) and a guardian REST endpoint.
The VAA's hash is known before the guardians sign (the body is the source block's
timestamp and the published message), so whether a transfer was already redeemed is read
from the destination at any time: a transfer is never redeemed twice.
"""

from __future__ import annotations

import zlib

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from connectors.bridges.base import (
    ClientFor,
    Delivery,
    DepositPlan,
    RefundUnsupported,
    RouteUnavailable,
    TransferContext,
    gas_in_asset,
    get_logs,
    is_native,
    log_tx_hash,
    topic,
    transferred_in,
)
from connectors.bridges.wormhole_api import fetch_signed_vaa
from connectors.bridges.wormhole_vaa import TransferPayload, VAABody, emitter_bytes32, parse_vaa
from connectors.dex.reads import Read, read_batch, selector
from connectors.dex.receipts import ReceiptLogs, event_topic
from connectors.evm.calls import ContractCall
from crosslane.domain.bridge import (
    BridgePlan,
    BridgeProgress,
    BridgeRoute,
    BridgeState,
    DepositRef,
    RouteQuote,
    TokenSide,
)
from crosslane.domain.bridge_endpoints import WormholeEndpoints
from crosslane.domain.chains import ChainConfig
from crosslane.errors import InvalidRequest, RpcUnavailable

LOG_MESSAGE_PUBLISHED = event_topic("LogMessagePublished(address,uint64,uint32,bytes,uint8)")
TRANSFER_REDEEMED = event_topic("TransferRedeemed(uint16,bytes32,uint64)")
TRANSFER_TOKENS = "transferTokens(address,uint256,uint16,bytes32,uint256,uint32)"
COMPLETE_TRANSFER = "completeTransfer(bytes)"
GAS_LIMIT = {"deposit": 400_000, "redeem": 500_000}
GAS_ESTIMATE = {"approve": 46_000, "deposit": 130_000, "redeem": 230_000}  # typical, for quotes
MAX_NORMALISED = 2**64 - 1  # the payload carries amounts normalised to 8 decimals in a u64


def _calldata(signature: str, types: list[str], args: list[object]) -> str:
    return "0x" + (selector(signature) + abi_encode(types, args)).hex()


def transfer_nonce(request_id: str) -> int:
    """A deterministic message nonce per request (Wormhole's batching id; not a replay guard)."""
    return zlib.crc32(request_id.encode())


class WormholeBridge:
    route = BridgeRoute.WORMHOLE

    def __init__(self, endpoints: WormholeEndpoints, client: ClientFor) -> None:
        self.endpoints = endpoints
        self.client = client

    # -- where things are --------------------------------------------------------------------
    def _chain_id(self, chain: ChainConfig) -> int:
        wid = self.endpoints.chain_ids.get(chain.name)
        if wid is None:
            raise RouteUnavailable(f"{chain.name} is not a Wormhole chain here")
        return wid

    @staticmethod
    def _contract(chain: ChainConfig, name: str) -> str:
        address = chain.contracts.get(name)
        if address is None:
            raise RouteUnavailable(f"no {name} on {chain.name}")
        return to_checksum_address(address)

    async def _origin(self, ctx: TransferContext) -> tuple[int, bytes]:
        """(Wormhole chain id, 32-byte address) of the asset's native token."""
        bridge = self._contract(ctx.source, "WormholeTokenBridge")
        token = ctx.token.address
        batch = await read_batch(
            self.client(ctx.source.name),
            [
                Read.of(bridge, "isWrappedAsset(address)", ("bool",), token),
                Read.of(token, "chainId()", ("uint16",)),
                Read.of(token, "nativeContract()", ("bytes32",)),
            ],
        )
        wrapped, chain_id, native = batch.results
        if wrapped is not None and wrapped[0] and chain_id is not None and native is not None:
            return int(chain_id[0]), bytes(native[0])
        return self._chain_id(ctx.source), emitter_bytes32(token)

    async def destination_token(self, ctx: TransferContext) -> TokenSide:
        origin_chain, origin_address = await self._origin(ctx)
        dest = ctx.destination
        if origin_chain == self._chain_id(dest):  # going home: the native token is released
            address = to_checksum_address(origin_address[12:])
            info = next((t for t in dest.tokens.values() if t.address.lower() == address.lower()), None)
            symbol = info.symbol if info else address
            return TokenSide(chain=dest.name, address=address, symbol=symbol, decimals=ctx.token.decimals)
        bridge = self._contract(dest, "WormholeTokenBridge")
        batch = await read_batch(
            self.client(dest.name),
            [Read.of(bridge, "wrappedAsset(uint16,bytes32)", ("address",), origin_chain, origin_address)],
        )
        wrapped = batch.results[0]
        if wrapped is None or int(wrapped[0], 16) == 0:
            raise RouteUnavailable(f"{ctx.request.asset} is not attested on {dest.name} (no wrapped asset there)")
        origin_name = next((n for n, i in self.endpoints.chain_ids.items() if i == origin_chain), str(origin_chain))
        symbol = ctx.request.asset.rsplit(":", 1)[-1]
        return TokenSide(
            chain=dest.name,
            address=to_checksum_address(wrapped[0]),
            symbol=f"Wormhole:{origin_name}:{symbol}",
            decimals=ctx.token.decimals,
        )

    # -- quote and deposit -------------------------------------------------------------------
    @staticmethod
    def _truncated(amount: int, decimals: int) -> int:
        """What arrives: the bridge moves amounts normalised to 8 decimals; the dust stays."""
        if decimals <= 8:
            return amount
        step = 10 ** (decimals - 8)
        return amount - amount % step

    async def quote(self, ctx: TransferContext) -> RouteQuote:
        if is_native(ctx.token):
            raise RouteUnavailable(f"Wormhole's token bridge moves tokens, not native {ctx.token.symbol} (send WETH)")
        self._chain_id(ctx.destination)
        await self.destination_token(ctx)  # refuses an asset not attested on the destination
        decimals = ctx.token.decimals
        step = 10 ** max(0, decimals - 8)
        source_gas = await gas_in_asset(
            self.client(ctx.source.name), ctx.token.address, GAS_ESTIMATE["approve"] + GAS_ESTIMATE["deposit"]
        )
        # The redeem's gas is paid on the destination in its native coin; priced in the asset
        # where the destination has a market for it (else in the source chain's market).
        dest_client = self.client(ctx.destination.name)
        dest_token = ctx.destination.tokens.get(ctx.token.symbol)
        destination_gas = await gas_in_asset(
            dest_client if dest_token else self.client(ctx.source.name),
            dest_token.address if dest_token else ctx.token.address,
            GAS_ESTIMATE["redeem"],
        )
        return RouteQuote(
            route=self.route,
            fee=ctx.request.amount - self._truncated(ctx.request.amount, decimals),  # dust left behind
            source_gas=source_gas,
            destination_gas=destination_gas,
            expected_seconds=self.endpoints.expected_seconds,
            security_score=self.endpoints.security_score,
            min_amount=step,
            max_amount=MAX_NORMALISED * step,
        )

    async def plan_deposit(self, ctx: TransferContext, quote: RouteQuote) -> DepositPlan:
        bridge = self._contract(ctx.source, "WormholeTokenBridge")
        core = self._contract(ctx.source, "WormholeCore")
        fee = await read_batch(self.client(ctx.source.name), [Read.of(core, "messageFee()", ("uint256",))])
        message_fee = int(fee.results[0][0]) if fee.results[0] else 0
        data = _calldata(
            TRANSFER_TOKENS,
            ["address", "uint256", "uint16", "bytes32", "uint256", "uint32"],
            [
                ctx.token.address,
                ctx.request.amount,
                self._chain_id(ctx.destination),
                emitter_bytes32(ctx.request.to),
                0,
                transfer_nonce(ctx.request.request_id),
            ],
        )
        return DepositPlan(
            destination_token=await self.destination_token(ctx),
            expected_output=self._truncated(ctx.request.amount, ctx.token.decimals),
            spender=bridge,
            call=ContractCall(to=bridge, data=data, value=message_fee, gas_limit=GAS_LIMIT["deposit"]),
            finality=self.endpoints.finality,
        )

    async def deposit_ref(self, plan: BridgePlan, receipt: ReceiptLogs) -> DepositRef:
        source = self.client(plan.source_token.chain).chain
        core = self._contract(source, "WormholeCore")
        bridge = self._contract(source, "WormholeTokenBridge")
        for log in receipt.logs:
            if not log.is_event(core, LOG_MESSAGE_PUBLISHED, 2) or log.indexed(1, "address").lower() != bridge.lower():
                continue
            sequence, nonce, payload, consistency = log.decoded(["uint64", "uint32", "bytes", "uint8"])
            block = await self.client(source.name).call(
                lambda w3: w3.eth.get_block(receipt.block_number), f"eth_getBlockByNumber({receipt.block_number})"
            )
            body = VAABody(
                int(block["timestamp"]),
                nonce,
                self._chain_id(source),
                emitter_bytes32(bridge),
                sequence,
                consistency,
                payload,
            )
            transfer = TransferPayload.parse(payload)
            return DepositRef(
                route=self.route,
                source_chain=source.name,
                destination_chain=plan.destination_token.chain,
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                id=body.message_id,
                detail={
                    "emitter_chain": body.emitter_chain,
                    "emitter": "0x" + body.emitter_address.hex(),
                    "sequence": sequence,
                    "vaa_hash": "0x" + body.digest().hex(),
                    "normalised_amount": transfer.amount,
                    "recipient": plan.recipient,
                    "destination_token": plan.destination_token.address,
                    "expected_output": plan.expected_output,
                },
            )
        raise InvalidRequest(f"{receipt.tx_hash} published no token bridge message on {source.name}")

    # -- following it ------------------------------------------------------------------------
    async def _redeemed(self, ref: DepositRef) -> bool:
        dest = self.client(ref.destination_chain).chain
        bridge = self._contract(dest, "WormholeTokenBridge")
        vaa_hash = bytes.fromhex(str(ref.detail["vaa_hash"])[2:])
        batch = await read_batch(
            self.client(dest.name), [Read.of(bridge, "isTransferCompleted(bytes32)", ("bool",), vaa_hash)]
        )
        return bool(batch.results[0] and batch.results[0][0])

    async def status(self, ref: DepositRef) -> BridgeProgress:
        if await self._redeemed(ref):
            return BridgeProgress(state=BridgeState.COMPLETED, detail=f"{ref.id} redeemed on {ref.destination_chain}")
        source = self.client(ref.source_chain)
        head = await source.block_number()
        confirmations = head - ref.block_number + 1
        if confirmations < self.endpoints.finality:
            return BridgeProgress(
                state=BridgeState.PENDING_SOURCE_CONFIRMATIONS,
                detail=f"{confirmations}/{self.endpoints.finality} confirmations of {ref.tx_hash}",
            )
        try:
            vaa = await fetch_signed_vaa(
                self.endpoints.guardian_url,
                int(ref.detail["emitter_chain"]),  # type: ignore[call-overload]
                str(ref.detail["emitter"]),
                int(ref.detail["sequence"]),  # type: ignore[call-overload]
            )
        except Exception as exc:  # noqa: BLE001 - any failure of the API is "not signed yet", said why
            return BridgeProgress(
                state=BridgeState.PENDING_ATTESTATION,
                detail=f"guardian API {self.endpoints.guardian_url} unreachable ({type(exc).__name__}: {exc})",
            )
        if vaa is None:
            return BridgeProgress(
                state=BridgeState.PENDING_ATTESTATION,
                detail=f"guardians have not signed {ref.id} with a quorum yet",
            )
        parsed = parse_vaa(vaa)
        if "0x" + parsed.hash.hex() != ref.detail["vaa_hash"]:
            raise InvalidRequest(f"the guardian API served a VAA for {ref.id} whose body differs from the deposit's")
        return BridgeProgress(
            state=BridgeState.PENDING_DESTINATION_TX,
            detail=f"VAA signed by {len(parsed.signatures)} guardians; redeem on {ref.destination_chain}",
            proof="0x" + vaa.hex(),
        )

    async def completion_call(self, ref: DepositRef, progress: BridgeProgress) -> ContractCall | None:
        if await self._redeemed(ref):
            return None
        if progress.proof is None:
            raise InvalidRequest(f"{ref.id}: no signed VAA to redeem yet")
        dest = self.client(ref.destination_chain).chain
        bridge = self._contract(dest, "WormholeTokenBridge")
        data = "0x" + (selector(COMPLETE_TRANSFER) + abi_encode(["bytes"], [bytes.fromhex(progress.proof[2:])])).hex()
        return ContractCall(to=bridge, data=data, gas_limit=GAS_LIMIT["redeem"])

    async def _redeem_tx(self, ref: DepositRef) -> str | None:
        """The destination transaction that redeemed ``ref``'s VAA (the bridge's ``TransferRedeemed``
        event, indexed by the message id), whoever sent it."""
        client = self.client(ref.destination_chain)
        bridge = self._contract(client.chain, "WormholeTokenBridge")
        topics: list[str | None] = [
            "0x" + TRANSFER_REDEEMED.hex(),
            topic("uint16", int(ref.detail["emitter_chain"])),  # type: ignore[call-overload]
            str(ref.detail["emitter"]),
            topic("uint64", int(ref.detail["sequence"])),  # type: ignore[call-overload]
        ]
        logs = await get_logs(client, bridge, topics, 0)
        return log_tx_hash(logs[-1]) if logs else None

    async def delivered(self, ref: DepositRef, tx_hash: str | None) -> Delivery:
        """Checked on the destination: the VAA is marked redeemed, and what arrived is the token's
        ``Transfer`` to the recipient in the redeeming transaction's receipt. Redeemed by someone
        else (``tx_hash`` None), that transaction is found by the bridge's ``TransferRedeemed`` event."""
        if not await self._redeemed(ref):
            raise RpcUnavailable(f"{ref.destination_chain} does not show {ref.id} redeemed yet")
        if tx_hash is None:
            tx_hash = await self._redeem_tx(ref)
            if tx_hash is None:
                raise RpcUnavailable(f"{ref.destination_chain} shows {ref.id} redeemed but no TransferRedeemed event")
        return await transferred_in(
            self.client(ref.destination_chain),
            tx_hash,
            str(ref.detail["destination_token"]),
            str(ref.detail["recipient"]),
        )

    async def refunded(self, ref: DepositRef, progress: BridgeProgress) -> Delivery:
        raise _no_refund(ref)

    async def refund(self, ref: DepositRef) -> BridgeProgress:
        raise _no_refund(ref)


def _no_refund(ref: DepositRef) -> RefundUnsupported:
    return RefundUnsupported(
        f"Wormhole has no refund: {ref.id}'s tokens stay locked on {ref.source_chain} until its VAA is redeemed "
        f"on {ref.destination_chain} (signal operator_resume once the guardians are back)"
    )
