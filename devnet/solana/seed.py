"""Seeding a Solana devnet node over RPC, as a user would: airdrop SOL, create SPL mints
(SPL Token or Token-2022), mint tokens into wallets' associated token accounts."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from spl.token.constants import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from spl.token.instructions import (
    create_idempotent_associated_token_account,
    initialize_mint2,
    mint_to_checked,
)
from spl.token.models import InitializeMint2Params, MintToCheckedParams

from connectors.solana.client import Confirmation, SolanaClient
from connectors.solana.signer import LocalKeypairSigner, SolanaSigner
from connectors.solana.transactions import associated_token_address, sign_transaction

MINT_ACCOUNT_LEN = 82  # SPL Token mint layout (Token-2022 without extensions too)
SEED_COMPUTE_UNITS = 100_000


class MintSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    decimals: int
    token_2022: bool = False


DEFAULT_TOKENS = (MintSpec(symbol="USDC", decimals=6), MintSpec(symbol="T22", decimals=9, token_2022=True))


class SeededMint(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    mint: str
    decimals: int
    token_program: str


async def _run(
    client: SolanaClient, payer: SolanaSigner, instructions: list[Instruction], *co_signers: SolanaSigner
) -> Confirmation:
    recent = await client.latest_blockhash()
    tx = await sign_transaction(payer, instructions, recent, SEED_COMPUTE_UNITS, 0, co_signers)
    return await client.send_and_confirm(tx)


async def airdrop(client: SolanaClient, wallet: Pubkey, lamports: int) -> None:
    signature = await client.request_airdrop(wallet, lamports)
    await client.confirm(signature, (await client.latest_blockhash()).last_valid_block_height)


async def create_mint(client: SolanaClient, authority: SolanaSigner, spec: MintSpec) -> SeededMint:
    """A new mint whose mint authority (and fee payer) is ``authority``."""
    mint = LocalKeypairSigner(Keypair())
    program = TOKEN_2022_PROGRAM_ID if spec.token_2022 else TOKEN_PROGRAM_ID
    rent = await client.rent_exempt_minimum(MINT_ACCOUNT_LEN)
    create = CreateAccountParams(
        from_pubkey=authority.pubkey, to_pubkey=mint.pubkey, lamports=rent, space=MINT_ACCOUNT_LEN, owner=program
    )
    init = InitializeMint2Params(
        decimals=spec.decimals, program_id=program, mint=mint.pubkey, mint_authority=authority.pubkey
    )
    await _run(client, authority, [create_account(create), initialize_mint2(init)], mint)
    return SeededMint(symbol=spec.symbol, mint=mint.address, decimals=spec.decimals, token_program=str(program))


async def mint_to(client: SolanaClient, authority: SolanaSigner, mint: SeededMint, wallet: Pubkey, amount: int) -> None:
    """``amount`` base units into ``wallet``'s associated token account (created if missing)."""
    mint_key, program = Pubkey.from_string(mint.mint), Pubkey.from_string(mint.token_program)
    params = MintToCheckedParams(
        program_id=program,
        mint=mint_key,
        dest=associated_token_address(wallet, mint_key, program),
        mint_authority=authority.pubkey,
        amount=amount,
        decimals=mint.decimals,
    )
    ata = create_idempotent_associated_token_account(authority.pubkey, wallet, mint_key, program)
    await _run(client, authority, [ata, mint_to_checked(params)])


async def seed(
    client: SolanaClient,
    authority: SolanaSigner,
    wallets: Sequence[Pubkey],
    *,
    lamports: int = 100 * 10**9,
    tokens: Sequence[MintSpec] = DEFAULT_TOKENS,
    whole_tokens: int = 1_000_000,
) -> dict[str, SeededMint]:
    """Fund ``authority`` and ``wallets`` with SOL, create ``tokens``' mints and give each
    wallet ``whole_tokens`` of each. The mints by symbol."""
    for wallet in (authority.pubkey, *wallets):
        await airdrop(client, wallet, lamports)
    mints = {spec.symbol: await create_mint(client, authority, spec) for spec in tokens}
    for mint in mints.values():
        for wallet in wallets:
            await mint_to(client, authority, mint, wallet, whole_tokens * 10**mint.decimals)
    return mints
