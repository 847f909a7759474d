//! Remote state (issue 7): `op-sequencer dev --fork.url` builds on anvil's state over JSON-RPC,
//! and the block it seals has the state root, receipts root and gas used that anvil itself
//! computes when it mines the same txs in the same order on the same parent.
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use opseq_e2e::*;
use serde_json::{Value, json};

const CHAIN: u64 = 31337;
/// A contract that stores `BLOCKHASH(NUMBER - 2)` in its slot 0.
const BLOCKHASH_PROBE: &str = "0x00000000000000000000000000000000000b10c4";

fn signer(i: u64) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&opseq_primitives::derived_dev_key(i)).expect("valid key")
}

fn token_transfer(to: Address, amount: U256) -> Bytes {
    let mut data = alloy_primitives::hex::decode("a9059cbb").expect("hex");
    data.extend_from_slice(B256::left_padding_from(to.as_slice()).as_slice());
    data.extend_from_slice(&amount.to_be_bytes::<32>());
    Bytes::from(data)
}

/// anvil with a state worth forking: funded senders and a token whose holders' balances live
/// in storage (slot = holder address).
///
/// anvil does not apply EIP-161: its in-memory database keeps a touched empty account, and a
/// zero-value call creates one (`eth_getProof` after such a block proves it). `EMPTY` is such an
/// account, made by a zero-value call at set-up; the third block touches it (Ethereum deletes
/// it) and makes anvil create another, and the oracle deletes both from anvil's trie.
struct Upstream {
    anvil: Anvil,
    token: Address,
}

/// An empty account in anvil's state at the fork point.
const EMPTY: Address = Address::new([0xe0; 20]);
/// A missing account a zero-value call touches (anvil creates it, Ethereum does not).
const UNTOUCHED: Address = Address::new([0xe1; 20]);

fn upstream() -> eyre::Result<Upstream> {
    // Prague: our L1 rules; FIFO: anvil mines txs in the order they arrive, as we include them.
    let anvil = Anvil::start(&["--hardfork", "prague", "--order", "fifo", "--chain-id", &CHAIN.to_string()])?;
    let deployer: PrivateKeySigner = KEY0.parse()?;
    let deploy = sign_eip1559(
        &deployer,
        CHAIN,
        0,
        TxKind::Create,
        U256::ZERO,
        Bytes::from(alloy_primitives::hex::decode(TOKEN_INIT)?),
        200_000,
        100_000_000_000,
    )?;
    anvil.rpc("eth_sendRawTransaction", json!([deploy]))?;
    let token = deployer.address().create(0);
    let touch =
        sign_eip1559(&deployer, CHAIN, 1, TxKind::Call(EMPTY), U256::ZERO, Bytes::new(), 21_000, 100_000_000_000)?;
    anvil.rpc("eth_sendRawTransaction", json!([touch]))?;
    for i in 0..40 {
        anvil.rpc("anvil_setBalance", json!([signer(i).address(), "0x3635c9adc5dea00000"]))?;
    }
    // Holders 0..200 hold 1000 + i tokens (senders 0..40 among them).
    for i in 0..200u64 {
        let slot = B256::left_padding_from(signer(i).address().as_slice());
        anvil.rpc("anvil_setStorageAt", json!([token, slot, B256::from(U256::from(1000 + i))]))?;
    }
    // BLOCKHASH(NUMBER - 2) into slot 0: in our first block that is a block below the fork
    // point, which only the upstream knows.
    anvil.rpc("anvil_setCode", json!([BLOCKHASH_PROBE, "0x600243034060005500"]))?;
    anvil.rpc("evm_mine", json!([]))?;
    anvil.rpc("evm_setAutomine", json!([false]))?;
    Ok(Upstream { anvil, token })
}

const FEE: u128 = 100_000_000_000;

