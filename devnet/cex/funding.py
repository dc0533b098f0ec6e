"""A simulated venue's wallet side: deposit addresses, withdrawals sent from a hot wallet,
deposits credited after confirmations, on the devnet's EVM chains.

Below the wire like the matching engine: the dialects (``binance/funding.py``,
``okx/funding.py``, ``kraken/funding.py``) turn these records into each venue's JSON. Configured after the chains
are deployed (``POST /__admin/funding``), since the venue process starts before them.

- A withdrawal is debited when requested (amount plus fee, see ``fee_inside``), sent after
  ``processing_delay_s`` from the hot wallet (ERC-20 ``transfer`` or native ETH), and reported
  ``processing`` → ``sent`` (with its tx hash) → ``completed`` once mined and confirmed. A
  client reference (Binance ``withdrawOrderId``, OKX ``clientId``) names at most one
  withdrawal per account: asking again with the same one returns it, never a second one.
- Addresses must be on the account's whitelist (Kraken: named entries of the account's
  address book, ``withdraw_keys``, which are whitelisted too); below the network's minimum, or not a
  multiple of its precision, is refused before anything is debited.
- Deposits: each account has one deterministic deposit address (a devnet key derived from
  venue and account); a watcher reads token ``Transfer`` logs and native transfers to those
  addresses and credits each (tx hash, log index) exactly once, after ``confirmations``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from eth_account import Account
from eth_utils import keccak, to_checksum_address

from devnet.anvil import DevnetError, rpc_call

log = logging.getLogger(__name__)
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
TRANSFER_SELECTOR = "a9059cbb"
POLL_S = 0.2


def devnet_key(venue: str, purpose: str) -> str:
    """A deterministic devnet-only private key (hot wallet, deposit addresses): public by design."""
    return "0x" + keccak(text=f"crosslane-devnet-cex:{venue}:{purpose}").hex()


def hot_wallet_address(venue: str) -> str:
    return str(Account.from_key(devnet_key(venue, "hot-wallet")).address)


class FundingRefusal(StrEnum):
    UNKNOWN_ASSET = "unknown_asset"
    UNKNOWN_NETWORK = "unknown_network"
    NOT_WHITELISTED = "not_whitelisted"
    BELOW_MINIMUM = "below_minimum"
    NOT_ABOVE_FEE = "not_above_fee"
    PRECISION = "precision"
    INSUFFICIENT = "insufficient"
    DUPLICATE_REF = "duplicate_ref"
    BAD_ADDRESS = "bad_address"


class FundingError(Exception):
    def __init__(self, kind: FundingRefusal, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class WithdrawalStatus(StrEnum):
    PROCESSING = "processing"  # debited, waiting for the venue's processing delay
    SENT = "sent"  # broadcast: tx hash known
    COMPLETED = "completed"  # mined and confirmed
    FAILED = "failed"  # the transaction reverted: refunded to the account


class DepositStatus(StrEnum):
    PENDING = "pending"  # seen on chain, fewer confirmations than required
    CREDITED = "credited"


@dataclass(frozen=True)
class NetworkAsset:
    asset: str
    token: str | None  # None: the chain's native coin
    decimals: int
    withdraw_fee: Decimal
    withdraw_min: Decimal

    @property
    def step(self) -> Decimal:
        return Decimal(1).scaleb(-min(self.decimals, 8 if self.token is None else self.decimals))


@dataclass(frozen=True)
class Network:
    network: str  # the venue's network id, e.g. DEVNET-A
    chain: str
    chain_id: int
    rpc_url: str
    assets: dict[str, NetworkAsset]


@dataclass
class Withdrawal:
    id: int
    account: str
    asset: str
    network: str
    address: str
    amount: Decimal  # what the recipient receives
    fee: Decimal
    client_ref: str
    created_ms: int
    status: WithdrawalStatus = WithdrawalStatus.PROCESSING
    tx_hash: str | None = None
    updated_ms: int = 0
    raw_tx: str | None = field(default=None, repr=False)

    @property
    def debited(self) -> Decimal:
        return self.amount + self.fee


@dataclass
class CreditedDeposit:
    id: int
    account: str
    asset: str
    network: str
    address: str
    amount: Decimal
    tx_hash: str
    log_index: int
    block: int
    created_ms: int
    confirmations: int = 0
    status: DepositStatus = DepositStatus.PENDING


@dataclass
class _ChainCursor:
    next_block: int
    next_nonce: int = 0
    nonce_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FundingDesk:
    """Wallet operations of one venue. ``credit(account, asset, amount)`` moves the venue's
    balances (negative debits), ``free`` reads them; ``now_ms`` is the venue clock and
    ``accounts`` lists the accounts that have deposit addresses."""

    def __init__(
        self,
        venue: str,
        credit: Callable[[str, str, Decimal], object],
        free: Callable[[str, str], Decimal],
        now_ms: Callable[[], int],
        accounts: Callable[[], list[str]],
        *,
        fee_inside: bool,
    ) -> None:
        self.venue = venue
        self._accounts = accounts
        self._credit = credit
        self._free = free
        self._now_ms = now_ms
        self.fee_inside = fee_inside  # Binance: fee taken out of the amount; OKX: on top of it
        self.hot_key = devnet_key(venue, "hot-wallet")
        self.hot_wallet = hot_wallet_address(venue)
        self.networks: dict[str, Network] = {}
        self.confirmations = 2
        self.processing_delay_s = 0.5
        # An automining anvil makes no block while nobody sends: a wallet waiting for
        # confirmations there asks for one (``evm_mine``) each tick, as time would on a chain.
        self.mine_while_waiting = False
        self.whitelists: dict[str, set[str]] = {}
        # Kraken withdraws to a named address-book entry: account → key name → (address, network or None)
        self.withdraw_keys: dict[str, dict[str, tuple[str, str | None]]] = {}
        self.withdrawals: list[Withdrawal] = []
        self.deposits: list[CreditedDeposit] = []
        self._deposit_keys: set[tuple[str, str, int]] = set()
        self._ids = itertools.count(1)
        self._cursors: dict[str, _ChainCursor] = {}
        self._task: asyncio.Task[None] | None = None

    # -- configuration ----------------------------------------------------------------------

    def configure(self, body: dict[str, Any]) -> None:
        networks = {}
        for raw in body["networks"]:
            assets = {
                symbol: NetworkAsset(
                    asset=symbol,
                    token=spec.get("token"),
                    decimals=int(spec["decimals"]),
                    withdraw_fee=Decimal(str(spec.get("withdraw_fee", "0"))),
                    withdraw_min=Decimal(str(spec.get("withdraw_min", "0"))),
                )
                for symbol, spec in raw["assets"].items()
            }
            networks[raw["network"]] = Network(
                network=raw["network"],
                chain=raw["chain"],
                chain_id=int(raw["chain_id"]),
                rpc_url=raw["rpc_url"],
                assets=assets,
            )
        for network in networks.values():  # cursors first: the watcher may tick meanwhile
            head = int(rpc_call(network.rpc_url, "eth_blockNumber"), 16)
            self._cursors.setdefault(network.network, _ChainCursor(next_block=head + 1))
        self.confirmations = int(body.get("confirmations", self.confirmations))
        self.processing_delay_s = float(body.get("processing_delay_s", self.processing_delay_s))
        self.mine_while_waiting = bool(body.get("mine_while_waiting", self.mine_while_waiting))
        self.networks = networks

    def whitelist(
        self, account: str, addresses: list[str], keys: dict[str, tuple[str, str | None]] | None = None
    ) -> list[str]:
        """Whitelist ``addresses``; ``keys`` also names entries of the account's address book
        (key name → address and network, None: the asset's first), whitelisted too."""
        entries = self.whitelists.setdefault(account, set())
        entries.update(to_checksum_address(a) for a in addresses)
        for name, (address, network) in (keys or {}).items():
            checksum = to_checksum_address(address)
            self.withdraw_keys.setdefault(account, {})[name] = (checksum, network)
            entries.add(checksum)
        return sorted(entries)

    def assets(self) -> list[str]:
        return sorted({a for n in self.networks.values() for a in n.assets})

    def networks_of(self, asset: str) -> list[tuple[Network, NetworkAsset]]:
        return [(n, n.assets[asset]) for n in self.networks.values() if asset in n.assets]

    # -- addresses ----------------------------------------------------------------------------

    def deposit_address(self, account: str) -> str:
        return str(Account.from_key(devnet_key(self.venue, f"deposit:{account}")).address)

    def _spec(self, asset: str, network: str | None) -> tuple[Network, NetworkAsset]:
        options = self.networks_of(asset)
        if not options:
            raise FundingError(FundingRefusal.UNKNOWN_ASSET, f"{asset} cannot be deposited or withdrawn here")
        if network is None:
            return options[0]
        for net, spec in options:
            if net.network == network:
                return net, spec
        raise FundingError(FundingRefusal.UNKNOWN_NETWORK, f"{asset} is not supported on network {network}")

    def address_for(self, account: str, asset: str, network: str | None) -> tuple[str, Network]:
        net, _ = self._spec(asset, network)
        return self.deposit_address(account), net

    # -- withdrawals --------------------------------------------------------------------------

    def find_withdrawal(self, account: str, client_ref: str) -> Withdrawal | None:
        return next((w for w in self.withdrawals if w.account == account and w.client_ref == client_ref), None)

    def request_withdrawal(
        self, account: str, asset: str, network: str | None, address: str, amount: Decimal, client_ref: str
    ) -> Withdrawal:
        """Debit and queue a withdrawal; the one already made under ``client_ref`` if any (same
        terms), refused if its terms differ."""
        net, spec = self._spec(asset, network)
        try:
            to = to_checksum_address(address)
        except ValueError:
            raise FundingError(FundingRefusal.BAD_ADDRESS, f"{address!r} is not an address on {net.network}") from None
        if client_ref:
            existing = self.find_withdrawal(account, client_ref)
            if existing is not None:
                if (existing.asset, existing.network, existing.address) != (asset, net.network, to) or (
                    amount not in (existing.amount, existing.debited)
                ):
                    raise FundingError(
                        FundingRefusal.DUPLICATE_REF, f"client reference {client_ref} names another withdrawal"
                    )
                return existing
        if to not in self.whitelists.get(account, set()):
            raise FundingError(FundingRefusal.NOT_WHITELISTED, f"{to} is not on the withdrawal whitelist")
        if amount < spec.withdraw_min:
            raise FundingError(FundingRefusal.BELOW_MINIMUM, f"{spec.withdraw_min}")
        if amount % spec.step != 0:
            raise FundingError(FundingRefusal.PRECISION, f"{spec.step}")
        if self.fee_inside:
            if amount <= spec.withdraw_fee:
                raise FundingError(FundingRefusal.NOT_ABOVE_FEE, f"{spec.withdraw_fee}")
            received, debit = amount - spec.withdraw_fee, amount
        else:
            received, debit = amount, amount + spec.withdraw_fee
        if self._free(account, asset) < debit:
            raise FundingError(FundingRefusal.INSUFFICIENT, f"needs {debit} {asset}")
        self._credit(account, asset, -debit)
        now = self._now_ms()
        withdrawal = Withdrawal(
            id=next(self._ids) + 10_000,
            account=account,
            asset=asset,
            network=net.network,
            address=to,
            amount=received,
            fee=spec.withdraw_fee,
            client_ref=client_ref,
            created_ms=now,
            updated_ms=now,
        )
        self.withdrawals.append(withdrawal)
        return withdrawal

    # -- the background side --------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"{self.venue}-funding")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a flaky RPC answer must not stop the venue's wallet
                log.exception("%s funding tick failed", self.venue)
            await asyncio.sleep(POLL_S)

    async def tick(self) -> None:
        for network in list(self.networks.values()):
            head = int(await self._rpc(network, "eth_blockNumber"), 16)
            await self._scan_deposits(network, head)
            await self._credit_confirmed(network, head)
            await self._process_withdrawals(network, head)
            if self.mine_while_waiting and self._waiting(network):
                await self._rpc(network, "evm_mine")

    def _waiting(self, network: Network) -> bool:
        return any(d.network == network.network and d.status is DepositStatus.PENDING for d in self.deposits) or any(
            w.network == network.network and w.status is WithdrawalStatus.SENT for w in self.withdrawals
        )

    async def _rpc(self, network: Network, method: str, *params: Any) -> Any:
        return await asyncio.to_thread(rpc_call, network.rpc_url, method, list(params), 5.0)

    async def _scan_deposits(self, network: Network, head: int) -> None:
        cursor = self._cursors[network.network]
        if cursor.next_block > head:
            return
        by_address = {self.deposit_address(a).lower(): a for a in self._accounts()}
        if by_address:
            tokens = {spec.token.lower(): spec for spec in network.assets.values() if spec.token}
            if tokens:
                logs = await self._rpc(
                    network,
                    "eth_getLogs",
                    {
                        "fromBlock": hex(cursor.next_block),
                        "toBlock": hex(head),
                        "address": list(tokens),
                        "topics": [TRANSFER_TOPIC],
                    },
                )
                for entry in logs:
                    to = "0x" + entry["topics"][2][-40:] if len(entry["topics"]) > 2 else ""
                    account = by_address.get(to.lower())
                    if account is None or entry.get("removed"):
                        continue
                    spec = tokens[entry["address"].lower()]
                    amount = Decimal(int(entry["data"], 16)).scaleb(-spec.decimals)
                    self._seen(network, spec, account, to, amount, entry["transactionHash"],
                               int(entry["logIndex"], 16), int(entry["blockNumber"], 16))  # fmt: skip
            native = next((s for s in network.assets.values() if s.token is None), None)
            if native is not None:
                for number in range(cursor.next_block, head + 1):
                    block = await self._rpc(network, "eth_getBlockByNumber", hex(number), True)
                    for tx in block["transactions"]:
                        account = by_address.get((tx.get("to") or "").lower())
                        value = int(tx["value"], 16)
                        if account is None or value == 0:
                            continue
                        receipt = await self._rpc(network, "eth_getTransactionReceipt", tx["hash"])
                        if receipt is None or int(receipt["status"], 16) != 1:
                            continue
                        amount = Decimal(value).scaleb(-native.decimals)
                        self._seen(network, native, account, tx["to"], amount, tx["hash"], -1, number)
        cursor.next_block = head + 1

    def _seen(
        self, network: Network, spec: NetworkAsset, account: str, address: str, amount: Decimal,
        tx_hash: str, log_index: int, block: int,
    ) -> None:  # fmt: skip
        key = (network.network, tx_hash.lower(), log_index)
        if key in self._deposit_keys:  # exactly once per (tx hash, log index)
            return
        self._deposit_keys.add(key)
        self.deposits.append(
            CreditedDeposit(
                id=next(self._ids) + 10_000,
                account=account,
                asset=spec.asset,
                network=network.network,
                address=to_checksum_address(address),
                amount=amount,
                tx_hash=tx_hash,
                log_index=log_index,
                block=block,
                created_ms=self._now_ms(),
            )
        )

    async def _credit_confirmed(self, network: Network, head: int) -> None:
        for deposit in self.deposits:
            if deposit.network != network.network or deposit.status is DepositStatus.CREDITED:
                continue
            deposit.confirmations = head - deposit.block + 1
            if deposit.confirmations >= self.confirmations:
                deposit.status = DepositStatus.CREDITED
                self._credit(deposit.account, deposit.asset, deposit.amount)

    async def _process_withdrawals(self, network: Network, head: int) -> None:
        now = self._now_ms()
        for w in self.withdrawals:
            if w.network != network.network:
                continue
            if w.status is WithdrawalStatus.PROCESSING and now - w.created_ms >= self.processing_delay_s * 1000:
                if w.raw_tx is None:  # signed once; a send whose answer was lost resends these bytes
                    w.raw_tx, w.tx_hash = await self._sign(network, network.assets[w.asset], w.address, w.amount)
                try:
                    await self._rpc(network, "eth_sendRawTransaction", w.raw_tx)
                except DevnetError as exc:
                    if "already known" not in str(exc) and "nonce too low" not in str(exc):
                        raise
                w.status, w.updated_ms = WithdrawalStatus.SENT, self._now_ms()
            elif w.status is WithdrawalStatus.SENT and w.tx_hash:
                receipt = await self._rpc(network, "eth_getTransactionReceipt", w.tx_hash)
                if receipt is None:
                    continue
                if int(receipt["status"], 16) != 1:
                    w.status, w.updated_ms = WithdrawalStatus.FAILED, self._now_ms()
                    self._credit(w.account, w.asset, w.debited)  # refunded
                elif head - int(receipt["blockNumber"], 16) + 1 >= self.confirmations:
                    w.status, w.updated_ms = WithdrawalStatus.COMPLETED, self._now_ms()

    async def _sign(self, network: Network, spec: NetworkAsset, to: str, amount: Decimal) -> tuple[str, str]:
        """The hot wallet's transaction paying ``amount`` to ``to``: (raw bytes, hash). Nonces
        come from the chain's pending count, so withdrawals are signed one at a time."""
        units = int(amount.scaleb(spec.decimals))
        cursor = self._cursors[network.network]
        async with cursor.nonce_lock:
            nonce = int(await self._rpc(network, "eth_getTransactionCount", self.hot_wallet, "pending"), 16)
            nonce = max(nonce, cursor.next_nonce)
            block = await self._rpc(network, "eth_getBlockByNumber", "latest", False)
            base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
            tip = 10**9
            tx: dict[str, Any] = {
                "chainId": network.chain_id,
                "nonce": nonce,
                "maxPriorityFeePerGas": tip,
                "maxFeePerGas": base_fee * 2 + tip,
                "type": 2,
            }
            if spec.token is None:
                tx.update(to=to_checksum_address(to), value=units, gas=21_000)
            else:
                data = TRANSFER_SELECTOR + to[2:].lower().rjust(64, "0") + hex(units)[2:].rjust(64, "0")
                tx.update(to=to_checksum_address(spec.token), value=0, gas=100_000, data="0x" + data)
            signed = Account.sign_transaction(tx, self.hot_key)
            cursor.next_nonce = nonce + 1
            return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()

    def snapshot(self) -> dict[str, Any]:
        return {
            "hot_wallet": self.hot_wallet,
            "confirmations": self.confirmations,
            "networks": sorted(self.networks),
            "whitelists": {a: sorted(s) for a, s in self.whitelists.items()},
            "withdraw_keys": {a: {k: list(v) for k, v in keys.items()} for a, keys in self.withdraw_keys.items()},
            "withdrawals": [
                {k: str(v) if isinstance(v, Decimal) else v for k, v in vars(w).items() if k != "raw_tx"}
                for w in self.withdrawals
            ],
            "deposits": [
                {k: str(v) if isinstance(v, Decimal) else v for k, v in vars(d).items()} for d in self.deposits
            ],
        }
