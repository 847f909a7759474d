#!/usr/bin/env python3
"""Hands the L1 mock's blocks to real, independent execution code and asks whether they are right.

1. ethereumjs (npm @ethereumjs/client, a full execution client) starts from the geth-style genesis
   op-sequencer prints (`op-sequencer genesis`), on loopback with `--sync none` (no P2P sockets);
   its genesis hash must equal ours. Then every block 1..head of the L1 mock goes through
   `engine_newPayloadV4` (JWT-authenticated engine API) and must come back VALID, and
   `engine_forkchoiceUpdatedV3` makes the last one its head.
2. The Ethereum spec's t8n (PyPI ethereum-execution, `ethereum-spec-evm t8n`) re-executes block 1
   from the genesis alloc; its state root and receipts root must equal the header's.
Bounded: the client is killed at the end, and every wait has a timeout.
"""
import argparse, base64, hashlib, hmac, json, os, secrets, shutil, socket, subprocess, sys, tempfile, time
import urllib.request

import rlp


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(secret_hex):
    head = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64u(json.dumps({"iat": int(time.time())}).encode())
    sig = hmac.new(bytes.fromhex(secret_hex), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64u(sig)}"


def rpc(url, method, params, secret=None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    h = {"Content-Type": "application/json"}
    if secret:
        h["Authorization"] = "Bearer " + jwt(secret)
    with urllib.request.urlopen(urllib.request.Request(url, body, h), timeout=60) as r:
        out = json.loads(r.read())
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


def payload(ours, n):
    b = rpc(ours, "eth_getBlockByNumber", [hex(n), False])
    raw = [rpc(ours, "debug_getRawTransaction", [h]) for h in b["transactions"]]
    pl = {k: b[k] for k in ("parentHash", "stateRoot", "receiptsRoot", "logsBloom", "gasLimit", "gasUsed",
                            "timestamp", "extraData", "baseFeePerGas", "blobGasUsed", "excessBlobGas")}
    pl.update({"feeRecipient": b["miner"], "prevRandao": b["mixHash"], "blockNumber": b["number"],
               "blockHash": b["hash"], "transactions": raw, "withdrawals": []})
    return b, pl


def t8n(evm, genesis, block1, raw_txs, chain_id, work):
    alloc = genesis["alloc"]
    env = {"currentCoinbase": block1["miner"], "currentGasLimit": block1["gasLimit"],
           "currentNumber": block1["number"], "currentTimestamp": block1["timestamp"],
           "currentRandom": block1["mixHash"], "currentDifficulty": "0x0",
           "currentBaseFee": block1["baseFeePerGas"], "currentExcessBlobGas": block1["excessBlobGas"],
           "parentBeaconBlockRoot": block1["parentBeaconBlockRoot"],
           "blockHashes": {"0": block1["parentHash"]}, "withdrawals": [], "ommers": []}
    # Transactions as RLP (typed txs stay opaque bytes): the JSON tx loader assumes chain id 1.
    items = [bytes.fromhex(t[2:]) for t in raw_txs]
    items = [b if b[0] < 0x7f else rlp.decode(b) for b in items]
    txs = "0x" + rlp.encode(items).hex()
    os.makedirs(work, exist_ok=True)
    for name, obj in (("alloc.json", alloc), ("env.json", env), ("txs.json", txs)):
        with open(os.path.join(work, name), "w") as f:
            json.dump(obj, f)
    cmd = [evm, "t8n", "--state.fork", "Prague", "--state.chainid", str(chain_id), "--state.reward", "-1",
           "--input.alloc", "alloc.json", "--input.env", "env.json", "--input.txs", "txs.json",
           "--output.basedir", ".", "--output.result", "result.json", "--output.alloc", "out-alloc.json"]
    p = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit(f"t8n failed: {p.stdout[-2000:]} {p.stderr[-3000:]}")
    with open(os.path.join(work, "result.json")) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpc", required=True, help="op-sequencer's L1 mock route")
    ap.add_argument("--genesis", required=True, help="the geth-style genesis from `op-sequencer genesis`")
    ap.add_argument("--ethereumjs", required=True)
    ap.add_argument("--t8n", required=True)
    a = ap.parse_args()
    with open(a.genesis) as f:
        genesis = json.load(f)
    genesis.pop("_opSequencer", None)
    chain_id = genesis["config"]["chainId"]
    work = tempfile.mkdtemp(prefix="opseq-engine-")
    gpath = os.path.join(work, "genesis.json")
    with open(gpath, "w") as f:
        json.dump(genesis, f)
    secret = secrets.token_hex(32)
    with open(os.path.join(work, "jwt.hex"), "w") as f:
        f.write(secret)
    rpc_port, eng_port = free_port(), free_port()
    cmd = [a.ethereumjs, "--gethGenesis", gpath, "--dataDir", os.path.join(work, "data"), "--logLevel", "warn",
           "--rpc", "--rpcAddr", "127.0.0.1", "--rpcPort", str(rpc_port),
           "--rpcEngine", "--rpcEngineAddr", "127.0.0.1", "--rpcEnginePort", str(eng_port),
           "--jwtSecret", os.path.join(work, "jwt.hex"), "--sync", "none",
           "--discDns", "false", "--discV4", "false", "--maxPeers", "0", "--isSingleNode"]
    log = open(os.path.join(work, "ethereumjs.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url, eng = f"http://127.0.0.1:{rpc_port}", f"http://127.0.0.1:{eng_port}"
    try:
        for _ in range(600):
            try:
                rpc(url, "eth_chainId", []); break
            except Exception:
                if proc.poll() is not None:
                    raise SystemExit("ethereumjs exited: " + open(os.path.join(work, "ethereumjs.log")).read()[-3000:])
                time.sleep(0.1)
        ours0 = rpc(a.rpc, "eth_getBlockByNumber", ["0x0", False])
        theirs0 = rpc(url, "eth_getBlockByNumber", ["0x0", False])
        if ours0["hash"] != theirs0["hash"]:
            raise SystemExit(f"genesis differs: ours {ours0['hash']} ethereumjs {theirs0['hash']}")
        head = int(rpc(a.rpc, "eth_blockNumber", []), 16)
        results = []
        for n in range(1, head + 1):
            b, pl = payload(a.rpc, n)
            st = rpc(eng, "engine_newPayloadV4", [pl, [], b["parentBeaconBlockRoot"], []], secret)
            results.append({"block": n, "txs": len(pl["transactions"]), "status": st["status"],
                            "error": st.get("validationError")})
            if st["status"] != "VALID":
                raise SystemExit(f"engine_newPayloadV4 block {n}: {st}")
            last = b
        fcu = rpc(eng, "engine_forkchoiceUpdatedV3", [{"headBlockHash": last["hash"], "safeBlockHash": last["hash"],
                                                      "finalizedBlockHash": ours0["hash"]}, None], secret)
        if fcu["payloadStatus"]["status"] != "VALID":
            raise SystemExit(f"forkchoiceUpdated: {fcu}")
        their_head = rpc(url, "eth_getBlockByNumber", ["latest", False])
        b1, pl1 = payload(a.rpc, 1)
        res = t8n(a.t8n, genesis, b1, pl1["transactions"], chain_id, os.path.join(work, "t8n"))
        t8n_ok = res["stateRoot"] == b1["stateRoot"] and res["receiptsRoot"] == b1["receiptsRoot"]
        print(json.dumps({"newPayloadV4": results, "ethereumjs_head": their_head["hash"], "our_head": last["hash"],
                          "t8n": {"stateRoot": res["stateRoot"], "receiptsRoot": res["receiptsRoot"],
                                  "ours": [b1["stateRoot"], b1["receiptsRoot"]], "match": t8n_ok}}))
        if their_head["hash"] != last["hash"] or not t8n_ok:
            sys.exit(1)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
