"""Both families through the one seam, against real nodes (anvil; the devnet's Solana node):
the same family-blind code lands a native transfer on each, and each family's exclusivity
decides which of two attempts can land."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from connectors.chain_family import ChainFamilyAdapter, FamilyRegistry
from connectors.evm.client import EvmClient
from connectors.evm.family import EvmFamily
from connectors.evm.signer import LocalKeySigner, SignerRegistry
from connectors.solana.client import SolanaClient
from connectors.solana.family import SolanaFamily
from connectors.solana.signer import LocalKeypairSigner, SolanaSignerRegistry
from crosslane.domain.chains import ChainConfig
from crosslane.domain.families import BlockhashExpiry, Landing, NativeTransfer, NonceExclusivity, SignedAttempt
from crosslane.errors import NonceConsumed
from devnet.anvil import find_free_port, rpc_call, start_anvil
from devnet.solana.seed import airdrop
from devnet.solana.server import SolanaRpcServer
from tests.support.solana import solana_node

pytestmark = pytest.mark.timeout(120)
CHAIN_ID = 31337
EVM_CHAIN, CLUSTER = "seam-evm", "seam-solana"


@dataclass
class Setup:
    families: FamilyRegistry
    senders: dict[str, str]  # family -> a funded account the registry holds a key for
    recipients: dict[str, str]
    chains: dict[str, str]  # family -> chain name
    balance: dict[str, Any]  # family -> async (address) -> int
    anvil_url: str


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    anvil = start_anvil(find_free_port(), CHAIN_ID)
    yield anvil.url
    anvil.stop()


@pytest.fixture(scope="module")
async def node() -> AsyncIterator[SolanaRpcServer]:
    async with solana_node(slot_ms=10, blockhash_validity=20) as server:
        yield server


@pytest.fixture
async def setup(anvil_url: str, node: SolanaRpcServer) -> AsyncIterator[Setup]:
    evm_client = EvmClient(ChainConfig(name=EVM_CHAIN, chain_id=CHAIN_ID, rpc_urls=[anvil_url], confirmations=2))
    sol_client = SolanaClient(node.url, poll_interval_s=0.01)
    evm_signer = LocalKeySigner("0x" + secrets.token_hex(32))
    rpc_call(anvil_url, "anvil_setBalance", [evm_signer.address, hex(10**21)])
    sol_signer = LocalKeypairSigner(Keypair())
    await airdrop(sol_client, sol_signer.pubkey, 10 * 10**9)
    families = FamilyRegistry(
        [
            EvmFamily({EVM_CHAIN: evm_client}.__getitem__, SignerRegistry([evm_signer])),
            SolanaFamily({CLUSTER: sol_client}.__getitem__, SolanaSignerRegistry([sol_signer])),
        ]
    )

    async def evm_balance(address: str) -> int:
        return int(await evm_client.call(lambda w3: w3.eth.get_balance(address), "eth_getBalance"))

    async def sol_balance(address: str) -> int:
        return await sol_client.balance(Pubkey.from_string(address))

    yield Setup(
        families=families,
        senders={"evm": evm_signer.address, "solana": sol_signer.address},
        recipients={"evm": Account.create().address, "solana": str(Keypair().pubkey())},
        chains={"evm": EVM_CHAIN, "solana": CLUSTER},
        balance={"evm": evm_balance, "solana": sol_balance},
        anvil_url=anvil_url,
    )
    await evm_client.close()
    await sol_client.close()


async def sign(adapter: ChainFamilyAdapter, chain: str, transfer: NativeTransfer) -> SignedAttempt:
    """Family-blind: bind, price, build and sign."""
    exclusivity = await adapter.exclusivity(chain, transfer.sender)
    fee = await adapter.fee_quote(chain, transfer.sender)
    return await adapter.build_and_sign(chain, transfer, fee, exclusivity)


@pytest.mark.parametrize("family", ["evm", "solana"])
async def test_the_same_code_lands_a_transfer_on_either_family(setup: Setup, family: str) -> None:
    adapter, chain = setup.families.get(family), setup.chains[family]
    sender, recipient = setup.senders[family], setup.recipients[family]
    transfer = NativeTransfer(sender=sender, recipient=recipient, amount=123_456_789)
    attempt = await sign(adapter, chain, transfer)
    assert (attempt.family, attempt.account) == (family, sender)
    assert attempt.chain == {"evm": f"eip155:{CHAIN_ID}", "solana": f"solana:{CLUSTER}"}[family]
    assert await adapter.submit(chain, attempt) == attempt.tx_id
    assert await adapter.submit(chain, attempt) == attempt.tx_id  # the same bytes again: not an error
    if family == "evm":
        rpc_call(setup.anvil_url, "evm_mine", [])  # a second block: the chain wants 2 confirmations
    landing = await adapter.confirm(chain, attempt, "confirmed", poll_interval_s=0.01)
    assert landing == Landing(tx_id=attempt.tx_id, height=landing.height, commitment="confirmed", succeeded=True)
    assert await setup.balance[family](recipient) == 123_456_789


async def test_evm_attempts_for_one_nonce_exclude_each_other(setup: Setup) -> None:
    adapter, chain = setup.families.get("evm"), EVM_CHAIN
    transfer = NativeTransfer(sender=setup.senders["evm"], recipient=setup.recipients["evm"], amount=1)
    nonce = await adapter.exclusivity(chain, transfer.sender)
    assert nonce == NonceExclusivity(nonce=0)
    fee = await adapter.fee_quote(chain, transfer.sender)
    first = await adapter.build_and_sign(chain, transfer, fee, nonce)
    bumped = fee.model_copy(update={"max_price": fee.max_price * 2, "priority": fee.priority * 2})
    replacement = await adapter.build_and_sign(chain, transfer, bumped, nonce)
    assert first.exclusivity.key == replacement.exclusivity.key == "nonce:0" and first.tx_id != replacement.tx_id
    await adapter.submit(chain, replacement)
    assert (await adapter.confirm(chain, replacement, "processed", poll_interval_s=0.01)).succeeded
    # the nonce is used: the other attempt can never land, and confirm says so
    assert await adapter.confirm(chain, first, "processed", poll_interval_s=0.01) is None
    with pytest.raises(NonceConsumed, match="was used by another transaction"):
        await adapter.submit(chain, first)
    assert await adapter.exclusivity(chain, transfer.sender) == NonceExclusivity(nonce=1)


async def test_evm_finalized_waits_for_the_finalized_block(setup: Setup) -> None:
    adapter, chain = setup.families.get("evm"), EVM_CHAIN
    transfer = NativeTransfer(sender=setup.senders["evm"], recipient=setup.recipients["evm"], amount=1)
    attempt = await sign(adapter, chain, transfer)
    await adapter.submit(chain, attempt)
    waiting = asyncio.ensure_future(adapter.confirm(chain, attempt, "finalized", poll_interval_s=0.01))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # mined, but not yet under the finalized block
    rpc_call(setup.anvil_url, "anvil_mine", [hex(80)])
    landing = await asyncio.wait_for(waiting, 30)
    assert landing is not None and landing.commitment == "finalized" and landing.succeeded


async def test_solana_attempt_is_exclusive_by_its_blockhash_expiry(setup: Setup, node: SolanaRpcServer) -> None:
    adapter, chain = setup.families.get("solana"), CLUSTER
    transfer = NativeTransfer(sender=setup.senders["solana"], recipient=setup.recipients["solana"], amount=5_000_000)
    attempt = await sign(adapter, chain, transfer)
    assert isinstance(attempt.exclusivity, BlockhashExpiry)
    assert attempt.exclusivity.key == f"blockhash:{attempt.exclusivity.blockhash}"
    # never sent: confirm waits until its blockhash is finalized-past and then proves it can never land
    assert await adapter.confirm(chain, attempt, "confirmed", poll_interval_s=0.01) is None
    assert node.node.block_height_at("finalized") > attempt.exclusivity.last_valid_block_height
    assert await setup.balance["solana"](transfer.recipient) == 0
    # only now is another attempt safe: a fresh blockhash, and it lands
    again = await sign(adapter, chain, transfer)
    assert again.exclusivity.key != attempt.exclusivity.key
    await adapter.submit(chain, again)
    assert (await adapter.confirm(chain, again, "finalized", poll_interval_s=0.01)).commitment == "finalized"
    assert await setup.balance["solana"](transfer.recipient) == 5_000_000
