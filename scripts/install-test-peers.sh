#!/usr/bin/env bash
# Installs the real clients the tests drive, from package registries only, into ./.peers:
#   npm  @foundry-rs/cast-linux-amd64, @foundry-rs/anvil-linux-amd64 (binaries inside the packages)
#   npm  @ethereumjs/client (a real engine-API execution client; run with --sync none: no P2P sockets)
#   npm  @bufbuild/buf + @bufbuild/buf-linux-x64 (proto lint)
#   npm  ethers (how wallets classify our refusals)
#   npm  solc (compiles contracts/: SyncCaller, whose runtime code the node embeds, and the test contracts)
#   PyPI web3, eth-account, trie, ethereum-execution (the Ethereum spec's t8n tool), helm-python-sdk (the Helm
#        Go SDK, renders charts offline: no registry ships a helm binary), kubernetes-validate (in a venv)
#   Go module proxy: op-node, op-batcher, op-conductor, op-supernode and op-geth's geth at the optimism release pinned in
#        peers/go/go.mod (a wrapper module: only go.mod/go.sum are kept here, no upstream source), built with
#        CGO_ENABLED=0 into .peers/go/<release>/bin and kept in a machine-wide cache
#        (OPSEQ_PEERS_CACHE, default ~/.cache/opseq-peers) so a fresh clone links them in seconds.
#   crates.io: kona-node 1.0.0-rc.1 (cargo install --locked), cached machine-wide like the Go peers.
# Idempotent: pinned versions are checked and skipped when present.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="${PEERS_PREFIX:-$REPO/.peers}"
FOUNDRY_VER=1.7.1
EJS_VER=0.10.5
BUF_VER=1.75.0
ETHERS_VER=6.17.0
SOLC_VER=0.8.30
PY_PKGS=(web3==8.0.0 eth-account==0.14.0 trie==4.0.0 ethereum-execution==2.20.0 helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 PyYAML==6.0.3)
log() { printf '[install-test-peers] %s\n' "$*" >&2; }
mkdir -p "$PREFIX/bin" "$PREFIX/npm"

have_npm() { local pj="$PREFIX/npm/node_modules/$1/package.json"; [ -f "$pj" ] && [ "$(node -p "require('$pj').version")" = "$2" ]; }
want=()
have_npm @foundry-rs/cast-linux-amd64 "$FOUNDRY_VER" || want+=("@foundry-rs/cast-linux-amd64@$FOUNDRY_VER")
have_npm @foundry-rs/anvil-linux-amd64 "$FOUNDRY_VER" || want+=("@foundry-rs/anvil-linux-amd64@$FOUNDRY_VER")
have_npm @ethereumjs/client "$EJS_VER" || want+=("@ethereumjs/client@$EJS_VER")
have_npm @bufbuild/buf-linux-x64 "$BUF_VER" || want+=("@bufbuild/buf@$BUF_VER" "@bufbuild/buf-linux-x64@$BUF_VER")
have_npm ethers "$ETHERS_VER" || want+=("ethers@$ETHERS_VER")
have_npm solc "$SOLC_VER" || want+=("solc@$SOLC_VER")
if [ "${#want[@]}" -gt 0 ]; then
  log "npm install ${want[*]}"
  [ -f "$PREFIX/npm/package.json" ] || echo '{"name":"opseq-peers","private":true}' > "$PREFIX/npm/package.json"
  # --ignore-scripts: the binaries ship inside the packages; no install script is needed.
  npm install --prefix "$PREFIX/npm" --no-audit --no-fund --ignore-scripts --loglevel=error "${want[@]}" >&2
fi
for b in cast anvil; do
  chmod +x "$PREFIX/npm/node_modules/@foundry-rs/$b-linux-amd64/bin/$b"
  ln -sf "$PREFIX/npm/node_modules/@foundry-rs/$b-linux-amd64/bin/$b" "$PREFIX/bin/$b"
done
chmod +x "$PREFIX/npm/node_modules/@bufbuild/buf-linux-x64/bin/buf"
ln -sf "$PREFIX/npm/node_modules/@bufbuild/buf-linux-x64/bin/buf" "$PREFIX/bin/buf"

if [ ! -x "$PREFIX/venv/bin/python" ]; then
  log "python venv at $PREFIX/venv"
  python3 -m venv "$PREFIX/venv"
