"""Arbitrage end to end on the devnet: ETH bought on the simulated CEX venues through the fast
path (their quotes shifted 2 % below the pools), WETH sold into devnet-a's Uniswap V3 pool
through a ``DexSwap`` child, both at once from inventory. The realised P&L is the sum of the
fills, fees and gas, and every balance change the run reports is the one measured on each
venue and on the chain."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.worker import Worker
from web3 import Web3

from activities.arbitrage import ArbActivities
from activities.cex import CexActivities
from activities.dex_swap import DexSwapActivities
from activities.runtime import ChainRuntime
from activities.tx import TxActivities
from connectors.cex.credentials import load_credentials
from connectors.evm.signer import LocalKeySigner, SignerRegistry
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.arb_steps import (
    ArbitrageRequest,
    ArbOutcome,
    ArbResult,
    ArbRiskLimits,
    ArbStatus,
    ArbVenue,
    LegName,
    LegState,
)
from crosslane.domain.tx import FeePolicy
from crosslane.errors import InvalidRequest
from crosslane.fastpath.protocol import ChildOrder
from crosslane.ledger.arbitrage import ArbBook
from crosslane.money import from_base_units
from crosslane.routing.side import Side
from devnet.cex import admin_client as admin
from devnet.mining import manual_mining
from devnet.registry_export import registry_path
from devnet.sandbox import Sandbox, sandbox
from tests.e2e.test_dex_swap_slippage import dump_weth, funded_trader
from tests.e2e.test_entry_points import temporal_start_with
from tests.support.fastpath import FastPathProcess, fastpath_config
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process
from workers.orchestrator import workflow_runner
from workflows.arbitrage import Arbitrage
from workflows.dex_swap import DexSwap
from workflows.tx_lifecycle import TransactionLifecycle

pytestmark = pytest.mark.timeout(300)

CHAIN = "devnet-a"
SYMBOL = "ETH/USDT"
GWEI = 10**9


@dataclass
class ArbStack:
    stack: Stack
    fastpath: FastPathProcess


@asynccontextmanager
async def arb_sandbox(home: Path, symbol: str = SYMBOL) -> AsyncIterator[ArbStack]:
    """A stack whose devnet runs the CEX simulators, and a fast path (price-only routing) on them."""
    async with sandbox(home, cex=True) as services:
        stack = Stack(services)
        stack.ledger().migrate()
        config = fastpath_config(registry_path(services.devnet_state_path), home, [symbol]).model_copy(
            update={"latency_penalty_bps_per_ms": Decimal(0)}
        )
        process = FastPathProcess(config, home, dict(os.environ))
        for venue in services.devnet.cex.values():
            # The mid's shared walk has a stationary std of ~60 bps: at some hours it alone held the
            # venues above the pools' price with the tests' -200 bps offset. Calmed to ~10 bps, the
            # offsets set the prices the tests reason about; the books still move every step.
            await admin.market_maker(venue.rest_url, common_vol_bps="1")
        try:
            yield ArbStack(stack, process)
        finally:
            process.stop()


@pytest.fixture(scope="module")
async def arb_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ArbStack]:
    async with arb_sandbox(tmp_path_factory.mktemp("arb")) as stacked:
        yield stacked


def worker(client: object, runtime: ChainRuntime, queue: str, socket: Path, limits: ArbRiskLimits) -> Worker:
    tx, swap = TxActivities(runtime), DexSwapActivities(runtime)
    return Worker(
        client,  # type: ignore[arg-type]
        task_queue=queue,
        workflows=[Arbitrage, DexSwap, TransactionLifecycle],
        activities=[
            tx.tx_prepare,
            tx.tx_broadcast,
            tx.tx_send,
            tx.tx_send_settle,
            tx.tx_replace,
            tx.tx_wait,
            swap.dex_quote,
            swap.dex_build_swap,
            swap.dex_settle,
            CexActivities(socket).cex_execute,
            *ArbActivities(runtime, limits, socket).all(),
        ],  # fmt: skip
        workflow_runner=workflow_runner(),
    )


async def cex_balances(
    services: Sandbox, currencies: tuple[str, ...] = ("ETH", "USDT")
) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = {}
    for name, venue in services.devnet.cex.items():
        creds = load_credentials(name, secrets_file=Path(venue.credentials_file), environ={})
        assert creds is not None
        held = (await admin.balances(venue.rest_url, api_key=creds.api_key))["balances"]
        for ccy in currencies:
            entry = held.get(ccy, {})
            out[(f"cex:{name}", ccy)] = Decimal(entry.get("free", "0")) + Decimal(entry.get("used", "0"))
    return out


def chain_balances(stack: Stack, owner: str) -> dict[tuple[str, str], Decimal]:
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[CHAIN]))
    abi = [{"type": "function", "name": "balanceOf", "stateMutability": "view",
            "inputs": [{"name": "o", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]}]  # fmt: skip
    out: dict[tuple[str, str], Decimal] = {(CHAIN, "native"): from_base_units(w3.eth.get_balance(owner), 18)}
    for symbol in ("WETH", "USDC"):
        info = stack.chains.get(CHAIN).tokens[symbol]
        contract = w3.eth.contract(address=Web3.to_checksum_address(info.address), abi=abi)
        out[(CHAIN, symbol)] = from_base_units(int(contract.functions.balanceOf(owner).call()), info.decimals)
    return out


async def cex_children(arb_stack: ArbStack, workflow_id: str) -> list[ChildOrder]:
    fp = await arb_stack.fastpath.client()
    try:
        [parent] = await fp.status(f"{workflow_id}/buy")
    finally:
        await fp.close()
    return parent.children


async def cex_cheaper(services: Sandbox, fp_client: object, offset_bps: int) -> None:
    """Shift every venue's quotes and wait until the fast path's book shows it."""
    for venue in services.devnet.cex.values():
        await admin.market_maker(venue.rest_url, running=True, offset_bps=offset_bps)
    quote = None
    for _ in range(600):  # the market makers requote on their own clock: slow on a loaded CI machine
        try:
            quote = await fp_client.quote(SYMBOL, Side.BUY, Decimal("0.5"))  # type: ignore[attr-defined]
        except InvalidRequest:  # no book yet
            quote = None
        if quote is not None and quote.avg_price is not None and quote.avg_price < Decimal(2960):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the CEX books never moved below the pools in 60 s; last quote: {quote}")


Balances = dict[tuple[str, str], Decimal]


async def cex_moved(services: Sandbox, arb_stack: ArbStack, offset_bps: int) -> None:
    """Move every venue's quotes to ``offset_bps`` off the pools' price and wait until the
    fast path's bids show it (at least 0.3 % lower than now)."""
    fp = await arb_stack.fastpath.client()
    try:
        before = (await fp.quote(SYMBOL, Side.SELL, Decimal("0.5"))).avg_price
        assert before is not None
        for venue in services.devnet.cex.values():
            await admin.market_maker(venue.rest_url, running=True, offset_bps=offset_bps)
        for _ in range(600):
            now = (await fp.quote(SYMBOL, Side.SELL, Decimal("0.5"))).avg_price
            if now is not None and now < before * Decimal("0.997"):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the CEX bids never fell from {before} in 60 s")
    finally:
        await fp.close()


