"""Stand-ins for the Arbitrage saga's workflow tests: a ``DexSwap`` that reverts or fills at
set prices, a ``BridgeTransfer`` that delivers (less a fee) or is refunded.

In a module of its own so that the workflow sandbox, which re-imports a workflow's module,
loads only Temporal and the domain models."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeRoute, BridgeState
    from crosslane.domain.chains import TokenInfo
    from crosslane.domain.dex import DexProtocol, SwapRequest, SwapResult, SwapRoute
    from crosslane.domain.tx import TxOutcome, TxResult


@workflow.defn(name="DexSwap")
class RevertingDexSwap:
    @workflow.run
    async def run(self, request: SwapRequest) -> SwapResult:
        raise ApplicationError(
            f"the swap {request.request_id} reverted: the price moved past its limit", type="SlippageExceeded"
        )


HASH = "0x" + "ab" * 32
GAS_USED, GAS_PRICE = 100_000, 10**9  # 0.0001 native coin per transaction
PRICES = {("devnet-a", "buy"): 3000, ("devnet-b", "sell"): 3030, ("devnet-a", "sell"): 2990}  # quote per asset


@workflow.defn(name="DexSwap")
class FillingDexSwap:
    """Fills at ``PRICES`` (chain, side): a buy of WETH exactly out, a sale exactly in."""

    @workflow.run
    async def run(self, request: SwapRequest) -> SwapResult:
        buying = request.token_out == "WETH"
        price = PRICES[(request.chain, "buy" if buying else "sell")]
        weth = request.amount
        usdc = weth * price // 10**12  # WETH 18 decimals, USDC 6
        amount_in, amount_out = (usdc, weth) if buying else (weth, usdc)
        token = {"WETH": TokenInfo(symbol="WETH", address="0x" + "01" * 20, decimals=18),
                 "USDC": TokenInfo(symbol="USDC", address="0x" + "02" * 20, decimals=6)}  # fmt: skip
        tx = TxResult(
            request_id=f"{request.workflow_id}.swap", chain=request.chain, signer=request.signer, nonce=0,
            outcome=TxOutcome.CONFIRMED, mined_tx_hash=HASH, mined_attempt_index=0, block_number=1,
            block_hash=HASH, gas_used=GAS_USED, effective_gas_price=GAS_PRICE, attempts=[],
        )  # fmt: skip
        return SwapResult(
            request_id=request.request_id, chain=request.chain, signer=request.signer, recipient=request.signer,
            trade_type=request.trade_type, token_in=token[request.token_in], token_out=token[request.token_out],
            route=SwapRoute(dex=request.dexes[0] if request.dexes else "uniswap_v3", protocol=DexProtocol.UNISWAP_V3,
                            hops=[]),
            amount_in=amount_in, amount_out=amount_out, quoted_amount_in=amount_in, quoted_amount_out=amount_out,
            limit=0, vs_quote_bps=Decimal(0), fills=[], swap_tx_hash=HASH, block_number=1,
            gas_used=GAS_USED, effective_gas_price=GAS_PRICE, swap=tx,
        )  # fmt: skip


BRIDGE_FEE = Fraction(1, 1000)


def bridged(request: BridgeRequest, state: BridgeState, received: int) -> BridgeResult:
    return BridgeResult(
        request_id=request.request_id, route=BridgeRoute.ACROSS, state=state, source_chain=request.source_chain,
        destination_chain=request.destination_chain, asset=request.asset, amount=request.amount, received=received,
        recipient=request.to, deposit_tx=HASH, completion_tx=HASH if state is BridgeState.COMPLETED else None,
    )  # fmt: skip


@workflow.defn(name="BridgeTransfer")
class DeliveringBridge:
    """Delivers the amount less a 0.1 % fee."""

    @workflow.run
    async def run(self, request: BridgeRequest) -> BridgeResult:
        return bridged(request, BridgeState.COMPLETED, int(request.amount * (1 - BRIDGE_FEE)))


@workflow.defn(name="BridgeTransfer")
class RefundingBridge:
    """Nobody fills the deposit: it is refunded in full on the source chain."""

    @workflow.run
    async def run(self, request: BridgeRequest) -> BridgeResult:
        return bridged(request, BridgeState.REFUNDED, request.amount)


@workflow.defn(name="BridgeTransfer")
class ShortDeliveringBridge:
    """The deposit mined but the destination shows less than promised (e.g. paid out as another token)."""

    @workflow.run
    async def run(self, request: BridgeRequest) -> BridgeResult:
        raise ApplicationError(
            f"recipient {request.to} on {request.destination_chain}: received 0, expected at least {request.amount}",
            type="DeliveryShortfall",
            non_retryable=True,
        )
