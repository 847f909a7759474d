#!/usr/bin/env python3
"""Checks `eth_getProof` answers against the latest block's stateRoot with ethereum's Python trie.

For each `--account` (with the `--slot`s asked for every account): the account proof must
resolve, under the block's stateRoot, to the account's RLP [nonce, balance, storageHash,
codeHash] (or to nothing for an account that does not exist), and every storage proof must
resolve, under the answered storageHash, to RLP(value) (nothing for zero). Uses
`HexaryTrie.get_from_proof` (PyPI `trie`), no code of ours. Prints how many proofs checked, and
how many of the accounts the proofs show absent.
"""
import argparse, sys

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie

from jsonrpc import rpc


def b(h):
    return bytes.fromhex(h[2:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpc", required=True)
    ap.add_argument("--account", action="append", required=True)
    ap.add_argument("--slot", action="append", default=[])
    a = ap.parse_args()
    root = b(rpc(a.rpc, "eth_getBlockByNumber", ["latest", False])["stateRoot"])
    checked, absent = 0, 0
    for account in a.account:
        p = rpc(a.rpc, "eth_getProof", [account, a.slot, "latest"])
        got = HexaryTrie.get_from_proof(root, keccak(b(account)), [rlp.decode(b(n)) for n in p["accountProof"]])
        want = rlp.encode([int(p["nonce"], 16), int(p["balance"], 16), b(p["storageHash"]), b(p["codeHash"])])
        empty = int(p["nonce"], 16) == 0 and int(p["balance"], 16) == 0 and p["codeHash"] == \
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        if got != want and not (got == b"" and empty):
            print(f"{account}: the proof gives {got.hex()}, the answer says {want.hex()}", file=sys.stderr)
            sys.exit(1)
        checked += 1
        absent += got == b""
        for s in p["storageProof"]:
            v = HexaryTrie.get_from_proof(b(p["storageHash"]), keccak(b(s["key"]).rjust(32, b"\0")),
                                          [rlp.decode(b(n)) for n in s["proof"]])
            value = int(s["value"], 16)
            if v != (rlp.encode(value) if value else b""):
                print(f"{account} slot {s['key']}: the proof gives {v.hex()}, the answer says {value}", file=sys.stderr)
                sys.exit(1)
            checked += 1
    print(f"{checked} proofs verified against stateRoot 0x{root.hex()} ({absent} accounts absent)")


if __name__ == "__main__":
    main()
