//! Command-line interface. Every flag has an `OPSEQ_*` environment twin.
use clap::{Args, Parser, Subcommand};
use opseq_runtime::{LogArgs, OtlpArgs};
use std::{net::IpAddr, path::PathBuf};

/// A standalone sequencer for OP Stack chains.
#[derive(Debug, Parser)]
#[command(name = "op-sequencer", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub otlp: OtlpArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process: an L1 mock (900) and two OP L2s (901, 902).
    Dev(DevArgs),
    /// Run the state-fetcher component.
    StateFetcher(ComponentArgs),
    /// Run the txpool component.
    Txpool(ComponentArgs),
    /// Run the signer-client component.
    Signer(ComponentArgs),
    /// Run the publisher component.
    Publisher(PublisherArgs),
    /// Run the builder component (JSON-RPC front, chain builders, shred bus).
    Builder(BuilderArgs),
    /// Build every block of blockchain-test fixtures (files or directories) and compare hashes.
    Conformance(ConformanceArgs),
    /// Print a dev chain's genesis as a geth-style genesis file (for execution clients; an L2's
    /// for op-geth).
    Genesis(GenesisArgs),
    /// Write what the OP Stack's programs need to follow the devnet: op-geth genesis files and
    /// op-node rollup configs of the L2s, the L1 mock's genesis and chain config.
    Export(ExportArgs),
}

impl ChainArgs {
    /// Whether `--l2.hardfork` chose Jovian.
    pub fn l2_jovian(&self) -> bool {
        self.l2_hardfork == "jovian"
    }
}

/// `op-sequencer export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write into (`l1-genesis.json`, `l1-chain-config.json`,
    /// `<chainId>/genesis.json`, `<chainId>/rollup.json`).
    #[arg(long, default_value = "export")]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
}

/// `op-sequencer genesis`.
#[derive(Debug, Args)]
pub struct GenesisArgs {
    /// The chain (900 is the L1 mock).
    #[arg(long, default_value_t = 900)]
    pub chain: u64,
    #[command(flatten)]
    pub chains: ChainArgs,
}

/// `op-sequencer conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Fixture files or directories (EEST / ethereum-tests JSON, plain or .json.gz).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print every failing test with its reason.
    #[arg(long, short)]
    pub verbose: bool,
}

