"""CREATE2 addresses, how every Uniswap-style factory places its pools.

``address = keccak256(0xff ++ deployer ++ salt ++ init_code_hash)[12:]``: with the deployer
(usually the factory) and the hash of the pool's creation code from configuration, a fork's
pool addresses follow without asking the chain.
"""

from __future__ import annotations

from functools import lru_cache

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from crosslane.domain.evm import checksum_address


def _address_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return raw


def hash_bytes(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"not a 32-byte hash: {value!r}")
    return raw


def create2_address(deployer: str, salt: bytes, init_code_hash: str) -> str:
    digest = keccak(b"\xff" + _address_bytes(deployer) + salt + hash_bytes(init_code_hash))
    return to_checksum_address(digest[12:])


def init_code_hash(creation_code: str | bytes) -> str:
    """keccak256 of a contract's creation code (constructor arguments included, if any)."""
    code = creation_code if isinstance(creation_code, bytes) else bytes.fromhex(creation_code.removeprefix("0x"))
    return "0x" + keccak(code).hex()


def sort_tokens(token_a: str, token_b: str) -> tuple[str, str]:
    """(token0, token1): the pools' order, by address as a number. Refuses identical tokens."""
    a, b = checksum_address(token_a), checksum_address(token_b)
    if a == b:
        raise ValueError(f"identical tokens {a}")
    return (a, b) if int(a, 16) < int(b, 16) else (b, a)


@lru_cache(maxsize=4096)  # pure, and asked for every candidate pool of every quote
def v2_pair_address(factory: str, init_code_hash: str, token_a: str, token_b: str) -> str:
    """UniswapV2Library.pairFor: salt = keccak256(abi.encodePacked(token0, token1))."""
    token0, token1 = sort_tokens(token_a, token_b)
    salt = keccak(_address_bytes(token0) + _address_bytes(token1))
    return create2_address(factory, salt, init_code_hash)


@lru_cache(maxsize=4096)  # pure, and asked for every candidate pool of every quote
def v3_pool_address(deployer: str, init_code_hash: str, token_a: str, token_b: str, fee: int) -> str:
    """PoolAddress.computeAddress: salt = keccak256(abi.encode(token0, token1, fee))."""
    token0, token1 = sort_tokens(token_a, token_b)
    salt = keccak(abi_encode(["address", "address", "uint24"], [token0, token1, fee]))
    return create2_address(deployer, salt, init_code_hash)
