"""`crosslane dev up|status|down`: the embedded stack a user keeps running, on free ports."""

from __future__ import annotations

import json
import os
from pathlib import Path

from devnet.anvil import dev_account, find_free_port, pid_alive
from devnet.solana.accounts import dev_signer_addresses as solana_dev_signer_addresses
from tests.e2e.test_entry_points import BIN, run
from tests.support.stack import unique_queue


async def test_dev_up_status_send_down(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLANE_")}
    env.update(
        CROSSLANE_HOME=str(tmp_path / "home"),
        CROSSLANE_TEMPORAL_ADDRESS=f"127.0.0.1:{find_free_port()}",
        CROSSLANE_TEMPORAL_UI_PORT=str(find_free_port()),
        CROSSLANE_DEVNET_PORTS=f"devnet-a={find_free_port()},devnet-b={find_free_port()}",
        CROSSLANE_CEX_PORTS=f"binance={find_free_port()},okx={find_free_port()}",
        CROSSLANE_SOLANA_PORT=str(find_free_port()),
        CROSSLANE_TASK_QUEUE=unique_queue("dev"),
        COLUMNS="200",
    )
    crosslane = str(BIN / "crosslane")
    try:
        up = await run([crosslane, "dev", "up"], env=env)
        assert up.returncode == 0, up.stderr
        assert "up" in up.stdout and "devnet-a" in up.stdout
        stack = json.loads((tmp_path / "home" / "stack.json").read_text())
        status = await run([crosslane, "dev", "status"], env=env)
        assert status.returncode == 0, status.stdout
        for component in (
            "temporal",
            "worker",
            "fastpath",
            "anvil-devnet-a",
            "anvil-devnet-b",
            "cex-binance",
            "cex-okx",
            "solana",
        ):
            assert component in status.stdout
        # The fast path serves the CLI: consolidated book, a quote across venues, venue health.
        book = await run([crosslane, "cex", "book", "BTC/USDT", "--depth", "3"], env=env)
        assert book.returncode == 0, book.stderr
        assert "BTC/USDT consolidated" in book.stdout and "binance" in book.stdout and "okx" in book.stdout
        quote = await run([crosslane, "cex", "route", "buy", "0.5", "BTC/USDT"], env=env)
        assert quote.returncode == 0 and "filled 0.5 of 0.5" in quote.stdout, quote.stdout + quote.stderr
        health = await run([crosslane, "venues", "health"], env=env)
        assert health.returncode == 0 and "healthy" in health.stdout, health.stdout + health.stderr
        balances = await run([crosslane, "cex", "balances"], env=env)
        assert balances.returncode == 0 and "USDT" in balances.stdout, balances.stdout + balances.stderr
        refused = await run([crosslane, "cex", "route", "buy", "-1", "BTC/USDT"], env=env)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
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
                "1",
                "--id",
                unique_queue("dev-send"),
            ],
            env=env,
        )
        assert sent.returncode == 0, sent.stderr
        assert "confirmed" in sent.stdout
        # ...and the devnet's Solana dev signers (CROSSLANE_SOLANA_KEYS).
        alice, bob = solana_dev_signer_addresses()[:2]
        sol_send = [crosslane, "sol", "send", "--from", alice, "--to", bob, "--asset", "USDC", "--amount", "2.5"]
        sent = await run([*sol_send, "--id", unique_queue("dev-sol")], env=env)
        assert sent.returncode == 0, sent.stderr
        assert "confirmed" in sent.stdout and "2500000 base units of USDC" in sent.stdout
        again = await run([crosslane, "dev", "up"], env=env)
        assert again.returncode == 0
        assert json.loads((tmp_path / "home" / "stack.json").read_text()) == stack, "a second up keeps what runs"
    finally:
        down = await run([crosslane, "dev", "down"], env=env)
    assert down.returncode == 0, down.stderr
    assert not any(pid_alive(stack[k]) for k in ("temporal_pid", "worker_pid", "fastpath_pid"))
    after = await run([crosslane, "dev", "status"], env=env)
    assert after.returncode == 1 and "down" in after.stdout
