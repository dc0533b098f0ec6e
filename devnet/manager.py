"""Bring the local devnet up and down; its state lives in one JSON file.

Usage::

    from devnet.manager import devnet_up, devnet_down, devnet_status

    state = await devnet_up()                     # .crosslane/devnet.json, ports 8545/8546
    state.chains["devnet-a"].rpc_urls[0]          # http://127.0.0.1:8545
    state.chains["devnet-a"].tokens["USDC"]       # TokenInfo(decimals=6, ...)
    devnet_status().up                            # every process alive, chains answer
    registry_path(state_path)                     # registry.yaml beside it: the product's registry format
    devnet_down()                                 # stop what the state file records

    # exchange simulators (Binance, OKX, Kraken dialects) with market makers: cex=True
    state = await devnet_up(cex=True)                # ports 8611/8612/8613, or cex_ports={...}
    state.cex["binance"].rest_url                 # replace ccxt's urls['api'] origins with these
    state.cex["okx"].credentials_file             # API keys of the devnet accounts (mode 600)

    # tests: free ports, a tmp state file, attached processes, fault proxies
    state = await devnet_up(tmp / "devnet.json", ports={"devnet-a": pa, "devnet-b": pb},
                            detached=False, proxies=True)
    primary, secondary = state.chains["devnet-a"].rpc_urls   # two independent proxies
    set_faults_sync(primary, down=True)                      # devnet.rpc_proxy
    state.anvil_url("devnet-a")                              # anvil itself, no proxy

``devnet_up`` is idempotent: if the state file describes a healthy devnet started with
the same options it is returned as is; a stale one (dead processes) is cleaned up and
replaced. Detached processes (the default, for ``crosslane devnet up``) run in their own
session and log to ``<state dir>/logs/``; attached ones (pytest) die with the thread that
started them. Either way ``devnet_down`` stops them by the pids in the state file, after
checking each pid still runs the command it recorded (pids get reused).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import urllib.error
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from crosslane.domain.chains import ChainConfig
from crosslane.embedded.processes import pid_alive, pid_cmdline, stop_pid
from devnet.across import devnet as across_devnet
from devnet.anvil import AnvilProcess, DevnetError, dev_addresses, find_free_port, rpc_call, start_anvil
from devnet.cex import accounts as cex_accounts
from devnet.cex.binance.profile import PROFILE as BINANCE_PROFILE
from devnet.cex.kraken.profile import PROFILE as KRAKEN_PROFILE
from devnet.cex.launcher import EXCHANGE_IDS, VenueProcess, admin_state, configure_wallet, spawn_venue, wait_venue
from devnet.cex.okx.profile import PROFILE as OKX_PROFILE
from devnet.deploy import deploy_chain
from devnet.opstack import devnet as op_devnet
from devnet.private_relay import relay_state_sync
from devnet.registry_export import registry_path, write_devnet_registry
from devnet.rpc_proxy import get_faults_sync
from devnet.services import spawn_service, wait_service
from devnet.solana import devnet as solana_devnet
from devnet.state import (
    ChainStatus,
    DevnetOptions,
    DevnetState,
    DevnetStatus,
    ProcessInfo,
    ProcessStatus,
    SimulatedVenue,
    default_state_path,
)
from devnet.uniswap import deploy_uniswap
from devnet.wormhole import devnet as wormhole_devnet
from devnet.wormhole.guardian import get_health_sync as get_guardian_health_sync

__all__ = [
    "DEFAULT_CHAINS",
    "ChainSpec",
    "DevnetError",
    "DevnetState",
    "devnet_down",
    "devnet_status",
    "devnet_up",
]


@dataclass(frozen=True)
class ChainSpec:
    name: str
    chain_id: int
    port: int


DEFAULT_CHAINS: tuple[ChainSpec, ...] = (
    ChainSpec("devnet-a", 31337, 8545),
    ChainSpec("devnet-b", 31338, 8546),
)

DEFAULT_CEX_PORTS: dict[str, int] = {"binance": 8611, "okx": 8612, "kraken": 8613}
VENUE_PROFILES = {"binance": BINANCE_PROFILE, "okx": OKX_PROFILE, "kraken": KRAKEN_PROFILE}
_PROCESS_MARKERS = {
    "anvil": "anvil",
    "rpc_proxy": "devnet.rpc_proxy",
    "cex": "devnet.cex",
    "private_relay": "devnet.private_relay",
    "wormhole_guardian": "devnet.wormhole.guardian",
    "across_relayer": "devnet.across.relayer",
    "across_dataworker": "devnet.across.dataworker",
    "solana": "devnet.solana",
    "op_rollup": "devnet.opstack.rollup",
}


def cex_credentials_path(state_path: Path) -> Path:
    """Where a devnet keeps its simulators' API credentials: beside its state file, mode 600."""
    return state_path.with_name(state_path.stem + "-cex-credentials.json")


