"""Deploy the devnet's base contracts onto one fresh anvil chain.

Real bytecode where a real protocol exists (WETH9 from ``@uniswap/v2-periphery``,
Multicall3 from ``viem``), our ``TestToken`` artifact for the test ERC20s. Transactions
are signed locally with explicit nonces and gas limits and sent back to back, then all
receipts are awaited together: contract addresses follow from (deployer, nonce), so the
mints need not wait for the deployments, and a chain deploys in well under a second.

On a fresh chain the deployer starts at nonce 0, so every devnet chain gets the *same*
addresses, as real multi-chain deployments often do.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_typing import ChecksumAddress, HexStr
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import AsyncWeb3
from web3.exceptions import TransactionNotFound
from web3.types import Nonce, RPCEndpoint
from web3.utils.address import get_create_address

from connectors.evm.client import async_http_provider
from crosslane.domain.chains import ChainConfig, TokenInfo
from devnet.anvil import (
    DEFAULT_ACCOUNTS,
    DEFAULT_MNEMONIC,
    REPO_ROOT,
    DevnetError,
    dev_account,
    dev_addresses,
    node_modules_dir,
)

MULTICALL3_ADDRESS = to_checksum_address("0xcA11bde05977b3631167028862bE2a173976CA11")
TEST_TOKEN_ARTIFACT = REPO_ROOT / "contracts" / "artifacts" / "TestToken.json"

# Explicit gas limits with headroom: anvil's estimate is not trusted (see DESIGN.md), and
# estimating would cost a round trip per transaction.
GAS_WETH9_DEPLOY = 1_500_000
GAS_TOKEN_DEPLOY = 2_500_000
GAS_MINT = 200_000
PRIORITY_FEE_WEI = 1_000_000_000


@dataclass(frozen=True)
class TokenSpec:
    symbol: str
    name: str
    decimals: int
    mint_whole: int  # whole tokens minted to each dev account


TEST_TOKENS: tuple[TokenSpec, ...] = (
    TokenSpec("USDC", "USD Coin", 6, 10_000_000),
    TokenSpec("WBTC", "Wrapped BTC", 8, 1_000),
    TokenSpec("DAI", "Dai Stablecoin", 18, 10_000_000),
)


def weth9_artifact() -> dict[str, Any]:
    path = node_modules_dir() / "@uniswap" / "v2-periphery" / "build" / "WETH9.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise DevnetError(f"{path} missing; run `npm ci`") from None
    return data


def test_token_artifact() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(TEST_TOKEN_ARTIFACT.read_text())
    except FileNotFoundError:
        raise DevnetError(f"{TEST_TOKEN_ARTIFACT} missing; run `python -m contracts.build`") from None
    return data


def multicall3_creation_code() -> str:
    """viem ships Multicall3's creation code as a JS string constant; read it out."""
    path = node_modules_dir() / "viem" / "_cjs" / "constants" / "contracts.js"
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DevnetError(f"{path} missing; run `npm ci`") from None
    match = re.search(r"multicall3Bytecode\s*=\s*['\"](0x[0-9a-fA-F]+)['\"]", text)
    if not match:
        raise DevnetError(f"multicall3Bytecode not found in {path}")
    return match.group(1)


def _hex(code: str) -> str:
    return code if code.startswith("0x") else "0x" + code


def _mint_calldata(to: str, amount: int) -> str:
    selector = function_signature_to_4byte_selector("mint(address,uint256)")
    return "0x" + (selector + abi_encode(["address", "uint256"], [to, amount])).hex()


async def _install_multicall3(w3: AsyncWeb3[Any]) -> None:
    """Put Multicall3 at its canonical address, as on every real chain.

    eth_call with the creation code and no ``to`` returns the runtime code (Multicall3
    has no constructor arguments or immutables), which anvil_setCode then installs.
    """
    if len(await w3.eth.get_code(MULTICALL3_ADDRESS)) > 0:
        return
    runtime = await w3.eth.call({"data": HexStr(multicall3_creation_code())})
    if not runtime:
        raise DevnetError("Multicall3 creation code returned no runtime code")
    reply = await w3.provider.make_request(
        RPCEndpoint("anvil_setCode"),
        [MULTICALL3_ADDRESS, "0x" + bytes(runtime).hex()],
    )
    if isinstance(reply, dict) and reply.get("error"):
        raise DevnetError(f"anvil_setCode failed: {reply['error']}")


async def deploy_chain(
    name: str,
    rpc_url: str,
    *,
    chain_id: int | None = None,
    rpc_urls: list[str] | None = None,
    mnemonic: str = DEFAULT_MNEMONIC,
    accounts: int = DEFAULT_ACCOUNTS,
    receipt_timeout: float = 30.0,
) -> ChainConfig:
    """Deploy WETH9, USDC/WBTC/DAI (minted to dev accounts) and Multicall3 on ``rpc_url``.

    ``rpc_urls`` is what the returned config advertises (e.g. fault proxies); deployment
    always talks to ``rpc_url`` directly.
    """
    w3 = AsyncWeb3(async_http_provider(rpc_url))
    try:
        return await _deploy(w3, name, rpc_url, chain_id, rpc_urls, mnemonic, accounts, receipt_timeout)
    finally:
        await w3.provider.disconnect()


