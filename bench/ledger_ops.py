"""The ledger's cost per transaction lifecycle and per bridge transfer, base vs this tree.

    .venv/bin/python -m bench.ledger_ops [--count 300] [--rounds 3] [--db both|sqlite|postgresql]
                                         [--base main] [--profile]

Replays, in one thread, the ledger calls the activities make for one ``TransactionLifecycle``
(prepare: look for attempt 0, record the operation, allocate its nonce, store the signed
attempt; broadcast: read the attempt, mark it broadcast; wait: record the receipt sighting,
mark it mined) and for the ledger part of one ``BridgeTransfer`` (plan, deposit ref, verify:
the operation and its ``bridge_transfers`` row). Baseline in the same run: the same work done
by ``--base``'s ledger (``git archive`` of its ``crosslane/`` into a temp dir) with the calls
its activities made. Each side runs in its own process on a fresh database, the two
alternating round by round. Prints per-item wall time (p50, p99), items/s, and the CPU time
of the calling process per item (on PostgreSQL the server's own CPU is not in it), then the
ratios. ``--profile`` prints the top of a cProfile of one run of each side instead.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SIGNER = "0x" + "11" * 20
TO = "0x" + "22" * 20
CHAIN_ID = 31337


def _raw_and_hash() -> tuple[str, str]:
    from eth_utils import keccak

    raw = "0x02" + secrets.token_hex(110)
    return raw, "0x" + keccak(hexstr=raw).hex()


# -- the two call sequences ---------------------------------------------------------------


def lifecycle_base(ledger: Any, wf: str) -> None:
    """What activities/tx.py made the ledger do before this change (happy path)."""
    raw, tx_hash = _raw_and_hash()
    # tx_prepare
    known = ledger.get_operation(wf, "tx")
    assert known is None
    op = ledger.begin_operation(wf, "tx", "tx", chain_id=CHAIN_ID, signer=SIGNER, detail={"request": {"to": TO}})
    nonce = ledger.allocate_nonce(op.id, CHAIN_ID, SIGNER, 0)
    ledger.record_attempt(
        op.id, 0, kind="original", chain_id=CHAIN_ID, signer=SIGNER, nonce=nonce, tx_hash=tx_hash, raw_tx=raw,
        to_address=TO, value=1, gas_limit=21_000, max_fee_per_gas=10**10, max_priority_fee_per_gas=10**8,
    )
    # tx_broadcast
    op = ledger.get_operation(wf, "tx")
    record = ledger.get_attempt(op.id, 0)
    ledger.mark_attempt(record.tx_hash, "broadcast", broadcast=True)
    # tx_wait: the sighting, then the settle
    op = ledger.get_operation(wf, "tx")
    sighting = {"tx_hash": tx_hash, "block_number": 7, "block_hash": "0x" + "ab" * 32}
    ledger.update_operation(op.id, detail={"receipt_sightings": [sighting]})
    ledger.mark_attempt(tx_hash, "mined", block_number=7, block_hash="0x" + "ab" * 32, gas_used=21_000,
                        effective_gas_price=10**9)


def lifecycle_head(ledger: Any, wf: str) -> None:
    """What activities/tx.py makes the ledger do now (happy path)."""
    raw, tx_hash = _raw_and_hash()
    # tx_prepare
    assert ledger.get_attempt_of(wf, "tx", 0) is None
    op = ledger.begin_operation(
        wf, "tx", "tx", chain_id=CHAIN_ID, signer=SIGNER, detail={"request": {"to": TO}}, allocate_nonce_from=0
    )
    ledger.record_attempt(
        op.id, 0, kind="original", chain_id=CHAIN_ID, signer=SIGNER, nonce=op.nonce, tx_hash=tx_hash, raw_tx=raw,
        to_address=TO, value=1, gas_limit=21_000, max_fee_per_gas=10**10, max_priority_fee_per_gas=10**8,
    )
    # tx_broadcast
    record = ledger.get_attempt_of(wf, "tx", 0)
    ledger.mark_attempt(record.tx_hash, "broadcast", broadcast=True)
    # tx_wait: sighting and settle in one transaction
    sighting = {"tx_hash": tx_hash, "block_number": 7, "block_hash": "0x" + "ab" * 32}
    with ledger.atomic():
        ledger.append_operation_detail(wf, "tx", "receipt_sightings", sighting)
        ledger.mark_attempt(tx_hash, "mined", block_number=7, block_hash="0x" + "ab" * 32, gas_used=21_000,
                            effective_gas_price=10**9)


def _bridge_ident(wf: str) -> dict[str, Any]:
    return dict(request_id=wf, route="across", source_chain="devnet-a", destination_chain="devnet-b",
                asset="USDC", amount=50_000_000, signer=SIGNER, recipient=TO)


def bridge_base(ledger: Any, wf: str) -> None:
    """The ledger part of one BridgeTransfer as activities/bridge.py made it before."""
    ident = _bridge_ident(wf)
    # bridge_plan
    assert ledger.get_operation(wf, "bridge") is None
    ledger.begin_operation(wf, "bridge", "bridge_transfer", chain_id=CHAIN_ID, signer=SIGNER,
                           detail={"request": {"to": TO}, "plan": {"route": "across"}})
    ledger.upsert_bridge_transfer(wf, create_only=True, state="planned", detail="cheapest", **ident)
    # bridge_deposit_ref (reads the request back from the operation)
    ledger.get_operation(wf, "bridge")
    ledger.upsert_bridge_transfer(wf, state="pending_source_confirmations", deposit_tx="0x" + "cd" * 32,
                                  deposit_id="d-1", detail="deposit mined", **ident)
    # bridge_verify
    op = ledger.get_operation(wf, "bridge")
    ledger.update_operation(op.id, status="succeeded", detail={**op.detail, "result": {"received": 1}})
    ledger.upsert_bridge_transfer(wf, state="completed", deposit_tx="0x" + "cd" * 32, deposit_id="d-1",
                                  completion_tx="0x" + "ef" * 32, received=49_000_000, detail="delivered", **ident)


def bridge_head(ledger: Any, wf: str) -> None:
    """The same now: each step's records in one ledger transaction."""
    ident = _bridge_ident(wf)
    assert ledger.get_operation(wf, "bridge") is None
    with ledger.atomic():
        ledger.begin_operation(wf, "bridge", "bridge_transfer", chain_id=CHAIN_ID, signer=SIGNER,
                               detail={"request": {"to": TO}, "plan": {"route": "across"}})
        ledger.upsert_bridge_transfer(wf, create_only=True, state="planned", detail="cheapest", **ident)
    with ledger.atomic():
        ledger.get_operation(wf, "bridge")
        ledger.upsert_bridge_transfer(wf, state="pending_source_confirmations", deposit_tx="0x" + "cd" * 32,
                                      deposit_id="d-1", detail="deposit mined", **ident)
    with ledger.atomic():
        op = ledger.get_operation(wf, "bridge")
        ledger.update_operation(op.id, status="succeeded", detail={**op.detail, "result": {"received": 1}})
        ledger.upsert_bridge_transfer(wf, state="completed", deposit_tx="0x" + "cd" * 32, deposit_id="d-1",
                                      completion_tx="0x" + "ef" * 32, received=49_000_000, detail="delivered",
                                      **ident)


