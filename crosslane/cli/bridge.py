"""`crosslane bridge quote|send|status|refund|resume|cancel`.

``quote`` reads the chains and the routes' quote APIs directly (no worker, nothing is
started) through the same planning the BridgeTransfer workflow runs; the other commands
start or talk to a ``BridgeTransfer`` workflow (id ``bridge-<request id>``). Amounts on
the command line are whole tokens (``1.5`` USDC), converted exactly to base units by the
asset's decimals on the source chain, as in ``crosslane dex``.

Exit codes: 0 done; 1 the transfer failed or did not deliver; 2 a request that can never
succeed as asked (bad input, an unknown transfer, a refund of a delivered transfer...).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from connectors.bridges.base import context, resolve_asset
from connectors.bridges.planning import RouteOffers, check_deadline, choose, exclusions, quote_routes, with_deadline
from connectors.bridges.registry import bridge_adapters
from connectors.bridges.selector import RouteChoice
from connectors.evm.client import EvmClient
from crosslane.cli.amounts import NUMBER_ARGS, amount_arg, gwei_arg
from crosslane.cli.chains import load_chains
from crosslane.cli.errors import fail, run_async
from crosslane.cli.runs import run_status, start_and_follow
from crosslane.cli.tables import table as key_table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.config import settings
from crosslane.domain.bridge import (
    BridgeRequest,
    BridgeResult,
    BridgeRoute,
    BridgeState,
    BridgeStatus,
    RoutePreferences,
    RouteQuote,
    TokenSide,
)
from crosslane.domain.chains import ChainRegistry
from crosslane.domain.tx import FeePolicy
from crosslane.errors import InvalidRequest
from crosslane.money import format_amount
from crosslane.registry import RegistryError, configured_registry

app = typer.Typer(
    help="Bridge transfers: quotes, transfers through BridgeTransfer, status, refunds.", no_args_is_help=True
)
out = Console()
P = ParamSpec("P")
R = TypeVar("R")

# No quote depends on the depositor; a request needs one, so quotes name this placeholder.
QUOTE_SIGNER = "0x0000000000000000000000000000000000000001"
QUERY_TIMEOUT = timedelta(seconds=5)
# A closed run is queried by replaying it on a worker: with none, fall back to its result soon.
CLOSED_QUERY_TIMEOUT = timedelta(seconds=2)
POLL_S = 0.3
PRE_DEPOSIT = (BridgeState.QUOTING, BridgeState.APPROVING)
AFTER_EXPIRY = (BridgeState.PENDING_REFUND, BridgeState.WAITING_FOR_OPERATOR)
COLOURS = {
    BridgeState.COMPLETED: "green",
    BridgeState.REFUNDED: "yellow",
    BridgeState.WAITING_FOR_OPERATOR: "yellow",
    BridgeState.FAILED: "red",
}

AmountArg = Annotated[str, typer.Argument(help="whole tokens of ASSET on the source chain, e.g. 1500 or 0.25")]
AssetArg = Annotated[str, typer.Argument(help="symbol on the source chain (USDC) or Wormhole:<origin>:<symbol>")]
SourceOpt = Annotated[str, typer.Option("--from", help="source chain, e.g. devnet-a")]
DestinationOpt = Annotated[str, typer.Option("--to", help="destination chain, e.g. devnet-b")]
RouteOpt = Annotated[BridgeRoute | None, typer.Option(help="force this route; default: the selector chooses")]
MaxFeeOpt = Annotated[str | None, typer.Option(help="most the route may cost in total, whole tokens of ASSET")]
MaxSecondsOpt = Annotated[int | None, typer.Option(min=1, help="latest acceptable expected arrival, seconds")]
DeadlineOpt = Annotated[int | None, typer.Option(min=1, help="unix seconds the funds must arrive by")]
IdArg = Annotated[str, typer.Argument(help="request id or workflow id (bridge-...)")]


def _bridge_errors(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """InvalidRequest (raised here or failing the workflow) exits 2; any other workflow
    failure exits 1 with its type; both as one line."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except InvalidRequest as exc:
            raise fail(f"{exc.type_name}: {exc}", 2) from None
        except WorkflowFailureError as exc:
            kind, message = _failure(exc)
            raise fail(f"the transfer failed: {kind}: {message}", 2 if kind in _invalid_types() else 1) from None

    return wrapper


