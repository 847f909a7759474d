//! Wiring: which implementation of each edge a process uses, and its servers.
use crate::cli::{BuilderArgs, ChainArgs, Cli, Command, ComponentArgs, DevArgs, HttpArgs};
use actix::Actor;
use eyre::WrapErr;
use opseq_builder::{BuilderSupervisor, grpc::ShredGrpc, http::RpcRoutes};
use opseq_clients::{GrpcBlockSink, GrpcShredBus, GrpcSigner, GrpcStateSource, GrpcTxSource};
use opseq_interfaces::{BlockSigner, BlockSink, Edges, LocalShredBus, ShredBus, StateSource, TxSource};
use opseq_primitives::{DEV_SEQUENCER_KEY, DevnetConfig};
use opseq_runtime::{Readiness, always_ready, ops_routes};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};
use tokio_util::sync::CancellationToken;
use tracing::info;

pub fn run(cli: Cli) -> eyre::Result<()> {
    if let Command::Genesis(a) = &cli.command {
        let devnet = devnet(&a.chains)?;
        let chain = devnet
            .chain(a.chain)
            .ok_or_else(|| eyre::eyre!("unknown chain {}: the dev chains are {:?}", a.chain, devnet.chain_ids()))?;
        #[allow(clippy::print_stdout)]
        {
            println!("{}", serde_json::to_string_pretty(&crate::genesis::geth_genesis(chain))?);
        }
        return Ok(());
    }
    if let Command::Export(a) = &cli.command {
        let devnet = devnet(&a.chains)?;
        for path in crate::genesis::write(&a.out, &devnet, &crate::genesis::geneses(&devnet))? {
            #[allow(clippy::print_stdout)]
            {
                println!("{}", path.display());
            }
        }
        return Ok(());
    }
    if let Command::Conformance(a) = &cli.command {
        let mut out = std::io::stdout().lock();
        let summary = opseq_conformance::run(&a.paths, a.verbose, &mut out)?;
        eyre::ensure!(summary.failed == 0, "{} of {} tests failed", summary.failed, summary.passed + summary.failed);
        return Ok(());
    }
    actix_rt::System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
    })
    .block_on(async move {
        let _telemetry = opseq_runtime::init_telemetry(&cli.log, &cli.otlp)?;
        let _ = opseq_runtime::prometheus();
        match cli.command {
            Command::Dev(a) => dev(a).await,
            Command::StateFetcher(a) => state_fetcher(a).await,
            Command::Txpool(a) => txpool(a).await,
            Command::Signer(a) => signer(a).await,
            Command::Publisher(a) => publisher(a).await,
            Command::Builder(a) => builder(a).await,
            Command::Conformance(_) | Command::Genesis(_) | Command::Export(_) => unreachable!("handled above"),
        }
    })
}

fn devnet(c: &ChainArgs) -> eyre::Result<DevnetConfig> {
    Ok(chains(c)?.0)
}

/// The most `--dev.accounts` a dev genesis takes.
const MAX_DEV_ACCOUNTS: u64 = 2_000_000;

