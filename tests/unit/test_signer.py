"""Signers: keys load only into the worker, and no message or repr ever shows one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from eth_account import Account

from connectors.evm.signer import KeystoreSigner, LocalKeySigner, SignedTx, SignerRegistry, write_keystore
from connectors.evm.transactions import eip1559_tx
from crosslane.errors import InvalidRequest, SignerUnavailable

# anvil's well-known dev accounts #0 and #1: public test keys, never funded anywhere real
KEY_A = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
KEY_B = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ADDR_A = Account.from_key(KEY_A).address
ADDR_B = Account.from_key(KEY_B).address
PASSWORD = "correct horse battery staple"
TX = eip1559_tx(
    chain_id=31337,
    nonce=0,
    to=ADDR_B,
    value=1,
    data="0x",
    gas=21_000,
    max_fee_per_gas=2 * 10**9,
    max_priority_fee_per_gas=10**9,
)


def key_fragments(key: str) -> list[str]:
    """The key in every spelling a leak could take, down to a 16-hex-digit fragment."""
    bare = key.removeprefix("0x").lower()
    return [key, bare, bare.upper(), bare[:16], bare[-16:]]


def assert_no_key(text: str, *keys: str) -> None:
    for key in keys:
        for fragment in key_fragments(key):
            assert fragment not in text, f"key material leaked: {text!r}"


@pytest.fixture(scope="module")
def keystore_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One encrypted keystore (scrypt takes ~0.5 s, so it is written once per module)."""
    directory = tmp_path_factory.mktemp("keystore")
    write_keystore(KEY_A, PASSWORD, directory)
    return directory


def keystore_file(directory: Path) -> Path:
    (path,) = directory.glob("*.json")
    return path


# -- local keys ----------------------------------------------------------------------------------


async def test_local_key_signer_signs_verifiable_transactions() -> None:
    signer = LocalKeySigner(KEY_A)
    assert signer.address == ADDR_A
    signed = await signer.sign_transaction(TX)
    assert isinstance(signed, SignedTx)
    assert signed.raw.startswith("0x02") and signed.tx_hash.startswith("0x") and len(signed.tx_hash) == 66
    assert signed.tx_hash == signed.tx_hash.lower()
    assert Account.recover_transaction(signed.raw) == ADDR_A
    # deterministic (RFC 6979): re-signing yields the same bytes, hence the same hash
    assert await signer.sign_transaction(TX) == signed


def test_repr_and_str_never_show_the_key() -> None:
    signer = LocalKeySigner(KEY_A)
    assert repr(signer) == f"LocalKeySigner({ADDR_A})"
    for text in (repr(signer), str(signer), repr(vars(signer)), repr(SignerRegistry([signer]))):
        assert_no_key(text, KEY_A)


# -- keystores -----------------------------------------------------------------------------------


async def test_keystore_round_trip(keystore_dir: Path) -> None:
    path = keystore_file(keystore_dir)
    assert path.name == f"{ADDR_A}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_no_key(path.read_text(), KEY_A)  # encrypted at rest
    signer = KeystoreSigner(path, PASSWORD)
    assert signer.address == ADDR_A
    assert repr(signer) == f"KeystoreSigner({ADDR_A})"
    assert_no_key(repr(signer) + repr(vars(signer)), KEY_A)
    # the same key as the plain one: same deterministic signature
    assert await signer.sign_transaction(TX) == await LocalKeySigner(KEY_A).sign_transaction(TX)


def test_wrong_password_is_a_clear_signer_error_without_secrets(keystore_dir: Path) -> None:
    path = keystore_file(keystore_dir)
    with pytest.raises(SignerUnavailable) as info:
        KeystoreSigner(path, "wrong password")
    message = str(info.value)
    assert f"cannot unlock keystore {path.name}" in message
    assert_no_key(message, KEY_A)
    assert "wrong password" not in message and PASSWORD not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained traceback
    assert info.value.type_name == "SignerUnavailable" and not info.value.retryable


@pytest.mark.parametrize("content", ["{not json", "{}", "[]", '{"version": 3}', '{"chains": {}}'])
def test_a_file_that_is_not_a_keystore_is_a_signer_error(tmp_path: Path, content: str) -> None:
    """Every *.json in CROSSLANE_KEYSTORE_DIR is loaded: a stray JSON file must name itself
    in a SignerUnavailable, not stop the worker with a bare KeyError('version')."""
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(SignerUnavailable, match="broken.json is not a web3 secret-storage keystore file"):
        KeystoreSigner(path, PASSWORD)


# -- the registry --------------------------------------------------------------------------------


def test_from_env_loads_plain_keys() -> None:
    registry = SignerRegistry.from_env({"CROSSLANE_SIGNER_KEYS": f" {KEY_A} ,{KEY_B[2:]},"})
    assert sorted(registry.addresses) == sorted([ADDR_A, ADDR_B])
    assert registry.get(ADDR_A).address == ADDR_A
    assert registry.get(ADDR_B.lower()).address == ADDR_B  # lookups ignore checksum case


def test_from_env_with_nothing_configured_is_empty() -> None:
    assert SignerRegistry.from_env({}).addresses == []


@pytest.mark.parametrize("bad", ["not-a-key", "0x1234", "0x" + "00" * 32, "0x" + "ff" * 32])
def test_from_env_refuses_a_bad_key_without_echoing_it(bad: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        SignerRegistry.from_env({"CROSSLANE_SIGNER_KEYS": f"{KEY_A},{bad}"})
    message = str(info.value)
    assert "CROSSLANE_SIGNER_KEYS" in message
    assert bad not in message
    assert_no_key(message, KEY_A)


def test_from_env_loads_keystores_with_a_password_file(keystore_dir: Path, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")  # a trailing newline, as `echo` writes it
    registry = SignerRegistry.from_env(
        {
            "CROSSLANE_KEYSTORE_DIR": str(keystore_dir),
            "CROSSLANE_KEYSTORE_PASSWORD_FILE": str(password_file),
            "CROSSLANE_SIGNER_KEYS": KEY_B,
        }
    )
    assert sorted(registry.addresses) == sorted([ADDR_A, ADDR_B])
    assert isinstance(registry.get(ADDR_A), KeystoreSigner)


def test_from_env_keystore_needs_a_password(keystore_dir: Path) -> None:
    with pytest.raises(InvalidRequest, match="no keystore password"):
        SignerRegistry.from_env({"CROSSLANE_KEYSTORE_DIR": str(keystore_dir)})


def test_from_env_keystore_with_wrong_password(keystore_dir: Path) -> None:
    with pytest.raises(SignerUnavailable) as info:
        SignerRegistry.from_env({"CROSSLANE_KEYSTORE_DIR": str(keystore_dir), "CROSSLANE_KEYSTORE_PASSWORD": "nope"})
    assert "cannot unlock keystore" in str(info.value)
    assert_no_key(str(info.value), KEY_A)


def test_unknown_signer_says_how_to_load_it() -> None:
    registry = SignerRegistry([LocalKeySigner(KEY_A)])
    with pytest.raises(SignerUnavailable) as info:
        registry.get(ADDR_B)
    message = str(info.value)
    assert f"no key for signer {ADDR_B} in this worker" in message
    assert "CROSSLANE_SIGNER_KEYS" in message and "CROSSLANE_KEYSTORE_DIR" in message
    assert_no_key(message, KEY_A, KEY_B)
