//! The test-sequencing API (`test_*` on `/chains/<chainId>`) against `op-sequencer dev`: exact
//! txs in exact order, job states, equivocation and reorgs, determinism, JWT, bad input.
use opseq_e2e::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const DEAD: &str = "0x000000000000000000000000000000000000dEaD";
const BEEF: &str = "0x000000000000000000000000000000000000bEEF";
const ADDR0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const GWEI: u128 = 1_000_000_000;

fn send(node: &Proc, chain: u64, raw: &str) -> eyre::Result<String> {
    Ok(node.rpc(chain, "eth_sendRawTransaction", json!([raw]))?.as_str().unwrap_or_default().to_string())
}

fn tx_hashes(block: &Value) -> Vec<String> {
    block["transactions"]
        .as_array()
        .map(|a| a.iter().map(|t| t.as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn jobs_include_exact_txs_in_order_and_each_job_state_error_has_its_code() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let head = node.head(901)?;
    let a = send(&node, 901, &sign_transfer(KEY0, 901, 0, DEAD, 1, 21_000, 10 * GWEI)?)?;
    let b = send(&node, 901, &sign_transfer(KEY0, 901, 1, DEAD, 2, 21_000, 10 * GWEI)?)?;
    let c = send(&node, 901, &sign_transfer(KEY1, 901, 0, DEAD, 3, 21_000, 10 * GWEI)?)?;
    // A tx that tips nothing: the pool refuses it, the EVM accepts it.
    let forced = sign_transfer_tip(KEY2, 901, 0, BEEF, 4, 21_000, 10 * GWEI, 0)?;
    let refused = node.rpc_raw(901, "eth_sendRawTransaction", json!([forced]))?;
    assert!(refused["error"]["message"].as_str().unwrap_or_default().contains("underpriced"), "{refused}");

    let job = node.control(901, "test_open", json!([]))?;
    let id = job["jobId"].as_str().unwrap().to_string();
    assert_eq!(job["state"], "open");
    assert_eq!(hex_u64(&job["number"])?, head + 1);
    let fresh = node.control(901, "test_inspect", json!([id]))?;
    assert_eq!(fresh["transactions"].as_array().map(Vec::len), Some(1), "the L1-info deposit comes first: {fresh}");

    let r = node.control(901, "test_includeByHash", json!([id, c]))?;
    assert_eq!((r["hash"].as_str(), hex_u64(&r["index"])?, r["status"].as_str()), (Some(c.as_str()), 1, Some("0x1")));
    assert_eq!(hex_u64(&r["gasUsed"])?, 21_000);
    let r = node.control(901, "test_includeFirst", json!([id, ADDR0]))?;
    assert_eq!((r["hash"].as_str(), hex_u64(&r["index"])?), (Some(a.as_str()), 2));
    let r = node.control(901, "test_includeRaw", json!([id, forced]))?;
    assert_eq!(hex_u64(&r["index"])?, 3);
    let forced_hash = r["hash"].as_str().unwrap().to_string();
    let r = node.control(901, "test_includeBest", json!([id]))?;
    assert_eq!(
        r["included"].as_array().map(|v| v.iter().map(|t| t["hash"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(b)])
    );

    // Refused includes change nothing and say why.
    let (code, msg) = node.control_err(901, "test_includeRaw", json!([id, "0x02deadbeef"]))?;
    assert_eq!(code, -38570, "{msg}");
    let (code, msg) = node.control_err(
        901,
        "test_includeRaw",
        json!([id, sign_transfer(KEY0, 901, 0, BEEF, 9, 21_000, 10 * GWEI)?]),
    )?;
    assert_eq!(code, -38570);
    assert!(msg.contains("nonce"), "{msg}");
    let (code, _) = node.control_err(901, "test_includeByHash", json!([id, format!("0x{}", "ab".repeat(32))]))?;
    assert_eq!(code, -38570);
    let inspect = node.control(901, "test_inspect", json!([id]))?;
    assert_eq!(inspect["transactions"].as_array().map(Vec::len), Some(5), "{inspect}");
    assert_eq!(hex_u64(&inspect["gasUsed"])?, hex_u64(&inspect["transactions"][0]["gasUsed"])? + 4 * 21_000);
    assert_eq!(node.head(901)?, head, "nothing is committed before the seal");

    let sealed = node.control(901, "test_seal", json!([id]))?;
    assert_eq!(sealed["committed"], true);
    let block = &sealed["block"];
    assert_eq!(hex_u64(&block["number"])?, head + 1);
    assert_eq!(node.head(901)?, head + 1);
    let canonical = node.rpc(901, "eth_getBlockByNumber", json!([format!("{:#x}", head + 1), false]))?;
    assert_eq!(canonical["hash"], block["hash"]);
    assert_eq!(tx_hashes(&canonical)[1..], [c.clone(), a.clone(), forced_hash.clone(), b.clone()]);
    for h in [&a, &b, &c, &forced_hash] {
        assert_eq!(node.rpc(901, "eth_getTransactionReceipt", json!([h]))?["status"], "0x1");
    }
    assert_eq!(hex_u64(&node.rpc(901, "txpool_status", json!([]))?["pending"])?, 0, "mined txs left the pool");
    python("state_root.py", &["--rpc", &node.url(901), "--block", &(head + 1).to_string()])?;

    // Job states: each misuse has its own code.
    assert_eq!(node.control_err(901, "test_seal", json!([id]))?.0, -38521);
    assert_eq!(node.control_err(901, "test_includeRaw", json!([id, forced]))?.0, -38522);
    assert_eq!(node.control_err(901, "test_cancel", json!([id]))?.0, -38523);
    assert_eq!(node.control_err(901, "test_commit", json!([id]))?.0, -38541);
    assert_eq!(node.control_err(901, "test_inspect", json!(["job-nope"]))?.0, -38510);
    let j2 = node.control(901, "test_open", json!([]))?["jobId"].as_str().unwrap().to_string();
    assert_eq!(node.control_err(901, "test_commit", json!([j2]))?.0, -38520);
    assert_eq!(node.control(901, "test_cancel", json!([j2]))?["state"], "cancelled");
    assert_eq!(node.control_err(901, "test_seal", json!([j2]))?.0, -38512);
    assert_eq!(node.head(901)?, head + 1);
    Ok(())
}

#[test]
fn control_routes_need_the_jwt_and_bad_input_changes_nothing() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let head = node.head(901)?;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "test_open", "params": []}).to_string();
    // No token, a malformed token, a token signed with another secret, a stale token.
    let (status, _) = http("POST", &node.http, "/chains/901", &body)?;
    assert_eq!(status, 401);
    let (status, _) = http_with("POST", &node.http, "/chains/901", &[("Authorization", "Bearer nope")], &body)?;
    assert_eq!(status, 401);
    let other = alloy_rpc_types_engine::JwtSecret::random();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let forged = other.encode(&alloy_rpc_types_engine::Claims { iat: now, exp: None })?;
    let (status, _) =
        http_with("POST", &node.http, "/chains/901", &[("Authorization", &format!("Bearer {forged}"))], &body)?;
    assert_eq!(status, 401);
    let secret = alloy_rpc_types_engine::JwtSecret::from_file(&dir.path().join("d/jwt.hex"))?;
    let stale = secret.encode(&alloy_rpc_types_engine::Claims { iat: now - 3600, exp: None })?;
    let (status, text) =
        http_with("POST", &node.http, "/chains/901", &[("Authorization", &format!("Bearer {stale}"))], &body)?;
    assert_eq!(status, 401, "{text}");
    // A batch smuggling a control call behind a public one is refused too; public calls need no token.
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}, {"jsonrpc": "2.0", "id": 2, "method": "test_auto", "params": [true]}]).to_string();
    assert_eq!(http("POST", &node.http, "/chains/901", &batch)?.0, 401);
    assert_eq!(node.rpc(901, "eth_blockNumber", json!([]))?, json!(format!("{head:#x}")));
    assert_eq!(node.control(901, "test_jobs", json!([]))?, json!([]));

    // Wrong types, unknown fields and ids, out-of-range values, huge payloads: JSON-RPC errors.
    let cases = [
        ("test_open", json!([{"parent": "0x12"}]), -32602),
        ("test_open", json!([{"parent": format!("0x{}", "11".repeat(32))}]), -32602),
        ("test_open", json!([{"l1Origin": format!("0x{}", "11".repeat(32))}]), -32602),
        ("test_open", json!([{"timestamp": "0x1"}]), -32602),
        ("test_open", json!([{"bogus": 1}]), -32602),
        ("test_open", json!(["nope"]), -32602),
        ("test_includeRaw", json!(["job-nope", "0x00"]), -38510),
        ("test_includeRaw", json!([1, 2]), -32602),
        ("test_includeBest", json!(["job-nope", 0]), -32602),
        ("test_seal", json!([]), -32602),
        ("test_auto", json!(["yes"]), -32602),
        ("test_auto", json!([true, 0]), -32602),
        ("test_setHead", json!([format!("0x{}", "22".repeat(32))]), -32602),
        ("test_inspect", json!(["x".repeat(101)]), -32602),
        ("test_includeRaw", json!(["job-nope", "0x00", {"force": "yes"}]), -32602),
        ("test_sealGroup", json!([[]]), -32602),
        ("test_sealGroup", json!(["x"]), -32602),
        ("test_sealGroup", json!([[{"chainId": "0x385", "jobId": "job-nope"}]]), -38510),
        ("test_sealGroup", json!([[{"chainId": "0x385"}]]), -32602),
    ];
    for (method, params, code) in cases {
        let got = node.control_err(901, method, params.clone())?;
        assert_eq!(got.0, code, "{method} {params}: {}", got.1);
        assert!(!got.1.is_empty());
    }
    let job = node.control(901, "test_open", json!([]))?["jobId"].as_str().unwrap().to_string();
    let huge = format!("0x02{}", "ff".repeat(1 << 20));
    let (code, _) = node.control_err(901, "test_includeRaw", json!([job, huge]))?;
    assert_eq!(code, -38570);
    let (code, _) = node.control_err(901, "test_open", json!([{"l1Origin": format!("0x{}", "11".repeat(32))}]))?;
    assert_eq!(code, -32602);
    // The L1 has no L1 origin.
    assert_eq!(node.control_err(900, "test_open", json!([{"l1Origin": format!("0x{}", "11".repeat(32))}]))?.0, -32602);
    let inspect = node.control(901, "test_inspect", json!([job]))?;
    assert_eq!(inspect["transactions"].as_array().map(Vec::len), Some(1));
    assert_eq!(node.head(901)?, head);
    Ok(())
}

