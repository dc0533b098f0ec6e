"""DEX liquidity activities: plan an operation from one read of the chain, and settle it from
its receipt's events. Both only read, so a retry of either is harmless; the transactions
themselves are child TransactionLifecycles keyed by (workflow id, step).

* ``dex_lp_plan``  validates the request against the chain (chain, deployment, tokens,
  pool, tick spacing, ownership, balances, deadline) before anything is sent, and returns
  the approvals still needed and the operation's calldata with its min amounts;
* ``dex_lp_settle`` reads the mined receipt: exact amounts, token id and liquidity from the
  manager's and the pool's events, or the revert reason as a non-retryable failure.
"""

from __future__ import annotations

from typing import TypeVar

from temporalio import activity

from activities.errors import business_errors
from activities.runtime import ChainRuntime
from connectors.dex import Dex, Pool, build_dexes
from connectors.dex.liquidity_plan import LiquidityCallPlan
from connectors.dex.reads import Read, read_batch
from connectors.dex.receipts import ReceiptLogs, receipt_logs, revert_reason
from connectors.dex.settlement import SettlementMismatch
from connectors.dex.tokens import resolve_token
from connectors.dex.uniswap_v2 import UniswapV2
from connectors.dex.uniswap_v2.events import pair_events
from connectors.dex.uniswap_v2.lp import UniswapV2Liquidity
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3.events import position_events
from connectors.dex.uniswap_v3.positions import UniswapV3Positions
from connectors.evm.erc20 import approve_calldata
from crosslane.domain.chains import ChainConfig
from crosslane.domain.dex_liquidity import (
    ExpectedAmounts,
    LiquidityAction,
    LiquidityActivity,
    LiquidityPlan,
    LiquidityPlanInput,
    LiquidityRequest,
    LiquidityResult,
    LiquiditySettleInput,
    PlannedTx,
    PoolEventAmounts,
    PoolRef,
    V2Add,
    V2Remove,
    V3Burn,
    V3Collect,
    V3Decrease,
    V3Increase,
    V3Mint,
)
from crosslane.errors import CrosslaneError, InvalidRequest

T = TypeVar("T")


class TransactionReverted(CrosslaneError):
    """The operation's transaction was mined but reverted (slippage, deadline, state moved)."""


