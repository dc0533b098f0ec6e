"""Who signs on Solana. Keys live only in the worker process; nothing here is serialised.

``SolanaSigner`` is the seam for KMS/HSM: an implementation needs an address and an async
``sign_message`` (ed25519 over the serialized message; ed25519 keys are what KMSs sign
with). Local keys come from ``CROSSLANE_SOLANA_KEYS``: comma-separated base58 keypairs
(the 64-byte form wallets export) or paths of Solana CLI keypair files (a JSON array).
An encrypted keystore can implement the same interface later.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from connectors.keystore import (
    decrypt_keystore,
    encrypt_secret,
    keystore_password,
    read_keystore,
    write_private_file,
)
from crosslane.domain.families import ChainFamily
from crosslane.errors import InvalidRequest, SignerUnavailable


class SolanaSigner(ABC):
    """A Solana account that signs (a ``connectors.chain_family.ChainSigner``)."""

    family: ChainFamily = "solana"
    address: str  # base58 public key

    @property
    def pubkey(self) -> Pubkey:
        return Pubkey.from_string(self.address)

    @abstractmethod
    async def sign_message(self, message: bytes) -> Signature: ...

    async def sign_payload(self, payload: bytes) -> bytes:
        """The 64-byte ed25519 signature of a serialized message."""
        return bytes(await self.sign_message(payload))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"


def parse_keypair(secret: str | bytes) -> Keypair:
    """A keypair from base58 text, a JSON array of 64 ints, or 64 raw bytes. The error never
    repeats the secret."""
    try:
        if isinstance(secret, bytes):
            return Keypair.from_bytes(secret)
        text = secret.strip()
        if text.startswith("["):
            return Keypair.from_bytes(bytes(json.loads(text)))
        return Keypair.from_base58_string(text)
    except (ValueError, TypeError):
        raise InvalidRequest(
            "not a Solana keypair: expected base58 of 64 bytes or a JSON array of 64 numbers"
        ) from None


class LocalKeypairSigner(SolanaSigner):
    def __init__(self, secret: str | bytes | Keypair) -> None:
        self._keypair = secret if isinstance(secret, Keypair) else parse_keypair(secret)
        self.address = str(self._keypair.pubkey())

    @classmethod
    def from_file(cls, path: Path) -> LocalKeypairSigner:
        """A Solana CLI keypair file (``id.json``)."""
        try:
            return cls(path.read_text())
        except InvalidRequest:
            raise SignerUnavailable(f"{path.name} is not a Solana keypair file") from None

    async def sign_message(self, message: bytes) -> Signature:
        return self._keypair.sign_message(message)


class SolanaKeystoreSigner(LocalKeypairSigner):
    """An encrypted keystore file holding the ed25519 seed, decrypted once at load."""

    def __init__(self, path: Path, password: str) -> None:
        keystore = read_keystore(path, "solana")
        seed = decrypt_keystore(path, keystore, password)
        super().__init__(Keypair.from_seed(seed))
        if keystore.get("address") not in (None, self.address):
            raise SignerUnavailable(f"{path.name} says it holds {keystore['address']} but its key is {self.address}")


def write_solana_keystore(secret: str | bytes | Keypair, password: str, directory: Path) -> Path:
    """Encrypt a keypair's seed to ``directory/<address>.json`` (mode 600)."""
    keypair = secret if isinstance(secret, Keypair) else parse_keypair(secret)
    address = str(keypair.pubkey())
    encrypted = encrypt_secret(keypair.secret(), password, "solana", address)
    return write_private_file(directory / f"{address}.json", json.dumps(encrypted))


class SolanaSignerRegistry:
    def __init__(self, signers: list[SolanaSigner] | None = None) -> None:
        self._by_address = {signer.address: signer for signer in signers or []}

    def add(self, signer: SolanaSigner) -> None:
        self._by_address[signer.address] = signer

    def get(self, address: str) -> SolanaSigner:
        try:
            return self._by_address[address]
        except KeyError:
            raise SignerUnavailable(
                f"no key for Solana signer {address} in this worker; "
                "load it with CROSSLANE_SOLANA_KEYS or CROSSLANE_SOLANA_KEYSTORE_DIR"
            ) from None

    @property
    def addresses(self) -> list[str]:
        return list(self._by_address)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SolanaSignerRegistry:
        env = os.environ if environ is None else environ
        registry = cls()
        for item in filter(None, (k.strip() for k in env.get("CROSSLANE_SOLANA_KEYS", "").split(","))):
            if item.endswith(".json"):
                registry.add(LocalKeypairSigner.from_file(Path(item)))
                continue
            try:
                registry.add(LocalKeypairSigner(item))
            except InvalidRequest:
                raise InvalidRequest("CROSSLANE_SOLANA_KEYS holds a value that is not a Solana keypair") from None
        keystore_dir = env.get("CROSSLANE_SOLANA_KEYSTORE_DIR")
        if keystore_dir:
            password = keystore_password(env, "CROSSLANE_SOLANA_KEYSTORE_DIR")
            for path in sorted(Path(keystore_dir).glob("*.json")):
                registry.add(SolanaKeystoreSigner(path, password))
        return registry
