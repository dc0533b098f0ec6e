"""What a liquidity operation will send, computed from one consistent read of the chain.

A plan is pure data: the contract call (calldata with min amounts and deadline already in
it), the ERC20 approvals the current allowances do not cover, and the amounts expected.
Activities turn it into TransactionLifecycle requests; nothing here sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import is_address, to_checksum_address

from connectors.dex.base import Pool
from connectors.dex.reads import Read
from connectors.evm.calls import ContractCall
from crosslane.errors import InsufficientBalance, InvalidRequest

MULTICALL_TIMESTAMP = ("getCurrentBlockTimestamp()", ("uint256",))


@dataclass(frozen=True)
class Approval:
    """``token.approve(spender, amount)`` is needed: the allowance (base units) is short."""

    token: str
    spender: str
    amount: int
    allowance: int


@dataclass(frozen=True)
class TokenNeed:
    """``amount`` of ``token`` the call will pull from the owner through ``spender``."""

    token: str
    amount: int
    balance: int
    allowance: int


def approvals_for(spender: str, needs: list[TokenNeed]) -> tuple[Approval, ...]:
    """Approvals for the needs the allowance does not cover, exactly the amount needed;
    refuses a need the owner's balance cannot meet (before anything is approved)."""
    for need in needs:
        if need.amount > need.balance:
            raise InsufficientBalance(f"owner holds {need.balance} of {need.token}, the operation needs {need.amount}")
    return tuple(
        Approval(n.token, spender, n.amount, n.allowance) for n in needs if n.amount > 0 and n.allowance < n.amount
    )


def token_pair(token_a: str, token_b: str) -> tuple[str, str]:
    """Both tokens checksummed; refuses a non-address or the same token twice."""
    for token in (token_a, token_b):
        if not isinstance(token, str) or not is_address(token):
            raise InvalidRequest(f"not a token address: {token!r}")
    a, b = to_checksum_address(token_a), to_checksum_address(token_b)
    if a == b:
        raise InvalidRequest(f"token_a and token_b are the same token {a}")
    return a, b


def balance_read(token: str, owner: str) -> Read:
    return Read.of(token, "balanceOf(address)", ("uint256",), owner)


def allowance_read(token: str, owner: str, spender: str) -> Read:
    return Read.of(token, "allowance(address,address)", ("uint256",), owner, spender)


def timestamp_read(multicall: str) -> Read:
    return Read.of(multicall, *MULTICALL_TIMESTAMP)


@dataclass(frozen=True)
class LiquidityCallPlan:
    """One liquidity transaction, ready to send once ``approvals`` are mined.

    ``amount0``/``amount1`` (pool order, base units) are what the chain state read at
    ``block_number`` says it moves: deposited (add, mint, increase), released (remove,
    decrease) or paid out (collect); ``amount*_min`` are the bounds in the calldata.
    ``liquidity``: LP tokens minted or burned (V2), liquidity added or removed (V3).
    """

    pool: Pool
    call: ContractCall
    approvals: tuple[Approval, ...]
    amount0: int
    amount1: int
    amount0_min: int
    amount1_min: int
    liquidity: int
    deadline: int | None
    block_number: int
    token_id: int | None = None
