"""Capture against a gap that closes on its own clock: Binance's ETH/USDC quoted 1.5 % above
the other venues, the venue closing the gap itself ``T`` ms later (``/__admin/gap`` with
``close_after_ms``). The scanner, auto-executing, sees it and starts an ``Arbitrage`` run
(CEX↔CEX through the fast path, sized within the account's balances); whatever the race
between the run and the closing gap, the run is never half-done: it completes (its P&L the
balance changes measured on every venue), aborts with nothing sent, or compensates (the
asset unwound, the loss realised and equal to the balance changes). A gap that closes
before any run starts sends nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from activities.runtime import ChainRuntime
from connectors.cex.credentials import load_credentials
from connectors.evm.signer import SignerRegistry
from crosslane.arbitrage import ArbKind
from crosslane.arbitrage_runs import TemporalRunStarter
from crosslane.arbitrage_stream import opportunities
from crosslane.client import connect_temporal
from crosslane.domain.arb_steps import ArbOutcome, ArbResult, ArbRiskLimits
from crosslane.registry import load_registry
from devnet.cex import admin_client as admin
from devnet.registry_export import registry_path
from tests.e2e.test_arbitrage import ArbStack, arb_sandbox, cex_balances, worker
from tests.support.stack import unique_queue
from workers.scanner.service import ScannerConfig, ScannerService

pytestmark = pytest.mark.timeout(300)

SYMBOL = "ETH/USDC"
GAP_BPS = 150
MAX_LOSS = Decimal(20)


@pytest.fixture(scope="module")
async def capture_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ArbStack]:
    async with arb_sandbox(tmp_path_factory.mktemp("arb-capture"), SYMBOL) as stacked:
        for name, venue in stacked.stack.sandbox.devnet.cex.items():  # the accounts start with no USDC
            creds = load_credentials(name, secrets_file=Path(venue.credentials_file), environ={})
            assert creds is not None
            await admin.credit(venue.rest_url, "USDC", "20000", api_key=creds.api_key)
        await (await stacked.fastpath.client()).close()  # its books are in
        yield stacked


async def started_runs(service: ScannerService, wait_s: float, seen: dict[str, list[str]]) -> list[str]:
    """The runs the scanner started within ``wait_s`` (one per pair the gap opened: until 3 s
    after the first), the scanner stopped then so that no run starts after; ``seen``: each
    CEX pair's last decision and reasons."""

    async def watch() -> None:
        async for scanned in opportunities(service.stream.address):
            if scanned.opportunity.kind is ArbKind.CEX_CEX:
                seen[scanned.pair] = [scanned.opportunity.decision, *scanned.opportunity.reasons]

    watching = asyncio.create_task(watch())
    assert service.scanner is not None and service.scanner.auto is not None
    auto, waited = service.scanner.auto, 0.0
    first: float | None = None
    while waited < wait_s and (first is None or waited - first < 3):  # the other pairs 3 s more to start
        await asyncio.sleep(0.2)
        waited += 0.2
        if first is None and auto.started:
            first = waited
    watching.cancel()
    await service.stop()
    return [run_id for _, run_id in auto.started]


@pytest.mark.parametrize("close_after_ms", [30_000, 2_500], ids=["open-30s", "closes-in-2.5s"])
async def test_a_self_closing_gap_is_captured_or_cleanly_aborted_never_half_done(
    capture_stack: ArbStack, close_after_ms: int
) -> None:
    stack, services = capture_stack.stack, capture_stack.stack.sandbox
    dear = services.devnet.cex["binance"]
    queue = unique_queue("arb-capture")
    client = await connect_temporal(stack.settings(queue))
    runtime = ChainRuntime(ledger=stack.ledger(), chains=stack.chains, signers=SignerRegistry([]))
    registry = load_registry(registry_path(services.devnet_state_path))
    config = ScannerConfig(
        markets=["WETH/USDC"],
        stream="127.0.0.1:0",
        interval_s=0.2,
        block_poll_s=0.5,
        min_profit=Decimal(5),
        max_exposure=Decimal(1_500),  # about half an ETH per run
        auto_execute=True,
        cooldown_s=3_600,  # one run for this gap
        max_loss=MAX_LOSS,
        fastpath_socket=capture_stack.fastpath.config.socket_path,
        transfer_mode=False,
    )
    service = ScannerService(registry, config, TemporalRunStarter(client, queue))
    socket = capture_stack.fastpath.config.socket_path
    try:
        # runs may overlap: the gap opens two pairs (okx and kraken against binance) selling into the
        # same bids, and the scanner starts no second run into depth a run in flight is taking
        async with worker(client, runtime, queue, socket, ArbRiskLimits()):
            await service.start()
            await asyncio.sleep(2)  # the scanner's books and balances are in
            before = await cex_balances(services, ("ETH", "USDC"))
            opened = await admin.inject_gap(dear.rest_url, SYMBOL, GAP_BPS, close_after_ms=close_after_ms)
            assert opened["closes_at_ms"] is not None
            seen: dict[str, list[str]] = {}
            run_ids = await started_runs(service, close_after_ms / 1000 + 5, seen)
            results = [await client.get_workflow_handle(run_id, result_type=ArbResult).result() for run_id in run_ids]
            after = await cex_balances(services, ("ETH", "USDC"))
    finally:
        await service.stop()
        await admin.inject_gap(dear.rest_url, SYMBOL, 0)
        await runtime.close()
    measured = {key: after[key] - before[key] for key in after if after[key] != before[key]}

    print(close_after_ms, "ms:", [(str(r.outcome), str(r.realised_profit), r.reason) for r in results])
    print([[leg.detail for leg in r.legs] for r in results])
    for pair, reasons in seen.items():
        print(pair, reasons)
    if not results:  # closed before any run started: nothing was sent
        assert close_after_ms < 30_000 and measured == {}, seen
        return
    reported: dict[tuple[str, str], Decimal] = {}
    for result in results:
        for change in result.changes:
            key = (change.place, change.currency)
            reported[key] = reported.get(key, Decimal(0)) + change.amount
        assert result.outcome in (ArbOutcome.COMPLETED, ArbOutcome.ABORTED, ArbOutcome.COMPENSATED)
        if result.outcome is ArbOutcome.ABORTED:  # nothing sent, nothing moved
            assert result.changes == [] and result.realised_profit == 0, result.reason
        if result.outcome is ArbOutcome.COMPENSATED:  # unwound within the bound
            assert result.realised_profit >= -MAX_LOSS, result.reason
    # every run's changes together are exactly what moved on the venues, so is the P&L
    assert {k: v for k, v in reported.items() if v} == measured
    for result in results:  # each run's P&L: its quote moved plus its asset left, at its price (no gas off chain)
        quote_moved = sum((c.amount for c in result.changes if c.currency == "USDC"), Decimal(0))
        asset_net = sum((c.amount for c in result.changes if c.currency == "ETH"), Decimal(0))
        assert result.realised_profit == quote_moved + asset_net * result.asset_price, result.reason
    if close_after_ms >= 30_000:  # a gap open this long is captured: its IOC legs fill while it is open
        assert any(r.legs for r in results), [r.reason for r in results]
        assert all(r.outcome is ArbOutcome.COMPLETED for r in results if r.legs), [r.reason for r in results]
