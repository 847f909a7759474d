#!/usr/bin/env python3
"""A websocket subscriber of op-sequencer's shred stream or flashblocks view, as a user script
would be: connects to --url, prints "ready" once the server answered the upgrade, then prints
every message (one JSON object per line) until a shred of kind --until arrives, --count messages
came, or --timeout seconds pass. An upgrade the server refuses prints "refused <status> <body>"."""
import argparse, asyncio, json, sys

import websockets


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--until", default="sealed")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()
    try:
        ws = await websockets.connect(a.url, open_timeout=10)
    except websockets.exceptions.InvalidStatus as e:
        print("refused", e.response.status_code, e.response.body.decode(errors="replace"), flush=True)
        return
    print("ready", flush=True)
    async with ws:
        try:
            async with asyncio.timeout(a.timeout):
                seen = 0
                async for text in ws:
                    msg = json.loads(text)
                    print(json.dumps(msg), flush=True)
                    seen += 1
                    if a.count and seen == a.count:
                        return
                    if not a.count and msg["shred"]["kind"] == a.until:
                        return
        except TimeoutError:
            print("timeout", flush=True)
            sys.exit(1)


asyncio.run(main())
