#!/usr/bin/env python3
"""Recomputes a block's state root from the stored state, independently of op-sequencer's code.

Reads the head state with `debug_dumpBlock` (geth's shape) and rebuilds the Merkle-Patricia state
trie with ethereum's own Python trie implementation (PyPI `trie`, `HexaryTrie`), then compares the
root with the `stateRoot` of block N. The dump must be of block N (the head): with auto sequencing
off, nothing moves between the calls.
"""
import argparse, json, sys

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie

from jsonrpc import rpc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpc", required=True)
    ap.add_argument("--block", required=True, type=lambda s: int(s, 0))
    a = ap.parse_args()
    dump = rpc(a.rpc, "debug_dumpBlock", ["latest"])
    if int(dump["number"], 16) != a.block:
        raise SystemExit(f"head moved: dump is of block {int(dump['number'], 16)}, wanted {a.block}")
    state = HexaryTrie({})
    for addr, acct in dump["accounts"].items():
        storage = HexaryTrie({})
        for slot, value in acct["storage"].items():
            storage[keccak(bytes.fromhex(slot[2:].rjust(64, "0")))] = rlp.encode(int(value, 16))
        code_hash = bytes.fromhex(acct["codeHash"][2:])
        if keccak(bytes.fromhex(acct["code"][2:])) != code_hash:
            raise SystemExit(f"{addr}: code does not hash to its codeHash")
        leaf = rlp.encode([int(acct["nonce"]), int(acct["balance"]), storage.root_hash, code_hash])
        state[keccak(bytes.fromhex(addr[2:]))] = leaf
    block = rpc(a.rpc, "eth_getBlockByNumber", [hex(a.block), False])
    recomputed = "0x" + state.root_hash.hex()
    print(json.dumps({"block": a.block, "header_state_root": block["stateRoot"], "recomputed": recomputed,
                      "accounts": len(dump["accounts"])}))
    if recomputed != block["stateRoot"] or dump["root"] != block["stateRoot"]:
        print("STATE ROOT MISMATCH", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