class DexLiquidityActivities:
    def __init__(self, runtime: ChainRuntime) -> None:
        self.rt = runtime
        self._dexes: dict[str, dict[str, Dex]] = {}

    def _deployment(self, request: LiquidityRequest) -> tuple[str, Dex]:
        """The deployment the request names, or the chain's deployment of its protocol."""
        chain = self.rt.chain(request.chain)
        if request.chain not in self._dexes:
            self._dexes[request.chain] = build_dexes(self.rt.client(request.chain))
        dexes = self._dexes[request.chain]
        protocol = request.action.protocol
        if request.dex is not None:
            name = request.dex
        else:
            candidates = [n for n, d in chain.dexes.items() if d.protocol == protocol]
            name = protocol if protocol in candidates else (candidates[0] if candidates else protocol)
        deployment = chain.dexes.get(name)
        if deployment is None:
            known = ", ".join(sorted(chain.dexes)) or "none"
            raise InvalidRequest(f"no DEX deployment {name!r} on {request.chain}; known: {known}")
        if deployment.protocol != protocol:
            raise InvalidRequest(
                f"{name} on {request.chain} is {deployment.protocol}; {request.action} needs {protocol}"
            )
        return name, dexes[name]

    async def _token(self, chain: ChainConfig, ref: str) -> str:
        """The address of a symbol the chain knows, or of a token contract (an address with
        no code is refused as "not a contract", not later as a pool that does not exist)."""
        return (await resolve_token(self.rt.client(chain.name), ref)).address

    @activity.defn(name=LiquidityActivity.PLAN)
    @business_errors
    async def dex_lp_plan(self, inp: LiquidityPlanInput) -> LiquidityPlan:
        """Validate against the chain and compute what to send; refuses before any side effect."""
        request = inp.request
        chain = self.rt.chain(request.chain)
        name, dex = self._deployment(request)
        op = request.operation
        bounds = {
            "slippage_bps": request.slippage_bps,
            "deadline": request.deadline,
            "deadline_ttl": request.deadline_ttl,
        }
        plan: LiquidityCallPlan
        if isinstance(op, V2Add | V2Remove):
            assert isinstance(dex, UniswapV2)
            v2 = UniswapV2Liquidity(dex)
            token_a, token_b = await self._token(chain, op.token_a), await self._token(chain, op.token_b)
            if isinstance(op, V2Add):
                plan = await v2.plan_add(request.owner, token_a, token_b, op.amount_a, op.amount_b, **bounds)
            else:
                plan = await v2.plan_remove(request.owner, token_a, token_b, op.liquidity, **bounds)
        else:
            assert isinstance(dex, UniswapV3)
            v3 = UniswapV3Positions(dex)
            if isinstance(op, V3Mint):
                token_a, token_b = await self._token(chain, op.token_a), await self._token(chain, op.token_b)
                plan = await v3.plan_mint(
                    request.owner,
                    token_a,
                    token_b,
                    op.fee,
                    op.tick_lower,
                    op.tick_upper,
                    op.amount_a,
                    op.amount_b,
                    **bounds,
                )
            elif isinstance(op, V3Increase):
                plan = await v3.plan_increase(request.owner, op.token_id, op.amount0, op.amount1, **bounds)
            elif isinstance(op, V3Decrease):
                plan = await v3.plan_decrease(request.owner, op.token_id, op.liquidity, **bounds)
            elif isinstance(op, V3Collect):
                plan = await v3.plan_collect(request.owner, op.token_id)
            else:
                assert isinstance(op, V3Burn)
                plan = await v3.plan_burn(request.owner, op.token_id)
        return _domain_plan(name, request.action, plan)

    @activity.defn(name=LiquidityActivity.SETTLE)
    @business_errors
    async def dex_lp_settle(self, inp: LiquiditySettleInput) -> LiquidityResult:
        """Exact amounts from the receipt's events; a reverted receipt fails non-retryably."""
        request, plan = inp.request, inp.plan
        client = self.rt.client(request.chain)
        receipt = await receipt_logs(client, inp.tx_hash)
        if receipt.status != 1:
            reason = await revert_reason(client, receipt, plan.action_tx.data, plan.action_tx.value)
            raise TransactionReverted(
                f"{request.action} transaction {inp.tx_hash} reverted in block {receipt.block_number}: "
                f"{reason or '(no reason given)'}"
            )
        result = LiquidityResult(
            request_id=request.request_id,
            chain=request.chain,
            owner=request.owner,
            action=request.action,
            pool=plan.pool,
            tx_hash=receipt.tx_hash,
            block_number=receipt.block_number,
            gas_used=receipt.gas_used,
            effective_gas_price=receipt.effective_gas_price,
            amount0=0,
            amount1=0,
            liquidity=0,
            token_id=plan.token_id,
            expected=plan.expected,
        )
        if request.action.protocol == "uniswap_v2":
            return await self._settle_v2(request, plan, receipt, result)
        return await self._settle_v3(request, plan, receipt, result)

    async def _settle_v2(
        self, request: LiquidityRequest, plan: LiquidityPlan, receipt: ReceiptLogs, result: LiquidityResult
    ) -> LiquidityResult:
        pair = plan.pool.address
        events = pair_events(receipt.logs, pair)
        if request.action is LiquidityAction.V2_ADD:
            if len(events.mints) != 1:
                raise SettlementMismatch(
                    f"{receipt.tx_hash}: expected one Mint of pair {pair}, found {len(events.mints)}"
                )
            event, lp = events.mints[0], events.minted_to(request.owner)
            pool_event = PoolEventAmounts(event="Mint", liquidity=lp, amount0=event.amount0, amount1=event.amount1)
        else:
            if len(events.burns) != 1:
                raise SettlementMismatch(
                    f"{receipt.tx_hash}: expected one Burn of pair {pair}, found {len(events.burns)}"
                )
            burn, lp = events.burns[0], events.sent_from(request.owner, pair)
            pool_event = PoolEventAmounts(event="Burn", liquidity=lp, amount0=burn.amount0, amount1=burn.amount1)
        batch = await read_batch(
            self.rt.client(request.chain),
            [Read.of(pair, "balanceOf(address)", ("uint256",), request.owner)],
            block=receipt.block_number,
        )
        balance = batch.results[0]
        return result.model_copy(
            update={
                "amount0": pool_event.amount0,
                "amount1": pool_event.amount1,
                "liquidity": lp,
                "lp_balance": int(balance[0]) if balance else None,
                "pool_event": pool_event,
            }
        )

    async def _settle_v3(
        self, request: LiquidityRequest, plan: LiquidityPlan, receipt: ReceiptLogs, result: LiquidityResult
    ) -> LiquidityResult:
        _, dex = self._deployment(request)
        assert isinstance(dex, UniswapV3)
        positions = UniswapV3Positions(dex)
        manager = positions.manager
        events = position_events(receipt.logs, manager, plan.pool.address)
        action = request.action
        token_id = events.minted_token_id(request.owner) if action is LiquidityAction.V3_MINT else plan.token_id
        if token_id is None:
            raise SettlementMismatch(f"{receipt.tx_hash}: no position NFT was minted to {request.owner}")
        amount0 = amount1 = liquidity = 0
        pool_event: PoolEventAmounts | None = None
        if action in (LiquidityAction.V3_MINT, LiquidityAction.V3_INCREASE):
            change = _one([c for c in events.increases if c.token_id == token_id], "IncreaseLiquidity", receipt)
            mint = _one([m for m in events.pool_mints if m.owner == manager], "pool Mint", receipt)
            amount0, amount1, liquidity = change.amount0, change.amount1, change.liquidity
            pool_event = PoolEventAmounts(
                event="Mint", liquidity=mint.liquidity, amount0=mint.amount0, amount1=mint.amount1
            )
        elif action is LiquidityAction.V3_DECREASE:
            change = _one([c for c in events.decreases if c.token_id == token_id], "DecreaseLiquidity", receipt)
            burn = _one([b for b in events.pool_burns if b.owner == manager and b.liquidity > 0], "pool Burn", receipt)
            amount0, amount1, liquidity = change.amount0, change.amount1, change.liquidity
            pool_event = PoolEventAmounts(
                event="Burn", liquidity=burn.liquidity, amount0=burn.amount0, amount1=burn.amount1
            )
        elif action is LiquidityAction.V3_COLLECT:
            collect = _one([c for c in events.collects if c.token_id == token_id], "Collect", receipt)
            paid = _one([c for c in events.pool_collects if c.owner == manager], "pool Collect", receipt)
            amount0, amount1 = collect.amount0, collect.amount1
            pool_event = PoolEventAmounts(event="Collect", liquidity=0, amount0=paid.amount0, amount1=paid.amount1)
        elif not events.burned(token_id):
            raise SettlementMismatch(f"{receipt.tx_hash}: position NFT {token_id} was not burned")
        position_liquidity = None
        if action is not LiquidityAction.V3_BURN:
            (after,), _ = await positions.read([token_id], block=receipt.block_number)
            position_liquidity = after.liquidity
        return result.model_copy(
            update={
                "amount0": amount0,
                "amount1": amount1,
                "liquidity": liquidity,
                "token_id": token_id,
                "position_liquidity": position_liquidity,
                "pool_event": pool_event,
            }
        )


