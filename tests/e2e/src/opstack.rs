//! The OP Stack's own programs around an `op-sequencer dev`: op-geth (`geth`), op-node and
//! op-batcher from the Go module proxy (`scripts/install-test-peers.sh`), each on loopback
//! ports, logging to a file, killed on drop.
use crate::{free_port, http, peers};
use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The Go peers' binaries, or why they are not there (a test then skips and prints it).
pub fn go_peer(name: &str) -> Result<PathBuf, String> {
    let p = peers().join("bin").join(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} not installed: scripts/install-test-peers.sh builds it from the Go module proxy (needs `go`)",
            p.display()
        ))
    }
}

/// A child process killed on drop.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    /// Its name (for messages).
    pub name: String,
    /// Its log file.
    pub log: PathBuf,
}

impl Peer {
    /// Starts `bin args…`, logging to `log`.
    pub fn spawn(name: &str, bin: &Path, args: &[String], log: PathBuf) -> eyre::Result<Self> {
        let out = std::fs::File::create(&log)?;
        let child = Command::new(bin)
            .args(args)
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .wrap_err_with(|| format!("spawning {}", bin.display()))?;
        Ok(Self { child, name: name.to_string(), log })
    }

    /// The last lines of its log.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // op-node logs every L1 label it polls: not what a failure needs.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("New L1 safe block") && !l.contains("New L1 finalized block"))
            .collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Fails if the process has exited.
    pub fn alive(&mut self) -> eyre::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited with {status}; log tail:\n{}", self.name, self.tail());
        }
        Ok(())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One JSON-RPC call over HTTP to `url` (`http://host:port[/path]`).
