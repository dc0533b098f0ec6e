"""What a transaction costs on each EVM fee model: L2 execution, plus an L1 data fee on rollups.

The registry names a chain's ``fee_model``; :func:`fee_model` picks its implementation from a
table, so callers never test chain types:

    model = fee_model(chain)
    cost = await model.cost(client, signed_raw_tx, gas, max_fee_per_gas)   # TxCost
    cost.total                                                             # wei, the most it may cost

- ``eip1559``: ``gas × max_fee_per_gas``; no L1 data fee.
- ``op-stack``: the same, plus the L1 data fee ``GasPriceOracle.getL1Fee(tx)`` of the L2's
  predeploy at ``0x420…000F``, asked with the signed transaction's bytes (the oracle adds 68
  bytes for a signature to what it is given, so this is a slight overestimate: a cap checked
  against it is never exceeded).
- ``arbitrum``: ``NodeInterface.gasEstimateComponents`` (not built yet: refused with that reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from web3 import AsyncWeb3

from connectors.evm.client import EvmClient
from crosslane.domain.chains import ChainConfig, EvmFeeModel
from crosslane.errors import InvalidRequest

GAS_PRICE_ORACLE = "0x420000000000000000000000000000000000000F"
_GET_L1_FEE = function_signature_to_4byte_selector("getL1Fee(bytes)")


@dataclass(frozen=True)
class TxCost:
    """Wei: ``execution`` is gas × max fee per gas (the most the chain's gas may cost)."""

    execution: int
    l1_data_fee: int = 0

    @property
    def total(self) -> int:
        return self.execution + self.l1_data_fee


class FeeModel(Protocol):
    name: EvmFeeModel

    async def l1_data_fee(self, client: EvmClient, raw_tx: bytes) -> int:
        """The L1 data fee of the signed transaction ``raw_tx`` (0 where there is none)."""
        ...

    async def cost(self, client: EvmClient, raw_tx: bytes, gas: int, max_fee_per_gas: int) -> TxCost: ...


class _ExecutionGasOnly:
    """gas × max fee per gas; a rollup's model adds its L1 data fee."""

    name: EvmFeeModel

    async def l1_data_fee(self, client: EvmClient, raw_tx: bytes) -> int:
        return 0

    async def cost(self, client: EvmClient, raw_tx: bytes, gas: int, max_fee_per_gas: int) -> TxCost:
        return TxCost(execution=gas * max_fee_per_gas, l1_data_fee=await self.l1_data_fee(client, raw_tx))


class Eip1559FeeModel(_ExecutionGasOnly):
    name: EvmFeeModel = "eip1559"


class OpStackFeeModel(_ExecutionGasOnly):
    name: EvmFeeModel = "op-stack"

    async def l1_data_fee(self, client: EvmClient, raw_tx: bytes) -> int:
        data = "0x" + (_GET_L1_FEE + abi_encode(["bytes"], [raw_tx])).hex()

        async def _call(w3: AsyncWeb3) -> bytes:
            return bytes(await w3.eth.call({"to": GAS_PRICE_ORACLE, "data": data}))  # type: ignore[typeddict-item]

        out = await client.call(_call, "eth_call")
        (fee,) = abi_decode(["uint256"], out)
        return int(fee)


class ArbitrumFeeModel(_ExecutionGasOnly):
    name: EvmFeeModel = "arbitrum"

    async def l1_data_fee(self, client: EvmClient, raw_tx: bytes) -> int:
        raise InvalidRequest(
            f"{client.chain.name}: the arbitrum fee model (NodeInterface.gasEstimateComponents) is not supported yet"
        )


_MODELS: dict[EvmFeeModel, FeeModel] = {
    "eip1559": Eip1559FeeModel(),
    "op-stack": OpStackFeeModel(),
    "arbitrum": ArbitrumFeeModel(),
}


def fee_model(chain: ChainConfig) -> FeeModel:
    return _MODELS[chain.fee_model]


async def priced(client: EvmClient, raw_tx: str, gas: int, max_fee_per_gas: int) -> TxCost:
    """The cost of the signed ``raw_tx`` (0x-hex) on the client's chain, by its fee model."""
    return await fee_model(client.chain).cost(client, bytes.fromhex(raw_tx.removeprefix("0x")), gas, max_fee_per_gas)


def cost_text(cost: TxCost, gas: int, max_fee_per_gas: int) -> str:
    text = f"gas {gas} × max fee {max_fee_per_gas} wei"
    if cost.l1_data_fee:
        text += f" + L1 data fee {cost.l1_data_fee} wei"
    return f"{text} = {cost.total} wei"