# -- one side, in its own process ---------------------------------------------------------


def _timed(fn: Callable[[Any, str], None], ledger: Any, count: int, prefix: str) -> dict[str, Any]:
    walls: list[float] = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(count):
        started = time.perf_counter()
        fn(ledger, f"{prefix}-{i}")
        walls.append(time.perf_counter() - started)
    return {"walls": walls, "wall": time.perf_counter() - t0, "cpu": time.process_time() - cpu0}


def child(tree: str, side: str, url: str, count: int, profile: bool) -> None:
    sys.path.insert(0, tree)  # before the editable install's finder: the base's crosslane
    from crosslane.ledger import Ledger

    ledger = Ledger(url)
    ledger.migrate()
    lifecycle = lifecycle_head if side == "head" else lifecycle_base
    bridge = bridge_head if side == "head" else bridge_base
    for n in range(10):  # warm-up: pools, compiled statement caches
        lifecycle(ledger, f"warm-{n}")
        bridge(ledger, f"warm-{n}")
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        _timed(lifecycle, ledger, count, "lc")
        _timed(bridge, ledger, count, "br")
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        return
    out = {"lifecycle": _timed(lifecycle, ledger, count, "lc"), "bridge": _timed(bridge, ledger, count, "br")}
    ledger.close()
    print(json.dumps(out))


