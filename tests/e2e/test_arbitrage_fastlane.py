"""The arbitrage fast lane end to end on the devnet: both legs sent outside Temporal (the CEX
buy routed by the fast path under the run's parent id, the WETH sale signed as attempt 0 of
the swap lifecycle the run's ``DexSwap`` will start, then broadcast), then the ``Arbitrage``
run started to adopt them. The run places nothing again; its P&L is the balance changes
measured on each venue and on the chain. A sender that dies after sending, before starting
the run, is retried with the same request: one CEX order, one swap."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from activities.arb_fastlane import LANE_STEP, ArbFastLane
from activities.dex_swap import swap_tx_id
from activities.runtime import ChainRuntime
from activities.tx import TX_STEP
from connectors.dex import build_dexes
from connectors.dex.swaps import router_address
from connectors.evm.client import EvmClient
from connectors.evm.erc20 import approve_calldata
from connectors.evm.signer import LocalKeySigner, SignerRegistry
from crosslane.arbitrage_runs import TemporalRunStarter
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.arb_steps import ArbitrageRequest, ArbOutcome, ArbResult, ArbRiskLimits, ArbVenue
from crosslane.domain.dex import SwapRequest
from crosslane.domain.tx import FeePolicy
from crosslane.errors import InvalidRequest, RpcUnavailable
from crosslane.fastpath.client import FastPathClient
from crosslane.ledger.arbitrage import ArbBook
from crosslane.money import UINT256_MAX
from devnet.cex import admin_client as admin
from tests.e2e.test_arbitrage import (
    CHAIN,
    GWEI,
    SYMBOL,
    ArbStack,
    Balances,
    arb_sandbox,
    cex_balances,
    cex_cheaper,
    cex_children,
    chain_balances,
    worker,
)
from tests.support.stack import Stack, unique_queue

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
async def arb_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ArbStack]:
    async with arb_sandbox(tmp_path_factory.mktemp("arb-fastlane")) as stacked:
        yield stacked


def approved_trader(stack: Stack, weth: int) -> LocalAccount:
    """A fresh signer holding ``weth`` base units of WETH and a standing unlimited approval of
    devnet-a's Uniswap V3 router (the fast lane sends only swaps that need no approval first)."""
    account = stack.fund_signer()
    info = stack.chains.get(CHAIN).tokens["WETH"]
    stack.anvil(CHAIN, "anvil_dealERC20", account.address, info.address, hex(weth))
    router = router_address(build_dexes(EvmClient(stack.chains.get(CHAIN)))["uniswap_v3"])
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[CHAIN]))
    tx = {
        "chainId": stack.chains.get(CHAIN).chain_id, "nonce": 0, "to": info.address, "value": 0, "gas": 100_000,
        "data": approve_calldata(router, UINT256_MAX), "maxFeePerGas": 100 * GWEI, "maxPriorityFeePerGas": GWEI,
        "type": 2,
    }  # fmt: skip
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)["status"] == 1
    return account


def lane_request(signer: str, **kw: object) -> ArbitrageRequest:
    fields: dict[str, object] = {
        "request_id": uuid.uuid4().hex[:12], "asset": "WETH", "quote": "USDC", "size": "0.5",
        "buy": ArbVenue(venue="cex", symbol=SYMBOL), "sell": ArbVenue(venue="uniswap_v3", chain=CHAIN),
        "min_profit": "5", "max_loss": "20", "signer": signer, "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
        **kw,
    }  # fmt: skip
    return ArbitrageRequest.model_validate(fields)


