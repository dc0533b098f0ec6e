"""What a quant writes on day one: follow the scanner's opportunities, keep the ones worth
it, start a run for each (once per pair per cooldown), say what was done.

    crosslane dev up                      # the stack, the simulators, the scanner
    python examples/arb_quant.py --min-profit 25 --dry-run
    python examples/arb_quant.py --min-profit 25            # starts Arbitrage runs

Runs are started through the SDK (``CrosslaneClient.start_arbitrage`` behind
``TemporalRunStarter``); a leg on a DEX needs ``--signer`` (the address holding that
inventory, one the worker signs for) and its fee cap.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from decimal import Decimal
from typing import Any

from crosslane.arbitrage_runs import RunStarter, RunTerms, TemporalRunStarter, arbitrage_input
from crosslane.arbitrage_stream import DEFAULT_STREAM, ScannedOpportunity, opportunities
from crosslane.client import connect_temporal
from crosslane.config import settings
from crosslane.domain.tx import FeePolicy
from crosslane.money import from_base_units, to_base_units


class DryRun:
    """A starter that only says what it would start."""

    async def start(self, request: dict[str, Any]) -> str:
        return f"(dry run) {request['request_id']}"


def describe(seen: ScannedOpportunity) -> str:
    opp = seen.opportunity
    net = from_base_units(opp.net_profit, opp.quote_decimals)
    size = from_base_units(opp.size, opp.asset_decimals)
    return f"{seen.pair}: {size.normalize()} {opp.asset} for {net:.2f} {opp.quote_asset} net"


async def trade(stream: str, terms: RunTerms, cooldown_s: float, starter: RunStarter, limit: int | None) -> None:
    min_profit = terms.min_profit
    last_start: dict[str, float] = {}
    started = 0
    async for seen in opportunities(stream):
        opp = seen.opportunity
        if not seen.taken or opp.net_profit < to_base_units(min_profit, opp.quote_decimals):
            continue
        if seen.run_id is not None:
            print(f"the scanner already started {seen.run_id} for {describe(seen)}")
            continue
        if time.monotonic() - last_start.get(seen.pair, float("-inf")) < cooldown_s:
            continue  # the same gap, seen again: one run is enough
        last_start[seen.pair] = time.monotonic()
        try:
            request = arbitrage_input(seen, terms)
        except ValueError as exc:  # e.g. a DEX leg and no --signer: say why, keep watching
            print(f"skipped {seen.pair}: {exc}")
            continue
        run_id = await starter.start(request)
        started += 1
        print(f"started {run_id}: {describe(seen)}")
        for item in opp.items:
            print(f"    {item.name:<24} {from_base_units(item.amount, opp.quote_decimals):>14.6f}")
        if limit is not None and started >= limit:
            return


async def main() -> None:
    parser = argparse.ArgumentParser(description="Start Arbitrage runs for the scanner's best opportunities.")
    parser.add_argument("--stream", default=DEFAULT_STREAM, help="the scanner's host:port")
    parser.add_argument("--min-profit", type=Decimal, default=Decimal(10), help="net profit, quote units")
    parser.add_argument("--cooldown", type=float, default=30.0, help="seconds before the same pair again")
    parser.add_argument("--limit", type=int, default=None, help="stop after this many runs")
    parser.add_argument("--signer", default=None, help="address holding the DEX legs' inventory")
    parser.add_argument("--max-fee-gwei", type=Decimal, default=Decimal(100), help="DEX legs' fee cap per gas")
    parser.add_argument("--max-loss", type=Decimal, default=Decimal(0), help="loss an unwind may take, quote units")
    parser.add_argument("--dry-run", action="store_true", help="print, start nothing")
    args = parser.parse_args()
    terms = RunTerms(
        min_profit=args.min_profit,
        max_loss=args.max_loss,
        signer=args.signer,
        fees=FeePolicy(max_fee_per_gas_cap=to_base_units(args.max_fee_gwei, 9)) if args.signer else None,
    )
    if args.dry_run:
        starter: RunStarter = DryRun()
    else:
        cfg = settings()
        starter = TemporalRunStarter(await connect_temporal(cfg), cfg.task_queue)
    await trade(args.stream, terms, args.cooldown, starter, args.limit)


if __name__ == "__main__":
    asyncio.run(main())
