"""The `crosslane` command."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import typer

from crosslane.cli import arb, arb_scan, bridge, cex, dex, lp, registry, schedule, sol, tx
from crosslane.cli.errors import fail
from crosslane.cli.plugins import load_plugins

app = typer.Typer(help="Crosslane: durable cross-chain execution on Temporal.", no_args_is_help=True)
app.add_typer(tx.app, name="tx")
app.add_typer(registry.app, name="registry")
app.add_typer(sol.app, name="sol")
app.add_typer(dex.app, name="dex")
app.add_typer(lp.app, name="lp")
app.add_typer(bridge.app, name="bridge")
app.add_typer(cex.cex_app, name="cex")
app.add_typer(cex.venues_app, name="venues")
arb.app.command("scan")(arb_scan.scan)
app.add_typer(arb.app, name="arb")
app.add_typer(schedule.app, name="schedule")


@app.command()
def worker() -> None:
    """Run an orchestrator worker in the foreground (Ctrl-C stops it)."""
    from workers.orchestrator import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(run_worker())
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # noqa: BLE001 - startup failures are configuration problems
        raise fail(f"worker: {exc}") from None


@app.command()
def fastpath() -> None:
    """Run the fast-path order router in the foreground (Ctrl-C stops it)."""
    from workers.fastpath.server import main as fastpath_main

    try:
        fastpath_main()
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # noqa: BLE001 - startup failures are configuration problems
        raise fail(f"fastpath: {exc}") from None


load_plugins(app)  # the devnet's dev/devnet/demo, when crosslane-devnet is installed


def main() -> None:
    """The console entry point: run the command, then leave without interpreter teardown.

    temporalio's Rust runtime threads can call into Python while a short-lived client
    process finalizes and abort it (``PyGILState_Release``, temporalio/sdk-python#300)
    after the command itself succeeded; exiting with ``os._exit`` once output is flushed
    skips that teardown.
    """
    try:
        app()
        code: int = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            code = 1
        else:
            code = exc.code or 0
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
