"""The OP Stack canonical bridge (``op-canonical``): an L1 and its rollup, ERC-20 both ways.

Deposit (L1 -> L2): ``L1StandardBridge.depositERC20To`` locks the token; the portal emits
``TransactionDeposited`` and the sequencer executes the messenger's relay on L2, which mints
the ``OptimismMintableERC20`` there. Followed by the cross-domain message hash: the L2
messenger's ``RelayedMessage(msgHash)`` is the delivery.

Withdrawal (L2 -> L1): ``L2StandardBridge.bridgeERC20To`` burns on L2 and the message passer
records the withdrawal; once an output root covering its block is posted on L1 it is proven
(``eth_getProof`` of the message passer slot at that block, checked by the portal), then,
after the finalization period, finalized on L1, which releases the token. Each step is read
from the portal first (proven? finalized?), so none is sent twice.

A rollup is a chain with ``settles_on`` naming its L1; its L1 contracts are that chain's
``<rollup>:L1StandardBridge``, ``<rollup>:OptimismPortal``, ``<rollup>:L2OutputOracle``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import AsyncWeb3

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
    native_token,
    topic,
    transferred_in,
)
from connectors.bridges.op_withdrawals import (
    MESSAGE_PASSED,
    OUTPUT_ROOT_PROOF_TYPE,
    WITHDRAWAL_TX_TYPE,
    WithdrawalTx,
    output_root_proof,
    withdrawal_from_log,
)
from connectors.dex.reads import selector
from connectors.dex.receipts import ReceiptLogs, event_topic, receipt_logs
from connectors.evm.calls import ContractCall
from connectors.evm.client import EvmClient
from connectors.evm.fee_models import fee_model
from connectors.evm.transactions import eip1559_tx
from crosslane.domain.bridge import (
    BridgePlan,
    BridgeProgress,
    BridgeRoute,
    BridgeState,
    DepositRef,
    RouteQuote,
    TokenSide,
)
from crosslane.domain.bridge_endpoints import OpCanonicalEndpoints
from crosslane.domain.chains import ChainConfig
from crosslane.errors import InvalidRequest, RpcUnavailable

L2_STANDARD_BRIDGE = "0x4200000000000000000000000000000000000010"
L2_CROSS_DOMAIN_MESSENGER = "0x4200000000000000000000000000000000000007"
L2_TO_L1_MESSAGE_PASSER = "0x4200000000000000000000000000000000000016"
SENT_MESSAGE = event_topic("SentMessage(address,address,bytes,uint256,uint256)")
SENT_MESSAGE_EXTENSION = event_topic("SentMessageExtension1(address,uint256)")
RELAYED_MESSAGE = event_topic("RelayedMessage(bytes32)")
WITHDRAWAL_FINALIZED = event_topic("WithdrawalFinalized(bytes32,bool)")
ETH_BRIDGE_FINALIZED = event_topic("ETHBridgeFinalized(address,address,uint256,bytes)")  # either StandardBridge
_PRICING_KEY = "0x" + "01" * 32  # signs only the probe a fee quote prices; never funded, never sent
MIN_GAS_LIMIT = 200_000  # for the relay on the other side
# The portal burns L1 gas for the L2 gas a deposit buys, which eth_estimateGas underestimates.
GAS_LIMIT = {"deposit": 1_500_000, "withdraw": 400_000, "prove": 800_000, "finalize": 800_000}
GAS_ESTIMATE = {"approve": 46_000, "deposit": 600_000, "withdraw": 200_000, "prove": 180_000, "finalize": 250_000}


def _calldata(signature: str, types: list[str], args: list[Any]) -> str:
    return "0x" + (selector(signature) + abi_encode(types, args)).hex()


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def is_predeploy(address: str) -> bool:
    """The L2's predeploy namespace ``0x4200…0000``-``0x4200…07FF`` (Predeploys.isPredeployNamespace)."""
    return int(address, 16) >> 11 == 0x4200000000000000000000000000000000000000 >> 11


