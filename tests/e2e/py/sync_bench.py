#!/usr/bin/env python3
"""`make bench`'s sync-call part (issue 17; ours only: no peer has measured numbers). Prints
Markdown tables. Manual node (--no-auto, L2s 901…909): latency of A→B calls (submit to
provisional inclusion and to both blocks sealed, split into discovery, inclusion and seal; the
server's own timings next to the client's), EVM runs and gas per call for 1, 2, 4 and 8 hops, gas
against the same call made locally. Auto node (901, 902): ordinary-tx latency as the bundles per
block pair grow."""
import argparse, json, sys, threading, time

import opseq_jwt
import requests
from eth_account import Account
from web3 import Web3

SYNC_CALLER = Web3.to_checksum_address("0x5c00000000000000000000000000000000000001")


class Node:
    def __init__(self, base, jwt_path, contracts, key):
        self.base = base
        self.secret = opseq_jwt.secret_of(jwt_path)
        self.C = contracts
        self.user = Account.from_key(key)
        self.w3 = {}
        self.session = requests.Session()

    def eth(self, chain):
        if chain not in self.w3:
            self.w3[chain] = Web3(Web3.HTTPProvider(f"{self.base}/chains/{chain}", request_kwargs={"timeout": 60}))
        return self.w3[chain]

    def jwt(self):
        return opseq_jwt.token(self.secret)

    def rpc(self, chain, method, params):
        r = self.session.post(f"{self.base}/chains/{chain}", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                              headers={"Authorization": f"Bearer {self.jwt()}"}, timeout=60).json()
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    def send(self, chain, tx, acct=None, mine=True):
        acct = acct or self.user
        w3 = self.eth(chain)
        base = w3.eth.get_block("latest")["baseFeePerGas"]
        tx = {"chainId": chain, "nonce": w3.eth.get_transaction_count(acct.address, "pending"), "gas": 3_000_000,
              "maxFeePerGas": 4 * base + 10**6, "maxPriorityFeePerGas": 10**6, "type": 2, **tx}
        h = w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)
        if mine:
            self.rpc(chain, "evm_mine", [])
        return w3.eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.02)

    def deploy(self, chain, name, mine=True):
        c = self.eth(chain).eth.contract(abi=self.C[name]["abi"], bytecode=self.C[name]["bytecode"])
        r = self.send(chain, {"data": c.constructor().data_in_transaction}, mine=mine)
        assert r["status"] == 1
        return self.eth(chain).eth.contract(address=r["contractAddress"], abi=self.C[name]["abi"])

    def call_data(self, destination, target, data):
        sync = self.eth(901).eth.contract(address=SYNC_CALLER, abi=self.C["SyncCaller"]["abi"])
        return sync.encode_abi("call", args=[destination, target, data])

    def sign_root(self, p):
        u = p["unsignedRoot"]
        tx = {"type": 2, "chainId": int(u["chainId"], 16), "nonce": int(u["nonce"], 16), "gas": int(u["gas"], 16),
              "maxFeePerGas": int(u["maxFeePerGas"], 16), "maxPriorityFeePerGas": 0, "to": Web3.to_checksum_address(u["to"]),
              "value": 0, "data": u["input"], "accessList": u["accessList"]}
        return "0x" + bytes(self.user.sign_transaction(tx).raw_transaction).hex()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def manual(n, calls):
    A, B = 901, 902
    chains = list(range(901, 910))
    counters = {c: n.deploy(c, "Counter") for c in chains}
    bouncers = {c: n.deploy(c, "Bouncer") for c in chains}
    local = n.send(B, {"to": counters[B].address, "data": counters[B].encode_abi("add", args=[1])})["gasUsed"]

    def open_jobs(cs):
        ts = max(n.eth(c).eth.get_block("latest")["timestamp"] for c in cs) + 2
        return {c: n.rpc(c, "test_open", [{"timestamp": hex(ts)}])["jobId"] for c in cs}

    def one(cs, data):
        jobs = open_jobs(cs)
        t0 = time.perf_counter()
        p = n.rpc(A, "xchain_prepareCall", [{"from": n.user.address, "to": SYNC_CALLER, "data": data, "jobs": {str(c): j for c, j in jobs.items()}}])
        t1 = time.perf_counter()
        signed = n.sign_root(p)
        t2 = time.perf_counter()
        r = n.rpc(A, "xchain_submitPrepared", [{"bundleId": p["bundleId"], "signedRoot": signed}])
        t3 = time.perf_counter()
        assert r["status"] == "committed", r
        n.rpc(A, "test_sealGroup", [[{"chainId": hex(c), "jobId": j} for c, j in jobs.items()]])
        t4 = time.perf_counter()
        return p, r, {"prepare": (t1 - t0) * 1e3, "sign": (t2 - t1) * 1e3, "submit": (t3 - t2) * 1e3, "seal": (t4 - t3) * 1e3,
                      "provisional": (t1 - t0 + t3 - t2) * 1e3, "sealed": (t1 - t0 + t4 - t2) * 1e3,
                      "discoveryServer": r["timings"]["discoveryUs"] / 1e3, "inclusionServer": r["timings"]["inclusionUs"] / 1e3}

    rows = []
    for _ in range(calls):
        _, _, t = one([A, B], n.call_data(B, counters[B].address, counters[B].encode_abi("add", args=[1])))
        rows.append(t)
    print(f"\n### Sync-call latency, one process, manual jobs (A→B counter add, {calls} calls; client: web3.py over HTTP, signing excluded)\n")
    print("| phase | p50 | p99 |\n| --- | --- | --- |")
    for k, label in [("discoveryServer", "discovery (server: every EVM run of every leg)"), ("inclusionServer", "bundle include + joint check (server)"),
                     ("prepare", "xchain_prepareCall round trip (client)"), ("submit", "xchain_submitPrepared round trip (client)"),
                     ("provisional", "submit to provisional inclusion (prepare + submit, client)"), ("seal", "group seal of both blocks (client)"),
                     ("sealed", "submit to both blocks sealed (client)")]:
        xs = [r[k] for r in rows]
        print(f"| {label} | {pct(xs, 50):.2f} ms | {pct(xs, 99):.2f} ms |")
    print("| waiting for a shared timestamp | 0 (manual jobs name it) | |")

    print("\n### Hops (A→B→…, Bouncer contracts calling onwards; one call each)\n")
    print("| hops | EVM runs in discovery | discovery (server) | gas, all legs | gas of the same call made locally | ratio |\n| --- | --- | --- | --- | --- | --- |")
    for hops in (1, 2, 4, 8):
        path = chains[: hops + 1]
        last = path[-1]
        data = counters[last].encode_abi("add", args=[1])
        target = counters[last].address
        for k in range(len(path) - 2, 0, -1):
            data = bouncers[path[k]].encode_abi("bounce", args=[path[k + 1], target, data])
            target = bouncers[path[k]].address
        p, r, t = one(path, n.call_data(path[1], target, data))
        assert p["discovery"]["hops"] == hops, p["discovery"]
        gas = sum(int(tx["gasUsed"], 16) for b in r["blocks"].values() for tx in b["transactions"])
        print(f"| {hops} | {p['discovery']['evmRuns']} | {t['discoveryServer']:.2f} ms | {gas:,} | {local:,} | {gas / local:.1f}× |")