fi
if ! "$PREFIX/venv/bin/python" - "${PY_PKGS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    assert version(name) == want
PY
then
  log "pip install ${PY_PKGS[*]}"
  "$PREFIX/venv/bin/python" -m pip install -q --disable-pip-version-check "${PY_PKGS[@]}" >&2
fi
cat > "$PREFIX/bin/ethereumjs" <<EOF2
#!/bin/sh
exec node "$PREFIX/npm/node_modules/@ethereumjs/client/dist/esm/bin/cli.js" "\$@"
EOF2
chmod +x "$PREFIX/bin/ethereumjs"
ln -sf "$PREFIX/venv/bin/ethereum-spec-evm" "$PREFIX/bin/ethereum-spec-evm"
# cargo-nextest, the test runner `make test` uses: from crates.io when absent.
if ! cargo nextest --version >/dev/null 2>&1; then
  log "cargo install cargo-nextest (not installed)"
  cargo install --locked cargo-nextest@0.9.151 >&2
fi

# The OP Stack's Go programs (issue 16). OP_RELEASE must match peers/go/go.mod's require line.
OP_RELEASE=v1.19.0
GO_BINS=(op-node:github.com/ethereum-optimism/optimism/op-node/cmd
         op-batcher:github.com/ethereum-optimism/optimism/op-batcher/cmd
         op-conductor:github.com/ethereum-optimism/optimism/op-conductor/cmd
         op-supernode:github.com/ethereum-optimism/optimism/op-supernode/cmd
         geth:github.com/ethereum/go-ethereum/cmd/geth)
GO_DIR="$PREFIX/go/$OP_RELEASE/bin"
CACHE="${OPSEQ_PEERS_CACHE:-${HOME:-/root}/.cache/opseq-peers}/go/$OP_RELEASE-$(sha256sum "$REPO/peers/go/go.mod" | cut -c1-12)"
mkdir -p "$GO_DIR"
if ! command -v go >/dev/null 2>&1; then
  log "go not found: the OP Stack peers (op-node, op-batcher, op-conductor, geth) are not installed; their tests say so and skip"
else
  for entry in "${GO_BINS[@]}"; do
    name="${entry%%:*}"; pkg="${entry#*:}"
    if [ ! -x "$CACHE/$name" ]; then
      log "go build $pkg (optimism $OP_RELEASE, from the Go module proxy)"
      mkdir -p "$CACHE"
      # -mod=mod: resolve from the proxy, as go.sum pins; CGO off as upstream builds them.
      (cd "$REPO/peers/go" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build \
        -ldflags "-X github.com/ethereum-optimism/optimism/op-node/version.Version=$OP_RELEASE -X main.Version=$OP_RELEASE" \
        -o "$CACHE/$name.tmp" "$pkg") >&2
      mv "$CACHE/$name.tmp" "$CACHE/$name"
    fi
    ln -sf "$CACHE/$name" "$GO_DIR/$name"
    ln -sf "$GO_DIR/$name" "$PREFIX/bin/$name"
  done
  "$PREFIX/bin/op-node" --version >&2
fi

# kona-node (issue 16's independent verifier): from crates.io with its shipped Cargo.lock, a
# release build of 25-45 min on two cores, once per machine (kept in the same cache as the Go
# peers). OPSEQ_SKIP_KONA=1 skips the build; the test part that needs it then says so and skips.
KONA_VER=1.0.0-rc.1
KONA_ROOT="${OPSEQ_PEERS_CACHE:-${HOME:-/root}/.cache/opseq-peers}/kona-node-$KONA_VER"
if [ ! -x "$KONA_ROOT/bin/kona-node" ] && [ "${OPSEQ_SKIP_KONA:-0}" != 1 ]; then
  log "cargo install kona-node $KONA_VER --locked (crates.io; 25-45 min, once per machine)"
  CARGO_TARGET_DIR="$KONA_ROOT/target" cargo install --locked kona-node --version "$KONA_VER" --root "$KONA_ROOT" >&2
  rm -rf "$KONA_ROOT/target"
fi
if [ -x "$KONA_ROOT/bin/kona-node" ]; then
  ln -sf "$KONA_ROOT/bin/kona-node" "$PREFIX/bin/kona-node"
else
  log "kona-node not installed (OPSEQ_SKIP_KONA=1)"
fi
"$PREFIX/bin/cast" --version | head -1 >&2
"$PREFIX/venv/bin/python" -c 'import web3; print("web3", web3.__version__)' >&2
echo "$PREFIX"
