"""Stand-in children for ``YieldCompound`` workflow tests: a TransactionLifecycle that
confirms, a DexSwap that fills 1:1 and a DexLiquidity that deposits everything it is given.

In a module of its own so that the workflow sandbox, which re-imports a workflow's module,
loads only Temporal and the domain models. The farm's state (rewards, principal) lives in
the test's mocked activities."""

from __future__ import annotations

import hashlib

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.chains import TokenInfo
    from crosslane.domain.dex import DexProtocol, RouteHop, SwapRequest, SwapResult, SwapRoute, TradeType
    from crosslane.domain.dex_liquidity import (
        ExpectedAmounts,
        LiquidityRequest,
        LiquidityResult,
        PoolRef,
        V2Add,
        V3Increase,
    )
    from crosslane.domain.tx import TxOutcome, TxRequest, TxResult


def fake_hash(key: str) -> str:
    return "0x" + hashlib.sha256(key.encode()).hexdigest()


def confirmed(request_id: str, chain: str, signer: str) -> TxResult:
    return TxResult(
        request_id=request_id,
        chain=chain,
        signer=signer,
        nonce=0,
        outcome=TxOutcome.CONFIRMED,
        mined_tx_hash=fake_hash(request_id),
        mined_attempt_index=0,
        block_number=1,
        block_hash=fake_hash("block"),
        gas_used=21_000,
        effective_gas_price=1,
        attempts=[],
    )


@workflow.defn(name="TransactionLifecycle")
class ConfirmingTx:
    @workflow.run
    async def run(self, request: TxRequest) -> TxResult:
        return confirmed(request.request_id, request.chain, request.signer)


@workflow.defn(name="DexSwap")
class OneToOneSwap:
    @workflow.run
    async def run(self, request: SwapRequest) -> SwapResult:
        token_in = TokenInfo(symbol="RWD", address=request.token_in, decimals=18)
        token_out = TokenInfo(symbol="OUT", address=request.token_out, decimals=18)
        tx = confirmed(request.request_id, request.chain, request.signer)
        hop = RouteHop(
            pool=request.token_out,
            token_in=request.token_in,
            token_out=request.token_out,
            fee=3000,
            amount_in=request.amount,
            amount_out=request.amount,
        )
        return SwapResult(
            request_id=request.request_id,
            chain=request.chain,
            signer=request.signer,
            recipient=request.signer,
            trade_type=TradeType.EXACT_IN,
            token_in=token_in,
            token_out=token_out,
            route=SwapRoute(dex="sushiswap", protocol=DexProtocol.UNISWAP_V2, hops=[hop]),
            amount_in=request.amount,
            amount_out=request.amount,
            quoted_amount_in=request.amount,
            quoted_amount_out=request.amount,
            limit=request.amount,
            vs_quote_bps=0,
            fills=[],
            swap_tx_hash=tx.mined_tx_hash,
            block_number=1,
            gas_used=21_000,
            effective_gas_price=1,
            swap=tx,
        )


@workflow.defn(name="DexLiquidity")
class DepositAll:
    @workflow.run
    async def run(self, request: LiquidityRequest) -> LiquidityResult:
        op = request.operation
        if isinstance(op, V2Add):
            amount0, amount1 = op.amount_a, op.amount_b
        else:
            assert isinstance(op, V3Increase)
            amount0, amount1 = op.amount0, op.amount1
        pool = PoolRef(dex="sushiswap", protocol="uniswap_v2", address=request.owner, token0="A", token1="B", fee=3000)
        expected = ExpectedAmounts(
            amount0=amount0, amount1=amount1, amount0_min=amount0, amount1_min=amount1, liquidity=0, block_number=1
        )
        return LiquidityResult(
            request_id=request.request_id,
            chain=request.chain,
            owner=request.owner,
            action=request.action,
            pool=pool,
            tx_hash=fake_hash(request.request_id),
            block_number=1,
            gas_used=100_000,
            effective_gas_price=1,
            amount0=amount0,
            amount1=amount1,
            liquidity=amount0 + amount1,
            expected=expected,
        )


@workflow.defn(name="DexSwap")
class SecondSwapReverts:
    """The first leg fills 1:1; the second reverts (its price moved past the limit)."""

    @workflow.run
    async def run(self, request: SwapRequest) -> SwapResult:
        if request.request_id.endswith(".swap1"):
            raise ApplicationError(f"the swap {request.request_id} reverted", type="SlippageExceeded")
        return await OneToOneSwap().run(request)
