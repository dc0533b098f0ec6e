"""DEX swap activities: thin, idempotent steps keyed by (workflow id, "swap").

* ``dex_quote``      validates the request against the chain (tokens, DEX names, deadline,
  signer key, balance), finds the best route, sets the limit from the slippage bound,
  refuses a public swap a sandwich could exploit beyond the request's bound, builds the
  router calldata and, if the allowance falls short, the approval's TxRequest. It records
  the plan in the ledger *before* anything is sent; a retry returns the recorded plan.
* ``dex_build_swap`` checks (after any approval) that the swap would still succeed, by
  ``eth_estimateGas``, and returns its TxRequest with an explicit gas limit: a price moved
  past the limit before sending is reported as SlippageExceeded with nothing sent.
* ``dex_settle``     reads the mined receipt: exact amounts from the ERC20 Transfer and pool
  Swap events, or, for a reverted swap, the router's reason as a non-retryable failure
  (SlippageExceeded, DeadlineExpired, SwapReverted).

Refusals come before the ledger records anything, so bad input leaves no trace. None of
these activities has an on-chain side effect: the transactions are child lifecycles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from temporalio import activity
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError, Web3RPCError

from activities.errors import business_errors
from activities.runtime import ChainRuntime
from activities.tx import TX_STEP
from connectors.dex.liquidity_bounds import next_block_time
from connectors.dex.pricing import to_bps
from connectors.dex.receipts import receipt_logs
from connectors.dex.routing import MarketSnapshot, RouteFinder
from connectors.dex.settlement import settle_swap
from connectors.dex.swap_errors import (
    DeadlineExpired,
    SlippageExceeded,
    SwapReverted,
)
from connectors.dex.swap_plan import check_sandwich, quote_swap
from connectors.dex.swap_reverts import SwapRevert, classify_revert, swap_revert_reason
from connectors.dex.swaps import swap_call
from connectors.dex.tokens import resolve_token
from connectors.evm.client import EvmClient
from connectors.evm.erc20 import Erc20, approve_calldata
from crosslane.crashpoints import crash_point
from crosslane.domain.deadlines import check_deadline_horizon
from crosslane.domain.dex import (
    DEFAULT_DEADLINE_SECONDS,
    ApprovalMode,
    HopFill,
    SwapPlan,
    SwapRequest,
    SwapResult,
    TradeType,
)
from crosslane.domain.dex_steps import BuildSwapInput, DexActivity, QuoteInput, SwapSettleInput
from crosslane.domain.recipients import check_recipient
from crosslane.domain.tx import TxOutcome, TxRequest
from crosslane.errors import InsufficientBalance, InvalidRequest
from crosslane.ledger.records import OperationRecord, OperationStatus
from crosslane.money import BPS, UINT256_MAX

SWAP_STEP = "swap"
GAS_HEADROOM_BPS = 13_000  # the price may move within the limit and cross more ticks than estimated
GAS_HEADROOM_FIXED = 30_000
MAX_GAS = 30_000_000


async def chain_time(client: EvmClient) -> int:
    """The earliest timestamp the next block can carry (unix seconds): the later of the
    latest block's and the wall clock's, since anvil and real chains both stamp ~now."""
    return next_block_time(await client.latest_timestamp())


def swap_tx(workflow_id: str, request: SwapRequest, plan: SwapPlan, gas_estimate: int) -> TxRequest:
    """The swap's transaction (the ``DexSwap`` run's child ``<workflow id>.swap``), its gas
    limit the estimate plus headroom."""
    return TxRequest(
        request_id=f"{workflow_id}.swap",
        chain=request.chain,
        signer=request.signer,
        to=plan.router,
        data=plan.swap_calldata,
        gas_limit=min(MAX_GAS, gas_estimate * GAS_HEADROOM_BPS // BPS + GAS_HEADROOM_FIXED),
        fees=request.fees,
        policy=request.policy,
        protected=request.protected,
    )


def swap_tx_id(workflow_id: str) -> str:
    """The workflow id of a ``DexSwap`` run's swap lifecycle."""
    return f"tx-{workflow_id}.swap"


