"""Calldata of the V3 periphery SwapRouter: exactInputSingle / exactInput (encoded path) and
exactOutputSingle / exactOutput.

A path is ``token (20 bytes) | fee (3 bytes, pips) | token | fee | token ...``; exactOutput
takes it reversed (output token first), because the router pays for each hop backwards.
The router reverts with ``Too little received`` / ``Too much requested`` when the limit is
not met and ``Transaction too old`` after ``deadline`` (unix seconds).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import encode as abi_encode

from connectors.dex.reads import selector

EXACT_INPUT_SINGLE = "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
EXACT_INPUT = "exactInput((bytes,address,uint256,uint256,uint256))"
EXACT_OUTPUT_SINGLE = "exactOutputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
EXACT_OUTPUT = "exactOutput((bytes,address,uint256,uint256,uint256))"
_SINGLE = ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"]
_MULTI = ["(bytes,address,uint256,uint256,uint256)"]
MAX_FEE = 2**24 - 1


def encode_path(tokens: Sequence[str], fees: Sequence[int]) -> bytes:
    """``tokens[0] | fees[0] | tokens[1] | ...``, as v3-periphery's Path library reads it."""
    if len(tokens) != len(fees) + 1 or not fees:
        raise ValueError(f"a path of {len(tokens)} tokens needs {len(tokens) - 1} fees, got {len(fees)}")
    out = b""
    for token, fee in zip(tokens, fees, strict=False):
        if not 0 <= fee <= MAX_FEE:
            raise ValueError(f"fee {fee} does not fit uint24")
        out += _address(token) + fee.to_bytes(3, "big")
    return out + _address(tokens[-1])


def decode_path(path: bytes) -> tuple[list[str], list[int]]:
    """The inverse of :func:`encode_path` (addresses lower-case hex)."""
    if len(path) < 43 or (len(path) - 20) % 23:
        raise ValueError(f"not an encoded V3 path: {len(path)} bytes")
    tokens, fees = [], []
    for offset in range(0, len(path) - 20, 23):
        tokens.append("0x" + path[offset : offset + 20].hex())
        fees.append(int.from_bytes(path[offset + 20 : offset + 23], "big"))
    tokens.append("0x" + path[-20:].hex())
    return tokens, fees


def _address(token: str) -> bytes:
    raw = bytes.fromhex(token.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {token!r}")
    return raw


def exact_input_single(
    token_in: str, token_out: str, fee: int, recipient: str, deadline: int, amount_in: int, amount_out_min: int
) -> bytes:
    params = (token_in, token_out, fee, recipient, deadline, amount_in, amount_out_min, 0)
    return selector(EXACT_INPUT_SINGLE) + abi_encode(_SINGLE, [params])


def exact_output_single(
    token_in: str, token_out: str, fee: int, recipient: str, deadline: int, amount_out: int, amount_in_max: int
) -> bytes:
    params = (token_in, token_out, fee, recipient, deadline, amount_out, amount_in_max, 0)
    return selector(EXACT_OUTPUT_SINGLE) + abi_encode(_SINGLE, [params])


def exact_input(
    tokens: Sequence[str], fees: Sequence[int], recipient: str, deadline: int, amount_in: int, amount_out_min: int
) -> bytes:
    """Multi-hop exact input along ``tokens`` (trade order)."""
    params = (encode_path(tokens, fees), recipient, deadline, amount_in, amount_out_min)
    return selector(EXACT_INPUT) + abi_encode(_MULTI, [params])


def exact_output(
    tokens: Sequence[str], fees: Sequence[int], recipient: str, deadline: int, amount_out: int, amount_in_max: int
) -> bytes:
    """Multi-hop exact output along ``tokens`` (trade order; the path is encoded reversed)."""
    path = encode_path(list(reversed(tokens)), list(reversed(fees)))
    params = (path, recipient, deadline, amount_out, amount_in_max)
    return selector(EXACT_OUTPUT) + abi_encode(_MULTI, [params])
