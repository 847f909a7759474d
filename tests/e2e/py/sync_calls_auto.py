#!/usr/bin/env python3
"""Sync calls while A (901) and B (902) sequence automatically (issue 17, auto mode), driven by
web3.py: calls prepared without jobs land at the next timestamp both chains build; ordinary txs
sent meanwhile keep landing. Prints a JSON report (latencies) on the last line."""
import argparse, json, sys, time

import opseq_jwt
import requests
from eth_abi import encode
from eth_account import Account
from web3 import Web3

SYNC_CALLER = Web3.to_checksum_address("0x5c00000000000000000000000000000000000001")
A, B = 901, 902


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpc-a", required=True)
    ap.add_argument("--rpc-b", required=True)
    ap.add_argument("--contracts", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--other-key", required=True, help="sends ordinary transfers meanwhile")
    ap.add_argument("--jwt-secret", required=True)
    ap.add_argument("--calls", type=int, default=3)
    a = ap.parse_args()
    C = json.load(open(a.contracts))
    secret = opseq_jwt.secret_of(a.jwt_secret)
    urls = {A: a.rpc_a, B: a.rpc_b}
    w3 = {c: Web3(Web3.HTTPProvider(u, request_kwargs={"timeout": 60})) for c, u in urls.items()}
    user, other = Account.from_key(a.key), Account.from_key(a.other_key)

    def jwt():
        return opseq_jwt.token(secret)

    def rpc(chain, method, params):
        r = requests.post(urls[chain], json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                          headers={"Authorization": f"Bearer {jwt()}"}, timeout=60).json()
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    def send(chain, acct, tx):
        base = w3[chain].eth.get_block("latest")["baseFeePerGas"]
        tx = {"chainId": chain, "nonce": w3[chain].eth.get_transaction_count(acct.address, "pending"), "gas": 3_000_000,
              "maxFeePerGas": 4 * base + 10**6, "maxPriorityFeePerGas": 10**6, "type": 2, **tx}
        return w3[chain].eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)

    def receipt(chain, h):
        return w3[chain].eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.05)

    c = w3[B].eth.contract(abi=C["Counter"]["abi"], bytecode=C["Counter"]["bytecode"])
    r = receipt(B, send(B, user, {"data": c.constructor().data_in_transaction}))
    counter = w3[B].eth.contract(address=r["contractAddress"], abi=C["Counter"]["abi"])
    sync = w3[A].eth.contract(address=SYNC_CALLER, abi=C["SyncCaller"]["abi"])

    latencies = []
    for i in range(a.calls):
        data = sync.encode_abi("call", args=[B, counter.address, counter.encode_abi("add", args=[1])])
        t0 = time.monotonic()
        p = rpc(A, "xchain_prepareCall", [{"from": user.address, "to": SYNC_CALLER, "data": data}])
        assert p["result"]["success"] and int(p["result"]["returnData"], 16) == i + 1, p
        u = p["unsignedRoot"]
        tx = {"type": 2, "chainId": int(u["chainId"], 16), "nonce": int(u["nonce"], 16), "gas": int(u["gas"], 16),
              "maxFeePerGas": int(u["maxFeePerGas"], 16), "maxPriorityFeePerGas": 0, "to": Web3.to_checksum_address(u["to"]),
              "value": 0, "data": u["input"], "accessList": u["accessList"]}
        signed = "0x" + bytes(user.sign_transaction(tx).raw_transaction).hex()
        sub = rpc(A, "xchain_submitPrepared", [{"bundleId": p["bundleId"], "signedRoot": signed}])
        t1 = time.monotonic()
        assert sub["status"] == "committed", sub
        # An ordinary tx on each chain while the group is open.
        plain = {ch: send(ch, other, {"to": other.address, "value": 1, "gas": 21_000}) for ch in (A, B)}
        root = receipt(A, sub["rootHash"])
        t2 = time.monotonic()
        assert root["status"] == 1, root
        relay = receipt(B, sub["blocks"][str(B)]["transactions"][0]["hash"])
        ba, bb = w3[A].eth.get_block(root["blockNumber"]), w3[B].eth.get_block(relay["blockNumber"])
        assert ba["timestamp"] == bb["timestamp"] == int(p["timestamp"], 16), (ba["timestamp"], bb["timestamp"], p["timestamp"])
        for ch, h in plain.items():
            assert receipt(ch, h)["status"] == 1
        latencies.append({"provisionalMs": (t1 - t0) * 1000, "sealedMs": (t2 - t0) * 1000})
    assert counter.functions.count().call() == a.calls
    # Both chains keep building after the groups.
    heads = {ch: w3[ch].eth.block_number for ch in (A, B)}
    time.sleep(4.5)
    assert all(w3[ch].eth.block_number > heads[ch] for ch in (A, B)), heads
    print(json.dumps({"latencies": latencies}))


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback
        traceback.print_exc()
        sys.exit(1)