pub fn call(url: &str, method: &str, params: Value) -> eyre::Result<Value> {
    let rest = url.strip_prefix("http://").ok_or_else(|| eyre!("not an http URL: {url}"))?;
    let (addr, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (_, text) = http("POST", addr, path, &body)?;
    let v: Value = serde_json::from_str(&text).wrap_err_with(|| format!("bad JSON from {method}: {text}"))?;
    if let Some(e) = v.get("error") {
        bail!("{method}: {e}");
    }
    Ok(v["result"].clone())
}

/// Polls `f` every 200 ms until it returns `Some`, failing after `timeout` with `what`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> eyre::Result<Option<T>>) -> eyre::Result<T> {
    let t = Instant::now();
    let mut last = None;
    while t.elapsed() < timeout {
        match f() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!(
        "timed out after {timeout:?} waiting for {what}{}",
        last.map(|e| format!(" (last error: {e:#})")).unwrap_or_default()
    )
}

/// An op-geth with its engine API on an auth port, initialised from a genesis file.
#[derive(Debug)]
pub struct OpGeth {
    /// The process.
    pub peer: Peer,
    /// `http://127.0.0.1:<port>` (eth, debug).
    pub http: String,
    /// `http://127.0.0.1:<port>` (engine API, JWT).
    pub auth: String,
}

impl OpGeth {
    /// `geth init` of `genesis`, then geth with its engine API under `jwt`; no p2p sockets
    /// (listening on loopback only, no discovery, no peers).
    pub fn start(dir: &Path, genesis: &Path, jwt: &Path) -> eyre::Result<Self> {
        let geth = go_peer("geth").map_err(|e| eyre!(e))?;
        std::fs::create_dir_all(dir)?;
        let data = dir.join("data");
        let out = Command::new(&geth)
            .args(["init", "--datadir", data.to_str().unwrap(), "--state.scheme", "hash", genesis.to_str().unwrap()])
            .output()?;
        if !out.status.success() {
            bail!("geth init failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        // P2P on loopback only: geth has no listen-address flag, its TOML config does.
        let config = dir.join("geth.toml");
        std::fs::write(
            &config,
            "[Node.P2P]\nListenAddr = \"127.0.0.1:0\"\nNoDiscovery = true\nDiscoveryV4 = false\nDiscoveryV5 = false\nMaxPeers = 0\n",
        )?;
        let (http_port, auth_port) = (free_port(), free_port());
        let args: Vec<String> = [
            "--config",
            config.to_str().unwrap(),
            "--datadir",
            data.to_str().unwrap(),
            "--state.scheme",
            "hash",
            "--gcmode",
            "archive",
            "--syncmode",
            "full",
            "--http",
            "--http.addr",
            "127.0.0.1",
            "--http.port",
            &http_port.to_string(),
            "--http.api",
            "eth,net,web3,debug,txpool",
            "--authrpc.addr",
            "127.0.0.1",
            "--authrpc.port",
            &auth_port.to_string(),
            "--authrpc.jwtsecret",
            jwt.to_str().unwrap(),
            "--ipcdisable",
            "--nat",
            "none",
            "--rollup.disabletxpoolgossip",
            "--verbosity",
            "3",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut peer = Peer::spawn("op-geth", &geth, &args, dir.join("geth.log"))?;
        let http = format!("http://127.0.0.1:{http_port}");
        wait_for(Duration::from_secs(60), "op-geth's HTTP RPC", || {
            peer.alive()?;
            Ok(call(&http, "eth_chainId", json!([])).ok())
        })?;
        Ok(Self { peer, http, auth: format!("http://127.0.0.1:{auth_port}") })
    }

    /// op-geth's block at `number` (hash), if it has one.
    pub fn hash_at(&self, number: u64) -> eyre::Result<Option<String>> {
        let b = call(&self.http, "eth_getBlockByNumber", json!([format!("{number:#x}"), false]))?;
        Ok(b.get("hash").and_then(Value::as_str).map(str::to_string))
    }
}

/// An op-node following one L2 (rollup config and L1 chain config from `op-sequencer export`).
#[derive(Debug)]
pub struct OpNode {
    /// The process.
    pub peer: Peer,
    /// `http://127.0.0.1:<port>`.
    pub rpc: String,
}

impl OpNode {
    /// Starts op-node (RPC on `port`) on `l1` (the L1 mock's chain URL) driving the op-geth at `engine`;
    /// `sequencer_api`: with `--experimental.sequencer-api` (op-sequencer publishes into it).
    /// No p2p, no beacon node (calldata batches only).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        dir: &Path,
        port: u16,
        l1: &str,
        engine: &str,
        jwt: &Path,
        rollup: &Path,
        l1_config: &Path,
        sequencer_api: bool,
    ) -> eyre::Result<Self> {
        let bin = go_peer("op-node").map_err(|e| eyre!(e))?;
        let mut args: Vec<String> = [
            "--l1",
            l1,
            "--l1.rpckind",
            "standard",
            "--l1.beacon.ignore",
            "--l1.http-poll-interval",
            "500ms",
            "--l1.epoch-poll-interval",
            "2s",
            "--l2",
            engine,
            "--l2.jwt-secret",
            jwt.to_str().unwrap(),
            "--l2.enginekind",
            "geth",
            "--rollup.config",
            rollup.to_str().unwrap(),
            "--rollup.l1-chain-config",
            l1_config.to_str().unwrap(),
            "--rpc.addr",
            "127.0.0.1",
            "--rpc.port",
            &port.to_string(),
            "--p2p.disable",
            "--verifier.l1-confs",
            "0",
            "--log.level",
            "info",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if sequencer_api {
            args.push("--experimental.sequencer-api".into());
        }
        std::fs::create_dir_all(dir)?;
        let mut peer = Peer::spawn("op-node", &bin, &args, dir.join("op-node.log"))?;
        let rpc = format!("http://127.0.0.1:{port}");
        wait_for(Duration::from_secs(60), "op-node's RPC", || {
            peer.alive()?;
            Ok(call(&rpc, "optimism_syncStatus", json!([])).ok())
        })?;
        Ok(Self { peer, rpc })
    }

    /// `optimism_syncStatus`.
    pub fn status(&self) -> eyre::Result<Value> {
        call(&self.rpc, "optimism_syncStatus", json!([]))
    }

    /// (number, hash) of a head of `optimism_syncStatus`: `unsafe_l2`, `safe_l2`, …
    pub fn head(&self, which: &str) -> eyre::Result<(u64, String)> {
        sync_head(&self.rpc, which)
    }
}

/// (number, hash) of a head (`unsafe_l2`, `safe_l2`, …) of a rollup node's `optimism_syncStatus`.
pub fn sync_head(rpc: &str, which: &str) -> eyre::Result<(u64, String)> {
    let s = call(rpc, "optimism_syncStatus", json!([]))?;
    let h = &s[which];
    Ok((
        h["number"].as_u64().ok_or_else(|| eyre!("{which}: {h}"))?,
        h["hash"].as_str().ok_or_else(|| eyre!("{which}: {h}"))?.to_string(),
    ))
}

/// An op-batcher posting one L2 to the L1 mock as calldata.
#[derive(Debug)]
pub struct OpBatcher {
    /// The process.
    pub peer: Peer,
}

impl OpBatcher {
    /// Starts op-batcher with the L2's dev batcher key (`key_file`, from the export): L2 blocks from `l2_eth` (op-geth), heads
    /// from `rollup` (op-node), posting to `l1`; channels close after one L1 block; DA
    /// throttling off (it would call `miner_setMaxDASize` on the L2 EL).
    pub fn start(dir: &Path, key_file: &Path, l1: &str, l2_eth: &str, rollup: &str) -> eyre::Result<Self> {
        let bin = go_peer("op-batcher").map_err(|e| eyre!(e))?;
        std::fs::create_dir_all(dir)?;
        let key = std::fs::read_to_string(key_file).wrap_err_with(|| format!("reading {}", key_file.display()))?;
        let key = key.trim().to_string();
        let args: Vec<String> = [
            "--l1-eth-rpc",
            l1,
            "--l2-eth-rpc",
            l2_eth,
            "--rollup-rpc",
            rollup,
            "--private-key",
            &key,
            "--data-availability-type",
            "calldata",
            "--max-channel-duration",
            "1",
            "--poll-interval",
            "500ms",
            "--num-confirmations",
            "1",
            "--safe-abort-nonce-too-low-count",
            "3",
            "--resubmission-timeout",
            "30s",
            "--throttle.unsafe-da-bytes-lower-threshold",
            "0",
            "--rpc.addr",
            "127.0.0.1",
            "--rpc.port",
            &free_port().to_string(),
            "--metrics.enabled=false",
            "--log.level",
            "info",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let peer = Peer::spawn("op-batcher", &bin, &args, dir.join("op-batcher.log"))?;
        Ok(Self { peer })
    }
}

/// kona-node 1.0.0-rc.1 from crates.io (`scripts/install-test-peers.sh` runs `cargo install
/// kona-node --version 1.0.0-rc.1 --locked`, 25–45 minutes on two cores, once per machine), or
/// why it is not there. Its derivation waits for its engine's first VALID forkchoice update,
/// which follows the first unsafe block it gets (gossip, or `admin_postUnsafePayload`).
pub fn kona_node() -> Result<PathBuf, String> {
    let p = peers().join("bin/kona-node");
    if p.exists() {
        Ok(p)
    } else {
        Err(format!("{} not installed: cargo install kona-node --version 1.0.0-rc.1 --locked (25-45 min)", p.display()))
    }
}

/// kona-node as a validator: L1 from `l1` (the L1 mock's chain URL), the beacon API stub at
/// `beacon` (op-sequencer's HTTP root), its execution client's engine API at `engine`.
#[derive(Debug)]
pub struct KonaNode {
    /// The process.
    pub peer: Peer,
    /// `http://127.0.0.1:<port>` (`optimism_syncStatus`).
    pub rpc: String,
}

impl KonaNode {
    /// Starts kona-node on loopback only (RPC, libp2p and discv5; no bootnodes, its bootstore in
    /// `dir`).
    pub fn start(
        dir: &Path,
        chain: u64,
        l1: &str,
        beacon: &str,
        engine: &str,
        jwt: &Path,
        rollup: &Path,
    ) -> eyre::Result<Self> {
        let bin = kona_node().map_err(|e| eyre!(e))?;
        std::fs::create_dir_all(dir.join("bootstore"))?;
        let port = free_port();
        let args: Vec<String> = [
            "--chain",
            &chain.to_string(),
            "node",
            "--mode",
            "Validator",
            "--l1-eth-rpc",
            l1,
            "--l1-beacon",
            beacon,
            "--l2-engine-rpc",
            engine,
            "--l2.jwt-secret",
            jwt.to_str().unwrap(),
            "--rollup-cfg",
            rollup.to_str().unwrap(),
            "--rpc.addr",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--p2p.listen.ip",
            "127.0.0.1",
            "--p2p.listen.tcp",
            &free_port().to_string(),
            "--p2p.listen.udp",
            &free_port().to_string(),
            "--p2p.bootstore",
            dir.join("bootstore").to_str().unwrap(),
            "--p2p.priv.raw",
            "0101010101010101010101010101010101010101010101010101010101010101",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut peer = Peer::spawn("kona-node", &bin, &args, dir.join("kona-node.log"))?;
        let rpc = format!("http://127.0.0.1:{port}");
        wait_for(Duration::from_secs(60), "kona-node's RPC", || {
            peer.alive()?;
            Ok(call(&rpc, "optimism_syncStatus", json!([])).ok())
        })?;
        Ok(Self { peer, rpc })
    }

    /// (number, hash) of a head of `optimism_syncStatus`.
    pub fn head(&self, which: &str) -> eyre::Result<(u64, String)> {
        sync_head(&self.rpc, which)
    }
}

/// The engine-API payload (V4 JSON) of block `n` of `chain` at `node`, rebuilt from its RPC
/// (raw txs by `debug_getRawTransaction`), and its header (for the beacon root).
pub fn payload_of(node: &crate::Proc, chain: u64, n: u64) -> eyre::Result<(Value, alloy_consensus::Header)> {
    let b = node.rpc(chain, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]))?;
    let raws: Vec<Value> = b["transactions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| node.rpc(chain, "debug_getRawTransaction", json!([h])))
        .collect::<eyre::Result<_>>()?;
    let header: alloy_consensus::Header = serde_json::from_value(b.clone())?;
    let payload = json!({
        "parentHash": b["parentHash"], "feeRecipient": b["miner"], "stateRoot": b["stateRoot"],
        "receiptsRoot": b["receiptsRoot"], "logsBloom": b["logsBloom"], "prevRandao": b["mixHash"],
        "blockNumber": b["number"], "gasLimit": b["gasLimit"], "gasUsed": b["gasUsed"],
        "timestamp": b["timestamp"], "extraData": b["extraData"], "baseFeePerGas": b["baseFeePerGas"],
        "blockHash": b["hash"], "transactions": raws, "withdrawals": [],
        "blobGasUsed": b["blobGasUsed"], "excessBlobGas": b["excessBlobGas"], "withdrawalsRoot": b["withdrawalsRoot"],
    });
    Ok((payload, header))
}

/// The `{executionPayload, parentBeaconBlockRoot}` envelope of block `n` (op-node's
/// `admin_postUnsafePayload`, kona-node's too).
pub fn envelope_of(node: &crate::Proc, chain: u64, n: u64) -> eyre::Result<Value> {
    let (payload, header) = payload_of(node, chain, n)?;
    Ok(json!({"executionPayload": payload, "parentBeaconBlockRoot": header.parent_beacon_block_root}))
}
