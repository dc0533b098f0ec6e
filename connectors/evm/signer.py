"""Who signs. Keys live only in the worker process; nothing here is ever serialised.

``Signer`` is the seam for KMS/HSM: an implementation needs an address and an async
``sign_payload`` (a secp256k1 signature of a 32-byte digest, what a KMS signs); the
transaction is built, hashed and encoded around it. ``LocalKeySigner`` signs whole
transactions with eth-account directly. Local keys come from ``CROSSLANE_SIGNER_KEYS`` (comma-separated hex)
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
from eth_account._utils.signing import encode_transaction, serializable_unsigned_transaction_from_dict
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from eth_utils import keccak

from connectors.keystore import (
    decrypt_keystore,
    encrypt_secret,
    keystore_password,
    read_keystore,
    write_private_file,
)
from crosslane.domain.families import ChainFamily
from crosslane.errors import InvalidRequest, SignerUnavailable


@dataclass(frozen=True)
class SignedTx:
    raw: str  # 0x hex of the serialized signed transaction
    tx_hash: str  # 0x lowercase


class Signer(ABC):
    """An EVM account that signs (a ``connectors.chain_family.ChainSigner``)."""

    family: ChainFamily = "evm"
    address: str

    @abstractmethod
    async def sign_payload(self, payload: bytes) -> bytes:
        """r || s || y-parity (65 bytes) over a 32-byte digest."""

    async def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        """A typed transaction dict signed through ``sign_payload``."""
        unsigned = serializable_unsigned_transaction_from_dict(tx)
        signature = await self.sign_payload(unsigned.hash())
        r, s, v = int.from_bytes(signature[:32]), int.from_bytes(signature[32:64]), signature[64]
        raw = encode_transaction(unsigned, vrs=(v, r, s))
        return SignedTx(raw="0x" + raw.hex(), tx_hash="0x" + keccak(raw).hex())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"


class LocalKeySigner(Signer):
    def __init__(self, private_key: str | bytes) -> None:
        self._account: LocalAccount = Account.from_key(private_key)
        self.address = self._account.address

    async def sign_payload(self, payload: bytes) -> bytes:
        if len(payload) != 32:
            raise InvalidRequest(f"an EVM signer signs 32-byte digests, not {len(payload)} bytes")
        return keys.PrivateKey(self._account.key).sign_msg_hash(payload).to_bytes()

    async def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        return self.sign_transaction_here(tx)

    def sign_transaction_here(self, tx: dict[str, Any]) -> SignedTx:
        """``sign_transaction`` in the calling thread: the key is in this process (no I/O)."""
        signed = self._account.sign_transaction(tx)
        return SignedTx(raw="0x" + signed.raw_transaction.hex(), tx_hash="0x" + signed.hash.hex())


class KeystoreSigner(LocalKeySigner):
    """An encrypted (web3 secret storage) keystore file, decrypted once at load."""

    def __init__(self, path: Path, password: str) -> None:
        super().__init__(decrypt_keystore(path, read_keystore(path, "evm"), password))


def write_keystore(private_key: str, password: str, directory: Path) -> Path:
    """Encrypt a key to ``directory/<address>.json`` (mode 600)."""
    account = Account.from_key(private_key)
    encrypted = encrypt_secret(bytes(account.key), password, "evm", account.address[2:].lower())
    return write_private_file(directory / f"{account.address}.json", json.dumps(encrypted))


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
            password = keystore_password(env, "CROSSLANE_KEYSTORE_DIR")
            for path in sorted(Path(keystore_dir).glob("*.json")):
                registry.add(KeystoreSigner(path, password))
        return registry
