#!/usr/bin/env python3
"""The state root anvil should have computed for its latest block, had it deleted zeroed slots
and touched empty accounts.

anvil keeps a storage slot that a block sets to zero as a leaf holding RLP(0) in its storage trie
(Ethereum deletes it), so after a block that clears slots its `stateRoot` is not the spec's. This
script recomputes the root the spec gives, with ethereum's own Python trie (PyPI `trie`):

1. the storage root of `--account` from its full final storage (`--storage`, a JSON object of
   slot -> value; zero values are left out, as the spec says);
2. the state root: anvil's latest `stateRoot`, with that account's leaf replaced (nonce, balance
   and code hash from anvil's `eth_getProof`, the storage root from step 1), updated on the
   proof's nodes alone.

3. with `--delete ADDRESS` (repeatable): anvil does not apply EIP-161 either (a touched empty
   account stays, a zero-value call creates one), so those accounts' leaves are deleted too. A
   deletion that collapses a branch needs the sibling's node, which no proof of the deleted key
   shows: the script finds an address whose hashed key runs through it and asks anvil for its
   proof.

Prints `{"storageRoot": ..., "anvilStorageHash": ..., "stateRoot": ..., "deleted": [...]}`
(`deleted`: the accounts that were in anvil's trie).
"""
import argparse, json

import itertools

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie
from trie.exceptions import MissingTrieNode

from jsonrpc import rpc


def b(h):
    return bytes.fromhex(h[2:] if h.startswith("0x") else h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvil", required=True)
    ap.add_argument("--account", required=True)
    ap.add_argument("--storage", required=True, help="JSON file: {slot: value} (hex or decimal strings)")
    ap.add_argument("--delete", action="append", default=[], help="an account anvil kept that EIP-161 deletes")
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
    deleted = []
    for address in a.delete:
        for n in rpc(a.anvil, "eth_getProof", [address, [], "latest"])["accountProof"]:
            db[keccak(b(n))] = b(n)
        key = keccak(b(address))
        if state.get(key) is None:
            continue
        while True:
            try:
                del state[key]
                break
            except MissingTrieNode as e:
                if e.prefix is None:
                    raise
                for n in rpc(a.anvil, "eth_getProof", [address_under(e.prefix), [], "latest"])["accountProof"]:
                    db[keccak(b(n))] = b(n)
        deleted.append(address)
    print(json.dumps({
        "storageRoot": "0x" + st.root_hash.hex(),
        "anvilStorageHash": proof["storageHash"],
        "stateRoot": "0x" + state.root_hash.hex(),
        "deleted": deleted,
    }))


def address_under(prefix):
    """An address whose hashed key starts with the nibbles `prefix`."""
    want = tuple(prefix)
    for i in itertools.count():
        address = i.to_bytes(20, "big")
        h = keccak(address)
        nibbles = tuple(x for byte in h[: (len(want) + 1) // 2] for x in (byte >> 4, byte & 15))
        if nibbles[: len(want)] == want:
            return "0x" + address.hex()


if __name__ == "__main__":
    main()
