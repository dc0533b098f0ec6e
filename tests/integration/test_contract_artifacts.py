"""The committed contract artifacts must be exactly what the sources compile to.

Deployments read the committed JSON, so a source edit without a rebuild would silently
deploy stale bytecode; this catches it.
"""

from __future__ import annotations

from contracts.build import (
    ARTIFACTS_DIR,
    artifact_text,
    compile_sources,
    load_artifact,
)


def test_committed_artifacts_match_a_fresh_compile() -> None:
    fresh = compile_sources()
    assert "TestToken" in fresh
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
