//! `make bench`: op-sequencer and anvil side by side, in one run, through the same JSON-RPC calls.
//!
//! Each scenario does the same thing to both nodes: prefunded distinct senders sign transfers
//! (alloy), the txs are submitted in batches, then one `evm_mine` builds and seals the block; we
//! time that call and check that the block holds every tx. Empty blocks are timed with
//! `anvil_mine` in runs of 1,000. Prints a markdown table with the ratios.
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use opseq_e2e::*;
use serde_json::{Value, json};
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const CHAIN: u64 = 901;
const GAS_LIMIT: u64 = 1_000_000_000;

/// A node under test: its HTTP address and JSON-RPC path.
struct Node {
    name: &'static str,
    addr: String,
    path: String,
}

impl Node {
    fn call(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let (_, text) = http("POST", &self.addr, &self.path, &body)?;
        let v: Value = serde_json::from_str(&text)?;
        if let Some(e) = v.get("error") {
            eyre::bail!("{}: {method}: {e}", self.name);
        }
        Ok(v["result"].clone())
    }

    fn batch(&self, calls: Vec<(&str, Value)>) -> eyre::Result<()> {
        for chunk in calls.chunks(500) {
            let body: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (m, p))| json!({"jsonrpc": "2.0", "id": i, "method": m, "params": p}))
                .collect();
            let (_, text) = http("POST", &self.addr, &self.path, &Value::Array(body).to_string())?;
            let v: Value = serde_json::from_str(&text)?;
            if let Some(e) = v.as_array().and_then(|a| a.iter().find(|r| r.get("error").is_some())) {
                eyre::bail!("{}: batch call failed: {e}", self.name);
            }
        }
        Ok(())
    }

    fn head_txs(&self) -> eyre::Result<usize> {
        Ok(self.call("eth_getBlockByNumber", json!(["latest", false]))?["transactions"].as_array().map_or(0, Vec::len))
    }

    fn head(&self) -> eyre::Result<u64> {
        hex_u64(&self.call("eth_blockNumber", json!([]))?)
    }
}

fn signer(i: u64) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&opseq_primitives::derived_dev_key(i)).expect("valid key")
}

fn tx(key: &PrivateKeySigner, nonce: u64, to: TxKind, input: Bytes, gas: u64) -> String {
    let t = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 50_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to,
        value: U256::from(1),
        access_list: Default::default(),
        input,
    };
    let sig = key.sign_hash_sync(&t.signature_hash()).expect("sign");
    format!("0x{}", hex::encode(TxEnvelope::from(t.into_signed(sig)).encoded_2718()))
}

fn token_runtime_len() -> usize {
    (TOKEN_INIT.len() - 24) / 2
}