#[test]
fn equivocation_the_second_block_made_canonical_and_heads_receipts_and_pool_follow() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let base = node.head(901)?;
    let x = send(&node, 901, &sign_transfer(KEY1, 901, 0, DEAD, 5, 21_000, 10 * GWEI)?)?;
    let j1 = node.control(901, "test_open", json!([]))?["jobId"].as_str().unwrap().to_string();
    node.control(901, "test_includeByHash", json!([j1, x]))?;
    let first = node.control(901, "test_seal", json!([j1]))?["block"].clone();
    let parent = first["parentHash"].as_str().unwrap().to_string();
    assert_eq!(node.rpc(901, "eth_getTransactionReceipt", json!([x]))?["blockHash"], first["hash"]);

    // A sibling at the same height, sealed but not committed: known by hash, not canonical.
    let y = sign_transfer(KEY0, 901, 0, BEEF, 7, 21_000, 10 * GWEI)?;
    let j2 = node.control(901, "test_open", json!([{"parent": parent}]))?["jobId"].as_str().unwrap().to_string();
    let y_hash = node.control(901, "test_includeRaw", json!([j2, y]))?["hash"].as_str().unwrap().to_string();
    let second = node.control(901, "test_seal", json!([j2, {"commit": false}]))?;
    assert_eq!(second["committed"], false);
    let second = second["block"].clone();
    assert_eq!(second["number"], first["number"]);
    assert_ne!(second["hash"], first["hash"]);
    assert_eq!(node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?["hash"], first["hash"]);
    assert_eq!(node.rpc(901, "eth_getBlockByHash", json!([second["hash"], false]))?["hash"], second["hash"]);

    // Build on the sibling before it is canonical, then make the sibling's branch canonical.
    let j3 =
        node.control(901, "test_open", json!([{"parent": second["hash"]}]))?["jobId"].as_str().unwrap().to_string();
    let z = sign_transfer(KEY0, 901, 1, BEEF, 11, 21_000, 10 * GWEI)?;
    node.control(901, "test_includeRaw", json!([j3, z]))?;
    let reorg = node.control(901, "test_commit", json!([j2]))?;
    assert_eq!(reorg["reorgedOut"], json!([first["hash"]]));
    assert_eq!(node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?["hash"], second["hash"]);
    assert_eq!(node.rpc(901, "eth_getTransactionReceipt", json!([y_hash]))?["blockHash"], second["hash"]);
    assert_eq!(node.rpc(901, "eth_getTransactionReceipt", json!([x]))?, Value::Null, "x left the chain");
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), BEEF])?, "7");
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), DEAD])?, "0");
    // The reorged-out tx went back to the pool (anvil drops it).
    assert_eq!(hex_u64(&node.rpc(901, "txpool_status", json!([]))?["pending"])?, 1);
    let third = node.control(901, "test_seal", json!([j3]))?["block"].clone();
    assert_eq!(third["parentHash"], second["hash"]);
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), BEEF])?, "18");
    // x is mined again by the next block, and the state roots recompute from the stored state.
    node.rpc(901, "evm_mine", json!([]))?;
    let receipt = node.rpc(901, "eth_getTransactionReceipt", json!([x]))?;
    assert_eq!(hex_u64(&receipt["blockNumber"])?, base + 3);
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), DEAD])?, "5");
    python("state_root.py", &["--rpc", &node.url(901), "--block", &(base + 3).to_string()])?;

    // Rewind the head to the base; the first block can be made canonical again by hash.
    let r = node.control(901, "test_setHead", json!([format!("{parent}")]))?;
    assert_eq!(r["reorgedOut"].as_array().map(Vec::len), Some(3));
    assert_eq!(node.head(901)?, base);
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), BEEF])?, "0");
    node.control(901, "test_setHead", json!([first["hash"]]))?;
    assert_eq!(node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?["hash"], first["hash"]);
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), DEAD])?, "5");
    python("state_root.py", &["--rpc", &node.url(901), "--block", &(base + 1).to_string()])?;
    Ok(())
}

