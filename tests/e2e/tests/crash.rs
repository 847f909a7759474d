//! Crash safety of the five-process cluster (issue 6): under a load of transfers on chains 901
//! and 902 with automatic sequencing on, each component is killed with SIGKILL in turn and
//! restarted on the same data. Every tx whose `eth_sendRawTransaction` returned a hash is mined
//! exactly once, no height ever shows two blocks, sequencing resumes within 5 s of each restart,
//! and while a component is down the builder's `/readyz` names it and calls that need it fail
//! with an error that says so.
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use opseq_e2e::{Cluster, hex_u64, http};
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

const CHAINS: [u64; 2] = [901, 902];
/// Prefunded senders per chain (`--dev.accounts`; chain 901 uses the first half).
const SENDERS: u64 = 24;
/// Txs per sender, sent one nonce per round.
const NONCES: u64 = 60;

fn transfer(key: &PrivateKeySigner, chain_id: u64, nonce: u64) -> (B256, String) {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(Address::repeat_byte(0xde)),
        value: U256::from(1u64),
        access_list: Default::default(),
        input: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("signs");
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    (keccak256(&raw), format!("0x{}", alloy_primitives::hex::encode(raw)))
}

/// What the load saw of each tx.
#[derive(Default)]
struct Sent {
    /// Hashes `eth_sendRawTransaction` answered with.
    accepted: HashSet<B256>,
    /// Sends answered "nonce too low" on a retry: the first attempt went in although its answer
    /// was lost (checked to be mined like the others).
    accepted_before: HashSet<B256>,
    /// Errors seen, by message, and how often.
    errors: BTreeMap<String, usize>,
}

/// Sends every chain's txs in rounds (one nonce per sender per round, one JSON-RPC batch per
/// chain), retrying the ones that failed in later rounds, until all were accepted.
fn load(http_addr: String, sent: Arc<Mutex<HashMap<u64, Sent>>>, stop: Arc<AtomicBool>) -> eyre::Result<()> {
    let keys: Vec<PrivateKeySigner> = (0..SENDERS * 2)
        .map(|i| PrivateKeySigner::from_bytes(&opseq_primitives::derived_dev_key(i)).expect("valid key"))
        .collect();
    let mut todo: HashMap<u64, Vec<(B256, String)>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    for round in 0.. {
        if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
            eyre::bail!("load stopped before every tx was accepted");
        }
        for (c, chain) in CHAINS.iter().enumerate() {
            let pending = todo.entry(*chain).or_default();
            if round < NONCES {
                for k in &keys[c * SENDERS as usize..(c + 1) * SENDERS as usize] {
                    pending.push(transfer(k, *chain, round));
                }
            }
            if pending.is_empty() {
                continue;
            }
            let batch: Vec<Value> = pending
                .iter()
                .enumerate()
                .map(|(i, (_, raw))| json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}))
                .collect();
            let answers = match http("POST", &http_addr, &format!("/chains/{chain}"), &Value::Array(batch).to_string())
            {
                Ok((200, body)) => serde_json::from_str::<Vec<Value>>(&body).unwrap_or_default(),
                _ => Vec::new(),
            };
            let mut sent = sent.lock().unwrap();
            let s = sent.entry(*chain).or_default();
            let mut answered: HashMap<u64, Value> =
                answers.into_iter().filter_map(|a| Some((a["id"].as_u64()?, a))).collect();
            let mut retry = Vec::new();
            for (i, (hash, raw)) in pending.drain(..).enumerate() {
                match answered.remove(&(i as u64)) {
                    Some(a) if a["result"].is_string() => {
                        assert_eq!(a["result"].as_str().unwrap().parse::<B256>()?, hash, "answered hash");
                        s.accepted.insert(hash);
                    }
                    Some(a) => {
                        let msg = a["error"]["message"].as_str().unwrap_or_default().to_string();
                        if msg.starts_with("nonce too low") {
                            s.accepted_before.insert(hash);
                        } else {
                            *s.errors.entry(msg.chars().take(60).collect()).or_default() += 1;
                            retry.push((hash, raw));
                        }
                    }
                    None => {
                        *s.errors.entry("no answer (the builder is down)".into()).or_default() += 1;
                        retry.push((hash, raw));
                    }
                }
            }
            *pending = retry;
        }
        if round >= NONCES && todo.values().all(Vec::is_empty) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    unreachable!()
}

