"""`crosslane dev up|status|down`: the embedded stack a user keeps running, on free ports."""

from __future__ import annotations

import json
import os
from pathlib import Path

from temporalio.client import Client

from crosslane.embedded.processes import pid_alive, stop_pid
from crosslane.telemetry.names import NONCE_ALLOCATIONS
from devnet.anvil import dev_account, find_free_port, rpc_call
from devnet.solana.accounts import dev_signer_addresses as solana_dev_signer_addresses
from tests.e2e.test_entry_points import BIN, run
from tests.support.metrics import scrape, span_names, total
from tests.support.stack import unique_queue
from workflows.registry import WORKFLOWS


def status_rows(table: str) -> dict[str, tuple[str, str]]:
    """``dev status``'s table (wide enough not to wrap) as component -> (state, why)."""
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 4 and cells[0] and cells[0] != "component":
            rows[cells[0]] = (cells[1], cells[3])
    return rows


async def test_dev_up_status_send_down(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLANE_")}
    env.update(
        CROSSLANE_HOME=str(tmp_path / "home"),
        CROSSLANE_TEMPORAL_ADDRESS=f"127.0.0.1:{find_free_port()}",
        CROSSLANE_TEMPORAL_UI_PORT=str(find_free_port()),
        CROSSLANE_DEVNET_PORTS=",".join(f"{c}={find_free_port()}" for c in ("devnet-a", "devnet-b", "devnet-op")),
        CROSSLANE_CEX_PORTS=f"binance={find_free_port()},okx={find_free_port()},kraken={find_free_port()}",
        CROSSLANE_SOLANA_PORT=str(find_free_port()),
        CROSSLANE_ARB_STREAM=f"127.0.0.1:{find_free_port()}",
        CROSSLANE_METRICS_PORTS=",".join(f"{s}={find_free_port()}" for s in ("worker", "fastpath", "scanner")),
        CROSSLANE_TASK_QUEUE=unique_queue("dev"),
        COLUMNS="300",
    )
    crosslane = str(BIN / "crosslane")
    try:
        up = await run([crosslane, "dev", "up"], env=env)
        assert up.returncode == 0, up.stderr
        assert "up" in up.stdout and "devnet-a" in up.stdout
        stack = json.loads((tmp_path / "home" / "stack.json").read_text())
        assert stack["scanner_pid"] and stack["extra_pids"]["noise-trader"], stack
        status = await run([crosslane, "dev", "status"], env=env)
        assert status.returncode == 0, status.stdout
        assert f"home: {tmp_path / 'home'} (CROSSLANE_HOME)" in status.stdout
        rows = status_rows(status.stdout)
        devnet = json.loads((tmp_path / "home" / "devnet.json").read_text())
        expected = {
            "temporal": "answers its health check",
            "worker": "1 poller(s) on the task queue",
            "fastpath": "answers health (3 venue(s))",
            "cex-binance": "answers its cex endpoint",
            "cex-okx": "answers its cex endpoint",
            "cex-kraken": "answers its cex endpoint",
            "wormhole-guardians": "answers its wormhole_guardian endpoint",
            "across-relayer": "answers /state",
            "across-dataworker": "answers /state",
            "solana": "answers its solana endpoint",
            "op-rollup": "rollup of devnet-a: L1 scanned to block ",
            "scanner": "publishing opportunities",
            "worker-metrics": "answers /metrics",
            "fastpath-metrics": "answers /metrics",
            "scanner-metrics": "answers /metrics",
            "traces": "span",  # "no span yet" or "N span(s) written"
        }
        for name, chain in devnet["chains"].items():
            expected[f"anvil-{name}"] = f"answers eth_chainId {chain['chain_id']}, block "
            # what dev status claims, checked independently: the anvil is that chain
            port = devnet["processes"][f"anvil-{name}"]["port"]
            assert int(str(rpc_call(f"http://127.0.0.1:{port}", "eth_chainId")), 16) == chain["chain_id"]
        assert set(expected) <= set(rows), rows
        for name, (state, why) in rows.items():
            assert state == "up", f"{name}: {state} ({why})"
            assert expected.get(name, "answers") in why, f"{name}: {why}"
        # The fast path serves the CLI: consolidated book, a quote across venues, venue health.
        book = await run([crosslane, "cex", "book", "BTC/USDT", "--depth", "3"], env=env)
        assert book.returncode == 0, book.stderr
        assert "BTC/USDT consolidated" in book.stdout and "binance" in book.stdout and "okx" in book.stdout
        quote = await run([crosslane, "cex", "route", "buy", "0.5", "BTC/USDT"], env=env)
        assert quote.returncode == 0 and "filled 0.5 of 0.5" in quote.stdout, quote.stdout + quote.stderr
        health = await run([crosslane, "venues", "health"], env=env)
        assert health.returncode == 0 and "healthy" in health.stdout, health.stdout + health.stderr
        narrow = await run([crosslane, "venues", "health"], env={**env, "COLUMNS": "80"})
        assert narrow.returncode == 0, narrow.stderr
        assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
        venues = [line.split("│")[1].strip() for line in narrow.stdout.splitlines() if line.startswith("│")]
        assert {"binance", "okx", "kraken"} <= set(venues), narrow.stdout  # the key column is never cut ("binan…")
        balances = await run([crosslane, "cex", "balances"], env=env)
        assert balances.returncode == 0 and "USDT" in balances.stdout, balances.stdout + balances.stderr
        refused = await run([crosslane, "cex", "route", "buy", "-1", "BTC/USDT"], env=env)
        assert refused.returncode == 2 and refused.stderr.strip() == "error: quantity must be positive, got -1"
        # The dev worker signs with encrypted keystores of the devnet accounts.
        sent = await run(
            [
                crosslane,
                "tx",
                "send",
                "--chain",
                "devnet-a",
                "--from",
                dev_account(1)[0],
                "--to",
                dev_account(2)[0],
                "--value",
                "0.5",
                "--id",
                unique_queue("dev-send"),
            ],
            env=env,
        )
        assert sent.returncode == 0, sent.stderr
        assert "confirmed" in sent.stdout and "0.5 ETH from" in sent.stdout
        # The worker's metrics counted the transfer's nonce; its trace is in the traces file.
        metrics = await scrape(stack["metrics"]["worker"])
        assert total(metrics, NONCE_ALLOCATIONS, chain="devnet-a") >= 1
        assert await span_names(Path(stack["traces_file"]), "tx_send"), stack["traces_file"]
        # ...and the devnet's Solana dev signers (CROSSLANE_SOLANA_KEYS).
        alice, bob = solana_dev_signer_addresses()[:2]
        sol_send = [crosslane, "sol", "send", "--from", alice, "--to", bob, "--asset", "USDC", "--amount", "2.5"]
        sent = await run([*sol_send, "--id", unique_queue("dev-sol")], env=env)
        assert sent.returncode == 0, sent.stderr
        assert "confirmed" in sent.stdout and "2.5 USDC in " in sent.stdout
        # The showcase on the running stack: one completed run of every workflow the worker hosts.
        demo = await run([crosslane, "demo"], env=env, timeout=240)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "position #" in demo.stdout and "route USDC -(" in demo.stdout, demo.stdout
        assert "op-withdrawal via op-canonical: completed, 150 USDC received" in demo.stdout, demo.stdout
        temporal = await Client.connect(env["CROSSLANE_TEMPORAL_ADDRESS"])
        runs = [(w.workflow_type, w.status.name if w.status else "") async for w in temporal.list_workflows()]
        assert {t for t, state in runs if state == "COMPLETED"} == {w.__name__ for w in WORKFLOWS}, runs
        assert all(state == "COMPLETED" for _t, state in runs), runs
        again = await run([crosslane, "dev", "up"], env=env)
        assert again.returncode == 0
        assert json.loads((tmp_path / "home" / "stack.json").read_text()) == stack, "a second up keeps what runs"
        # A component that stops answering is down, with the reason, and status exits 1.
        assert stop_pid(stack["worker_pid"])
        worker_gone = await run([crosslane, "dev", "status"], env=env)
        assert worker_gone.returncode == 1, worker_gone.stdout
        rows = status_rows(worker_gone.stdout)
        assert rows["worker"] == ("down", f"pid {stack['worker_pid']} is not running")
        assert rows["temporal"][0] == "up" and rows["fastpath"][0] == "up"
    finally:
        down = await run([crosslane, "dev", "down"], env=env)
    assert down.returncode == 0, down.stderr
    pids = [stack[k] for k in ("temporal_pid", "worker_pid", "fastpath_pid", "scanner_pid")]
    assert not any(pid_alive(pid) for pid in [*pids, *stack["extra_pids"].values()])
    after = await run([crosslane, "dev", "status"], env=env)
    assert after.returncode == 1 and "down" in after.stdout