async def eth_read(client: EvmClient, to: str, signature: str, out_types: list[str], *args: Any) -> tuple[Any, ...]:
    """One ``eth_call`` (rollups may have no Multicall3)."""
    arg_types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
    data = "0x" + (selector(signature) + abi_encode(arg_types, list(args))).hex()

    async def _call(w3: AsyncWeb3) -> bytes:
        return bytes(await w3.eth.call({"to": to_checksum_address(to), "data": data}))  # type: ignore[typeddict-item]

    return tuple(abi_decode(out_types, await client.call(_call, f"eth_call {signature}")))


def message_hash(nonce: int, sender: str, target: str, value: int, gas_limit: int, data: bytes) -> bytes:
    """Hashing.hashCrossDomainMessageV1: what the L2 messenger's ``RelayedMessage`` is indexed by."""
    types = ["uint256", "address", "address", "uint256", "uint256", "bytes"]
    return keccak(
        bytes.fromhex(
            _calldata(
                "relayMessage(uint256,address,address,uint256,uint256,bytes)",
                types,
                [nonce, sender, target, value, gas_limit, data],
            )[2:]
        )
    )


class OpCanonicalBridge:
    route = BridgeRoute.OP_CANONICAL

    def __init__(self, endpoints: OpCanonicalEndpoints, client: ClientFor) -> None:
        self.endpoints = endpoints
        self.client = client

    # -- where things are --------------------------------------------------------------------
    @staticmethod
    def _l1_contract(l1: ChainConfig, rollup: str, name: str) -> str:
        address = l1.contracts.get(f"{rollup}:{name}")
        if address is None:
            raise RouteUnavailable(f"no {name} of {rollup} on {l1.name}")
        return to_checksum_address(address)

    @staticmethod
    def _direction(source: ChainConfig, destination: ChainConfig) -> str:
        if destination.settles_on == source.name:
            return "deposit"
        if source.settles_on == destination.name:
            return "withdrawal"
        raise RouteUnavailable(f"{source.name} and {destination.name} are not a rollup and its L1")

    async def _pair(self, ctx: TransferContext) -> tuple[str, TokenSide, TokenSide]:
        """(direction, L1 token, L2 token): the L2 token must be the OptimismMintableERC20 of
        the L1 one, bridged by the L2StandardBridge (refused with the reason otherwise)."""
        direction = self._direction(ctx.source, ctx.destination)
        rollup = ctx.destination if direction == "deposit" else ctx.source
        other = ctx.destination
        if is_native(ctx.token):  # ETH is the rollup's native coin too: bridged as value
            pair = (ctx.token, native_token(other.name))
            l1_native, l2_native = pair if direction == "deposit" else pair[::-1]
            return direction, l1_native, l2_native
        symbol = ctx.token.symbol
        mapped = next((t for t in other.tokens.values() if t.symbol.lower() == symbol.lower()), None)
        if mapped is None:
            raise InvalidRequest(
                f"{symbol} has no token on {other.name} mapped over the {rollup.name} canonical bridge"
            )
        side = TokenSide(
            chain=other.name,
            address=to_checksum_address(mapped.address),
            symbol=mapped.symbol,
            decimals=mapped.decimals,
        )
        l1_token, l2_token = (ctx.token, side) if direction == "deposit" else (side, ctx.token)
        l2 = self.client(rollup.name)
        try:
            (remote,) = await eth_read(l2, l2_token.address, "remoteToken()", ["address"])
            (bridge,) = await eth_read(l2, l2_token.address, "bridge()", ["address"])
        except Exception as exc:  # noqa: BLE001 - not an OptimismMintableERC20: say so
            raise InvalidRequest(
                f"{l2_token.address} ({symbol} on {rollup.name}) is not an OptimismMintableERC20: no L2 mapping for "
                f"{symbol} over the canonical bridge ({type(exc).__name__})"
            ) from None
        if to_checksum_address(remote) != l1_token.address or to_checksum_address(bridge) != L2_STANDARD_BRIDGE:
            raise InvalidRequest(
                f"{symbol} on {rollup.name} ({l2_token.address}) is not the L2 mapping of {l1_token.address}: "
                f"its remote token is {to_checksum_address(remote)}, its bridge {to_checksum_address(bridge)}"
            )
        return direction, l1_token, l2_token

    # -- quote and deposit -------------------------------------------------------------------
    async def quote(self, ctx: TransferContext) -> RouteQuote:
        direction, l1_token, _ = await self._pair(ctx)
        l1_name = ctx.source.name if direction == "deposit" else ctx.destination.name
        l1 = self.client(l1_name)  # gas priced through the L1's markets (a rollup may have none)
        if direction == "deposit":
            source_gas = await gas_in_asset(l1, l1_token.address, GAS_ESTIMATE["approve"] + GAS_ESTIMATE["deposit"])
            destination_gas, seconds = 0, self.endpoints.deposit_seconds
        else:
            # On the rollup the execution gas is small; its L1 data fee is what the L2 side costs.
            l1_fee = await self._withdraw_l1_data_fee(ctx, l1_token)
            source_gas = await gas_in_asset(l1, l1_token.address, 1, l1_fee) if l1_fee else 0
            destination_gas = await gas_in_asset(l1, l1_token.address, GAS_ESTIMATE["prove"] + GAS_ESTIMATE["finalize"])
            seconds = self.endpoints.output_interval_seconds + self.endpoints.finalization_seconds
        return RouteQuote(
            route=self.route,
            fee=0,
            source_gas=source_gas,
            destination_gas=destination_gas,
            expected_seconds=seconds,
            security_score=self.endpoints.security_score,
            min_amount=1,
        )

    async def _withdraw_l1_data_fee(self, ctx: TransferContext, l1_token: TokenSide) -> int:
        """The rollup's L1 data fee for the withdrawal transaction (its fee model, on the same
        calldata signed by a throwaway key: the fee depends on the bytes, not the signer)."""
        call = _withdraw_call(ctx.token, l1_token, ctx.request.to, ctx.request.amount)
        probe = eip1559_tx(
            chain_id=ctx.source.chain_id,
            nonce=0,
            to=L2_STANDARD_BRIDGE,
            value=call.value,
            data=call.data,
            gas=GAS_LIMIT["withdraw"],
            max_fee_per_gas=10**9,
            max_priority_fee_per_gas=10**8,
        )
        raw = bytes(Account.from_key(_PRICING_KEY).sign_transaction(probe).raw_transaction)
        return await fee_model(ctx.source).l1_data_fee(self.client(ctx.source.name), raw)

    async def plan_deposit(self, ctx: TransferContext, quote: RouteQuote) -> DepositPlan:
        direction, l1_token, l2_token = await self._pair(ctx)
        recipient = ctx.request.to
        if is_predeploy(recipient):
            raise InvalidRequest(
                f"recipient {recipient} is an OP Stack predeploy address (0x4200…): the tokens would be lost; "
                "nothing was sent"
            )
        if direction == "deposit" and is_native(l1_token):
            bridge = self._l1_contract(ctx.source, ctx.destination.name, "L1StandardBridge")
            data = _calldata("bridgeETHTo(address,uint32,bytes)", ["address", "uint32", "bytes"],
                             [recipient, MIN_GAS_LIMIT, b""])  # fmt: skip
            call = ContractCall(to=bridge, data=data, value=ctx.request.amount, gas_limit=GAS_LIMIT["deposit"])
            return DepositPlan(destination_token=l2_token, expected_output=ctx.request.amount, spender=None, call=call)
        if direction == "deposit":
            bridge = self._l1_contract(ctx.source, ctx.destination.name, "L1StandardBridge")
            data = _calldata(
                "depositERC20To(address,address,address,uint256,uint32,bytes)",
                ["address", "address", "address", "uint256", "uint32", "bytes"],
                [l1_token.address, l2_token.address, recipient, ctx.request.amount, MIN_GAS_LIMIT, b""],
            )
            call = ContractCall(to=bridge, data=data, gas_limit=GAS_LIMIT["deposit"])
            return DepositPlan(
                destination_token=l2_token, expected_output=ctx.request.amount, spender=bridge, call=call
            )
        call = _withdraw_call(l2_token, l1_token, recipient, ctx.request.amount)
        # The L2 bridge burns the OptimismMintableERC20 from the sender itself: no approval.
        return DepositPlan(destination_token=l1_token, expected_output=ctx.request.amount, spender=None, call=call)

    async def deposit_ref(self, plan: BridgePlan, receipt: ReceiptLogs) -> DepositRef:
        source = self.client(plan.source_token.chain).chain
        destination = self.client(plan.destination_token.chain).chain
        common = {
            "destination_token": plan.destination_token.address,
            "recipient": plan.recipient,
            "amount": str(plan.amount),
        }
        if self._direction(source, destination) == "deposit":
            messenger = self._l1_contract(source, destination.name, "L1CrossDomainMessenger")
            sent = next((log for log in receipt.logs if log.is_event(messenger, SENT_MESSAGE, 2)), None)
            ext = next((log for log in receipt.logs if log.is_event(messenger, SENT_MESSAGE_EXTENSION, 2)), None)
            if sent is None or ext is None:
                raise InvalidRequest(f"{receipt.tx_hash} sent no cross-domain message through {messenger}")
            sender, message, nonce, gas_limit = sent.decoded(["address", "bytes", "uint256", "uint256"])
            (value,) = ext.decoded(["uint256"])
            target = to_checksum_address(sent.indexed(1, "address"))
            msg = message_hash(nonce, sender, target, value, gas_limit, message)
            return DepositRef(
                route=self.route,
                source_chain=source.name,
                destination_chain=destination.name,
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                id="0x" + msg.hex(),
                detail={**common, "direction": "deposit", "message_hash": "0x" + msg.hex()},
            )
        passed = next((log for log in receipt.logs if log.is_event(L2_TO_L1_MESSAGE_PASSER, MESSAGE_PASSED, 4)), None)
        if passed is None:
            raise InvalidRequest(f"{receipt.tx_hash} initiated no withdrawal (no MessagePassed)")
        withdrawal = withdrawal_from_log(list(passed.topics), passed.data)
        return DepositRef(
            route=self.route,
            source_chain=source.name,
            destination_chain=destination.name,
            tx_hash=receipt.tx_hash,
            block_number=receipt.block_number,
            id="0x" + withdrawal.hash.hex(),
            detail={**common, "direction": "withdrawal", "withdrawal": withdrawal.to_json()},
        )

    # -- following ---------------------------------------------------------------------------
    async def status(self, ref: DepositRef) -> BridgeProgress:
        if ref.detail.get("direction") == "deposit":
            relayed = await self._relay_tx(ref)
            if relayed is not None:
                return BridgeProgress(
                    state=BridgeState.COMPLETED, detail=f"relayed on {ref.destination_chain}", destination_tx=relayed
                )
            return BridgeProgress(
                state=BridgeState.PENDING_FILL, detail=f"waiting for {ref.destination_chain}'s sequencer to relay"
            )
        return await self._withdrawal_status(ref)

    def _withdrawal(self, ref: DepositRef) -> WithdrawalTx:
        return WithdrawalTx.from_json(ref.detail["withdrawal"])  # type: ignore[arg-type]

    async def _relay_tx(self, ref: DepositRef) -> str | None:
        logs = await get_logs(
            self.client(ref.destination_chain), L2_CROSS_DOMAIN_MESSENGER, ["0x" + RELAYED_MESSAGE.hex(), ref.id], 0
        )
        return log_tx_hash(logs[0]) if logs else None

    async def _withdrawal_status(self, ref: DepositRef) -> BridgeProgress:
        l1 = self.client(ref.destination_chain)
        portal = self._l1_contract(l1.chain, ref.source_chain, "OptimismPortal")
        oracle = self._l1_contract(l1.chain, ref.source_chain, "L2OutputOracle")
        digest = bytes.fromhex(ref.id[2:])
        (finalized,) = await eth_read(l1, portal, "finalizedWithdrawals(bytes32)", ["bool"], digest)
        if finalized:
            tx = await self._finalize_tx(ref)
            return BridgeProgress(
                state=BridgeState.COMPLETED, detail=f"withdrawal {ref.id} finalized", destination_tx=tx, step="finalize"
            )
        head = await l1.call(lambda w3: w3.eth.get_block("latest"), "eth_getBlockByNumber(latest)")
        now = int(head["timestamp"])
        root, proven_at, index = await eth_read(
            l1, portal, "provenWithdrawals(bytes32)", ["bytes32", "uint128", "uint128"], digest
        )
        if proven_at:
            (period,) = await eth_read(l1, oracle, "finalizationPeriodSeconds()", ["uint256"])
            (_, output_at, _) = (
                await eth_read(l1, oracle, "getL2Output(uint256)", ["(bytes32,uint128,uint128)"], index)
            )[0]
            ready = max(proven_at, output_at) + period
            due = now >= ready
            return BridgeProgress(
                state=BridgeState.PENDING_DESTINATION_TX if due else BridgeState.PENDING_FINALIZATION,
                detail=f"proven at {_iso(proven_at)}, finalizable {'since' if due else 'at'} {_iso(ready)}",
                step="finalize",
                ready_at=ready,
                proven_at=proven_at,
                chain_time=now,
            )
        (latest,) = await eth_read(l1, oracle, "latestBlockNumber()", ["uint256"])
        if latest < ref.block_number:
            return BridgeProgress(
                state=BridgeState.PENDING_ATTESTATION,
                detail=f"waiting for an output root covering {ref.source_chain} block {ref.block_number} "
                f"(latest posted: {latest})",
                chain_time=now,
            )
        return BridgeProgress(
            state=BridgeState.PENDING_DESTINATION_TX,
            detail=f"an output root covers block {ref.block_number}: ready to prove",
            step="prove",
            chain_time=now,
        )

    async def _finalize_tx(self, ref: DepositRef) -> str | None:
        l1 = self.client(ref.destination_chain)
        portal = self._l1_contract(l1.chain, ref.source_chain, "OptimismPortal")
        logs = await get_logs(l1, portal, ["0x" + WITHDRAWAL_FINALIZED.hex(), ref.id], 0)
        return log_tx_hash(logs[0]) if logs else None

    async def completion_call(self, ref: DepositRef, progress: BridgeProgress) -> ContractCall | None:
        """Prove or finalize, as the portal's state says now (None: done already)."""
        if ref.detail.get("direction") == "deposit":
            return None
        now = await self._withdrawal_status(ref)
        l1 = self.client(ref.destination_chain)
        portal = self._l1_contract(l1.chain, ref.source_chain, "OptimismPortal")
        withdrawal = self._withdrawal(ref)
        if now.state is BridgeState.COMPLETED:
            return None
        if now.state is BridgeState.PENDING_FINALIZATION:
            raise InvalidRequest(f"withdrawal {ref.id}: {now.detail}; finalizing earlier is refused by the portal")
        if now.state is BridgeState.PENDING_DESTINATION_TX and now.step == "finalize":
            data = _calldata(
                f"finalizeWithdrawalTransaction({WITHDRAWAL_TX_TYPE})", [WITHDRAWAL_TX_TYPE], [withdrawal.as_tuple()]
            )
            return ContractCall(to=portal, data=data, gas_limit=GAS_LIMIT["finalize"])
        if now.state is not BridgeState.PENDING_DESTINATION_TX:
            raise RpcUnavailable(f"withdrawal {ref.id}: {now.detail}")
        return await self._prove_call(ref, portal, withdrawal)

    async def _prove_call(self, ref: DepositRef, portal: str, withdrawal: WithdrawalTx) -> ContractCall:
        l1, l2 = self.client(ref.destination_chain), self.client(ref.source_chain)
        oracle = self._l1_contract(l1.chain, ref.source_chain, "L2OutputOracle")
        (index,) = await eth_read(l1, oracle, "getL2OutputIndexAfter(uint256)", ["uint256"], ref.block_number)
        ((_, _, l2_block),) = await eth_read(l1, oracle, "getL2Output(uint256)", ["(bytes32,uint128,uint128)"], index)

        async def _proof(w3: AsyncWeb3) -> tuple[dict[str, Any], dict[str, Any]]:
            block = await w3.provider.make_request("eth_getBlockByNumber", [hex(l2_block), False])  # type: ignore[arg-type]
            proof = await w3.provider.make_request(
                "eth_getProof",  # type: ignore[arg-type]
                [L2_TO_L1_MESSAGE_PASSER, ["0x" + withdrawal.storage_slot.hex()], hex(l2_block)],
            )
            return block["result"], proof["result"]

        block, proof = await l2.call(_proof, "eth_getProof")
        storage = proof["storageProof"][0]
        if int(storage["value"], 16) != 1:
            raise RpcUnavailable(f"{ref.source_chain} block {l2_block} does not hold withdrawal {ref.id}")
        data = _calldata(
            f"proveWithdrawalTransaction({WITHDRAWAL_TX_TYPE},uint256,{OUTPUT_ROOT_PROOF_TYPE},bytes[])",
            [WITHDRAWAL_TX_TYPE, "uint256", OUTPUT_ROOT_PROOF_TYPE, "bytes[]"],
            [
                withdrawal.as_tuple(),
                index,
                output_root_proof(block, proof["storageHash"]),
                [bytes.fromhex(p[2:]) for p in storage["proof"]],
            ],
        )
        return ContractCall(to=portal, data=data, gas_limit=GAS_LIMIT["prove"])

    async def delivered(self, ref: DepositRef, tx_hash: str | None) -> Delivery:
        if tx_hash is None:
            tx_hash = await (
                self._relay_tx(ref) if ref.detail.get("direction") == "deposit" else self._finalize_tx(ref)
            )
            if tx_hash is None:
                raise RpcUnavailable(f"{ref.destination_chain} does not show {ref.id} delivered yet")
        dest, token, recipient = (
            self.client(ref.destination_chain),
            str(ref.detail["destination_token"]),
            str(ref.detail["recipient"]),
        )
        if token != native_token(dest.chain.name).address:
            return await transferred_in(dest, tx_hash, token, recipient)
        # ETH arrives as value: the destination bridge's ETHBridgeFinalized to the recipient.
        bridge = (
            L2_STANDARD_BRIDGE
            if ref.detail.get("direction") == "deposit"
            else self._l1_contract(dest.chain, ref.source_chain, "L1StandardBridge")
        )
        receipt = await receipt_logs(dest, tx_hash)
        to = topic("address", to_checksum_address(recipient))
        amount = sum(
            log.decoded(["uint256", "bytes"])[0]
            for log in receipt.logs
            if receipt.status == 1
            and log.is_event(bridge, ETH_BRIDGE_FINALIZED, 3)
            and "0x" + log.topics[2].hex() == to
        )
        return Delivery(tx_hash=receipt.tx_hash, block_number=receipt.block_number, amount=amount)

    async def refund(self, ref: DepositRef) -> BridgeProgress:
        raise _no_refund(ref)

    async def refunded(self, ref: DepositRef, progress: BridgeProgress) -> Delivery:
        raise _no_refund(ref)


def _no_refund(ref: DepositRef) -> RefundUnsupported:
    return RefundUnsupported(f"the canonical bridge has no refund: {ref.id} completes on {ref.destination_chain}")


def _withdraw_call(l2_token: TokenSide, l1_token: TokenSide, recipient: str, amount: int) -> ContractCall:
    """The L2StandardBridge call starting a withdrawal: ETH as the call's value, a token burnt
    by the bridge from the sender (so nothing is approved)."""
    if is_native(l2_token):
        data = _calldata("bridgeETHTo(address,uint32,bytes)", ["address", "uint32", "bytes"],
                         [recipient, MIN_GAS_LIMIT, b""])  # fmt: skip
        return ContractCall(to=L2_STANDARD_BRIDGE, data=data, value=amount, gas_limit=GAS_LIMIT["withdraw"])
    data = _calldata(
        "bridgeERC20To(address,address,address,uint256,uint32,bytes)",
        ["address", "address", "address", "uint256", "uint32", "bytes"],
        [l2_token.address, l1_token.address, recipient, amount, MIN_GAS_LIMIT, b""],
    )
    return ContractCall(to=L2_STANDARD_BRIDGE, data=data, gas_limit=GAS_LIMIT["withdraw"])
