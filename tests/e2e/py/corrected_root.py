#!/usr/bin/env python3
"""The state root anvil should have computed for its latest block, had it deleted zeroed slots.

anvil keeps a storage slot that a block sets to zero as a leaf holding RLP(0) in its storage trie
(Ethereum deletes it), so after a block that clears slots its `stateRoot` is not the spec's. This
script recomputes the root the spec gives, with ethereum's own Python trie (PyPI `trie`):

1. the storage root of `--account` from its full final storage (`--storage`, a JSON object of
   slot -> value; zero values are left out, as the spec says);
2. the state root: anvil's latest `stateRoot`, with that account's leaf replaced (nonce, balance
   and code hash from anvil's `eth_getProof`, the storage root from step 1), updated on the
   proof's nodes alone.

Prints `{"storageRoot": ..., "anvilStorageHash": ..., "stateRoot": ...}`.
"""
import argparse, json

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie

from jsonrpc import rpc


def b(h):
    return bytes.fromhex(h[2:] if h.startswith("0x") else h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvil", required=True)
    ap.add_argument("--account", required=True)
    ap.add_argument("--storage", required=True, help="JSON file: {slot: value} (hex or decimal strings)")
    a = ap.parse_args()
    storage = json.load(open(a.storage))
    st = HexaryTrie({})
    for slot, value in storage.items():
        v = int(value, 0)
        if v:
            st[keccak(int(slot, 0).to_bytes(32, "big"))] = rlp.encode(v)
    block = rpc(a.anvil, "eth_getBlockByNumber", ["latest", False])
    proof = rpc(a.anvil, "eth_getProof", [a.account, [], "latest"])
    db = {keccak(b(n)): b(n) for n in proof["accountProof"]}
    state = HexaryTrie(db, root_hash=b(block["stateRoot"]))
    leaf = rlp.encode([int(proof["nonce"], 16), int(proof["balance"], 16), st.root_hash, b(proof["codeHash"])])
    state[keccak(b(a.account))] = leaf
    print(json.dumps({
        "storageRoot": "0x" + st.root_hash.hex(),
        "anvilStorageHash": proof["storageHash"],
        "stateRoot": "0x" + state.root_hash.hex(),
    }))


if __name__ == "__main__":
    main()