/// Block 1, no slot cleared: ETH transfers to fresh accounts, token transfers into fresh slots
/// and into a held one, a sender with two txs.
fn first_block(up: &Upstream) -> eyre::Result<Vec<String>> {
    let mut out = Vec::new();
    for i in 20..26u64 {
        let to = Address::left_padding_from(&(0xf000 + i).to_be_bytes());
        out.push(sign_eip1559(
            &signer(i),
            CHAIN,
            0,
            TxKind::Call(to),
            U256::from(1_000 + i),
            Bytes::new(),
            21_000,
            FEE,
        )?);
    }
    for i in 6..12u64 {
        let to = if i < 9 { signer(11).address() } else { Address::left_padding_from(&(0xc000 + i).to_be_bytes()) };
        let part = token_transfer(to, U256::from(7));
        out.push(sign_eip1559(&signer(i), CHAIN, 0, TxKind::Call(up.token), U256::ZERO, part, 100_000, FEE)?);
    }
    let probe = TxKind::Call(BLOCKHASH_PROBE.parse()?);
    out.push(sign_eip1559(&signer(31), CHAIN, 0, probe, U256::ZERO, Bytes::new(), 60_000, FEE)?);
    let to = TxKind::Call(signer(20).address());
    out.push(sign_eip1559(&signer(30), CHAIN, 0, to, U256::from(5), Bytes::new(), 21_000, FEE)?);
    out.push(sign_eip1559(&signer(30), CHAIN, 1, to, U256::from(6), Bytes::new(), 21_000, FEE)?);
    Ok(out)
}

/// Block 2: holders 0..6 send their whole balance to fresh accounts (six slots cleared, some
/// collapsing a branch onto a sibling no proof of the touched keys shows); zero-value calls touch
/// an empty account (Ethereum deletes it) and a missing one (Ethereum does not create it). Both
/// kinds of deviation of anvil's are in this one block: the next block's parent hash, and with it
/// the EIP-2935 history contract's storage, would differ too.
fn second_block(up: &Upstream) -> eyre::Result<Vec<String>> {
    let clear = (0..6u64).map(|i| {
        let to = Address::left_padding_from(&(0xb000 + i).to_be_bytes());
        let all = token_transfer(to, U256::from(1000 + i));
        sign_eip1559(&signer(i), CHAIN, 0, TxKind::Call(up.token), U256::ZERO, all, 100_000, FEE)
    });
    let touch = [(32, EMPTY), (33, UNTOUCHED)]
        .into_iter()
        .map(|(i, to)| sign_eip1559(&signer(i), CHAIN, 0, TxKind::Call(to), U256::ZERO, Bytes::new(), 21_000, FEE));
    clear.chain(touch).collect()
}

/// The token's storage after both blocks (slot -> value), as the test built it.
fn final_storage() -> serde_json::Map<String, Value> {
    let mut m = std::collections::BTreeMap::new();
    for i in 0..200u64 {
        m.insert(U256::from_be_slice(signer(i).address().as_slice()), U256::from(1000 + i));
    }
    for i in 6..9u64 {
        *m.get_mut(&U256::from_be_slice(signer(i).address().as_slice())).unwrap() -= U256::from(7);
    }
    *m.get_mut(&U256::from_be_slice(signer(11).address().as_slice())).unwrap() += U256::from(21);
    for i in 9..12u64 {
        *m.get_mut(&U256::from_be_slice(signer(i).address().as_slice())).unwrap() -= U256::from(7);
        m.insert(
            U256::from_be_slice(Address::left_padding_from(&(0xc000 + i).to_be_bytes()).as_slice()),
            U256::from(7),
        );
    }
    for i in 0..6u64 {
        m.insert(U256::from_be_slice(signer(i).address().as_slice()), U256::ZERO);
        m.insert(
            U256::from_be_slice(Address::left_padding_from(&(0xb000 + i).to_be_bytes()).as_slice()),
            U256::from(1000 + i),
        );
    }
    m.into_iter().map(|(k, v)| (format!("{k:#x}"), json!(format!("{v:#x}")))).collect()
}

fn field<'a>(b: &'a Value, k: &str) -> &'a str {
    b[k].as_str().unwrap_or_default()
}

