"""Share of a worker's CPU samples per component, from ``py-spy record --format raw``.

    py-spy record -p <worker pid> -r 50 -d 30 --format raw -o spy.txt
    .venv/bin/python -m bench.spy_breakdown spy.txt

A sample counts for the first component (in the order below) any frame of its stack belongs to.
Samples of the ``asyncio.to_thread`` pool's threads with no frame below the pool's own (waiting
for work, or for the GIL on a busy machine: py-spy counts those as active) are shown apart and
left out of the shares of the busy samples.
"""

from __future__ import annotations

import sys
from collections import Counter

COMPONENTS = (
    ("ledger (SQLAlchemy + SQLite/psycopg)", ("crosslane/ledger/", "sqlalchemy/", "sqlite3", "psycopg/")),
    ("RPC (web3 + aiohttp)", ("web3/", "aiohttp/", "connectors/evm/")),
    ("workflow activations (sandbox)", ("temporalio/worker/_workflow", "temporalio/worker/workflow_sandbox")),
    ("activity plumbing (Temporal SDK)", ("temporalio/",)),
    ("event loop, thread-pool hand-offs", ("asyncio/", "concurrent/futures", "threading.py")),
)


POOL_WAIT = ("_worker (concurrent/futures/thread.py", "_WorkItem.run (concurrent/futures/thread.py")
WAITING = "thread-pool threads waiting (work or GIL)"


def breakdown(path: str) -> tuple[int, Counter[str]]:
    shares: Counter[str] = Counter()
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            if stack.split(";")[-1].startswith(POOL_WAIT):
                shares[WAITING] += n
                continue
            name = next((name for name, marks in COMPONENTS if any(m in stack for m in marks)), "other")
            shares[name] += n
    return total, shares


if __name__ == "__main__":
    total, shares = breakdown(sys.argv[1])
    waiting = shares.pop(WAITING, 0)
    busy = total - waiting
    print(f"{total} samples; {waiting} ({100 * waiting / total:.0f} %) {WAITING}; shares of the {busy} others:")
    for name, n in shares.most_common():
        print(f"  {name:40s} {100 * n / busy:5.1f} %")
