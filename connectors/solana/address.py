"""Solana addresses: the validators live in the core (``crosslane.domain.solana_address``),
where request models use them too."""

from crosslane.domain.solana_address import SolanaAddress, SolanaWallet, parse_address

__all__ = ["SolanaAddress", "SolanaWallet", "parse_address"]
