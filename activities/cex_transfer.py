"""CEX transfer activities: thin, idempotent steps keyed by (workflow id, "cex_transfer").

* ``cex_transfer_plan``   checks the request against the venue (currency, network, fee,
  minimum, precision), the chain (token, recipient, our signer's key and balance) and, for a
  deposit, asks the venue for the account's deposit address and builds our transaction. The
  plan is recorded in the ledger *before* anything moves; a retry returns it.
* ``cex_withdraw``        asks the venue once, under our reference: looked up first, so a
  worker killed after the request finds it instead of withdrawing again. Where the venue
  keeps no reference (Kraken) the request time is recorded first and a retry looks for a
  withdrawal to the same address of the same amount since then (see the venue profile's
  ``withdrawal_lookup``); several candidates stop the transfer rather than risk a second.
* ``cex_withdrawal_status`` / ``cex_deposit_status`` one look at the venue (the workflow waits
  between looks on durable timers).
* ``cex_transfer_verify`` checks on chain what arrived (the token's ``Transfer`` to the
  recipient, or the native value) or that the venue credited what we sent, and records it.

Refusals come before the ledger records anything, so bad input leaves no trace. The only
side effect here is the venue's withdrawal; a deposit's transaction is a child lifecycle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address
from temporalio import activity

from activities.errors import business_errors
from activities.runtime import ChainRuntime
from connectors.cex.config import VenueConfig
from connectors.cex.credentials import load_credentials
from connectors.cex.funding import BelowWithdrawalMinimum
from connectors.cex.profiles import profile_for
from connectors.cex.venue import CexVenue
from connectors.dex.receipts import event_topic, receipt_logs
from connectors.evm.erc20 import Erc20, transfer_calldata
from crosslane.crashpoints import crash_point
from crosslane.domain.cex_transfer import CexTransferRequest, CexTransferResult, TransferDirection
from crosslane.domain.cex_transfer_steps import (
    CexTransferActivity,
    CexTransferPlan,
    DepositStatusInput,
    PlanInput,
    TransferFailureInput,
    TransferVerifyInput,
    VenueDeposit,
    VenueWithdrawal,
    WithdrawInput,
)
from crosslane.domain.chains import ChainConfig, TokenInfo
from crosslane.domain.recipients import check_recipient
from crosslane.domain.tx import TxRequest
from crosslane.errors import CrosslaneError, InsufficientBalance, InvalidRequest
from crosslane.ledger.records import OperationStatus
from crosslane.money import from_base_units_compact

CEX_TRANSFER_STEP = "cex_transfer"
REQUESTED_MS = "withdraw_requested_ms"  # ledger detail: when the venue was first asked
NATIVE = {"ETH": 18}  # the EVM chains' native coin, as venues name it
TRANSFER = event_topic("Transfer(address,address,uint256)")


class WithdrawalNotFound(CrosslaneError):
    """The venue does not (yet) list a withdrawal we asked for: look again."""

    retryable = True


class DeliveryMismatch(CrosslaneError):
    """What the chain shows differs from what the venue reported."""


class CexTransferActivities:
    def __init__(
        self, runtime: ChainRuntime, venue_configs: Callable[[], dict[str, VenueConfig]] | None = None
    ) -> None:
        self.rt = runtime
        self._venue_configs = venue_configs or (lambda: runtime.venues)
        self._venues: dict[str, CexVenue] = {}
        self._lock = asyncio.Lock()

    async def venue(self, name: str) -> CexVenue:
        """The venue with its currencies loaded (their networks, fees and minimums)."""
        async with self._lock:
            if name not in self._venues:
                configs = self._venue_configs()
                config = configs.get(name)
                if config is None:
                    known = ", ".join(sorted(configs)) or "none"
                    raise InvalidRequest(f"unknown venue {name!r}; known venues: {known}")
                options = {**(config.options or _profile_options(config)), "fetchCurrencies": True}
                config = config.model_copy(update={"options": options})
                venue = CexVenue(config, load_credentials(name, secrets_file=config.secrets_file))
                await venue.start()
                self._venues[name] = venue
            return self._venues[name]

    async def close(self) -> None:
        await asyncio.gather(*(v.close() for v in self._venues.values()))

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.cex_transfer_plan,
            self.cex_withdraw,
            self.cex_withdrawal_status,
            self.cex_deposit_status,
            self.cex_transfer_verify,
            self.cex_transfer_record_failure,
        ]

    # -- plan --------------------------------------------------------------------------------
    @activity.defn(name=CexTransferActivity.PLAN)
    @business_errors
    async def cex_transfer_plan(self, inp: PlanInput) -> CexTransferPlan:
        ledger = self.rt.ledger
        recorded = await asyncio.to_thread(ledger.get_operation, inp.workflow_id, CEX_TRANSFER_STEP)
        if recorded is not None and "plan" in recorded.detail:
            return CexTransferPlan.model_validate(recorded.detail["plan"])
        request = inp.request
        chain = self.rt.chain(request.chain)
        venue = await self.venue(request.venue)
        network = venue.config.network(chain.name)
        rules = await venue.transfer_rules(request.asset, network)
        token, decimals = _token(chain, request.asset)
        step = rules.get("precision")
        exponent = request.amount.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > decimals or (step and request.amount % Decimal(str(step)) != 0):
            raise InvalidRequest(
                f"amount {request.amount} {request.asset} has too many decimals: {request.asset} on {chain.name} has "
                f"{decimals}" + (f" and {request.venue} moves multiples of {step}" if step else "")
            )
        withdraw_limits = (rules.get("limits") or {}).get("withdraw") or {}
        fee = Decimal(str(rules.get("fee") or 0))
        minimum = Decimal(str(withdraw_limits.get("min") or 0))
        plan = CexTransferPlan(
            request=request,
            network=network,
            client_ref=venue.withdrawal_ref(inp.workflow_id),
            token=token,
            decimals=decimals,
            withdraw_fee=fee,
            withdraw_min=minimum,
        )
        if request.direction is TransferDirection.WITHDRAW:
            check_recipient(chain, request.address, [token.address] if token else [], field="address")
            if request.amount < minimum:
                raise BelowWithdrawalMinimum(
                    f"{request.venue}: {request.amount} {request.asset} is below the withdrawal minimum of {minimum} "
                    f"on {network}"
                )
        else:
            plan = await self._plan_deposit(inp.workflow_id, request, chain, venue, plan)
        op = await asyncio.to_thread(
            ledger.begin_operation,
            inp.workflow_id,
            CEX_TRANSFER_STEP,
            "cex_transfer",
            chain_id=chain.chain_id,
            signer=request.address if request.direction is TransferDirection.DEPOSIT else None,
            detail={"request": request.model_dump(mode="json"), "plan": plan.model_dump(mode="json")},
        )
        return CexTransferPlan.model_validate(op.detail["plan"])  # a concurrent attempt that recorded first wins

    async def _plan_deposit(
        self, workflow_id: str, request: CexTransferRequest, chain: ChainConfig, venue: CexVenue, plan: CexTransferPlan
    ) -> CexTransferPlan:
        self.rt.signers.get(request.address)  # SignerUnavailable before anything else
        if request.fees is None:
            raise InvalidRequest("a deposit sends our transaction: give its fee policy (fees)")
        client = self.rt.client(chain.name)
        units = plan.units
        if plan.token is not None:
            held = await Erc20(client, plan.token.address).balance_of(request.address)
        else:
            held = await client.native_balance(request.address)
        if held < units:
            raise InsufficientBalance(
                f"{request.address} holds {held} base units of {request.asset} on {chain.name}; "
                f"the deposit needs {units}"
            )
        address = to_checksum_address(await venue.deposit_address(request.asset, plan.network))
        tx = TxRequest(
            request_id=f"{workflow_id}.deposit",
            chain=chain.name,
            signer=request.address,
            to=plan.token.address if plan.token else address,
            value=0 if plan.token else units,
            data=transfer_calldata(address, units) if plan.token else "0x",
            fees=request.fees,
            policy=request.policy,
        )
        return plan.model_copy(update={"deposit_address": address, "deposit_tx": tx})

    # -- withdraw ----------------------------------------------------------------------------
    @activity.defn(name=CexTransferActivity.WITHDRAW)
    @business_errors
    async def cex_withdraw(self, inp: WithdrawInput) -> VenueWithdrawal:
        plan, request = inp.plan, inp.plan.request
        venue = await self.venue(request.venue)
        since_ms, resumed = await self._request_time(inp.workflow_id)
        crash_point("cex_transfer.before_withdraw", inp.workflow_id)
        withdrawal = await venue.withdraw(
            request.asset, request.amount, request.address, plan.network, plan.client_ref,
            since_ms=since_ms, resumed=resumed,
        )  # fmt: skip
        await self._record(
            inp.workflow_id, OperationStatus.IN_PROGRESS, {"withdrawal": withdrawal.model_dump(mode="json")}
        )
        crash_point("cex_transfer.after_withdraw", inp.workflow_id)
        return withdrawal

    async def _request_time(self, workflow_id: str) -> tuple[int, bool]:
        """When we first asked the venue (recorded before asking), and whether an earlier
        attempt may already have: a venue without client references is searched from then."""
        ledger = self.rt.ledger
        op = await asyncio.to_thread(ledger.get_operation, workflow_id, CEX_TRANSFER_STEP)
        assert op is not None  # the plan recorded it
        if REQUESTED_MS in op.detail:
            return int(op.detail[REQUESTED_MS]), True
        now_ms = int(time.time() * 1000)
        await asyncio.to_thread(ledger.update_operation, op.id, detail={REQUESTED_MS: now_ms})
        return now_ms, False

    @activity.defn(name=CexTransferActivity.WITHDRAWAL_STATUS)
    @business_errors
    async def cex_withdrawal_status(self, inp: WithdrawInput) -> VenueWithdrawal:
        crash_point("cex_transfer.waiting", inp.workflow_id)
        request = inp.plan.request
        op = await asyncio.to_thread(self.rt.ledger.get_operation, inp.workflow_id, CEX_TRANSFER_STEP)
        detail = op.detail if op is not None else {}
        found = await (await self.venue(request.venue)).find_withdrawal(
            request.asset, inp.plan.client_ref, address=request.address, amount=request.amount,
            since_ms=detail.get(REQUESTED_MS), withdrawal_id=(detail.get("withdrawal") or {}).get("id"),
        )  # fmt: skip
        if found is None:
            raise WithdrawalNotFound(f"{request.venue} lists no withdrawal {inp.plan.client_ref} yet")
        return found

    @activity.defn(name=CexTransferActivity.DEPOSIT_STATUS)
    @business_errors
    async def cex_deposit_status(self, inp: DepositStatusInput) -> VenueDeposit | None:
        crash_point("cex_transfer.waiting", inp.workflow_id)
        request = inp.plan.request
        found = await (await self.venue(request.venue)).deposits(request.asset, inp.tx_hash)
        return found[0] if found else None

    # -- verify ------------------------------------------------------------------------------
    @activity.defn(name=CexTransferActivity.VERIFY)
    @business_errors
    async def cex_transfer_verify(self, inp: TransferVerifyInput) -> CexTransferResult:
        plan, request = inp.plan, inp.plan.request
        if request.direction is TransferDirection.WITHDRAW:
            withdrawal = inp.withdrawal
            assert withdrawal is not None and withdrawal.tx_hash
            arrived = await self._arrived(plan, withdrawal.tx_hash)
            received = from_base_units_compact(arrived, plan.decimals)
            if withdrawal.amount is not None and received != withdrawal.amount:
                raise DeliveryMismatch(
                    f"{withdrawal.tx_hash} paid {received} {request.asset} to {request.address}; "
                    f"{request.venue} reported {withdrawal.amount}"
                )
            result = _result(plan, received, withdrawal.tx_hash, fee=withdrawal.fee or Decimal(0))
            result = result.model_copy(update={"withdrawal_id": withdrawal.id})
        else:
            deposit, sent = inp.deposit, inp.deposit_tx
            assert deposit is not None and sent is not None
            if deposit.amount != request.amount:
                raise DeliveryMismatch(
                    f"{request.venue} credited {deposit.amount} {request.asset} for {sent.mined_tx_hash}; "
                    f"we sent {request.amount}"
                )
            result = _result(plan, deposit.amount, sent.mined_tx_hash, fee=Decimal(0))
            result = result.model_copy(update={"deposit_id": deposit.id})
        await self._record(inp.workflow_id, OperationStatus.SUCCEEDED, {"result": result.model_dump(mode="json")})
        return result

    async def _arrived(self, plan: CexTransferPlan, tx_hash: str) -> int:
        """Base units ``tx_hash`` paid the recipient, read from the chain itself."""
        request = plan.request
        client = self.rt.client(request.chain)
        receipt = await receipt_logs(client, tx_hash)
        if receipt.status != 1:
            raise DeliveryMismatch(f"the venue's transaction {tx_hash} reverted on {request.chain}")
        recipient = to_checksum_address(request.address)
        if plan.token is None:
            sent = await client.transaction(tx_hash)
            return int(sent["value"]) if to_checksum_address(sent["to"]) == recipient else 0
        token = to_checksum_address(plan.token.address)
        return sum(
            int(log.decoded(["uint256"])[0])
            for log in receipt.logs
            if log.is_event(token, TRANSFER, 3) and to_checksum_address(log.indexed(2, "address")) == recipient
        )

    @activity.defn(name=CexTransferActivity.RECORD_FAILURE)
    @business_errors
    async def cex_transfer_record_failure(self, inp: TransferFailureInput) -> None:
        await self._record(inp.workflow_id, OperationStatus.FAILED, {"failure": inp.reason})

    async def _record(self, workflow_id: str, status: OperationStatus, detail: dict[str, Any]) -> None:
        op = await asyncio.to_thread(self.rt.ledger.get_operation, workflow_id, CEX_TRANSFER_STEP)
        if op is not None and op.status != OperationStatus.SUCCEEDED.value:
            await asyncio.to_thread(self.rt.ledger.update_operation, op.id, status=status.value, detail=detail)


def _profile_options(config: VenueConfig) -> dict[str, Any]:
    return dict(profile_for(config.exchange).options)


def _token(chain: ChainConfig, asset: str) -> tuple[TokenInfo | None, int]:
    token = chain.tokens.get(asset)
    if token is not None:
        return token, token.decimals
    if asset in NATIVE:
        return None, NATIVE[asset]
    known = ", ".join(sorted([*chain.tokens, *NATIVE]))
    raise InvalidRequest(f"{chain.name} has no asset {asset!r} (known: {known})")


def _result(plan: CexTransferPlan, received: Decimal, tx_hash: str, *, fee: Decimal) -> CexTransferResult:
    request = plan.request
    return CexTransferResult(
        request_id=request.request_id,
        venue=request.venue,
        direction=request.direction,
        asset=request.asset,
        chain=request.chain,
        network=plan.network,
        amount=request.amount,
        fee=fee,
        received=received,
        address=request.address,
        tx_hash=tx_hash,
        client_ref=plan.client_ref,
    )