async def lane_run(
    arb_stack: ArbStack, *, die_after_sending: bool = False, failing: str | None = None
) -> tuple[ArbitrageRequest, ArbResult, Balances]:
    """One CEX-buy / DEX-sell run through the fast lane (the CEX quotes 6 % below the pools),
    the balance changes measured around it. ``die_after_sending``: a first sender sends both
    legs and stops before starting the run; a second one (a new process: its own lane)
    retries the same start. ``failing`` (``cex`` or ``swap``): that leg's send fails in the
    lane while the other goes out beside it; the run is started with what the lane recorded."""
    stack, services = arb_stack.stack, arb_stack.stack.sandbox
    signer = approved_trader(stack, 5 * 10**18)
    socket = arb_stack.fastpath.config.socket_path
    queue = unique_queue("arb-lane")
    temporal = await connect_temporal(stack.settings(queue))
    signers = SignerRegistry([LocalKeySigner(signer.key)])
    runtime = ChainRuntime(ledger=stack.ledger(), chains=stack.chains, signers=signers)
    lanes: list[ArbFastLane] = []
    fp = await arb_stack.fastpath.client()
    try:
        await cex_cheaper(services, fp, -600)  # still requoting: a frozen book goes stale in 5 s
        before = {**await cex_balances(services), **chain_balances(stack, signer.address)}
        request = lane_request(signer.address)
        sdk = CrosslaneClient(temporal, queue)
        async with worker(temporal, runtime, queue, socket, ArbRiskLimits()):
            lanes.append(ArbFastLane(runtime, ArbRiskLimits(), socket))
            if failing is not None:
                await fail_once(lanes[0], failing)
                sent = await lanes[0].send(request)
                assert sent.sent_first is not None, "the fast lane recorded nothing"
                swaps_out = await lanes[0].txs.rt.client(CHAIN).nonce(signer.address, "pending") - 1  # less the approve
                assert swaps_out == (0 if failing == "swap" else 1)
                assert await parents_of(fp, request) == (0 if failing == "cex" else 1)
                result = await (await sdk.start_arbitrage(sent)).result()  # the run's own step sends the failed leg
            if die_after_sending:
                sent = await lanes[0].send(request)
                assert sent.sent_first is not None, "the fast lane sent nothing"
                assert await lanes[0].txs.rt.client(CHAIN).nonce(signer.address, "pending") == 2  # approve, swap
                lanes.append(ArbFastLane(runtime, ArbRiskLimits(), socket))
            if failing is None:
                handle = await sdk.start_arbitrage_sent_first(request, lanes[-1])
                result = await handle.result()
        after = {**await cex_balances(services), **chain_balances(stack, signer.address)}
    finally:
        await fp.close()
        for lane in lanes:
            await lane.close()
        for venue in services.devnet.cex.values():
            await admin.market_maker(venue.rest_url, running=True, offset_bps=0)
        await runtime.close()
    return request, result, {key: after[key] - before[key] for key in after if after[key] != before[key]}


async def parents_of(fp: FastPathClient, request: ArbitrageRequest) -> int:
    """How many parent orders the fast path holds for the run's CEX buy."""
    try:
        return len(await fp.status(f"{request.workflow_id}/buy"))
    except InvalidRequest:  # no such parent
        return 0


async def fail_once(lane: ArbFastLane, leg: str) -> None:
    """The lane's next send of ``leg`` fails before it reaches the venue or the chain."""
    failed: list[str] = []

    def once(what: str) -> None:
        if not failed:
            failed.append(what)
            raise RpcUnavailable(f"{what}: connection reset (injected)")

    if leg == "cex":
        fp = await lane._fastpath()
        route = fp.route

        async def failing_route(*args: Any, **kw: Any) -> Any:
            once("the fast path")
            return await route(*args, **kw)

        fp.route = failing_route  # type: ignore[method-assign]
    else:
        send = lane.txs.send

        async def failing_send(*args: Any, **kw: Any) -> Any:
            once("eth_sendRawTransaction")
            return await send(*args, **kw)

        lane.txs.send = failing_send  # type: ignore[method-assign]


def assert_reconciled(result: ArbResult, measured: Balances) -> None:
    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    reported = {(c.place, c.currency): c.amount for c in result.changes}
    assert reported == measured
    gas = sum((leg.gas_cost for leg in result.legs), start=Decimal(0))
    asset_net = sum(a for (_, ccy), a in reported.items() if ccy in ("ETH", "WETH"))
    quote_moved = sum(a for (_, ccy), a in reported.items() if ccy in ("USDT", "USDC"))
    assert gas > 0 and result.realised_profit == quote_moved - gas + asset_net * result.asset_price
    assert result.realised_profit > 0


