#!/usr/bin/env python3
"""A transfer the way a web3.py user does it: sign locally, send_raw_transaction,
wait_for_transaction_receipt. With --mine, asks for a block with anvil's `evm_mine`."""
import argparse, json

from eth_account import Account
from web3 import Web3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpc", required=True)
    ap.add_argument("--chain-id", required=True, type=int)
    ap.add_argument("--key", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--value", type=int, default=10**17)
    ap.add_argument("--mine", action="store_true")
    a = ap.parse_args()
    w3 = Web3(Web3.HTTPProvider(a.rpc, request_kwargs={"timeout": 30}))
    assert w3.eth.chain_id == a.chain_id, (w3.eth.chain_id, a.chain_id)
    acct = Account.from_key(a.key)
    to = Web3.to_checksum_address(a.to)
    before = w3.eth.get_balance(to)
    tip = w3.eth.max_priority_fee
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    tx = {
        "chainId": a.chain_id,
        "nonce": w3.eth.get_transaction_count(acct.address, "pending"),
        "to": to,
        "value": a.value,
        "gas": w3.eth.estimate_gas({"from": acct.address, "to": to, "value": a.value}),
        "maxFeePerGas": 2 * base + tip,
        "maxPriorityFeePerGas": tip,
        "type": 2,
    }
    signed = acct.sign_transaction(tx)
    h = w3.eth.send_raw_transaction(signed.raw_transaction)
    if a.mine:
        w3.provider.make_request("evm_mine", [])
    r = w3.eth.wait_for_transaction_receipt(h, timeout=60, poll_latency=0.2)
    after = w3.eth.get_balance(to)
    out = {"hash": "0x" + h.hex().removeprefix("0x"), "status": r["status"], "block": r["blockNumber"],
           "gasUsed": r["gasUsed"], "balance_delta": after - before}
    print(json.dumps(out))
    assert r["status"] == 1, out
    assert after - before == a.value, out


if __name__ == "__main__":
    main()