/// The devnet's chains.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Chains")]
pub struct ChainArgs {
    /// A devnet config file (YAML or JSON; docs/devnet.md): the L1 and L2 chain ids, each
    /// chain's block time, gas limit, hardfork, interop dependency set and extra genesis accounts
    /// (geth-style alloc files). What it leaves unset comes from the flags below.
    #[arg(long = "devnet.config", env = "OPSEQ_DEVNET_CONFIG", conflicts_with = "fork_url")]
    pub devnet_config: Option<PathBuf>,
    /// The OP hardfork the dev L2s follow from genesis: `jovian` (op-node v1.19's newest; minimum
    /// base fee, DA footprint) or `isthmus` (for consensus clients that predate Jovian, such as
    /// kona-node 1.0.0-rc.1).
    #[arg(long = "l2.hardfork", env = "OPSEQ_L2_HARDFORK", default_value = "jovian", value_parser = ["isthmus", "jovian"])]
    pub l2_hardfork: String,
    /// Seconds between L2 blocks.
    #[arg(long = "l2.block-time", env = "OPSEQ_L2_BLOCK_TIME", default_value_t = 2)]
    pub l2_block_time: u64,
    /// Seconds between L1 mock blocks.
    #[arg(long = "l1.block-time", env = "OPSEQ_L1_BLOCK_TIME", default_value_t = 6)]
    pub l1_block_time: u64,
    /// Do not produce blocks automatically.
    #[arg(long = "no-auto", env = "OPSEQ_NO_AUTO", default_value_t = false)]
    pub no_auto: bool,
    /// Block gas limit of every chain (default: 36M on the L1 mock, 60M on the L2s).
    #[arg(long = "gas-limit", env = "OPSEQ_GAS_LIMIT")]
    pub gas_limit: Option<u64>,
    /// Extra prefunded accounts at genesis (at most 2,000,000), keys keccak256("opseq-dev-account" ‖
    /// u64 i), for benchmarks and large-state tests.
    #[arg(long = "dev.accounts", env = "OPSEQ_DEV_ACCOUNTS", default_value_t = 0)]
    pub dev_accounts: u64,
    /// Most txs the pool holds per chain; when full, a better-paying tx evicts the cheapest.
    #[arg(long = "txpool.max-txs", env = "OPSEQ_TXPOOL_MAX_TXS", default_value_t = opseq_txpool::MAX_PER_CHAIN)]
    pub txpool_max_txs: usize,
    /// Genesis timestamp of new chains (unix seconds); now if unset. Chains already in the data
    /// dir keep theirs.
    #[arg(long = "genesis.timestamp", env = "OPSEQ_GENESIS_TIMESTAMP")]
    pub genesis_timestamp: Option<u64>,
    /// Build on another node's state instead of the dev devnet: one L1-rules chain (the node's
    /// chain id) that continues from its block `--fork.block` (latest if unset), reading state
    /// over its JSON-RPC on demand and sealing real state roots from its proofs. http:// only.
    #[arg(long = "fork.url", env = "OPSEQ_FORK_URL")]
    pub fork_url: Option<String>,
    /// The block to fork at (a new data dir only; a forked data dir keeps its fork block).
    #[arg(long = "fork.block", env = "OPSEQ_FORK_BLOCK", requires = "fork_url")]
    pub fork_block: Option<u64>,
    /// Timeout of one request to the fork upstream, in milliseconds.
    #[arg(long = "fork.timeout-ms", env = "OPSEQ_FORK_TIMEOUT_MS", default_value_t = 10_000)]
    pub fork_timeout_ms: u64,
    /// The `--fork.url` node is an OP Stack L2: build OP blocks (Isthmus rules, an L1-info
    /// deposit first) continuing its chain, with its system-config values (fee scalars, batcher,
    /// operator fee) from the fork block's L1-info deposit.
    #[arg(long = "fork.l2", env = "OPSEQ_FORK_L2", requires = "fork_url", default_value_t = false)]
    pub fork_l2: bool,
    /// With `--fork.l2`: the L1 node whose blocks are the forked L2's L1 origins (JSON-RPC,
    /// http://); the first epoch after the fork follows the fork block's origin. Unset: an L1
    /// mock (chain 900) starts at the fork block's timestamp and the first block after the fork
    /// opens an epoch on it.
    #[arg(long = "fork.l1-url", env = "OPSEQ_FORK_L1_URL", requires = "fork_l2")]
    pub fork_l1_url: Option<String>,
    /// Seconds after which an interop message can no longer be executed on the dev L2s (the
    /// protocol's 604800 unless a devnet shortens it; executing at exactly init + window is valid).
    #[arg(long = "interop.expiry-window", env = "OPSEQ_INTEROP_EXPIRY_WINDOW", default_value_t = opseq_primitives::interop::EXPIRY_WINDOW)]
    pub interop_expiry_window: u64,
    /// When interop activates on the dev L2s (unix seconds): at or before genesis (the default),
    /// CrossL2Inbox and L2ToL2CrossDomainMessenger are there from genesis; later, they are
    /// proxies until the first block at or after this time, which carries the spec's upgrade
    /// deposits and no user transactions.
    #[arg(long = "interop.time", env = "OPSEQ_INTEROP_TIME", default_value_t = 0)]
    pub interop_time: u64,
    /// Relay every SentMessage of a committed dev L2 block to its destination chain
    /// (`relayMessage` with its access list, from dev account 9, into the destination's pool),
    /// as supersim's `--interop.autorelay`.
    #[arg(long = "interop.autorelay", env = "OPSEQ_INTEROP_AUTORELAY", default_value_t = false)]
    pub interop_autorelay: bool,
    /// Keep committed blocks found to hold an invalid executing message (forced in, or whose
    /// initiating log left the canonical chain), for tests of verifiers' replacement. By default
    /// the next build replaces such a block with a deposit-only block with its attributes, as
    /// derivation would.
    #[arg(long = "interop.keep-invalid", env = "OPSEQ_INTEROP_KEEP_INVALID", default_value_t = false)]
    pub interop_keep_invalid: bool,
    /// What a committed block or an accepted tx survives once acknowledged: `os` — a crash of
    /// the process (written to the kernel, one write(2) to the commit log); `fsync` — a crash of
    /// the machine (fdatasync per commit; ≈0.25 ms more per block here).
    #[arg(long = "db.sync", env = "OPSEQ_DB_SYNC", default_value = "os")]
    pub db_sync: opseq_store::SyncMode,
}

