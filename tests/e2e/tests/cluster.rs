//! The same devnet as five processes on loopback, talking gRPC.
use opseq_e2e::*;
use opseq_primitives::{PoolEvent, RemovalReason};
use serde_json::json;
use std::time::{Duration, Instant};

const DEAD: &str = "0x000000000000000000000000000000000000dEaD";
/// Dev account 0's address.
const KEY0_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

#[test]
fn cluster_cast_on_901_web3py_on_902_state_roots_recompute() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let cluster = Cluster::start(dir.path(), &["--no-auto"])?;
    // Every process serves health, readiness and Prometheus metrics.
    for (name, p) in &cluster.procs {
        for path in ["/healthz", "/readyz", "/metrics"] {
            let (code, body) = http("GET", &p.http, path, "")?;
            assert_eq!(code, 200, "{name} {path}: {body}");
        }
    }
    let (_, readyz) = http("GET", &cluster.procs[1].1.http, "/readyz", "")?;
    assert!(readyz.contains("state-fetcher"), "the txpool reports its dependency: {readyz}");
    let node = cluster.builder();
    let url = node.url(901);
    // The txpool's event stream, subscribed over gRPC from outside the cluster.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let _in_rt = rt.enter();
    let pool = opseq_clients::GrpcTxSource::new(&cluster.grpc_url("txpool").expect("txpool address"))?;
    let mut events = rt.block_on(opseq_interfaces::TxSource::subscribe(&pool))?;
    let hash = cast(&["send", "--async", "--rpc-url", &url, "--private-key", KEY0, DEAD, "--value", "1ether"])?;
    node.rpc(901, "evm_mine", json!([]))?;
    let tx: alloy_primitives::B256 = hash.trim().parse()?;
    let seen: Vec<_> = rt.block_on(async {
        use futures::StreamExt;
        tokio::time::timeout(Duration::from_secs(10), events.by_ref().take(2).collect::<Vec<_>>()).await
    })?;
    let sender = alloy_signer_local::PrivateKeySigner::from_bytes(&KEY0.parse()?)?.address();
    assert_eq!(
        seen,
        vec![
            PoolEvent::Added { chain_id: 901, hash: tx, sender, nonce: 0, pending: true },
            PoolEvent::Removed { chain_id: 901, hash: tx, reason: RemovalReason::Mined },
        ]
    );
    let status = cast(&["receipt", "--rpc-url", &url, &hash, "status"])?;
    assert!(status.starts_with('1') || status == "true", "receipt status {status}");
    // History across processes: reads at the block before the transfer (the state-fetcher's
    // proofs at that block over gRPC, and its overlay for eth_call) answer that block's state.
    let before = (node.head(901)? - 1).to_string();
    assert_eq!(cast(&["balance", "--rpc-url", &url, "--block", &before, DEAD])?.trim(), "0");
    assert_eq!(cast(&["balance", "--rpc-url", &url, DEAD])?.trim(), "1000000000000000000");
    assert_eq!(cast(&["nonce", "--rpc-url", &url, "--block", &before, KEY0_ADDRESS])?.trim(), "0");
    cast(&["call", "--rpc-url", &url, "--block", &before, DEAD])?;
    assert_eq!(cast(&["balance", "--rpc-url", &url, DEAD])?, "1000000000000000000");
    let block = node.head(901)?;
    python("state_root.py", &["--rpc", &url, "--block", &block.to_string()])?;

    let url = node.url(902);
    let out = python("web3_transfer.py", &["--rpc", &url, "--chain-id", "902", "--key", KEY1, "--to", DEAD, "--mine"])?;
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default())?;
    python("state_root.py", &["--rpc", &url, "--block", &v["block"].to_string()])?;
    Ok(())
}

#[test]
fn cluster_auto_sequencing_and_a_missing_dependency_is_named() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cluster = Cluster::start(dir.path(), &["--l2.block-time", "1", "--l1.block-time", "2"])?;
    let url = cluster.builder().url(901);
    let r = cast(&["send", "--rpc-url", &url, "--private-key", KEY0, DEAD, "--value", "5", "--json"])?;
    let r: serde_json::Value = serde_json::from_str(&r)?;
    assert_eq!(r["status"], "0x1");

    // The signer dies: readiness names it, sequencing stops, calls fail clearly.
    cluster.kill9("signer");
    let t = Instant::now();
    let body = loop {
        let (code, body) = http("GET", &cluster.builder().http, "/readyz", "")?;
        if code == 503 {
            break body;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "readyz never reported the dead signer");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.contains("\"signer\"") && body.contains("missing"), "{body}");
    std::thread::sleep(Duration::from_secs(2));
    let stalled = cluster.builder().head(901)?;
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(cluster.builder().head(901)?, stalled, "no unsigned blocks while the signer is down");
    let v = cluster.builder().rpc_raw(901, "evm_mine", json!([]))?;
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("signer unreachable"), "{v}");

    // It comes back: sequencing resumes within 5 s.
    cluster.restart("signer")?;
    let t = Instant::now();
    while cluster.builder().head(901)? <= stalled {
        assert!(t.elapsed() < Duration::from_secs(5), "sequencing did not resume within 5 s of the signer restart");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// The test API over the five processes: a sibling built on an older parent reads its state
/// through the state-fetcher's overlay over gRPC, and committing it reorgs the store remotely.
#[test]
fn cluster_equivocation_through_the_test_api() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let cluster = Cluster::start(dir.path(), &["--no-auto"])?;
    let node = cluster.builder();
    let first = node.control(901, "test_open", json!([]))?["jobId"].clone();
    node.control(
        901,
        "test_includeRaw",
        json!([first, sign_transfer(KEY0, 901, 0, DEAD, 5, 21_000, 10_000_000_000)?]),
    )?;
    let a = node.control(901, "test_seal", json!([first]))?["block"].clone();
    let b_job = node.control(901, "test_open", json!([{"parent": a["parentHash"]}]))?["jobId"].clone();
    node.control(
        901,
        "test_includeRaw",
        json!([b_job, sign_transfer(KEY0, 901, 0, DEAD, 9, 21_000, 10_000_000_000)?]),
    )?;
    let b = node.control(901, "test_seal", json!([b_job]))?;
    assert_eq!(b["reorgedOut"], json!([a["hash"]]));
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), DEAD])?, "9");
    let head = node.head(901)?;
    python("state_root.py", &["--rpc", &node.url(901), "--block", &head.to_string()])?;
    Ok(())
}

