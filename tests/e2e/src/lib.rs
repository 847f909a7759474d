#![doc = include_str!("../README.md")]

pub mod deposits;
pub mod messages;
pub mod opstack;

use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};
use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The op-sequencer binary under test.
pub fn binary() -> PathBuf {
    let p = std::env::var_os("OPSEQ_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/debug/op-sequencer"));
    assert!(p.exists(), "{} not found: build it first (`cargo build -p op-sequencer`, or `make test`)", p.display());
    p
}

/// Where the test peers live (`scripts/install-test-peers.sh`).
pub fn peers() -> PathBuf {
    let p = std::env::var_os("OPSEQ_PEERS").map(PathBuf::from).unwrap_or_else(|| workspace().join(".peers"));
    assert!(
        p.join("bin/cast").exists() && p.join("venv/bin/python").exists(),
        "test peers missing in {}: run scripts/install-test-peers.sh",
        p.display()
    );
    p
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A tiny HTTP/1.1 client (no dependency): returns (status, body).
pub fn http(method: &str, addr: &str, path: &str, body: &str) -> eyre::Result<(u16, String)> {
    http_with(method, addr, path, &[], body)
}

/// [`http`] with extra headers.
pub fn http_with(
    method: &str,
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> eyre::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(900)))?;
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| eyre!("bad HTTP response"))?;
    let status: u16 =
        head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| eyre!("bad status line"))?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_string() };
    Ok((status, body))
}

/// An HTTP/1.1 client on one kept-alive connection (for latency measurements, where a new TCP
/// connection per call would dominate). Responses must carry a Content-Length.
#[derive(Debug)]
pub struct KeepAlive {
    addr: String,
    stream: std::io::BufReader<TcpStream>,
}

impl KeepAlive {
    /// Connects to `addr`.
    pub fn connect(addr: &str) -> eyre::Result<Self> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(900)))?;
        Ok(Self { addr: addr.to_string(), stream: std::io::BufReader::new(s) })
    }

    /// POSTs `body` to `path` with extra headers; returns the response body.
    pub fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &str) -> eyre::Result<String> {
        use std::io::BufRead;
        let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.stream.get_mut().write_all(req.as_bytes())?;
        let mut len = None;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line)? == 0 {
                bail!("connection closed");
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = Some(v.trim().parse::<usize>()?);
            }
        }
        let mut buf = vec![0u8; len.ok_or_else(|| eyre!("response without Content-Length"))?];
        std::io::Read::read_exact(&mut self.stream, &mut buf)?;
        Ok(String::from_utf8(buf)?)
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n.min(rest.len())]);
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}

/// A running op-sequencer process; killed (SIGKILL) on drop.
#[derive(Debug)]
pub struct Proc {
    child: Child,
    /// HTTP address `127.0.0.1:port`.
    pub http: String,
    /// Log file.
    pub log: PathBuf,
    /// gRPC address, where the process serves one.
    pub grpc: Option<String>,
    /// JWT secret file of the control API, where the process serves one.
    pub jwt: Option<PathBuf>,
}

impl Proc {
    /// Starts `op-sequencer <args…>` with its HTTP server on `http_port`, logging to `log`.
    pub fn spawn(args: &[String], http_port: u16, log: PathBuf) -> eyre::Result<Self> {
        Self::spawn_env(args, http_port, log, &[])
    }

    /// As [`Proc::spawn`], with extra environment variables.
    pub fn spawn_env(args: &[String], http_port: u16, log: PathBuf, env: &[(&str, &str)]) -> eyre::Result<Self> {
        let out = std::fs::File::create(&log)?;
        let child = Command::new(binary())
            .envs(env.iter().copied())
            .args(args)
            .arg("--http.port")
            .arg(http_port.to_string())
            .env("OPSEQ_LOG_FILTER", std::env::var("OPSEQ_LOG_FILTER").unwrap_or_else(|_| "info".into()))
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .wrap_err("spawning op-sequencer")?;
        Ok(Self { child, http: format!("127.0.0.1:{http_port}"), log, grpc: None, jwt: None })
    }

