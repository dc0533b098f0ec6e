"""A request of either family, as plain JSON without ``family`` (as written before families
existed), starts its own family's workflow through one client call."""

from __future__ import annotations

from web3 import Web3

from crosslane.domain.chain_requests import parse_chain_request
from crosslane.domain.tx import TxRequest
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue


async def test_plain_json_request_starts_its_familys_workflow(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue()
    request_id = unique_queue("chain-req")
    request = parse_chain_request(
        {
            "request_id": request_id, "chain": "devnet-b", "signer": sender.address, "to": recipient.address,
            "value": str(2 * 10**17), "fees": {"max_fee_per_gas_cap": 100 * 10**9},
            "policy": {"poll_interval_ms": 50},
        }
    )  # fmt: skip
    assert isinstance(request, TxRequest) and request.family == "evm"
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls["devnet-b"]))
    before = w3.eth.get_balance(recipient.address)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.start_chain_request(request)
        assert handle.id == f"tx-{request_id}"
        result = await handle.result()
    assert isinstance(result, dict) and result["outcome"] == "confirmed"
    assert w3.eth.get_balance(recipient.address) - before == 2 * 10**17
    # the ledger's family-neutral columns say which family, chain and account it was
    with stack.ledger() as ledger:
        op = ledger.get_operation(f"tx-{request_id}", "tx")
    chain_id = w3.eth.chain_id
    assert op is not None and (op.family, op.chain, op.account) == ("evm", f"eip155:{chain_id}", sender.address)