/// HTTP (JSON-RPC, health, metrics).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "HTTP")]
pub struct HttpArgs {
    /// Listen address.
    #[arg(long = "http.addr", env = "OPSEQ_HTTP_ADDR", default_value = "127.0.0.1")]
    pub addr: IpAddr,
    /// Listen port (0 picks a free one).
    #[arg(long = "http.port", env = "OPSEQ_HTTP_PORT", default_value_t = 8545)]
    pub port: u16,
}

/// `op-sequencer dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Data directory (sled stores, JWT secret).
    #[arg(long, env = "OPSEQ_DATADIR", default_value = ".op-sequencer")]
    pub datadir: PathBuf,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub chains: ChainArgs,
    /// gRPC listen address of the shred stream (`opseq.v1.ShredService`).
    #[arg(long = "grpc.addr", env = "OPSEQ_GRPC_ADDR", default_value = "127.0.0.1:9545")]
    pub grpc_addr: std::net::SocketAddr,
    /// JWT secret file for the authenticated APIs; generated there if missing.
    #[arg(long = "rpc.jwt-secret", env = "OPSEQ_RPC_JWT_SECRET")]
    pub jwt_secret: Option<PathBuf>,
    /// op-test-sequencer ensemble file (YAML or JSON): its sequencer and builder names are
    /// served too.
    #[arg(long = "builders.config", env = "OPSEQ_BUILDERS_CONFIG")]
    pub builders_config: Option<PathBuf>,
    /// Write the export for the OP Stack's programs (as `op-sequencer export`) into this
    /// directory at start, for the chains this data dir holds.
    #[arg(long = "export.dir", env = "OPSEQ_EXPORT_DIR")]
    pub export_dir: Option<PathBuf>,
    #[command(flatten)]
    pub publish: PublishArgs,
    #[command(flatten)]
    pub authrpc: AuthRpcArgs,
}

/// The engine API's auth listener (geth's flags).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Engine API")]
pub struct AuthRpcArgs {
    /// Listen address of the engine API (`engine_*` and `eth_*` per L2 on `/chains/<chainId>`,
    /// a JWT on every call).
    #[arg(long = "authrpc.addr", env = "OPSEQ_AUTHRPC_ADDR", default_value = "127.0.0.1")]
    pub authrpc_addr: IpAddr,
    /// Listen port of the engine API (0 picks a free one). Unset: 8551, and if that port is taken
    /// the engine API is not served (a warning says so).
    #[arg(long = "authrpc.port", env = "OPSEQ_AUTHRPC_PORT")]
    pub authrpc_port: Option<u16>,
    /// JWT secret file of the engine API (default: the devnet's, `--rpc.jwt-secret`).
    #[arg(long = "authrpc.jwtsecret", env = "OPSEQ_AUTHRPC_JWTSECRET")]
    pub authrpc_jwt_secret: Option<PathBuf>,
}

/// Where sealed blocks go besides the store.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Publishing")]
pub struct PublishArgs {
    /// Hand every committed L2 block to an op-node (`opstack_commitBlockV1`, then
    /// `opstack_publishBlockV1`; op-node runs with `--experimental.sequencer-api`), so the
    /// op-geth behind it imports it: `<chainId>=<op-node RPC URL>`, comma-separated.
    #[arg(long = "publish.op-node", env = "OPSEQ_PUBLISH_OP_NODE", value_delimiter = ',')]
    pub op_node: Vec<String>,
}