class DexSwapActivities:
    def __init__(self, runtime: ChainRuntime) -> None:
        self.rt = runtime
        self._finders: dict[str, RouteFinder] = {}

    def finder(self, chain: str) -> RouteFinder:
        if chain not in self._finders:
            self._finders[chain] = RouteFinder(self.rt.client(chain))
        return self._finders[chain]

    @activity.defn(name=DexActivity.QUOTE)
    @business_errors
    async def dex_quote(self, inp: QuoteInput) -> SwapPlan:
        """Validate, route, price and plan the swap; idempotent per workflow id."""
        return await self.plan(inp.workflow_id, inp.request)

    async def plan(self, workflow_id: str, request: SwapRequest) -> SwapPlan:
        """``dex_quote``'s work: the recorded plan, else one drafted now (:meth:`draft`, every
        read made now) and recorded (the arbitrage fast lane drafts on the state it holds for
        the head and records in its own transaction, so the run's ``dex_quote`` finds it)."""
        ledger = self.rt.ledger
        recorded = await asyncio.to_thread(ledger.get_operation, workflow_id, SWAP_STEP)
        if recorded is not None and "plan" in recorded.detail:
            return SwapPlan.model_validate(recorded.detail["plan"])
        plan = await self.draft(workflow_id, request)
        op = await asyncio.to_thread(self.record, workflow_id, request, plan)
        # A concurrent attempt that recorded first wins: every caller gets the same plan.
        return SwapPlan.model_validate(op.detail["plan"])

    def record(self, workflow_id: str, request: SwapRequest, plan: SwapPlan) -> OperationRecord:
        """The plan recorded under ``workflow_id`` (in a thread; joins an open ``Ledger.atomic``
        block): the operation as stored, whose ``detail["plan"]`` is the first plan recorded."""
        return self.rt.ledger.begin_operation(
            workflow_id,
            SWAP_STEP,
            "dex_swap",
            chain_id=self.rt.chain(request.chain).chain_id,
            signer=request.signer,
            detail={"request": request.model_dump(mode="json"), "plan": plan.model_dump(mode="json")},
        )

    async def draft(
        self,
        workflow_id: str,
        request: SwapRequest,
        *,
        market: MarketSnapshot | None = None,
        gas_price_wei: int | None = None,
        now: int | None = None,
        simulate_sandwich: bool = True,
        held: Mapping[str, tuple[int, int]] | None = None,
    ) -> SwapPlan:
        """The plan :meth:`plan` records, nothing recorded. ``market`` and ``gas_price_wei``:
        already read this block; ``now``: the chain time to take the deadline from (else
        read); ``simulate_sandwich`` as ``quote_swap`` takes it. ``held``: spender (lowercase) ->
        the signer's balance of the token sold and its allowance to that spender, already
        read this block (the fast lane's); else both are read now."""
        chain = self.rt.chain(request.chain)
        self.rt.signers.get(request.signer)  # SignerUnavailable before anything else
        if request.protected:
            self.rt.submitter(request.chain, protected=True)  # refuses a chain without a relay
        client = self.rt.client(request.chain)
        token_in, token_out = await asyncio.gather(
            resolve_token(client, request.token_in), resolve_token(client, request.token_out)
        )
        if token_in.address == token_out.address:
            raise InvalidRequest(f"token_in and token_out are the same token ({token_in.symbol})")
        recipient = request.recipient or request.signer
        check_recipient(chain, recipient, tokens=(token_in.address, token_out.address))
        now = now if now is not None else await chain_time(client)
        deadline = request.deadline if request.deadline is not None else now + DEFAULT_DEADLINE_SECONDS
        if deadline <= now:
            raise InvalidRequest(f"deadline {deadline} has already passed (chain time {now})")
        check_deadline_horizon(deadline, now)

        finder = self.finder(request.chain)
        quote, selection = await quote_swap(
            finder,
            token_in,
            token_out,
            request.trade_type,
            request.amount,
            slippage_bps=request.slippage_bps,
            max_hops=request.max_hops,
            dex_names=request.dexes,
            max_sandwich_bps=request.max_sandwich_bps,
            protected=request.protected,
            gas_price_wei=gas_price_wei,
            market=market,
            simulate_sandwich=simulate_sandwich,
        )
        call = swap_call(
            finder.dexes[quote.route.dex],
            selection.best.route,
            request.trade_type,
            amount_in=quote.amount_in,
            amount_out=quote.amount_out,
            limit=quote.limit,
            recipient=recipient,
            deadline=deadline,
        )
        known = (held or {}).get(call.spender.lower())
        if known is None:
            erc20 = Erc20(client, token_in.address)
            balance, allowance = await asyncio.gather(
                erc20.balance_of(request.signer), erc20.allowance(request.signer, call.spender)
            )
        else:
            balance, allowance = known
        if balance < call.max_pull:
            raise InsufficientBalance(
                f"{request.signer} holds {balance} base units of {token_in.symbol}; this swap may need {call.max_pull}"
            )
        check_sandwich(quote, request.slippage_bps)
        approval = None
        if allowance < call.max_pull:
            approve_amount = UINT256_MAX if request.approval is ApprovalMode.UNLIMITED else call.max_pull
            approval = TxRequest(
                request_id=f"{workflow_id}.approve",
                chain=request.chain,
                signer=request.signer,
                to=token_in.address,
                data=approve_calldata(call.spender, approve_amount),
                fees=request.fees,
                policy=request.policy,
                protected=request.protected,
            )
        return SwapPlan(
            quote=quote,
            router=call.router,
            recipient=recipient,
            deadline=deadline,
            swap_calldata=call.data,
            allowance=allowance,
            approval=approval,
        )

    @activity.defn(name=DexActivity.BUILD_SWAP)
    @business_errors
    async def dex_build_swap(self, inp: BuildSwapInput) -> TxRequest:
        """The swap's TxRequest, once the approval (if any) is mined and the swap would still
        succeed; gas limit from ``eth_estimateGas`` plus headroom."""
        crash_point("dex.before_swap")
        request, plan = inp.request, inp.plan
        sent = await asyncio.to_thread(self.rt.ledger.get_operation, swap_tx_id(inp.workflow_id), TX_STEP)
        if sent is not None:  # signed before this run started (the arbitrage fast lane): never re-checked
            return TxRequest.model_validate(sent.detail["request"])
        client = self.rt.client(request.chain)
        erc20 = Erc20(client, plan.quote.token_in.address)
        needed = plan.quote.amount_in if plan.quote.trade_type is TradeType.EXACT_IN else plan.quote.limit
        allowance = await erc20.allowance(request.signer, plan.router)
        if allowance < needed:
            raise InvalidRequest(f"{request.signer} allows the router {allowance} of {needed} needed: approval missing")

        async def _estimate(w3: AsyncWeb3) -> int:
            tx: dict[str, Any] = {"from": request.signer, "to": plan.router, "data": plan.swap_calldata}
            return int(await w3.eth.estimate_gas(tx))  # type: ignore[arg-type]

        try:
            estimate = await client.call(_estimate, "eth_estimateGas (swap)")
        except (ContractLogicError, Web3RPCError) as exc:
            reason = str(getattr(exc, "message", None) or exc)
            kind = classify_revert(reason)
            if kind is SwapRevert.SLIPPAGE:
                raise SlippageExceeded(
                    f"the price moved past the limit ({plan.quote.limit}) before the swap was sent: {reason}; "
                    f"nothing was sent, {request.signer} still holds its {plan.quote.token_in.symbol}"
                ) from None
            if kind is SwapRevert.DEADLINE:
                raise DeadlineExpired(
                    f"the deadline {plan.deadline} passed before the swap was sent: {reason}"
                ) from None
            raise InvalidRequest(f"the swap would revert on {request.chain}: {reason}") from None
        return swap_tx(inp.workflow_id, request, plan, estimate)

    @activity.defn(name=DexActivity.SETTLE)
    @business_errors
    async def dex_settle(self, inp: SwapSettleInput) -> SwapResult:
        """Exact amounts from the mined swap's receipt; a revert becomes its business error."""
        request, plan, swap = inp.request, inp.plan, inp.swap
        quote = plan.quote
        client = self.rt.client(request.chain)
        op = await asyncio.to_thread(self.rt.ledger.get_operation, inp.workflow_id, SWAP_STEP)
        receipt = await receipt_logs(client, swap.mined_tx_hash)
        if swap.outcome is TxOutcome.CANCELLED:
            await self._record(op, OperationStatus.CANCELLED, {"cancelled_by": swap.mined_tx_hash})
            raise InvalidRequest(f"the swap was cancelled (tx {swap.mined_tx_hash}): nothing was swapped")
        if receipt.status != 1:
            reason = await swap_revert_reason(client, receipt, plan.swap_calldata)
            kind = classify_revert(reason)
            await self._record(op, OperationStatus.FAILED, {"reverted": swap.mined_tx_hash, "reason": reason})
            where = f"swap {swap.mined_tx_hash} reverted in block {receipt.block_number} ({reason or 'no reason'})"
            kept = (
                f"nothing was swapped: {request.signer} keeps its {quote.token_in.symbol}, "
                f"only {receipt.gas_used * receipt.effective_gas_price} wei of gas was spent"
            )
            if kind is SwapRevert.SLIPPAGE:
                raise SlippageExceeded(f"the price moved past the limit {quote.limit} before mining: {where}; {kept}")
            if kind is SwapRevert.DEADLINE:
                raise DeadlineExpired(f"mined after the deadline {plan.deadline}: {where}; {kept}")
            raise SwapReverted(f"{where}; {kept}")

        settlement = settle_swap(receipt.logs, quote.route.protocol, quote.route.hops, request.signer, plan.recipient)
        # Execution price (out per in) against the quoted one: positive is worse than quoted.
        quoted = Fraction(quote.amount_out, quote.amount_in)
        got = Fraction(settlement.amount_out, settlement.amount_in)
        vs_quote = to_bps(1 - got / quoted) if quoted else Decimal(0)
        result = SwapResult(
            request_id=request.request_id,
            chain=request.chain,
            signer=request.signer,
            recipient=plan.recipient,
            trade_type=quote.trade_type,
            token_in=quote.token_in,
            token_out=quote.token_out,
            route=quote.route,
            amount_in=settlement.amount_in,
            amount_out=settlement.amount_out,
            quoted_amount_in=quote.amount_in,
            quoted_amount_out=quote.amount_out,
            limit=quote.limit,
            vs_quote_bps=vs_quote,
            fills=[
                HopFill(
                    pool=f.pool,
                    token_in=f.token_in,
                    token_out=f.token_out,
                    amount_in=f.amount_in,
                    amount_out=f.amount_out,
                )
                for f in settlement.fills
            ],  # fmt: skip
            approve_tx_hash=inp.approve.mined_tx_hash if inp.approve else None,
            swap_tx_hash=swap.mined_tx_hash,
            block_number=receipt.block_number,
            gas_used=receipt.gas_used,
            effective_gas_price=receipt.effective_gas_price,
            approve=inp.approve,
            swap=swap,
        )
        await self._record(op, OperationStatus.SUCCEEDED, {"result": result.model_dump(mode="json")})
        return result

    async def _record(self, op: Any, status: OperationStatus, detail: dict[str, Any]) -> None:
        if op is not None:
            await asyncio.to_thread(self.rt.ledger.update_operation, op.id, status=status.value, detail=detail)
