"""The simulators as devnet processes: started by ``devnet_up(cex=True)``, found through the
state file and the 0600 credentials file, stopped by ``devnet_down``; and the market makers'
prices, which share a path across venues yet drift apart enough to open arbitrage windows."""

from __future__ import annotations

import asyncio
import json
import stat
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt
import pytest

from connectors.cex.credentials import load_credentials
from crosslane.embedded.processes import pid_alive, stop_pid
from crosslane.registry import load_registry
from devnet.anvil import ensure_port_free, find_free_port
from devnet.cex.admin_client import state as admin_state
from devnet.cex.clients import ccxt_client
from devnet.cex.engine import Side
from devnet.cex.market_maker import MarketMaker, MarketMakerConfig
from devnet.cex.server import make_dialect
from devnet.cex.venue import Venue
from devnet.manager import cex_credentials_path, devnet_down, devnet_status, devnet_up
from devnet.registry_export import registry_path
from devnet.state import DevnetState

pytestmark = pytest.mark.timeout(90)


async def test_devnet_up_runs_every_venue_with_market_makers(tmp_path: Path) -> None:
    path = tmp_path / "devnet.json"
    ports = {"devnet-a": find_free_port(), "devnet-b": find_free_port()}
    cex_ports = {"binance": find_free_port(), "okx": find_free_port(), "kraken": find_free_port()}
    state: DevnetState | None = None
    try:
        state = await devnet_up(path, ports, detached=False, cex=True, cex_ports=cex_ports)
        assert set(state.cex) == {"binance", "okx", "kraken"}
        exported = load_registry(registry_path(path)).venues  # what the fast path and router read
        assert {name: v.exchange for name, v in exported.items()} == {n: n for n in ("binance", "okx", "kraken")}
        assert exported["kraken"].rest_url == state.cex["kraken"].rest_url
        assert {p.kind for p in state.processes.values()} == {"anvil", "cex"}
        assert devnet_status(path).up
        credentials = cex_credentials_path(path)
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        secrets = json.loads(credentials.read_text())
        state_text = path.read_text()
        assert all(
            entry["secret"] not in state_text and entry["api_key"] not in state_text for entry in secrets.values()
        )

        for venue, info in state.cex.items():
            assert info.rest_url == f"http://127.0.0.1:{cex_ports[venue]}" and info.ws_url.endswith("/stream")
            assert set(info.accounts) == {venue, f"{venue}-2"}
            creds = load_credentials(venue, secrets_file=Path(info.credentials_file), environ={})
            assert creds is not None
            ex = ccxt_client(info.exchange, info.rest_url, info.ws_url, **creds_kwargs(creds))
            try:
                balance = await ex.fetch_balance()
                assert balance["USDT"]["free"] == 1_000_000
                first = await ex.fetch_order_book("BTC/USDT", 5)
                assert first["bids"] and first["asks"] and first["bids"][0][0] < first["asks"][0][0]
                # The bots requote every 0.5 s; on a loaded machine a step may be late or unchanged.
                for _ in range(20):
                    await asyncio.sleep(0.3)
                    second = await ex.fetch_order_book("BTC/USDT", 5)
                    if (first["bids"], first["asks"]) != (second["bids"], second["asks"]):
                        break
                assert (first["bids"], first["asks"]) != (second["bids"], second["asks"]), "the book never moved"
            finally:
                await ex.close()
            assert (await admin_state(info.rest_url))["market_maker"]["running"] is True

        # The same devnet again is returned as is; asking it without simulators is refused.
        assert await devnet_up(path, ports, detached=False, cex=True, cex_ports=cex_ports) == state
    finally:
        stopped = devnet_down(path)
        for proc in state.processes.values() if state else ():
            stop_pid(proc.pid, timeout=2.0)
    assert {"cex-binance", "cex-okx", "cex-kraken"} <= set(stopped)
    assert not cex_credentials_path(path).exists()
    for proc in state.processes.values():
        assert not pid_alive(proc.pid)
    for port in cex_ports.values():
        ensure_port_free(port)


def creds_kwargs(creds: object) -> dict[str, str]:
    params = creds.ccxt_params()  # type: ignore[attr-defined]
    return {"api_key": params["apiKey"], "secret": params["secret"], "password": params.get("password")}


def test_market_makers_share_a_path_and_open_cross_venue_gaps() -> None:
    """Same seed on both venues: mids stay within a few bps, yet sometimes one venue's bid
    tops the other's ask (an arbitrage window) and most of the time it does not."""
    makers = {}
    for name in ("binance", "okx"):
        venue, _ = make_dialect(name, Venue)
        makers[name] = MarketMaker(venue, MarketMakerConfig(seed=42))
    windows = 0
    steps = range(1000, 1600)
    for step in steps:
        mids = {n: m.mid("BTC/USDT", step) for n, m in makers.items()}
        assert abs(mids["binance"] / mids["okx"] - 1) < Decimal("0.01")
        ladders = {n: m.ladder("BTC/USDT", step) for n, m in makers.items()}
        bids = {n: max(p for (s, p) in ladder if s is Side.BUY) for n, ladder in ladders.items()}
        asks = {n: min(p for (s, p) in ladder if s is Side.SELL) for n, ladder in ladders.items()}
        if bids["binance"] > asks["okx"] or bids["okx"] > asks["binance"]:
            windows += 1
    assert len(steps) // 50 < windows < len(steps) // 4, windows
    # Deterministic: a second bot with the same seed quotes the same ladder.
    venue, _ = make_dialect("binance", Venue)
    assert MarketMaker(venue, MarketMakerConfig(seed=42)).ladder("BTC/USDT", 1234) == makers["binance"].ladder(
        "BTC/USDT", 1234
    )


async def test_process_entry_point_serves_rest_and_stops_on_sigterm(tmp_path: Path) -> None:
    from devnet.cex import accounts
    from devnet.cex.launcher import spawn_venue, wait_venue

    credentials = tmp_path / "creds.json"
    accounts.write(credentials, accounts.generate(("okx",), per_venue=1))
    creds = accounts.read(credentials, "okx")[0]
    process = spawn_venue(
        "okx", find_free_port(), credentials=credentials, log=tmp_path / "okx.log", detached=False, mm_seed=5
    )
    try:
        await asyncio.to_thread(wait_venue, process, 15.0)
        ex = ccxt_client(
            "okx", process.rest_url, process.ws_url, api_key=creds.api_key, secret=creds.secret, password=creds.password
        )
        try:
            assert (await ex.fetch_balance())["BTC"]["free"] == 10
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order("1", "BTC/USDT")
        finally:
            await ex.close()
    finally:
        assert stop_pid(process.pid, timeout=5.0)
    assert "cex okx rest" in (tmp_path / "okx.log").read_text()
