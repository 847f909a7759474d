//! Production mode (issue 18): op-node's sequencer admin API on our chains, each method and error
//! string as op-node v1.19.0 has them (`op-node/rollup/sequencing/sequencer.go`,
//! `op-node/node/api.go`): op-conductor matches "sequencer already running" / "sequencer not
//! running" by substring, op-devstack "block hash does not match".
use opseq_e2e::dev;
use serde_json::{Value, json};
use std::time::Duration;

const L2: u64 = 901;

/// op-node's strings, written from its source.
const ALREADY_RUNNING: &str = "sequencer already running";
const NOT_RUNNING: &str = "sequencer not running";

fn message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn op_nodes_admin_api_with_its_semantics_and_strings() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let genesis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs().to_string();
    let node = dev(&dir.path().join("a"), &["--no-auto", "--genesis.timestamp", &genesis, "--l2.block-time", "1"])?;
    let admin = |method: &str, params: Value| -> eyre::Result<Value> {
        Ok(node.control_raw(&format!("/chains/{L2}"), method, params)?.1)
    };
    // Without the JWT: refused (the admin API changes blocks).
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "admin_sequencerActive", "params": []}).to_string();
    let (status, _) = opseq_e2e::http("POST", &node.http, &format!("/chains/{L2}"), &body)?;
    assert_eq!(status, 401, "admin_* without the JWT");

    assert_eq!(admin("admin_sequencerActive", json!([]))?["result"], false);
    assert_eq!(message(&admin("admin_stopSequencer", json!([]))?), NOT_RUNNING);
    // Start on a hash that is not the head: op-node's words, the head as `hash:number`.
    let head = node.rpc(L2, "eth_getBlockByNumber", json!(["latest", false]))?;
    let (head_hash, head_number) = (head["hash"].as_str().unwrap().to_string(), opseq_e2e::hex_u64(&head["number"])?);
    let wrong = format!("0x{}", "ab".repeat(32));
    assert_eq!(
        message(&admin("admin_startSequencer", json!([wrong]))?),
        format!("block hash does not match: head {head_hash}:{head_number}, received {wrong}")
    );
    assert_eq!(admin("admin_sequencerActive", json!([]))?["result"], false, "a refused start started nothing");
    // Start on the head: sequencing runs; a second start is refused.
    assert_eq!(admin("admin_startSequencer", json!([head_hash]))?["result"], Value::Null);
    assert_eq!(admin("admin_sequencerActive", json!([]))?["result"], true);
    assert_eq!(message(&admin("admin_startSequencer", json!([head_hash]))?), ALREADY_RUNNING);
    opseq_e2e::opstack::wait_for(Duration::from_secs(20), "blocks while active", || {
        Ok((node.head(L2)? >= head_number + 2).then_some(()))
    })?;
    // Stop returns the head it stopped on, and the chain stays there.
    let stopped = admin("admin_stopSequencer", json!([]))?;
    let stopped_at = stopped["result"].as_str().unwrap_or_default().to_string();
    let after = node.rpc(L2, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(after["hash"].as_str(), Some(stopped_at.as_str()), "{stopped}");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        node.rpc(L2, "eth_getBlockByNumber", json!(["latest", false]))?["hash"].as_str(),
        Some(stopped_at.as_str())
    );
    assert_eq!(message(&admin("admin_stopSequencer", json!([]))?), NOT_RUNNING);
    // Junk arguments act on nothing.
    assert_eq!(admin("admin_stopSequencer", json!(["junk"]))?["error"]["code"], -32602);
    assert_eq!(admin("admin_conductorEnabled", json!([]))?["result"], false);
    assert_eq!(admin("admin_overrideLeader", json!([]))?["result"], Value::Null);

    // postUnsafePayload: blocks of another instance on the same genesis (as op-conductor posts
    // the raft head when the node is one block behind) become the head; a payload whose hash is
    // not its own is refused in op-node's words.
    let other = dev(&dir.path().join("b"), &["--no-auto", "--genesis.timestamp", &genesis, "--l2.block-time", "1"])?;
    for _ in 0..3 {
        other.rpc(L2, "evm_mine", json!([]))?;
    }
    // A third instance on the same genesis, never sequencing, takes other's blocks by posting.
    let fresh = dev(&dir.path().join("c"), &["--no-auto", "--genesis.timestamp", &genesis, "--l2.block-time", "1"])?;
    let envelope = |n: u64| opseq_e2e::opstack::envelope_of(&other, L2, n);
    let post = |e: Value| -> eyre::Result<Value> {
        Ok(fresh.control_raw(&format!("/chains/{L2}"), "admin_postUnsafePayload", json!([e]))?.1)
    };
    let mut bad = envelope(1)?;
    let real = bad["executionPayload"]["blockHash"].as_str().unwrap().to_string();
    let forged = format!("0x{}", "cd".repeat(32));
    bad["executionPayload"]["blockHash"] = json!(forged);
    assert_eq!(message(&post(bad)?), format!("payload has bad block hash: {forged}, actual block hash is: {real}"));
    assert_eq!(fresh.head(L2)?, 0, "a refused payload moved nothing");
    for n in 1..=3 {
        assert_eq!(post(envelope(n)?)?["result"], Value::Null);
    }
    assert_eq!(fresh.head(L2)?, 3);
    let theirs = other.rpc(L2, "eth_getBlockByNumber", json!(["0x3", false]))?["hash"].clone();
    assert_eq!(fresh.rpc(L2, "eth_getBlockByNumber", json!(["latest", false]))?["hash"], theirs);
    Ok(())
}

#[test]
fn the_sequencer_state_set_by_the_admin_api_wins_at_restart() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut node = dev(dir.path(), &["--no-auto"])?;
    let head = node.rpc(L2, "eth_getBlockByNumber", json!(["latest", false]))?["hash"].clone();
    assert_eq!(
        node.control_raw(&format!("/chains/{L2}"), "admin_startSequencer", json!([head]))?.1["result"],
        Value::Null
    );
    assert!(node.terminate(Duration::from_secs(10))?, "clean stop");
    drop(node);
    // Restarted with --no-auto, as before: the persisted "active" wins, as --rpc.admin-state does.
    let node = dev(dir.path(), &["--no-auto"])?;
    assert_eq!(node.control_raw(&format!("/chains/{L2}"), "admin_sequencerActive", json!([]))?.1["result"], true);
    Ok(())
}