def _state_path(state_path: Path | str | None) -> Path:
    return Path(state_path) if state_path is not None else default_state_path()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise up/down on one state file (two `devnet up` at once would race ports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _owns_pid(proc: ProcessInfo) -> bool:
    """Is ``proc.pid`` still the process we started (not a reused pid)?"""
    if not pid_alive(proc.pid):
        return False
    argv = pid_cmdline(proc.pid)
    if argv is None:  # no /proc: trust the pid
        return True
    marker = _PROCESS_MARKERS[proc.kind]
    return any(marker in part for part in argv) and str(proc.port) in argv


def _probe_chain(url: str, chain_id: int, weth: str | None) -> tuple[bool, int | None, str]:
    try:
        got = int(rpc_call(url, "eth_chainId", timeout=1.0), 16)
        if got != chain_id:
            return False, None, f"{url} is chain {got}, expected {chain_id}"
        if weth and rpc_call(url, "eth_getCode", [weth, "latest"], timeout=1.0) in ("0x", ""):
            return False, None, f"{url} has no WETH9 code: not the chain we deployed"
        return True, int(rpc_call(url, "eth_blockNumber", timeout=1.0), 16), ""
    except (OSError, urllib.error.URLError, DevnetError, ValueError) as exc:
        return False, None, f"{url}: {exc}"


# A live process answers its own HTTP endpoint: the probe per process kind (anvil is probed
# through its chain below).
_PROBES: dict[str, Callable[..., object]] = {
    "cex": admin_state,
    "private_relay": relay_state_sync,
    "wormhole_guardian": get_guardian_health_sync,
    "rpc_proxy": get_faults_sync,
    "solana": solana_devnet.probe_health,
    "op_rollup": op_devnet.probe_rollup,
}


def _status(path: Path, state: DevnetState | None) -> DevnetStatus:
    if state is None:
        return DevnetStatus(state_path=str(path), up=False, problems=["no state file"])
    problems: list[str] = []
    processes = []
    for name, proc in state.processes.items():
        alive = _owns_pid(proc)
        probe = _PROBES.get(proc.kind)
        if alive and probe is not None:
            try:
                probe(proc.url, timeout=1.0)
            except (OSError, urllib.error.URLError, ValueError) as exc:
                alive = False
                problems.append(f"{name}: {proc.kind} endpoint unreachable ({exc})")
        elif not alive:
            problems.append(f"{name} (pid {proc.pid}) is not running")
        processes.append(ProcessStatus(name=name, kind=proc.kind, pid=proc.pid, port=proc.port, alive=alive))
    chains = []
    for name, chain in state.chains.items():
        url = state.anvil_url(name)
        ok, block, problem = _probe_chain(url, chain.chain_id, chain.contracts.get("WETH9"))
        if problem:
            problems.append(f"{name}: {problem}")
        chains.append(ChainStatus(name=name, chain_id=chain.chain_id, rpc_url=url, reachable=ok, block_number=block))
    return DevnetStatus(state_path=str(path), up=not problems, processes=processes, chains=chains, problems=problems)


def devnet_status(state_path: Path | str | None = None) -> DevnetStatus:
    """Liveness of every recorded process and chain (never raises for a dead devnet)."""
    path = _state_path(state_path)
    return _status(path, DevnetState.load(path))


def _stop_recorded(state: DevnetState) -> list[str]:
    # Proxies and relays first, so nothing forwards to a chain that is going away.
    order = sorted(
        state.processes.items(),
        key=lambda item: item[1].kind not in ("rpc_proxy", "private_relay", "wormhole_guardian"),
    )
    stopped = []
    for name, proc in order:
        if _owns_pid(proc) and stop_pid(proc.pid):
            stopped.append(name)
    return stopped


def devnet_down(state_path: Path | str | None = None) -> list[str]:
    """Stop the processes the state file records and delete it; names of those stopped."""
    path = _state_path(state_path)
    with _locked(path):
        state = DevnetState.load(path)
        if state is None:
            return []
        stopped = _stop_recorded(state)
        path.unlink(missing_ok=True)
        cex_credentials_path(path).unlink(missing_ok=True)
        registry_path(path).unlink(missing_ok=True)
        return stopped


def _options_conflict(state: DevnetState, options: DevnetOptions, ports: Mapping[str, int] | None) -> str | None:
    if state.options.proxies != options.proxies:
        return f"proxies={state.options.proxies}"
    if state.options.block_time != options.block_time:
        return f"block_time={state.options.block_time}"
    if state.options.cex != options.cex:
        return f"cex={state.options.cex}"
    if state.options.private_relay != options.private_relay:
        return f"private_relay={state.options.private_relay}"
    if state.options.wormhole != options.wormhole:
        return f"wormhole={state.options.wormhole}"
    if state.options.across != options.across:
        return f"across={state.options.across}"
    if state.options.solana != options.solana:
        return f"solana={state.options.solana}"
    if state.options.op_stack != options.op_stack:
        return f"op_stack={state.options.op_stack}"
    for chain, port in (ports or {}).items():
        running = state.processes.get(f"anvil-{chain}")
        if running is None or running.port != port:
            return f"{chain} on port {running.port if running else None}"
    return None


def _spawn_proxy(upstream: str, port: int, log: Path, detached: bool, seed: int | None) -> ProcessInfo:
    args = ["--listen-port", str(port), "--upstream", upstream] + (["--seed", str(seed)] if seed is not None else [])
    return spawn_service("rpc_proxy", "devnet.rpc_proxy", args, port, log, detached)


def _spawn_relay(upstream: str, port: int, log: Path, detached: bool, chain: str) -> ProcessInfo:
    args = ["--listen-port", str(port), "--upstream", upstream]
    return spawn_service("private_relay", "devnet.private_relay", args, port, log, detached, chain=chain)


def _fresh_port(taken: set[int]) -> int:
    """A free port not already handed to a process still binding it."""
    while (port := find_free_port()) in taken:
        pass
    return port


async def _deploy_contracts(spec: ChainSpec, url: str, rpc_urls: list[str] | None) -> ChainConfig:
    """Base contracts (WETH9, test tokens, Multicall3), then Uniswap V2/V3 with seeded pools."""
    chain = await deploy_chain(spec.name, url, chain_id=spec.chain_id, rpc_urls=rpc_urls)
    return await deploy_uniswap(url, chain)


def _spawn_venues(
    path: Path, logs: Path, options: DevnetOptions, ports: Mapping[str, int], seed: int
) -> list[VenueProcess]:
    """Fresh devnet-only API credentials (file mode 600), then one simulator process per venue."""
    credentials = cex_credentials_path(path)
    cex_accounts.write(credentials, cex_accounts.generate(tuple(ports)))
    return [
        spawn_venue(
            venue, port, credentials=credentials, log=logs / f"cex-{venue}.log", detached=options.detached, mm_seed=seed
        )
        for venue, port in ports.items()
    ]


def _cex_venue(path: Path, venue: VenueProcess) -> SimulatedVenue:
    credentials = cex_credentials_path(path)
    fees = VENUE_PROFILES[venue.venue].fees
    return SimulatedVenue(
        venue=venue.venue,
        exchange=EXCHANGE_IDS[venue.venue],
        rest_url=venue.rest_url,
        ws_url=venue.ws_url,
        credentials_file=str(credentials),
        accounts=[c.name for c in cex_accounts.read(credentials, venue.venue)],
        maker_bps=fees.maker * 10_000,
        taker_bps=fees.taker * 10_000,
    )


async def devnet_up(
    state_path: Path | str | None = None,
    ports: Mapping[str, int] | None = None,
    *,
    detached: bool = True,
    block_time: float | None = None,
    proxies: bool = False,
    proxy_seed: int | None = None,
    chains: tuple[ChainSpec, ...] = DEFAULT_CHAINS,
    timeout: float = 15.0,
    cex: bool = False,
    cex_ports: Mapping[str, int] | None = None,
    cex_seed: int = 1,
    private_relay: bool = False,
    wormhole: bool = False,
    across: bool = False,
    solana: bool = False,
    solana_port: int = solana_devnet.DEFAULT_PORT,
    op_stack: bool = False,
    op_finalization_seconds: int = op_devnet.DEFAULT_FINALIZATION_SECONDS,
    op_proposal_interval: float = op_devnet.DEFAULT_PROPOSAL_INTERVAL,
) -> DevnetState:
    """Start both anvils (and optional proxies), deploy contracts, write the state file.

    ``ports`` maps chain name to anvil port (defaults 8545/8546); proxies always take free
    ports. ``block_time`` (seconds) switches from automine to interval mining. ``cex`` also
    starts the Binance, OKX and Kraken simulators with their market makers (``cex_ports`` maps venue
    to port, defaults 8611/8612/8613; ``cex_seed`` seeds the shared price path); their API
    credentials go to :func:`cex_credentials_path`, never into the state file. ``private_relay``
    starts a private relay stand-in per chain (:mod:`devnet.private_relay`, including what it
    holds every second) and records it as the chain's ``private_relay_url``. ``wormhole``
    deploys the real Wormhole core + token bridge on every chain (registered with each other,
    test tokens attested) and starts the devnet guardians (:mod:`devnet.wormhole`); see
    ``state.wormhole``. ``across`` deploys Across's real SpokePool on every chain
    (``contracts["AcrossSpokePool"]``) and starts its relayer and dataworker
    (:mod:`devnet.across`; processes ``across-relayer`` / ``across-dataworker``). ``solana``
    starts the Solana node on ``solana_port`` (:mod:`devnet.solana`), seeds its mints and
    dev accounts and records it as ``state.solana``. ``op_stack`` adds ``devnet-op``, an OP
    Stack L2 of ``devnet-a`` (port 8547 unless ``ports`` names it): contracts-bedrock's L1
    contracts on devnet-a (``devnet-op:OptimismPortal``...), the predeploys on devnet-op, and the
    rollup service (:mod:`devnet.opstack`), withdrawals finalizable after
    ``op_finalization_seconds``, outputs proposed every ``op_proposal_interval`` seconds.
    """
    path = _state_path(state_path)
    options = DevnetOptions(
        block_time=block_time,
        proxies=proxies,
        detached=detached,
        cex=cex,
        private_relay=private_relay,
        wormhole=wormhole,
        across=across,
        solana=solana,
        op_stack=op_stack,
        op_finalization_seconds=op_finalization_seconds if op_stack else None,
    )
    with _locked(path):
        existing = DevnetState.load(path)
        if existing is not None:
            if _status(path, existing).up:
                conflict = _options_conflict(existing, options, ports)
                if conflict:
                    raise DevnetError(
                        f"a devnet is already up at {path} with {conflict}; run `crosslane devnet down` first"
                    )
                write_devnet_registry(existing, path)  # in this version's format
                return existing
            _stop_recorded(existing)  # stale: clear leftovers, then start afresh
            path.unlink(missing_ok=True)
        # A caller naming some venues' ports (tests) gets free ports for the rest, never the
        # fixed defaults another devnet may hold.
        venue_ports = (
            dict(DEFAULT_CEX_PORTS)
            if cex_ports is None
            else {**{venue: find_free_port() for venue in DEFAULT_CEX_PORTS}, **cex_ports}
        )
        op_spec = ChainSpec(op_devnet.L2_NAME, op_devnet.L2_CHAIN_ID, op_devnet.L2_PORT) if op_stack else None
        return await _start(
            path,
            ports or {},
            options,
            proxy_seed,
            chains,
            timeout,
            venue_ports,
            cex_seed,
            solana_port,
            op_spec,
            op_proposal_interval,
        )


async def _start_rollup(
    deployed: list[ChainConfig],
    anvils: Mapping[str, AnvilProcess],
    spec: ChainSpec,
    logs: Path,
    seconds: int,
    contracts: op_devnet.RollupContracts,
    rpc_urls: list[str] | None,
) -> list[ChainConfig]:
    """The rollup's bridged tokens once devnet-a's exist, and the service's config; the chains updated."""
    l1 = next(c for c in deployed if c.name == op_devnet.L1_NAME)
    l1_url, l2_url = anvils[l1.name].url, anvils[spec.name].url
    l1, l2 = await op_devnet.deploy_tokens(l1, l2_url, rpc_urls or [l2_url], contracts, seconds)
    op_devnet.configure_rollup(l1, l1_url, l2_url, logs)
    return [l1 if c.name == l1.name else c for c in deployed] + [l2]


async def _start(
    path: Path,
    ports: Mapping[str, int],
    options: DevnetOptions,
    proxy_seed: int | None,
    chains: tuple[ChainSpec, ...],
    timeout: float,
    cex_ports: Mapping[str, int] | None = None,
    cex_seed: int = 1,
    solana_port: int = solana_devnet.DEFAULT_PORT,
    op_spec: ChainSpec | None = None,
    op_proposal_interval: float = op_devnet.DEFAULT_PROPOSAL_INTERVAL,
) -> DevnetState:
    unknown = set(ports) - {c.name for c in chains} - ({op_spec.name} if op_spec else set())
    if unknown:
        raise DevnetError(f"ports given for unknown chains: {sorted(unknown)}")
    logs = path.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes: dict[str, ProcessInfo] = {}
    op_contracts: asyncio.Future[op_devnet.RollupContracts] | None = None
    try:
        anvils: dict[str, AnvilProcess] = {}
        # Spawn on this (the loop's) thread: attached children die with their spawner.
        for spec in chains + ((op_spec,) if op_spec else ()):
            log = logs / f"anvil-{spec.name}.log"
            anvil = start_anvil(
                ports.get(spec.name, spec.port),
                spec.chain_id,
                block_time=options.block_time,
                detached=options.detached,
                log_path=log,
                wait=False,
            )
            anvils[spec.name] = anvil
            processes[f"anvil-{spec.name}"] = ProcessInfo(
                kind="anvil",
                pid=anvil.pid,
                port=anvil.port,
                url=anvil.url,
                log=str(log),
                chain=spec.name,
                detached=options.detached,
            )
        proxy_urls: dict[str, list[str]] = {}
        if options.proxies:
            for spec in chains:
                for i, role in enumerate(("primary", "secondary")):
                    info = _spawn_proxy(
                        anvils[spec.name].url,
                        _fresh_port({p.port for p in processes.values()}),
                        logs / f"proxy-{spec.name}-{role}.log",
                        options.detached,
                        None if proxy_seed is None else proxy_seed + i,
                    )
                    processes[f"proxy-{spec.name}-{role}"] = info.model_copy(update={"chain": spec.name})
                    proxy_urls.setdefault(spec.name, []).append(info.url)
        if options.private_relay:
            for spec in chains:
                processes[f"relay-{spec.name}"] = _spawn_relay(
                    anvils[spec.name].url,
                    _fresh_port({p.port for p in processes.values()}),
                    logs / f"relay-{spec.name}.log",
                    options.detached,
                    spec.name,
                )
        venues = _spawn_venues(path, logs, options, cex_ports or DEFAULT_CEX_PORTS, cex_seed) if options.cex else []
        for venue in venues:
            processes[f"cex-{venue.venue}"] = ProcessInfo(
                kind="cex",
                pid=venue.pid,
                port=venue.port,
                url=venue.rest_url,
                log=str(venue.log),
                detached=options.detached,
                venue=venue.venue,
                ws_url=venue.ws_url,
            )
        if options.solana:
            processes["solana"] = solana_devnet.spawn_node(solana_port, logs / "solana.log", options.detached)
        if op_spec is not None:
            port = _fresh_port({p.port for p in processes.values()})
            processes["op-rollup"] = op_devnet.spawn_rollup(port, logs, options.detached, op_proposal_interval)
        await asyncio.gather(*(asyncio.to_thread(a.wait_ready, timeout) for a in anvils.values()))
        seconds = options.op_finalization_seconds or op_devnet.DEFAULT_FINALIZATION_SECONDS
        if op_spec is not None:  # beside the chains' deploys: it needs none of their contracts
            l1_url, l2_url = anvils[op_devnet.L1_NAME].url, anvils[op_spec.name].url
            op_contracts = asyncio.ensure_future(op_devnet.deploy_contracts(l1_url, l2_url, seconds))
        deployed = await asyncio.gather(
            *(_deploy_contracts(spec, anvils[spec.name].url, proxy_urls.get(spec.name)) for spec in chains)
        )
        await asyncio.gather(
            *(
                asyncio.to_thread(wait_service, p, get_faults_sync, "rpc proxy", timeout)
                for p in processes.values()
                if p.kind == "rpc_proxy"
            ),
            *(asyncio.to_thread(wait_venue, v, timeout) for v in venues),
            *(
                asyncio.to_thread(wait_service, p, relay_state_sync, "private relay", timeout)
                for p in processes.values()
                if p.kind == "private_relay"
            ),
        )
        anvil_urls = {name: a.url for name, a in anvils.items()}
        await asyncio.gather(*(asyncio.to_thread(configure_wallet, v, list(deployed), anvil_urls) for v in venues))
        wormhole = None
        if options.wormhole:
            anvil_urls = {name: a.url for name, a in anvils.items()}
            deployed = await wormhole_devnet.deploy_all(deployed, anvil_urls)
            guardian = wormhole_devnet.spawn_guardians(
                deployed,
                anvil_urls,
                _fresh_port({p.port for p in processes.values()}),
                logs / "wormhole-guardians.log",
                options.detached,
            )
            processes["wormhole-guardians"] = guardian
            await asyncio.to_thread(wormhole_devnet.wait_guardians, guardian, timeout)
            wormhole = wormhole_devnet.wormhole_info(deployed, guardian)
        if options.across:
            anvil_urls = {name: a.url for name, a in anvils.items()}
            deployed = await across_devnet.deploy_all(deployed, anvil_urls)
            taken = {p.port for p in processes.values()}
            relayer_port = _fresh_port(taken)
            service_ports = (relayer_port, _fresh_port(taken | {relayer_port}))
            services = across_devnet.spawn_services(deployed, anvil_urls, service_ports, logs, options.detached)
            for name, (pid, port, url, log) in services.items():
                kind = "across_relayer" if name == "across-relayer" else "across_dataworker"
                processes[name] = ProcessInfo(
                    kind=kind, pid=pid, port=port, url=url, log=str(log), detached=options.detached
                )
            await asyncio.to_thread(across_devnet.wait_services, services, timeout)
        if op_spec is not None:
            assert op_contracts is not None
            deployed = await _start_rollup(
                deployed, anvils, op_spec, logs, seconds, await op_contracts, proxy_urls.get(op_spec.name)
            )
            await asyncio.to_thread(op_devnet.wait_rollup, processes["op-rollup"], timeout)
        solana_cluster = None
        if options.solana:
            await asyncio.to_thread(solana_devnet.wait_node, processes["solana"], timeout)
            solana_cluster = await solana_devnet.seed_cluster(processes["solana"].url)
        relays = {p.chain: p.url for p in processes.values() if p.kind == "private_relay"}
        deployed = [c.model_copy(update={"private_relay_url": relays.get(c.name)}) for c in deployed]
        state = DevnetState(
            options=options,
            chains={c.name: c for c in deployed},
            processes=processes,
            accounts=list[str](dev_addresses()),
            cex={v.venue: _cex_venue(path, v) for v in venues},
            wormhole=wormhole,
            solana=solana_cluster,
        )
        state.save(path)
        write_devnet_registry(state, path)
        return state
    except BaseException:
        if op_contracts is not None and not op_contracts.done():
            op_contracts.cancel()
        for proc in processes.values():
            stop_pid(proc.pid, timeout=2.0)
        if options.cex:
            cex_credentials_path(path).unlink(missing_ok=True)
        raise
