"""A market for Wormhole's wrapped USDC on the destination chain.

Wormhole's token bridge delivers its own wrapped asset (``Wormhole:devnet-a:USDC`` on
devnet-b), which none of the seeded pools holds. Seeded here, once Wormhole is deployed: the
deployer bridges :data:`SEED_WHOLE` USDC A→B for real (``transferTokens`` on A, the VAA signed
by the devnet guardian set in-process, ``completeTransfer`` on B), then pairs all of it with as
much native USDC in a Uniswap V2 pair on B (1:1), recorded in the chain's ``uniswap_v2`` pools
so the DEX connectors route wrapped USDC → USDC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3 import AsyncWeb3

from connectors.bridges.wormhole_vaa import emitter_bytes32
from connectors.dex.create2 import sort_tokens
from connectors.evm.client import async_http_provider
from crosslane.domain.chains import ChainConfig, DexPoolInfo
from devnet.anvil import DevnetError
from devnet.wormhole.deploy import GAS, TxSender, WormholeEndpoint, calldata, publish_and_sign
from devnet.wormhole.vaa import DEVNET_GUARDIAN_KEYS

SOURCE, DESTINATION, SYMBOL = "devnet-a", "devnet-b", "USDC"
SEED_WHOLE = 10_000_000  # each side of the pair: deep enough that a sandwich on a migration-sized
# swap (thousands) costs more in the 0.3% fees than it takes (DexSwap's max_sandwich_bps)
V2_DEX = "uniswap_v2"
V2_FEE_PIPS = 3000
V2_ADD_LIQUIDITY_GAS = 3_500_000  # creates the pair on first add
NO_DEADLINE = 2**63


def _call(signature: str, types: Sequence[str], *args: Any) -> bytes:
    return function_signature_to_4byte_selector(signature) + abi_encode(list(types), list(args))


async def _mint_and_approve(sender: TxSender, token: str, spender: str, amount: int) -> list[tuple[str, bytes]]:
    """Mint ``amount`` of a test token to the sender and approve exactly that to ``spender``;
    the sent transactions, not awaited."""
    word = ["address", "uint256"]
    mint = _call("mint(address,uint256)", word, sender.address, amount)
    approve = _call("approve(address,uint256)", word, spender, amount)
    return [
        (f"mint {token}", await sender.send(f"mint {token}", token, mint, GAS["approve"])),
        (f"approve {token}", await sender.send(f"approve {token}", token, approve, GAS["approve"])),
    ]


def wrapped_key(source: str = SOURCE, symbol: str = SYMBOL) -> str:
    """The contract key :func:`devnet.wormhole.deploy.with_wrapped` records the wrapped asset under."""
    return f"Wormhole:{source}:{symbol}"


async def seed_wrapped_market(endpoints: Sequence[WormholeEndpoint], account: int = 0) -> list[ChainConfig]:
    """Bridge USDC A→B and pair the wrapped USDC with USDC in B's Uniswap V2; the chains with the
    pair recorded. A no-op when the devnet lacks either chain or B's Uniswap V2."""
    by_name = {ep.chain.name: ep for ep in endpoints}
    src, dst = by_name.get(SOURCE), by_name.get(DESTINATION)
    if src is None or dst is None or V2_DEX not in dst.chain.dexes:
        return [ep.chain for ep in endpoints]
    usdc_a = to_checksum_address(src.chain.tokens[SYMBOL].address)
    usdc_b = to_checksum_address(dst.chain.tokens[SYMBOL].address)
    wrapped = to_checksum_address(dst.chain.contracts[wrapped_key()])
    amount = SEED_WHOLE * 10 ** src.chain.tokens[SYMBOL].decimals
    w3a, w3b = AsyncWeb3(async_http_provider(src.rpc_url)), AsyncWeb3(async_http_provider(dst.rpc_url))
    a, b = TxSender(w3a, account), TxSender(w3b, account)
    deployment = dst.chain.dexes[V2_DEX]
    router = to_checksum_address(deployment.router or "")
    try:
        # B: the native USDC side, minted and approved while A publishes the transfer.
        pending_b = await _mint_and_approve(b, usdc_b, router, amount)
        await a.wait(await _mint_and_approve(a, usdc_a, src.token_bridge, amount))
        transfer = calldata(
            "BridgeImplementation",
            "transferTokens",
            usdc_a,
            amount,
            dst.wormhole_chain_id,
            emitter_bytes32(b.address),
            0,
            0,
        )
        (vaa,) = await publish_and_sign(
            a,
            src,
            f"{SOURCE}: transferTokens(USDC)",
            src.token_bridge,
            transfer,
            GAS["transferTokens"],
            DEVNET_GUARDIAN_KEYS,
        )
        await b.wait(pending_b)
        await b.call(
            f"{DESTINATION}: completeTransfer",
            dst.token_bridge,
            calldata("BridgeImplementation", "completeTransfer", vaa),
            GAS["completeTransfer"],
        )
        await b.call(
            "approve wrapped USDC",
            wrapped,
            _call("approve(address,uint256)", ["address", "uint256"], router, amount),
            GAS["approve"],
        )
        await b.call(
            "addLiquidity wrapped USDC/USDC",
            router,
            _call(
                "addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)",
                ["address", "address", "uint256", "uint256", "uint256", "uint256", "address", "uint256"],
                wrapped,
                usdc_b,
                amount,
                amount,
                amount,
                amount,
                b.address,
                NO_DEADLINE,
            ),
            V2_ADD_LIQUIDITY_GAS,
        )
        factory = w3b.eth.contract(
            address=to_checksum_address(deployment.factory),
            abi=[
                {
                    "type": "function",
                    "name": "getPair",
                    "stateMutability": "view",
                    "inputs": [{"type": "address"}, {"type": "address"}],
                    "outputs": [{"type": "address"}],
                }
            ],
        )
        pair = to_checksum_address(await factory.functions.getPair(wrapped, usdc_b).call())
        if int(pair, 16) == 0:
            raise DevnetError(f"{DESTINATION}: no Uniswap V2 pair for wrapped USDC after addLiquidity")
    finally:
        for w3 in (w3a, w3b):
            await w3.provider.disconnect()
    token0, token1 = sort_tokens(wrapped, usdc_b)
    info = DexPoolInfo(address=pair, token0=token0, token1=token1, fee=V2_FEE_PIPS, label=f"{wrapped_key()}/USDC 0.3%")
    seeded = deployment.model_copy(update={"pools": [*deployment.pools, info]})
    out = []
    for ep in endpoints:
        chain = ep.chain
        if ep is dst:
            chain = chain.model_copy(update={"dexes": {**chain.dexes, V2_DEX: seeded}})
        out.append(chain)
    return out
