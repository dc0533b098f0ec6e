"""Solana connector: addresses, signers, transaction building and fees, submission and
confirmation at a commitment level, over solana-py's ``AsyncClient`` and solders.

What makes a Solana transaction exclusive is its recent blockhash: it can land only while
the chain's block height is at most the blockhash's last valid block height. Past that,
and with no status for its signature, it can never land (``SolanaClient.expired``), so it
is safe to sign the same intent again with a fresh blockhash.

No Temporal here: errors are ``crosslane.errors.CrosslaneError`` subclasses.
"""
