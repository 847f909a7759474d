#!/usr/bin/env bash
# The whole OP Stack around op-sequencer on loopback (`make stack`): `op-sequencer dev` sequencing
# the L1 mock (900) and its L2s; for each L2 an op-node + op-geth pair importing our blocks
# (op-node's sequencer API), an op-batcher posting them to the L1 mock as calldata, and a verifier
# op-node + op-geth pair deriving them from L1 alone. Ctrl-C stops everything.
#
#   OPSEQ_BIN       op-sequencer binary (default target/release/op-sequencer, else target/debug)
#   STACK_DIR       where data and logs go (default .op-stack; wiped at start)
#   DEVNET_CONFIG   a devnet config file (docs/devnet.md): its chains are run and followed
#   L2S             the L2 chain ids to follow (default: every L2 of the devnet)
#   BASE_PORT       first port (default 8545: op-sequencer; each L2 takes 10 after 9000)
#   OPSEQ_ARGS      extra `op-sequencer dev` flags
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PEERS="${OPSEQ_PEERS:-$REPO/.peers}"
BIN="${OPSEQ_BIN:-}"
if [ -z "$BIN" ]; then
  if [ -x "$REPO/target/release/op-sequencer" ]; then BIN="$REPO/target/release/op-sequencer"; else BIN="$REPO/target/debug/op-sequencer"; fi
fi
DIR="${STACK_DIR:-$REPO/.op-stack}"
devnet_args=()
[ -n "${DEVNET_CONFIG:-}" ] && devnet_args=(--devnet.config "$DEVNET_CONFIG")
BASE_PORT="${BASE_PORT:-8545}"
for p in geth op-node op-batcher; do
  [ -x "$PEERS/bin/$p" ] || { echo "$PEERS/bin/$p missing: run scripts/install-test-peers.sh (needs go)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "$BIN missing: cargo build --release -p op-sequencer" >&2; exit 1; }

rm -rf "$DIR"; mkdir -p "$DIR"
# The devnet's chains, from a first export (seconds): its L2 directories and their L1.
"$BIN" export "${devnet_args[@]}" --out "$DIR/chains" >/dev/null
L2S="${L2S:-$(cd "$DIR/chains" && ls -d [0-9]* | tr '\n' ' ')}"
first=$(set -- $L2S; echo "$1")
L1_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["l1_chain_id"])' "$DIR/chains/$first/rollup.json")
PIDS=()
stop() { trap - INT TERM EXIT; echo; echo "stopping…"; kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

publish=()
for id in $L2S; do publish+=("$id=http://127.0.0.1:$((9000 + (id % 100) * 10))"); done
"$BIN" dev --datadir "$DIR/seq" --http.port "$BASE_PORT" --grpc.addr "127.0.0.1:$((BASE_PORT + 1000))" \
  "${devnet_args[@]}" --export.dir "$DIR/export" --publish.op-node "$(IFS=,; echo "${publish[*]}")" ${OPSEQ_ARGS:-} >"$DIR/op-sequencer.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do [ -f "$DIR/export/l1-chain-config.json" ] && curl -sf "http://127.0.0.1:$BASE_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
L1="http://127.0.0.1:$BASE_PORT/chains/$L1_ID"
JWT="$DIR/seq/jwt.hex"

pair() { # name chain port-base sequencer-api
  local name=$1 id=$2 base=$3 api=$4 d="$DIR/$1-$2"
  mkdir -p "$d"
  printf '[Node.P2P]\nListenAddr = "127.0.0.1:0"\nNoDiscovery = true\nDiscoveryV4 = false\nDiscoveryV5 = false\nMaxPeers = 0\n' > "$d/geth.toml"
  "$PEERS/bin/geth" init --datadir "$d/data" --state.scheme hash "$DIR/export/$id/genesis.json" >"$d/geth-init.log" 2>&1
  "$PEERS/bin/geth" --config "$d/geth.toml" --datadir "$d/data" --state.scheme hash --gcmode archive --syncmode full \
    --http --http.addr 127.0.0.1 --http.port $((base + 1)) --http.api eth,net,web3,debug,txpool \
    --authrpc.addr 127.0.0.1 --authrpc.port $((base + 2)) --authrpc.jwtsecret "$JWT" --ipcdisable --nat none \
    --rollup.disabletxpoolgossip >"$d/geth.log" 2>&1 &
  PIDS+=($!)
  "$PEERS/bin/op-node" --l1 "$L1" --l1.rpckind standard --l1.beacon.ignore --l1.http-poll-interval 1s \
    --l2 "http://127.0.0.1:$((base + 2))" --l2.jwt-secret "$JWT" --l2.enginekind geth \
    --rollup.config "$DIR/export/$id/rollup.json" --rollup.l1-chain-config "$DIR/export/l1-chain-config.json" \
    --rpc.addr 127.0.0.1 --rpc.port "$base" --p2p.disable $api >"$d/op-node.log" 2>&1 &
  PIDS+=($!)
}

echo "op-stack in $DIR (logs there)"
echo "  op-sequencer  http://127.0.0.1:$BASE_PORT/chains/<id>   (L1 mock $L1_ID; test API, JWT $JWT)"
for id in $L2S; do
  base=$((9000 + (id % 100) * 10))
  pair seq "$id" "$base" --experimental.sequencer-api
  pair verifier "$id" $((base + 5)) ""
  "$PEERS/bin/op-batcher" --l1-eth-rpc "$L1" --l2-eth-rpc "http://127.0.0.1:$((base + 1))" --rollup-rpc "http://127.0.0.1:$base" \
    --private-key "$(cat "$DIR/export/$id/batcher.key")" \
    --data-availability-type calldata --max-channel-duration 1 --poll-interval 1s --num-confirmations 1 \
    --throttle.unsafe-da-bytes-lower-threshold 0 --rpc.addr 127.0.0.1 --rpc.port $((base + 4)) \
    >"$DIR/batcher-$id.log" 2>&1 &
  PIDS+=($!)
  echo "  L2 $id: op-node http://127.0.0.1:$base (imports ours)  op-geth http://127.0.0.1:$((base + 1))"
  echo "          verifier op-node http://127.0.0.1:$((base + 5))  op-geth http://127.0.0.1:$((base + 6))  (derives from L1)"
  echo "          op-batcher rpc http://127.0.0.1:$((base + 4))"
done
echo "Ctrl-C stops everything."
wait -n "${PIDS[@]}" || true
echo "a process exited; see $DIR/*.log" >&2