def _invalid_types() -> set[str]:
    """The error types (class names) of InvalidRequest and its subclasses known here."""
    found: set[str] = set()
    todo: list[type[InvalidRequest]] = [InvalidRequest]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _failure(exc: WorkflowFailureError) -> tuple[str, str]:
    """(error type, message) of a failed run: its first ApplicationError, else the root cause."""
    cause: BaseException | None = exc.cause
    root: BaseException = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.type or "ApplicationError", cause.message
        root = cause
        cause = cause.__cause__ or getattr(cause, "cause", None)
    return type(root).__name__, str(root)


def _human(amount: int | None, decimals: int | None, symbol: str) -> str:
    if amount is None:
        return "-"
    if decimals is None:
        return f"{amount} base units of {symbol}"
    return format_amount(amount, decimals, symbol)


def _base_units(text: str, token: TokenSide, what: str) -> int:
    return amount_arg(text, token.decimals, what, token.symbol)


def _duration(seconds: int) -> str:
    return f"~{seconds} s" if seconds < 120 else f"~{seconds / 60:.0f} min"


async def _chain_time(client: EvmClient) -> int:
    return await client.latest_timestamp()


def _request(
    request_id: str,
    amount: str,
    token: TokenSide,
    source: str,
    destination: str,
    *,
    signer: str,
    recipient: str | None = None,
    route: BridgeRoute | None = None,
    max_fee: str | None = None,
    max_seconds: int | None = None,
    deadline: int | None = None,
    fee_cap_gwei: str = "100",
) -> BridgeRequest:
    """The request as the workflow takes it; ValidationError (exit 2) names what is wrong."""
    return BridgeRequest(
        request_id=request_id,
        source_chain=source,
        destination_chain=destination,
        asset=token.symbol,
        amount=_base_units(amount, token, "amount"),
        signer=signer,
        recipient=recipient,
        route=route,
        preferences=RoutePreferences(
            max_fee=None if max_fee is None else _base_units(max_fee, token, "--max-fee"),
            max_seconds=max_seconds,
        ),
        deadline=deadline,
        fees=FeePolicy(max_fee_per_gas_cap=gwei_arg(fee_cap_gwei, "fee cap")),
    )


# -- quote ---------------------------------------------------------------------------------
@app.command(context_settings=NUMBER_ARGS)
@run_async
@_bridge_errors
async def quote(
    amount: AmountArg,
    asset: AssetArg,
    source: SourceOpt,
    destination: DestinationOpt,
    route: RouteOpt = None,
    max_fee: MaxFeeOpt = None,
    max_seconds: MaxSecondsOpt = None,
    deadline: DeadlineOpt = None,
    signer: Annotated[str, typer.Option(help="depositor; no quote depends on it")] = QUOTE_SIGNER,
) -> None:
    """Quote every configured route and show the one a transfer would take, and why
    (no worker needed, nothing is sent). AMOUNT is in whole tokens of ASSET."""
    chains = load_chains()
    clients: dict[str, EvmClient] = {}

    def client_for(name: str) -> EvmClient:
        if name not in clients:
            clients[name] = EvmClient(chains.get(name))
        return clients[name]

    try:
        source_client = client_for(chains.get(source).name)
        token = await resolve_asset(source_client, asset)
        request = _request(
            "quote", amount, token, source, destination,
            signer=signer, route=route, max_fee=max_fee, max_seconds=max_seconds, deadline=deadline,
        )  # fmt: skip
        chains.get(destination)
        adapters = bridge_adapters(chains.bridges, client_for)
        if not adapters:
            raise InvalidRequest("no bridge route is configured (the chain registry has no bridges section)")
        now = await _chain_time(source_client)
        check_deadline(request.deadline, now)
        ctx = await context(chains, client_for, request, now)
        offers = await quote_routes(adapters, ctx)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))
    prefs = with_deadline(request.allowed_routes, request.deadline, max(now, int(time.time())))
    choice: RouteChoice | None = None
    refusal: InvalidRequest | None = None
    try:
        choice = choose(offers, request.amount, prefs, ctx.token.amount_text)
    except InvalidRequest as exc:
        refusal = exc
    out.print(_quote_table(request, token, offers, prefs, choice))
    if choice is None:
        assert refusal is not None
        raise refusal
    out.print(f"chosen: [bold]{choice.chosen.route}[/] ({choice.reason})", soft_wrap=True)


