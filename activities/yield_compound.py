"""YieldCompound activities. Each only reads the chain (or writes the ledger once per
workflow id), so a retry is harmless; the transactions are the workflow's children.

* ``yield_compound_plan``: validate the position against the chain (deployment, farm or
  incentive, ownership, stake) before any side effect; read the claimable reward, what it
  is worth, what compounding would cost in gas, the position's value and fees; decide the
  profit gate; plan the harvest transactions.
* ``yield_compound_harvested``: what the harvest paid (Transfer events of its receipts)
  and how much of it to swap into each pool token (the position's ratio at the pool's price).
* ``yield_compound_restake``: the transactions that stake the compounded liquidity again.
* ``yield_compound_record``: the run in the ledger (gas from every receipt), and the
  position's net APR/APY from all its runs.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import isqrt
from statistics import median_low
from typing import Any

from eth_utils.address import to_checksum_address
from temporalio import activity

from activities.errors import business_errors
from activities.runtime import ChainRuntime
from connectors.dex import Dex, build_dexes
from connectors.dex.base import Pool, TradeType
from connectors.dex.compound_target import check_farm, check_staked, deployment_of
from connectors.dex.errors import InsufficientLiquidity, PoolNotFound
from connectors.dex.farm_calls import (
    COMPOUND_GAS,
    deposit_and_stake,
    masterchef_deposit,
    staker_claim,
    staker_unstake,
    staker_withdraw,
)
from connectors.dex.farms import staker_claimable
from connectors.dex.pricing import convert, mid_price
from connectors.dex.reads import Read, read_batch
from connectors.dex.receipts import receipt_logs
from connectors.dex.routing import MarketSnapshot, RouteFinder
from connectors.dex.settlement import transferred
from connectors.dex.uniswap_v2 import UniswapV2
from connectors.dex.uniswap_v2.lp import UniswapV2Liquidity
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3.math.liquidity_amounts import amounts_owed_for_mint
from connectors.dex.uniswap_v3.positions import UniswapV3Positions
from connectors.evm.calls import ContractCall
from connectors.evm.erc20 import approve_calldata
from crosslane.compounding import decide_gate
from crosslane.domain.chains import ChainConfig, DexDeployment, MasterChefInfo, V3Incentive
from crosslane.domain.dex_liquidity import PlannedTx
from crosslane.domain.yield_compound import (
    CompoundActivity,
    CompoundOutcome,
    CompoundPlan,
    CompoundPlanInput,
    CompoundRecorded,
    CompoundRecordInput,
    CompoundRequest,
    FarmTarget,
    Harvested,
    HarvestedInput,
    PoolTokens,
    RestakeInput,
    StakedTarget,
    SwapLeg,
)
from crosslane.errors import InvalidRequest
from crosslane.ledger.yield_runs import YieldBook, YieldRunRecord

_UNIT_LIQUIDITY = 10**18  # V3 ratio: amounts of this much liquidity over the range
_SCALE = 10**18  # V2 fee mark: √k per LP token, times this


def _planned(step: str, call: ContractCall, purpose: str) -> PlannedTx:
    return PlannedTx(step=step, to=to_checksum_address(call.to), data=call.data, value=call.value, purpose=purpose)


class _Valuer:
    """Token amounts in wei of ETH at the WETH pools' median mid price (one batched read)."""

    def __init__(self, finder: RouteFinder, market: MarketSnapshot) -> None:
        self.finder, self.market = finder, market

    @classmethod
    async def read(cls, finder: RouteFinder, tokens: list[str]) -> _Valuer:
        return cls(finder, await finder.read(finder.pricing_pools(tokens)))

    def wei(self, token: str, amount: int) -> int:
        token = to_checksum_address(token)
        if token == self.finder.weth or amount == 0:
            return amount
        prices = [
            mid_price(state, token)
            for state in self.market.states.values()
            if {state.pool.token0, state.pool.token1} == {self.finder.weth, token}
        ]
        prices = [p for p in prices if p > 0]
        if not prices:
            raise PoolNotFound(f"no WETH pool prices {token} on {self.finder.client.chain.name}")
        price: Fraction = median_low(prices)
        return convert(amount, price)


