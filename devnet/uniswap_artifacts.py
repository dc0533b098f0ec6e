"""Creation code of the real Uniswap V2/V3 contracts, from the npm packages' build artifacts
(and of SushiSwap's MasterChef and SushiToken, compiled from their npm sources).

The periphery contracts hard-code the init-code hash of the pair/pool creation code
(UniswapV2Library.pairFor, PoolAddress.POOL_INIT_CODE_HASH); the stock npm artifacts are
the canonical builds, so their hashes match. :func:`check_init_code_hashes` proves it
before anything is deployed: a mismatch would make every router call revert later.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from connectors.dex.create2 import init_code_hash
from connectors.dex.uniswap_v2.config import UNISWAP_V2_INIT_CODE_HASH
from connectors.dex.uniswap_v3.config import UNISWAP_V3_INIT_CODE_HASH
from devnet.anvil import REPO_ROOT, DevnetError, node_modules_dir

_V3_PERIPHERY = "v3-periphery/artifacts/contracts"

ARTIFACTS: dict[str, str] = {
    "UniswapV2Factory": "v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "v2-core/build/UniswapV2Pair.json",
    "UniswapV2Router02": "v2-periphery/build/UniswapV2Router02.json",
    "UniswapV3Factory": "v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "SwapRouter": f"{_V3_PERIPHERY}/SwapRouter.sol/SwapRouter.json",
    "QuoterV2": f"{_V3_PERIPHERY}/lens/QuoterV2.sol/QuoterV2.json",
    "NFTDescriptor": f"{_V3_PERIPHERY}/libraries/NFTDescriptor.sol/NFTDescriptor.json",
    "NonfungibleTokenPositionDescriptor": (
        f"{_V3_PERIPHERY}/NonfungibleTokenPositionDescriptor.sol/NonfungibleTokenPositionDescriptor.json"
    ),
    "NonfungiblePositionManager": f"{_V3_PERIPHERY}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    "V3Migrator": f"{_V3_PERIPHERY}/V3Migrator.sol/V3Migrator.json",
    "UniswapV3Staker": "v3-staker/artifacts/contracts/UniswapV3Staker.sol/UniswapV3Staker.json",
}
# Compiled by contracts/build.py (SushiSwap's npm package ships their sources, no bytecode).
COMPILED = ("MasterChef", "SushiToken")


@functools.cache
def artifact(name: str) -> dict[str, Any]:
    if name in COMPILED:
        path, fix = REPO_ROOT / "contracts" / "artifacts" / f"{name}.json", "python -m contracts.build"
    else:
        path, fix = node_modules_dir() / "@uniswap" / ARTIFACTS[name], "npm ci"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise DevnetError(f"{path} missing; run `{fix}`") from None
    return data


def creation_code(name: str, libraries: dict[str, str] | None = None) -> bytes:
    """The contract's creation code, with linked library addresses written in.

    Hardhat artifacts leave ``__$<hash>$__`` placeholders; ``linkReferences`` gives their
    byte offsets per library name.
    """
    data = artifact(name)
    hex_code = str(data["bytecode"]).removeprefix("0x")
    links: dict[str, dict[str, list[dict[str, int]]]] = data.get("linkReferences") or {}
    wanted = {lib for refs in links.values() for lib in refs}
    if wanted != set(libraries or {}):
        raise DevnetError(f"{name} links {sorted(wanted)}, given {sorted(libraries or {})}")
    for refs in links.values():
        for lib, places in refs.items():
            address = (libraries or {})[lib].removeprefix("0x").lower()
            for place in places:
                start = 2 * place["start"]
                hex_code = hex_code[:start] + address + hex_code[start + 2 * place["length"] :]
    return bytes.fromhex(hex_code)


def check_init_code_hashes() -> dict[str, str]:
    """Init-code hashes of the pair/pool artifacts, checked against the periphery's constants."""
    hashes = {
        "UniswapV2Pair": init_code_hash(creation_code("UniswapV2Pair")),
        "UniswapV3Pool": init_code_hash(creation_code("UniswapV3Pool")),
    }
    expected = {"UniswapV2Pair": UNISWAP_V2_INIT_CODE_HASH, "UniswapV3Pool": UNISWAP_V3_INIT_CODE_HASH}
    for name, got in hashes.items():
        if got != expected[name]:
            raise DevnetError(
                f"{name} artifact hashes to {got}, but the periphery contracts hard-code {expected[name]}: "
                "the npm build is not the canonical one, so routers would look for pools elsewhere"
            )
    return hashes