/// 1,000 blocks with one forced tx each, twice from the same genesis: the same hashes.
#[test]
fn a_thousand_forced_blocks_are_deterministic() -> eyre::Result<()> {
    let run = |dir: &std::path::Path| -> eyre::Result<Vec<String>> {
        let node = dev(dir, &["--no-auto", "--genesis.timestamp", "1700000000"])?;
        let mut hashes = Vec::new();
        for i in 0..1000u64 {
            let job = node.control(901, "test_open", json!([]))?["jobId"].as_str().unwrap().to_string();
            node.control(
                901,
                "test_includeRaw",
                json!([job, sign_transfer(KEY0, 901, i, DEAD, u128::from(i) + 1, 21_000, 10 * GWEI)?]),
            )?;
            let b = node.control(901, "test_seal", json!([job]))?;
            hashes.push(b["block"]["hash"].as_str().unwrap().to_string());
        }
        assert_eq!(node.head(901)?, 1000);
        Ok(hashes)
    };
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let first = run(&dir.path().join("a"))?;
    eprintln!("1000 open/includeRaw/seal rounds in {:?}", t.elapsed());
    let second = run(&dir.path().join("b"))?;
    assert_eq!(first, second);
    Ok(())
}

/// The L1-info deposit's L1 block (number, hash): Ecotone/Isthmus packed calldata. `None` for
/// the genesis and for a block a concurrent rewind just removed.
fn origin_of(node: &Proc, number: u64) -> eyre::Result<Option<(u64, String)>> {
    let b = node.rpc(901, "eth_getBlockByNumber", json!([format!("{number:#x}"), true]))?;
    let input = b["transactions"][0]["input"].as_str().unwrap_or_default().trim_start_matches("0x").to_string();
    let bytes = alloy_primitives::hex::decode(&input)?;
    if bytes.len() < 132 {
        return Ok(None);
    }
    let n = u64::from_be_bytes(bytes[28..36].try_into()?);
    Ok(Some((n, format!("0x{}", alloy_primitives::hex::encode(&bytes[100..132])))))
}

