"""Uniswap V3 quotes: the off-chain engine vs QuoterV2 over RPC, the same quotes in the same run.

    .venv/bin/python -m bench.dex_quotes [--count 500] [--rounds 3] [--seed 7]

``count`` quotes over the devnet's four seeded V3 pools (both directions, exact in and
exact out, sizes log-uniform over two decades up to the largest that crosses six
initialized ticks). Paths, all against the same chain state:

- engine: one batched state read of the four pools (timed as part of the run), then every
  quote computed off-chain with the pools' integer math;
- engine, fresh state each quote: a warm state read (two eth_calls) before every quote;
- QuoterV2, one at a time: ``quoteExactInputSingle``/``quoteExactOutputSingle`` by eth_call;
- QuoterV2, 16 in flight: the same calls, concurrently.

Every engine result is checked equal to QuoterV2's, to the wei. Latency is per quote; the
ratio is engine / QuoterV2 (one at a time) in quotes per second.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Run
from connectors.dex.base import Pool, PoolQuote
from connectors.dex.uniswap_v3 import PoolSnapshot, UniswapV3, UniswapV3Config
from connectors.evm.client import EvmClient
from devnet.anvil import find_free_port
from devnet.manager import devnet_down, devnet_up

CHAIN = "devnet-a"
IN_FLIGHT = 16


@dataclass(frozen=True)
class QuoteRequest:
    pool: Pool
    token: str  # exact in: the token sold; exact out: the token bought
    amount: int
    exact_in: bool


def requests(pools: list[Pool], snapshots: list[PoolSnapshot], count: int, seed: int) -> list[QuoteRequest]:
    """Sizes log-uniform over two decades below the largest that crosses at most six
    initialized ticks, per pool, direction and kind: from small trades to ones that walk
    several ranges."""
    rng = random.Random(seed)
    ceilings: dict[tuple[str, str, bool], int] = {}
    out: list[QuoteRequest] = []
    while len(out) < count:
        i = rng.randrange(len(pools))
        pool, snapshot = pools[i], snapshots[i]
        token = rng.choice([pool.token0, pool.token1])
        exact_in = rng.random() < 0.5
        key = (pool.address, token, exact_in)
        if key not in ceilings:
            ceilings[key] = _ceiling(snapshot, token, exact_in)
        top = ceilings[key]
        amount = max(1, int(math.exp(rng.uniform(math.log(max(1, top // 100)), math.log(top)))))
        out.append(QuoteRequest(pool, token, amount, exact_in))
    return out


def _ceiling(snapshot: PoolSnapshot, token: str, exact_in: bool) -> int:
    """The largest size (to 10%) that crosses at most six initialized ticks."""
    size = 10**30
    while size > 1:
        try:
            q = snapshot.quote_exact_in(token, size) if exact_in else snapshot.quote_exact_out(token, size)
            if (q.initialized_ticks_crossed or 0) <= 6:
                return size
        except Exception:  # noqa: BLE001 - too big for the pool or past the snapshot's words: shrink
            pass
        size = size * 9 // 10
    return 1


def engine_quote(snapshot: PoolSnapshot, r: QuoteRequest) -> PoolQuote:
    return snapshot.quote_exact_in(r.token, r.amount) if r.exact_in else snapshot.quote_exact_out(r.token, r.amount)


async def onchain_quote(v3: UniswapV3, r: QuoteRequest) -> PoolQuote:
    if r.exact_in:
        return await v3.onchain_quote_exact_in(r.pool, r.token, r.amount)
    return await v3.onchain_quote_exact_out(r.pool, r.token, r.amount)


def _answer(q: PoolQuote, exact_in: bool) -> int:
    return q.amount_out if exact_in else q.amount_in


async def run_engine(v3: UniswapV3, pools: list[Pool], reqs: list[QuoteRequest]) -> tuple[Run, list[int]]:
    started = time.perf_counter()
    snapshots = {s.pool.address: s for s in await v3.pool_states(pools)}
    latencies, answers = [], []
    for r in reqs:
        t0 = time.perf_counter()
        answers.append(_answer(engine_quote(snapshots[r.pool.address], r), r.exact_in))
        latencies.append(time.perf_counter() - t0)
    return Run("engine (1 batched read + math)", len(reqs), time.perf_counter() - started, latencies), answers


async def run_engine_fresh(v3: UniswapV3, reqs: list[QuoteRequest]) -> tuple[Run, list[int]]:
    started = time.perf_counter()
    latencies, answers = [], []
    for r in reqs:
        t0 = time.perf_counter()
        (snapshot,) = await v3.pool_states([r.pool])
        answers.append(_answer(engine_quote(snapshot, r), r.exact_in))
        latencies.append(time.perf_counter() - t0)
    return Run("engine, fresh state read each", len(reqs), time.perf_counter() - started, latencies), answers


async def run_quoter(v3: UniswapV3, reqs: list[QuoteRequest]) -> tuple[Run, list[int]]:
    started = time.perf_counter()
    latencies, answers = [], []
    for r in reqs:
        t0 = time.perf_counter()
        answers.append(_answer(await onchain_quote(v3, r), r.exact_in))
        latencies.append(time.perf_counter() - t0)
    return Run("QuoterV2 eth_call, one at a time", len(reqs), time.perf_counter() - started, latencies), answers


async def run_quoter_concurrent(v3: UniswapV3, reqs: list[QuoteRequest]) -> tuple[Run, list[int]]:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(r: QuoteRequest) -> tuple[float, int]:
        async with gate:
            t0 = time.perf_counter()
            answer = _answer(await onchain_quote(v3, r), r.exact_in)
            return time.perf_counter() - t0, answer

    started = time.perf_counter()
    done = await asyncio.gather(*(one(r) for r in reqs))
    wall = time.perf_counter() - started
    return Run(f"QuoterV2 eth_call, {IN_FLIGHT} in flight", len(reqs), wall, [d[0] for d in done]), [d[1] for d in done]


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


async def main(count: int, rounds: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "devnet.json"
        state = await devnet_up(path, {"devnet-a": find_free_port(), "devnet-b": find_free_port()}, detached=False)
        client = EvmClient(state.chains[CHAIN])
        try:
            chain = state.chains[CHAIN]
            v3 = UniswapV3(client, UniswapV3Config.from_deployment("uniswap_v3", chain.dexes["uniswap_v3"]))
            pools = [v3.pool_for(p.token0, p.token1, p.fee) for p in chain.dexes["uniswap_v3"].pools]
            reqs = requests(pools, await v3.pool_states(pools), count, seed)
            results: list[list[Run]] = []
            for r in range(rounds):
                engine, e_answers = await run_engine(v3, pools, reqs)
                fresh, f_answers = await run_engine_fresh(v3, reqs)
                quoter, q_answers = await run_quoter(v3, reqs)
                concurrent, c_answers = await run_quoter_concurrent(v3, reqs)
                mismatches = sum(a != b for a, b in zip(e_answers, q_answers, strict=True))
                assert e_answers == f_answers == q_answers == c_answers, f"{mismatches} quotes differ"
                results.append([engine, fresh, quoter, concurrent])
                print(f"round {r + 1}/{rounds}: {count} quotes, all equal to QuoterV2 to the wei")
                for run in (engine, fresh, quoter, concurrent):
                    print("  " + run.row())
            snapshots = {s.pool.address: s for s in await v3.pool_states(pools)}
            crossed = [engine_quote(snapshots[q.pool.address], q).initialized_ticks_crossed or 0 for q in reqs]
        finally:
            await client.close()
            devnet_down(path)
    names = [run.name for run in results[0]]
    print(
        f"median of {rounds} rounds, {count} quotes each ({sum(c >= 1 for c in crossed)} cross an initialized "
        f"tick, {sum(c >= 3 for c in crossed)} cross three or more):"
    )
    for i, name in enumerate(names):
        rate = median([rs[i].per_second for rs in results])
        p50 = median([rs[i].p50_ms for rs in results])
        p99 = median([rs[i].p99_ms for rs in results])
        print(f"  {name:<34} {rate:>10.1f} quotes/s  p50 {p50:8.3f} ms  p99 {p99:8.3f} ms")
    engine_rate = median([rs[0].per_second for rs in results])
    quoter_rate = median([rs[2].per_second for rs in results])
    concurrent_rate = median([rs[3].per_second for rs in results])
    print(
        f"  ratio engine / QuoterV2: {engine_rate / quoter_rate:.1f}x one at a time, "
        f"{engine_rate / concurrent_rate:.1f}x vs {IN_FLIGHT} in flight; p50 latency "
        f"{median([rs[2].p50_ms for rs in results]) / median([rs[0].p50_ms for rs in results]):.0f}x lower"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds, args.seed))
