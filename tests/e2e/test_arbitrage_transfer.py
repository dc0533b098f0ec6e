"""Transfer-mode arbitrage on the devnet's real Across contracts: another trader dumps WBTC
into devnet-a's V3 WBTC/WETH pool; the run buys WBTC there with WETH, bridges it to devnet-b
and sells it into devnet-b's pool, re-quoting before every step. The realised P&L is the
fills and the gas of every transaction (the bridge's fee is the WBTC that did not arrive to
be sold), and every balance change it reports is the one measured on both chains (the bridge
stack is the session's, shared with the bridge tests). WBTC rather than WETH: Across pays a
WETH fill out as native ETH, which BridgeTransfer does not count as delivered."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from web3 import Web3

from connectors.dex import TradeType
from connectors.dex.routing import RouteFinder
from connectors.dex.swaps import swap_call
from connectors.evm.client import EvmClient
from crosslane.domain.arb_steps import ArbitrageRequest, ArbOutcome, ArbVenue, LegName, LegState
from crosslane.domain.bridge import BridgeRoute
from crosslane.domain.tx import FeePolicy
from crosslane.money import from_base_units
from devnet.across.services import http_json
from tests.support.bridge import dataworker_url
from tests.support.dex import approve, deal, router, send_tx, token, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(180)

CHAINS = ("devnet-a", "devnet-b")
ERC20 = [{"type": "function", "name": "balanceOf", "stateMutability": "view",
          "inputs": [{"name": "o", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]}]  # fmt: skip


async def dump(stack: Stack, chain: str, sold: str, bought: str, amount: int) -> None:
    """Another trader sells ``amount`` base units of ``sold`` into ``chain``'s V3 pool, no limit."""
    trader = stack.fund_signer()
    deal(stack, chain, trader.address, sold, amount)
    approve(stack, chain, trader, sold, router(stack, chain, "uniswap_v3"))
    client = EvmClient(stack.chains.get(chain))
    try:
        finder = RouteFinder(client)
        t_in, t_out = token(stack, chain, sold), token(stack, chain, bought)
        best = (await finder.best(t_in, t_out, TradeType.EXACT_IN, amount, dex_names=["uniswap_v3"], max_hops=1)).best
        call = swap_call(
            finder.dexes["uniswap_v3"], best.route, TradeType.EXACT_IN,
            amount_in=amount, amount_out=best.amount_out, limit=0, recipient=trader.address, deadline=2**40,
        )  # fmt: skip
    finally:
        await client.close()
    send_tx(w3_for(stack, chain), trader, {"to": call.router, "data": call.data, "gas": 600_000})


def balances(stack: Stack, owner: str) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = {}
    for chain in CHAINS:
        w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[chain]))
        out[(chain, "native")] = from_base_units(w3.eth.get_balance(owner), 18)
        for symbol in ("WETH", "WBTC"):
            info = stack.chains.get(chain).tokens[symbol]
            contract = w3.eth.contract(address=Web3.to_checksum_address(info.address), abi=ERC20)
            out[(chain, symbol)] = from_base_units(int(contract.functions.balanceOf(owner).call()), info.decimals)
    return out


async def test_buy_bridge_sell_across_chains_pnl_equals_balance_changes(bridge_stack: Stack) -> None:
    stack = bridge_stack
    await dump(stack, "devnet-a", "WBTC", "WETH", 15 * 10**8)  # WBTC ~5 % cheaper on devnet-a
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "WETH", 5 * 10**18)
    request = ArbitrageRequest(
        request_id=uuid.uuid4().hex[:12],
        mode="transfer",
        asset="WBTC",
        quote="WETH",
        size=Decimal("0.05"),
        buy=ArbVenue(venue="uniswap_v3", chain="devnet-a"),
        sell=ArbVenue(venue="uniswap_v3", chain="devnet-b"),
        min_profit=Decimal("0.001"),
        max_loss=Decimal("0.02"),
        signer=signer.address,
        fees=FeePolicy(max_fee_per_gas_cap=100 * 10**9),
        bridge_route=BridgeRoute.ACROSS,
    )
    before = balances(stack, signer.address)
    queue = unique_queue("arb-transfer")
    async with running_worker(stack, queue):
        http_json(dataworker_url(stack) + "/bundle", {})  # earlier tests' fills repaid first
        client = await crosslane_client(stack, queue)
        result = await (await client.start_arbitrage(request)).result()
    after = balances(stack, signer.address)
    measured = {key: after[key] - before[key] for key in after if after[key] != before[key]}

    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    assert {leg.leg: leg.state for leg in result.legs} == {
        LegName.BUY: LegState.FILLED, LegName.BRIDGE: LegState.FILLED, LegName.SELL: LegState.FILLED
    }  # fmt: skip
    assert {(c.place, c.currency): c.amount for c in result.changes} == measured
    # bought on devnet-a and bridged away; what arrived on devnet-b sold
    assert ("devnet-a", "WBTC") not in measured and ("devnet-b", "WBTC") not in measured
    [bridge] = [leg for leg in result.legs if leg.leg is LegName.BRIDGE]
    assert Decimal(0) < -bridge.asset_delta < request.size / 100  # the relayer's fee, in WBTC
    gas = sum((leg.gas_cost for leg in result.legs), start=Decimal(0))
    assert gas > 0 and measured[("devnet-a", "native")] < 0 and measured[("devnet-b", "native")] < 0
    weth = measured[("devnet-a", "WETH")] + measured[("devnet-b", "WETH")]
    assert result.realised_profit == weth - gas  # the bridge's fee: less WBTC arrived to be sold
    assert result.realised_profit > 0 and result.expected_profit is not None