async def pending_while_running(
    w3: Web3, address: str, count: int, handle: WorkflowHandle[object, ArbResult], timeout_s: float = 120
) -> None:
    """Until ``address`` has ``count`` transactions pending or mined; the run's state if it
    ended first (or the machine is too slow)."""
    for _ in range(int(timeout_s / 0.1)):
        if w3.eth.get_transaction_count(address, "pending") >= count:
            return
        description = await handle.describe()
        if description.status is not WorkflowExecutionStatus.RUNNING:
            break
        await asyncio.sleep(0.1)
    status = await handle.query("status", result_type=ArbStatus)
    raise AssertionError(f"{address} never reached {count} transactions; the run: {status.state}: {status.detail}")


def receipt_status(w3: Web3, tx_hash: str) -> int:
    return int(w3.eth.get_transaction_receipt(tx_hash)["status"])


def arb_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """``crosslane arb ...`` as an operator runs it, on the stack's ledger."""
    return subprocess.run(
        [sys.executable, "-m", "crosslane.cli.main", "arb", *args],
        env=stack.env("unused"), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def run_arb(
    arb_stack: ArbStack,
    weth: int,
    crash_at: str | None = None,
    logs: Path | None = None,
    via_temporal_cli: bool = False,
    *,
    crash_when: str | None = None,
    signer: LocalAccount | None = None,
    limits: ArbRiskLimits | None = None,
    offset_bps: int = -600,  # the first test leaves the pool lower (another trader's dump)
    during: Callable[[LocalAccount, WorkflowHandle[object, ArbResult]], Awaitable[None]] | None = None,
    frozen: bool = False,
    **kw: object,
) -> tuple[ArbitrageRequest, ArbResult, Balances]:
    """One CEX-buy / DEX-sell run with a fresh signer holding ``weth`` base units of WETH (or
    ``signer`` as earlier runs left it), the CEX quotes ``offset_bps`` off the pools (still
    requoting unless ``frozen``: a frozen book goes stale in 5 s, long on a loaded machine);
    ``during`` runs once the run started (e.g. another trader's move); the result and the
    balance changes measured."""
    stack, services = arb_stack.stack, arb_stack.stack.sandbox
    if signer is None:
        signer = stack.fund_signer()
        info = stack.chains.get(CHAIN).tokens["WETH"]
        stack.anvil(CHAIN, "anvil_dealERC20", signer.address, info.address, hex(weth))
    fp = await arb_stack.fastpath.client()
    queue = unique_queue("arb")
    client = await connect_temporal(stack.settings(queue))
    ledger = stack.ledger()
    runtime = ChainRuntime(ledger=ledger, chains=stack.chains, signers=SignerRegistry([LocalKeySigner(signer.key)]))
    try:
        await cex_cheaper(services, fp, offset_bps)
        for venue in services.devnet.cex.values():  # no quote moves between the quote and the fills
            # (a worker process restarting takes longer than the fast path keeps a silent book)
            await admin.market_maker(venue.rest_url, running=crash_at is not None or not frozen)
        before = {**await cex_balances(services), **chain_balances(stack, signer.address)}
        fields: dict[str, object] = {
            "request_id": uuid.uuid4().hex[:12],
            "asset": "WETH",
            "quote": "USDC",
            "size": "0.5",
            "buy": ArbVenue(venue="cex", symbol=SYMBOL),
            "sell": ArbVenue(venue="uniswap_v3", chain=CHAIN),
            "min_profit": "5",
            "max_loss": "20",
            "signer": signer.address,
            "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
            **kw,
        }
        request = ArbitrageRequest.model_validate(fields)
        if crash_at is None:
            socket = arb_stack.fastpath.config.socket_path
            async with worker(client, runtime, queue, socket, limits or ArbRiskLimits()):
                if via_temporal_cli:  # plain JSON, as an operator types it
                    body = json.dumps(request.model_dump(mode="json", exclude_defaults=True))
                    await temporal_start_with(stack, "Arbitrage", queue, request.workflow_id, "--input", body)
                    handle = client.get_workflow_handle(request.workflow_id, result_type=ArbResult)
                else:
                    handle = await CrosslaneClient(client, queue).start_arbitrage(request)
                if during is not None:
                    await during(signer, handle)
                result = await handle.result()
        else:
            result = await crashing_run(arb_stack, queue, request, crash_at, logs, crash_when)
        after = {**await cex_balances(services), **chain_balances(stack, signer.address)}
    finally:
        await fp.close()
        for venue in services.devnet.cex.values():
            await admin.market_maker(venue.rest_url, running=True, offset_bps=0)
        await runtime.close()
    return request, result, {key: after[key] - before[key] for key in after if after[key] != before[key]}


async def crashing_run(
    arb_stack: ArbStack, queue: str, request: ArbitrageRequest, crash_at: str, logs: Path | None, when: str | None
) -> ArbResult:
    """The run on a worker process SIGKILLed at ``crash_at`` (once; on a pass whose context
    holds ``when`` if given), then on a replacement."""
    assert logs is not None
    stack = arb_stack.stack
    once = logs / "crashed"
    narrowed = {"CROSSLANE_CRASH_WHEN": when} if when else {}
    crashing = worker_process(
        stack,
        queue,
        logs / "worker-1.log",
        CROSSLANE_CRASH_AT=crash_at,
        CROSSLANE_CRASH_ONCE_FILE=str(once),
        **narrowed,
    )
    replacement = None
    try:
        await crashing.wait_polling()
        client = await crosslane_client(stack, queue)
        handle = await client.start_arbitrage(request)
        assert await crashing.wait_killed() == -9
        assert once.exists()
        replacement = worker_process(stack, queue, logs / "worker-2.log")
        return await handle.result()
    finally:
        crashing.stop()
        if replacement is not None:
            replacement.stop()


async def test_a_dex_leg_reverting_after_the_cex_leg_filled_is_unwound_its_gas_counted_and_trips_the_kill_switch(
    arb_stack: ArbStack,
) -> None:
    """Another trader dumps WETH into the pool while the sale waits to be mined: the swap
    reverts (its gas is spent) after the CEX bought; the ETH is sold back on the fast path,
    losing at most max_loss, the gas in the realised P&L. The day's loss passes the limit:
    the kill switch trips, the next run is refused with the reason, ``arb resume`` lets runs in."""
    stack, services = arb_stack.stack, arb_stack.stack.sandbox
    trader = funded_trader(stack)
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[CHAIN]))
    book = ArbBook(stack.ledger())

    async def another_trader_first(signer: LocalAccount, handle: WorkflowHandle[object, ArbResult]) -> None:
        with manual_mining(stack.anvil_urls[CHAIN]) as mine:
            await pending_while_running(w3, signer.address, 1, handle)  # the approval
            mine()
            await pending_while_running(w3, signer.address, 2, handle)  # the sale, quoted before the dump
            await dump_weth(stack, trader, 150 * 10**18)
            await cex_moved(services, arb_stack, -260)  # the venues fall too: selling back loses for sure
            mine()  # one block: the dump (50 gwei tip) first, then our swap, which reverts

    limits = ArbRiskLimits(daily_loss_limit=Decimal("0.01"))  # the module's first run: the day's P&L is 0 so far
    try:
        request, result, measured = await run_arb(
            arb_stack,
            5 * 10**18,
            limits=limits,
            during=another_trader_first,
            max_loss="20",
            offset_bps=-200,
        )
        assert result.outcome is ArbOutcome.COMPENSATED, result.reason
        states = {leg.leg: leg.state for leg in result.legs}
        assert states == {LegName.BUY: LegState.FILLED, LegName.SELL: LegState.FAILED, LegName.UNWIND: LegState.FILLED}
        assert "SlippageExceeded" in result.reason
        assert {(c.place, c.currency): c.amount for c in result.changes} == measured
        assert (CHAIN, "WETH") not in measured  # nothing swapped on the chain: only gas spent
        [sale] = [leg for leg in result.legs if leg.leg is LegName.SELL]
        assert sale.gas_cost > 0 and measured[(CHAIN, "native")] < 0  # the approval's and the reverted swap's
        assert [receipt_status(w3, h) for h in sale.refs] == [1, 0]
        quote_moved = sum(a for (_, ccy), a in measured.items() if ccy == "USDT")
        asset_net = sum(a for (_, ccy), a in measured.items() if ccy == "ETH")
        assert result.realised_profit == quote_moved - sale.gas_cost + asset_net * result.asset_price
        assert -request.max_loss <= result.realised_profit < 0
        assert result.kill_switch is not None and "daily loss" in result.kill_switch

        refused = await run_arb(arb_stack, 5 * 10**18, limits=limits)
        assert refused[1].outcome is ArbOutcome.ABORTED and "arbitrage is paused" in refused[1].reason
        assert "daily loss" in refused[1].reason and refused[2] == {}  # no order, no swap
        with pytest.raises(InvalidRequest, match="no parent order"):
            await cex_children(arb_stack, refused[0].workflow_id)
        assert book.controls().paused

        cli = await asyncio.to_thread(arb_cli, stack, "resume")
        assert cli.returncode == 0, cli.stderr
        assert "arbitrage resumed (was: " in cli.stdout and "daily loss" in cli.stdout
        assert not book.controls().paused
        admitted = await run_arb(arb_stack, 5 * 10**18)
        assert admitted[1].outcome is ArbOutcome.COMPLETED, admitted[1].reason
    finally:
        book.resume()