/// anvil with its defaults, except that the states it persists go to `cache` (a temp dir we
/// delete) and at most 256 of them: with the defaults it wrote 60 GB to ~/.foundry while
/// mining 10k blocks on this machine.
fn start_anvil(port: u16, cache: &std::path::Path) -> eyre::Result<Child> {
    let log = std::fs::File::create(std::env::temp_dir().join(format!("anvil-bench-{port}.log")))?;
    let child = Command::new(peers().join("bin/anvil"))
        .args(["--port", &port.to_string(), "--host", "127.0.0.1", "--no-mining", "--chain-id", &CHAIN.to_string()])
        .args(["--gas-limit", &GAS_LIMIT.to_string(), "--base-fee", "1000000000", "--silent"])
        .args(["--cache-path", cache.to_str().expect("utf-8 path"), "--max-persisted-states", "256"])
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()?;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if http(
            "POST",
            &format!("127.0.0.1:{port}"),
            "/",
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#,
        )
        .is_ok()
        {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eyre::bail!("anvil did not start")
}

fn start_ours(dir: &std::path::Path, accounts: u64) -> eyre::Result<Proc> {
    start_ours_with(dir, accounts, &[])
}

fn start_ours_with(dir: &std::path::Path, accounts: u64, extra: &[&str]) -> eyre::Result<Proc> {
    let port = free_port();
    let args: Vec<String> = [
        "dev",
        "--no-auto",
        "--datadir",
        dir.to_str().unwrap(),
        "--grpc.addr",
        &format!("127.0.0.1:{}", free_port()),
        "--gas-limit",
        &GAS_LIMIT.to_string(),
        "--dev.accounts",
        &accounts.to_string(),
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    let mut p = Proc::spawn(&args, port, dir.with_extension("log"))?;
    p.jwt = Some(dir.join("jwt.hex"));
    p.wait_ready(Duration::from_secs(600))?;
    Ok(p)
}

/// Sends `txs`, then times one `evm_mine`; returns µs per tx.
fn seal(node: &Node, txs: &[String]) -> eyre::Result<f64> {
    node.batch(txs.iter().map(|t| ("eth_sendRawTransaction", json!([t]))).collect())?;
    let t = Instant::now();
    node.call("evm_mine", json!([]))?;
    let el = t.elapsed();
    let n = node.head_txs()?;
    // Our L2 blocks carry the L1-info deposit as well.
    eyre::ensure!(n >= txs.len() && n <= txs.len() + 1, "{}: block holds {n} txs, sent {}", node.name, txs.len());
    Ok(el.as_secs_f64() * 1e6 / txs.len() as f64)
}

/// Mines up to `target` blocks, then times 1,000 more; returns ms per block.
fn empty_blocks(node: &Node, target: u64, budget: Duration) -> eyre::Result<Option<f64>> {
    let t = Instant::now();
    while node.head()? < target {
        let left = target - node.head()?;
        node.call("anvil_mine", json!([format!("{:#x}", left.min(1000))]))?;
        if t.elapsed() > budget {
            return Ok(None);
        }
    }
    let t = Instant::now();
    node.call("anvil_mine", json!(["0x3e8"]))?;
    Ok(Some(t.elapsed().as_secs_f64() * 1e3 / 1000.0))
}

/// Batched `eth_sendRawTransaction` ingest: `txs` in JSON-RPC batches of 500, timed end to end
/// (every answer must be a hash); returns tx/s.
fn ingest(node: &Node, txs: &[String]) -> eyre::Result<f64> {
    let t = Instant::now();
    node.batch(txs.iter().map(|t| ("eth_sendRawTransaction", json!([t]))).collect())?;
    Ok(txs.len() as f64 / t.elapsed().as_secs_f64())
}

/// p50 and p99 of `runs` timings, in ms.
fn percentiles(mut runs: Vec<Duration>) -> (f64, f64) {
    runs.sort();
    let at = |q: f64| runs[((runs.len() as f64 * q) as usize).min(runs.len() - 1)].as_secs_f64() * 1e3;
    (at(0.50), at(0.99))
}

/// The pool ingest rows (1k, 10k, 100k txs, the pool growing across them: the per-tx cost
/// should stay flat with pool size) and the one-tx-block round trip: ours through the test API
/// (`test_open` → `test_includeRaw` → `test_seal`, which commits), anvil through its closest
/// equivalent (`eth_sendRawTransaction` → `evm_mine`), 1,000 runs each.
fn ingest_and_round_trip(
    anvil: &Node,
    ours: &Node,
    ours_proc: &Proc,
    keys: &[PrivateKeySigner],
    first_key: usize,
) -> eyre::Result<Vec<(String, f64, f64, &'static str)>> {
    let mut rows = Vec::new();
    let dead = TxKind::Call(Address::repeat_byte(0xde));
    // 50 nonces per sender (the pool keeps at most 64 per sender), distinct senders per size.
    let mut next = first_key;
    for n in [1_000usize, 10_000, 100_000] {
        let senders = n / 50;
        eyre::ensure!(next + senders <= keys.len(), "not enough prefunded senders");
        let txs: Vec<String> = (next..next + senders)
            .flat_map(|k| (0..50u64).map(move |nonce| (k, nonce)))
            .map(|(k, nonce)| tx(&keys[k], nonce, dead, Bytes::new(), 21_000))
            .collect();
        next += senders;
        let a = ingest(anvil, &txs)?;
        let o = ingest(ours, &txs)?;
        println!("ingest of {n} txs: anvil {a:.0} tx/s, op-sequencer {o:.0} tx/s");
        // Rates: the ratio column reads "ours / anvil" for these rows.
        rows.push((format!("batched eth_sendRawTransaction, {n} txs"), 1e6 / a, 1e6 / o, "µs/tx"));
    }
    // Clear both pools before the round trips (they would otherwise be mined into them).
    anvil.call("anvil_dropAllTransactions", json!([]))?;
    for h in pooled_hashes(ours)? {
        ours.call("anvil_dropTransaction", json!([h]))?;
    }
    rows.extend(round_trip(anvil, ours, ours_proc, &keys[next])?);
    Ok(rows)
}

/// The one-tx-block round trip, 1,000 runs each: ours `test_open` → `test_includeRaw` →
/// `test_seal` (which commits), anvil `eth_sendRawTransaction` → `evm_mine`. `key` must be a
/// funded sender neither node has seen.
/// `sendMessage(destination, target, message)` calldata (L2ToL2CrossDomainMessenger).
fn send_message_data(destination: u64, target: Address, message: &[u8]) -> Bytes {
    let mut d = hex::decode("7056f41f").expect("hex");
    d.extend_from_slice(&U256::from(destination).to_be_bytes::<32>());
    d.extend_from_slice(alloy_primitives::B256::left_padding_from(target.as_slice()).as_slice());
    d.extend_from_slice(&U256::from(0x60).to_be_bytes::<32>());
    d.extend_from_slice(&U256::from(message.len()).to_be_bytes::<32>());
    d.extend_from_slice(message);
    // The bytes are padded to whole words (after the 4-byte selector).
    let words = (d.len() - 4).div_ceil(32);
    d.resize(4 + words * 32, 0);
    d.into()
}

/// `validateMessage(identifier, msgHash)` calldata (CrossL2Inbox).
fn validate_message_data(id: &Value, msg_hash: &str) -> eyre::Result<Bytes> {
    let mut d = hex::decode("ab4d6f75")?;
    let origin: Address = id["origin"].as_str().unwrap_or_default().parse()?;
    d.extend_from_slice(alloy_primitives::B256::left_padding_from(origin.as_slice()).as_slice());
    for k in ["blockNumber", "logIndex", "timestamp", "chainId"] {
        let v = U256::from_str_radix(id[k].as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)?;
        d.extend_from_slice(&v.to_be_bytes::<32>());
    }
    d.extend_from_slice(&hex::decode(msg_hash.trim_start_matches("0x"))?);
    Ok(d.into())
}

/// Issue 8: how long a dependent include on chain 902 takes after the log it executes appears
/// in 901's block open at the same timestamp, over 200 block pairs: (a) the log is already
/// there; (b) 902's include is already waiting for it when 901 includes it: from sending 901's
/// include to 902's include answering, next to 901's include alone. `pa` builds 901, `pb` 902:
/// one process, or two following each other's open builds (`where_` names which).
fn interop_latency(pa: &Proc, pb: &Proc, where_: &str) -> eyre::Result<Vec<(String, f64, f64, &'static str)>> {
    let messenger = opseq_primitives::interop::L2_TO_L2_CROSS_DOMAIN_MESSENGER;
    let inbox = opseq_primitives::interop::CROSS_L2_INBOX;
    let dev_key = |i: usize| PrivateKeySigner::from_bytes(&opseq_primitives::DEV_ACCOUNTS[i].key);
    let (ka, kb) = (dev_key(0)?, dev_key(1)?);
    let sign = |k: &PrivateKeySigner, chain: u64, nonce: u64, to: Address, input: Bytes, list: Option<Value>| {
        let fee = 50_000_000_000;
        match list {
            Some(l) => sign_eip1559_access_list(
                k,
                chain,
                nonce,
                TxKind::Call(to),
                input,
                300_000,
                fee,
                serde_json::from_value(l)?,
            ),
            None => sign_eip1559(k, chain, nonce, TxKind::Call(to), U256::ZERO, input, 300_000, fee),
        }
    };
    let exec_tx = |nonce: u64, id: &Value, hash: &str| -> eyre::Result<String> {
        let mut q = id.clone();
        q["msgHash"] = json!(hash);
        let list = pb.control(902, "test_accessList", json!([q]))?["accessList"].clone();
        sign(&kb, 902, nonce, inbox, validate_message_data(id, hash)?, Some(list))
    };
    let (mut present, mut waited, mut initiating) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..200u64 {
        let a = pa.control(901, "test_open", json!([]))?;
        let b = pb.control(902, "test_open", json!([]))?;
        let (ja, jb) = (a["jobId"].clone(), b["jobId"].clone());
        let id = |log_index: u64| json!({"origin": messenger, "blockNumber": a["number"], "logIndex": format!("{log_index:#x}"), "timestamp": a["timestamp"], "chainId": "0x385"});
        let x_raw = sign(&ka, 901, 2 * r, messenger, send_message_data(902, inbox, b"x"), None)?;
        let y_raw = sign(&ka, 901, 2 * r + 1, messenger, send_message_data(902, inbox, b"y"), None)?;
        // Y's hash ahead of time, from a dry run of the same two txs on a throwaway job.
        let dry = pa.control(901, "test_open", json!([]))?["jobId"].clone();
        pa.control(901, "test_includeRaw", json!([dry, x_raw]))?;
        let y_hash = message_of(&pa.control(901, "test_includeRaw", json!([dry, y_raw]))?["logs"][0])?.1;
        pa.control(901, "test_cancel", json!([dry]))?;
        // (a) X at 901's log 0, then executed from 902.
        let x = pa.control(901, "test_includeRaw", json!([ja, x_raw]))?;
        let exec_x = exec_tx(2 * r, &id(0), &message_of(&x["logs"][0])?.1)?;
        let t = Instant::now();
        let v = pb.control(902, "test_includeRaw", json!([jb, exec_x]))?;
        eyre::ensure!(v["executingMessages"][0]["valid"] == true, "X: {v}");
        present.push(t.elapsed());
        // (b) 902 waits for Y (901's log 1) while 901 includes it.
        let exec_y = exec_tx(2 * r + 1, &id(1), &y_hash)?;
        let (a_took, b_after) = std::thread::scope(|s| -> eyre::Result<(Duration, Duration)> {
            let waiter = s.spawn(|| {
                let r = pb.control(902, "test_includeRaw", json!([jb, exec_y]));
                (r, Instant::now())
            });
            std::thread::sleep(Duration::from_millis(20));
            let t = Instant::now();
            pa.control(901, "test_includeRaw", json!([ja, y_raw]))?;
            let a_took = t.elapsed();
            let (r, done) = waiter.join().expect("the waiting include");
            let v = r?;
            eyre::ensure!(v["executingMessages"][0]["valid"] == true, "Y: {v}");
            Ok((a_took, done.saturating_duration_since(t)))
        })?;
        initiating.push(a_took);
        waited.push(b_after);
        pa.control(901, "test_seal", json!([ja]))?;
        pb.control(902, "test_seal", json!([jb]))?;
    }
    let (p50, p99) = percentiles(present);
    let (w50, w99) = percentiles(waited);
    let (i50, i99) = percentiles(initiating);
    println!("{where_}: dependent include, log already in the other open block: p50 {p50:.3} ms, p99 {p99:.3} ms");
    println!(
        "{where_}: 901's initiating include: p50 {i50:.3} ms, p99 {i99:.3} ms; 902's waiting include answers {w50:.3} ms (p50) / {w99:.3} ms (p99) after 901's include was sent"
    );
    Ok(vec![
        (format!("{where_}: dependent include at one timestamp, log present, p50"), f64::NAN, p50, "ms"),
        (format!("{where_}: dependent include at one timestamp, log present, p99"), f64::NAN, p99, "ms"),
        (format!("{where_}: initiating include (the log appears), p50"), f64::NAN, i50, "ms"),
        (
            format!("{where_}: waiting dependent include, answered after the initiating include was sent, p50"),
            f64::NAN,
            w50,
            "ms",
        ),
        (
            format!("{where_}: waiting dependent include, answered after the initiating include was sent, p99"),
            f64::NAN,
            w99,
            "ms",
        ),
    ])
}

/// Issue 8: a block pair at one timestamp with `n` cross-chain messages each way: 901 and 902
/// each include `n` `sendMessage`s (one `test_includeBest` from the pool each, both at once),
/// then `n` `validateMessage`s of the other's messages (again one include each, every message
/// checked against the other open block), then seal. Txs are signed and pooled outside the
/// timings. Rows: ms for each phase and µs per message over the whole pair.
fn interop_throughput(
    pa: &Proc,
    pb: &Proc,
    where_: &str,
    n: u64,
) -> eyre::Result<Vec<(String, f64, f64, &'static str)>> {
    let messenger = opseq_primitives::interop::L2_TO_L2_CROSS_DOMAIN_MESSENGER;
    let inbox = opseq_primitives::interop::CROSS_L2_INBOX;
    // One sender per tx (a pool holds at most 64 per sender): `--dev.accounts` ≥ 4n.
    let keys = |role: u64| -> Vec<PrivateKeySigner> { (role * n..(role + 1) * n).map(signer).collect() };
    let (init_a, init_b, exec_a, exec_b) = (keys(0), keys(1), keys(2), keys(3));
    let fee = 50_000_000_000;
    let pool = |p: &Proc, chain: u64, txs: &[String]| -> eyre::Result<()> {
        let node = Node { name: "op-sequencer", addr: p.http.clone(), path: format!("/chains/{chain}") };
        node.batch(txs.iter().map(|t| ("eth_sendRawTransaction", json!([t]))).collect())
    };
    let inits = |k: &[PrivateKeySigner], chain: u64, to: u64| -> eyre::Result<Vec<String>> {
        k.iter()
            .enumerate()
            .map(|(i, k)| {
                let data = send_message_data(to, inbox, &i.to_be_bytes());
                sign_eip1559(k, chain, 0, TxKind::Call(messenger), U256::ZERO, data, 200_000, fee)
            })
            .collect()
    };
    pool(pa, 901, &inits(&init_a, 901, 902)?)?;
    pool(pb, 902, &inits(&init_b, 902, 901)?)?;
    let a = pa.control(901, "test_open", json!([]))?;
    let b = pb.control(902, "test_open", json!([]))?;
    eyre::ensure!(a["timestamp"] == b["timestamp"], "the pair is not at one timestamp: {a} {b}");
    let (ja, jb) = (a["jobId"].clone(), b["jobId"].clone());
    let both = |ma: Value, mb: Value| -> eyre::Result<(Value, Value)> {
        std::thread::scope(|s| {
            let other = s.spawn(|| pb.control(902, "test_includeBest", mb));
            let ra = pa.control(901, "test_includeBest", ma);
            Ok((ra?, other.join().expect("902's include")?))
        })
    };
    let t = Instant::now();
    let (ra, rb) = both(json!([ja, n]), json!([jb, n]))?;
    let t_init = t.elapsed();
    // The pool's order is the fee's, then arrival: log i is not the i-th signed message, so
    // identifiers come from the include results.
    // The executing txs: the other chain's message at log i (its deposit has no logs).
    let execs = |r: &Value,
                 block: &Value,
                 from: &str,
                 k: &[PrivateKeySigner],
                 chain: u64|
     -> eyre::Result<Vec<String>> {
        let added = r["included"].as_array().cloned().unwrap_or_default();
        eyre::ensure!(added.len() as u64 == n, "{} of {n} initiating txs included", added.len());
        added
            .iter()
            .enumerate()
            .map(|(i, tx)| {
                let (_, hash) = message_of(&tx["logs"][0])?;
                let id = json!({"origin": messenger, "blockNumber": block["number"], "logIndex": format!("{i:#x}"), "timestamp": block["timestamp"], "chainId": from});
                let parsed = opseq_primitives::interop::Identifier {
                    origin: messenger,
                    block_number: hex_u64(&block["number"])?,
                    log_index: i as u32,
                    timestamp: hex_u64(&block["timestamp"])?,
                    chain_id: U256::from_str_radix(from.trim_start_matches("0x"), 16)?,
                };
                let keys = opseq_primitives::interop::access_list_keys(&parsed, hash.parse()?);
                let list = json!([{"address": inbox, "storageKeys": keys}]);
                sign_eip1559_access_list(
                    &k[i],
                    chain,
                    0,
                    TxKind::Call(inbox),
                    validate_message_data(&id, &hash)?,
                    200_000,
                    fee,
                    serde_json::from_value(list)?,
                )
            })
            .collect()
    };
    pool(pa, 901, &execs(&rb, &b, "0x386", &exec_a, 901)?)?;
    pool(pb, 902, &execs(&ra, &a, "0x385", &exec_b, 902)?)?;
    let t = Instant::now();
    let (ra, rb) = both(json!([ja, n]), json!([jb, n]))?;
    let t_exec = t.elapsed();
    for r in [&ra, &rb] {
        let added = r["included"].as_array().cloned().unwrap_or_default();
        let valid = added.iter().filter(|t| t["executingMessages"][0]["valid"] == true).count();
        eyre::ensure!(valid as u64 == n, "{valid} of {n} messages executed valid");
    }
    let t = Instant::now();
    let sa = pa.control(901, "test_seal", json!([ja]))?;
    let sb = pb.control(902, "test_seal", json!([jb]))?;
    let t_seal = t.elapsed();
    for s in [&sa, &sb] {
        let txs = s["block"]["transactions"].as_array().map_or(0, Vec::len) as u64;
        eyre::ensure!(txs == 2 * n + 1, "a sealed block holds {txs} txs, not {}", 2 * n + 1);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let total = t_init + t_exec + t_seal;
    println!(
        "{where_}: {n} messages each way at one timestamp: initiating includes {:.1} ms, executing includes {:.1} ms, seals {:.1} ms; {:.1} µs per message",
        ms(t_init),
        ms(t_exec),
        ms(t_seal),
        total.as_secs_f64() * 1e6 / (2 * n) as f64
    );
    Ok(vec![
        (format!("{where_}: {n} messages each way, both initiating includes"), f64::NAN, ms(t_init), "ms"),
        (
            format!("{where_}: {n} messages each way, both executing includes (every message checked)"),
            f64::NAN,
            ms(t_exec),
            "ms",
        ),
        (format!("{where_}: {n} messages each way, both seals"), f64::NAN, ms(t_seal), "ms"),
        (
            format!("{where_}: {n} messages each way, per message (whole pair)"),
            f64::NAN,
            total.as_secs_f64() * 1e6 / (2 * n) as f64,
            "µs",
        ),
    ])
}

/// [`interop_latency`] and [`interop_throughput`] in one process and across two builder
/// processes (the five-component cluster with 901 and 902 built by separate builders).
fn interop(dir: &std::path::Path) -> eyre::Result<Vec<(String, f64, f64, &'static str)>> {
    let n: u64 = std::env::var("BENCH_INTEROP_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let mut rows = Vec::new();
    {
        let node = start_ours(&dir.join("interop"), 4 * n)?;
        rows.extend(interop_latency(&node, &node, "one process")?);
        rows.extend(interop_throughput(&node, &node, "one process", n)?);
    }
    let split = dir.join("interop-split");
    std::fs::create_dir_all(&split)?;
    let accounts = (4 * n).to_string();
    let cluster = opseq_e2e::Cluster::start_split(
        &split,
        &["--no-auto", "--gas-limit", &GAS_LIMIT.to_string(), "--dev.accounts", &accounts],
    )?;
    rows.extend(interop_latency(cluster.builder(), cluster.builder_b(), "two builder processes")?);
    rows.extend(interop_throughput(cluster.builder(), cluster.builder_b(), "two builder processes", n)?);
    Ok(rows)
}

/// One JSON-RPC call on a kept-alive connection; the result, or the error as an `Err`.
fn rpc(conn: &mut KeepAlive, path: &str, auth: &[(&str, &str)], method: &str, params: Value) -> eyre::Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let v: Value = serde_json::from_str(&conn.post(path, auth, &body)?)?;
    if let Some(e) = v.get("error") {
        eyre::bail!("{method}: {e}");
    }
    Ok(v["result"].clone())
}

/// `runs` test-API round trips of a one-tx block (`key`'s nonces from 0) on one kept-alive
/// connection, as a test harness would hold, with one JWT renewed every 30 s (it is valid for
/// 60 s around its `iat`): the totals, and per call (open, includeRaw, seal).
fn test_api_round_trips(
    ours: &Node,
    ours_proc: &Proc,
    key: &PrivateKeySigner,
    runs: u64,
) -> eyre::Result<(Vec<Duration>, [Vec<Duration>; 3])> {
    let dead = TxKind::Call(Address::repeat_byte(0xde));
    let path = format!("/chains/{CHAIN}");
    let mut conn = KeepAlive::connect(&ours.addr)?;
    let mut token = (Instant::now(), format!("Bearer {}", ours_proc.token()?));
    let mut totals = Vec::new();
    let mut steps: [Vec<Duration>; 3] = Default::default();
    for i in 0..runs {
        if token.0.elapsed() > Duration::from_secs(30) {
            token = (Instant::now(), format!("Bearer {}", ours_proc.token()?));
        }
        let auth = [("Authorization", token.1.as_str())];
        let raw = tx(key, i, dead, Bytes::new(), 21_000);
        let t = Instant::now();
        let job = rpc(&mut conn, &path, &auth, "test_open", json!([]))?["jobId"].clone();
        let t1 = t.elapsed();
        rpc(&mut conn, &path, &auth, "test_includeRaw", json!([job, raw]))?;
        let t2 = t.elapsed();
        rpc(&mut conn, &path, &auth, "test_seal", json!([job]))?;
        totals.push(t.elapsed());
        steps[0].push(t1);
        steps[1].push(t2 - t1);
        steps[2].push(t.elapsed() - t2);
    }
    Ok((totals, steps))
}

fn round_trip(
    anvil: &Node,
    ours: &Node,
    ours_proc: &Proc,
    key: &PrivateKeySigner,
) -> eyre::Result<Vec<(String, f64, f64, &'static str)>> {
    let mut rows = Vec::new();
    let dead = TxKind::Call(Address::repeat_byte(0xde));
    let runs = 1_000u64;
    let call = rpc;
    let path = format!("/chains/{CHAIN}");
    let mut conn = KeepAlive::connect(&ours.addr)?;
    let token = (Instant::now(), format!("Bearer {}", ours_proc.token()?));
    let (ours_t, steps) = test_api_round_trips(ours, ours_proc, key, runs)?;
    let [open, include, seal] = steps.map(|s| percentiles(s).0);
    println!("op-sequencer round trip p50 by call: open {open:.3} ms, includeRaw {include:.3} ms, seal {seal:.3} ms");
    // What one call costs with nothing to do (HTTP, JWT, dispatch, one actor hop).
    let mut idle = Vec::new();
    for _ in 0..runs {
        let auth = [("Authorization", token.1.as_str())];
        let t = Instant::now();
        call(&mut conn, &path, &auth, "test_auto", json!([]))?;
        idle.push(t.elapsed());
    }
    println!("op-sequencer idle control call (test_auto, status only) p50 {:.3} ms", percentiles(idle).0);
    let mut idle = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        call(&mut conn, &path, &[], "eth_chainId", json!([]))?;
        idle.push(t.elapsed());
    }
    println!("op-sequencer eth_chainId p50 {:.3} ms", percentiles(idle).0);
    let mut conn = KeepAlive::connect(&anvil.addr)?;
    let mut anvil_t = Vec::new();
    for i in 0..runs {
        let raw = tx(key, i, dead, Bytes::new(), 21_000);
        let t = Instant::now();
        call(&mut conn, "/", &[], "eth_sendRawTransaction", json!([raw]))?;
        call(&mut conn, "/", &[], "evm_mine", json!([]))?;
        anvil_t.push(t.elapsed());
    }
    let (op50, op99) = percentiles(ours_t);
    let (an50, an99) = percentiles(anvil_t);
    println!(
        "one-tx block round trip: anvil p50 {an50:.3} ms p99 {an99:.3} ms, op-sequencer p50 {op50:.3} ms p99 {op99:.3} ms"
    );
    rows.push(("one-tx block round trip, p50".into(), an50, op50, "ms"));
    rows.push(("one-tx block round trip, p99".into(), an99, op99, "ms"));
    // The same on a fresh node that fdatasyncs every commit (`--db.sync fsync`).
    let fdir = tempfile::tempdir()?;
    let fproc = start_ours_with(&fdir.path().join("ours"), 1, &["--db.sync", "fsync"])?;
    let fnode =
        Node { name: "op-sequencer --db.sync fsync", addr: fproc.http.clone(), path: format!("/chains/{CHAIN}") };
    let (fsync_t, _) = test_api_round_trips(&fnode, &fproc, &signer(0), runs)?;
    let (f50, f99) = percentiles(fsync_t);
    println!("one-tx block round trip with --db.sync fsync: p50 {f50:.3} ms p99 {f99:.3} ms");
    rows.push(("one-tx block round trip, p50, ours with --db.sync fsync".into(), an50, f50, "ms"));
    rows.push(("one-tx block round trip, p99, ours with --db.sync fsync".into(), an99, f99, "ms"));
    Ok(rows)
}

/// The hashes in our pool (`txpool_content`).
fn pooled_hashes(ours: &Node) -> eyre::Result<Vec<String>> {
    let c = ours.call("txpool_content", json!([]))?;
    let mut out = Vec::new();
    for side in ["pending", "queued"] {
        for (_, by_nonce) in c[side].as_object().cloned().unwrap_or_default() {
            for (_, t) in by_nonce.as_object().cloned().unwrap_or_default() {
                out.push(t["hash"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    Ok(out)
}

/// A 10k-transfer block built by the five-process cluster (every edge a gRPC call) and by one
/// process, same run: µs per sealed tx for each (goal: the cluster at ≥ 70% of one process's
/// throughput).
fn cluster_vs_process(dir: &std::path::Path) -> eyre::Result<(f64, f64)> {
    let n = 10_000u64;
    let env = [("OPSEQ_DEV_ACCOUNTS", "10000"), ("OPSEQ_GAS_LIMIT", "1000000000")];
    std::fs::create_dir_all(dir.join("cluster"))?;
    let cluster = Cluster::start_env(&dir.join("cluster"), &["--no-auto"], &env)?;
    let single_proc = start_ours(&dir.join("single"), n)?;
    let dead = TxKind::Call(Address::repeat_byte(0xde));
    let single = Node { name: "one process", addr: single_proc.http.clone(), path: format!("/chains/{CHAIN}") };
    let five = Node { name: "five processes", addr: cluster.builder().http.clone(), path: format!("/chains/{CHAIN}") };
    // Five blocks each, alternating (this machine's noise moves single runs by ±30%): medians.
    let (mut ones, mut manys) = (Vec::new(), Vec::new());
    for nonce in 0..5u64 {
        let txs: Vec<String> = (0..n).map(|i| tx(&signer(i), nonce, dead, Bytes::new(), 21_000)).collect();
        ones.push(seal(&single, &txs)?);
        manys.push(seal(&five, &txs)?);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("10k-transfer blocks, µs/tx: one process {ones:.1?}, five processes {manys:.1?}");
    let (one, many) = (median(ones), median(manys));
    println!(
        "10k transfers, one block (median of 5): one process {one:.1} µs/tx, five processes {many:.1} µs/tx (cluster at {:.0}% of one process)",
        100.0 * one / many
    );
    Ok((one, many))
}

/// Remote state (issue 7): a block of 1,000 transfers to fresh accounts built on another node's
/// state over loopback JSON-RPC, cold (nothing fetched yet) and warm (the same accounts again),
/// by anvil's fork mode and by `op-sequencer dev --fork.url`, both forking the same upstream
/// anvil at the same block. Timed from the first send to the mined block (the pool's sender
/// reads, execution's reads, and for us the proofs of the state root); µs per tx. Two upstream
/// sizes: 20 funded senders (50 txs each; anvil's own state is a few dozen accounts) and 1,000
/// (one tx each; ~1k accounts, where anvil's O(state) `eth_getProof` costs ~1 ms a call).
fn remote_state(dir: &std::path::Path) -> eyre::Result<Vec<(String, f64, f64, &'static str)>> {
    let mut rows = remote_case(&dir.join("small"), 20)?;
    rows.extend(remote_case(&dir.join("large"), 1_000)?);
    Ok(rows)
}

fn remote_case(dir: &std::path::Path, senders: u64) -> eyre::Result<Vec<(String, f64, f64, &'static str)>> {
    let n = 1_000u64;
    let per_sender = n / senders;
    std::fs::create_dir_all(dir)?;
    let upstream = Anvil::start(&["--hardfork", "prague"])?;
    let up = Node { name: "upstream", addr: upstream.addr.clone(), path: "/".into() };
    up.batch(
        (0..senders).map(|i| ("anvil_setBalance", json!([signer(i).address(), "0x3635c9adc5dea00000"]))).collect(),
    )?;
    up.call("evm_mine", json!([]))?;
    let block = hex_u64(&up.call("eth_blockNumber", json!([]))?)?.to_string();
    let anvil_fork = Anvil::start(&["--fork-url", &upstream.url(), "--fork-block-number", &block, "--no-mining"])?;
    let theirs = Node { name: "anvil --fork-url", addr: anvil_fork.addr.clone(), path: "/".into() };
    let args: Vec<String> = ["dev", "--no-auto", "--datadir", dir.join("data").to_str().unwrap()]
        .into_iter()
        .map(str::to_string)
        .chain(["--fork.url".into(), upstream.url(), "--fork.block".into(), block.clone()])
        .chain(["--grpc.addr".into(), format!("127.0.0.1:{}", free_port())])
        .collect();
    let mut p = Proc::spawn(&args, free_port(), dir.join("op-sequencer.log"))?;
    p.wait_ready(Duration::from_secs(60))?;
    let ours = Node { name: "op-sequencer --fork.url", addr: p.http.clone(), path: "/chains/31337".into() };
    let transfers = |round: u64| -> Vec<String> {
        (0..n)
            .map(|i| {
                let to = TxKind::Call(Address::left_padding_from(&(0xf0_0000 + i).to_be_bytes()));
                let t = TxEip1559 {
                    chain_id: 31337,
                    nonce: round * per_sender + i / senders,
                    gas_limit: 21_000,
                    max_fee_per_gas: 100_000_000_000,
                    max_priority_fee_per_gas: 1_000_000,
                    to,
                    value: U256::from(1 + i),
                    access_list: Default::default(),
                    input: Bytes::new(),
                };
                let sig = signer(i % senders).sign_hash_sync(&t.signature_hash()).expect("signs");
                format!("0x{}", hex::encode(TxEnvelope::from(t.into_signed(sig)).encoded_2718()))
            })
            .collect()
    };
    let mut rows = Vec::new();
    let what = format!("1k transfers to fresh accounts from {senders} senders");
    for (label, round) in [(format!("{what}, cold"), 0), (format!("{what}, warm (same block again)"), 1)] {
        let txs = transfers(round);
        let mut per_tx = [0f64; 2];
        for (k, node) in [&theirs, &ours].into_iter().enumerate() {
            let t = Instant::now();
            node.batch(txs.iter().map(|t| ("eth_sendRawTransaction", json!([t]))).collect())?;
            node.call("evm_mine", json!([]))?;
            per_tx[k] = t.elapsed().as_secs_f64() * 1e6 / n as f64;
            let b = node.call("eth_getBlockByNumber", json!(["latest", false]))?;
            let count = b["transactions"].as_array().map_or(0, Vec::len);
            eyre::ensure!(count == n as usize, "{}: the block holds {count} txs", node.name);
            println!("{label}: {} {:.1} µs/tx, stateRoot {}", node.name, per_tx[k], b["stateRoot"]);
        }
        rows.push((label, per_tx[0], per_tx[1], "µs/tx"));
    }
    Ok(rows)
}

fn main() -> eyre::Result<()> {
    // BENCH_KEEP_DIR keeps the nodes' data and logs for a look afterwards.
    let keep = std::env::var("BENCH_KEEP_DIR").is_ok();
    let dir = tempfile::Builder::new().prefix("opseq-bench").disable_cleanup(keep).tempdir()?;
    if keep {
        println!("bench directory (kept): {}", dir.path().display());
    }
    if std::env::var("BENCH_ONLY_CLUSTER").is_ok() {
        cluster_vs_process(dir.path())?;
        return Ok(());
    }
    if std::env::var("BENCH_ONLY_REMOTE").is_ok() {
        return print_remote(&remote_state(dir.path())?);
    }
    if std::env::var("BENCH_ONLY_STATE").is_ok() {
        return state_size(&dir);
    }
    if std::env::var("BENCH_ONLY_ROUNDTRIP").is_ok() {
        let anvil_port = free_port();
        let mut anvil_proc = start_anvil(anvil_port, &dir.path().join("anvil-cache"))?;
        let anvil = Node { name: "anvil", addr: format!("127.0.0.1:{anvil_port}"), path: "/".into() };
        let ours_proc = start_ours(&dir.path().join("ours"), 1)?;
        let ours = Node { name: "op-sequencer", addr: ours_proc.http.clone(), path: format!("/chains/{CHAIN}") };
        let key = signer(0);
        anvil.call("anvil_setBalance", json!([key.address(), "0x21e19e0c9bab2400000"]))?;
        // BENCH_ROUNDTRIP_AFTER_BLOCKS: ours first mines that many empty blocks (a long-lived
        // devnet's store, its checkpoints busy); anvil stays fresh (it cannot mine 100k in time).
        if let Some(n) = std::env::var("BENCH_ROUNDTRIP_AFTER_BLOCKS").ok().and_then(|s| s.parse::<u64>().ok()) {
            let per_block = empty_blocks(&ours, n, Duration::from_secs(3600))?.expect("within an hour");
            println!("op-sequencer mined {n} empty blocks first ({per_block:.3} ms/block at the end)");
        }
        let rows = round_trip(&anvil, &ours, &ours_proc, &key)?;
        let _ = anvil_proc.kill();
        print_rows(&rows);
        return Ok(());
    }
    if std::env::var("BENCH_ONLY_SYNC").is_ok() {
        return sync_calls(dir.path());
    }
    if std::env::var("BENCH_ONLY_INTEROP").is_ok() {
        print_ours(&interop(dir.path())?);
        return Ok(());
    }
    if std::env::var("BENCH_ONLY_INGEST").is_ok() {
        // The pool and test-API rows alone (a quick run): 2,300 senders.
        let senders = 2_300u64;
        let anvil_port = free_port();
        let mut anvil_proc = start_anvil(anvil_port, &dir.path().join("anvil-cache"))?;
        let anvil = Node { name: "anvil", addr: format!("127.0.0.1:{anvil_port}"), path: "/".into() };
        let ours_proc = start_ours(&dir.path().join("ours"), senders)?;
        let ours = Node { name: "op-sequencer", addr: ours_proc.http.clone(), path: format!("/chains/{CHAIN}") };
        let keys: Vec<PrivateKeySigner> = (0..senders).map(signer).collect();
        anvil.batch(
            keys.iter().map(|k| ("anvil_setBalance", json!([k.address(), "0x21e19e0c9bab2400000"]))).collect(),
        )?;
        let rows = ingest_and_round_trip(&anvil, &ours, &ours_proc, &keys, 0)?;
        let _ = anvil_proc.kill();
        print_rows(&rows);
        return Ok(());
    }
    let senders: u64 = 21_000;
    println!("starting anvil and op-sequencer ({senders} prefunded senders)…");
    let anvil_port = free_port();
    let mut anvil_proc = start_anvil(anvil_port, &dir.path().join("anvil-cache"))?;
    let anvil = Node { name: "anvil", addr: format!("127.0.0.1:{anvil_port}"), path: "/".into() };
    let ours_proc = start_ours(&dir.path().join("ours"), senders + 2_300)?;
    let ours = Node { name: "op-sequencer", addr: ours_proc.http.clone(), path: format!("/chains/{CHAIN}") };
    let keys: Vec<PrivateKeySigner> = (0..senders).map(signer).collect();
    anvil.batch(keys.iter().map(|k| ("anvil_setBalance", json!([k.address(), "0x21e19e0c9bab2400000"]))).collect())?;

    let dead = TxKind::Call(Address::repeat_byte(0xde));
    let transfers = |range: std::ops::Range<u64>| -> Vec<String> {
        range.map(|i| tx(&keys[i as usize], 0, dead, Bytes::new(), 21_000)).collect()
    };
    let mut rows: Vec<(String, f64, f64, &str)> = Vec::new();
    for (label, range) in [("1k ETH transfers, one block", 0..1_000), ("10k ETH transfers, one block", 1_000..11_000)] {
        let txs = transfers(range);
        let a = seal(&anvil, &txs)?;
        let o = seal(&ours, &txs)?;
        println!("{label}: anvil {a:.1} µs/tx, op-sequencer {o:.1} µs/tx");
        rows.push((label.into(), a, o, "µs/tx"));
    }
    // ERC20-style transfers: deploy the token (dev key 0 on both), then 10k distinct senders.
    let deployer: PrivateKeySigner = KEY0.parse()?;
    let deploy = tx(&deployer, 0, TxKind::Create, Bytes::from(hex::decode(TOKEN_INIT)?), 200_000);
    for n in [&anvil, &ours] {
        n.batch(vec![("eth_sendRawTransaction", json!([deploy]))])?;
        n.call("evm_mine", json!([]))?;
        let code = n.call("eth_getCode", json!([deployer.address().create(0), "latest"]))?;
        eyre::ensure!(
            code.as_str().map(|c| (c.len() - 2) / 2) == Some(token_runtime_len()),
            "{}: token not deployed: {code}",
            n.name
        );
    }
    let token = TxKind::Call(deployer.address().create(0));
    let erc20: Vec<String> = (11_000..21_000u64)
        .map(|i| {
            let mut data = hex::decode("a9059cbb").unwrap();
            data.extend_from_slice(&[0u8; 12]);
            data.extend_from_slice(Address::repeat_byte(0xbe).as_slice());
            data.extend_from_slice(&U256::from(i).to_be_bytes::<32>());
            tx(&keys[i as usize], 0, token, Bytes::from(data), 100_000)
        })
        .collect();
    let a = seal(&anvil, &erc20)?;
    let o = seal(&ours, &erc20)?;
    println!("10k ERC20 transfers: anvil {a:.1} µs/tx, op-sequencer {o:.1} µs/tx");
    rows.push(("10k ERC20 transfers, one block".into(), a, o, "µs/tx"));
    // Same check on both: the recipient holds the sum of the amounts.
    for n in [&anvil, &ours] {
        let v = n.call(
            "eth_getStorageAt",
            json!([
                deployer.address().create(0),
                format!("{:#x}", U256::from_be_slice(Address::repeat_byte(0xbe).as_slice())),
                "latest"
            ]),
        )?;
        let want = U256::from((11_000..21_000u64).sum::<u64>());
        eyre::ensure!(
            U256::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16)? == want,
            "{}: token balance {v}",
            n.name
        );
    }
    if std::env::var("BENCH_ONLY_SEALED").is_ok() {
        let _ = anvil_proc.kill();
        print_rows(&rows);
        return Ok(());
    }

    // Empty blocks, timed in runs of 1,000 after 1k, 10k and 100k blocks.
    let budget =
        Duration::from_secs(std::env::var("BENCH_ANVIL_BUDGET_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(120));
    let max_blocks: u64 = std::env::var("BENCH_MAX_BLOCKS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    for target in [1_000u64, 10_000, 100_000].into_iter().filter(|t| *t <= max_blocks) {
        let o = empty_blocks(&ours, target, Duration::from_secs(3600))?.expect("ours within an hour");
        let a = empty_blocks(&anvil, target, budget)?;
        match a {
            Some(a) => {
                println!("empty blocks after {target}: anvil {a:.3} ms/block, op-sequencer {o:.3} ms/block");
                rows.push((format!("empty block after {target} blocks"), a, o, "ms/block"));
            }
            None => {
                println!(
                    "empty blocks after {target}: anvil did not reach {target} blocks within {budget:?} (skipped), op-sequencer {o:.3} ms/block"
                );
                rows.push((format!("empty block after {target} blocks"), f64::NAN, o, "ms/block"));
            }
        }
    }
    // Pool ingest and the test-API round trip, with the senders no scenario above used.
    let more: Vec<PrivateKeySigner> = (senders..senders + 2_300).map(signer).collect();
    anvil.batch(more.iter().map(|k| ("anvil_setBalance", json!([k.address(), "0x21e19e0c9bab2400000"]))).collect())?;
    rows.extend(ingest_and_round_trip(&anvil, &ours, &ours_proc, &more, 0)?);
    let _ = anvil_proc.kill();
    drop(ours_proc);

    print_rows(&rows);
    print_ours(&interop(dir.path())?);
    let (one, many) = cluster_vs_process(dir.path())?;
    println!(
        "\n| 10k transfers, one block | one process | five processes | cluster throughput / one process |\n| --- | --- | --- | --- |\n| µs per sealed tx | {one:.1} | {many:.1} | {:.0}% |",
        100.0 * one / many
    );
    state_size(&dir)?;
    print_remote(&remote_state(dir.path())?)?;
    sync_calls(dir.path())
}

/// Sync calls (issue 17; ours only): `tests/e2e/py/sync_bench.py` against a manual node with nine
/// L2s (latency, hops, gas) and an auto-mode node with two (bundles per block pair).
fn sync_calls(dir: &std::path::Path) -> eyre::Result<()> {
    let contracts = opseq_e2e::compile_contracts(dir)?;
    let l2s: String = (901..=909).map(|c| format!("  - chainId: {c}\n")).collect();
    let nine = dir.join("sync-nine.yaml");
    std::fs::write(&nine, format!("l2s:\n{l2s}"))?;
    let two = dir.join("sync-two.yaml");
    std::fs::write(&two, "l2s:\n  - chainId: 901\n  - chainId: 902\n")?;
    let manual = opseq_e2e::dev(&dir.join("sync-manual"), &["--no-auto", "--devnet.config", nine.to_str().unwrap()])?;
    let auto = opseq_e2e::dev(&dir.join("sync-auto"), &["--devnet.config", two.to_str().unwrap()])?;
    let calls = std::env::var("BENCH_SYNC_CALLS").unwrap_or_else(|_| "50".into());
    let out = opseq_e2e::python(
        "sync_bench.py",
        &[
            "--manual",
            &format!("http://{}", manual.http),
            "--jwt-manual",
            dir.join("sync-manual/jwt.hex").to_str().unwrap(),
            "--auto",
            &format!("http://{}", auto.http),
            "--jwt-auto",
            dir.join("sync-auto/jwt.hex").to_str().unwrap(),
            "--contracts",
            contracts.to_str().unwrap(),
            "--key",
            opseq_e2e::KEY1,
            "--calls",
            &calls,
        ],
    )?;
    println!("{out}");
    Ok(())
}

fn print_remote(rows: &[(String, f64, f64, &str)]) -> eyre::Result<()> {
    println!(
        "\n| scenario | anvil 1.7.1 --fork-url | op-sequencer --fork.url | anvil / op-sequencer |\n| --- | --- | --- | --- |"
    );
    for (label, a, o, unit) in rows {
        println!("| {label} | {a:.1} {unit} | {o:.1} {unit} | {:.2}× |", a / o);
    }
    Ok(())
}

/// Rows with no anvil counterpart (anvil has no cross-chain messaging).
fn print_ours(rows: &[(String, f64, f64, &str)]) {
    println!("\n| scenario | op-sequencer |\n| --- | --- |");
    for (label, _, o, unit) in rows {
        println!("| {label} | {o:.3} {unit} |");
    }
}

fn print_rows(rows: &[(String, f64, f64, &str)]) {
    println!("\n| scenario | anvil 1.7.1 | op-sequencer | anvil / op-sequencer |\n| --- | --- | --- | --- |");
    for (label, a, o, unit) in rows {
        if a.is_nan() {
            println!("| {label} | not reached within the budget | {o:.3} {unit} | – |");
        } else {
            println!("| {label} | {a:.3} {unit} | {o:.3} {unit} | {:.1}× |", a / o);
        }
    }
}

fn state_size(dir: &tempfile::TempDir) -> eyre::Result<()> {
    let dead = TxKind::Call(Address::repeat_byte(0xde));
    // State size: op-sequencer alone, 10k vs 1M accounts (anvil cannot be loaded with 1M accounts
    // in a reasonable time through its RPC, so this row is about our flatness, not a ratio).
    let mut state_rows = Vec::new();
    let big: u64 = std::env::var("BENCH_BIG_STATE").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    for accounts in [10_000u64, big] {
        let t = Instant::now();
        let p = start_ours(&dir.path().join(format!("state-{accounts}")), accounts)?;
        let start = t.elapsed();
        let node = Node { name: "op-sequencer", addr: p.http.clone(), path: format!("/chains/{CHAIN}") };
        let txs: Vec<String> = (0..1_000).map(|i| tx(&signer(i), 0, dead, Bytes::new(), 21_000)).collect();
        let per_tx = seal(&node, &txs)?;
        let per_block = empty_blocks(&node, 1_000, Duration::from_secs(3600))?.expect("within an hour");
        // The same block again, a thousand blocks later: the first one right after the start
        // competes with the store moving the genesis into sled in the background.
        let txs: Vec<String> = (0..1_000).map(|i| tx(&signer(i), 1, dead, Bytes::new(), 21_000)).collect();
        let per_tx_later = seal(&node, &txs)?;
        println!(
            "state of {accounts} accounts: 1k transfers {per_tx:.1} µs/tx (after 1k blocks {per_tx_later:.1}), empty block {per_block:.3} ms (genesis + start {start:.1?})"
        );
        state_rows.push((accounts, per_tx, per_tx_later, per_block));
    }

    println!(
        "\n| op-sequencer state size | 1k transfers, first block | 1k transfers, after 1k blocks | empty block |\n| --- | --- | --- | --- |"
    );
    for (n, t, later, b) in &state_rows {
        println!("| {n} accounts | {t:.1} µs/tx | {later:.1} µs/tx | {b:.3} ms |");
    }
    Ok(())
}
