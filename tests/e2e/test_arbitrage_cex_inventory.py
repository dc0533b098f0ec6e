"""A CEX leg is never sent beyond what the account holds on the venues: with only 100 USDT
left on each simulated venue, a run that would buy 0.5 ETH there (about 1,500 USDT) is
refused at its quote with what is held, and nothing moves on any venue or chain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.cex.credentials import load_credentials
from crosslane.domain.arb_steps import ArbOutcome
from crosslane.errors import InvalidRequest
from devnet.cex import admin_client as admin
from devnet.sandbox import Sandbox
from tests.e2e.test_arbitrage import ArbStack, arb_sandbox, cex_children, run_arb

pytestmark = pytest.mark.timeout(300)

LEFT = Decimal(100)


@pytest.fixture(scope="module")
async def arb_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ArbStack]:
    async with arb_sandbox(tmp_path_factory.mktemp("arb-inventory")) as stacked:
        yield stacked


@asynccontextmanager
async def usdt_left(services: Sandbox, left: Decimal) -> AsyncIterator[None]:
    """The fast path's account on every venue down to ``left`` free USDT, given back after."""
    taken: dict[str, tuple[str, Decimal]] = {}
    try:
        for name, venue in services.devnet.cex.items():
            creds = load_credentials(name, secrets_file=Path(venue.credentials_file), environ={})
            assert creds is not None
            free = Decimal((await admin.balances(venue.rest_url, api_key=creds.api_key))["balances"]["USDT"]["free"])
            taken[name] = (creds.api_key, free - left)
            await admin.credit(venue.rest_url, "USDT", f"-{free - left}", api_key=creds.api_key)
        yield
    finally:
        for name, (api_key, amount) in taken.items():
            await admin.credit(services.devnet.cex[name].rest_url, "USDT", str(amount), api_key=api_key)


async def test_a_cex_buy_beyond_the_quote_held_on_the_venues_is_refused_before_anything_is_sent(
    arb_stack: ArbStack,
) -> None:
    async with usdt_left(arb_stack.stack.sandbox, LEFT):
        request, result, measured = await run_arb(arb_stack, 5 * 10**18)
    assert result.outcome is ArbOutcome.ABORTED, result.reason
    assert "inventory: the account holds 100 USDT on cex:" in result.reason, result.reason
    assert ", the buy leg needs " in result.reason
    assert measured == {} and result.realised_profit == 0 and result.legs == []
    with pytest.raises(InvalidRequest, match="no parent order"):  # the CEX leg was never sent
        await cex_children(arb_stack, request.workflow_id)