/// Builds `raws` as one block on both: anvil mines them (FIFO, automine off), then ours takes
/// exactly these txs in this order through the test API, with anvil's header inputs (timestamp,
/// prevRandao, beacon root, fee recipient, extra data, gas limit). Returns (ours, anvil's).
/// The parent hashes are compared unless the parents' roots differ by design (`same_parent`).
fn both(node: &Proc, up: &Upstream, raws: &[String], same_parent: bool) -> eyre::Result<(Value, Value)> {
    let parent = up.anvil.rpc("eth_getBlockByNumber", json!(["latest", false]))?;
    for raw in raws {
        up.anvil.rpc("eth_sendRawTransaction", json!([raw]))?;
    }
    up.anvil.rpc("evm_mine", json!([hex_u64(&parent["timestamp"])? + 12]))?;
    let theirs = up.anvil.rpc("eth_getBlockByNumber", json!(["latest", false]))?;
    let open = json!({
        "timestamp": theirs["timestamp"],
        "prevRandao": theirs["mixHash"],
        "parentBeaconBlockRoot": theirs["parentBeaconBlockRoot"],
        "feeRecipient": theirs["miner"],
        "extraData": theirs["extraData"],
        "gasLimit": theirs["gasLimit"],
    });
    let job = node.control(CHAIN, "test_open", json!([open]))?["jobId"].clone();
    for raw in raws {
        let r = node.control(CHAIN, "test_includeRaw", json!([job, raw]))?;
        assert_eq!(r["status"], "0x1", "{r}");
    }
    let sealed = node.control(CHAIN, "test_seal", json!([job]))?;
    let ours = node.rpc(CHAIN, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(ours["hash"], sealed["block"]["hash"], "{sealed}");
    assert_eq!(theirs["transactions"], ours["transactions"], "same txs in the same order");
    if same_parent {
        assert_eq!(field(&theirs, "parentHash"), field(&ours, "parentHash"), "parentHash");
    }
    for f in ["baseFeePerGas", "gasUsed", "receiptsRoot", "logsBloom", "transactionsRoot"] {
        assert_eq!(field(&theirs, f), field(&ours, f), "{f}");
    }
    Ok((ours, theirs))
}

#[test]
fn blocks_on_anvils_state_have_the_roots_of_the_same_blocks_mined_by_anvil() -> eyre::Result<()> {
    let up = upstream()?;
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("fork"), &["--fork.url", &up.anvil.url(), "--no-auto"])?;
    let fork_head = up.anvil.rpc("eth_blockNumber", json!([]))?;
    assert_eq!(node.rpc(CHAIN, "eth_blockNumber", json!([]))?, fork_head, "we continue from anvil's head");

    // Block 1: the same block, hash for hash (state, receipts and tx roots, every header field).
    let (ours, theirs) = both(&node, &up, &first_block(&up)?, true)?;
    assert_eq!(field(&theirs, "stateRoot"), field(&ours, "stateRoot"), "block 1 stateRoot");
    assert_eq!(field(&theirs, "hash"), field(&ours, "hash"), "block 1 hash");
    // BLOCKHASH below the fork point came from the upstream.
    let probed = node.rpc(CHAIN, "eth_getStorageAt", json!([BLOCKHASH_PROBE, "0x0", "latest"]))?;
    let below =
        up.anvil.rpc("eth_getBlockByNumber", json!([format!("{:#x}", hex_u64(&ours["number"])? - 2), false]))?;
    assert_eq!(probed, below["hash"], "BLOCKHASH of a block below the fork point");

    // Block 2 clears slots and touches empty accounts. anvil keeps a zeroed slot in its storage
    // trie (as RLP(0)) and touched empty accounts, so its root there is not Ethereum's: the
    // oracle is anvil's root with the token's leaf corrected from the token's full final storage
    // and the two empty accounts' leaves deleted, by ethereum's Python trie.
    let (ours, theirs) = both(&node, &up, &second_block(&up)?, true)?;
    let storage = dir.path().join("storage.json");
    std::fs::write(&storage, Value::Object(final_storage()).to_string())?;
    let out = python(
        "corrected_root.py",
        &[
            "--anvil",
            &up.anvil.url(),
            "--account",
            &up.token.to_string(),
            "--storage",
            storage.to_str().unwrap(),
            "--delete",
            &EMPTY.to_string(),
            "--delete",
            &UNTOUCHED.to_string(),
        ],
    )?;
    let oracle: Value = serde_json::from_str(out.lines().last().unwrap_or_default())?;
    assert_ne!(oracle["storageRoot"], oracle["anvilStorageHash"], "anvil still keeps zeroed slots: {oracle}");
    assert_eq!(oracle["deleted"], json!([EMPTY.to_string(), UNTOUCHED.to_string()]), "anvil kept both: {oracle}");
    assert_eq!(field(&ours, "stateRoot"), field(&oracle, "stateRoot"), "block 2 stateRoot vs the spec's ({oracle})");
    assert_ne!(field(&theirs, "stateRoot"), field(&ours, "stateRoot"));

    // Our proofs show both accounts absent, and verify against our root.
    let checked = python(
        "verify_proof.py",
        &["--rpc", &node.url(CHAIN), "--account", &EMPTY.to_string(), "--account", &UNTOUCHED.to_string()],
    )?;
    assert!(checked.contains("2 proofs verified") && checked.contains("(2 accounts absent)"), "{checked}");

    // A cleared slot reads as zero (not as the fork block's value).
    let cleared = B256::left_padding_from(signer(0).address().as_slice());
    assert_eq!(
        node.rpc(CHAIN, "eth_getStorageAt", json!([up.token, cleared, "latest"]))?,
        json!(format!("0x{}", "0".repeat(64)))
    );

    // kill -9 and restart on the same data: the chain resumes at its head, still forked at the
    // same block, and the token's code (upstream's, known by hash only) is still there.
    let head = node.rpc(CHAIN, "eth_blockNumber", json!([]))?;
    let mut node = node;
    node.kill9();
    let node = dev(&dir.path().join("fork"), &["--fork.url", &up.anvil.url(), "--no-auto"])?;
    assert_eq!(node.rpc(CHAIN, "eth_blockNumber", json!([]))?, head);
    let code = up.anvil.rpc("eth_getCode", json!([up.token, "latest"]))?;
    assert_eq!(node.rpc(CHAIN, "eth_getCode", json!([up.token, "latest"]))?, code);
    let more = token_transfer(signer(12).address(), U256::from(1));
    let raw = sign_eip1559(&signer(20), CHAIN, 1, TxKind::Call(up.token), U256::ZERO, more, 100_000, FEE)?;
    let job = node.control(CHAIN, "test_open", json!([]))?["jobId"].clone();
    let r = node.control(CHAIN, "test_includeRaw", json!([job, raw]))?;
    assert_eq!(r["status"], "0x1", "a token transfer after the restart: {r}");
    node.control(CHAIN, "test_seal", json!([job]))?;
    Ok(())
}