#[test]
fn an_l1_reorg_of_depth_three_and_the_l2_follows_in_auto_mode() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--l1.block-time", "1", "--l2.block-time", "1"])?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.head(900)? < 6 {
        assert!(Instant::now() < deadline, "L1 did not advance");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(node.control(900, "test_auto", json!([]))?["active"], json!(true), "status form");
    node.control(900, "test_auto", json!([false]))?;
    assert_eq!(node.control(900, "test_auto", json!([]))?, json!({"active": false, "intervalMs": null}));
    // Wait until the L2 uses the newest L1 block as its origin.
    let l1_head = node.head(900)?;
    while origin_of(&node, node.head(901)?)?.is_none_or(|(n, _)| n < l1_head) {
        assert!(Instant::now() < deadline, "L2 did not adopt the L1 head as origin");
        std::thread::sleep(Duration::from_millis(200));
    }
    let l1_head = node.head(900)?;
    let block = |n: u64| node.rpc(900, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]));
    let fork = block(l1_head - 3)?;
    let old: Vec<String> = (l1_head - 2..=l1_head)
        .map(|n| Ok(block(n)?["hash"].as_str().unwrap().to_string()))
        .collect::<eyre::Result<_>>()?;
    // Three new L1 blocks on the fork point; the first carries a tx so it differs from the old one.
    let mut parent = fork["hash"].as_str().unwrap().to_string();
    let mut reorged = Vec::new();
    for i in 0..3u64 {
        let job = node.control(900, "test_open", json!([{"parent": parent}]))?["jobId"].as_str().unwrap().to_string();
        if i == 0 {
            node.control(
                900,
                "test_includeRaw",
                json!([job, sign_transfer(KEY2, 900, 0, BEEF, 1, 21_000, 100 * GWEI)?]),
            )?;
        }
        let sealed = node.control(900, "test_seal", json!([job]))?;
        reorged.extend(sealed["reorgedOut"].as_array().cloned().unwrap_or_default());
        parent = sealed["block"]["hash"].as_str().unwrap().to_string();
    }
    assert_eq!(reorged, old.iter().map(|h| json!(h)).collect::<Vec<_>>(), "depth-3 reorg");
    assert_eq!(node.head(900)?, l1_head);
    // The L2 rebuilds on canonical origins by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let head = node.head(901)?;
        let mut all_canonical = true;
        for n in head.saturating_sub(15).max(1)..=head {
            match origin_of(&node, n)? {
                Some((num, hash)) if block(num)?["hash"].as_str() == Some(hash.as_str()) => {}
                _ => all_canonical = false,
            }
        }
        let adopted = origin_of(&node, head)?.is_some_and(|(num, _)| num >= l1_head - 2);
        if all_canonical && adopted {
            break;
        }
        assert!(Instant::now() < deadline, "the L2 did not follow the L1 reorg");
        std::thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