# -- the parent ---------------------------------------------------------------------------


@contextmanager
def base_tree(ref: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="ledger-base-") as tmp:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "crosslane"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        yield tmp


@contextmanager
def databases(which: str) -> Iterator[dict[str, Callable[[], str]]]:
    """Name -> a function giving the URL of a fresh, empty database."""
    tmp = tempfile.mkdtemp(prefix="ledger-ops-")
    made: dict[str, Callable[[], str]] = {}
    if which in ("both", "sqlite"):
        made["sqlite"] = lambda: f"sqlite:///{tmp}/{secrets.token_hex(4)}.db"
    if which in ("both", "postgresql"):
        sys.path.insert(0, str(REPO))
        import psycopg
        from sqlalchemy import make_url

        from tests.support.postgres import suite_postgres

        with suite_postgres() as server:
            admin = make_url(server.url)

            def fresh_pg() -> str:
                name = f"ledger_ops_{secrets.token_hex(4)}"
                with psycopg.connect(host=admin.host, port=admin.port, user=admin.username or "postgres",
                                     dbname=admin.database or "postgres", autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {name}")
                return admin.set(database=name).render_as_string(hide_password=False)

            made["postgresql"] = fresh_pg
            yield made
        return
    yield made


def run_side(tree: str, side: str, url: str, count: int, profile: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", side, "--tree", tree, "--url", url,
           "--count", str(count)] + (["--profile"] if profile else [])
    env = {**os.environ, "PYTHONPATH": ""}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree)
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{done.stderr[-3000:]}")
    if profile:
        print(done.stdout)
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main(count: int, rounds: int, which: str, ref: str, profile: bool) -> None:
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with base_tree(ref) as base, databases(which) as dbs:
        trees = {"base": base, "head": str(REPO)}
        for db, fresh in dbs.items():
            if profile:
                for side, tree in trees.items():
                    print(f"== {db} {side} ==")
                    run_side(tree, side, fresh(), count, True)
                continue
            results: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
            for r in range(rounds):
                for side, tree in (trees.items() if r % 2 == 0 else reversed(trees.items())):
                    results[side].append(run_side(tree, side, fresh(), count, False))
            for item in ("lifecycle", "bridge"):
                rows: dict[str, tuple[float, float, float, float]] = {}
                for side in ("base", "head"):
                    runs = [res[item] for res in results[side]]
                    per_s = median([count / run["wall"] for run in runs])
                    p50 = median([pct(run["walls"], 0.5) for run in runs]) * 1000
                    p99 = median([pct(run["walls"], 0.99) for run in runs]) * 1000
                    cpu = median([run["cpu"] / count for run in runs]) * 1000
                    rows[side] = (per_s, p50, p99, cpu)
                    print(f"{db:10s} {item:9s} {side} ({ref if side == 'base' else 'this tree'}): "
                          f"{per_s:7.1f}/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  CPU {cpu:5.2f} ms per {item}")
                b, h = rows["base"], rows["head"]
                print(f"{db:10s} {item:9s} ratio head/base: throughput {h[0] / b[0]:.2f}x, p50 {h[1] / b[1]:.2f}x, "
                      f"p99 {h[2] / b[2]:.2f}x, CPU {h[3] / b[3]:.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--base", default="main")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", choices=["base", "head"])
    parser.add_argument("--tree")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        child(args.tree, args.child, args.url, args.count, args.profile)
    else:
        main(args.count, args.rounds, args.db, args.base, args.profile)
