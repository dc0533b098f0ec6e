"""LPMigration activities: read and decide; every transaction is a child workflow's.

* ``lp_migration_plan``  validates the request against the chain before any side effect
  (pools, tick spacing, ownership direct or through the staker, balances) and fixes the
  reference prices the values are measured with;
* ``lp_migration_step``  builds one raw transaction step (staker exit, MasterChef
  withdrawal, migrator approval and call, approval reset, restake) from the chain state now;
* ``lp_migration_zap``   sizes the ratio swap with the exact pool math;
* ``lp_migration_finish`` reads the outcome back from the chain (new position, receipts'
  gas) and records it in the ledger.

All only read (the finish writes one idempotent ledger row), so retries are harmless.
Crash points ``lpm.before_<step>`` sit at each step boundary, for tests.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from fractions import Fraction

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from temporalio import activity

from activities.dex_liquidity import pool_ref
from activities.errors import business_errors
from activities.runtime import ChainRuntime
from activities.tx import TX_STEP
from connectors.dex import Dex, build_dexes
from connectors.dex.base import Pool
from connectors.dex.farm_calls import masterchef_withdraw
from connectors.dex.farms import masterchef_positions
from connectors.dex.liquidity_bounds import amount_min, resolve_deadline
from connectors.dex.liquidity_plan import TokenNeed, allowance_read, approvals_for, timestamp_read
from connectors.dex.reads import Read, read_batch
from connectors.dex.receipts import receipt_logs
from connectors.dex.settlement import transferred
from connectors.dex.tokens import resolve_token
from connectors.dex.uniswap_v2 import UniswapV2
from connectors.dex.uniswap_v2.events import pair_events
from connectors.dex.uniswap_v2.lp import UniswapV2Liquidity
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3.events import DECREASE_LIQUIDITY, INCREASE_LIQUIDITY, position_events
from connectors.dex.uniswap_v3.math.position_math import plan_liquidity
from connectors.dex.uniswap_v3.migrator import migrate_calldata
from connectors.dex.uniswap_v3.pool_state import SLOT0_TYPES
from connectors.dex.uniswap_v3.position_manager import check_tick_range
from connectors.dex.uniswap_v3.positions import UniswapV3Positions
from connectors.dex.uniswap_v3.staker import deposit_and_stake_calldata, exit_calldata, read_deposit
from connectors.dex.uniswap_v3.zap import plan_zap
from connectors.evm.erc20 import approve_calldata
from crosslane.crashpoints import crash_point
from crosslane.domain.bridge import BridgeRoute
from crosslane.domain.chains import V3Incentive
from crosslane.domain.dex_liquidity import PlannedTx
from crosslane.domain.lp_migration import (
    FarmStake,
    LPMigrationRequest,
    MigratedPosition,
    MigrationActivity,
    MigrationFinishInput,
    MigrationKind,
    MigrationPlan,
    MigrationPlanInput,
    MigrationResult,
    MigrationStepInput,
    MigrationStepPlan,
    MigrationZapInput,
    StakedIn,
    V2LpSource,
    V3PositionSource,
    ZapDecision,
)
from crosslane.errors import InvalidRequest
from crosslane.ledger.lp_migrations import LpMigrationBook
from crosslane.ledger.records import AttemptStatus

_Q192 = 2**192
STAKER_EXIT_GAS_ROOM = 100_000
FARM_WITHDRAW_GAS_ROOM = 150_000
# The children that approve: DexLiquidity steps (approve-token0/1, approve-lp) and DexSwap steps.
LP_STEPS_THAT_APPROVE = ("remove", "mint")
LP_APPROVALS = ("approve-token0", "approve-token1", "approve-lp")
SWAP_STEPS = ("zap", "to-bridge-asset")


class LpMigrationActivities:
    def __init__(self, runtime: ChainRuntime) -> None:
        self.rt = runtime
        self.book = LpMigrationBook(runtime.ledger)
        self._dexes: dict[str, dict[str, Dex]] = {}

    def all(self) -> list[object]:
        return [self.lp_migration_plan, self.lp_migration_step, self.lp_migration_zap, self.lp_migration_finish]

    def _dex(self, chain: str, name: str, protocol: str) -> Dex:
        config = self.rt.chain(chain)
        deployment = config.dexes.get(name)
        if deployment is None:
            raise InvalidRequest(f"no DEX deployment {name!r} on {chain}; known: {', '.join(sorted(config.dexes))}")
        if deployment.protocol != protocol:
            raise InvalidRequest(f"{name} on {chain} is {deployment.protocol}, not {protocol}")
        if chain not in self._dexes:
            self._dexes[chain] = build_dexes(self.rt.client(chain))
        return self._dexes[chain][name]

    def _v3(self, request: LPMigrationRequest) -> UniswapV3:
        """The target deployment, on the target chain."""
        dex = self._dex(request.target_chain, request.target.dex, "uniswap_v3")
        assert isinstance(dex, UniswapV3)
        return dex

    # --- plan ---------------------------------------------------------------------------

    @activity.defn(name=MigrationActivity.PLAN)
    @business_errors
    async def lp_migration_plan(self, inp: MigrationPlanInput) -> MigrationPlan:
        """Refuse bad input before anything is sent; read what the source holds now."""
        request = inp.request
        client = self.rt.client(request.chain)
        target_client = self.rt.client(request.target_chain)
        v3 = self._v3(request)
        target = request.target
        source = request.source
        staked: StakedIn | None = None
        farm: FarmStake | None = None
        entry: tuple[int, int] | None = None
        if isinstance(source, V3PositionSource):
            source_v3 = self._dex(request.chain, source.dex, "uniswap_v3")
            assert isinstance(source_v3, UniswapV3)
            (position,), _ = await UniswapV3Positions(source_v3).read([source.token_id])
            staked = await self._staked(request, position.owner)
            if position.liquidity == 0:
                raise InvalidRequest(f"position {source.token_id} holds no liquidity: nothing to migrate")
            token0, token1, source_pool = position.pool.token0, position.pool.token1, position.pool
            liquidity = position.liquidity
            release = (position.amount0, position.amount1)
            fees = (position.uncollected0, position.uncollected1)
            entry = await self._entry_amounts(source_v3, source.token_id)
        else:
            v2 = self._dex(request.chain, source.dex, "uniswap_v2")
            assert isinstance(v2, UniswapV2)
            a = (await resolve_token(client, source.token_a)).address
            b = (await resolve_token(client, source.token_b)).address
            lp = UniswapV2Liquidity(v2)
            (pair,), _, _ = await lp.read([lp.pool_for(a, b)], request.owner)
            farmed = await self._farm_stake(request, source.dex, pair.pool.address)
            held = pair.owner_lp + (farmed.staked if farmed else 0)
            where = f" (in the wallet and staked in farm {farmed.pid})" if farmed else ""
            liquidity = held if source.liquidity is None else source.liquidity
            if held == 0:
                raise InvalidRequest(
                    f"{request.owner} holds no LP tokens of pair {pair.pool.address}, in the wallet or in a farm"
                )
            if liquidity > held:
                raise InvalidRequest(
                    f"{request.owner} holds {held} LP tokens of {pair.pool.address}{where}, not {liquidity}"
                )
            if farmed is not None and liquidity > pair.owner_lp:
                farm = farmed.model_copy(update={"amount": liquidity - pair.owner_lp})
            token0, token1, source_pool = pair.pool.token0, pair.pool.token1, pair.pool
            release, fees = pair.withdrawal(liquidity), (0, 0)
        bridge_source = bridge_target = delivered = delivered_dex = None
        if request.kind is MigrationKind.CROSS_CHAIN:
            bridge_source = (await resolve_token(client, request.bridge_asset)).address
            bridge_target = (await resolve_token(target_client, request.bridge_asset)).address
            if request.bridge_route is BridgeRoute.WORMHOLE:
                delivered, delivered_dex = self._wormhole_delivery(request, bridge_target)
            if bridge_source not in (token0, token1):
                raise InvalidRequest(
                    f"a cross-chain migration bridges {request.bridge_asset}: the source pair {token0}/{token1} "
                    "does not hold it"
                )
        target_a = self._counterpart(request, token0)
        target_b = self._counterpart(request, token1)
        pool = v3.pool_for(target_a, target_b, target.fee)
        assert pool.tick_spacing is not None
        check_tick_range(target.tick_lower, target.tick_upper, pool.tick_spacing)
        reference = await resolve_token(target_client, request.reference)
        prices = await self._prices(
            request.target_chain, request, [pool.token0, pool.token1, self._weth(request)], reference.address
        )
        source_reference = (await resolve_token(client, request.reference)).address
        source_prices = await self._prices(request.chain, request, [token0, token1], source_reference)
        slot0 = await read_batch(
            target_client, [Read.of(pool.address, "slot0()", SLOT0_TYPES), timestamp_read(v3.config.multicall)]
        )
        if slot0.results[0] is None or int(slot0.results[0][0]) == 0:
            raise InvalidRequest(f"the target pool {pool.address} (fee {target.fee}) is not initialized")
        now = int(slot0.results[1][0]) if slot0.results[1] else 0
        restake, note = None, ""
        if staked is not None:
            restake, note = self._restake_incentive(request, pool, now)
        scale = Decimal(10) ** reference.decimals
        value_before = ((release[0] + fees[0]) * source_prices[0] + (release[1] + fees[1]) * source_prices[1]) / scale
        return MigrationPlan(
            kind=request.kind,
            target_chain=request.target_chain,
            source_pool=pool_ref(source.dex, source_pool),
            target_pool=pool_ref(target.dex, pool),
            source_liquidity=liquidity,
            release0=release[0],
            release1=release[1],
            fees0=fees[0],
            fees1=fees[1],
            staked=staked,
            farm=farm,
            restake=restake,
            restake_note=note,
            reference=reference.symbol,
            reference_decimals=reference.decimals,
            price0=prices[0],
            price1=prices[1],
            source_price0=source_prices[0],
            source_price1=source_prices[1],
            bridge_token_source=bridge_source,
            bridge_token_target=bridge_target,
            bridge_token_delivered=delivered,
            delivered_dex=delivered_dex,
            price_native=prices[2],
            value_before=value_before,
            entry0=entry[0] if entry else None,
            entry1=entry[1] if entry else None,
            block_number=slot0.block_number,
        )

    def _wormhole_delivery(self, request: LPMigrationRequest, native: str) -> tuple[str, str]:
        """Wormhole delivers its wrapped asset on the target chain (recorded as contract
        ``Wormhole:<source>:<asset>``): that token and a V2 DEX holding a wrapped/native pair to
        swap it into the target's own; refused when either is missing."""
        target = self.rt.chain(request.target_chain)
        key = f"Wormhole:{request.chain}:{request.bridge_asset}"
        wrapped = target.contracts.get(key)
        if wrapped is None:
            raise InvalidRequest(
                f"Wormhole has no wrapped {request.bridge_asset} from {request.chain} on {request.target_chain}"
            )
        wrapped = to_checksum_address(wrapped)
        pair = {wrapped, native}
        for name, deployment in target.dexes.items():
            if deployment.protocol == "uniswap_v2" and any(
                {to_checksum_address(p.token0), to_checksum_address(p.token1)} == pair for p in deployment.pools
            ):
                return wrapped, name
        raise InvalidRequest(
            f"Wormhole delivers its wrapped {request.bridge_asset} ({wrapped}) on {request.target_chain} and no "
            f"Uniswap V2 pair there swaps it into {request.bridge_asset}; bridge over across"
        )

    def _counterpart(self, request: LPMigrationRequest, token: str) -> str:
        """The token on the target chain: itself on the same chain, else the same symbol there."""
        if request.target_chain == request.chain:
            return token
        source, target = self.rt.chain(request.chain), self.rt.chain(request.target_chain)
        symbol = next((t.symbol for t in source.tokens.values() if to_checksum_address(t.address) == token), None)
        found = next((t for t in target.tokens.values() if t.symbol == symbol), None)
        if symbol is None or found is None:
            raise InvalidRequest(f"{token} on {request.chain} has no counterpart on {request.target_chain}")
        return to_checksum_address(found.address)

    async def _staked(self, request: LPMigrationRequest, holder: str) -> StakedIn | None:
        """None when the owner holds the NFT; where it is staked when the staker holds it for
        the owner; refused when anyone else holds it."""
        assert isinstance(request.source, V3PositionSource)
        token_id = request.source.token_id
        if holder == request.owner:
            return None
        deployment = self.rt.chain(request.chain).dexes[request.source.dex]
        staker = deployment.staker
        if staker is None or to_checksum_address(staker) != holder:
            raise InvalidRequest(f"position {token_id} is owned by {holder}, not {request.owner}")
        incentives = list(deployment.incentives)
        deposit = await read_deposit(self.rt.client(request.chain), holder, token_id, incentives)
        if deposit.owner != request.owner:
            raise InvalidRequest(
                f"position {token_id} is deposited in the staker by {deposit.owner}, not {request.owner}"
            )
        return StakedIn(staker=holder, incentives=list(deposit.staked_in))

    async def _farm_stake(self, request: LPMigrationRequest, dex: str, pair: str) -> FarmStake | None:
        """The owner's stake of ``pair``'s LP tokens in the deployment's MasterChef, all of it
        (``amount``; the plan trims it to what the migration needs), or None if none."""
        chef = self.rt.chain(request.chain).dexes[dex].masterchef
        farms = [f for f in chef.farms if to_checksum_address(f.lp_token) == pair] if chef else []
        if chef is None or not farms:
            return None
        stakes = await masterchef_positions(self.rt.client(request.chain), chef, request.owner)
        stake = next(s for s in stakes if s.pid == farms[0].pid)
        if stake.staked == 0:
            return None
        return FarmStake(
            chef=to_checksum_address(chef.address),
            pid=stake.pid,
            amount=stake.staked,
            staked=stake.staked,
            reward_token=to_checksum_address(chef.reward_token),
            pending_reward=stake.pending_reward,
        )

    def _restake_incentive(self, request: LPMigrationRequest, pool: Pool, now: int) -> tuple[V3Incentive | None, str]:
        if not request.restake:
            return None, "not restaked: the request says restake=false"
        deployment = self.rt.chain(request.target_chain).dexes[request.target.dex]
        live = [i for i in deployment.incentives if i.pool == pool.address and i.start_time <= now < i.end_time]
        if not live:
            return None, f"not restaked: no live staker incentive on the target pool {pool.address}"
        return live[0], f"restaked in the incentive on {pool.address} (reward {live[0].reward_token})"

    def _weth(self, request: LPMigrationRequest) -> str | None:
        tokens = self.rt.chain(request.target_chain).tokens
        weth = next((t for t in tokens.values() if t.symbol == "WETH"), None)
        return None if weth is None else to_checksum_address(weth.address)

    async def _prices(
        self, chain: str, request: LPMigrationRequest, tokens: list[str | None], reference: str
    ) -> list[Decimal]:
        """Reference base units per base unit of each token on ``chain``: 1 for the reference
        itself, else the mid price of the deepest known V3 pool pairing it with the reference."""
        deployment = self.rt.chain(chain).dexes[request.target.dex]
        client = self.rt.client(chain)
        prices = []
        for token in tokens:
            if token is None:
                prices.append(Decimal(0))
                continue
            if token == reference:
                prices.append(Decimal(1))
                continue
            pools = [p for p in deployment.pools if {p.token0, p.token1} == {token, reference}]
            if not pools:
                raise InvalidRequest(f"no {request.target.dex} pool prices {token} in {request.reference}")
            batch = await read_batch(
                client,
                [Read.of(p.address, "slot0()", SLOT0_TYPES) for p in pools]
                + [Read.of(p.address, "liquidity()", ("uint128",)) for p in pools],
            )
            slots, depths = batch.results[: len(pools)], batch.results[len(pools) :]
            best = max(range(len(pools)), key=lambda i: int(depths[i][0]) if depths[i] else -1)
            one_per_zero = Fraction(int(slots[best][0]) ** 2, _Q192)
            price = one_per_zero if pools[best].token0 == token else 1 / one_per_zero
            prices.append(Decimal(price.numerator) / Decimal(price.denominator))
        return prices

    async def _entry_amounts(self, v3: UniswapV3, token_id: int) -> tuple[int, int] | None:
        """What the position's IncreaseLiquidity events put in, minus its DecreaseLiquidity
        events (the "hold" side of impermanent loss); None when the logs are not available."""
        manager = UniswapV3Positions(v3).manager
        topic_id = "0x" + token_id.to_bytes(32, "big").hex()
        increase, decrease = "0x" + INCREASE_LIQUIDITY.hex(), "0x" + DECREASE_LIQUIDITY.hex()

        async def logs(w3: object) -> list[dict[str, object]]:
            return list(
                await w3.eth.get_logs(  # type: ignore[attr-defined]
                    {
                        "address": manager,
                        "fromBlock": 0,
                        "toBlock": "latest",
                        "topics": [[increase, decrease], topic_id],
                    }
                )
            )

        try:
            found = await v3.client.call(logs, "eth_getLogs")
        except Exception:  # noqa: BLE001 - a node without history: IL is then not reported
            return None
        amount0 = amount1 = 0
        for log in found:
            _liquidity, a0, a1 = abi_decode(["uint128", "uint256", "uint256"], bytes(log["data"]))  # type: ignore[arg-type]
            sign = 1 if bytes(log["topics"][0]) == INCREASE_LIQUIDITY else -1  # type: ignore[index]
            amount0, amount1 = amount0 + sign * a0, amount1 + sign * a1
        return (amount0, amount1) if found and amount0 >= 0 and amount1 >= 0 else None

    # --- raw transaction steps ----------------------------------------------------------

    @activity.defn(name=MigrationActivity.STEP)
    @business_errors
    async def lp_migration_step(self, inp: MigrationStepInput) -> MigrationStepPlan:
        crash_point(f"lpm.before_{inp.step}", inp.workflow_id)
        request, plan = inp.request, inp.plan
        v3 = self._v3(request)
        manager = UniswapV3Positions(v3).manager
        if inp.step == "unstake":
            assert plan.staked is not None and isinstance(request.source, V3PositionSource)
            data = exit_calldata(request.source.token_id, request.owner, tuple(plan.staked.incentives))
            tx = _tx("unstake", plan.staked.staker, data, f"unstake {request.source.token_id}, claim, withdraw")
            # The reward (and so the storage the claim writes) grows each second: an estimate
            # made a block earlier can fall short, so the limit carries room for those writes.
            estimate = await self._estimate(request, tx)
            return MigrationStepPlan(txs=[tx.model_copy(update={"gas_limit": estimate + STAKER_EXIT_GAS_ROOM})])
        if inp.step == "unfarm":
            farm = plan.farm
            assert farm is not None
            call = masterchef_withdraw(farm.chef, farm.pid, farm.amount)
            purpose = f"withdraw {farm.amount} LP from farm {farm.pid}, harvesting its reward"
            tx = _tx("unfarm", call.to, call.data, purpose)
            # An estimate in the block of the stake's last update skips the farm's reward mint
            # (nothing accrued yet); mined a block later it mints: room for those writes.
            estimate = await self._estimate(request, tx)
            return MigrationStepPlan(txs=[tx.model_copy(update={"gas_limit": estimate + FARM_WITHDRAW_GAS_ROOM})])
        if inp.step == "restake":
            staker = self.rt.chain(request.target_chain).dexes[request.target.dex].staker
            assert plan.restake is not None and staker is not None and inp.token_id is not None
            data = deposit_and_stake_calldata(request.owner, to_checksum_address(staker), inp.token_id, plan.restake)
            return MigrationStepPlan(
                txs=[_tx("restake", manager, data, f"deposit {inp.token_id} in the staker and stake it")]
            )
        if inp.step in ("reset", "reset-target"):
            hashes = [
                *inp.approval_tx_hashes,
                *await self._child_approvals(inp.workflow_id, inp.chain or request.chain),
            ]
            return await self._resets(request, inp.step, inp.chain or request.chain, hashes)
        if inp.step == "migrate":
            return await self._migrate(request, plan, v3)
        raise InvalidRequest(f"unknown migration step {inp.step!r}")

    async def _child_approvals(self, workflow_id: str, chain: str) -> list[str]:
        """Approvals the children of this run mined, from the ledger: also those of a child that
        failed after its approval (its result, and so its hashes, never reached the workflow)."""
        chain_id = self.rt.chain(chain).chain_id
        candidates = [f"tx-lp-{workflow_id}.{s}.{a}" for s in LP_STEPS_THAT_APPROVE for a in LP_APPROVALS]
        candidates += [f"tx-swap-{workflow_id}.{s}.approve" for s in SWAP_STEPS]
        candidates += [f"tx-{workflow_id}.approve-lp"]

        def mined() -> list[str]:
            found = []
            for candidate in candidates:
                op = self.rt.ledger.get_operation(candidate, TX_STEP)
                if op is None or op.chain_id != chain_id:
                    continue
                found += [a.tx_hash for a in self.rt.ledger.list_attempts(op.id) if a.status is AttemptStatus.MINED]
            return found

        return await asyncio.to_thread(mined)

    async def _resets(
        self, request: LPMigrationRequest, step: str, chain: str, approval_hashes: list[str]
    ) -> MigrationStepPlan:
        """approve(spender, 0) for every allowance this run's approvals on ``chain`` left above zero."""
        client = self.rt.client(chain)
        granted: set[tuple[str, str]] = set()
        for tx_hash in dict.fromkeys(approval_hashes):
            tx = await client.call(lambda w3, h=tx_hash: w3.eth.get_transaction(h), "eth_getTransactionByHash")  # type: ignore[misc]
            data = bytes(tx["input"])
            (spender, _amount) = abi_decode(["address", "uint256"], data[4:])
            granted.add((to_checksum_address(tx["to"]), to_checksum_address(spender)))
        if not granted:
            return MigrationStepPlan(txs=[], note="no approvals were granted")
        pairs = sorted(granted)
        batch = await read_batch(client, [allowance_read(t, request.owner, s) for t, s in pairs])
        txs = []
        for (token, spender), left in zip(pairs, batch.results, strict=True):
            if left and int(left[0]) > 0:
                txs.append(
                    _tx(
                        f"{step}-{token[-8:].lower()}",
                        token,
                        approve_calldata(spender, 0),
                        f"reset the {int(left[0])} left of {spender}'s allowance on {token}",
                    )
                )
        return MigrationStepPlan(txs=txs, note=f"{len(txs)} allowances reset, {len(pairs) - len(txs)} used up")

    async def _migrate(self, request: LPMigrationRequest, plan: MigrationPlan, v3: UniswapV3) -> MigrationStepPlan:
        """V3Migrator: approve exactly the LP tokens (if short), then migrate with mins from
        the V3 mint of what the burn releases now, ``slippage_bps`` under."""
        migrator = self.rt.chain(request.chain).dexes[request.target.dex].migrator
        if migrator is None:
            raise InvalidRequest(f"{request.target.dex} on {request.chain} has no V3Migrator")
        source = request.source
        assert isinstance(source, V2LpSource)
        v2 = self._dex(request.chain, source.dex, "uniswap_v2")
        assert isinstance(v2, UniswapV2)
        pair_address = plan.source_pool.address
        lp = UniswapV2Liquidity(v2)
        pool = v3.pool_for(plan.target_pool.token0, plan.target_pool.token1, plan.target_pool.fee)
        (pair,), extra, now = await lp.read(
            [lp.pool_for(plan.source_pool.token0, plan.source_pool.token1)],
            request.owner,
            [allowance_read(pair_address, request.owner, migrator), Read.of(pool.address, "slot0()", SLOT0_TYPES)],
        )
        allowance, slot0 = extra
        burned0, burned1 = pair.withdrawal(plan.source_liquidity)
        target = request.target
        minted = plan_liquidity(int(slot0[0]), int(slot0[1]), target.tick_lower, target.tick_upper, burned0, burned1)
        if minted.liquidity == 0:
            raise InvalidRequest("what the V2 burn releases buys no liquidity in the target range")
        deadline = resolve_deadline(None, request.deadline_ttl, now)
        need = TokenNeed(pair_address, plan.source_liquidity, pair.owner_lp, int(allowance[0]) if allowance else 0)
        approvals = approvals_for(migrator, [need])
        txs = [
            _tx(
                "approve-lp",
                pair_address,
                approve_calldata(migrator, a.amount),
                f"approve the migrator for {a.amount} LP",
            )
            for a in approvals
        ]
        data = migrate_calldata(
            pair_address,
            plan.source_liquidity,
            pool.token0,
            pool.token1,
            target.fee,
            target.tick_lower,
            target.tick_upper,
            amount_min(minted.amount0, request.slippage_bps),
            amount_min(minted.amount1, request.slippage_bps),
            request.owner,
            deadline,
        )
        txs.append(_tx("migrate", migrator, data, f"V3Migrator: {plan.source_liquidity} LP of {pair_address} to V3"))
        return MigrationStepPlan(txs=txs)

    async def _estimate(self, request: LPMigrationRequest, tx: PlannedTx) -> int:
        call = {"from": request.owner, "to": tx.to, "data": tx.data}
        return int(await self.rt.client(request.chain).call(lambda w3: w3.eth.estimate_gas(call), "eth_estimateGas"))

    # --- zap ----------------------------------------------------------------------------

    @activity.defn(name=MigrationActivity.ZAP)
    @business_errors
    async def lp_migration_zap(self, inp: MigrationZapInput) -> ZapDecision:
        """The swap that makes ``amount0``/``amount1`` fit the target range (exact pool math)."""
        crash_point("lpm.before_zap", inp.workflow_id)
        request, plan = inp.request, inp.plan
        v3 = self._v3(request)
        pool = v3.pool_for(plan.target_pool.token0, plan.target_pool.token1, plan.target_pool.fee)
        (snapshot,) = await v3.pool_states([pool])
        zap = plan_zap(snapshot, request.target.tick_lower, request.target.tick_upper, inp.amount0, inp.amount1)
        token_out = None if zap.token_in is None else pool.other(zap.token_in)
        return ZapDecision(
            token_in=zap.token_in,
            token_out=token_out,
            amount_in=zap.amount_in,
            expected_out=zap.amount_out,
            amount0=zap.amount0,
            amount1=zap.amount1,
            dust0=zap.dust0,
            dust1=zap.dust1,
            block_number=snapshot.block_number,
        )

    # --- finish -------------------------------------------------------------------------

    @activity.defn(name=MigrationActivity.FINISH)
    @business_errors
    async def lp_migration_finish(self, inp: MigrationFinishInput) -> MigrationResult:
        """Read the outcome back from the chain and record it (once) in the ledger."""
        crash_point("lpm.before_finish", inp.workflow_id)
        request, plan = inp.request, inp.plan
        client = self.rt.client(request.chain)
        v3 = self._v3(request)
        positions = UniswapV3Positions(v3)
        removed0, removed1 = inp.removed0, inp.removed1
        got0, got1 = inp.have0, inp.have1
        deposited0, deposited1 = inp.deposited0, inp.deposited1
        token_id = inp.new_token_id
        if plan.kind is MigrationKind.V2_TO_V3_MIGRATOR and inp.minted_tx_hash is not None:
            receipt = await receipt_logs(client, inp.minted_tx_hash)
            burns = pair_events(receipt.logs, plan.source_pool.address).burns
            events = position_events(receipt.logs, positions.manager, plan.target_pool.address)
            token_id = events.minted_token_id(request.owner)
            (increase,) = [c for c in events.increases if c.token_id == token_id]
            removed0, removed1 = burns[0].amount0, burns[0].amount1
            got0, got1 = removed0, removed1
            deposited0, deposited1 = increase.amount0, increase.amount1
        gas_wei = farm_reward = 0
        for leg in inp.legs:
            for tx_hash in leg.tx_hashes:
                receipt = await receipt_logs(self.rt.client(leg.chain or request.chain), tx_hash)
                gas_wei += receipt.gas_used * receipt.effective_gas_price
                if leg.step == "unfarm" and plan.farm is not None:
                    farm_reward += transferred(
                        receipt.logs, plan.farm.reward_token, sender=plan.farm.chef, to=request.owner
                    )
        swap0 = swap1 = 0
        if inp.zap is not None and inp.zap.token_in is not None:
            if inp.zap.token_in == plan.target_pool.token0:
                swap0, swap1 = -inp.swap_in, inp.swap_out
            else:
                swap0, swap1 = inp.swap_out, -inp.swap_in
        dust0, dust1 = got0 + swap0 - deposited0, got1 + swap1 - deposited1
        new_position = None
        if token_id is not None:
            (position,), _ = await positions.read([token_id])
            new_position = MigratedPosition(
                token_id=token_id,
                pool=position.pool.address,
                fee=position.pool.fee,
                tick_lower=position.tick_lower,
                tick_upper=position.tick_upper,
                liquidity=position.liquidity,
                amount0=position.amount0,
                amount1=position.amount1,
                holder=position.owner,
            )
        scale = Decimal(10) ** plan.reference_decimals
        in_position = (new_position.amount0, new_position.amount1) if new_position else (0, 0)
        if inp.failure is not None:
            in_position, dust0, dust1 = (0, 0), got0 + swap0, got1 + swap1
        value_after = ((in_position[0] + dust0) * plan.price0 + (in_position[1] + dust1) * plan.price1) / scale
        fees_value = (plan.fees0 * plan.price0 + plan.fees1 * plan.price1) / scale
        il = None
        if plan.entry0 is not None and plan.entry1 is not None:
            sp0, sp1 = plan.source_price0 or plan.price0, plan.source_price1 or plan.price1
            hold = plan.entry0 * sp0 + plan.entry1 * sp1
            lp_value = plan.release0 * sp0 + plan.release1 * sp1
            il = (lp_value / hold - 1) if hold > 0 else None
        where = (
            inp.where_hint
            or f"in the owner's wallet {request.owner} on {plan.target_chain}: {got0 + swap0} of "
            f"{plan.target_pool.token0} and {got1 + swap1} of {plan.target_pool.token1}"
            if inp.failure is not None
            else f"position {token_id} held by {new_position.holder if new_position else '?'}; dust {dust0}/{dust1} "
            f"returned to {request.owner}"
        )
        source = (
            f"position {request.source.token_id} ({plan.source_pool.address})"
            if isinstance(request.source, V3PositionSource)
            else f"{plan.source_liquidity} LP of {plan.source_pool.address}"
        )
        result = MigrationResult(
            request_id=request.request_id,
            chain=request.chain,
            owner=request.owner,
            kind=plan.kind,
            target_chain=plan.target_chain or request.chain,
            outcome="failed" if inp.failure is not None else "migrated",
            reason=inp.failure or "",
            token0=plan.target_pool.token0,
            token1=plan.target_pool.token1,
            source=source,
            removed0=removed0,
            removed1=removed1,
            fees0=inp.collected_fees0,
            fees1=inp.collected_fees1,
            deposited0=deposited0,
            deposited1=deposited1,
            dust0=dust0,
            dust1=dust1,
            bridged=inp.bridged,
            bridge_received=inp.bridge_received,
            zap_token_in=inp.zap.token_in if inp.zap else None,
            zap_amount_in=inp.swap_in,
            zap_amount_out=inp.swap_out,
            new_position=new_position,
            restake_note=inp.restake_note,
            farm_reward=farm_reward,
            farm_reward_token=plan.farm.reward_token if plan.farm else None,
            reference=plan.reference,
            value_before=plan.value_before,
            value_after=value_after,
            fees_value=fees_value,
            cost=plan.value_before - value_after,
            gas_wei=gas_wei,
            gas_value=gas_wei * plan.price_native / scale,
            impermanent_loss=il,
            where_tokens_are=where,
            legs=inp.legs,
        )
        await asyncio.to_thread(self.book.record, inp.workflow_id, result.model_dump(mode="json"))
        return result


def _tx(step: str, to: str, data: bytes | str, purpose: str) -> PlannedTx:
    return PlannedTx(step=step, to=to, data=data if isinstance(data, str) else "0x" + data.hex(), purpose=purpose)