/// The chains to run, and the fork they continue from when `--fork.url` is given (the upstream
/// is asked once here for its chain id and block; the state-fetcher pins it again on open).
fn chains(c: &ChainArgs) -> eyre::Result<(DevnetConfig, Option<opseq_state_fetcher::Fork>)> {
    eyre::ensure!(c.l2_block_time > 0 && c.l1_block_time > 0, "block times must be at least 1 second");
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    // The dev genesis is built in memory, one chain after the other: about 2 GB at the peak per
    // million accounts.
    eyre::ensure!(
        c.dev_accounts <= MAX_DEV_ACCOUNTS,
        "--dev.accounts {} is more than the in-memory genesis build supports ({MAX_DEV_ACCOUNTS})",
        c.dev_accounts
    );
    if let Some(url) = &c.fork_url {
        // The upstream's chain, continuing from the fork block: with L1 rules, or (`--fork.l2`)
        // OP rules with its L1 origins from an L1 node or from an L1 mock.
        let timeout = std::time::Duration::from_millis(c.fork_timeout_ms.max(1));
        let (base, pinned, l1_info) =
            opseq_state_fetcher::remote::RemoteBase::connect_blocking(url, c.fork_block, timeout, c.fork_l2)
                .map_err(|e| eyre::eyre!("--fork.url: {e}"))?;
        let dev = DevnetConfig::dev(c.l1_block_time, c.l2_block_time, pinned.header.timestamp);
        let fork = opseq_state_fetcher::Fork {
            chain: base.chain_id(),
            url: url.clone(),
            block: c.fork_block,
            timeout,
            l2: c.fork_l2,
            l1_url: c.fork_l1_url.clone(),
        };
        let mut chain = dev.chains[usize::from(c.fork_l2)].clone();
        chain.chain_id = fork.chain;
        chain.interop = None;
        chain.gas_limit = c.gas_limit.unwrap_or(pinned.header.gas_limit);
        if !c.fork_l2 {
            chain.l1_chain_id = None;
            return Ok((DevnetConfig { chains: vec![chain] }, Some(fork)));
        }
        // The fork block's L1-info deposit says which rules its chain follows (Jovian's layout:
        // Jovian from before the fork); its `extraData` carries the minimum base fee on.
        chain.jovian_time = l1_info.filter(|v| v.jovian).map(|_| 0);
        chain.system_config = l1_info.map(|v| v.system_config);
        let chains = match &c.fork_l1_url {
            Some(l1_url) => {
                let l1 = opseq_state_fetcher::remote::RemoteL1::connect_blocking(l1_url, timeout)
                    .map_err(|e| eyre::eyre!("--fork.l1-url: {e}"))?;
                eyre::ensure!(l1.chain_id() != chain.chain_id, "--fork.l1-url serves the L2's own chain id");
                chain.l1_chain_id = Some(l1.chain_id());
                vec![chain]
            }
            None => {
                let l1 = dev.chains[0].clone();
                eyre::ensure!(
                    l1.chain_id != chain.chain_id,
                    "the forked L2's chain id is the L1 mock's ({})",
                    l1.chain_id
                );
                chain.l1_chain_id = Some(l1.chain_id);
                vec![l1, chain]
            }
        };
        return Ok((DevnetConfig { chains }, Some(fork)));
    }
    if let Some(path) = &c.devnet_config {
        let mut devnet = crate::devnet_file::load(path, c, now)?;
        for chain in &mut devnet.chains {
            chain.extra_accounts = c.dev_accounts;
        }
        return Ok((devnet, None));
    }
    let mut devnet = DevnetConfig::dev(c.l1_block_time, c.l2_block_time, c.genesis_timestamp.unwrap_or(now));
    for chain in devnet.chains.iter_mut().filter(|c| c.is_l2()) {
        chain.jovian_time = c.l2_jovian().then_some(0);
    }
    for chain in &mut devnet.chains {
        if let Some(g) = c.gas_limit {
            eyre::ensure!(g >= 5000, "--gas-limit must be at least 5000");
            chain.gas_limit = g;
        }
        chain.extra_accounts = c.dev_accounts;
        if let Some(i) = &mut chain.interop {
            i.expiry_window = c.interop_expiry_window;
            i.activation = c.interop_time;
            i.keep_invalid = c.interop_keep_invalid;
        }
    }
    // The L1's record of its L2s (their gas limits) after the flags changed them.
    Ok((devnet.settle(), None))
}