/// op-test-sequencer's routes (`/`, `/sequencers/<id>`, `/tx/<id>`): its shapes and codes, as
/// op-devstack's clients call them.
#[test]
fn op_test_sequencer_routes_answer_with_its_shapes_and_codes() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let call = |path: &str, method: &str, params: Value| -> eyre::Result<Value> {
        let (status, v) = node.control_raw(path, method, params)?;
        assert_eq!(status, 200, "{v}");
        Ok(v)
    };
    let code = |v: &Value| v["error"]["code"].as_i64();
    let seq = "/sequencers/sequencer-901";

    // build_* on the root route.
    let head = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    let job = call("/", "build_new", json!(["builder-901", {"parent": head["hash"]}]))?["result"].clone();
    assert!(job.as_str().is_some_and(|j| j.starts_with("job-")), "{job}");
    assert_eq!(call("/", "build_open", json!([job]))?["result"], Value::Null);
    let env = call("/", "build_seal", json!([job]))?["result"].clone();
    let payload = &env["executionPayload"];
    assert_eq!(hex_u64(&payload["blockNumber"])?, hex_u64(&head["number"])? + 1);
    assert_eq!(payload["parentHash"], head["hash"]);
    assert!(payload["transactions"][0].as_str().is_some_and(|t| t.starts_with("0x7e")), "{payload}");
    assert!(payload["withdrawalsRoot"].is_string() && env["parentBeaconBlockRoot"].is_string(), "{env}");
    assert_eq!(
        call("/", "build_seal", json!([job]))?["result"],
        env,
        "a job seals once; seal again returns the envelope"
    );
    assert_eq!(node.head(901)?, hex_u64(&head["number"])?, "build_seal does not commit");
    let sealed = node.rpc(901, "eth_getBlockByHash", json!([payload["blockHash"], false]))?;
    assert_eq!(sealed["hash"], payload["blockHash"]);
    assert_eq!(call("/", "build_closeJob", json!([job]))?["result"], Value::Null);
    assert_eq!(code(&call("/", "build_open", json!([job]))?), Some(-38510));
    assert_eq!(code(&call("/", "build_new", json!(["builder-999", {}]))?), Some(-38502));
    assert_eq!(code(&call("/", "build_seal", json!(["job-901-424242"]))?), Some(-38510));

    // The fullseq step machine, its ordering errors, and /tx/<id> without a JWT.
    assert_eq!(code(&call(seq, "sequencer_buildJob", json!([]))?), Some(-38510));
    let (status, v) = {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0x00"]}).to_string();
        let (s, t) = http("POST", &node.http, "/tx/sequencer-901", &body)?;
        (s, serde_json::from_str::<Value>(&t)?)
    };
    assert_eq!((status, code(&v)), (200, Some(-38510)), "no job open: unknown job, not a crash");
    call(seq, "sequencer_new", json!([{"parent": head["hash"]}]))?;
    assert_eq!(code(&call(seq, "sequencer_new", json!([{}]))?), Some(-38511));
    let job = call(seq, "sequencer_buildJob", json!([]))?["result"].clone();
    assert!(job.is_string());
    let raw = sign_transfer(KEY0, 901, 0, DEAD, 42, 21_000, 10 * GWEI)?;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw]}).to_string();
    let (status, text) = http("POST", &node.http, "/tx/sequencer-901", &body)?;
    let sent: Value = serde_json::from_str(&text)?;
    assert_eq!(status, 200);
    let hash = sent["result"].as_str().unwrap_or_default().to_string();
    assert_eq!(hash.len(), 66, "{sent}");
    assert_eq!(code(&call(seq, "sequencer_sign", json!([]))?), Some(-38520));
    assert_eq!(code(&call(seq, "sequencer_commit", json!([]))?), Some(-38530));
    assert_eq!(code(&call(seq, "sequencer_publish", json!([]))?), Some(-38540));
    assert_eq!(call(seq, "sequencer_open", json!([]))?["result"], Value::Null);
    assert_eq!(call(seq, "sequencer_seal", json!([]))?["result"], Value::Null);
    assert_eq!(code(&call(seq, "sequencer_seal", json!([]))?), Some(-38521));
    assert_eq!(code(&call(seq, "sequencer_includeTx", json!([raw]))?), Some(-38521));
    call(seq, "sequencer_sign", json!([]))?;
    assert_eq!(code(&call(seq, "sequencer_sign", json!([]))?), Some(-38531));
    call(seq, "sequencer_commit", json!([]))?;
    assert_eq!(code(&call(seq, "sequencer_commit", json!([]))?), Some(-38541));
    call(seq, "sequencer_publish", json!([]))?;
    call(seq, "sequencer_publish", json!([]))?; // re-publish is allowed
    assert_eq!(node.rpc(901, "eth_getTransactionReceipt", json!([hash]))?["status"], "0x1");
    assert_eq!(code(&call(seq, "sequencer_prebuiltEnvelope", json!([env]))?), Some(-38503));
    // sequencer_next finishes the current job and resets; then new/next on top (op-devstack's SequenceBlock).
    // With junk arguments it does nothing: -32602 (geth's rpc package), no block sealed.
    let before = node.head(901)?;
    assert_eq!(code(&call(seq, "sequencer_next", json!(["junk"]))?), Some(-32602));
    assert_eq!(node.head(901)?, before, "a refused sequencer_next sealed a block");
    call(seq, "sequencer_next", json!([]))?;
    let h = node.head(901)?;
    let tip = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    call(seq, "sequencer_new", json!([{"parent": tip["hash"]}]))?;
    call(seq, "sequencer_includeTx", json!([sign_transfer(KEY0, 901, 1, DEAD, 1, 21_000, 10 * GWEI)?]))?;
    call(seq, "sequencer_next", json!([]))?;
    assert_eq!(node.head(901)?, h + 1);

    // start/stop: inactive, head check, already active.
    assert_eq!(code(&call(seq, "sequencer_stop", json!([]))?), Some(-38550));
    let wrong = call(seq, "sequencer_start", json!([format!("0x{}", "11".repeat(32))]))?;
    assert_eq!(code(&wrong), Some(-38500), "{wrong}");
    let tip = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(call(seq, "sequencer_start", json!([tip["hash"]]))?["result"], Value::Null);
    assert_eq!(code(&call(seq, "sequencer_start", json!([tip["hash"]]))?), Some(-38551));
    assert!(call(seq, "sequencer_stop", json!([]))?["result"].is_string());

    // The JWT guards / and /sequencers/<id>; unknown sequencers are named.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "sequencer_buildJob", "params": []}).to_string();
    assert_eq!(http("POST", &node.http, seq, &body)?.0, 401);
    assert_eq!(http("POST", &node.http, "/", &body)?.0, 401);
    let (status, text) = http("POST", &node.http, "/sequencers/nope", &body)?;
    assert_eq!(status, 404);
    assert!(text.contains("sequencer-901"), "{text}");
    Ok(())
}

