"""``python -m devnet.solana --port P``: the devnet's Solana node as a process."""

from __future__ import annotations

import argparse
import asyncio

from devnet.services import serve_until_signalled
from devnet.solana.node import DEFAULT_BLOCKHASH_VALIDITY, SolanaNode
from devnet.solana.server import DEFAULT_SLOT_MS, SolanaRpcServer


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devnet.solana", description="Solana devnet node (LiteSVM)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--slot-ms", type=float, default=DEFAULT_SLOT_MS, help="milliseconds per slot; 0: no clock")
    parser.add_argument(
        "--blockhash-validity", type=int, default=DEFAULT_BLOCKHASH_VALIDITY, help="blocks a blockhash stays valid"
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    server = SolanaRpcServer(
        SolanaNode(blockhash_validity=args.blockhash_validity), host=args.host, port=args.port, slot_ms=args.slot_ms
    )
    await server.start()
    banner = f"solana node {server.url}: {args.slot_ms} ms slots, blockhashes valid {args.blockhash_validity}"
    await serve_until_signalled(banner, server.stop)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