@pytest.mark.parametrize("via_temporal_cli", [False, True], ids=["sdk", "temporal-cli"])
async def test_cex_dex_inventory_arbitrage_pnl_equals_balance_changes(
    arb_stack: ArbStack, via_temporal_cli: bool
) -> None:
    stack = arb_stack.stack
    request, result, measured = await run_arb(arb_stack, 5 * 10**18, via_temporal_cli=via_temporal_cli)
    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    cex_fills = await cex_children(arb_stack, request.workflow_id)
    reported = {(c.place, c.currency): c.amount for c in result.changes}
    assert reported == measured
    # ETH bought = WETH sold, but for the CEX's taker fee, which Binance takes in the asset bought
    asset_net = sum(a for (_, ccy), a in reported.items() if ccy in ("ETH", "WETH"))
    assert -asset_net == sum(c.fee for c in cex_fills if c.fee_currency == "ETH")
    gas = sum((leg.gas_cost for leg in result.legs), start=Decimal(0))
    native = -sum(a for (_, ccy), a in reported.items() if ccy == "native")
    assert native > 0 and gas > 0
    quote_moved = sum(a for (_, ccy), a in reported.items() if ccy in ("USDT", "USDC"))
    assert result.realised_profit == quote_moved - gas + asset_net * result.asset_price
    assert result.realised_profit > 0 and result.expected_profit is not None
    [run] = [r for r in ArbBook(stack.ledger()).runs() if r.request_id == request.request_id]
    assert run.state == "completed" and run.realised_profit == result.realised_profit
    assert {leg["leg"] for leg in run.legs} == {"buy", "sell"}
    # listed in the UI by its search attributes, expected and realised profit among them
    temporal = await connect_temporal(stack.settings("unused"))
    query = (
        f'CrosslaneArbKind = "cex-dex" AND CrosslaneAsset = "WETH" AND CrosslaneState = "completed" '
        f"AND CrosslaneRealisedProfit > 0 AND CrosslaneExpectedProfit >= 5 AND WorkflowId = '{request.workflow_id}'"
    )
    assert [w.id async for w in temporal.list_workflows(query)] == [request.workflow_id]