/// Every block hash seen at each (chain, height).
type Seen = Arc<Mutex<HashMap<(u64, u64), HashSet<String>>>>;

/// Polls both chains' heads every 50 ms; records every hash seen at each height.
fn watch(http_addr: String, seen: Seen, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        for chain in CHAINS {
            let body =
                json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", false]});
            if let Ok((200, text)) = http("POST", &http_addr, &format!("/chains/{chain}"), &body.to_string())
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && let (Ok(n), Some(h)) = (hex_u64(&v["result"]["number"]), v["result"]["hash"].as_str())
            {
                seen.lock().unwrap().entry((chain, n)).or_default().insert(h.to_string());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn heads(cluster: &Cluster) -> eyre::Result<[u64; 2]> {
    Ok([cluster.builder().head(CHAINS[0])?, cluster.builder().head(CHAINS[1])?])
}

/// Waits until both chains are past `from` (each), at most `limit`.
fn resumed(cluster: &Cluster, from: [u64; 2], limit: Duration) -> eyre::Result<()> {
    let t = Instant::now();
    loop {
        if let Ok(h) = heads(cluster)
            && h[0] > from[0]
            && h[1] > from[1]
        {
            return Ok(());
        }
        eyre::ensure!(t.elapsed() < limit, "sequencing did not resume within {limit:?} (heads at {from:?})");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_component_killed_in_turn_under_load_loses_nothing_and_never_forks() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let accounts = (SENDERS * 2).to_string();
    let mut cluster = Cluster::start_env(
        dir.path(),
        &["--l2.block-time", "1", "--l1.block-time", "2"],
        &[("OPSEQ_DEV_ACCOUNTS", accounts.as_str())],
    )?;
    let front = cluster.builder().http.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let sent: Arc<Mutex<HashMap<u64, Sent>>> = Arc::default();
    let seen: Seen = Arc::default();
    let loader = {
        let (front, sent, stop) = (front.clone(), Arc::clone(&sent), Arc::clone(&stop));
        std::thread::spawn(move || load(front, sent, stop))
    };
    let watcher = {
        let (front, seen, stop) = (front.clone(), Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || watch(front, seen, stop))
    };
    let result = (|| -> eyre::Result<()> {
        resumed(&cluster, heads(&cluster)?, Duration::from_secs(10))?;
        for name in ["txpool", "builder", "state-fetcher", "signer", "publisher"] {
            std::thread::sleep(Duration::from_secs(2));
            cluster.kill9(name);
            let down = Instant::now();
            if name != "builder" {
                // The front is up: readiness names the missing component, and a call that
                // needs it fails saying so.
                let body = loop {
                    let (code, body) = http("GET", &front, "/readyz", "")?;
                    if code == 503 && body.contains(&format!("\"{name}\"")) {
                        break body;
                    }
                    eyre::ensure!(down.elapsed() < Duration::from_secs(10), "/readyz never named {name}: {body}");
                    std::thread::sleep(Duration::from_millis(100));
                };
                assert!(body.contains("missing"), "{body}");
                let (method, params) = match name {
                    "txpool" => ("txpool_status", json!([])),
                    "state-fetcher" => ("eth_getBalance", json!([Address::ZERO, "latest"])),
                    _ => ("evm_mine", json!([])),
                };
                let v = cluster.builder().rpc_raw(901, method, params)?;
                let msg = v["error"]["message"].as_str().unwrap_or_default();
                assert!(msg.contains(&format!("{name} unreachable")), "{method} with {name} down: {v}");
            } else {
                assert!(http("GET", &front, "/healthz", "").is_err(), "the builder still answers");
            }
            std::thread::sleep(Duration::from_secs(1));
            let before = Instant::now();
            cluster.restart(name)?;
            let at = heads(&cluster).or_else(|_| {
                std::thread::sleep(Duration::from_millis(200));
                heads(&cluster)
            })?;
            resumed(&cluster, at, Duration::from_secs(5).saturating_sub(before.elapsed()))?;
            eprintln!(
                "{name}: down {:.1} s, sequencing resumed {:.2} s after the restart began",
                before.duration_since(down).as_secs_f64(),
                before.elapsed().as_secs_f64()
            );
        }
        Ok(())
    })();
    let loaded = if result.is_ok() { loader.join().expect("load thread") } else { Ok(()) };
    stop.store(true, Ordering::Relaxed);
    watcher.join().expect("watch thread");
    result?;
    loaded?;

    // Everything sent is mined: every sender's nonce reached NONCES (within 60 s).
    let b = cluster.builder();
    for (c, chain) in CHAINS.iter().enumerate() {
        let t = Instant::now();
        for i in c as u64 * SENDERS..(c as u64 + 1) * SENDERS {
            let who = PrivateKeySigner::from_bytes(&opseq_primitives::derived_dev_key(i))?.address();
            while hex_u64(&b.rpc(*chain, "eth_getTransactionCount", json!([who, "latest"]))?)? < NONCES {
                eyre::ensure!(t.elapsed() < Duration::from_secs(60), "chain {chain}: txs of {who} not mined");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    // Exactly once: each tx appears once in the canonical chain, and no height ever showed
    // another block than the canonical one.
    let sent = sent.lock().unwrap();
    let seen = seen.lock().unwrap();
    for chain in CHAINS {
        let s = &sent[&chain];
        let head = b.head(chain)?;
        let mut mined: HashMap<B256, u32> = HashMap::new();
        let mut canonical = HashMap::new();
        for n in 1..=head {
            let block = b.rpc(chain, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]))?;
            canonical.insert(n, block["hash"].as_str().unwrap_or_default().to_string());
            for h in block["transactions"].as_array().into_iter().flatten() {
                *mined.entry(h.as_str().unwrap_or_default().parse()?).or_default() += 1;
            }
        }
        let ours: HashSet<&B256> = s.accepted.iter().chain(&s.accepted_before).collect();
        assert_eq!(ours.len() as u64, SENDERS * NONCES, "chain {chain}: every tx got an answer");
        for h in &ours {
            assert_eq!(mined.get(*h).copied().unwrap_or(0), 1, "chain {chain}: tx {h} mined once");
        }
        for ((c, n), hashes) in seen.iter().filter(|((c, _), _)| *c == chain) {
            assert_eq!(hashes.len(), 1, "chain {c}: height {n} showed blocks {hashes:?}");
            assert!(
                canonical.get(n).is_none_or(|h| hashes.contains(h)),
                "chain {c}: height {n} showed {hashes:?}, canonical is {:?}",
                canonical.get(n)
            );
        }
        eprintln!(
            "chain {chain}: {} txs answered with a hash, {} found mined on a retry, {} heights watched, errors seen while components were down: {:?}",
            s.accepted.len(),
            s.accepted_before.len(),
            seen.keys().filter(|(c, _)| *c == chain).count(),
            s.errors
        );
    }
    // The chain store never replaced a committed block (it logs every reorg it performs).
    for entry in std::fs::read_dir(dir.path())? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        if name.starts_with("state-fetcher.") && name.ends_with(".log") {
            let log = std::fs::read_to_string(&path)?;
            assert!(!log.contains("reorged_out"), "{name}: the store reorged:\n{log}");
        }
    }
    drop(sent);
    drop(seen);

    // The sequencing mode survives a crash too: stop 902, kill the builder, restart it.
    b.control(902, "test_auto", json!([false]))?;
    cluster.kill9("builder");
    cluster.restart("builder")?;
    let b = cluster.builder();
    assert_eq!(b.control(902, "test_auto", json!([]))?["active"], json!(false));
    let stopped = b.head(902)?;
    resumed_one(&cluster, 901)?;
    assert_eq!(b.head(902)?, stopped, "902 was stopped before the crash and stays stopped");
    Ok(())
}

fn resumed_one(cluster: &Cluster, chain: u64) -> eyre::Result<()> {
    let from = cluster.builder().head(chain)?;
    let t = Instant::now();
    while cluster.builder().head(chain)? < from + 2 {
        eyre::ensure!(t.elapsed() < Duration::from_secs(10), "chain {chain} did not advance");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