/// A block the pool fills on anvil's state reads the slots its txs touch in a few batches, not
/// one request per SLOAD: senders, recipients and access lists are fetched before execution,
/// and one discovery pass names the slots the token's code reads. Every transfer lands.
#[test]
fn a_pool_block_on_anvils_state_reads_its_slots_in_batches() -> eyre::Result<()> {
    let up = upstream()?;
    let px = proxy(&up.anvil.addr)?;
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("fork"), &["--fork.url", &format!("http://{}", px.addr), "--no-auto"])?;
    // 30 holders send 3 tokens each to 30 other holders: 60 slots no one read before. One also
    // names the slots in an access list.
    for i in 0..30u64 {
        let to = signer(100 + i).address();
        let raw = if i == 0 {
            let list = alloy_eips::eip2930::AccessList(vec![alloy_eips::eip2930::AccessListItem {
                address: up.token,
                storage_keys: vec![
                    B256::left_padding_from(signer(0).address().as_slice()),
                    B256::left_padding_from(to.as_slice()),
                ],
            }]);
            sign_eip1559_access_list(
                &signer(i),
                CHAIN,
                0,
                TxKind::Call(up.token),
                token_transfer(to, U256::from(3)),
                100_000,
                FEE,
                list,
            )?
        } else {
            sign_eip1559(
                &signer(i),
                CHAIN,
                0,
                TxKind::Call(up.token),
                U256::ZERO,
                token_transfer(to, U256::from(3)),
                100_000,
                FEE,
            )?
        };
        node.rpc(CHAIN, "eth_sendRawTransaction", json!([raw]))?;
    }
    let before = px.counts.get().1;
    node.rpc(CHAIN, "evm_mine", json!([]))?;
    let batches = px.counts.get().1 - before;
    let block = node.rpc(CHAIN, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(block["transactions"].as_array().map(Vec::len), Some(30), "{block}");
    for r in node.rpc(CHAIN, "eth_getBlockReceipts", json!(["latest"]))?.as_array().into_iter().flatten() {
        assert_eq!(r["status"], "0x1", "{r}");
    }
    for i in 0..30u64 {
        let slot = B256::left_padding_from(signer(100 + i).address().as_slice());
        let v = node.rpc(CHAIN, "eth_getStorageAt", json!([up.token, slot, "latest"]))?;
        assert_eq!(v, json!(B256::from(U256::from(1000 + 100 + i + 3))), "holder {}", 100 + i);
    }
    // The access list's batch, the discovery pass's (sent as up to four parallel requests), and
    // the few slots the system calls read; one request per SLOAD would be over 60.
    assert!(batches <= 8, "{batches} requests for the block's 60 cold slots");
    Ok(())
}

