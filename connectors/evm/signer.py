"""Who signs. Keys live only in the worker process; nothing here is ever serialised.

``Signer`` is the seam for KMS/HSM: an implementation needs an address and an async
``sign_transaction``. Local keys come from ``CROSSLANE_SIGNER_KEYS`` (comma-separated hex)
or from encrypted keystore files in ``CROSSLANE_KEYSTORE_DIR`` unlocked with
``CROSSLANE_KEYSTORE_PASSWORD`` or ``CROSSLANE_KEYSTORE_PASSWORD_FILE``.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from crosslane.errors import InvalidRequest, SignerUnavailable


@dataclass(frozen=True)
class SignedTx:
    raw: str  # 0x hex of the serialized signed transaction
    tx_hash: str  # 0x lowercase


class Signer(ABC):
    address: str

    @abstractmethod
    async def sign_transaction(self, tx: dict[str, Any]) -> SignedTx: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"


class LocalKeySigner(Signer):
    def __init__(self, private_key: str | bytes) -> None:
        self._account: LocalAccount = Account.from_key(private_key)
        self.address = self._account.address

    async def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        signed = self._account.sign_transaction(tx)
        return SignedTx(raw="0x" + signed.raw_transaction.hex(), tx_hash="0x" + signed.hash.hex())


class KeystoreSigner(LocalKeySigner):
    """An encrypted (web3 secret storage) keystore file, decrypted once at load."""

    def __init__(self, path: Path, password: str) -> None:
        not_a_keystore = SignerUnavailable(f"{path.name} is not a web3 secret-storage keystore file")
        try:
            keystore = json.loads(path.read_text())
        except ValueError:
            raise not_a_keystore from None
        try:
            key = Account.decrypt(keystore, password)
        except ValueError as exc:
            raise SignerUnavailable(f"cannot unlock keystore {path.name}: {exc}") from None
        except (KeyError, TypeError):
            raise not_a_keystore from None
        super().__init__(key)


def write_keystore(private_key: str, password: str, directory: Path) -> Path:
    """Encrypt a key to ``directory/<address>.json`` (mode 600)."""
    encrypted = Account.encrypt(private_key, password)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{Account.from_key(private_key).address}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, even briefly
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(encrypted))
    return path


class SignerRegistry:
    def __init__(self, signers: list[Signer] | None = None) -> None:
        self._by_address: dict[str, Signer] = {}
        for signer in signers or []:
            self.add(signer)

    def add(self, signer: Signer) -> None:
        self._by_address[signer.address.lower()] = signer

    def get(self, address: str) -> Signer:
        try:
            return self._by_address[address.lower()]
        except KeyError:
            raise SignerUnavailable(
                f"no key for signer {address} in this worker; "
                "load it with CROSSLANE_SIGNER_KEYS or CROSSLANE_KEYSTORE_DIR"
            ) from None

    @property
    def addresses(self) -> list[str]:
        return [s.address for s in self._by_address.values()]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SignerRegistry:
        env = os.environ if environ is None else environ
        registry = cls()
        for raw in filter(None, (k.strip() for k in env.get("CROSSLANE_SIGNER_KEYS", "").split(","))):
            try:
                registry.add(LocalKeySigner(raw))
            except (ValueError, TypeError):
                raise InvalidRequest("CROSSLANE_SIGNER_KEYS holds a value that is not a private key") from None
        keystore_dir = env.get("CROSSLANE_KEYSTORE_DIR")
        if keystore_dir:
            password = env.get("CROSSLANE_KEYSTORE_PASSWORD")
            password_file = env.get("CROSSLANE_KEYSTORE_PASSWORD_FILE")
            if password is None and password_file:
                password = Path(password_file).read_text().strip()
            if password is None:
                raise InvalidRequest("CROSSLANE_KEYSTORE_DIR is set but no keystore password is given")
            for path in sorted(Path(keystore_dir).glob("*.json")):
                registry.add(KeystoreSigner(path, password))
        return registry
