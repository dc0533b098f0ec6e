"""Encrypted keystore files for every family: Web3 Secret Storage v3 (scrypt, AES-128-CTR,
keccak MAC), the format geth and eth-account write. It encrypts 32 bytes, which is an EVM
private key and also an ed25519 seed (a Solana keypair's first half), so one audited format
serves both families; the file's ``family`` says whose key it is (a file without one is EVM,
as eth-account writes it).

The password comes from ``CROSSLANE_KEYSTORE_PASSWORD`` or ``CROSSLANE_KEYSTORE_PASSWORD_FILE``.
Nothing here logs or repeats a key or a password.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eth_keyfile import create_keyfile_json, decode_keyfile_json

from crosslane.domain.families import ChainFamily
from crosslane.errors import InvalidRequest, SignerUnavailable

SECRET_STORAGE = "web3 secret-storage keystore file"


def keystore_password(env: Mapping[str, str], what: str) -> str:
    """The keystore password from the environment; InvalidRequest naming ``what`` (the
    variable that asked for it) when none is given."""
    password = env.get("CROSSLANE_KEYSTORE_PASSWORD")
    password_file = env.get("CROSSLANE_KEYSTORE_PASSWORD_FILE")
    if password is None and password_file:
        password = Path(password_file).read_text().strip()
    if password is None:
        raise InvalidRequest(f"{what} is set but no keystore password is given")
    return password


def read_keystore(path: Path, family: ChainFamily) -> dict[str, Any]:
    """The parsed keystore file; SignerUnavailable naming the file (never its content) when
    it is not a keystore, or is another family's."""
    try:
        keystore = json.loads(path.read_text())
    except ValueError:
        raise SignerUnavailable(f"{path.name} is not a {SECRET_STORAGE}") from None
    if not isinstance(keystore, dict) or ("crypto" not in keystore and "Crypto" not in keystore):
        raise SignerUnavailable(f"{path.name} is not a {SECRET_STORAGE}")
    found = keystore.get("family", "evm")
    if found != family:
        raise SignerUnavailable(f"{path.name} holds a {found} key, not a {family} one")
    return keystore


def decrypt_keystore(path: Path, keystore: dict[str, Any], password: str) -> bytes:
    """The 32 secret bytes; SignerUnavailable for a wrong password (the MAC does not match)."""
    try:
        return bytes(decode_keyfile_json(keystore, password.encode()))
    except ValueError:
        raise SignerUnavailable(
            f"cannot unlock keystore {path.name}: the password does not open it (MAC mismatch)"
        ) from None
    except (KeyError, TypeError, NotImplementedError):
        raise SignerUnavailable(f"{path.name} is not a {SECRET_STORAGE}") from None


def encrypt_secret(secret: bytes, password: str, family: ChainFamily, address: str) -> dict[str, Any]:
    """A v3 keystore of 32 secret bytes (scrypt), labelled with its family and address."""
    keystore = create_keyfile_json(secret, password.encode(), kdf="scrypt")
    keystore.update(family=family, address=address)
    return keystore


def write_private_file(path: Path, text: str) -> Path:
    """Write ``text`` with mode 600: never readable by others, even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return path