/// Opens the chain store: the dev devnet's chains, or the forked chain.
fn open_state(
    datadir: &std::path::Path,
    devnet: &DevnetConfig,
    fork: Option<&opseq_state_fetcher::Fork>,
    sync: opseq_store::SyncMode,
) -> eyre::Result<opseq_state_fetcher::StateFetcher> {
    match fork {
        Some(f) => opseq_state_fetcher::StateFetcher::open_forked(datadir, devnet, f, sync).map_err(|e| eyre::eyre!(e)),
        None => opseq_state_fetcher::StateFetcher::open(datadir, devnet, sync).wrap_err("opening the chain store"),
    }
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Starts the HTTP server (ops routes, plus JSON-RPC when `rpc` is given) and returns its address.
fn http_server(
    http: &HttpArgs,
    probe: Readiness,
    rpc: Option<RpcRoutes>,
) -> eyre::Result<(SocketAddr, actix_web::dev::ServerHandle)> {
    let server = actix_web::HttpServer::new(move || {
        let mut app = actix_web::App::new().configure(ops_routes(Arc::clone(&probe)));
        if let Some(r) = &rpc {
            app = app.configure(opseq_builder::http::configure(r.clone()));
        }
        app
    })
    .workers(2)
    .disable_signals()
    .bind((http.addr, http.port))
    .wrap_err_with(|| format!("binding HTTP on {}:{}", http.addr, http.port))?;
    let addr = *server.addrs().first().ok_or_else(|| eyre::eyre!("no HTTP address"))?;
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok((addr, handle))
}

/// Serves a gRPC service (with tonic-health) until `cancel`.
async fn grpc_server<S>(addr: SocketAddr, svc: S, cancel: CancellationToken) -> eyre::Result<SocketAddr>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<S>().await;
    let listener = tokio::net::TcpListener::bind(addr).await.wrap_err_with(|| format!("binding gRPC on {addr}"))?;
    let local = listener.local_addr()?;
    // Server::tcp_nodelay applies only to listeners tonic binds itself: set it on each accepted
    // stream (else a response's trailers wait out the peer's delayed ACK, ~40 ms, behind Nagle).
    let incoming = tokio_stream::StreamExt::map(tokio_stream::wrappers::TcpListenerStream::new(listener), |s| {
        s.and_then(|s| s.set_nodelay(true).map(|()| s))
    });
    tokio::spawn(async move {
        let r = tonic::transport::Server::builder()
            .initial_stream_window_size(opseq_clients::STREAM_WINDOW)
            .initial_connection_window_size(opseq_clients::CONNECTION_WINDOW)
            .tcp_nodelay(true)
            // One span per call, a child of the caller's (W3C trace context in the metadata).
            .trace_fn(|req| {
                let span = tracing::info_span!("grpc", otel.name = %req.uri().path(), otel.kind = "server");
                opseq_runtime::adopt_parent(&span, |k| {
                    req.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string)
                });
                span
            })
            .add_service(health)
            .add_service(svc)
            .serve_with_incoming_shutdown(incoming, cancel.cancelled())
            .await;
        if let Err(e) = r {
            tracing::error!(target: "opseq::grpc", error = %e, "gRPC server failed");
        }
    });
    Ok(local)
}

fn jwt_secret(datadir: &Path, given: Option<PathBuf>) -> eyre::Result<PathBuf> {
    let path = given.unwrap_or_else(|| datadir.join("jwt.hex"));
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let secret: [u8; 32] = rand::random();
        std::fs::write(&path, hex::encode(secret))
            .wrap_err_with(|| format!("writing JWT secret {}", path.display()))?;
    }
    Ok(path)
}

fn load_ensemble(
    path: Option<&Path>,
    devnet: &DevnetConfig,
) -> eyre::Result<Option<opseq_builder::ensemble::Ensemble>> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let e = opseq_builder::ensemble::Ensemble::parse(&text, &devnet.chain_ids())
        .map_err(|e| eyre::eyre!("{}: {e}", path.display()))?;
    Ok(Some(e))
}

fn load_jwt(path: &Path) -> eyre::Result<alloy_rpc_types_engine::JwtSecret> {
    alloy_rpc_types_engine::JwtSecret::from_file(path)
        .wrap_err_with(|| format!("reading JWT secret {}", path.display()))
}

