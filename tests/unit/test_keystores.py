"""Encrypted keystores for both families: a key round-trips through its file, a wrong
password is refused clearly, a file of the other family is refused, and no key or password
shows in a message, a repr or the logs."""

from __future__ import annotations

import base64
import json
import logging
import stat
from pathlib import Path

import pytest
from eth_account import Account
from solders.keypair import Keypair

from connectors.evm.signer import KeystoreSigner, LocalKeySigner, SignerRegistry, write_keystore
from connectors.solana.signer import (
    LocalKeypairSigner,
    SolanaKeystoreSigner,
    SolanaSignerRegistry,
    write_solana_keystore,
)
from crosslane.errors import InvalidRequest, SignerUnavailable

PASSWORD = "tr0ub4dor&3 keystore"
EVM_KEY = "0x" + "42" * 32
EVM_ADDR = Account.from_key(EVM_KEY).address
SOL_KEYPAIR = Keypair.from_seed(bytes(range(100, 132)))
SOL_ADDR = str(SOL_KEYPAIR.pubkey())


def spellings(keypair: Keypair) -> list[str]:
    """A Solana secret in every form a leak could take: base58 keypair, JSON array, hex, base64."""
    secret = bytes(keypair)
    return [str(keypair), json.dumps(list(secret)), secret.hex(), secret[:32].hex(), base64.b64encode(secret).decode(),
            str(list(secret[:8]))[1:-1]]  # fmt: skip


def assert_secret_free(text: str) -> None:
    for fragment in [*spellings(SOL_KEYPAIR), EVM_KEY[2:], EVM_KEY[2:18], PASSWORD]:
        assert fragment not in text, f"secret leaked: {text!r}"


@pytest.fixture(scope="module")
def sol_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sol-keystore")
    write_solana_keystore(str(SOL_KEYPAIR), PASSWORD, directory)  # scrypt: ~0.5 s, once per module
    return directory


@pytest.fixture(scope="module")
def evm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("evm-keystore")
    write_keystore(EVM_KEY, PASSWORD, directory)
    return directory


async def test_solana_keystore_round_trip(sol_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = sol_dir / f"{SOL_ADDR}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["family"] == "solana" and stored["address"] == SOL_ADDR
    assert stored["crypto"]["kdf"] == "scrypt"
    assert_secret_free(path.read_text())  # encrypted at rest
    signer = SolanaKeystoreSigner(path, PASSWORD)
    assert signer.address == SOL_ADDR and signer.family == "solana"
    message = b"the same key signs the same bytes"
    assert await signer.sign_payload(message) == await LocalKeypairSigner(SOL_KEYPAIR).sign_payload(message)
    assert repr(signer) == f"SolanaKeystoreSigner({SOL_ADDR})"
    assert_secret_free(repr(signer) + str(signer) + caplog.text)


def test_solana_keystore_wrong_password_is_refused_clearly(sol_dir: Path) -> None:
    path = sol_dir / f"{SOL_ADDR}.json"
    with pytest.raises(SignerUnavailable) as info:
        SolanaKeystoreSigner(path, "not " + PASSWORD)
    message = str(info.value)
    assert message == f"cannot unlock keystore {path.name}: the password does not open it (MAC mismatch)"
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained traceback
    assert_secret_free(message)


def test_each_family_refuses_the_others_keystore(sol_dir: Path, evm_dir: Path) -> None:
    sol_path, evm_path = sol_dir / f"{SOL_ADDR}.json", evm_dir / f"{EVM_ADDR}.json"
    with pytest.raises(SignerUnavailable, match=f"{sol_path.name} holds a solana key, not a evm one"):
        KeystoreSigner(sol_path, PASSWORD)
    with pytest.raises(SignerUnavailable, match=f"{evm_path.name} holds a evm key, not a solana one"):
        SolanaKeystoreSigner(evm_path, PASSWORD)
    assert KeystoreSigner(evm_path, PASSWORD).address == EVM_ADDR


def test_a_keystore_whose_address_lies_is_refused(sol_dir: Path, tmp_path: Path) -> None:
    stored = json.loads((sol_dir / f"{SOL_ADDR}.json").read_text())
    other = str(Keypair.from_seed(bytes(32)).pubkey())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**stored, "address": other}))
    with pytest.raises(SignerUnavailable, match=f"forged.json says it holds {other} but its key is {SOL_ADDR}"):
        SolanaKeystoreSigner(forged, PASSWORD)


@pytest.mark.parametrize("content", ["{not json", "{}", "[]", '{"version": 3}'])
def test_a_file_that_is_not_a_keystore_names_itself(tmp_path: Path, content: str) -> None:
    path = tmp_path / "stray.json"
    path.write_text(content)
    with pytest.raises(SignerUnavailable, match="stray.json is not a web3 secret-storage keystore file"):
        SolanaKeystoreSigner(path, PASSWORD)


def test_solana_registry_loads_keystores_and_plain_keys(sol_dir: Path, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    plain = Keypair()
    registry = SolanaSignerRegistry.from_env(
        {
            "CROSSLANE_SOLANA_KEYSTORE_DIR": str(sol_dir),
            "CROSSLANE_KEYSTORE_PASSWORD_FILE": str(password_file),
            "CROSSLANE_SOLANA_KEYS": str(plain),
        }
    )
    assert sorted(registry.addresses) == sorted([SOL_ADDR, str(plain.pubkey())])
    assert isinstance(registry.get(SOL_ADDR), SolanaKeystoreSigner)
    with pytest.raises(InvalidRequest, match="CROSSLANE_SOLANA_KEYSTORE_DIR is set but no keystore password"):
        SolanaSignerRegistry.from_env({"CROSSLANE_SOLANA_KEYSTORE_DIR": str(sol_dir)})
    with pytest.raises(SignerUnavailable, match="load it with CROSSLANE_SOLANA_KEYS or CROSSLANE_SOLANA_KEYSTORE_DIR"):
        registry.get(str(Keypair().pubkey()))


def test_evm_registry_still_reads_eth_account_keystores(tmp_path: Path) -> None:
    """A keystore eth-account wrote (no ``family`` field) is an EVM one."""
    (tmp_path / "k.json").write_text(json.dumps(Account.encrypt(EVM_KEY, PASSWORD, kdf="pbkdf2", iterations=2)))
    env = {"CROSSLANE_KEYSTORE_DIR": str(tmp_path), "CROSSLANE_KEYSTORE_PASSWORD": PASSWORD}
    registry = SignerRegistry.from_env(env)
    assert registry.addresses == [EVM_ADDR]
    assert repr(registry.get(EVM_ADDR)) == f"KeystoreSigner({EVM_ADDR})"
    assert isinstance(registry.get(EVM_ADDR), LocalKeySigner)