/// An op-test-sequencer ensemble file (as op-devstack / Kurtosis write it) names our routes; a bad
/// one stops the start with the reason.
#[test]
fn an_op_test_sequencer_ensemble_file_names_the_routes() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("builder_config.yaml");
    std::fs::write(
        &config,
        "builders: { test-builder-901: { standard: { l1EL: http://l1:8545, l2EL: http://el:8545, l2CL: http://cl:8547 } } }\n\
         signers: { test-signer-901: { local-key: { chainID: 901, raw: \"0x01\" } } }\n\
         sequencers: { test-seq-901: { full: { chainID: 901, builder: test-builder-901, signer: test-signer-901 } } }\n",
    )?;
    let node = dev(&dir.path().join("d"), &["--no-auto", "--builders.config", config.to_str().unwrap()])?;
    let h = node.head(901)?;
    let (_, v) = node.control_raw("/sequencers/test-seq-901", "sequencer_next", json!([]))?;
    assert_eq!(v["result"], Value::Null, "{v}");
    assert_eq!(node.head(901)?, h + 1);
    let (_, v) = node.control_raw("/", "build_new", json!(["test-builder-901", {}]))?;
    assert!(v["result"].is_string(), "{v}");
    drop(node);

    std::fs::write(&config, "sequencers: { s: { full: { chainID: 7, builder: b } } }\n")?;
    let out = std::process::Command::new(binary())
        .args(["dev", "--no-auto", "--http.port", "0", "--datadir"])
        .arg(dir.path().join("e"))
        .args(["--grpc.addr", "127.0.0.1:0", "--builders.config"])
        .arg(&config)
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chain 7 is not served"), "{err}");
    Ok(())
}