async fn dev(a: DevArgs) -> eyre::Result<()> {
    let (devnet, fork) = chains(&a.chains)?;
    std::fs::create_dir_all(&a.datadir).wrap_err_with(|| format!("creating {}", a.datadir.display()))?;
    let fetcher = open_state(&a.datadir, &devnet, fork.as_ref(), a.chains.db_sync)?;
    let state: Arc<dyn StateSource> = Arc::new(opseq_state_fetcher::LocalStateSource::start(fetcher));
    let pool = opseq_txpool::TxPoolActor::open(&a.datadir, &devnet, a.chains.db_sync)
        .map_err(|e| eyre::eyre!(e))?
        .with_limit(a.chains.txpool_max_txs)
        .start();
    let txs: Arc<dyn TxSource> = Arc::new(
        opseq_txpool::LocalTxSource::new(pool, Arc::clone(&state), &devnet)
            .warm_recipients(fork.as_ref().map(|f| f.chain)),
    );
    let local_signer = opseq_signer::LocalSigner::start(DEV_SEQUENCER_KEY).map_err(|e| eyre::eyre!(e))?;
    let sequencer = local_signer.address().await.map_err(|e| eyre::eyre!(e))?;
    let signer: Arc<dyn BlockSigner> = Arc::new(local_signer);
    let sink: Arc<dyn BlockSink> = Arc::new(opseq_publisher::LocalPublisher::start(Arc::clone(&state)));
    let shreds: Arc<dyn ShredBus> = Arc::new(LocalShredBus::default());
    let edges = Edges { state, txs, signer, sink, shreds: Arc::clone(&shreds) };
    let jwt = jwt_secret(&a.datadir, a.jwt_secret)?;

    let cancel = CancellationToken::new();
    if let Some(dir) = &a.export_dir {
        export_at_start(dir, &devnet, &edges).await?;
    }
    spawn_op_node_targets(&a.publish, &devnet, &edges.state, &edges.sink, &cancel)?;
    let probe = builder_probe(edges.clone(), devnet.clone());
    let supervisor =
        BuilderSupervisor::new(devnet.clone(), edges.clone(), !a.chains.no_auto, sequencer_state(&a.datadir)?).start();
    let grpc = grpc_server(a.grpc_addr, ShredGrpc::serving(shreds, supervisor.clone()), cancel.clone()).await?;
    if a.chains.interop_autorelay {
        opseq_builder::relay::spawn(edges.clone(), devnet.clone());
    }
    let secret = load_jwt(&jwt)?;
    let ensemble = load_ensemble(a.builders_config.as_deref(), &devnet)?;
    let routes = RpcRoutes::new(&devnet, &edges, Some(supervisor), Some(secret), ensemble.as_ref());
    let engine_secret = match &a.authrpc.authrpc_jwt_secret {
        Some(path) => load_jwt(path)?,
        None => secret,
    };
    let engine = engine_server(&a.authrpc, routes.engine(&devnet, &edges, engine_secret))?;
    let (http, http_handle) = http_server(&a.http, probe, Some(routes))?;
    #[allow(clippy::print_stdout)]
    {
        println!("{}", crate::banner::banner(&devnet, http, grpc, &a.datadir, &jwt, sequencer));
        if let Some((addr, _)) = &engine {
            println!(
                "Engine API: http://{addr}/chains/<L2 chainId> (engine_*, eth_*; JWT {})",
                a.authrpc.authrpc_jwt_secret.as_deref().unwrap_or(&jwt).display()
            );
        }
    }
    shutdown_signal().await;
    info!(target: "opseq::dev", "shutting down");
    cancel.cancel();
    http_handle.stop(true).await;
    if let Some((_, h)) = engine {
        h.stop(true).await;
    }
    actix::System::current().stop();
    Ok(())
}

/// The engine API's auth listener; `None` when the default port is taken (a warning says so).
fn engine_server(
    args: &crate::cli::AuthRpcArgs,
    routes: opseq_builder::http::EngineRoutes,
) -> eyre::Result<Option<(SocketAddr, actix_web::dev::ServerHandle)>> {
    let port = args.authrpc_port.unwrap_or(DEFAULT_AUTHRPC_PORT);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().configure(opseq_builder::http::configure_engine(routes.clone()))
    })
    .workers(1)
    .disable_signals()
    .bind((args.authrpc_addr, port));
    let server = match server {
        Ok(s) => s,
        Err(e) if args.authrpc_port.is_none() => {
            tracing::warn!(target: "opseq::dev", addr = %args.authrpc_addr, port, error = %e, "engine API not served: its default port is taken (pass --authrpc.port)");
            return Ok(None);
        }
        Err(e) => return Err(eyre::eyre!("binding the engine API on {}:{port}: {e}", args.authrpc_addr)),
    };
    let addr = *server.addrs().first().ok_or_else(|| eyre::eyre!("no engine API address"))?;
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    info!(target: "opseq::dev", %addr, "engine API listening");
    Ok(Some((addr, handle)))
}

/// geth's default engine API port.
const DEFAULT_AUTHRPC_PORT: u16 = 8551;

/// `--export.dir`: the export of the chains this data dir holds (their genesis blocks may be older
/// than this start: a chain keeps its genesis timestamp), checked against the stored genesis.
async fn export_at_start(dir: &Path, devnet: &DevnetConfig, edges: &Edges) -> eyre::Result<()> {
    let mut devnet = devnet.clone();
    let mut stored_hashes = Vec::new();
    for chain in &mut devnet.chains {
        let stored = edges
            .state
            .block_by_number(chain.chain_id, 0)
            .await
            .map_err(|e| eyre::eyre!(e))?
            .ok_or_else(|| eyre::eyre!("chain {} has no genesis block", chain.chain_id))?;
        chain.genesis_timestamp = stored.header.timestamp;
        stored_hashes.push((chain.chain_id, stored.hash));
    }
    let geneses = crate::genesis::geneses(&devnet);
    for (chain, stored) in stored_hashes {
        let ours = geneses[&chain].0.hash;
        eyre::ensure!(
            ours == stored,
            "chain {chain}: the stored genesis {stored} is not the one these flags make ({ours}): export with the flags the data dir was made with"
        );
    }
    let files = crate::genesis::write(dir, &devnet, &geneses)?;
    info!(target: "opseq::dev", dir = %dir.display(), files = files.len(), "exported genesis and rollup configs");
    Ok(())
}

