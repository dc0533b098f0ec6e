"""Deploy Across's real ``Ethereum_SpokePool`` behind its ``ERC1967Proxy`` on a devnet chain.

Constructor: (wrappedNativeToken = WETH9, depositQuoteTimeBuffer 3600, fillDeadlineBuffer
21600, gateway 0x0). The proxy's constructor delegates ``initialize(0, admin)``: on the
Ethereum spoke the owner (``msg.sender``, our admin) is the admin (``onlyOwner``), and the
admin address doubles as ``crossDomainAdmin`` and ``withdrawalRecipient`` (the HubPool).

Routes: SpokePool 5.x has no on-chain route gating any more (``setEnableRoute`` is gone;
only ``DEPRECATED_enabledDepositRoutes`` remains in storage), so :func:`across_routes` is
the devnet's route table (same-symbol tokens between chains) that the relayer honours.
The relayer's inventory is prepared here: WETH wrapped, every token approved to the pool.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from web3.utils.address import get_create_address

from crosslane.domain.chains import ChainConfig
from devnet.across.artifacts import artifact
from devnet.across.spoke import GAS, Rpc, calldata, raw_calldata
from devnet.anvil import DevnetError, dev_account

ADMIN_ACCOUNT_INDEX = 9  # the HubPool's role: owner of every SpokePool, runs the dataworker
RELAYER_ACCOUNT_INDEX = 8
DEPOSIT_QUOTE_TIME_BUFFER = 3600
FILL_DEADLINE_BUFFER = 21600
RELAYER_WETH_WEI = 100 * 10**18
UINT256_MAX = 2**256 - 1
ROUTE_SYMBOLS = ("USDC", "WBTC", "DAI", "WETH")


def admin_account() -> tuple[str, str]:
    return dev_account(ADMIN_ACCOUNT_INDEX)


def relayer_account() -> tuple[str, str]:
    return dev_account(RELAYER_ACCOUNT_INDEX)


def token_addresses(chain: ChainConfig) -> dict[str, str]:
    """Route tokens by symbol on a chain (WETH is the chain's WETH9)."""
    out = {sym: t.address for sym, t in chain.tokens.items() if sym in ROUTE_SYMBOLS}
    if "WETH9" in chain.contracts:
        out.setdefault("WETH", chain.contracts["WETH9"])
    return out


def across_routes(chain: ChainConfig, peers: Sequence[ChainConfig]) -> list[dict[str, object]]:
    """Routes out of ``chain``: each route token to the same symbol on every peer."""
    mine = token_addresses(chain)
    routes: list[dict[str, object]] = []
    for peer in peers:
        theirs = token_addresses(peer)
        for sym in ROUTE_SYMBOLS:
            if sym in mine and sym in theirs and peer.chain_id != chain.chain_id:
                routes.append(
                    {
                        "symbol": sym,
                        "origin_chain_id": chain.chain_id,
                        "input_token": mine[sym],
                        "destination_chain_id": peer.chain_id,
                        "output_token": theirs[sym],
                    }
                )
    return routes


async def deploy_across(rpc_url: str, chain: ChainConfig, peers: Sequence[ChainConfig] = ()) -> ChainConfig:
    """Deploy the SpokePool on ``rpc_url``; returns ``chain`` with contract ``AcrossSpokePool``.

    ``peers`` only check that routes exist; deployment does not depend on them.
    """
    weth = chain.contracts.get("WETH9")
    if not weth:
        raise DevnetError(f"{chain.name}: WETH9 must be deployed before Across")
    rpc = Rpc(rpc_url)
    try:
        admin, admin_key = admin_account()
        relayer, relayer_key = relayer_account()
        nonce = int(await rpc.call("eth_getTransactionCount", [admin, "pending"]), 16)
        impl_addr = get_create_address(to_checksum_address(admin), nonce)  # type: ignore[arg-type]
        spoke = artifact("Ethereum_SpokePool")
        ctor = abi_encode(
            ["address", "uint32", "uint32", "address"],
            [weth, DEPOSIT_QUOTE_TIME_BUFFER, FILL_DEADLINE_BUFFER, "0x" + "00" * 20],
        )
        await rpc.transact(admin_key, None, spoke["bytecode"] + ctor.hex(), GAS["deploy_spoke"])
        init = bytes.fromhex(calldata("initialize", 0, admin).removeprefix("0x"))
        proxy_ctor = abi_encode(["address", "bytes"], [impl_addr, init])
        proxy_code = artifact("ERC1967Proxy")["bytecode"] + proxy_ctor.hex()
        receipt = await rpc.transact(admin_key, None, proxy_code, GAS["deploy_proxy"])
        pool = to_checksum_address(receipt["contractAddress"])
        owner = await rpc.eth_call(pool, raw_calldata("owner()", [], []))
        if to_checksum_address(owner[12:]) != admin:
            raise DevnetError(f"{chain.name}: SpokePool owner is {owner.hex()}, expected {admin}")
        # The relayer's inventory: wrapped ETH and approvals for every route token.
        await rpc.transact(relayer_key, weth, raw_calldata("deposit()", [], []), GAS["wrap"], value=RELAYER_WETH_WEI)
        for token in token_addresses(chain).values():
            approve = raw_calldata("approve(address,uint256)", ["address", "uint256"], [pool, UINT256_MAX])
            await rpc.transact(relayer_key, token, approve, GAS["approve"])
        if peers and not across_routes(chain, peers):
            raise DevnetError(f"{chain.name}: no Across route to {[p.name for p in peers]}")
        contracts = {**chain.contracts, "AcrossSpokePool": pool, "AcrossSpokePoolImplementation": impl_addr}
        return chain.model_copy(update={"contracts": contracts})
    finally:
        await rpc.close()