/// One component of the cluster.
#[derive(Debug, Args)]
pub struct ComponentArgs {
    /// Data directory (for the components that own sled data).
    #[arg(long, env = "OPSEQ_DATADIR", default_value = ".op-sequencer")]
    pub datadir: PathBuf,
    /// This component's gRPC listen address.
    #[arg(long = "grpc.addr", env = "OPSEQ_GRPC_ADDR", default_value = "127.0.0.1:7000")]
    pub grpc_addr: std::net::SocketAddr,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub chains: ChainArgs,
    /// gRPC address of the state-fetcher.
    #[arg(long = "state.addr", env = "OPSEQ_STATE_ADDR", default_value = "http://127.0.0.1:7001")]
    pub state_addr: String,
    /// gRPC address of the txpool.
    #[arg(long = "txpool.addr", env = "OPSEQ_TXPOOL_ADDR", default_value = "http://127.0.0.1:7002")]
    pub txpool_addr: String,
    /// gRPC address of the signer.
    #[arg(long = "signer.addr", env = "OPSEQ_SIGNER_ADDR", default_value = "http://127.0.0.1:7003")]
    pub signer_addr: String,
    /// gRPC address of the publisher.
    #[arg(long = "publisher.addr", env = "OPSEQ_PUBLISHER_ADDR", default_value = "http://127.0.0.1:7004")]
    pub publisher_addr: String,
    /// Sequencer key file (hex); the public dev key if unset.
    #[arg(long = "signer.key-file", env = "OPSEQ_SIGNER_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// JWT secret file of the builder's control API; generated there if missing (default
    /// `<datadir>/jwt.hex`).
    #[arg(long = "rpc.jwt-secret", env = "OPSEQ_RPC_JWT_SECRET")]
    pub jwt_secret: Option<PathBuf>,
    /// op-test-sequencer ensemble file (YAML or JSON) for the builder's routes.
    #[arg(long = "builders.config", env = "OPSEQ_BUILDERS_CONFIG")]
    pub builders_config: Option<PathBuf>,
}

/// `op-sequencer publisher`: a component, and where else committed blocks go.
#[derive(Debug, Args)]
pub struct PublisherArgs {
    #[command(flatten)]
    pub component: ComponentArgs,
    #[command(flatten)]
    pub publish: PublishArgs,
}

/// `op-sequencer builder`: a component, and which chains it builds.
#[derive(Debug, Args)]
pub struct BuilderArgs {
    #[command(flatten)]
    pub component: ComponentArgs,
    /// Build only these chains (comma-separated ids; all of the devnet's if unset): the others
    /// are other builder processes' (their JSON-RPC reads still work here, their build jobs
    /// do not).
    #[arg(long = "builder.chains", env = "OPSEQ_BUILDER_CHAINS", value_delimiter = ',')]
    pub chains: Vec<u64>,
    /// gRPC addresses of other builder processes (comma-separated): their open interop builds
    /// are followed over their shred streams, so blocks at one timestamp built in different
    /// processes execute each other's messages, share cycle checks and cascade rollbacks.
    #[arg(long = "builder.peers", env = "OPSEQ_BUILDER_PEERS", value_delimiter = ',')]
    pub peers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_env_twins_parse() {
        let cli = Cli::try_parse_from(["op-sequencer", "dev"]).unwrap();
        let Command::Dev(d) = cli.command else { panic!("dev") };
        assert_eq!(d.http.port, 8545);
        assert_eq!(d.chains.l2_block_time, 2);
        assert_eq!(d.chains.l1_block_time, 6);
        assert!(Cli::try_parse_from(["op-sequencer", "dev", "--http.port", "nope"]).is_err());
        let cli = Cli::try_parse_from(["op-sequencer", "txpool", "--state.addr", "http://10.0.0.1:1"]).unwrap();
        let Command::Txpool(c) = cli.command else { panic!("txpool") };
        assert_eq!(c.state_addr, "http://10.0.0.1:1");
    }
}