def swap_attempts(arb_stack: ArbStack, request: ArbitrageRequest) -> list[str]:
    ledger = arb_stack.stack.ledger()
    swap_id = SwapRequest.workflow_id_of(f"{request.workflow_id}.sell")
    op = ledger.get_operation(swap_tx_id(swap_id), TX_STEP)
    assert op is not None, "the swap was never recorded"
    return [a.tx_hash for a in ledger.list_attempts(op.id)]


async def test_fast_lane_sends_both_legs_then_the_run_adopts_them_pnl_equals_balance_changes(
    arb_stack: ArbStack,
) -> None:
    request, result, measured = await lane_run(arb_stack, die_after_sending=False)
    assert_reconciled(result, measured)
    # the run adopted the lane's legs: one swap signed once, one parent order, no re-quote
    assert len(swap_attempts(arb_stack, request)) == 1
    [sell] = [leg for leg in result.legs if leg.leg == "sell"]
    assert swap_attempts(arb_stack, request)[0] in sell.refs
    assert await cex_children(arb_stack, request.workflow_id)
    history = (
        await (await connect_temporal(arb_stack.stack.settings("unused")))
        .get_workflow_handle(request.workflow_id)
        .fetch_history()
    )
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert "arb_quote" not in scheduled and scheduled.count("cex_execute") == 1


async def test_a_sender_dying_after_the_legs_went_out_is_retried_one_cex_order_one_swap(arb_stack: ArbStack) -> None:
    """Legs sent, no run started (the sender died), the same start retried by another sender:
    it adopts what was sent, sends nothing twice, and the P&L reconciles."""
    request, result, measured = await lane_run(arb_stack, die_after_sending=True)
    await assert_each_leg_once(arb_stack, request, result, measured)


async def assert_each_leg_once(
    arb_stack: ArbStack, request: ArbitrageRequest, result: ArbResult, measured: Balances
) -> None:
    """The run reconciles, with one CEX parent order (its children the run's buy) and one swap."""
    assert_reconciled(result, measured)
    assert len(swap_attempts(arb_stack, request)) == 1
    fp = await arb_stack.fastpath.client()
    try:
        parents = await fp.status(f"{request.workflow_id}/buy")
    finally:
        await fp.close()
    assert len(parents) == 1
    [buy] = [leg for leg in result.legs if leg.leg == "buy"]
    assert sorted(buy.refs[1:]) == sorted(c.client_order_id for c in parents[0].children)
    # the signer's WETH went out once: 0.5 sold, no second swap
    assert measured[(CHAIN, "WETH")] == Decimal("-0.5")