/// What the faulty upstream does to the requests it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Forward them.
    None,
    /// Answer the next `n` with HTTP 503, then forward.
    Fail(usize),
    /// Close the connection without an answer.
    Drop,
    /// Answer after this many milliseconds.
    Slow(u64),
    /// Forward, but change the balance every `eth_getProof` answer claims.
    LieInProofs,
}

/// A loopback HTTP proxy in front of anvil that misbehaves on command (a stand-in for a flaky
/// or dishonest node: the faults are at the HTTP and JSON level, what a real one would do).
struct Proxy {
    addr: String,
    fault: Arc<Mutex<Fault>>,
    counts: Arc<Counts>,
}

/// Requests the proxy forwarded, by what they ask.
#[derive(Default)]
struct Counts {
    /// Requests (single calls or batches) with an `eth_getProof`.
    proofs: std::sync::atomic::AtomicUsize,
    /// Requests with an `eth_getStorageAt`.
    slots: std::sync::atomic::AtomicUsize,
}

impl Counts {
    fn get(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.proofs.load(Relaxed), self.slots.load(Relaxed))
    }
}

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
};

fn serve(mut conn: TcpStream, upstream: String, fault: Arc<Mutex<Fault>>, counts: Arc<Counts>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).to_string();
        if body.contains("eth_getProof") {
            counts.proofs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if body.contains("eth_getStorageAt") {
            counts.slots.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let now = {
            let mut f = fault.lock().unwrap();
            let now = *f;
            if let Fault::Fail(n) = now {
                *f = if n <= 1 { Fault::None } else { Fault::Fail(n - 1) };
            }
            now
        };
        let answer = match now {
            Fault::Drop => return,
            Fault::Fail(_) => {
                let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
                continue;
            }
            Fault::Slow(ms) => {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                http("POST", &upstream, "/", &body).map(|(_, t)| t)
            }
            Fault::None => http("POST", &upstream, "/", &body).map(|(_, t)| t),
            Fault::LieInProofs => http("POST", &upstream, "/", &body).map(|(_, t)| {
                if !body.contains("eth_getProof") {
                    return t;
                }
                let mut v: Value = serde_json::from_str(&t).unwrap_or_default();
                for item in v.as_array_mut().into_iter().flatten() {
                    if item["result"]["balance"].is_string() {
                        item["result"]["balance"] = json!("0x1");
                    }
                }
                v.to_string()
            }),
        };
        let Ok(answer) = answer else { return };
        let head =
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", answer.len());
        if conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(answer.as_bytes())).is_err() {
            return;
        }
    }
}

fn proxy(upstream: &str) -> eyre::Result<Proxy> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    let fault = Arc::new(Mutex::new(Fault::None));
    let counts = Arc::new(Counts::default());
    let (f, p, up) = (Arc::clone(&fault), Arc::clone(&counts), upstream.to_string());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (f, p, up) = (Arc::clone(&f), Arc::clone(&p), up.clone());
            std::thread::spawn(move || serve(conn, up, f, p));
        }
    });
    Ok(Proxy { addr, fault, counts })
}

impl Proxy {
    fn set(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
    }
}

/// The job's error, and that nothing moved: the head is where it was and the job is still open.
fn refused(node: &Proc, job: &Value, method: &str, params: Value, head: &Value) -> eyre::Result<String> {
    let (_, v) = node.control_raw(&format!("/chains/{CHAIN}"), method, params)?;
    let msg =
        v["error"]["message"].as_str().map(str::to_string).ok_or_else(|| eyre::eyre!("{method} succeeded: {v}"))?;
    assert_eq!(&node.rpc(CHAIN, "eth_blockNumber", json!([]))?, head, "nothing committed");
    let jobs = node.control(CHAIN, "test_jobs", json!([]))?;
    let open = jobs.as_array().into_iter().flatten().any(|j| &j["jobId"] == job && j["state"] == "open");
    assert!(open, "the job is still open: {jobs}");
    Ok(msg)
}