async def test_back_to_back_runs_on_the_same_inventory_the_second_sees_what_is_left(arb_stack: ArbStack) -> None:
    """Hummingbot #2552: a second opportunity must not be sent on the balances the first one
    had. The signer holds 0.7 WETH; the first run sells 0.5 of it; the second, for 0.5 more,
    is refused at its quote with what is actually held, before either leg is sent."""
    signer = arb_stack.stack.fund_signer()
    info = arb_stack.stack.chains.get(CHAIN).tokens["WETH"]
    arb_stack.stack.anvil(CHAIN, "anvil_dealERC20", signer.address, info.address, hex(7 * 10**17))
    _, first, measured = await run_arb(arb_stack, 0, signer=signer)
    assert first.outcome is ArbOutcome.COMPLETED, first.reason
    assert measured[(CHAIN, "WETH")] == Decimal("-0.5")

    second_request, second, measured = await run_arb(arb_stack, 0, signer=signer)
    assert second.outcome is ArbOutcome.ABORTED, second.reason
    assert f"inventory: {signer.address} holds 0.2 WETH on {CHAIN}, the sell leg needs 0.5" in second.reason
    assert measured == {} and second.realised_profit == 0
    with pytest.raises(InvalidRequest, match="no parent order"):  # the CEX leg was never sent
        await cex_children(arb_stack, second_request.workflow_id)


