"""What a registry must satisfy across its sections: each problem as (path in the file, what is wrong)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from crosslane.domain.evm import Address
from crosslane.domain.no_secrets import SECRET_FIELDS
from crosslane.domain.solana_address import canonical_address
from crosslane.registry.model import EvmChain, Registry

Problem = tuple[str, str]

# Beyond the signing-key names every request refuses: a CEX's API secret and passphrase.
REGISTRY_SECRET_FIELDS = SECRET_FIELDS | {"api_secret", "apisecret", "api_key", "apikey", "passphrase"}

_ADDRESS = TypeAdapter(Address)


def secret_fields(raw: Any, path: str = "") -> Iterator[Problem]:
    """Key-like fields anywhere in the raw file, named by path (their values never shown)."""
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower().replace("-", "_") in REGISTRY_SECRET_FIELDS:
                yield (
                    here,
                    (
                        "a secret does not belong in the registry (value not shown): reference it with "
                        "credentials.env or credentials.secrets_file"
                    ),
                )
            else:
                yield from secret_fields(value, here)
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            yield from secret_fields(item, f"{path}[{i}]")


def _evm_address(value: str | None, path: str) -> Iterator[Problem]:
    if value is None:
        return
    try:
        _ADDRESS.validate_python(value)
    except ValidationError as exc:
        yield path, exc.errors()[0]["msg"].removeprefix("Value error, ")


def _solana_address(value: str | None, path: str) -> Iterator[Problem]:
    if value is None:
        return
    try:
        canonical_address(value)
    except ValueError as exc:
        yield path, str(exc)


def _known(kind: str, name: str, known: Mapping[str, Any]) -> str:
    return f"unknown {kind} {name!r}; known: {', '.join(sorted(known)) or 'none'}"


def _chains(reg: Registry) -> Iterator[Problem]:
    seen: dict[int, str] = {}
    for name, chain in reg.chains.items():
        if not isinstance(chain, EvmChain):
            for program, address in chain.programs.items():
                yield from _solana_address(address, f"chains.{name}.programs.{program}")
            continue
        if chain.chain_id in seen:
            yield f"chains.{name}.chain_id", f"duplicate chain id {chain.chain_id} (also chains.{seen[chain.chain_id]})"
        if chain.settles_on is not None:
            l1 = reg.chains.get(chain.settles_on)
            if not isinstance(l1, EvmChain):
                yield f"chains.{name}.settles_on", _known("EVM chain", chain.settles_on, reg.chains)
            elif chain.settles_on == name or l1.settles_on is not None:
                yield (
                    f"chains.{name}.settles_on",
                    f"{chain.settles_on!r} must be an L1: another chain that settles nowhere",
                )
        seen.setdefault(chain.chain_id, name)
        for dex_name, dex in chain.dexes.items():
            at = f"chains.{name}.dexes.{dex_name}"
            for field in ("factory", "router", "quoter", "position_manager", "migrator", "staker"):
                yield from _evm_address(getattr(dex, field), f"{at}.{field}")
            for i, pool in enumerate(dex.pools):
                for field in ("address", "token0", "token1"):
                    yield from _evm_address(getattr(pool, field), f"{at}.pools[{i}].{field}")
            for i, incentive in enumerate(dex.incentives):
                for field in ("reward_token", "pool", "refundee"):
                    yield from _evm_address(getattr(incentive, field), f"{at}.incentives[{i}].{field}")
            if dex.masterchef is not None:
                yield from _evm_address(dex.masterchef.address, f"{at}.masterchef.address")
                yield from _evm_address(dex.masterchef.reward_token, f"{at}.masterchef.reward_token")
                for i, farm in enumerate(dex.masterchef.farms):
                    yield from _evm_address(farm.lp_token, f"{at}.masterchef.farms[{i}].lp_token")


def _assets(reg: Registry) -> Iterator[Problem]:
    for symbol, asset in reg.assets.items():
        for chain_name, token in asset.chains.items():
            at = f"assets.{symbol}.chains.{chain_name}"
            chain = reg.chains.get(chain_name)
            if chain is None:
                yield at, _known("chain", chain_name, reg.chains)
                continue
            if isinstance(chain, EvmChain):
                yield from _evm_address(token.address, f"{at}.address")
                if token.token_program is not None:
                    yield f"{at}.token_program", f"{chain_name} is an EVM chain: token_program is for Solana mints"
            else:
                yield from _solana_address(token.address, f"{at}.address")
                yield from _solana_address(token.token_program, f"{at}.token_program")
            if asset.decimals is not None and token.decimals != asset.decimals:
                yield (
                    f"{at}.decimals",
                    (
                        f"{token.decimals} differs from the asset's {asset.decimals}: "
                        "a token with other decimals is another asset"
                    ),
                )
        for venue in asset.venues:
            if venue not in reg.venues:
                yield f"assets.{symbol}.venues.{venue}", _known("venue", venue, reg.venues)


def _bridges(reg: Registry) -> Iterator[Problem]:
    wormhole = reg.bridges.wormhole
    if wormhole is not None:
        for chain_name in wormhole.chain_ids:
            if chain_name not in reg.chains:
                yield f"bridges.wormhole.chain_ids.{chain_name}", _known("chain", chain_name, reg.chains)
    for i, route in enumerate(reg.bridges.routes):
        at = f"bridges.routes[{i}]"
        if getattr(reg.bridges, route.bridge) is None:
            yield f"{at}.bridge", f"no bridges.{route.bridge} endpoints for this route"
        for chain_name in route.chains:
            if chain_name not in reg.chains:
                yield f"{at}.chains", _known("chain", chain_name, reg.chains)
        for symbol in route.assets:
            asset = reg.assets.get(symbol)
            if asset is None:
                yield f"{at}.assets", _known("asset", symbol, reg.assets)
                continue
            missing = [c for c in route.chains if c in reg.chains and c not in asset.chains]
            if missing:
                yield f"{at}.assets", f"asset {symbol!r} has no token on {', '.join(missing)}"


def problems(reg: Registry) -> list[Problem]:
    """Everything wrong across sections (each section's own fields are checked by its model)."""
    return [*_chains(reg), *_assets(reg), *_bridges(reg)]
