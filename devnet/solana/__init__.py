"""A Solana devnet node: LiteSVM (from solders) behind a JSON-RPC server on loopback.

No package registry ships a Solana validator, so the devnet runs the Solana runtime
(``solders.litesvm.LiteSVM``: System, SPL Token, Token-2022, Associated Token Account and
ComputeBudget programs preloaded, real signature checks and real fees) and emulates the
node around it, for what a client such as solana-py's ``AsyncClient`` calls.

Emulated (``node.py``):

- Slots advance on a clock (``--slot-ms``, 50 ms by default); one block per slot, so the
  block height grows with the slot. Each slot has a new blockhash; a blockhash is valid
  until ``its block height + --blockhash-validity`` (150 blocks, as on mainnet). A
  transaction whose blockhash is unknown or past its last valid block height is refused
  at preflight with ``BlockhashNotFound`` (JSON-RPC -32002), and silently never lands when
  sent with ``skipPreflight``, as a real leader drops it.
- Commitment: a transaction lands in the slot it is executed in; its status reads
  ``processed``, then ``confirmed`` one slot later, then ``finalized`` 32 slots later
  (``confirmations`` counts the slots in between, ``null`` once finalized).
  ``getSlot``/``getBlockHeight``/``getLatestBlockhash`` answer at the requested
  commitment (a finalized blockhash is 32 slots old). Without
  ``searchTransactionHistory`` a status older than 300 slots reads ``null``.
- Fees: 5000 lamports per signature plus the priority fee (compute unit price × limit),
  charged by LiteSVM. ``getRecentPrioritizationFees`` reports, per recent slot, the lowest
  compute unit price paid there (by transactions touching the given accounts), raised to
  a floor the admin endpoint can set to emulate congestion.
- Faults (``POST /admin/faults``): drop the next N sent transactions (the signature is
  answered, the transaction never executes), delay execution of sent transactions by S
  seconds (it lands at a later slot, and not at all if its blockhash expired meanwhile),
  fail the next N RPC calls or a fraction of them with HTTP 500 or a JSON-RPC
  "node is unhealthy" error.
- ``requestAirdrop`` credits lamports at once (its signature reads as landed).

Not emulated: forks, skipped slots and rollbacks (a confirmed transaction is final),
vote accounts, leader schedule, websocket subscriptions, ``getTransaction``/block
queries, ``jsonParsed`` account encoding, per-commitment account state (reads always see
the latest processed state), durable-nonce accounts' advance by the node, and state
persistence (a restart is a fresh chain).

Run: ``python -m devnet.solana --port P [--slot-ms 50] [--blockhash-validity 150]``.
"""
