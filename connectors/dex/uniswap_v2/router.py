"""Calldata of UniswapV2Router02's token-for-token swaps (any number of hops along ``path``).

The router pulls ``path[0]`` from the sender with ``transferFrom`` (so the sender must have
approved the router), swaps pair by pair and pays ``path[-1]`` to ``to``. It reverts with
``UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT`` / ``EXCESSIVE_INPUT_AMOUNT`` when the limit
is not met, and ``UniswapV2Router: EXPIRED`` after ``deadline`` (unix seconds).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import encode as abi_encode

from connectors.dex.reads import selector

SWAP_EXACT_TOKENS_FOR_TOKENS = "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)"
SWAP_TOKENS_FOR_EXACT_TOKENS = "swapTokensForExactTokens(uint256,uint256,address[],address,uint256)"
_ARGS = ["uint256", "uint256", "address[]", "address", "uint256"]


def _path(path: Sequence[str]) -> list[str]:
    if len(path) < 2:
        raise ValueError(f"a V2 path needs at least two tokens, got {list(path)}")
    return list(path)


def swap_exact_tokens_for_tokens(
    amount_in: int, amount_out_min: int, path: Sequence[str], to: str, deadline: int
) -> bytes:
    """Sell exactly ``amount_in`` of ``path[0]`` for at least ``amount_out_min`` of ``path[-1]``."""
    return selector(SWAP_EXACT_TOKENS_FOR_TOKENS) + abi_encode(
        _ARGS, [amount_in, amount_out_min, _path(path), to, deadline]
    )


def swap_tokens_for_exact_tokens(
    amount_out: int, amount_in_max: int, path: Sequence[str], to: str, deadline: int
) -> bytes:
    """Buy exactly ``amount_out`` of ``path[-1]`` for at most ``amount_in_max`` of ``path[0]``."""
    return selector(SWAP_TOKENS_FOR_EXACT_TOKENS) + abi_encode(
        _ARGS, [amount_out, amount_in_max, _path(path), to, deadline]
    )
