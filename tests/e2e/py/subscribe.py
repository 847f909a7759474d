#!/usr/bin/env python3
"""eth_subscribe as a web3.py user writes it: AsyncWeb3 over a WebSocketProvider, subscriptions
to newHeads, logs (optionally of one --address) and newPendingTransactions. Prints "ready" once
subscribed, then one JSON line per notification ({"kind": …, "result": …}) until --count came or
--timeout seconds pass."""
import argparse, asyncio, json, sys

from web3 import AsyncWeb3, WebSocketProvider


def plain(v):
    """web3.py's AttributeDicts and HexBytes as plain JSON."""
    if hasattr(v, "items"):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    return v


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--address")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    async with AsyncWeb3(WebSocketProvider(a.url)) as w3:
        kinds = {}
        kinds[await w3.eth.subscribe("newHeads")] = "newHeads"
        logs_filter = {"address": AsyncWeb3.to_checksum_address(a.address)} if a.address else {}
        kinds[await w3.eth.subscribe("logs", logs_filter)] = "logs"
        kinds[await w3.eth.subscribe("newPendingTransactions")] = "newPendingTransactions"
        print("ready", flush=True)
        seen = 0
        try:
            async with asyncio.timeout(a.timeout):
                async for msg in w3.socket.process_subscriptions():
                    print(json.dumps({"kind": kinds.get(msg["subscription"], "?"), "result": plain(msg["result"])}), flush=True)
                    seen += 1
                    if a.count and seen >= a.count:
                        break
        except TimeoutError:
            pass


asyncio.run(main())