    /// Waits until `/healthz` answers.
    pub fn wait_healthy(&mut self, timeout: Duration) -> eyre::Result<()> {
        let t = Instant::now();
        while t.elapsed() < timeout {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "op-sequencer exited with {status}; log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if matches!(http("GET", &self.http, "/healthz", ""), Ok((200, _))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "op-sequencer not healthy after {timeout:?}; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }

    /// Waits until `/readyz` says ready.
    pub fn wait_ready(&mut self, timeout: Duration) -> eyre::Result<()> {
        self.wait_healthy(timeout)?;
        let t = Instant::now();
        while t.elapsed() < timeout {
            if matches!(http("GET", &self.http, "/readyz", ""), Ok((200, _))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("op-sequencer not ready after {timeout:?}")
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited successfully.
    pub fn terminate(&mut self, timeout: Duration) -> eyre::Result<bool> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let t = Instant::now();
        while t.elapsed() < timeout {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s.success());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
        Ok(false)
    }

    /// The JSON-RPC URL of a chain.
    pub fn url(&self, chain: u64) -> String {
        format!("http://{}/chains/{chain}", self.http)
    }

    /// One JSON-RPC call on a chain route; returns the whole response object.
    pub fn rpc_raw(&self, chain: u64, method: &str, params: Value) -> eyre::Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let (_, text) = http("POST", &self.http, &format!("/chains/{chain}"), &body)?;
        serde_json::from_str(&text).wrap_err_with(|| format!("bad JSON from {method}: {text}"))
    }

    /// One JSON-RPC call; the result or an error.
    pub fn rpc(&self, chain: u64, method: &str, params: Value) -> eyre::Result<Value> {
        let v = self.rpc_raw(chain, method, params)?;
        if let Some(e) = v.get("error") {
            bail!("{method} failed: {e}");
        }
        Ok(v["result"].clone())
    }

    /// A fresh bearer token for the control API (HS256 over the data dir's JWT secret, as
    /// op-devstack's clients make them).
    pub fn token(&self) -> eyre::Result<String> {
        let path = self.jwt.as_ref().ok_or_else(|| eyre!("no JWT secret known for this process"))?;
        let secret = alloy_rpc_types_engine::JwtSecret::from_file(path)?;
        let iat = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        Ok(secret.encode(&alloy_rpc_types_engine::Claims { iat, exp: None })?)
    }

    /// One authenticated JSON-RPC call on `path`; returns (HTTP status, response object).
    pub fn control_raw(&self, path: &str, method: &str, params: Value) -> eyre::Result<(u16, Value)> {
        self.control_with(path, method, params, &[])
    }

    /// [`Proc::control_raw`] with extra headers (e.g. a W3C `traceparent`).
    pub fn control_with(
        &self,
        path: &str,
        method: &str,
        params: Value,
        headers: &[(&str, &str)],
    ) -> eyre::Result<(u16, Value)> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let auth = format!("Bearer {}", self.token()?);
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend_from_slice(headers);
        let (status, text) = http_with("POST", &self.http, path, &all, &body)?;
        Ok((
            status,
            serde_json::from_str(&text).wrap_err_with(|| format!("bad JSON from {method} (HTTP {status}): {text}"))?,
        ))
    }

    /// One authenticated call of the test API on a chain; the result or an error.
    pub fn control(&self, chain: u64, method: &str, params: Value) -> eyre::Result<Value> {
        let (_, v) = self.control_raw(&format!("/chains/{chain}"), method, params)?;
        if let Some(e) = v.get("error") {
            bail!("{method} failed: {e}");
        }
        Ok(v["result"].clone())
    }

    /// The error code of an authenticated test-API call that must fail.
    pub fn control_err(&self, chain: u64, method: &str, params: Value) -> eyre::Result<(i64, String)> {
        let (_, v) = self.control_raw(&format!("/chains/{chain}"), method, params)?;
        let e = v.get("error").ok_or_else(|| eyre!("{method} succeeded, expected an error: {v}"))?;
        Ok((e["code"].as_i64().unwrap_or_default(), e["message"].as_str().unwrap_or_default().to_string()))
    }

    /// The head number of a chain.
    pub fn head(&self, chain: u64) -> eyre::Result<u64> {
        hex_u64(&self.rpc(chain, "eth_blockNumber", json!([]))?)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Parses a `0x…` quantity.
pub fn hex_u64(v: &Value) -> eyre::Result<u64> {
    let s = v.as_str().ok_or_else(|| eyre!("not a string: {v}"))?;
    Ok(u64::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

/// Parses a `0x…` quantity that may not fit 64 bits (balances, prices).
pub fn hex_u128(v: &Value) -> eyre::Result<u128> {
    let s = v.as_str().ok_or_else(|| eyre!("not a string: {v}"))?;
    Ok(u128::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

/// Starts `op-sequencer dev` on free ports in `datadir`.
pub fn dev(datadir: &Path, extra: &[&str]) -> eyre::Result<Proc> {
    dev_env(datadir, extra, &[])
}

/// Starts `op-sequencer dev` with extra environment variables. Free ports are picked by binding
/// port 0 and releasing it, which races with other tests doing the same: a start that fails is
/// retried on new ports.
pub fn dev_env(datadir: &Path, extra: &[&str], env: &[(&str, &str)]) -> eyre::Result<Proc> {
    let mut last = None;
    for _ in 0..3 {
        let port = free_port();
        let grpc = format!("127.0.0.1:{}", free_port());
        let mut args: Vec<String> =
            vec!["dev".into(), "--datadir".into(), datadir.display().to_string(), "--grpc.addr".into(), grpc.clone()];
        // The engine API on a free port unless the test picks one (8551 would be shared).
        if !extra.contains(&"--authrpc.port") {
            args.extend(["--authrpc.port".into(), "0".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let log = datadir.with_extension(format!("{port}.log"));
        let mut p = Proc::spawn_env(&args, port, log, env)?;
        p.grpc = Some(grpc);
        p.jwt = Some(datadir.join("jwt.hex"));
        match p.wait_ready(Duration::from_secs(30)) {
            Ok(()) => return Ok(p),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| eyre!("op-sequencer did not start")))
}

/// Runs a command and returns its stdout; fails with its stderr.
pub fn run(cmd: &Path, args: &[&str]) -> eyre::Result<String> {
    let out = Command::new(cmd).args(args).output().wrap_err_with(|| format!("running {}", cmd.display()))?;
    if !out.status.success() {
        bail!(
            "{} {:?} failed: {}{}",
            cmd.display(),
            args,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `cast <args…>`.
pub fn cast(args: &[&str]) -> eyre::Result<String> {
    run(&peers().join("bin/cast"), args)
}

/// `contracts/` compiled afresh by npm `solc` (`contracts/compile.js`), written as JSON into
/// `dir`: `{"Name": {"bytecode", "deployedBytecode", "abi"}}`.
pub fn compile_contracts(dir: &Path) -> eyre::Result<PathBuf> {
    let solc = peers().join("npm/node_modules/solc");
    let script = workspace().join("contracts/compile.js");
    let out = run(Path::new("node"), &[script.to_str().expect("utf-8 path"), solc.to_str().expect("utf-8 path")])?;
    let path = dir.join("contracts.json");
    std::fs::write(&path, out)?;
    Ok(path)
}

/// Runs `tests/e2e/py/sync_calls.py` (web3.py) against `node`'s L2s 901 and 902 (`extra`: more
/// flags) with the contracts compiled into `contracts` and the node's control JWT; its JSON
/// report (the last line).
pub fn sync_calls_script(node: &Proc, contracts: &Path, extra: &[&str]) -> eyre::Result<serde_json::Value> {
    let jwt = node.jwt.clone().ok_or_else(|| eyre!("the node has no JWT file"))?;
    let (a, b) = (node.url(901), node.url(902));
    let mut args = vec![
        "--rpc-a",
        &a,
        "--rpc-b",
        &b,
        "--contracts",
        contracts.to_str().expect("utf-8 path"),
        "--key",
        KEY1,
        "--jwt-secret",
        jwt.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let out = python("sync_calls.py", &args)?;
    Ok(serde_json::from_str(out.lines().last().unwrap_or_default())?)
}

/// Runs one of the Python scripts in `tests/e2e/py` with the peers' venv.
pub fn python(script: &str, args: &[&str]) -> eyre::Result<String> {
    python_at(&format!("tests/e2e/py/{script}"), args)
}

/// Runs a Python script at `path` (relative to the workspace) with the peers' venv.
pub fn python_at(path: &str, args: &[&str]) -> eyre::Result<String> {
    let py = peers().join("venv/bin/python");
    let path = workspace().join(path);
    let mut all = vec![path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    run(&py, &all)
}

/// A token with ERC20's `transfer(address,uint256)` storage and event footprint: debit the
/// caller (every address starts with 10^24 units), credit the recipient, emit `Transfer`.
/// Hand-assembled (no compiler on the machine); see docs/benchmarks.md.
pub const TOKEN_INIT: &str = concat!(
    "605b600c600039605b6000f3", // init: copy the 0x5b-byte runtime below to memory, return it
    // transfer(to, amount): from = caller; fb = sload(from) or 10^24; sstore(from, fb - amount);
    // sstore(to, sload(to) + amount); log3(Transfer, from, to; amount); return true
    "6024356004353380548060195750",
    "69d3c21bcecceda10000005b83810382555081548301825582600052",
    "7fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef60206000a350",
    "600160005260206000f3"
);

/// anvil from npm on a free loopback port (its state cache in a temp dir), killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// `127.0.0.1:port`.
    pub addr: String,
    _cache: tempfile::TempDir,
}

impl Anvil {
    /// Starts anvil with `args` (beyond port, host and cache) and waits until it answers.
    pub fn start(args: &[&str]) -> eyre::Result<Self> {
        let port = free_port();
        let cache = tempfile::tempdir()?;
        let log = std::fs::File::create(cache.path().join("anvil.log"))?;
        let child = Command::new(peers().join("bin/anvil"))
            .args(["--port", &port.to_string(), "--host", "127.0.0.1", "--silent"])
            .args(["--cache-path", cache.path().to_str().unwrap_or("."), "--max-persisted-states", "16"])
            .args(args)
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .wrap_err("spawning anvil (installed by scripts/install-test-peers.sh)")?;
        let a = Self { child, addr: format!("127.0.0.1:{port}"), _cache: cache };
        let t = Instant::now();
        while a.rpc("eth_chainId", json!([])).is_err() {
            eyre::ensure!(t.elapsed() < Duration::from_secs(30), "anvil did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(a)
    }

    /// Its JSON-RPC URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One call; the result or an error.
    pub fn rpc(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let (_, text) = http("POST", &self.addr, "/", &body)?;
        let v: Value = serde_json::from_str(&text).wrap_err_with(|| format!("bad JSON from anvil {method}: {text}"))?;
        if let Some(e) = v.get("error") {
            bail!("anvil {method} failed: {e}");
        }
        Ok(v["result"].clone())
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Dev account 0 (anvil's first key).
pub const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Dev account 1.
pub const KEY1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// Signs an EIP-1559 transfer with alloy (for malformed-input tests).
pub fn sign_transfer(
    key: &str,
    chain_id: u64,
    nonce: u64,
    to: &str,
    value: u128,
    gas: u64,
    max_fee: u128,
) -> eyre::Result<String> {
    sign_transfer_tip(key, chain_id, nonce, to, value, gas, max_fee, 1_000_000)
}

/// An initiating message from a log in its JSON-RPC form: its payload (topics, then data) as
/// `0x…` hex, and the message hash.
pub fn message_of(log: &serde_json::Value) -> eyre::Result<(String, String)> {
    let mut payload: Vec<u8> = Vec::new();
    for t in log["topics"].as_array().into_iter().flatten() {
        payload.extend(alloy_primitives::hex::decode(t.as_str().unwrap_or_default())?);
    }
    payload.extend(alloy_primitives::hex::decode(log["data"].as_str().unwrap_or_default())?);
    Ok((format!("0x{}", alloy_primitives::hex::encode(&payload)), format!("{}", alloy_primitives::keccak256(&payload))))
}

/// A zero-value EIP-1559 tx carrying an EIP-2930 access list, signed with alloy: its raw form.
#[allow(clippy::too_many_arguments)]
pub fn sign_eip1559_access_list(
    key: &alloy_signer_local::PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: alloy_primitives::TxKind,
    input: alloy_primitives::Bytes,
    gas: u64,
    max_fee: u128,
    access_list: alloy_eips::eip2930::AccessList,
) -> eyre::Result<String> {
    sign_1559(key, chain_id, nonce, to, alloy_primitives::U256::ZERO, input, gas, max_fee, access_list)
}

/// Any EIP-1559 tx (call, create, value), signed with alloy: its raw `0x…` form.
#[allow(clippy::too_many_arguments)]
pub fn sign_eip1559(
    key: &alloy_signer_local::PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: alloy_primitives::TxKind,
    value: alloy_primitives::U256,
    input: alloy_primitives::Bytes,
    gas: u64,
    max_fee: u128,
) -> eyre::Result<String> {
    sign_1559(key, chain_id, nonce, to, value, input, gas, max_fee, Default::default())
}

#[allow(clippy::too_many_arguments)]
fn sign_1559(
    key: &alloy_signer_local::PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: alloy_primitives::TxKind,
    value: alloy_primitives::U256,
    input: alloy_primitives::Bytes,
    gas: u64,
    max_fee: u128,
    access_list: alloy_eips::eip2930::AccessList,
) -> eyre::Result<String> {
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_signer::SignerSync;
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: 1_000_000,
        to,
        value,
        access_list,
        input,
    };
    let sig = key.sign_hash_sync(&tx.signature_hash())?;
    Ok(format!("0x{}", alloy_primitives::hex::encode(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())))
}

/// [`sign_transfer`] with a chosen priority fee.
#[allow(clippy::too_many_arguments)]
pub fn sign_transfer_tip(
    key: &str,
    chain_id: u64,
    nonce: u64,
    to: &str,
    value: u128,
    gas: u64,
    max_fee: u128,
    tip: u128,
) -> eyre::Result<String> {
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_signer::SignerSync;
    let signer: alloy_signer_local::PrivateKeySigner = key.parse()?;
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: alloy_primitives::TxKind::Call(to.parse()?),
        value: alloy_primitives::U256::from(value),
        access_list: Default::default(),
        input: Default::default(),
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash())?;
    let env = TxEnvelope::from(tx.into_signed(sig));
    Ok(format!("0x{}", alloy_primitives::hex::encode(env.encoded_2718())))
}

/// The five components as separate processes on loopback.
#[derive(Debug)]
pub struct Cluster {
    /// state-fetcher, txpool, signer, publisher, builder (in start order).
    pub procs: Vec<(String, Proc)>,
    args: Vec<(String, Vec<String>, u16)>,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Cluster {
    /// Starts the cluster in `dir`; `builder_extra` goes to the builder (e.g. `--no-auto`).
    pub fn start(dir: &Path, builder_extra: &[&str]) -> eyre::Result<Self> {
        Self::start_env(dir, builder_extra, &[])
    }

    /// [`Cluster::start`] with extra environment for every process (each also gets
    /// `OPSEQ_OTLP_SERVICE_NAME=<component>`).
    /// Free ports are picked by binding port 0 and releasing it, which races with other tests
    /// doing the same (as in [`dev_env`]): a start that fails is retried on new ports.
    pub fn start_env(dir: &Path, builder_extra: &[&str], env: &[(&str, &str)]) -> eyre::Result<Self> {
        Self::start_with(dir, builder_extra, env, false)
    }

    /// [`Cluster::start`] with two builder processes: `builder` builds 900 and 901, `builder-b`
    /// builds 902, each following the other's open builds (`--builder.chains`,
    /// `--builder.peers`). [`Cluster::builder`] and [`Cluster::builder_b`] are their fronts.
    /// `extra` goes to every component (chain flags must agree across them).
    pub fn start_split(dir: &Path, extra: &[&str]) -> eyre::Result<Self> {
        Self::start_with(dir, extra, &[], true)
    }

    fn start_with(dir: &Path, builder_extra: &[&str], env: &[(&str, &str)], split: bool) -> eyre::Result<Self> {
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(dir, builder_extra, env, split) {
                Ok(c) => return Ok(c),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| eyre!("the cluster did not start")))
    }

    fn try_start(dir: &Path, builder_extra: &[&str], env: &[(&str, &str)], split: bool) -> eyre::Result<Self> {
        let g = |_: &str| free_port();
        let (ps, pt, pg, pp, pb) = (g("state"), g("txpool"), g("signer"), g("publisher"), g("builder"));
        let pb2 = g("builder-b");
        let addr = |p: u16| format!("http://127.0.0.1:{p}");
        let data = |n: &str| dir.join(n).display().to_string();
        let peers = [
            "--state.addr".to_string(),
            addr(ps),
            "--txpool.addr".into(),
            addr(pt),
            "--signer.addr".into(),
            addr(pg),
            "--publisher.addr".into(),
            addr(pp),
        ];
        let mk = |name: &str, port: u16, extra: &[&str]| -> (String, Vec<String>, u16) {
            // `builder-b` is a second `builder`.
            let command = name.strip_suffix("-b").unwrap_or(name);
            let mut a = vec![
                command.to_string(),
                "--datadir".into(),
                data(name),
                "--grpc.addr".into(),
                format!("127.0.0.1:{port}"),
            ];
            a.extend(peers.iter().cloned());
            a.extend(extra.iter().map(|s| s.to_string()));
            (name.to_string(), a, free_port())
        };
        // Split: `builder_extra` holds chain flags, which every component must agree on.
        let common: &[&str] = if split { builder_extra } else { &[] };
        let mut args = vec![
            mk("state-fetcher", ps, common),
            mk("txpool", pt, common),
            mk("signer", pg, common),
            mk("publisher", pp, common),
        ];
        if split {
            let (a, b) = (addr(pb2), addr(pb));
            let mut one: Vec<&str> = vec!["--builder.chains", "900,901", "--builder.peers", &a];
            one.extend(builder_extra);
            let mut two: Vec<&str> = vec!["--builder.chains", "902", "--builder.peers", &b];
            two.extend(builder_extra);
            args.push(mk("builder", pb, &one));
            args.push(mk("builder-b", pb2, &two));
        } else {
            args.push(mk("builder", pb, builder_extra));
        }
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut c = Self { procs: Vec::new(), args, dir: dir.to_path_buf(), env };
        for i in 0..c.args.len() {
            let p = c.spawn(i)?;
            c.procs.push((c.args[i].0.clone(), p));
        }
        for p in c.procs.iter_mut().skip(4) {
            p.1.wait_ready(Duration::from_secs(30))?;
        }
        Ok(c)
    }

    fn spawn(&self, i: usize) -> eyre::Result<Proc> {
        let (name, args, http_port) = &self.args[i];
        let log = self.dir.join(format!("{name}.{}.log", free_port()));
        let mut env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        env.push(("OPSEQ_OTLP_SERVICE_NAME", name.as_str()));
        let mut p = Proc::spawn_env(args, *http_port, log, &env)?;
        p.jwt = Some(self.dir.join(name).join("jwt.hex"));
        p.wait_healthy(Duration::from_secs(30))?;
        Ok(p)
    }

    /// The builder process (JSON-RPC front).
    pub fn builder(&self) -> &Proc {
        &self.procs[4].1
    }

    /// The second builder process of [`Cluster::start_split`] (chain 902).
    pub fn builder_b(&self) -> &Proc {
        &self.procs[5].1
    }

    /// The gRPC URL (`http://127.0.0.1:port`) of a component by name.
    pub fn grpc_url(&self, name: &str) -> Option<String> {
        let (_, args, _) = self.args.iter().find(|(n, _, _)| n == name)?;
        let i = args.iter().position(|a| a == "--grpc.addr")?;
        Some(format!("http://{}", args.get(i + 1)?))
    }

    /// `kill -9` one component by name.
    pub fn kill9(&mut self, name: &str) {
        if let Some((_, p)) = self.procs.iter_mut().find(|(n, _)| n == name) {
            p.kill9();
        }
    }

    /// Restarts a killed component on the same ports and data.
    pub fn restart(&mut self, name: &str) -> eyre::Result<()> {
        let i = self.args.iter().position(|(n, _, _)| n == name).ok_or_else(|| eyre!("no component {name}"))?;
        let p = self.spawn(i)?;
        self.procs[i].1 = p;
        Ok(())
    }
}