async def test_a_cex_leg_whose_placement_answer_is_lost_is_counted_once(arb_stack: ArbStack) -> None:
    """The venue executes the buy but its answer never reaches the fast path: the leg waits
    until the venue's user stream says it filled, instead of reporting a failed leg and
    buying again to unwind. One buy, one sale, P&L equal to the balance changes."""
    services = arb_stack.stack.sandbox
    try:
        for venue in services.devnet.cex.values():
            await admin.set_faults(venue.rest_url, lose_next_order_response=1)
        request, result, measured = await run_arb(arb_stack, 5 * 10**18)
        lost = [
            (await admin.set_faults(v.rest_url))["stats"]["lost_order_responses"] for v in services.devnet.cex.values()
        ]
    finally:
        for venue in services.devnet.cex.values():
            await admin.set_faults(venue.rest_url, reset=True)
    assert sum(lost) >= 1  # the fault was hit
    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    assert {leg.leg for leg in result.legs} == {LegName.BUY, LegName.SELL}  # no unwind
    assert {(c.place, c.currency): c.amount for c in result.changes} == measured
    cex_fills = await cex_children(arb_stack, request.workflow_id)
    fee = sum(c.fee for c in cex_fills if c.fee_currency == "ETH")
    assert sum(a for (_, ccy), a in measured.items() if ccy == "ETH") == Decimal("0.5") - fee
    assert measured[(CHAIN, "WETH")] == Decimal("-0.5")