def auto(n, seconds):
    A, B = 901, 902
    counter = n.deploy(B, "Counter", mine=False)
    other = Account.create()
    n.send(A, {"to": other.address, "value": 10**18}, mine=False)
    # Latency in auto mode: one call at a time, each landing in the next block pair the chains
    # build (the group's seal waits for the blocks' due time).
    rows = []
    for _ in range(30):
        data = n.call_data(B, counter.address, counter.encode_abi("add", args=[1]))
        t0 = time.perf_counter()
        p = n.rpc(A, "xchain_prepareCall", [{"from": n.user.address, "to": SYNC_CALLER, "data": data}])
        signed = n.sign_root(p)
        t1 = time.perf_counter()
        try:
            r = n.rpc(A, "xchain_submitPrepared", [{"bundleId": p["bundleId"], "signedRoot": signed}])
        except RuntimeError:
            continue
        t2 = time.perf_counter()
        n.eth(A).eth.wait_for_transaction_receipt(r["rootHash"], timeout=30, poll_latency=0.01)
        t3 = time.perf_counter()
        rows.append({"wait": r["timings"]["waitUs"] / 1e3, "discovery": r["timings"]["discoveryUs"] / 1e3,
                     "inclusion": r["timings"]["inclusionUs"] / 1e3, "provisional": (t2 - t0) * 1e3,
                     "seal": (t3 - t2) * 1e3, "sealed": (t3 - t0) * 1e3})
    print(f"\n### Sync-call latency in auto mode (2 s blocks, {len(rows)} calls one at a time; client: web3.py, signing included)\n")
    print("| phase | p50 | p99 |\n| --- | --- | --- |")
    for k, label in [("wait", "waiting for the group (a shared timestamp; server)"), ("discovery", "discovery (server)"),
                     ("inclusion", "bundle include + joint check (server)"), ("provisional", "submit to provisional inclusion (client)"),
                     ("seal", "provisional inclusion to the root's receipt (the blocks sealed when due)"), ("sealed", "submit to both blocks sealed (client)")]:
        xs = [r[k] for r in rows]
        print(f"| {label} | {pct(xs, 50):.2f} ms | {pct(xs, 99):.2f} ms |")

    print(f"\n### Bundles per block pair in auto mode (2 s blocks; ordinary transfers on A every 100 ms, {seconds} s per row)\n")
    print("| bundles sent back to back | bundles landed per block | refused (block sealed first) | ordinary-tx latency p50 | p99 | vs no bundles |\n| --- | --- | --- | --- | --- | --- |")
    base = None
    for target in (0, 4, 16, 48):
        lat, stop = [], threading.Event()

        def ordinary():
            # One transfer at a time: sent, its receipt awaited (polled every 20 ms), then 100 ms.
            w3 = Web3(Web3.HTTPProvider(f"{n.base}/chains/{A}", request_kwargs={"timeout": 60}))
            nonce = w3.eth.get_transaction_count(other.address, "pending")
            while not stop.is_set():
                fee = 4 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**6
                tx = {"chainId": A, "nonce": nonce, "gas": 21_000, "maxFeePerGas": fee, "maxPriorityFeePerGas": 10**6, "type": 2, "to": other.address, "value": 1}
                nonce += 1
                t0 = time.perf_counter()
                h = w3.eth.send_raw_transaction(other.sign_transaction(tx).raw_transaction)
                w3.eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.02)
                lat.append((time.perf_counter() - t0) * 1e3)
                time.sleep(0.1)

        th = threading.Thread(target=ordinary, daemon=True)
        th.start()
        landed, refused, blocks = 0, 0, set()
        end = time.time() + seconds
        while time.time() < end:
            for _ in range(target):
                try:
                    p = n.rpc(A, "xchain_prepareCall", [{"from": n.user.address, "to": SYNC_CALLER, "data": n.call_data(B, counter.address, counter.encode_abi("add", args=[1]))}])
                    r = n.rpc(A, "xchain_submitPrepared", [{"bundleId": p["bundleId"], "signedRoot": n.sign_root(p)}])
                    landed += 1
                    blocks.add(r["timestamp"])
                except RuntimeError:
                    refused += 1
            time.sleep(0.05 if target else 0.5)
        stop.set()
        th.join()
        p50, p99 = pct(lat, 50), pct(lat, 99)
        if base is None:
            base = p50
        print(f"| {target} | {landed / max(1, len(blocks)):.1f} | {refused} | {p50:.0f} ms | {p99:.0f} ms | {p50 / base:.2f}× |")
    return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manual", help="base URL of a --no-auto node with L2s 901…909")
    ap.add_argument("--auto", help="base URL of an auto-mode node with L2s 901, 902")
    ap.add_argument("--jwt-manual")
    ap.add_argument("--jwt-auto")
    ap.add_argument("--contracts", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=8)
    a = ap.parse_args()
    C = json.load(open(a.contracts))
    if a.manual:
        manual(Node(a.manual, a.jwt_manual, C, a.key), a.calls)
    if a.auto:
        auto(Node(a.auto, a.jwt_auto, C, a.key), a.seconds)


if __name__ == "__main__":
    main()
