"""An OP Stack rollup on the devnet: the real contracts-bedrock L1 contracts and L2 predeploys,
and small stand-ins for the rollup's off-chain parts (sequencer/derivation, proposer)."""
