"""The committed contract artifacts must be exactly what the sources compile to.

Deployments read the committed JSON, so a source edit without a rebuild would silently
deploy stale bytecode; this catches it.
"""

from __future__ import annotations

import hashlib

from contracts.build import (
    ARTIFACTS_DIR,
    NODE_MODULES,
    artifact_text,
    compile_sources,
    load_artifact,
)


def test_committed_artifacts_match_a_fresh_compile() -> None:
    fresh = compile_sources()
    assert {"TestToken", "MasterChef", "SushiToken"} <= set(fresh)
    committed = {p.stem for p in ARTIFACTS_DIR.glob("*.json")}
    assert committed == set(fresh), "artifacts dir out of sync: run python -m contracts.build"
    for name, artifact in fresh.items():
        stored = load_artifact(name)
        assert stored["bytecode"] == artifact["bytecode"], f"{name}: stale bytecode"
        assert stored["deployedBytecode"] == artifact["deployedBytecode"], name
        assert stored["abi"] == artifact["abi"], name
        assert (ARTIFACTS_DIR / f"{name}.json").read_text() == artifact_text(artifact), name


def test_test_token_abi_has_mint_and_decimals() -> None:
    abi = load_artifact("TestToken")["abi"]
    names = {item.get("name") for item in abi if item["type"] == "function"}
    assert {"mint", "decimals", "transfer", "approve", "balanceOf"} <= names


def test_masterchef_is_built_from_the_sushiswap_npm_source_with_solc_0_6_12() -> None:
    """MasterChef and SushiToken come from @sushiswap/core's sources (the package ships no
    bytecode), compiled by the pinned 0.6.12 with OpenZeppelin 3.x: the artifact records both."""
    for name in ("MasterChef", "SushiToken"):
        stored = load_artifact(name)
        assert stored["compiler"]["version"].startswith("0.6.12+"), name
        source = NODE_MODULES / stored["sourceName"]
        assert stored["sourceName"].startswith("@sushiswap/core/contracts/"), name
        assert stored["sourceHash"] == "0x" + hashlib.sha256(source.read_bytes()).hexdigest(), name
    names = {item.get("name") for item in load_artifact("MasterChef")["abi"] if item["type"] == "function"}
    assert {"add", "deposit", "withdraw", "pendingSushi", "poolInfo", "userInfo"} <= names