def _quote_table(
    request: BridgeRequest,
    token: TokenSide,
    offers: RouteOffers,
    prefs: RoutePreferences,
    choice: RouteChoice | None,
) -> Table:
    def units(amount: int | None) -> str:
        return _human(amount, token.decimals, token.symbol)

    title = f"{units(request.amount)} {request.source_chain} -> {request.destination_chain} (costs in {token.symbol})"
    table = key_table(
        "route", "fee", "source gas", "destination gas", "total cost", "expected time", "security", "limits",
        "liquidity", "verdict", keys={"route"}, title=title,
    )  # fmt: skip
    scores = {r.quote.route: r.score for r in choice.ranked} if choice else {}
    excluded = exclusions(offers.quotes, request.amount, prefs, token.amount_text)
    for q in offers.quotes:
        table.add_row(
            str(q.route), units(q.fee), units(q.source_gas), units(q.destination_gas), units(q.total_cost),
            _duration(q.expected_seconds), str(q.security_score),
            f"{units(q.min_amount)} .. {units(q.max_amount) if q.max_amount is not None else 'no max'}",
            "unbounded" if q.liquidity is None else units(q.liquidity),
            _verdict(q, choice, scores, excluded),
        )  # fmt: skip
    for name, why in offers.unavailable.items():
        table.add_row(name, *["-"] * 8, f"[red]unavailable[/]: {why}")
    return table


def _verdict(
    q: RouteQuote, choice: RouteChoice | None, scores: dict[BridgeRoute, int], excluded: dict[BridgeRoute, str]
) -> str:
    if q.route in excluded:
        return f"[yellow]excluded[/]: {excluded[q.route]}"
    if choice is not None and q.route == choice.chosen.route:
        return f"[green]chosen[/] (score {scores[q.route]})"
    return f"eligible (score {scores.get(q.route, '-')})"


# -- send ----------------------------------------------------------------------------------
@app.command(context_settings=NUMBER_ARGS)
@run_async
@_bridge_errors
async def send(
    amount: AmountArg,
    asset: AssetArg,
    source: SourceOpt,
    destination: DestinationOpt,
    signer: Annotated[str, typer.Option(help="depositor address (its key must be loaded in the worker)")],
    recipient: Annotated[str | None, typer.Option(help="who receives on --to; default: the signer")] = None,
    route: RouteOpt = None,
    request_id: Annotated[str | None, typer.Option("--id", help="business key; an existing id is joined")] = None,
    deadline: DeadlineOpt = None,
    max_fee: MaxFeeOpt = None,
    max_seconds: MaxSecondsOpt = None,
    fee_cap_gwei: Annotated[str, typer.Option(help="cap on max fee per gas, gwei (both chains)")] = "100",
    wait: Annotated[bool, typer.Option(help="follow the run until it ends")] = True,
) -> None:
    """Bridge AMOUNT (whole tokens) of ASSET through BridgeTransfer and follow it stage by stage.

    Exits 1 if the transfer fails or ends refunded instead of delivered, 2 if it is refused
    as invalid."""
    chains = load_chains()
    client = EvmClient(chains.get(source))
    try:
        token = await resolve_asset(client, asset)
    finally:
        await client.close()
    request = _request(
        request_id or f"cli-{int(time.time() * 1000)}", amount, token, source, destination,
        signer=signer, recipient=recipient, route=route, max_fee=max_fee, max_seconds=max_seconds,
        deadline=deadline, fee_cap_gwei=fee_cap_gwei,
    )  # fmt: skip
    chains.get(destination)
    crosslane = await CrosslaneClient.connect()
    result = await start_and_follow(
        out, request.request_id, crosslane.bridge_handle(request.request_id),
        lambda: crosslane.start_bridge(request), lambda: _follow(crosslane, request.request_id),
        known_id=request_id is not None, wait=wait, ui_url=ui_link(request.workflow_id),
    )  # fmt: skip
    if result is None:
        return
    _print_result(result, token.decimals)
    if result.state is not BridgeState.COMPLETED:
        raise fail(f"not delivered: the transfer ended {result.state} ({result.detail})")