#[test]
fn pool_over_rpc_batched_sends_content_inspect_and_drop() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let a0 = sign_transfer(KEY0, 901, 0, DEAD, 1, 21_000, 10 * GWEI)?;
    let a2 = sign_transfer(KEY0, 901, 2, DEAD, 3, 21_000, 10 * GWEI)?;
    let b0 = sign_transfer(KEY1, 901, 0, DEAD, 2, 21_000, 10 * GWEI)?;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [a0]},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_sendRawTransaction", "params": ["0x02zz"]},
        {"jsonrpc": "2.0", "id": 4, "method": "eth_sendRawTransaction", "params": [a2]},
        {"jsonrpc": "2.0", "id": 5, "method": "eth_sendRawTransaction", "params": [b0]},
        {"jsonrpc": "2.0", "id": 6, "method": "eth_sendRawTransaction", "params": [a0]},
    ]);
    let (status, text) = http("POST", &node.http, "/chains/901", &batch.to_string())?;
    assert_eq!(status, 200);
    let out: Value = serde_json::from_str(&text)?;
    let ids: Vec<_> = out.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6], "answers in call order");
    assert!(out[0]["result"].is_string() && out[1]["result"].is_string());
    assert_eq!(out[2]["error"]["code"], -32602);
    assert!(out[3]["result"].is_string() && out[4]["result"].is_string());
    // The same tx twice in one batch: the second is already known (geth answers with the hash too).
    assert_eq!(out[5]["result"], out[0]["result"], "{}", out[5]);

    let content = node.rpc(901, "txpool_content", json!([]))?;
    let pending = &content["pending"];
    assert_eq!(pending.as_object().map(|o| o.len()), Some(2), "{content}");
    let addr0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    assert_eq!(pending[addr0]["0"]["hash"], out[0]["result"]);
    assert_eq!(content["queued"][addr0]["2"]["hash"], out[3]["result"], "nonce 2 waits behind the gap at 1");
    let from = node.rpc(901, "txpool_contentFrom", json!([addr0]))?;
    assert_eq!(from["queued"]["2"]["nonce"], "0x2");
    let inspect = node.rpc(901, "txpool_inspect", json!([]))?;
    assert_eq!(
        inspect["pending"][addr0]["0"],
        "0x000000000000000000000000000000000000dEaD: 1 wei + 21000 gas × 10000000000 wei"
    );
    let status = node.rpc(901, "txpool_status", json!([]))?;
    assert_eq!((hex_u64(&status["pending"])?, hex_u64(&status["queued"])?), (2, 1));
    // Drop by hash (anvil's method): the hash if it was pooled, null if not.
    assert_eq!(node.rpc(901, "anvil_dropTransaction", json!([out[3]["result"]]))?, out[3]["result"]);
    assert_eq!(node.rpc(901, "anvil_dropTransaction", json!([out[3]["result"]]))?, Value::Null);
    assert_eq!(hex_u64(&node.rpc(901, "txpool_status", json!([]))?["queued"])?, 0);
    Ok(())
}

