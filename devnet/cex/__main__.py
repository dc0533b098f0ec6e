"""Run one simulated venue: ``python -m devnet.cex --venue binance|okx --port P [options]``.

Accounts come from ``--credentials`` (see :mod:`devnet.cex.accounts`): every entry of this
venue gets an API key and the default balances. The market maker runs unless
``--no-market-maker``; give both venues the same ``--mm-seed`` so their prices share a path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from devnet.cex import accounts
from devnet.cex.market_maker import MarketMakerConfig
from devnet.cex.server import VenueServer
from devnet.services import serve_until_signalled


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devnet.cex", description=__doc__.split("\n")[0])
    parser.add_argument("--venue", required=True, choices=["binance", "okx", "kraken"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credentials", type=Path, default=None, help="JSON credentials file (mode 600)")
    parser.add_argument("--seed", type=int, default=None, help="seed of injected faults")
    parser.add_argument("--no-market-maker", action="store_true")
    parser.add_argument("--mm-interval", type=float, default=0.5, help="seconds between requotes")
    parser.add_argument("--mm-seed", type=int, default=1)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    maker = None if args.no_market_maker else MarketMakerConfig(interval_s=args.mm_interval, seed=args.mm_seed)
    server = VenueServer(args.venue, port=args.port, seed=args.seed, market_maker=maker)  # loopback only
    for credential in accounts.read(args.credentials, args.venue) if args.credentials else []:
        server.add_account(
            credential.account,
            api_key=credential.api_key,
            secret=credential.secret,
            passphrase=credential.password,
        )
    await server.start()
    await serve_until_signalled(f"cex {args.venue} rest {server.rest_url} ws {server.ws_url}", server.stop)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run  # type: ignore[assignment]
    runner(_serve(args))


if __name__ == "__main__":
    main()