async def _query(client: CrosslaneClient, request_id: str, timeout: timedelta = QUERY_TIMEOUT) -> BridgeStatus:
    status: BridgeStatus = await client.bridge_handle(request_id).query(
        "status", result_type=BridgeStatus, rpc_timeout=timeout
    )
    return status


async def _follow(client: CrosslaneClient, request_id: str) -> BridgeResult:
    """Await the result, printing each stage as the run enters it and its detail live."""
    handle = client.bridge_handle(request_id)
    result_task = asyncio.ensure_future(handle.result())
    last: BridgeState | None = None
    shown_route = False
    with out.status("starting…") as spinner:
        while not result_task.done():
            try:
                s = await _query(client, request_id)
            except Exception:  # noqa: BLE001 - the query races the run's start; keep showing the spinner
                pass
            else:
                if s.route is not None and not shown_route:
                    out.print(f"chosen: [bold]{s.route}[/] ({s.reason})", soft_wrap=True, highlight=False)
                    shown_route = True
                if s.state != last:
                    out.print(f"  {time.strftime('%H:%M:%S')} {s.state}: {s.detail}", soft_wrap=True, highlight=False)
                    last = s.state
                spinner.update(f"{s.state}: {s.detail}")
            await asyncio.wait({result_task}, timeout=POLL_S)
    return result_task.result()


def _print_result(result: BridgeResult, decimals: int | None) -> None:
    colour = COLOURS.get(result.state, "white")
    to = f"back to the depositor {result.recipient} on {result.source_chain}"
    if result.state is BridgeState.COMPLETED:
        to = f"to {result.recipient} on {result.destination_chain}"
    out.print(
        f"[{colour}]{result.state}[/] via {result.route}: received {_human(result.received, decimals, result.asset)} "
        f"{to} (sent {_human(result.amount, decimals, result.asset)})",
        soft_wrap=True,
    )
    out.print(f"  deposit tx     {result.deposit_tx} on {result.source_chain}", highlight=False)
    if result.completion_tx:
        by = "redeemed by us" if result.redeemed_by_us else "delivered by the route"
        out.print(f"  completion tx  {result.completion_tx} on {result.destination_chain} ({by})", highlight=False)
    if result.refund_tx:
        out.print(f"  refund tx      {result.refund_tx} on {result.source_chain}", highlight=False)
    if result.stage_seconds:
        stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.stage_seconds.items())
        out.print(f"  stages: {stages}; total {sum(result.stage_seconds.values()):.2f} s", highlight=False)