/// Every `opseq_*` metric any process exposes is one of these names; dashboards and alerts rely
/// on them, so a rename must change this list (and deploy/grafana) on purpose.
const PINNED_METRICS: &[&str] = &[
    "opseq_builder_build_seconds",
    "opseq_builder_control_seconds",
    "opseq_builder_head_number",
    "opseq_grpc_client_errors_total",
    "opseq_grpc_client_seconds",
    "opseq_publisher_blocks_total",
    "opseq_state_head_number",
    "opseq_state_reorged_blocks_total",
    "opseq_txpool_accepted_total",
    "opseq_txpool_txs",
];

#[test]
fn metric_names_are_pinned_and_each_component_reports_its_own() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let cluster = Cluster::start(dir.path(), &["--no-auto"])?;
    let node = cluster.builder();
    node.rpc(901, "eth_sendRawTransaction", json!([sign_transfer(KEY0, 901, 0, DEAD, 1, 21_000, 10_000_000_000)?]))?;
    node.rpc(901, "evm_mine", json!([]))?;
    // An equivocation, for the reorg counter.
    let head = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    let job = node.control(
        901,
        "test_open",
        json!([{"parent": head["parentHash"], "timestamp": format!("{:#x}", hex_u64(&head["timestamp"])? + 1)}]),
    )?["jobId"]
        .clone();
    node.control(901, "test_seal", json!([job]))?;
    let names_of = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with("opseq_"))
            .map(|l| {
                let name = l.split(['{', ' ']).next().unwrap_or_default();
                name.strip_suffix("_sum").or_else(|| name.strip_suffix("_count")).unwrap_or(name).to_string()
            })
            .collect()
    };
    let mut all = std::collections::BTreeSet::new();
    let mut per: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (name, p) in &cluster.procs {
        let (code, text) = http("GET", &p.http, "/metrics", "")?;
        assert_eq!(code, 200);
        let names = names_of(&text);
        all.extend(names.clone());
        per.insert(name.clone(), names);
    }
    let unpinned: Vec<_> = all.iter().filter(|n| !PINNED_METRICS.contains(&n.as_str())).collect();
    assert!(unpinned.is_empty(), "metrics not in the pinned list: {unpinned:?}");
    for (component, must) in [
        (
            "builder",
            &[
                "opseq_builder_build_seconds",
                "opseq_builder_control_seconds",
                "opseq_builder_head_number",
                "opseq_grpc_client_seconds",
            ][..],
        ),
        ("txpool", &["opseq_txpool_accepted_total", "opseq_txpool_txs", "opseq_grpc_client_seconds"][..]),
        ("publisher", &["opseq_publisher_blocks_total", "opseq_grpc_client_seconds"][..]),
        ("state-fetcher", &["opseq_state_head_number", "opseq_state_reorged_blocks_total"][..]),
    ] {
        for m in must {
            assert!(per[component].contains(*m), "{component} does not expose {m}: {:?}", per[component]);
        }
    }
    Ok(())
}

/// The Grafana dashboard (deploy/grafana/op-sequencer.json) is valid JSON and only queries
/// pinned metric names.
#[test]
fn the_grafana_dashboard_queries_only_pinned_metrics() -> eyre::Result<()> {
    let text = std::fs::read_to_string(workspace().join("deploy/grafana/op-sequencer.json"))?;
    let dash: serde_json::Value = serde_json::from_str(&text)?;
    let mut used = std::collections::BTreeSet::new();
    for p in dash["panels"].as_array().expect("panels") {
        for t in p["targets"].as_array().expect("targets") {
            let expr = t["expr"].as_str().expect("expr");
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("opseq_") {
                    used.insert(word.to_string());
                }
            }
        }
    }
    assert!(used.len() >= 8, "{used:?}");
    for m in &used {
        assert!(PINNED_METRICS.contains(&m.as_str()), "the dashboard queries {m}, which no process exports");
    }
    Ok(())
}
