# op-sequencer: `make help` lists the targets.
CARGO ?= cargo
PEERS ?= $(CURDIR)/.peers
DATADIR ?= .op-sequencer

.DEFAULT_GOAL := help

##@ Help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Run
dev: ## Run the embedded devnet (L1 900, L2s 901 and 902) on 127.0.0.1:8545.
	$(CARGO) run --release -p op-sequencer -- dev --datadir $(DATADIR)

stack: ## The OP Stack around the devnet: op-node + op-geth importing each L2, op-batcher, a verifier pair deriving from L1 (docs/op-stack.md).
	$(CARGO) build --release -p op-sequencer --locked
	scripts/install-test-peers.sh >/dev/null
	scripts/op-stack.sh

export: ## Write op-geth genesis files, op-node rollup configs and the L1 chain config of the dev chains into ./export.
	$(CARGO) run --release -p op-sequencer -- export --out export

##@ Build
build: ## Build the binary and every test (debug).
	$(CARGO) build --workspace --bins --tests --locked

release: ## Build the release binary.
	$(CARGO) build --release -p op-sequencer --locked

##@ Test
peers: ## Install the test peers (cast, anvil from npm; web3.py, trie from PyPI; op-node, op-batcher, op-geth from the Go module proxy) into .peers/.
	scripts/install-test-peers.sh

test: peers build ## Everything CI runs: unit, integration and e2e tests, then conformance on ../shared/fixtures.
	$(CARGO) nextest run --workspace --locked --no-fail-fast
	$(MAKE) --no-print-directory conformance

FIXTURES ?= ../shared/fixtures
conformance: build ## Build every fixture block with the sequencer's executor and compare (FIXTURES=dir).
	@if [ -d "$(FIXTURES)" ]; then target/debug/op-sequencer conformance $(FIXTURES); \
	else echo "conformance skipped: $(FIXTURES) not found (the fixtures live beside the repository)"; fi

test-unit: build ## Unit tests only.
	$(CARGO) nextest run --workspace --locked -E 'not package(opseq-e2e)'

test-e2e: peers build ## End-to-end tests against the binary (dev and five-process cluster).
	$(CARGO) nextest run --locked -p opseq-e2e

##@ Bench
bench: peers ## op-sequencer vs anvil side by side in one run (release build, takes minutes); table to target/bench.txt.
	$(CARGO) build --release --locked -p op-sequencer -p opseq-e2e --bins
	OPSEQ_BIN=$(CURDIR)/target/release/op-sequencer target/release/opseq-bench | tee target/bench.txt

##@ Lint
fmt: ## Format the code.
	$(CARGO) fmt --all

lint: ## rustfmt check and clippy on everything, warnings are errors.
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

clean: ## Remove build output, test peers and the default data dir.
	$(CARGO) clean; rm -rf .peers $(DATADIR)

.PHONY: help dev stack export build release peers test test-unit test-e2e conformance bench fmt lint clean