# -- status, refund, resume, cancel --------------------------------------------------------
async def _read(client: CrosslaneClient, request_id: str) -> BridgeStatus:
    """The run's ``status`` query; for a closed run whose query fails (no worker to replay
    it), what its result says. InvalidRequest if there is no such transfer."""
    handle = client.bridge_handle(request_id)
    run = await run_status(handle)
    if run is None:
        raise InvalidRequest(f"no bridge transfer {handle.id} (no such workflow)")
    running = run is WorkflowExecutionStatus.RUNNING
    try:
        return await _query(client, request_id, QUERY_TIMEOUT if running else CLOSED_QUERY_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any query failure: fall back on a closed run, else say so
        if running:
            raise fail(
                f"{handle.id} is running but its status query failed ({exc}); is a worker polling {client.task_queue}?"
            ) from None
    request_id = handle.id.removeprefix("bridge-")
    try:
        result = await handle.result()
    except WorkflowFailureError as exc:
        kind, message = _failure(exc)
        return BridgeStatus(request_id=request_id, state=BridgeState.FAILED, detail=f"{kind}: {message}")
    return BridgeStatus(
        request_id=request_id,
        state=result.state,
        detail=f"{result.detail} (from the run's result: no worker answered the status query)",
        route=result.route,
        reason=result.reason or None,
        source_chain=result.source_chain,
        destination_chain=result.destination_chain,
        asset=result.asset,
        amount=result.amount,
        deposit_tx=result.deposit_tx,
        completion_tx=result.completion_tx,
        refund_tx=result.refund_tx,
    )


async def _decimals(asset: str, chain: str) -> int | None:
    """The asset's decimals on ``chain`` (a wrapped asset's read from its token); None if unknown there."""
    try:
        chains = ChainRegistry.from_registry(configured_registry(settings()))
    except RegistryError:  # no registry: amounts shown in base units
        return None
    if chain not in chains.chains:
        return None
    client = EvmClient(chains.get(chain))
    try:
        return (await resolve_asset(client, asset)).decimals
    except InvalidRequest:
        return None
    finally:
        await client.close()


@app.command()
@run_async
@_bridge_errors
async def status(request_id: IdArg) -> None:
    """One look at a transfer, running or closed: state, route and why, every step's transaction,
    the child lifecycles started (only for a transaction not mined at once)."""
    client = await CrosslaneClient.connect()
    s = await _read(client, request_id)
    workflow_id = client.bridge_handle(request_id).id
    out.print(f"{workflow_id}: [{COLOURS.get(s.state, 'cyan')}]{s.state}[/] {s.detail}", soft_wrap=True)
    table = Table(show_header=False, box=None, pad_edge=False)
    decimals = await _decimals(s.asset, s.source_chain) if s.asset else None
    transfer = "-"
    if s.asset:
        transfer = f"{_human(s.amount, decimals, s.asset)} {s.source_chain} -> {s.destination_chain}"
    transactions = ", ".join(f"{step} {tx_hash}" for step, tx_hash in s.transactions.items())
    children = ", ".join(f"{step} {wid}" for step, wid in s.child_workflow_ids.items())
    for name, value in (
        ("transfer", transfer),
        ("route", s.route),
        ("reason", s.reason),
        ("deposit tx", s.deposit_tx),
        ("deposit id", s.deposit_id),
        ("completion tx", s.completion_tx),
        ("refund tx", s.refund_tx),
        ("transactions", transactions),
        ("child workflows", children),
        ("waiting since", s.waiting_since),
    ):
        table.add_row(name, str(value) if value else "-")
    out.print(table)
    out.print(f"UI: {ui_link(workflow_id)}", soft_wrap=True)


@app.command()
@run_async
@_bridge_errors
async def refund(
    request_id: IdArg,
    wait: Annotated[bool, typer.Option(help="follow the run until it is refunded (or delivered)")] = True,
) -> None:
    """Follow an Across transfer's refund: an expired, unfilled deposit is paid back to the
    depositor on the source chain (the run follows it by itself; this watches it). Refused,
    exit 2, for a delivered transfer and for Wormhole, which has no refund."""
    client = await CrosslaneClient.connect()
    s = await _read(client, request_id)
    workflow_id = client.bridge_handle(request_id).id
    if s.state is BridgeState.COMPLETED:
        raise InvalidRequest(
            f"{workflow_id} was already delivered: nothing to refund"
            + (f" (completion tx {s.completion_tx} on {s.destination_chain})" if s.completion_tx else "")
        )
    if s.state is BridgeState.REFUNDED:
        out.print(
            f"[yellow]refunded[/]: {workflow_id} was refunded on {s.source_chain} in {s.refund_tx}", soft_wrap=True
        )
        return
    if s.state is BridgeState.FAILED:
        if not s.deposit_tx:
            raise InvalidRequest(f"{workflow_id} failed before any deposit ({s.detail}): nothing to refund")
        raise InvalidRequest(f"{workflow_id} failed ({s.detail}): nothing for the route to refund")
    if s.route is BridgeRoute.WORMHOLE:
        raise InvalidRequest(
            f"Wormhole has no refund: the tokens of {workflow_id} stay locked on {s.source_chain} until its VAA is "
            f"redeemed on {s.destination_chain}; once the guardians are back, `crosslane bridge resume "
            f"{s.request_id}` (signal operator_resume) and the run redeems it"
        )
    if s.state in PRE_DEPOSIT:
        raise InvalidRequest(
            f"{workflow_id} has deposited nothing yet ({s.state}): nothing to refund; "
            f"`crosslane bridge cancel {s.request_id}` stops it before the deposit"
        )
    then = "following it" if wait else "the run follows it by itself"
    if s.state in AFTER_EXPIRY:
        out.print(f"{workflow_id} expired unfilled ({s.detail}): refunded on {s.source_chain}; {then}", soft_wrap=True)
    else:
        out.print(
            f"{workflow_id} can still be filled ({s.state}: {s.detail}); it is refunded only after its fill "
            f"deadline; {then}",
            soft_wrap=True,
        )
    if not wait:
        return
    result = await _follow(client, request_id)
    if result.state is BridgeState.COMPLETED:
        raise InvalidRequest(
            f"{workflow_id} was filled before its deadline: already delivered, nothing to refund "
            f"(completion tx {result.completion_tx})"
        )
    _print_result(result, await _decimals(result.asset, result.source_chain))


@app.command()
@run_async
@_bridge_errors
async def resume(request_id: IdArg) -> None:
    """Signal operator_resume: the cause of a wait (guardians down, no refund bundle) is
    fixed; the run looks again now and restarts its patience clock."""
    client = await CrosslaneClient.connect()
    s = await _read(client, request_id)
    handle = client.bridge_handle(request_id)
    if s.state.done:
        raise InvalidRequest(f"{handle.id} already ended ({s.state}): nothing to resume")
    await handle.signal("operator_resume")
    note = "" if s.state is BridgeState.WAITING_FOR_OPERATOR else " (it was not waiting for an operator)"
    out.print(f"operator_resume sent to {handle.id}{note}; it was {s.state}: {s.detail}", soft_wrap=True)


@app.command()
@run_async
@_bridge_errors
async def cancel(
    request_id: IdArg,
    wait: Annotated[bool, typer.Option(help="wait for the run to stop")] = True,
    timeout: Annotated[float, typer.Option(min=0, help="most seconds to wait for it to stop")] = 30,
) -> None:
    """Signal cancel: honoured only before the deposit is sent (an approval in flight is
    cancelled); after it, the transfer continues. Exits 1 if the cancel came too late.

    A run still approving stops once its approval's nonce is settled (mined or cancelled),
    which may outlast --timeout: the cancel stands, and `status` follows it."""
    client = await CrosslaneClient.connect()
    s = await _read(client, request_id)
    handle = client.bridge_handle(request_id)
    if s.state.done:
        raise InvalidRequest(f"{handle.id} already ended ({s.state}): nothing to cancel")
    if s.state not in PRE_DEPOSIT:
        raise InvalidRequest(_deposit_sent(handle.id, s))
    await handle.signal("cancel")
    out.print(f"cancel sent to {handle.id} ({s.state})", soft_wrap=True)
    if not wait:
        return
    result_task = asyncio.ensure_future(handle.result())
    deadline = time.monotonic() + timeout
    with out.status("waiting for the run to stop…") as spinner:
        while not result_task.done() and time.monotonic() < deadline:
            try:
                s = await _query(client, request_id)
            except Exception:  # noqa: BLE001 - a slow answer is not a reason to stop waiting
                pass
            else:
                if s.state not in PRE_DEPOSIT and not s.state.done:
                    result_task.cancel()
                    raise fail(f"cancel came too late: {_deposit_sent(handle.id, s)}")
                spinner.update(f"waiting for the run to stop: {s.state}: {s.detail}")
            await asyncio.wait({result_task}, timeout=POLL_S)
    if not result_task.done():
        result_task.cancel()
        out.print(
            f"[yellow]cancel accepted[/]: {handle.id} stops before its deposit once this step ends "
            f"({s.state}: {s.detail}); `crosslane bridge status {s.request_id}` follows it",
            soft_wrap=True,
        )
        return
    try:
        result = result_task.result()
    except WorkflowFailureError as exc:
        kind, message = _failure(exc)
        if kind != "BridgeCancelled":
            raise
        out.print(f"[green]cancelled[/]: {message}", soft_wrap=True)
        return
    raise fail(f"cancel came too late: {handle.id} ended {result.state}")


def _deposit_sent(workflow_id: str, s: BridgeStatus) -> str:
    after = "; unfilled by its fill deadline, it is refunded" if s.route is BridgeRoute.ACROSS else ""
    return (
        f"{workflow_id} has sent its deposit ({s.state}: {s.detail}): cancel is honoured only before it; "
        f"the transfer continues{after}"
    )
