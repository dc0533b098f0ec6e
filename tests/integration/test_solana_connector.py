"""The Solana connector against the devnet node: transfers, fees, expiry proof, re-sign, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from connectors.solana.address import parse_address
from connectors.solana.amounts import token_units
from connectors.solana.client import SolanaClient
from connectors.solana.errors import BlockhashExpired, TransactionFailed
from connectors.solana.fees import PriorityFeePolicy, transaction_fee_lamports
from connectors.solana.signer import LocalKeypairSigner, SolanaSigner
from connectors.solana.transactions import (
    SOL_TRANSFER_COMPUTE_UNITS,
    SPL_TRANSFER_COMPUTE_UNITS,
    SignedSolanaTx,
    associated_token_address,
    sign_transaction,
    sol_transfer,
    spl_transfer,
)
from crosslane.errors import InvalidRequest, RpcUnavailable
from devnet.solana.seed import SeededMint, airdrop, seed
from devnet.solana.server import SolanaRpcServer
from tests.support.solana import set_faults, solana_node, wait_for_block_height

SOL = 10**9
POLICY = PriorityFeePolicy(percentile=75, cap_micro_lamports=50_000)


@pytest.fixture(scope="module")
async def node() -> AsyncIterator[SolanaRpcServer]:
    async with solana_node(slot_ms=10, blockhash_validity=20) as server:
        yield server


@pytest.fixture
async def client(node: SolanaRpcServer) -> AsyncIterator[SolanaClient]:
    await set_faults(node)
    async with SolanaClient(node.url, poll_interval_s=0.01) as sol:
        yield sol


@pytest.fixture(scope="module")
async def tokens(node: SolanaRpcServer) -> tuple[SolanaSigner, dict[str, SeededMint]]:
    """A wallet holding 1,000,000 of a 6-decimal SPL Token mint and a 9-decimal Token-2022 mint."""
    holder = LocalKeypairSigner(Keypair())
    async with SolanaClient(node.url, poll_interval_s=0.01) as sol:
        mints = await seed(sol, LocalKeypairSigner(Keypair()), [holder.pubkey])
    return holder, mints


async def funded(client: SolanaClient, lamports: int = 10 * SOL) -> SolanaSigner:
    signer = LocalKeypairSigner(Keypair())
    await airdrop(client, signer.pubkey, lamports)
    return signer


async def signed_sol_transfer(
    client: SolanaClient, sender: SolanaSigner, recipient: Pubkey, lamports: int, price: int | None = None
) -> SignedSolanaTx:
    if price is None:
        price = POLICY.price(await client.recent_priority_fees([sender.pubkey, recipient]))
    recent = await client.latest_blockhash()
    return await sign_transaction(
        sender, sol_transfer(sender.pubkey, recipient, lamports), recent, SOL_TRANSFER_COMPUTE_UNITS, price
    )


async def test_sol_transfer_moves_exact_amounts_and_fees(node: SolanaRpcServer, client: SolanaClient) -> None:
    sender, recipient = await funded(client), Keypair().pubkey()
    await set_faults(node, priority_fee_floor=20_000)  # congestion: every recent slot paid 20,000 µlamports/CU
    tx = await signed_sol_transfer(client, sender, recipient, SOL)
    assert tx.unit_price == 20_000
    confirmation = await client.send_and_confirm(tx, "confirmed")
    assert confirmation.signature == tx.signature and confirmation.commitment in ("confirmed", "finalized")
    fee = transaction_fee_lamports(1, 20_000, SOL_TRANSFER_COMPUTE_UNITS)
    assert fee == 5_000 + 20
    assert await client.balance(recipient) == SOL
    assert await client.balance(sender.pubkey) == 10 * SOL - SOL - fee


async def test_priority_fee_is_capped(node: SolanaRpcServer, client: SolanaClient) -> None:
    sender = await funded(client)
    await set_faults(node, priority_fee_floor=10_000_000)
    tx = await signed_sol_transfer(client, sender, Keypair().pubkey(), SOL)
    assert tx.unit_price == POLICY.cap_micro_lamports


async def test_rebroadcast_of_landed_bytes_answers_the_same_signature(client: SolanaClient) -> None:
    sender, recipient = await funded(client), Keypair().pubkey()
    tx = await signed_sol_transfer(client, sender, recipient, SOL)
    await client.send_and_confirm(tx)
    assert await client.send(tx) == tx.signature
    assert await client.send(tx, skip_preflight=True) == tx.signature
    assert await client.balance(recipient) == SOL
    finalized = await client.confirm(tx.signature, tx.last_valid_block_height, "finalized")
    assert finalized is not None and finalized.commitment == "finalized"


async def test_spl_transfer_checked_creates_the_recipient_ata_idempotently(
    client: SolanaClient, tokens: tuple[SolanaSigner, dict[str, SeededMint]]
) -> None:
    holder, mints = tokens
    recipient = Keypair().pubkey()
    for symbol in ("USDC", "T22"):
        mint = await client.mint_info(Pubkey.from_string(mints[symbol].mint))
        assert mint.decimals == mints[symbol].decimals
        mint_key, program = Pubkey.from_string(mint.mint), Pubkey.from_string(mint.token_program)
        amount = token_units(Decimal("12.5"), mint.decimals)
        source = associated_token_address(holder.pubkey, mint_key, program)
        destination = associated_token_address(recipient, mint_key, program)
        before = await client.token_balance(source)
        assert await client.token_balance(destination) == 0  # no account yet
        for _ in range(2):  # the second transfer finds the ATA and its creation is a no-op
            instructions = spl_transfer(holder.pubkey, recipient, mint_key, amount, mint.decimals, program)
            recent = await client.latest_blockhash()
            tx = await sign_transaction(holder, instructions, recent, SPL_TRANSFER_COMPUTE_UNITS, 0)
            await client.send_and_confirm(tx)
        assert await client.token_balance(destination) == 2 * amount
        assert await client.token_balance(source) == before - 2 * amount


async def test_spl_transfer_with_wrong_decimals_is_refused_on_chain(
    client: SolanaClient, tokens: tuple[SolanaSigner, dict[str, SeededMint]]
) -> None:
    holder, mints = tokens
    mint = mints["USDC"]
    mint_key, program = Pubkey.from_string(mint.mint), Pubkey.from_string(mint.token_program)
    instructions = spl_transfer(holder.pubkey, Keypair().pubkey(), mint_key, 1, 9, program)  # mint has 6
    recent = await client.latest_blockhash()
    tx = await sign_transaction(holder, instructions, recent, SPL_TRANSFER_COMPUTE_UNITS, 0)
    with pytest.raises(TransactionFailed):
        await client.send_and_confirm(tx, skip_preflight=True)


async def test_dropped_transaction_expires_provably_and_the_re_signed_one_lands_once(
    node: SolanaRpcServer, client: SolanaClient
) -> None:
    sender, recipient = await funded(client), Keypair().pubkey()
    start = await client.balance(sender.pubkey)
    await set_faults(node, drop_sends=1)
    first = await signed_sol_transfer(client, sender, recipient, SOL)
    assert await client.send(first) == first.signature  # answered, never executed
    assert not await client.expired(first.signature, first.last_valid_block_height)  # still could land
    assert await client.confirm(first.signature, first.last_valid_block_height) is None  # waits out the expiry
    assert await client.block_height("finalized") > first.last_valid_block_height
    assert await client.expired(first.signature, first.last_valid_block_height)
    with pytest.raises(BlockhashExpired):
        await client.send(first)  # the old bytes cannot be sent any more

    second = await signed_sol_transfer(client, sender, recipient, SOL, price=POLICY.bumped(first.unit_price))
    assert second.signature != first.signature and second.unit_price > first.unit_price
    await client.send_and_confirm(second)
    assert await client.balance(recipient) == SOL  # exactly one transfer
    fee = transaction_fee_lamports(1, second.unit_price, second.unit_limit)
    assert await client.balance(sender.pubkey) == start - SOL - fee


async def test_expired_blockhash_is_refused_on_send(node: SolanaRpcServer, client: SolanaClient) -> None:
    sender = await funded(client)
    tx = await signed_sol_transfer(client, sender, Keypair().pubkey(), SOL)
    await wait_for_block_height(node, tx.last_valid_block_height)
    with pytest.raises(BlockhashExpired) as refused:
        await client.send(tx)
    assert not refused.value.retryable
    # skip_preflight: the node takes the signature, and the proof says it will never land
    assert await client.send(tx, skip_preflight=True) == tx.signature
    assert await client.expired(tx.signature, tx.last_valid_block_height)


@pytest.mark.parametrize("kind", ["http", "jsonrpc"])
async def test_rpc_error_fault_is_a_retryable_rpc_unavailable(
    node: SolanaRpcServer, client: SolanaClient, kind: str
) -> None:
    sender = await funded(client)
    tx = await signed_sol_transfer(client, sender, Keypair().pubkey(), SOL)
    await set_faults(node, rpc_errors=1, rpc_error_kind=kind)
    with pytest.raises(RpcUnavailable) as failed:
        await client.send(tx)
    assert failed.value.retryable
    assert await client.send(tx) == tx.signature  # the retry of the same bytes goes through


async def test_failed_transaction_is_reported_with_its_error(client: SolanaClient) -> None:
    sender = await funded(client, SOL)
    tx = await signed_sol_transfer(client, sender, Keypair().pubkey(), 2 * SOL)  # more than it holds
    with pytest.raises(TransactionFailed) as failed:
        await client.send_and_confirm(tx, skip_preflight=True)
    assert failed.value.signature == tx.signature


async def test_bad_input_is_refused_with_the_field_named(
    client: SolanaClient, tokens: tuple[SolanaSigner, dict[str, SeededMint]]
) -> None:
    _, mints = tokens
    mint = await client.mint_info(Pubkey.from_string(mints["USDC"].mint))
    with pytest.raises(InvalidRequest, match="amount: .*more than 6 decimal places"):
        token_units(Decimal("1.0000001"), mint.decimals)
    with pytest.raises(InvalidRequest, match="mint: .* is not an SPL Token or Token-2022 mint"):
        await client.mint_info(Pubkey.from_string("11111111111111111111111111111111"))  # the System program
    pda, _ = Pubkey.find_program_address([b"vault"], Pubkey.from_string(mints["USDC"].token_program))
    with pytest.raises(InvalidRequest, match="recipient: .*off the ed25519 curve"):
        parse_address(str(pda), "recipient", wallet=True)
    with pytest.raises(InvalidRequest, match="lamports: must be positive"):
        sol_transfer(Keypair().pubkey(), Keypair().pubkey(), 0)