class YieldCompoundActivities:
    def __init__(self, runtime: ChainRuntime) -> None:
        self.rt = runtime
        self._dexes: dict[str, dict[str, Dex]] = {}
        self.book = YieldBook(runtime.ledger)

    def _dex(self, chain: ChainConfig, name: str) -> tuple[DexDeployment, Dex]:
        deployment = deployment_of(chain, name)
        if chain.name not in self._dexes:
            self._dexes[chain.name] = build_dexes(self.rt.client(chain.name))
        return deployment, self._dexes[chain.name][name]

    def _finder(self, chain: str) -> RouteFinder:
        return RouteFinder(self.rt.client(chain), self._dexes[chain])

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.yield_compound_plan,
            self.yield_compound_harvested,
            self.yield_compound_restake,
            self.yield_compound_record,
        ]

    # --- plan ---------------------------------------------------------------------------

    @activity.defn(name=CompoundActivity.PLAN)
    @business_errors
    async def yield_compound_plan(self, inp: CompoundPlanInput) -> CompoundPlan:
        """Refuse a position that is not there; otherwise the gate's figures and the harvest."""
        request = inp.request
        chain = self.rt.chain(request.chain)
        target = request.position
        deployment, dex = self._dex(chain, target.dex)
        if isinstance(target, FarmTarget):
            return await self._plan_farm(request, target, deployment, dex)
        return await self._plan_staked(request, target, deployment, dex)

    async def _plan_farm(
        self, request: CompoundRequest, target: FarmTarget, deployment: DexDeployment, dex: Dex
    ) -> CompoundPlan:
        checked = await check_farm(self.rt.client(request.chain), deployment, dex, target, request.owner)
        chef, farm, stake = checked.chef, checked.farm, checked.stake
        pool = await self._v2_pool(checked.dex, deployment, farm.lp_token)
        (pair,), _, chain_time = await UniswapV2Liquidity(checked.dex).read([pool], request.owner)
        amount0 = stake.staked * pair.reserve0 // pair.total_supply
        amount1 = stake.staked * pair.reserve1 // pair.total_supply
        finder = self._finder(request.chain)
        valuer = await _Valuer.read(finder, [pool.token0, pool.token1, chef.reward_token])
        value = valuer.wei(pool.token0, amount0) + valuer.wei(pool.token1, amount1)
        # Fees: √k per LP token only grows by the pair's fees; at a fixed price the stake's
        # value grows with it, so fees since the last run are value × (growth / now).
        mark = isqrt(pair.reserve0 * pair.reserve1) * _SCALE // pair.total_supply
        fees = _fee_growth_value(self._last_mark(request), mark, value)
        carry = self.book.last_carry(request.chain, request.owner, target.key)
        harvest = [
            _planned(
                "harvest",
                masterchef_deposit(chef.address, target.pid, 0),
                f"harvest {farm.label} farm {target.pid}",
            )
        ]
        tokens = PoolTokens(
            dex=target.dex,
            protocol=dex.protocol,
            address=pool.address,
            token0=pool.token0,
            token1=pool.token1,
            fee=pool.fee,
        )
        gas_units = COMPOUND_GAS["masterchef_harvest"] + COMPOUND_GAS["v2_add"] + COMPOUND_GAS["masterchef_restake"]
        return await self._gated(
            request,
            tokens,
            chef.reward_token,
            stake.pending_reward + carry,
            finder,
            valuer,
            value,
            gas_units,
            harvest,
            block=pair.block_number,
            chain_time=chain_time,
            fee_mark=str(mark),
            fees=fees,
            carry=carry,
        )

    async def _plan_staked(
        self, request: CompoundRequest, target: StakedTarget, deployment: DexDeployment, dex: Dex
    ) -> CompoundPlan:
        client = self.rt.client(request.chain)
        checked = await check_staked(client, deployment, dex, target, request.owner)
        staker, owner = checked.staker, to_checksum_address(request.owner)
        incentive, position, chain_time = checked.incentive, checked.position, checked.chain_time
        credited = await staker_claimable(client, staker, incentive.reward_token, owner)
        carry = self.book.last_carry(request.chain, request.owner, target.key)  # left by a failed run
        reward = checked.reward + credited + carry
        finder = self._finder(request.chain)
        pool = position.pool
        valuer = await _Valuer.read(finder, [pool.token0, pool.token1, incentive.reward_token])
        value = valuer.wei(pool.token0, position.amount0) + valuer.wei(pool.token1, position.amount1)
        uncollected = valuer.wei(pool.token0, position.uncollected0) + valuer.wei(pool.token1, position.uncollected1)
        last = self._last_mark(request)
        fees = max(0, uncollected - int(last)) if last is not None else 0
        harvest = [
            _planned(
                "unstake", staker_unstake(staker, incentive, target.token_id), f"unstake position {target.token_id}"
            ),
            _planned("claim", staker_claim(staker, incentive.reward_token, owner), "claim the staker's rewards"),
            _planned("withdraw", staker_withdraw(staker, target.token_id, owner), f"withdraw NFT {target.token_id}"),
        ]
        tokens = PoolTokens(
            dex=target.dex,
            protocol=dex.protocol,
            address=pool.address,
            token0=pool.token0,
            token1=pool.token1,
            fee=pool.fee,
            tick_lower=position.tick_lower,
            tick_upper=position.tick_upper,
        )
        gas_units = COMPOUND_GAS["v3_harvest"] + COMPOUND_GAS["v3_increase"] + COMPOUND_GAS["v3_restake"]
        return await self._gated(
            request,
            tokens,
            incentive.reward_token,
            reward,
            finder,
            valuer,
            value,
            gas_units,
            harvest,
            block=position.block_number,
            chain_time=chain_time,
            fee_mark=str(uncollected),
            fees=fees,
            carry=carry,
        )

    def _last_mark(self, request: CompoundRequest) -> str | None:
        runs = self.book.runs(request.chain, request.owner, request.position.key)
        return runs[-1].fee_mark if runs else None

    async def _v2_pool(self, dex: UniswapV2, deployment: DexDeployment, lp_token: str) -> Pool:
        known = next((p for p in deployment.pools if p.address == lp_token), None)
        if known is not None:
            return dex.pool_for(known.token0, known.token1)
        batch = await read_batch(
            dex.client, [Read.of(lp_token, "token0()", ("address",)), Read.of(lp_token, "token1()", ("address",))]
        )
        if None in batch.results:
            raise InvalidRequest(f"farm LP token {lp_token} is not a V2 pair")
        return dex.pool_for(batch.results[0][0], batch.results[1][0])  # type: ignore[index]

    async def _gated(
        self,
        request: CompoundRequest,
        pool: PoolTokens,
        reward_token: str,
        reward: int,
        finder: RouteFinder,
        valuer: _Valuer,
        position_value: int,
        gas_units: int,
        harvest: list[PlannedTx],
        *,
        block: int,
        chain_time: int,
        fee_mark: str,
        fees: int,
        carry: int,
    ) -> CompoundPlan:
        """Reward value (what selling it for WETH would get), gas of the whole compound, and
        the gate; APR from the reward accrued since the last compounding run."""
        reward_token = to_checksum_address(reward_token)
        reward_value, swap_gas = 0, COMPOUND_GAS["swap"]
        if reward > 0 and reward_token != finder.weth:
            try:
                best = (await finder.best(reward_token, finder.weth, TradeType.EXACT_IN, reward)).best
                reward_value, swap_gas = best.amount_out, best.gas_estimate
            except (PoolNotFound, InsufficientLiquidity):
                reward_value = valuer.wei(reward_token, reward)
        elif reward > 0:
            reward_value = reward
        swaps = sum(1 for t in (pool.token0, pool.token1) if to_checksum_address(t) != reward_token)
        gas_units += swaps * (swap_gas + COMPOUND_GAS["approve"])
        last = self.book.last_compounded(request.chain, request.owner, request.position.key)
        gate = decide_gate(
            reward=reward,
            reward_value=reward_value,
            reward_label=reward_token,
            gas_units=gas_units,
            gas_price=await finder.gas_price(),
            position_value=position_value,
            elapsed_seconds=chain_time - last.chain_time if last else None,
            fraction=request.gas_fraction,
        )
        return CompoundPlan(
            pool=pool,
            reward_token=reward_token,
            gate=gate,
            harvest=harvest,
            block_number=block,
            chain_time=chain_time,
            fee_mark=fee_mark,
            fees_value_wei=fees,
            carry=carry,
        )

    # --- after the harvest -------------------------------------------------------------

    @activity.defn(name=CompoundActivity.HARVESTED)
    @business_errors
    async def yield_compound_harvested(self, inp: HarvestedInput) -> Harvested:
        """The reward that reached the owner, split by the value the position takes of each token."""
        client = self.rt.client(inp.request.chain)
        reward = inp.plan.carry
        for tx_hash in inp.harvest_tx_hashes:
            logs = await receipt_logs(client, tx_hash)
            reward += transferred(logs.logs, inp.plan.reward_token, to=inp.request.owner)
        pool = inp.plan.pool
        self._dex(self.rt.chain(inp.request.chain), pool.dex)
        valuer = await _Valuer.read(self._finder(inp.request.chain), [pool.token0, pool.token1])
        share0 = await self._share0(inp, valuer)
        to0 = int(reward * share0)
        portions = ((pool.token0, to0), (pool.token1, reward - to0))
        reward_token = to_checksum_address(inp.plan.reward_token)
        legs = [
            SwapLeg(token_out=t, amount_in=a) for t, a in portions if a > 0 and to_checksum_address(t) != reward_token
        ]
        kept = {to_checksum_address(t): a for t, a in portions if to_checksum_address(t) == reward_token}
        return Harvested(
            reward=reward,
            legs=legs,
            kept0=kept.get(to_checksum_address(pool.token0), 0),
            kept1=kept.get(to_checksum_address(pool.token1), 0),
        )

    async def _share0(self, inp: HarvestedInput, valuer: _Valuer) -> Fraction:
        """Part of the reward's value to put in token0: half for a V2 pair; for a V3 range,
        token0's part of the value a unit of liquidity takes at the pool's price now."""
        pool = inp.plan.pool
        if pool.tick_lower is None or pool.tick_upper is None:
            return Fraction(1, 2)
        target = inp.request.position
        _, dex = self._dex(self.rt.chain(inp.request.chain), pool.dex)
        assert isinstance(dex, UniswapV3) and isinstance(target, StakedTarget)
        (position,), _ = await UniswapV3Positions(dex).read([target.token_id])
        amount0, amount1 = amounts_owed_for_mint(
            position.sqrt_price_x96, position.tick, pool.tick_lower, pool.tick_upper, _UNIT_LIQUIDITY
        )
        value0, value1 = valuer.wei(pool.token0, amount0), valuer.wei(pool.token1, amount1)
        return Fraction(value0, value0 + value1) if value0 + value1 else Fraction(1, 2)

    # --- stake again -------------------------------------------------------------------

    @activity.defn(name=CompoundActivity.RESTAKE)
    @business_errors
    async def yield_compound_restake(self, inp: RestakeInput) -> list[PlannedTx]:
        """MasterChef: approve exactly the new LP tokens, deposit them. V3: deposit the NFT
        into the staker and stake it in the incentive, in one transfer."""
        chain = self.rt.chain(inp.request.chain)
        target = inp.request.position
        deployment, _ = self._dex(chain, target.dex)
        owner = to_checksum_address(inp.request.owner)
        if isinstance(target, FarmTarget):
            if inp.added_liquidity == 0:
                return []  # nothing added; the stake never left MasterChef
            chef: MasterChefInfo = deployment.masterchef  # type: ignore[assignment]
            approve = ContractCall(
                to_checksum_address(inp.plan.pool.address), approve_calldata(chef.address, inp.added_liquidity)
            )
            return [
                _planned("approve-lp", approve, f"approve {inp.added_liquidity} LP tokens to MasterChef"),
                _planned(
                    "stake",
                    masterchef_deposit(chef.address, target.pid, inp.added_liquidity),
                    f"stake {inp.added_liquidity} LP tokens in farm {target.pid}",
                ),
            ]
        incentive: V3Incentive = deployment.incentives[target.incentive]
        call = deposit_and_stake(
            deployment.position_manager or "", owner, deployment.staker or "", target.token_id, incentive
        )
        return [_planned("stake", call, f"deposit NFT {target.token_id} in the staker and stake it")]

    # --- ledger ------------------------------------------------------------------------

    @activity.defn(name=CompoundActivity.RECORD)
    @business_errors
    async def yield_compound_record(self, inp: CompoundRecordInput) -> CompoundRecorded:
        client = self.rt.client(inp.request.chain)
        carry = {CompoundOutcome.SKIPPED: inp.plan.carry, CompoundOutcome.FAILED: inp.carry_forward}.get(inp.outcome, 0)
        gas = 0
        for step, tx_hash in sorted(inp.tx_hashes.items()):
            logs = await receipt_logs(client, tx_hash)
            gas += logs.gas_used * logs.effective_gas_price
            if step == "stake":  # MasterChef's deposit pays what accrued since the harvest
                carry += transferred(logs.logs, inp.plan.reward_token, to=inp.request.owner)
        plan, request = inp.plan, inp.request
        self.book.record(
            YieldRunRecord(
                workflow_id=inp.workflow_id,
                request_id=request.request_id,
                chain=request.chain,
                owner=request.owner,
                position=request.position.key,
                outcome=inp.outcome,
                reason=plan.gate.reason,
                reward=inp.reward,
                reward_value_wei=inp.reward_value_wei,
                fees_value_wei=plan.fees_value_wei,
                gas_wei=gas,
                position_value_wei=plan.gate.position_value_wei,
                liquidity=inp.liquidity,
                fee_mark=plan.fee_mark,
                chain_time=plan.chain_time,
                block_number=plan.block_number,
                tx_hashes=dict(inp.tx_hashes),
                reward_carry=carry,
            )
        )
        recorded = self.book.position_yield(
            request.chain, request.owner, request.position.key, interval_seconds=request.interval_seconds
        )
        return CompoundRecorded(gas_used_wei=gas, position_yield=recorded)


def _fee_growth_value(last_mark: str | None, mark: int, value: int) -> int:
    if last_mark is None or mark <= 0:
        return 0
    return max(0, value * (mark - int(last_mark)) // mark)