@pytest.mark.parametrize(
    ("point", "when"),
    [
        ("cex.after_route", None),
        ("dex.before_swap", None),
        # Hummingbot #2658: the DEX leg's broadcast is sent but its answer never comes back
        # (the worker dies right after); the swap mines and is counted once, the run goes on
        ("tx.after_broadcast", ".sell.swap"),
        ("arb.before_finish", None),
    ],
    ids=["cex.after_route", "dex.before_swap", "dex.broadcast_answer_lost", "arb.before_finish"],
)
async def test_a_worker_killed_at_a_leg_boundary_never_executes_a_leg_twice(
    arb_stack: ArbStack, tmp_path: Path, point: str, when: str | None
) -> None:
    request, result, measured = await run_arb(arb_stack, 5 * 10**18, crash_at=point, logs=tmp_path, crash_when=when)
    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    assert {(c.place, c.currency): c.amount for c in result.changes} == measured
    # one buy of 0.5 ETH on the venues (less its fee in ETH), one sale of 0.5 WETH on the chain
    cex_fills = await cex_children(arb_stack, request.workflow_id)
    fee = sum(c.fee for c in cex_fills if c.fee_currency == "ETH")
    assert sum(a for (place, ccy), a in measured.items() if ccy == "ETH") == Decimal("0.5") - fee
    assert measured[(CHAIN, "WETH")] == Decimal("-0.5")
    gas = sum((leg.gas_cost for leg in result.legs), start=Decimal(0))
    quote_moved = sum(a for (_, ccy), a in measured.items() if ccy in ("USDT", "USDC"))
    asset_net = sum(a for (_, ccy), a in measured.items() if ccy in ("ETH", "WETH"))
    assert result.realised_profit == quote_moved - gas + asset_net * result.asset_price
    [run] = [r for r in ArbBook(arb_stack.stack.ledger()).runs() if r.request_id == request.request_id]
    assert run.state == "completed" and len(run.legs) == 2