/// `--publish.op-node`: one follower per chain keeping that op-node's unsafe chain equal to ours.
fn spawn_op_node_targets(
    args: &crate::cli::PublishArgs,
    devnet: &DevnetConfig,
    state: &Arc<dyn StateSource>,
    sink: &Arc<dyn BlockSink>,
    cancel: &CancellationToken,
) -> eyre::Result<()> {
    let targets = opseq_publisher::op_node::parse_targets(&args.op_node).map_err(|e| eyre::eyre!(e))?;
    for (chain, url) in targets {
        eyre::ensure!(
            devnet.chain(chain).is_some_and(|c| c.is_l2()),
            "--publish.op-node {chain}={url}: {chain} is not an L2 of this devnet"
        );
        opseq_publisher::op_node::OpNodeFollower::new(chain, &url, Arc::clone(state))
            .map_err(|e| eyre::eyre!(e))?
            .spawn(Arc::clone(sink), cancel.clone());
    }
    Ok(())
}

/// The persisted per-chain sequencing mode in `datadir` (see `opseq_builder::persist`).
fn sequencer_state(datadir: &std::path::Path) -> eyre::Result<opseq_builder::persist::SequencerState> {
    std::fs::create_dir_all(datadir).wrap_err_with(|| format!("creating {}", datadir.display()))?;
    opseq_builder::persist::SequencerState::open(&datadir.join(opseq_builder::persist::SequencerState::FILE_NAME))
        .map_err(|e| eyre::eyre!(e))
}

fn builder_probe(edges: Edges, devnet: DevnetConfig) -> Readiness {
    Arc::new(move || {
        let edges = edges.clone();
        let devnet = devnet.clone();
        Box::pin(async move { opseq_builder::http::readiness(&edges, &devnet).await })
    })
}

fn state_probe(state: Arc<dyn StateSource>, devnet: DevnetConfig) -> Readiness {
    Arc::new(move || {
        let state = Arc::clone(&state);
        let first = devnet.chains[0].chain_id;
        Box::pin(async move {
            let r = tokio::time::timeout(std::time::Duration::from_secs(2), state.head(first)).await;
            let r = match r {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".into()),
            };
            vec![("state-fetcher", r)]
        })
    })
}

async fn serve_component(
    name: &str,
    a: &ComponentArgs,
    probe: Readiness,
    grpc: SocketAddr,
    cancel: CancellationToken,
) -> eyre::Result<()> {
    let (http, handle) = http_server(&a.http, probe, None)?;
    info!(target: "opseq::cluster", component = name, %grpc, %http, "component running");
    #[allow(clippy::print_stdout)]
    {
        println!("op-sequencer {name}: gRPC on {grpc}, health and metrics on http://{http}");
    }
    shutdown_signal().await;
    cancel.cancel();
    handle.stop(true).await;
    actix::System::current().stop();
    Ok(())
}

async fn state_fetcher(a: ComponentArgs) -> eyre::Result<()> {
    let (devnet, fork) = chains(&a.chains)?;
    let fetcher = open_state(&a.datadir, &devnet, fork.as_ref(), a.chains.db_sync)?;
    let state: Arc<dyn StateSource> = Arc::new(opseq_state_fetcher::LocalStateSource::start(fetcher));
    let cancel = CancellationToken::new();
    let grpc = grpc_server(a.grpc_addr, opseq_state_fetcher::grpc::StateGrpc::new(state), cancel.clone()).await?;
    serve_component("state-fetcher", &a, always_ready(), grpc, cancel).await
}

async fn txpool(a: ComponentArgs) -> eyre::Result<()> {
    let (devnet, fork) = chains(&a.chains)?;
    let state: Arc<dyn StateSource> = Arc::new(GrpcStateSource::new(&a.state_addr).map_err(|e| eyre::eyre!(e))?);
    let pool = opseq_txpool::TxPoolActor::open(&a.datadir, &devnet, a.chains.db_sync)
        .map_err(|e| eyre::eyre!(e))?
        .with_limit(a.chains.txpool_max_txs)
        .start();
    let txs: Arc<dyn TxSource> = Arc::new(
        opseq_txpool::LocalTxSource::new(pool, Arc::clone(&state), &devnet)
            .warm_recipients(fork.as_ref().map(|f| f.chain)),
    );
    let cancel = CancellationToken::new();
    let grpc = grpc_server(a.grpc_addr, opseq_txpool::grpc::TxPoolGrpc::new(txs), cancel.clone()).await?;
    serve_component("txpool", &a, state_probe(state, devnet), grpc, cancel).await
}

