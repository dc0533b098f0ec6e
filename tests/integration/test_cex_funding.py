"""The simulators' wallets through unmodified ccxt: currencies with their devnet networks,
deposit addresses, withdrawals sent on chain from the hot wallet (once per client reference;
Kraken: to a named withdrawal key) and deposits credited once after the confirmations;
refusals as ccxt's exceptions."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt
import pytest
from eth_account import Account
from web3 import Web3

from connectors.cex.config import SPOT_ONLY_OPTIONS, VenueConfig
from connectors.cex.credentials import load_credentials
from connectors.cex.funding import AddressNotWhitelisted, AmbiguousWithdrawal
from connectors.cex.venue import CexVenue
from devnet.anvil import find_free_port, rpc_call
from devnet.cex import admin_client as admin
from devnet.cex.clients import ccxt_client
from devnet.cex.funding import hot_wallet_address
from devnet.manager import devnet_down, devnet_up
from devnet.state import DevnetState

pytestmark = pytest.mark.timeout(120)
REF = {"binance": "withdrawOrderId", "okx": "clientId"}
ERC20 = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "o", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "transfer", "stateMutability": "nonpayable",
     "inputs": [{"name": "t", "type": "address"}, {"name": "a", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
]  # fmt: skip


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[DevnetState, Path]]:
    path = tmp_path_factory.mktemp("funding") / "devnet.json"
    ports = {"devnet-a": find_free_port(), "devnet-b": find_free_port()}
    cex_ports = {"binance": find_free_port(), "okx": find_free_port(), "kraken": find_free_port()}
    state = await devnet_up(path, ports, detached=False, cex=True, cex_ports=cex_ports)
    try:
        yield state, path
    finally:
        devnet_down(path)


def _client(state: DevnetState, venue: str, account: str) -> Any:
    info = state.cex[venue]
    creds = load_credentials(account, secrets_file=Path(info.credentials_file), environ={})
    assert creds is not None
    return ccxt_client(
        info.exchange, info.rest_url, info.ws_url, api_key=creds.api_key, secret=creds.secret,
        password=creds.password, options={**SPOT_ONLY_OPTIONS, "fetchCurrencies": True},
    )  # fmt: skip


def _usdc(state: DevnetState, chain: str) -> Any:
    w3 = Web3(Web3.HTTPProvider(state.anvil_url(chain)))
    return w3, w3.eth.contract(address=Web3.to_checksum_address(state.chains[chain].tokens["USDC"].address), abi=ERC20)


async def _until(fetch: Any, done: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s}s: {value}")
        await asyncio.sleep(0.2)


async def _deposit_back(state: DevnetState, ex: Any, sender: Any, to: str, whole: int) -> list[dict[str, Any]]:
    """Send ``whole`` USDC from ``sender`` to the deposit address ``to``; the credited deposits
    once the venue reports it, checked to be that one transaction."""
    w3, usdc = _usdc(state, "devnet-a")
    rpc_call(state.anvil_url("devnet-a"), "anvil_setBalance", [sender.address, hex(10**18)])
    tx = usdc.functions.transfer(to, whole * 10**6).build_transaction(
        {"from": sender.address, "nonce": 0, "gas": 100_000, "chainId": state.chains["devnet-a"].chain_id}
    )
    sent = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    w3.eth.wait_for_transaction_receipt(sent)
    credited = await _until(lambda: ex.fetch_deposits("USDC"), lambda rows: bool(rows) and rows[0]["status"] == "ok")
    assert len(credited) == 1 and credited[0]["txid"] == "0x" + sent.hex().removeprefix("0x")
    return list(credited)


@pytest.mark.parametrize("venue", ["binance", "okx"])
async def test_withdraw_and_deposit_through_ccxt(devnet: tuple[DevnetState, Path], venue: str) -> None:
    state, _ = devnet
    info = state.cex[venue]
    account = f"{venue}-2"
    ex = _client(state, venue, account)
    w3, usdc = _usdc(state, "devnet-a")
    recipient = Account.from_key("0x" + secrets.token_hex(32))
    try:
        currencies = await ex.fetch_currencies()
        network = currencies["USDC"]["networks"]["DEVNET-A"]
        assert Decimal(str(network["fee"])) == 1 and Decimal(str(network["limits"]["withdraw"]["min"])) == 10
        assert set(currencies["ETH"]["networks"]) >= {"DEVNET-A", "DEVNET-B"}
        await ex.load_markets(reload=True)

        address = await ex.fetch_deposit_address("USDC", {"network": "DEVNET-A"})
        assert Web3.is_address(address["address"])
        assert address["address"] == (await ex.fetch_deposit_address("USDC", {"network": "DEVNET-A"}))["address"]

        await admin.credit(info.rest_url, "USDC", "1000", account=f"acct-{account}")
        ref = f"w{secrets.token_hex(6)}"
        params = {"network": "DEVNET-A", REF[venue]: ref}
        # ccxt maps Binance's -40xx codes by api.binance.com URLs only: through a simulator they
        # stay ExchangeError (the connector classifies them by code); OKX's map by code.
        with pytest.raises(ccxt.ExchangeError if venue == "binance" else ccxt.InvalidAddress, match="whitelist"):
            await ex.withdraw("USDC", 100, recipient.address, params=params)
        await admin.whitelist(info.rest_url, [recipient.address], account=f"acct-{account}")
        with pytest.raises(ccxt.ExchangeError, match="minimum|lower limit"):
            await ex.withdraw("USDC", 5, recipient.address, params=params)
        with pytest.raises(ccxt.ExchangeError if venue == "binance" else ccxt.InsufficientFunds, match="nsufficient"):
            await ex.withdraw("USDC", 5000, recipient.address, params=params)

        first = await ex.withdraw("USDC", 100, recipient.address, params=params)
        again = await ex.withdraw("USDC", 100, recipient.address, params=params)
        assert first["id"] == again["id"]
        done = await _until(
            lambda: ex.fetch_withdrawals("USDC", params={REF[venue]: ref}),
            lambda rows: len(rows) == 1 and rows[0]["status"] == "ok",
        )
        arrived = int(usdc.functions.balanceOf(recipient.address).call())
        expected = 99 if venue == "binance" else 100  # Binance takes its fee out of the amount, OKX on top
        assert arrived == expected * 10**6
        assert done[0]["id"] == first["id"] and done[0]["txid"] and done[0]["network"] == "DEVNET-A"
        receipt = w3.eth.get_transaction_receipt(done[0]["txid"])
        assert receipt["from"] == hot_wallet_address(venue)
        balance = await ex.fetch_balance()
        assert Decimal(str(balance["USDC"]["free"])) == 1000 - 100 - (0 if venue == "binance" else 1)

        # Deposit back from the recipient: credited once, after the confirmations.
        await _deposit_back(state, ex, recipient, address["address"], 40)
        await asyncio.sleep(1.0)  # more watcher ticks: still credited once
        balance = await ex.fetch_balance()
        assert Decimal(str(balance["USDC"]["free"])) == 1000 - 100 - (0 if venue == "binance" else 1) + 40
    finally:
        await ex.close()


async def test_kraken_withdraws_to_a_named_key_and_credits_deposits(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    info = state.cex["kraken"]
    account = "kraken-2"
    ex = _client(state, "kraken", account)
    w3, usdc = _usdc(state, "devnet-a")
    recipient = Account.from_key("0x" + secrets.token_hex(32))
    key = f"mine-{secrets.token_hex(3)}"
    try:
        await ex.load_markets()
        methods = await ex.fetch_deposit_methods("USDC")
        assert [m["method"] for m in methods] == ["USDC (DEVNET-A)", "USDC (DEVNET-B)"]
        # ccxt sends its own default method for USDC (a mainnet one) unless told which: name it.
        with pytest.raises(ccxt.BadRequest, match="No funding method"):
            await ex.fetch_deposit_address("USDC", {"network": "DEVNET-A"})
        address = await ex.fetch_deposit_address("USDC", {"method": "USDC (DEVNET-A)"})
        assert Web3.is_address(address["address"])
        again = await ex.create_deposit_address("USDC", {"method": "USDC (DEVNET-A)"})
        assert again["address"] == address["address"]

        await admin.credit(info.rest_url, "USDC", "1000", account=f"acct-{account}")
        with pytest.raises(ccxt.InvalidAddress, match="Unknown withdraw key"):
            await ex.withdraw("USDC", 100, recipient.address, params={"key": key})
        entry = {"address": recipient.address, "network": "DEVNET-A"}
        await admin.whitelist(info.rest_url, [], account=f"acct-{account}", keys={key: entry})
        with pytest.raises(ccxt.ExchangeError, match="Invalid withdraw address"):
            await ex.withdraw("USDC", 100, Account.create().address, params={"key": key})
        with pytest.raises(ccxt.InsufficientFunds, match="EFunding:Invalid amount"):
            await ex.withdraw("USDC", 5, recipient.address, params={"key": key})
        with pytest.raises(ccxt.ExchangeError, match="EFunding:Insufficient funds"):
            await ex.withdraw("USDC", 5000, recipient.address, params={"key": key})
        quote = await ex.privatePostWithdrawInfo({"asset": "USDC", "key": key, "amount": "100"})
        assert quote["result"] == {"method": "USDC (DEVNET-A)", "limit": "1000", "amount": "99", "fee": "1"}

        first = await ex.withdraw("USDC", 100, recipient.address, params={"key": key})
        assert first["id"] and first["id"].startswith("A")
        done = await _until(
            lambda: ex.fetch_withdrawals("USDC"), lambda rows: len(rows) == 1 and rows[0]["status"] == "ok"
        )
        assert done[0]["id"] == first["id"] and done[0]["txid"] and done[0]["network"] == "DEVNET-A"
        assert done[0]["address"] == recipient.address and done[0]["info"]["key"] == key
        assert (done[0]["amount"], done[0]["fee"]["cost"]) == (99, 1)  # Kraken's fee comes out of the amount
        assert int(usdc.functions.balanceOf(recipient.address).call()) == 99 * 10**6
        assert w3.eth.get_transaction_receipt(done[0]["txid"])["from"] == hot_wallet_address("kraken")
        assert Decimal(str((await ex.fetch_balance())["USDC"]["free"])) == 900

        credited = await _deposit_back(state, ex, recipient, address["address"], 40)
        assert credited[0]["amount"] == 40 and credited[0]["network"] == "DEVNET-A"
        assert Decimal(str((await ex.fetch_balance())["USDC"]["free"])) == 940
    finally:
        await ex.close()


async def test_kraken_connector_finds_a_lost_withdrawal_by_match_and_refuses_when_ambiguous(
    devnet: tuple[DevnetState, Path],
) -> None:
    """The connector against the Kraken simulator: a retried withdrawal finds the one already
    made (by address, amount and time: Kraken keeps no client reference) instead of sending a
    second; with two candidates it refuses and sends nothing."""
    state, _ = devnet
    info = state.cex["kraken"]
    account = "kraken"
    creds = load_credentials(account, secrets_file=Path(info.credentials_file), environ={})
    assert creds is not None
    config = VenueConfig(
        name="kraken", exchange="kraken", rest_url=info.rest_url, ws_url=info.ws_url,
        options={"fetchCurrencies": True}, enable_rate_limit=False,  # ccxt spaces Kraken's funding calls by seconds
    )  # fmt: skip
    venue = CexVenue(config, creds)
    recipient = Account.from_key("0x" + secrets.token_hex(32))
    await admin.credit(info.rest_url, "USDC", "1000", account=f"acct-{account}")
    await admin.whitelist(info.rest_url, [], account=f"acct-{account}", keys={"cold": recipient.address})
    try:
        await venue.start()
        rules = await venue.transfer_rules("USDC", "DEVNET-B")
        assert (rules["fee"], rules["limits"]["withdraw"]["min"]) == (1, 10)
        assert Web3.is_address(await venue.deposit_address("USDC", "DEVNET-A"))
        since = int(time.time() * 1000)
        first = await venue.withdraw("USDC", Decimal(50), recipient.address, "DEVNET-A", "ref1", since_ms=since,
                                     resumed=False)  # fmt: skip
        again = await venue.withdraw("USDC", Decimal(50), recipient.address, "DEVNET-A", "ref1", since_ms=since)
        assert again.id == first.id and (again.amount, again.fee) == (Decimal(49), Decimal(1))
        await venue.withdraw("USDC", Decimal(50), recipient.address, "DEVNET-A", "ref2", since_ms=since, resumed=False)
        with pytest.raises(AmbiguousWithdrawal, match="2 withdrawals of 50 USDC"):
            await venue.withdraw("USDC", Decimal(50), recipient.address, "DEVNET-A", "ref1", since_ms=since)
        with pytest.raises(AddressNotWhitelisted):
            await venue.withdraw("USDC", Decimal(50), Account.create().address, "DEVNET-A", "ref3", since_ms=since)
        made = [w for w in (await admin.funding(info.rest_url))["withdrawals"] if w["account"] == f"acct-{account}"]
        assert len(made) == 2
    finally:
        await venue.close()