def _one(found: list[T], what: str, receipt: ReceiptLogs) -> T:
    if len(found) != 1:
        raise SettlementMismatch(f"{receipt.tx_hash}: expected one {what} event, found {len(found)}")
    return found[0]


def _domain_plan(dex_name: str, action: LiquidityAction, plan: LiquidityCallPlan) -> LiquidityPlan:
    pool = plan.pool
    labels = {pool.token0: "approve-token0", pool.token1: "approve-token1", pool.address: "approve-lp"}
    approvals = [
        PlannedTx(
            step=labels.get(a.token, f"approve-{a.token.lower()}"),
            to=a.token,
            data=approve_calldata(a.spender, a.amount),
            purpose=f"approve {a.spender} to pull {a.amount} of {a.token} (allowance {a.allowance})",
        )
        for a in plan.approvals
    ]
    return LiquidityPlan(
        pool=pool_ref(dex_name, pool),
        approvals=approvals,
        action_tx=PlannedTx(
            step=str(action),
            to=plan.call.to,
            data=plan.call.data,
            value=plan.call.value,
            purpose=f"{action} on {pool.address}",
        ),
        expected=ExpectedAmounts(
            amount0=plan.amount0,
            amount1=plan.amount1,
            amount0_min=plan.amount0_min,
            amount1_min=plan.amount1_min,
            liquidity=plan.liquidity,
            block_number=plan.block_number,
        ),
        deadline=plan.deadline,
        token_id=plan.token_id,
    )


def pool_ref(dex_name: str, pool: Pool) -> PoolRef:
    """The connector's pool as the workflows' model names it."""
    return PoolRef(
        dex=dex_name,
        protocol=str(pool.protocol),
        address=pool.address,
        token0=pool.token0,
        token1=pool.token1,
        fee=pool.fee,
        tick_spacing=pool.tick_spacing,
    )
