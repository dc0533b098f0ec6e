"""Deploy the OP Stack rollup: L1 contracts behind ``Proxy`` on the L1 chain, predeploys on the L2.

L1 (contracts-bedrock's forge artifacts, each implementation behind its ``Proxy`` and
initialized by ``upgradeToAndCall``): ``SuperchainConfig``, ``L2OutputOracle``,
``SystemConfig``, ``OptimismPortal``, ``L1CrossDomainMessenger``, ``L1StandardBridge``.

L2: the predeploys' runtime code at their canonical ``0x4200…`` addresses with
``anvil_setCode`` (none of them has immutables), then initialized like a genesis would:
``L2CrossDomainMessenger.initialize(L1 messenger)``, ``L2StandardBridge.initialize(L1 bridge)``,
``GasPriceOracle.setEcotone()`` and a first ``L1Block`` update as the depositor account.
An ``OptimismMintableERC20`` per bridged test token is the L2 side of the standard bridge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from crosslane.domain.chains import ChainConfig, TokenInfo
from devnet.across.spoke import Rpc
from devnet.anvil import DevnetError, dev_account
from devnet.opstack.artifacts import artifact
from devnet.opstack.contracts import DEPOSITOR_ACCOUNT, PREDEPLOYS, calldata, constructor_args, decode_result

OPERATOR_ACCOUNT_INDEX = 7  # proxy admin, SystemConfig owner, proposer and challenger of the devnet rollup
SUBMISSION_INTERVAL = 10  # L2 blocks between output proposals
BASEFEE_SCALAR = 1368  # OP mainnet's Ecotone scalars
BLOBBASEFEE_SCALAR = 810_949
L2_GAS_LIMIT = 30_000_000
# ResourceMetering's defaults (Constants.DEFAULT_RESOURCE_CONFIG).
RESOURCE_CONFIG = (20_000_000, 10, 8, 1_000_000_000, 1_000_000, 2**128 - 1)
BATCH_INBOX = "0xff00000000000000000000000000000000042069"
ZERO = "0x" + "00" * 20
BRIDGED_TOKENS = ("USDC",)
GAS_DEPLOY = 8_000_000
GAS_INIT = 1_000_000
L1_CONTRACTS = (
    "SuperchainConfig",
    "L2OutputOracle",
    "SystemConfig",
    "OptimismPortal",
    "L1CrossDomainMessenger",
    "L1StandardBridge",
)


def operator_account() -> tuple[str, str]:
    return dev_account(OPERATOR_ACCOUNT_INDEX)


@dataclass(frozen=True)
class RollupConfig:
    l2_chain: str
    l1_chain: str
    finalization_seconds: int
    submission_interval: int = SUBMISSION_INTERVAL


async def _deploy(rpc: Rpc, key: str, code: str) -> str:
    receipt = await rpc.transact(key, None, code, GAS_DEPLOY, simulate=False)
    return to_checksum_address(receipt["contractAddress"])


async def deploy_l1(rpc: Rpc, config: RollupConfig, l2_start_block: int) -> dict[str, str]:
    """Implementations, proxies, then ``upgradeToAndCall(impl, initialize(...))`` per proxy."""
    admin, key = operator_account()
    impls = {name: await _deploy(rpc, key, artifact(name)["bytecode"]) for name in L1_CONTRACTS}
    proxy_code = artifact("Proxy")["bytecode"] + constructor_args("Proxy", admin)
    proxies = {name: await _deploy(rpc, key, proxy_code) for name in L1_CONTRACTS}
    batcher_hash = bytes(12) + bytes.fromhex(admin[2:])
    addresses = (
        proxies["L1CrossDomainMessenger"],
        ZERO,
        proxies["L1StandardBridge"],
        ZERO,
        proxies["OptimismPortal"],
        ZERO,
        ZERO,
    )
    inits: dict[str, str] = {
        "SuperchainConfig": calldata("SuperchainConfig", "initialize", admin, False),
        # startingTimestamp 1: the devnet's L2 blocks come on demand, not every l2BlockTime, so
        # computeL2Timestamp is kept in the past for any block number the proposer reaches.
        "L2OutputOracle": calldata(
            "L2OutputOracle",
            "initialize",
            config.submission_interval,
            1,
            l2_start_block,
            1,
            admin,
            admin,
            config.finalization_seconds,
        ),
        "SystemConfig": calldata(
            "SystemConfig",
            "initialize",
            admin,
            BASEFEE_SCALAR,
            BLOBBASEFEE_SCALAR,
            batcher_hash,
            L2_GAS_LIMIT,
            admin,
            RESOURCE_CONFIG,
            BATCH_INBOX,
            addresses,
        ),
        "OptimismPortal": calldata(
            "OptimismPortal",
            "initialize",
            proxies["L2OutputOracle"],
            proxies["SystemConfig"],
            proxies["SuperchainConfig"],
        ),
        "L1CrossDomainMessenger": calldata(
            "L1CrossDomainMessenger",
            "initialize",
            proxies["SuperchainConfig"],
            proxies["OptimismPortal"],
            proxies["SystemConfig"],
        ),
        "L1StandardBridge": calldata(
            "L1StandardBridge",
            "initialize",
            proxies["L1CrossDomainMessenger"],
            proxies["SuperchainConfig"],
            proxies["SystemConfig"],
        ),
    }
    for name in L1_CONTRACTS:
        upgrade = calldata("Proxy", "upgradeToAndCall", impls[name], bytes.fromhex(inits[name][2:]))
        await rpc.transact(key, proxies[name], upgrade, GAS_INIT)
    return proxies


def l1_block_values(l1_block: dict[str, Any], sequence_number: int = 0) -> str:
    """``setL1BlockValuesEcotone`` calldata: its packed arguments after the selector."""
    packed = (
        BASEFEE_SCALAR.to_bytes(4, "big")
        + BLOBBASEFEE_SCALAR.to_bytes(4, "big")
        + sequence_number.to_bytes(8, "big")
        + int(l1_block["timestamp"], 16).to_bytes(8, "big")
        + int(l1_block["number"], 16).to_bytes(8, "big")
        + int(l1_block.get("baseFeePerGas") or "0x0", 16).to_bytes(32, "big")
        + (1).to_bytes(32, "big")  # blob base fee: the devnet L1 carries no blobs; EIP-4844's minimum
        + bytes.fromhex(l1_block["hash"][2:])
        + bytes(12)
        + bytes.fromhex(operator_account()[0][2:])
    )
    return calldata("L1Block", "setL1BlockValuesEcotone")[:10] + packed.hex()


async def as_depositor(rpc: Rpc, to: str, data: str, gas: int = GAS_INIT) -> dict[str, Any]:
    """A system call on L2 from the depositor account (impersonated; the devnet's deposit path)."""
    await rpc.call("anvil_setBalance", [DEPOSITOR_ACCOUNT, hex(10**18)])
    await rpc.call("anvil_impersonateAccount", [DEPOSITOR_ACCOUNT])
    tx_hash = await rpc.call(
        "eth_sendTransaction", [{"from": DEPOSITOR_ACCOUNT, "to": to, "data": data, "gas": hex(gas)}]
    )
    return await rpc.wait_receipt(tx_hash)


async def deploy_l2(l2: Rpc, l1: Rpc, l1_contracts: dict[str, str]) -> dict[str, str]:
    """Predeploys at their canonical addresses, initialized; L1Block set from the L1 head."""
    _, key = operator_account()
    for name, address in PREDEPLOYS.items():
        art = artifact(name)
        if art["immutables"]:
            raise DevnetError(f"{name} has immutables: its runtime code cannot be set as is")
        await l2.call("anvil_setCode", [address, art["deployedBytecode"]])
    messenger, bridge = PREDEPLOYS["L2CrossDomainMessenger"], PREDEPLOYS["L2StandardBridge"]
    init_messenger = calldata("L2CrossDomainMessenger", "initialize", l1_contracts["L1CrossDomainMessenger"])
    await l2.transact(key, messenger, init_messenger, GAS_INIT)
    await l2.transact(
        key, bridge, calldata("L2StandardBridge", "initialize", l1_contracts["L1StandardBridge"]), GAS_INIT
    )
    await as_depositor(l2, PREDEPLOYS["GasPriceOracle"], calldata("GasPriceOracle", "setEcotone"))
    head = await l1.call("eth_getBlockByNumber", ["latest", False])
    await as_depositor(l2, PREDEPLOYS["L1Block"], l1_block_values(head))
    return dict(PREDEPLOYS)


async def deploy_bridged_tokens(l2: Rpc, l1_chain: ChainConfig) -> dict[str, TokenInfo]:
    """An ``OptimismMintableERC20`` on L2 for each bridged L1 test token (bridge: the L2 predeploy)."""
    _, key = operator_account()
    out: dict[str, TokenInfo] = {}
    for symbol in BRIDGED_TOKENS:
        l1_token = l1_chain.tokens[symbol]
        args = constructor_args(
            "OptimismMintableERC20",
            PREDEPLOYS["L2StandardBridge"],
            l1_token.address,
            f"{symbol} (OP devnet)",
            symbol,
            l1_token.decimals,
        )
        address = await _deploy(l2, key, artifact("OptimismMintableERC20")["bytecode"] + args)
        out[symbol] = TokenInfo(symbol=symbol, address=address, decimals=l1_token.decimals)
    return out


async def check_wiring(l1: Rpc, l1_contracts: dict[str, str]) -> None:
    """The portal knows its oracle, and the messenger its portal: initialize went through."""
    portal = l1_contracts["OptimismPortal"]
    (oracle,) = decode_result(
        "OptimismPortal", "l2Oracle", await l1.eth_call(portal, calldata("OptimismPortal", "l2Oracle"))
    )
    if to_checksum_address(oracle) != l1_contracts["L2OutputOracle"]:
        raise DevnetError(f"OptimismPortal's l2Oracle is {oracle}, expected {l1_contracts['L2OutputOracle']}")


@dataclass(frozen=True)
class RollupContracts:
    l1: dict[str, str]  # contract name -> proxy address on the L1
    l2: dict[str, str]  # predeploy name -> address on the L2


async def deploy_rollup_contracts(l1_url: str, l2_url: str, config: RollupConfig) -> RollupContracts:
    """Both sides' system contracts; independent of the L1's test tokens (runs beside their deploy)."""
    l1, l2 = Rpc(l1_url), Rpc(l2_url)
    try:
        l2_start = await l2.block_number()
        l1_contracts = await deploy_l1(l1, config, l2_start)
        await check_wiring(l1, l1_contracts)
        return RollupContracts(l1_contracts, await deploy_l2(l2, l1, l1_contracts))
    finally:
        await l1.close()
        await l2.close()


async def deploy_rollup_tokens(
    l2_url: str, l1_chain: ChainConfig, l2_chain: ChainConfig, contracts: RollupContracts, config: RollupConfig
) -> tuple[ChainConfig, ChainConfig]:
    """The L2 side of the bridged test tokens; returns (L1 chain, L2 chain) with the rollup's
    contracts (on the L1 as ``<l2 name>:<contract>``) and the L2's tokens."""
    l2 = Rpc(l2_url)
    try:
        tokens = await deploy_bridged_tokens(l2, l1_chain)
    finally:
        await l2.close()
    prefixed = {f"{config.l2_chain}:{name}": address for name, address in contracts.l1.items()}
    l1_out = l1_chain.model_copy(update={"contracts": {**l1_chain.contracts, **prefixed}})
    l2_out = l2_chain.model_copy(
        update={"contracts": {**l2_chain.contracts, **contracts.l2}, "tokens": {**l2_chain.tokens, **tokens}}
    )
    return l1_out, l2_out


def rollup_contract(l1_chain: ChainConfig, l2_name: str, contract: str) -> str:
    """An L1 contract of rollup ``l2_name``, as :func:`deploy_rollup` names it on the L1 chain."""
    return l1_chain.contracts[f"{l2_name}:{contract}"]


__all__: Sequence[str] = (
    "RollupConfig",
    "RollupContracts",
    "deploy_rollup_contracts",
    "deploy_rollup_tokens",
    "operator_account",
    "rollup_contract",
)