/// `test_accessList`: the CrossL2Inbox access list for an identifier, on op-supervisor's golden
/// vector (../shared/reference/interop.md §1.3), by payload and by message hash; bad input is
/// refused with -32602.
#[test]
fn test_access_list_gives_the_supervisors_golden_entries() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let id = json!({
        "origin": "0xe0e1e2e3e4e5e6e7e8e9f0f1f2f3f4f5f6f7f8f9",
        "blockNumber": "0xa1a2a3a4a5a6a7a8",
        "logIndex": "0xb1b2b3b4",
        "timestamp": "0xc1c2c3c4c5c6c7c8",
        "chainId": "0xd1d2d3d4d5d6d7d8",
    });
    let mut by_payload = id.clone();
    by_payload["payload"] = json!(format!("0x{}", alloy_primitives::hex::encode("example payload")));
    let r = node.control(901, "test_accessList", json!([by_payload]))?;
    let want = json!([{
        "address": "0x4200000000000000000000000000000000000022",
        "storageKeys": [
            "0x01000000d1d2d3d4d5d6d7d8a1a2a3a4a5a6a7a8c1c2c3c4c5c6c7c8b1b2b3b4",
            "0x03749e87fd7789575de9906569deb05aaf220dc4cfab3d8abbfd34a2e1d7d357",
        ],
    }]);
    assert_eq!(r["accessList"], want, "{r}");
    let mut by_hash = id.clone();
    by_hash["msgHash"] = r["msgHash"].clone();
    assert_eq!(node.control(901, "test_accessList", json!([by_hash]))?["accessList"], want);
    let mut both = by_payload.clone();
    both["msgHash"] = r["msgHash"].clone();
    let mut wide = by_payload.clone();
    wide["logIndex"] = json!("0x100000000");
    for bad in [both, wide, json!({"origin": "0x12"})] {
        let (code, msg) = node.control_err(901, "test_accessList", json!([bad]))?;
        assert_eq!(code, -32602, "{msg}");
    }
    Ok(())
}
