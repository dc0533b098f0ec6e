"""Account balances with reservations: ``free`` can be spent, ``locked`` backs open orders.

Every movement is between accounts or between an account's free and locked amounts, so the
total of each asset over all accounts (the fee account included) only changes by credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from devnet.cex.numbers import ZERO


class BalanceShortfall(Exception):
    """An account lacks the free (or locked) amount a movement needs."""


@dataclass
class Wallet:
    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class Balances:
    def __init__(self) -> None:
        self._wallets: dict[str, dict[str, Wallet]] = {}
        self._touched: dict[str, set[str]] = {}

    def wallet(self, account: str, asset: str) -> Wallet:
        wallets = self._wallets.setdefault(account, {})
        found = wallets.get(asset)
        if found is None:
            found = wallets[asset] = Wallet()
        return found

    def _mark(self, account: str, asset: str) -> None:
        self._touched.setdefault(account, set()).add(asset)

    def credit(self, account: str, asset: str, amount: Decimal) -> None:
        """Deposit (or, negative, withdraw) free funds; refuses to go below zero."""
        wallet = self.wallet(account, asset)
        if wallet.free + amount < 0:
            raise BalanceShortfall(f"{account} has {wallet.free} {asset} free, cannot remove {-amount}")
        wallet.free += amount
        self._mark(account, asset)

    def reserve(self, account: str, asset: str, amount: Decimal) -> None:
        wallet = self.wallet(account, asset)
        if amount > wallet.free:
            raise BalanceShortfall(f"{account} has {wallet.free} {asset} free, needs {amount}")
        wallet.free -= amount
        wallet.locked += amount
        self._mark(account, asset)

    def release(self, account: str, asset: str, amount: Decimal) -> None:
        if amount == 0:
            return
        wallet = self.wallet(account, asset)
        assert amount <= wallet.locked, f"release {amount} > locked {wallet.locked} {asset} of {account}"
        wallet.locked -= amount
        wallet.free += amount
        self._mark(account, asset)

    def transfer_locked(
        self, source: str, target: str, asset: str, amount: Decimal, fee: Decimal, fee_account: str
    ) -> None:
        """Move ``amount`` out of ``source``'s locked funds: ``amount - fee`` to ``target``, ``fee`` to the venue."""
        wallet = self.wallet(source, asset)
        assert amount <= wallet.locked, f"spend {amount} > locked {wallet.locked} {asset} of {source}"
        wallet.locked -= amount
        self.wallet(target, asset).free += amount - fee
        if fee:
            self.wallet(fee_account, asset).free += fee
            self._mark(fee_account, asset)
        self._mark(source, asset)
        self._mark(target, asset)

    def of(self, account: str) -> dict[str, Wallet]:
        return dict(self._wallets.get(account, {}))

    def accounts(self) -> list[str]:
        return list(self._wallets)

    def totals(self) -> dict[str, Decimal]:
        """Sum over every account of free + locked, per asset."""
        out: dict[str, Decimal] = {}
        for wallets in self._wallets.values():
            for asset, wallet in wallets.items():
                out[asset] = out.get(asset, ZERO) + wallet.total
        return out

    def take_touched(self) -> dict[str, set[str]]:
        """Accounts and assets moved since the last call."""
        touched, self._touched = self._touched, {}
        return touched