#[test]
fn a_slow_failing_dropping_or_lying_upstream_fails_the_job_clearly_and_commits_nothing() -> eyre::Result<()> {
    let up = upstream()?;
    let px = proxy(&up.anvil.addr)?;
    let dir = tempfile::tempdir()?;
    let url = format!("http://{}", px.addr);
    let node = dev(&dir.path().join("fork"), &["--fork.url", &url, "--fork.timeout-ms", "800", "--no-auto"])?;
    let head = node.rpc(CHAIN, "eth_blockNumber", json!([]))?;
    let raws = first_block(&up)?;
    let job = node.control(CHAIN, "test_open", json!([]))?["jobId"].clone();

    // A failing upstream: a transient failure is retried and goes unnoticed...
    px.set(Fault::Fail(1));
    node.control(CHAIN, "test_includeRaw", json!([job, raws[0]]))?;
    // ...one that keeps failing is a clear error for the job.
    px.set(Fault::Fail(100));
    let msg = refused(&node, &job, "test_includeRaw", json!([job, raws[1]]), &head)?;
    assert!(msg.contains(&px.addr) && msg.contains("503"), "{msg}");
    // Dropped connections, and a node slower than the timeout: the same.
    px.set(Fault::Drop);
    let msg = refused(&node, &job, "test_includeRaw", json!([job, raws[1]]), &head)?;
    assert!(msg.contains(&px.addr), "{msg}");
    px.set(Fault::Slow(1_500));
    let msg = refused(&node, &job, "test_includeRaw", json!([job, raws[1]]), &head)?;
    let lower = msg.to_lowercase();
    assert!(msg.contains(&px.addr) && (lower.contains("timed out") || lower.contains("timeout")), "{msg}");

    // Back to normal: the job goes on where it was.
    px.set(Fault::None);
    for raw in &raws[1..] {
        node.control(CHAIN, "test_includeRaw", json!([job, raw]))?;
    }
    // A lying node: proofs that do not hash to the pinned root refuse the seal.
    px.set(Fault::LieInProofs);
    let before = px.counts.get().0;
    let msg = refused(&node, &job, "test_seal", json!([job]), &head)?;
    assert!(px.counts.get().0 > before, "the seal asked for proofs");
    assert!(msg.contains("does not verify"), "{msg}");
    // An honest node again: the same job seals, with anvil's root for the same block.
    px.set(Fault::None);
    let sealed = node.control(CHAIN, "test_seal", json!([job]))?;
    assert_eq!(
        node.rpc(CHAIN, "eth_blockNumber", json!([]))?,
        json!(format!("{:#x}", hex_u64(&head)? + 1)),
        "{sealed}"
    );
    Ok(())
}

/// The same on the five-process cluster: every process forks the same upstream (the
/// `OPSEQ_FORK_URL` twin), the state-fetcher process holds the remote state, and the block
/// the cluster builds through its gRPC edges is anvil's, hash for hash.
#[test]
fn the_cluster_builds_on_anvils_state_too() -> eyre::Result<()> {
    let up = upstream()?;
    let dir = tempfile::tempdir()?;
    let url = up.anvil.url();
    let cluster = Cluster::start_env(dir.path(), &["--no-auto"], &[("OPSEQ_FORK_URL", url.as_str())])?;
    let node = cluster.builder();
    assert_eq!(node.rpc(CHAIN, "eth_blockNumber", json!([]))?, up.anvil.rpc("eth_blockNumber", json!([]))?);
    let (ours, theirs) = both(node, &up, &first_block(&up)?, true)?;
    assert_eq!(field(&theirs, "stateRoot"), field(&ours, "stateRoot"), "stateRoot");
    assert_eq!(field(&theirs, "hash"), field(&ours, "hash"), "hash");
    let probed = node.rpc(CHAIN, "eth_getStorageAt", json!([BLOCKHASH_PROBE, "0x0", "latest"]))?;
    let below =
        up.anvil.rpc("eth_getBlockByNumber", json!([format!("{:#x}", hex_u64(&ours["number"])? - 2), false]))?;
    assert_eq!(probed, below["hash"], "BLOCKHASH below the fork point, over gRPC");
    Ok(())
}
