"""What the OP Stack rollup adds to `crosslane dev up`'s devnet start-up.

    .venv/bin/python -m bench.dev_up_rollup [--rounds 3]

Each round starts the devnet `crosslane dev up` starts (anvils, contracts, the exchange
simulators, Wormhole guardians, the Across services, Solana) on free ports, first without
``devnet-op`` (the baseline), then with it (a third anvil, the rollup's contracts, the rollup
service), and stops it again. Seconds from the call to a devnet that answers; the ratio is
with / without at p50.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.stats import percentile
from devnet.anvil import find_free_port
from devnet.cli.stack import OP_FINALIZATION_SECONDS
from devnet.manager import devnet_down, devnet_up


async def start_once(home: Path, op_stack: bool) -> float:
    chains = ("devnet-a", "devnet-b", "devnet-op")
    started = time.perf_counter()
    await devnet_up(
        home / "devnet.json",
        ports={c: find_free_port() for c in chains if op_stack or c != "devnet-op"},
        cex=True,
        cex_ports={v: find_free_port() for v in ("binance", "okx", "kraken")},
        wormhole=True,
        across=True,
        solana=True,
        solana_port=find_free_port(),
        op_stack=op_stack,
        op_finalization_seconds=OP_FINALIZATION_SECONDS,
    )
    elapsed = time.perf_counter() - started
    devnet_down(home / "devnet.json")
    return elapsed


async def main(rounds: int) -> None:
    samples: dict[bool, list[float]] = {False: [], True: []}
    for i in range(rounds):
        for op_stack in (False, True):
            with tempfile.TemporaryDirectory(prefix="bench-devup-") as tmp:
                samples[op_stack].append(await start_once(Path(tmp), op_stack))
            print(f"round {i + 1}: {'with' if op_stack else 'without'} devnet-op {samples[op_stack][-1]:.1f} s")
    for op_stack, label in ((False, "without devnet-op (baseline)"), (True, "with devnet-op")):
        s = samples[op_stack]
        print(f"{label:<30} p50 {percentile(s, 50):5.1f} s  p99 {percentile(s, 99):5.1f} s")
    with_op, without = percentile(samples[True], 50), percentile(samples[False], 50)
    print(f"added by the rollup: {with_op - without:+.1f} s at p50; ratio {with_op / without:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