async fn signer(a: ComponentArgs) -> eyre::Result<()> {
    let key = match &a.key_file {
        Some(f) => {
            let s = std::fs::read_to_string(f).wrap_err_with(|| format!("reading {}", f.display()))?;
            s.trim().trim_start_matches("0x").parse().wrap_err("sequencer key must be 32 bytes of hex")?
        }
        None => DEV_SEQUENCER_KEY,
    };
    let signer: Arc<dyn BlockSigner> = Arc::new(opseq_signer::LocalSigner::start(key).map_err(|e| eyre::eyre!(e))?);
    let cancel = CancellationToken::new();
    let grpc = grpc_server(a.grpc_addr, opseq_signer::grpc::SignerGrpc::new(signer), cancel.clone()).await?;
    serve_component("signer", &a, always_ready(), grpc, cancel).await
}

async fn publisher(p: crate::cli::PublisherArgs) -> eyre::Result<()> {
    let a = p.component;
    let devnet = devnet(&a.chains)?;
    let state: Arc<dyn StateSource> = Arc::new(GrpcStateSource::new(&a.state_addr).map_err(|e| eyre::eyre!(e))?);
    let sink: Arc<dyn BlockSink> = Arc::new(opseq_publisher::LocalPublisher::start(Arc::clone(&state)));
    let cancel = CancellationToken::new();
    spawn_op_node_targets(&p.publish, &devnet, &state, &sink, &cancel)?;
    let grpc = grpc_server(a.grpc_addr, opseq_publisher::grpc::PublisherGrpc::new(sink), cancel.clone()).await?;
    serve_component("publisher", &a, state_probe(state, devnet), grpc, cancel).await
}

async fn builder(b: BuilderArgs) -> eyre::Result<()> {
    let a = &b.component;
    let devnet = devnet(&a.chains)?;
    let e = |e: opseq_primitives::OpseqError| eyre::eyre!(e);
    let shreds: Arc<dyn ShredBus> = Arc::new(LocalShredBus::default());
    let edges = Edges {
        state: Arc::new(GrpcStateSource::new(&a.state_addr).map_err(e)?),
        txs: Arc::new(GrpcTxSource::new(&a.txpool_addr).map_err(e)?),
        signer: Arc::new(GrpcSigner::new(&a.signer_addr).map_err(e)?),
        sink: Arc::new(GrpcBlockSink::new(&a.publisher_addr).map_err(e)?),
        shreds: Arc::clone(&shreds),
    };
    let cancel = CancellationToken::new();
    let mut supervisor =
        BuilderSupervisor::new(devnet.clone(), edges.clone(), !a.chains.no_auto, sequencer_state(&a.datadir)?);
    if !b.chains.is_empty() {
        supervisor = supervisor.only(b.chains.clone()).map_err(e)?;
    }
    let peers = b
        .peers
        .iter()
        .map(|p| {
            let peer = Arc::new(GrpcShredBus::new(p).map_err(e)?);
            Ok(opseq_builder::Peer { name: p.clone(), shreds: peer.clone(), builder: peer })
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    let supervisor = supervisor.with_peers(peers).start();
    let grpc = grpc_server(a.grpc_addr, ShredGrpc::serving(shreds, supervisor.clone()), cancel.clone()).await?;
    if a.chains.interop_autorelay {
        opseq_builder::relay::spawn(edges.clone(), devnet.clone());
    }
    let (http, handle) = http_server(
        &a.http,
        builder_probe(edges.clone(), devnet.clone()),
        Some(RpcRoutes::new(
            &devnet,
            &edges,
            Some(supervisor),
            Some(load_jwt(&jwt_secret(&a.datadir, a.jwt_secret.clone())?)?),
            load_ensemble(a.builders_config.as_deref(), &devnet)?.as_ref(),
        )),
    )?;
    info!(target: "opseq::cluster", component = "builder", %grpc, %http, "component running");
    #[allow(clippy::print_stdout)]
    {
        println!("op-sequencer builder: JSON-RPC on http://{http}/chains/<chainId>, shred stream gRPC on {grpc}");
    }
    shutdown_signal().await;
    cancel.cancel();
    handle.stop(true).await;
    actix::System::current().stop();
    Ok(())
}