async def _deploy(
    w3: AsyncWeb3[Any],
    name: str,
    rpc_url: str,
    chain_id: int | None,
    rpc_urls: list[str] | None,
    mnemonic: str,
    accounts: int,
    receipt_timeout: float,
) -> ChainConfig:
    actual_chain_id = await w3.eth.chain_id
    if chain_id is not None and actual_chain_id != chain_id:
        raise DevnetError(f"{rpc_url} is chain {actual_chain_id}, expected {chain_id}")
    deployer, key = dev_account(0, mnemonic)
    recipients = dev_addresses(accounts, mnemonic)
    nonce, block = await asyncio.gather(w3.eth.get_transaction_count(deployer, "pending"), w3.eth.get_block("latest"))
    base_fee = int(block.get("baseFeePerGas", 0) or 0)
    fee_fields = {
        "maxPriorityFeePerGas": PRIORITY_FEE_WEI,
        "maxFeePerGas": 2 * base_fee + PRIORITY_FEE_WEI,
    }

    # (label, data, gas, to): to=None is a creation.
    plan: list[tuple[str, str, int, ChecksumAddress | None]] = []
    addresses: dict[str, ChecksumAddress] = {}

    def add(label: str, data: str, gas: int, to: ChecksumAddress | None = None) -> None:
        if to is None:
            addresses[label] = get_create_address(deployer, Nonce(nonce + len(plan)))
        plan.append((label, data, gas, to))

    add("WETH9", _hex(weth9_artifact()["bytecode"]), GAS_WETH9_DEPLOY)
    token_code = _hex(test_token_artifact()["bytecode"])
    for spec in TEST_TOKENS:
        args = abi_encode(["string", "string", "uint8"], [spec.name, spec.symbol, spec.decimals])
        add(spec.symbol, token_code + args.hex(), GAS_TOKEN_DEPLOY)
    for spec in TEST_TOKENS:
        amount = spec.mint_whole * 10**spec.decimals
        for recipient in recipients:
            add(
                f"mint {spec.symbol} to {recipient}",
                _mint_calldata(recipient, amount),
                GAS_MINT,
                addresses[spec.symbol],
            )

    hashes = []
    for i, (_label, data, gas, to) in enumerate(plan):
        tx: dict[str, Any] = {
            "chainId": actual_chain_id,
            "nonce": nonce + i,
            "gas": gas,
            "value": 0,
            "data": data,
            **fee_fields,
        }
        if to is not None:
            tx["to"] = to
        signed = Account.sign_transaction(tx, key)
        hashes.append(await w3.eth.send_raw_transaction(signed.raw_transaction))

    await _install_multicall3(w3)
    receipts = await mined_receipts(w3, hashes, receipt_timeout, name)
    for (label, *_rest), receipt in zip(plan, receipts, strict=True):
        if receipt["status"] != 1:
            raise DevnetError(f"{name}: {label} reverted (tx {receipt['transactionHash'].hex()})")
        expected = addresses.get(label)
        if expected is not None and receipt["contractAddress"] != expected:
            raise DevnetError(f"{name}: {label} deployed at {receipt['contractAddress']}, expected {expected}")

    contracts: dict[str, str] = {"WETH9": addresses["WETH9"], "Multicall3": MULTICALL3_ADDRESS}
    tokens = {"WETH": TokenInfo(symbol="WETH", address=addresses["WETH9"], decimals=18)}
    for spec in TEST_TOKENS:
        contracts[spec.symbol] = addresses[spec.symbol]
        tokens[spec.symbol] = TokenInfo(symbol=spec.symbol, address=addresses[spec.symbol], decimals=spec.decimals)
    return ChainConfig(
        name=name,
        chain_id=actual_chain_id,
        rpc_urls=rpc_urls or [rpc_url],
        contracts=contracts,
        tokens=tokens,
    )


NUDGE_S = 3.0  # a deploy's receipts not all in after this long: anvil is nudged with an empty block


async def mined_receipts(w3: AsyncWeb3[Any], hashes: Sequence[bytes], timeout: float, chain: str) -> list[Any]:
    """The receipts of ``hashes`` (one sender's consecutive nonces, sent to an automining anvil),
    in order. Anvil's automine now and then leaves an accepted transaction unmined (seen in CI:
    three sent while a block was being mined, two mined, the third and every later nonce left in
    the pool): when no receipt has come for ``NUDGE_S``, ``evm_mine`` seals a block with the
    pool's ready transactions. A refused or vanished transaction still ends in ``DevnetError``
    after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    nudge_at = loop.time() + NUDGE_S
    found: list[Any] = []
    while True:
        while len(found) < len(hashes):
            try:
                found.append(await w3.eth.get_transaction_receipt(HexBytes(hashes[len(found)])))
            except TransactionNotFound:
                break  # the later nonces cannot be mined before this one
            nudge_at = loop.time() + NUDGE_S
        if len(found) == len(hashes):
            return found
        now = loop.time()
        if now > deadline:
            missing = HexBytes(hashes[len(found)])
            raise DevnetError(
                f"{chain}: {len(hashes) - len(found)} transaction(s) not mined after {timeout}s, from "
                f"{missing.hex()}: {await _node_view(w3, missing)}"
            )
        if now >= nudge_at:
            await w3.provider.make_request(RPCEndpoint("evm_mine"), [])
            nudge_at = now + NUDGE_S
        await asyncio.sleep(0.02)


async def _node_view(w3: AsyncWeb3[Any], tx_hash: HexBytes) -> str:
    """What the node knows of an unmined transaction, for the error: whether it holds it, its
    nonce against the sender's mined one (a gap leaves it queued for good) and the pool's size."""
    try:
        tx = await w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return "the node does not hold it"
    except Exception as exc:  # noqa: BLE001 - a diagnosis must not hide the error it explains
        return f"the node did not say ({exc})"
    mined = await w3.eth.get_transaction_count(tx["from"], "latest")
    pool = await w3.provider.make_request(RPCEndpoint("txpool_status"), [])
    return f"the node holds it at nonce {tx['nonce']}, the sender's mined nonce is {mined}, pool {pool.get('result')}"
