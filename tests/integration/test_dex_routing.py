"""Route selection, router calldata, settlement and the sandwich simulation against the real
Uniswap contracts on a devnet of this module's own.

Every candidate route's off-chain quote equals the deployment's own multi-hop answer
(Router02.getAmountsOut/In, QuoterV2.quoteExactInput/Output) to the wei; the calldata
executes exactly the quoted amounts; the gas model stays near the receipts; a simulated
sandwich earns on chain exactly what the simulation said.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.providers import HTTPProvider

from connectors.dex import TradeType
from connectors.dex.pricing import amount_in_max, amount_out_min, mid_price
from connectors.dex.receipts import receipt_logs
from connectors.dex.routing import PricedRoute, Route, RouteFinder
from connectors.dex.sandwich import sandwich_exposure
from connectors.dex.settlement import settle_swap
from connectors.dex.swap_reverts import SwapRevert, classify_revert, swap_revert_reason
from connectors.dex.swaps import swap_call
from connectors.dex.uniswap_v3.router import encode_path
from connectors.evm.client import EvmClient
from crosslane.domain.chains import ChainConfig
from crosslane.domain.dex import DexProtocol
from devnet.anvil import find_free_port, rpc_call
from devnet.manager import devnet_down, devnet_up
from devnet.state import DevnetState
from devnet.uniswap_artifacts import artifact

pytestmark = pytest.mark.timeout(120)

CHAINS = ("devnet-a", "devnet-b")
ERC20 = artifact("UniswapV2Pair")["abi"]  # balanceOf / approve / allowance, like any ERC20
# (token in, token out, trade type, amount): direct pairs, two-hop only, large sizes.
REQUESTS = [
    ("WETH", "USDC", TradeType.EXACT_IN, 10**18),
    ("WETH", "USDC", TradeType.EXACT_IN, 250 * 10**18),
    ("USDC", "WETH", TradeType.EXACT_OUT, 40 * 10**18),
    ("USDC", "WBTC", TradeType.EXACT_IN, 5_000 * 10**6),
    ("WBTC", "DAI", TradeType.EXACT_OUT, 30_000 * 10**18),
    ("DAI", "USDC", TradeType.EXACT_IN, 250_000 * 10**18),
    ("DAI", "WETH", TradeType.EXACT_OUT, 10**17),
]


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevnetState]:
    path: Path = tmp_path_factory.mktemp("dex-routing") / "devnet.json"
    try:
        yield await devnet_up(path, {c: find_free_port() for c in CHAINS}, detached=False)
    finally:
        devnet_down(path)


@pytest.fixture(scope="module")
async def clients(devnet: DevnetState) -> AsyncIterator[dict[str, EvmClient]]:
    opened = {name: EvmClient(devnet.chains[name]) for name in CHAINS}
    yield opened
    for client in opened.values():
        await client.close()


@pytest.fixture
def snapshot(devnet: DevnetState) -> Iterator[None]:
    """Undo whatever a test sends, so every test quotes the seeded pools."""
    urls = [devnet.anvil_url(c) for c in CHAINS]
    ids = [rpc_call(url, "evm_snapshot") for url in urls]
    yield
    for url, snap in zip(urls, ids, strict=True):
        assert rpc_call(url, "evm_revert", [snap]) is True


def tokens(chain: ChainConfig) -> dict[str, str]:
    return {symbol: info.address for symbol, info in chain.tokens.items()}


def onchain_amount(w3: Web3, chain: ChainConfig, quote: PricedRoute, amount: int) -> int:
    """What the deployment itself answers for the route: the other side of the trade."""
    route = quote.route
    if route.protocol is DexProtocol.UNISWAP_V2:
        router = w3.eth.contract(address=chain.dexes[route.dex].router, abi=artifact("UniswapV2Router02")["abi"])
        if quote.trade_type is TradeType.EXACT_IN:
            return int(router.functions.getAmountsOut(amount, list(route.path)).call()[-1])
        return int(router.functions.getAmountsIn(amount, list(route.path)).call()[0])
    quoter = w3.eth.contract(address=chain.dexes[route.dex].quoter, abi=artifact("QuoterV2")["abi"])
    if quote.trade_type is TradeType.EXACT_IN:
        return int(quoter.functions.quoteExactInput(encode_path(route.path, route.fees), amount).call()[0])
    reversed_path = encode_path(list(reversed(route.path)), list(reversed(route.fees)))
    return int(quoter.functions.quoteExactOutput(reversed_path, amount).call()[0])


@pytest.mark.parametrize("chain_name", CHAINS)
@pytest.mark.parametrize(("sym_in", "sym_out", "trade_type", "amount"), REQUESTS)
async def test_every_candidate_route_equals_the_deployments_own_quote(
    devnet: DevnetState,
    clients: dict[str, EvmClient],
    chain_name: str,
    sym_in: str,
    sym_out: str,
    trade_type: TradeType,
    amount: int,
) -> None:
    chain = devnet.chains[chain_name]
    t = tokens(chain)
    finder = RouteFinder(clients[chain_name])
    selection = await finder.best(t[sym_in], t[sym_out], trade_type, amount)
    w3 = Web3(HTTPProvider(devnet.anvil_url(chain_name)))
    assert selection.quotes[0] is selection.best and len(selection.quotes) >= 1
    for quote in selection.quotes:
        onchain = onchain_amount(w3, chain, quote, amount)
        if trade_type is TradeType.EXACT_IN:
            assert (quote.amount_in, quote.amount_out) == (amount, onchain), quote.route
        else:
            assert (quote.amount_in, quote.amount_out) == (onchain, amount), quote.route
    # Best is best: gas-adjusted, no candidate beats it.
    ranks = [q.ranking_amount for q in selection.quotes]
    assert selection.best.ranking_amount == (max(ranks) if trade_type is TradeType.EXACT_IN else min(ranks))


async def test_two_hop_route_through_weth_when_no_pool_is_direct(
    devnet: DevnetState, clients: dict[str, EvmClient]
) -> None:
    chain = devnet.chains["devnet-a"]
    t = tokens(chain)
    finder = RouteFinder(clients["devnet-a"])
    selection = await finder.best(t["USDC"], t["WBTC"], TradeType.EXACT_IN, 5_000 * 10**6)
    # 2 V2 routes (direct, via WETH) on Uniswap and on SushiSwap (no WBTC pair there, so
    # no quote) + 4 direct and 4x4 two-hop V3 fee-tier combinations.
    assert selection.candidates == 24
    assert all(q.route.path == (t["USDC"], t["WETH"], t["WBTC"]) for q in selection.quotes)
    assert {q.route.dex for q in selection.quotes} == {"uniswap_v2", "uniswap_v3"}
    best = selection.best
    assert best.route.dex == "uniswap_v3" and best.route.fees == (500, 3000)  # the cheapest tiers seeded
    assert best.hops[0].amount_out == best.hops[1].amount_in
    with pytest.raises(Exception, match="no pool for"):
        await finder.best(t["USDC"], t["WBTC"], TradeType.EXACT_IN, 10**6, max_hops=1)


async def test_all_candidates_come_from_one_batched_state_read(
    devnet: DevnetState, clients: dict[str, EvmClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = devnet.chains["devnet-b"]
    t = tokens(chain)
    client = EvmClient(chain)
    calls: list[str] = []
    original = client.call

    async def counting(op: Any, what: str) -> Any:
        calls.append(what)
        return await original(op, what)

    monkeypatch.setattr(client, "call", counting)
    try:
        finder = RouteFinder(client)
        cold = await finder.best(t["WBTC"], t["USDC"], TradeType.EXACT_IN, 10**8)
        # 18 candidate pools (24 routes): V3's three phases (V2 reserves in the first) + the fee oracle.
        assert cold.candidates == 24 and len(cold.market.states) == 6  # 2+1 V2 pairs (Uniswap, SushiSwap) + 3 V3 pools
        assert calls.count("eth_feeHistory") == 1 and len(calls) == 4, calls
        calls.clear()
        warm = await finder.best(t["WBTC"], t["USDC"], TradeType.EXACT_IN, 10**8)
        assert len(calls) == 3, calls  # warm: heads + hinted words, then ticks; the fee oracle
        assert {s.block_number for s in warm.market.states.values()} == {warm.market.block_number}
        assert warm.best.amount_out == cold.best.amount_out
    finally:
        await client.close()


async def test_price_impact_slippage_fee_and_gas_cost(devnet: DevnetState, clients: dict[str, EvmClient]) -> None:
    chain = devnet.chains["devnet-a"]
    t = tokens(chain)
    finder = RouteFinder(clients["devnet-a"])
    small = (await finder.best(t["WETH"], t["USDC"], TradeType.EXACT_IN, 10**15, dex_names=["uniswap_v2"])).best
    large = (await finder.best(t["WETH"], t["USDC"], TradeType.EXACT_IN, 50 * 10**18, dex_names=["uniswap_v2"])).best
    # V2: the fee is 30 bps; a tiny trade slips ~0, impact = fee; a 10%-of-reserve trade slips ~9%.
    assert small.lp_fee_bps == large.lp_fee_bps == 30
    assert small.slippage_bps < 1 and 29 < small.price_impact_bps < 31
    assert 850 < large.slippage_bps < 950
    for q in (small, large):  # impact = fee and size compounded: 1 - I = (1 - F)(1 - S), to rounding
        f, s = q.lp_fee_bps, q.slippage_bps
        assert abs(q.price_impact_bps - (f + s - f * s / 10_000)) <= Decimal("0.02")
    reserves = await finder.read([small.route.pools[0]])
    pair = reserves.states[small.route.pools[0].address]
    price = mid_price(pair, t["WETH"])
    assert large.mid_amount == 50 * 10**18 * price.numerator // price.denominator
    # Gas in USDC at the median WETH/USDC mid price over every WETH/USDC pool read.
    market = (await finder.best(t["WETH"], t["USDC"], TradeType.EXACT_IN, 10**18)).market
    mids = sorted(mid_price(s, t["WETH"]) for s in market.states.values())
    assert len(mids) == 4  # the Uniswap and SushiSwap V2 pairs and both V3 tiers
    q = (await finder.best(t["WETH"], t["USDC"], TradeType.EXACT_IN, 10**18, gas_price_wei=30 * 10**9)).best
    assert q.gas_cost_wei == q.gas_estimate * 30 * 10**9
    assert q.gas_cost_in_output == q.gas_cost_wei * mids[1].numerator // mids[1].denominator
    assert q.gas_cost_in_input == q.gas_cost_wei  # the input is WETH itself


def trader(w3: Web3, url: str, chain: ChainConfig, deals: dict[str, int]) -> LocalAccount:
    account = Account.from_key("0x" + secrets.token_hex(32))
    rpc_call(url, "anvil_setBalance", [account.address, hex(10**21)])
    for symbol, amount in deals.items():
        rpc_call(url, "anvil_dealERC20", [account.address, chain.tokens[symbol].address, hex(amount)])
        for dex in ("uniswap_v2", "uniswap_v3"):
            erc20 = w3.eth.contract(address=chain.tokens[symbol].address, abi=ERC20)
            send(w3, account, erc20.encode_abi("approve", [chain.dexes[dex].router, 2**256 - 1]), erc20.address)
    return account


def send(w3: Web3, account: LocalAccount, data: str, to: str, gas: int = 1_500_000) -> Any:
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    tx = {
        "type": 2, "chainId": w3.eth.chain_id, "nonce": w3.eth.get_transaction_count(account.address),
        "to": to, "data": data, "gas": gas, "maxFeePerGas": 2 * base + 10**9, "maxPriorityFeePerGas": 10**9,
    }  # fmt: skip
    return w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )


def balance(w3: Web3, token: str, owner: str) -> int:
    return int(w3.eth.contract(address=token, abi=ERC20).functions.balanceOf(owner).call())


EXECUTIONS = [
    ("uniswap_v2", "WETH", "USDC", TradeType.EXACT_IN, 3 * 10**18, 1),
    ("uniswap_v2", "USDC", "WETH", TradeType.EXACT_OUT, 2 * 10**18, 1),
    ("uniswap_v2", "USDC", "WBTC", TradeType.EXACT_IN, 20_000 * 10**6, 2),
    ("uniswap_v2", "WBTC", "DAI", TradeType.EXACT_OUT, 9_000 * 10**18, 2),
    ("uniswap_v3", "WETH", "USDC", TradeType.EXACT_IN, 120 * 10**18, 1),
    ("uniswap_v3", "DAI", "USDC", TradeType.EXACT_OUT, 90_000 * 10**6, 1),
    ("uniswap_v3", "WBTC", "USDC", TradeType.EXACT_IN, 2 * 10**8, 2),
    ("uniswap_v3", "USDC", "WBTC", TradeType.EXACT_OUT, 10**7, 2),
]


@pytest.mark.parametrize(("dex", "sym_in", "sym_out", "trade_type", "amount", "hops"), EXECUTIONS)
async def test_router_calldata_executes_the_quote_to_the_wei(
    devnet: DevnetState,
    clients: dict[str, EvmClient],
    snapshot: None,
    dex: str,
    sym_in: str,
    sym_out: str,
    trade_type: TradeType,
    amount: int,
    hops: int,
) -> None:
    chain = devnet.chains["devnet-b"]
    url = devnet.anvil_url("devnet-b")
    w3 = Web3(HTTPProvider(url))
    t = tokens(chain)
    account = trader(w3, url, chain, {sym_in: 10**30})
    finder = RouteFinder(clients["devnet-b"])
    quote = (await finder.best(t[sym_in], t[sym_out], trade_type, amount, dex_names=[dex], max_hops=hops)).best
    assert len(quote.hops) == hops
    limit = (
        amount_out_min(quote.amount_out, 30) if trade_type is TradeType.EXACT_IN else amount_in_max(quote.amount_in, 30)
    )
    call = swap_call(
        finder.dexes[dex], quote.route, trade_type, amount_in=quote.amount_in, amount_out=quote.amount_out,
        limit=limit, recipient=account.address, deadline=2**40,
    )  # fmt: skip
    assert call.spender == chain.dexes[dex].router and call.max_pull == (
        amount if trade_type is TradeType.EXACT_IN else limit
    )
    before_in, before_out = balance(w3, t[sym_in], account.address), balance(w3, t[sym_out], account.address)
    receipt = send(w3, account, call.data, call.router)
    assert receipt["status"] == 1
    assert before_in - balance(w3, t[sym_in], account.address) == quote.amount_in
    assert balance(w3, t[sym_out], account.address) - before_out == quote.amount_out
    # The receipt's events say the same, hop by hop.
    logs = (await receipt_logs(clients["devnet-b"], "0x" + bytes(receipt["transactionHash"]).hex())).logs
    refs = [_Hop(h.pool.address, h.token_in, h.token_out) for h in quote.hops]
    settled = settle_swap(logs, quote.route.protocol, refs, account.address, account.address)
    assert (settled.amount_in, settled.amount_out) == (quote.amount_in, quote.amount_out)
    assert [(f.amount_in, f.amount_out) for f in settled.fills] == [(h.amount_in, h.amount_out) for h in quote.hops]
    # The gas model is for ranking and pricing: within 35% of what the router used.
    assert abs(quote.gas_estimate - receipt["gasUsed"]) <= receipt["gasUsed"] * 35 // 100, (
        quote.gas_estimate,
        receipt["gasUsed"],
    )


class _Hop:
    def __init__(self, pool: str, token_in: str, token_out: str) -> None:
        self.pool, self.token_in, self.token_out = pool, token_in, token_out


@pytest.mark.parametrize(
    ("dex", "amount", "slippage"), [("uniswap_v3", 10 * 10**18, 100), ("uniswap_v2", 10 * 10**18, 100)]
)
async def test_simulated_sandwich_is_what_the_chain_pays(
    devnet: DevnetState, clients: dict[str, EvmClient], snapshot: None, dex: str, amount: int, slippage: int
) -> None:
    chain = devnet.chains["devnet-a"]
    url = devnet.anvil_url("devnet-a")
    w3 = Web3(HTTPProvider(url))
    t = tokens(chain)
    finder = RouteFinder(clients["devnet-a"])
    selection = await finder.best(t["WETH"], t["USDC"], TradeType.EXACT_IN, amount, dex_names=[dex], max_hops=1)
    victim_quote = selection.best
    limit = amount_out_min(victim_quote.amount_out, slippage)
    exposure = sandwich_exposure(selection.market, victim_quote, limit)
    assert exposure.profit > 0 and exposure.token == t["WETH"] and 0 < exposure.profit_bps < slippage

    attacker = trader(w3, url, chain, {"WETH": 10**24, "USDC": 0})
    victim = trader(w3, url, chain, {"WETH": amount})
    dexes = finder.dexes

    def swap_data(who: LocalAccount, token_in: str, token_out: str, amount_in: int, out: int, lim: int) -> Any:
        route = Route(dex, victim_quote.route.protocol, victim_quote.route.pools, (token_in, token_out))
        return swap_call(dexes[dex], route, TradeType.EXACT_IN, amount_in=amount_in, amount_out=out, limit=lim,
                         recipient=who.address, deadline=2**40)  # fmt: skip

    weth_before = balance(w3, t["WETH"], attacker.address)
    front = swap_data(attacker, t["WETH"], t["USDC"], exposure.front_run, 0, 0)
    assert send(w3, attacker, front.data, front.router)["status"] == 1
    bought = balance(w3, t["USDC"], attacker.address)
    victim_call = swap_data(victim, t["WETH"], t["USDC"], amount, victim_quote.amount_out, limit)
    assert send(w3, victim, victim_call.data, victim_call.router)["status"] == 1  # still meets its limit
    assert limit <= balance(w3, t["USDC"], victim.address) < victim_quote.amount_out
    back = swap_data(attacker, t["USDC"], t["WETH"], bought, 0, 0)
    assert send(w3, attacker, back.data, back.router)["status"] == 1
    assert balance(w3, t["WETH"], attacker.address) - weth_before == exposure.profit  # to the wei
    assert exposure.profit_bps == round(Fraction(exposure.profit * 10_000, amount), 2)


async def test_reverts_are_classified_from_real_receipts(
    devnet: DevnetState, clients: dict[str, EvmClient], snapshot: None
) -> None:
    chain = devnet.chains["devnet-a"]
    url = devnet.anvil_url("devnet-a")
    w3 = Web3(HTTPProvider(url))
    t = tokens(chain)
    account = trader(w3, url, chain, {"USDC": 10**12})
    finder = RouteFinder(clients["devnet-a"])
    expected = {
        ("uniswap_v2", TradeType.EXACT_IN): "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT",
        ("uniswap_v2", TradeType.EXACT_OUT): "UniswapV2Router: EXCESSIVE_INPUT_AMOUNT",
        ("uniswap_v3", TradeType.EXACT_IN): "Too little received",
        ("uniswap_v3", TradeType.EXACT_OUT): "Too much requested",
    }
    for (dex, trade_type), reason in expected.items():
        amount = 1_000 * 10**6 if trade_type is TradeType.EXACT_IN else 10**17
        q = (await finder.best(t["USDC"], t["WETH"], trade_type, amount, dex_names=[dex], max_hops=1)).best
        impossible = q.amount_out + 1 if trade_type is TradeType.EXACT_IN else q.amount_in - 1
        for limit, deadline, kind, why in (
            (impossible, 2**40, SwapRevert.SLIPPAGE, reason),
            (q.amount_out if trade_type is TradeType.EXACT_IN else q.amount_in, 1, SwapRevert.DEADLINE, None),
        ):
            call = swap_call(
                finder.dexes[dex], q.route, trade_type, amount_in=q.amount_in, amount_out=q.amount_out,
                limit=limit, recipient=account.address, deadline=deadline,
            )  # fmt: skip
            receipt = send(w3, account, call.data, call.router, gas=400_000)
            assert receipt["status"] == 0
            logs = await receipt_logs(clients["devnet-a"], "0x" + bytes(receipt["transactionHash"]).hex())
            got = await swap_revert_reason(clients["devnet-a"], logs, call.data)
            assert classify_revert(got) is kind, got
            if why is not None:
                assert got == why