async def test_runs_a_dead_sender_left_are_recovered_at_the_next_start_or_released(arb_stack: ArbStack) -> None:
    """A sender that died with both legs out and no run started, and one that died after
    admitting a run but before sending anything: the scanner's next start (``recover``)
    starts the first (it adopts the legs: one CEX order, one swap, P&L reconciled) and
    releases the second, whose concurrency slot is free again; nothing is sent for it."""
    stack, services = arb_stack.stack, arb_stack.stack.sandbox
    signer = approved_trader(stack, 5 * 10**18)
    socket = arb_stack.fastpath.config.socket_path
    queue = unique_queue("arb-recover")
    temporal = await connect_temporal(stack.settings(queue))
    runtime = ChainRuntime(
        ledger=stack.ledger(), chains=stack.chains, signers=SignerRegistry([LocalKeySigner(signer.key)])
    )
    book = ArbBook(runtime.ledger)
    fp = await arb_stack.fastpath.client()
    dead, restarted = ArbFastLane(runtime, ArbRiskLimits(), socket), ArbFastLane(runtime, ArbRiskLimits(), socket)
    try:
        await cex_cheaper(services, fp, -600)
        before = {**await cex_balances(services), **chain_balances(stack, signer.address)}
        sent, unsent = lane_request(signer.address), lane_request(signer.address)
        assert (await dead.send(sent)).sent_first is not None, "the fast lane sent nothing"
        assert (await dead.arb.admit(unsent.workflow_id, unsent)).admitted  # died right after admitting
        running = book.controls().running
        starter = TemporalRunStarter(temporal, queue, restarted)
        assert await starter.recover(min_age=timedelta(hours=1)) == []  # too recent: a live sender's
        async with worker(temporal, runtime, queue, socket, ArbRiskLimits()):
            assert await starter.recover(min_age=timedelta(0)) == [sent.workflow_id]
            result = await CrosslaneClient(temporal, queue).arbitrage_handle(sent.request_id).result()
        after = {**await cex_balances(services), **chain_balances(stack, signer.address)}
    finally:
        await fp.close()
        for lane in (dead, restarted):
            await lane.close()
        for venue in services.devnet.cex.values():
            await admin.market_maker(venue.rest_url, running=True, offset_bps=0)
        await runtime.close()
    assert_reconciled(result, {key: after[key] - before[key] for key in after if after[key] != before[key]})
    assert len(swap_attempts(arb_stack, sent)) == 1
    released = next(r for r in book.runs() if r.workflow_id == unsent.workflow_id)
    assert released.state == "aborted" and "nothing sent" in (released.detail or "")
    assert book.controls().running == running - 2  # both slots free: one run finished, one released
    assert stack.ledger().get_operation(unsent.workflow_id, LANE_STEP) is None


@pytest.mark.parametrize("failing", ["cex", "swap"])
async def test_one_leg_failing_beside_the_other_each_leg_goes_out_once(arb_stack: ArbStack, failing: str) -> None:
    """The CEX leg and the swap are sent side by side once the lane's transaction committed:
    when one send fails the other still goes out (once), and the run's own step sends the
    failed one by the same id (the parent routed once; the swap's stored bytes, one attempt)."""
    request, result, measured = await lane_run(arb_stack, failing=failing)
    await assert_each_leg_once(arb_stack, request, result, measured)


async def test_a_paused_arbitrage_is_refused_by_the_lane_with_nothing_sent_or_recorded(arb_stack: ArbStack) -> None:
    """The kill switch holds for the fast lane: the admission (in the lane's one transaction)
    is refused, so no quote, plan, nonce or signed swap is recorded and no leg is sent."""
    stack = arb_stack.stack
    signer = approved_trader(stack, 5 * 10**18)
    socket = arb_stack.fastpath.config.socket_path
    runtime = ChainRuntime(
        ledger=stack.ledger(), chains=stack.chains, signers=SignerRegistry([LocalKeySigner(signer.key)])
    )
    book = ArbBook(runtime.ledger)
    lane = ArbFastLane(runtime, ArbRiskLimits(), socket)
    fp = await arb_stack.fastpath.client()
    request = lane_request(signer.address)
    book.pause("kill switch (test)")
    try:
        await cex_cheaper(stack.sandbox, fp, -600)
        sent = await lane.send(request)
        parents = await parents_of(fp, request)
        nonce = await runtime.client(CHAIN).nonce(signer.address, "pending")
    finally:
        book.resume()
        await fp.close()
        await lane.close()
        for venue in stack.sandbox.devnet.cex.values():
            await admin.market_maker(venue.rest_url, running=True, offset_bps=0)
        await runtime.close()
    assert sent.sent_first is None and parents == 0 and nonce == 1  # the approval only
    swap_id = SwapRequest.workflow_id_of(f"{request.workflow_id}.sell")
    assert stack.ledger().get_operation(request.workflow_id, LANE_STEP) is None
    assert stack.ledger().get_operation(swap_tx_id(swap_id), TX_STEP) is None
    [run] = [r for r in book.runs() if r.workflow_id == request.workflow_id]
    assert run.state == "refused" and "paused: kill switch (test)" in (run.detail or "")