async def test_dex_dex_arbitrage_between_v3_and_v2_pnl_equals_balance_changes(arb_stack: ArbStack) -> None:
    """Another trader dumps WETH into a V3 pool; the run buys WETH there and sells it into the
    V2 pair at once, from USDC and WETH inventory on devnet-a."""
    stack = arb_stack.stack
    trader = funded_trader(stack)
    await dump_weth(stack, trader, 150 * 10**18)
    signer = stack.fund_signer()
    chain = stack.chains.get(CHAIN)
    stack.anvil(CHAIN, "anvil_dealERC20", signer.address, chain.tokens["WETH"].address, hex(5 * 10**18))
    stack.anvil(CHAIN, "anvil_dealERC20", signer.address, chain.tokens["USDC"].address, hex(20_000 * 10**6))
    queue = unique_queue("arb-dd")
    client = await connect_temporal(stack.settings(queue))
    runtime = ChainRuntime(
        ledger=stack.ledger(), chains=stack.chains, signers=SignerRegistry([LocalKeySigner(signer.key)])
    )
    request = ArbitrageRequest(
        request_id=uuid.uuid4().hex[:12],
        asset="WETH",
        quote="USDC",
        size=Decimal(1),
        buy=ArbVenue(venue="uniswap_v3", chain=CHAIN),
        sell=ArbVenue(venue="uniswap_v2", chain=CHAIN),
        min_profit=Decimal(1),
        max_loss=Decimal(20),
        signer=signer.address,
        fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
    )
    before = chain_balances(stack, signer.address)
    try:
        async with worker(client, runtime, queue, arb_stack.fastpath.config.socket_path, ArbRiskLimits()):
            result = await (await CrosslaneClient(client, queue).start_arbitrage(request)).result()
    finally:
        await runtime.close()
    after = chain_balances(stack, signer.address)
    measured = {key: after[key] - before[key] for key in after if after[key] != before[key]}

    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    assert str(result.kind) == "dex-dex"
    assert {(c.place, c.currency): c.amount for c in result.changes} == measured
    assert (CHAIN, "WETH") not in measured  # bought 1 WETH on V3, sold 1 WETH on V2
    gas = sum((leg.gas_cost for leg in result.legs), start=Decimal(0))
    assert result.realised_profit == measured[(CHAIN, "USDC")] - gas > 0


async def test_cex_cex_arbitrage_across_venues_pnl_equals_balance_changes(arb_stack: ArbStack) -> None:
    """Binance's quotes 2 % below the others': the fast path routes the buy to Binance's asks
    and the sale to another venue's bids, both at once from each venue's inventory."""
    stack, services = arb_stack.stack, arb_stack.stack.sandbox
    cheap = services.devnet.cex["binance"]
    queue = unique_queue("arb-cc")
    client = await connect_temporal(stack.settings(queue))
    runtime = ChainRuntime(ledger=stack.ledger(), chains=stack.chains, signers=SignerRegistry([]))
    fp = await arb_stack.fastpath.client()
    request = ArbitrageRequest(
        request_id=uuid.uuid4().hex[:12],
        asset="ETH",
        quote="USDT",
        size=Decimal("0.5"),
        buy=ArbVenue(venue="cex", symbol=SYMBOL),
        sell=ArbVenue(venue="cex", symbol=SYMBOL),
        min_profit=Decimal(5),
        max_loss=Decimal(20),
    )
    try:
        await admin.market_maker(cheap.rest_url, running=True, offset_bps=-200)
        for _ in range(200):  # until the consolidated book is crossed across venues
            try:
                buy = await fp.quote(SYMBOL, Side.BUY, request.size)
                sell = await fp.quote(SYMBOL, Side.SELL, request.size)
                if buy.avg_price and sell.avg_price and sell.avg_price - buy.avg_price > 30:
                    break
            except InvalidRequest:
                pass
            await asyncio.sleep(0.1)
        for venue in services.devnet.cex.values():
            await admin.market_maker(venue.rest_url, running=False)
        before = await cex_balances(services)
        async with worker(client, runtime, queue, arb_stack.fastpath.config.socket_path, ArbRiskLimits()):
            result = await (await CrosslaneClient(client, queue).start_arbitrage(request)).result()
        after = await cex_balances(services)
    finally:
        await fp.close()
        for venue in services.devnet.cex.values():
            await admin.market_maker(venue.rest_url, running=True, offset_bps=0)
        await runtime.close()
    measured = {key: after[key] - before[key] for key in after if after[key] != before[key]}

    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    assert str(result.kind) == "cex-cex"
    assert {(c.place, c.currency): c.amount for c in result.changes} == measured
    assert measured[("cex:binance", "ETH")] > 0  # bought on Binance, sold elsewhere
    assert any(place != "cex:binance" and ccy == "ETH" and a < 0 for (place, ccy), a in measured.items())
    asset_net = sum(a for (_, ccy), a in measured.items() if ccy == "ETH")
    quote_moved = sum(a for (_, ccy), a in measured.items() if ccy == "USDT")
    assert result.realised_profit == quote_moved + asset_net * result.asset_price > 0
