//! `op-sequencer dev` driven by real clients.
use opseq_e2e::*;
use serde_json::json;
use std::time::{Duration, Instant};

const DEAD: &str = "0x000000000000000000000000000000000000dEaD";

#[test]
fn cast_transfer_on_901_and_the_state_root_recomputes() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let url = node.url(901);
    // cast sends asynchronously, we ask for a block, cast reads the receipt and the balance.
    let hash = cast(&["send", "--async", "--rpc-url", &url, "--private-key", KEY0, DEAD, "--value", "1ether"])?;
    node.rpc(901, "evm_mine", json!([]))?;
    let status = cast(&["receipt", "--rpc-url", &url, &hash, "status"])?;
    assert!(status.starts_with('1') || status == "true", "receipt status {status}");
    let block: u64 = cast(&["receipt", "--rpc-url", &url, &hash, "blockNumber"])?.parse()?;
    assert_eq!(block, node.head(901)?);
    assert_eq!(cast(&["balance", "--rpc-url", &url, DEAD])?, "1000000000000000000");
    // The block's first tx is the L1-info deposit, the transfer comes second.
    let txs = node.rpc(901, "eth_getBlockByNumber", json!([format!("{block:#x}"), true]))?["transactions"].clone();
    assert_eq!(txs[0]["type"], "0x7e");
    assert_eq!(
        txs[0]["to"].as_str().map(str::to_lowercase).as_deref(),
        Some("0x4200000000000000000000000000000000000015")
    );
    assert_eq!(txs[1]["hash"], hash);
    // The header's state root equals one recomputed from the stored state by ethereum's own trie code.
    let out = python("state_root.py", &["--rpc", &url, "--block", &block.to_string()])?;
    assert!(out.contains("\"recomputed\""), "{out}");
    // Other chains did not see the transfer.
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(902), DEAD])?, "0");
    Ok(())
}

#[test]
fn web3py_transfer_on_902_and_the_state_root_recomputes() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let url = node.url(902);
    let out = python("web3_transfer.py", &["--rpc", &url, "--chain-id", "902", "--key", KEY1, "--to", DEAD, "--mine"])?;
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default())?;
    assert_eq!(v["status"], 1);
    let block = v["block"].as_u64().unwrap();
    python("state_root.py", &["--rpc", &url, "--block", &block.to_string()])?;
    Ok(())
}

#[test]
fn auto_sequencing_mines_txs_sent_with_cast_and_advances_every_chain() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--l2.block-time", "1", "--l1.block-time", "2"])?;
    let url = node.url(901);
    let t = Instant::now();
    // cast waits for the receipt: the tx must be mined by the schedule alone.
    let receipt = cast(&["send", "--rpc-url", &url, "--private-key", KEY0, DEAD, "--value", "1", "--json"])?;
    let r: serde_json::Value = serde_json::from_str(&receipt)?;
    assert_eq!(r["status"], "0x1");
    assert!(t.elapsed() < Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));
    assert!(node.head(900)? >= 1, "L1 mock advances");
    assert!(node.head(902)? >= 2, "L2 902 advances");
    // Every L2 block carries an L1 origin that exists on the L1 mock.
    let b = node.rpc(902, "eth_getBlockByNumber", json!(["latest", true]))?;
    let deposit_input = b["transactions"][0]["input"].as_str().unwrap().to_string();
    // The dev L2s follow Jovian: `setL1BlockValuesJovian` (178 bytes, the DA-footprint scalar
    // last: the default 400 for the system config's 0).
    assert!(deposit_input.starts_with("0x3db6be2b"), "Jovian L1-info selector: {deposit_input}");
    assert_eq!(deposit_input.len(), 2 + 178 * 2);
    assert!(deposit_input.ends_with("0190"), "DA-footprint gas scalar 400: {deposit_input}");
    let origin_number = u64::from_str_radix(&deposit_input[2 + 56..2 + 72], 16)?;
    let origin_hash = format!("0x{}", &deposit_input[2 + 200..2 + 264]);
    let l1 = node.rpc(900, "eth_getBlockByNumber", json!([format!("{origin_number:#x}"), false]))?;
    assert_eq!(l1["hash"].as_str(), Some(origin_hash.as_str()));
    Ok(())
}

#[test]
fn kill_dash_nine_loses_no_accepted_tx_and_heads_continue() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("d");
    let mut node = dev(&data, &["--no-auto"])?;
    for _ in 0..3 {
        node.rpc(901, "evm_mine", json!([]))?;
    }
    let head_before = node.head(901)?;
    let hash = cast(&["send", "--async", "--rpc-url", &node.url(901), "--private-key", KEY0, DEAD, "--value", "7"])?;
    node.kill9();
    drop(node);

    let node = dev(&data, &["--no-auto"])?;
    assert_eq!(node.head(901)?, head_before, "the chain resumes at its head");
    let pending = node.rpc(901, "eth_getTransactionByHash", json!([hash]))?;
    assert_eq!(pending["hash"], hash, "the accepted tx survived the crash in the pool");
    assert!(pending["blockNumber"].is_null());
    node.rpc(901, "evm_mine", json!([]))?;
    assert_eq!(node.head(901)?, head_before + 1);
    let r = node.rpc(901, "eth_getTransactionReceipt", json!([hash]))?;
    assert_eq!(r["status"], "0x1");
    assert_eq!(cast(&["balance", "--rpc-url", &node.url(901), DEAD])?, "7");
    Ok(())
}

#[test]
fn restart_with_auto_sequencing_mines_the_journaled_tx() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("d");
    let mut node = dev(&data, &["--l2.block-time", "1", "--l1.block-time", "2"])?;
    let head = node.head(902)?;
    let raw = sign_transfer(KEY1, 902, 0, DEAD, 9, 21_000, 100_000_000_000)?;
    let hash = node.rpc(902, "eth_sendRawTransaction", json!([raw]))?;
    node.kill9();
    drop(node);
    let node = dev(&data, &["--l2.block-time", "1", "--l1.block-time", "2"])?;
    let t = Instant::now();
    loop {
        let r = node.rpc(902, "eth_getTransactionReceipt", json!([hash]))?;
        if !r.is_null() {
            assert_eq!(r["status"], "0x1");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "tx {hash} neither mined nor lost within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(node.head(902)? > head);
    Ok(())
}

#[test]
fn clean_shutdown_on_sigterm_and_resume() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("d");
    let mut node = dev(&data, &["--no-auto"])?;
    node.rpc(900, "evm_mine", json!([]))?;
    node.rpc(901, "evm_mine", json!([]))?;
    let (h900, h901) = (node.head(900)?, node.head(901)?);
    assert!(node.terminate(Duration::from_secs(10))?, "exits 0 on SIGTERM");
    drop(node);
    let node = dev(&data, &["--no-auto"])?;
    assert_eq!((node.head(900)?, node.head(901)?), (h900, h901));
    Ok(())
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    // One mined tx from account 0, so that nonce 0 is "too low" afterwards.
    let ok = sign_transfer(KEY0, 901, 0, DEAD, 1, 21_000, 100_000_000_000)?;
    node.rpc(901, "eth_sendRawTransaction", json!([ok]))?;
    node.rpc(901, "evm_mine", json!([]))?;
    let head = node.head(901)?;
    let balance = node.rpc(901, "eth_getBalance", json!([DEAD, "latest"]))?;
    let status = node.rpc(901, "txpool_status", json!([]))?;

    let expect_err = |raw: &str, code: i64, needle: &str| -> eyre::Result<()> {
        let v = node.rpc_raw(901, "eth_sendRawTransaction", json!([raw]))?;
        let e = &v["error"];
        assert_eq!(e["code"], code, "{raw:.40}: {v}");
        let msg = e["message"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "error {msg:?} does not mention {needle:?}");
        Ok(())
    };
    expect_err("0x1234", -32000, "failed to decode")?;
    expect_err("0xzz", -32602, "not hex")?;
    expect_err(&format!("0x02{}", "00".repeat(130 * 1024)), -32000, "oversized data")?;
    expect_err(&sign_transfer(KEY0, 902, 1, DEAD, 1, 21_000, 100_000_000_000)?, -32000, "invalid chain id")?;
    expect_err(&sign_transfer(KEY0, 901, 0, DEAD, 1, 21_000, 100_000_000_000)?, -32000, "nonce too low")?;
    let broke = "0x0000000000000000000000000000000000000000000000000000000000000001";
    expect_err(&sign_transfer(broke, 901, 0, DEAD, 1, 21_000, 100_000_000_000)?, -32000, "insufficient funds")?;
    expect_err(
        &sign_transfer(KEY0, 901, 1, DEAD, 1, 100_000_000, 100_000_000_000)?,
        -32000,
        "exceeds block gas limit",
    )?;

    // Unknown method, invalid params, invalid JSON, unknown route.
    let v = node.rpc_raw(901, "eth_noSuchMethod", json!([]))?;
    assert_eq!(v["error"]["code"], -32601);
    assert!(v["error"]["message"].as_str().unwrap().contains("eth_noSuchMethod"));
    let v = node.rpc_raw(901, "eth_getBalance", json!(["not-an-address"]))?;
    assert_eq!(v["error"]["code"], -32602);
    let (code, body) = http("POST", &node.http, "/chains/901", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\"")?;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(v["error"]["code"], -32700, "{body}");
    let (code, body) = http(
        "POST",
        &node.http,
        "/chains/999",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
    )?;
    assert_eq!(code, 404);
    let v: serde_json::Value = serde_json::from_str(&body)?;
    assert!(v["error"]["message"].as_str().unwrap().contains("/chains/901"), "{body}");
    let (code, _) = http("POST", &node.http, "/nope", "{}")?;
    assert_eq!(code, 404);

    // Nothing changed.
    node.rpc(901, "evm_mine", json!([]))?;
    assert_eq!(node.head(901)?, head + 1);
    let b = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(b["transactions"].as_array().unwrap().len(), 1, "only the L1-info deposit: no refused tx was mined");
    assert_eq!(node.rpc(901, "eth_getBalance", json!([DEAD, "latest"]))?, balance);
    assert_eq!(node.rpc(901, "txpool_status", json!([]))?, status);
    Ok(())
}

#[test]
fn health_readiness_metrics_and_wallet_methods() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    node.rpc(901, "evm_mine", json!([]))?;
    let (code, body) = http("GET", &node.http, "/readyz", "")?;
    assert_eq!(code, 200, "{body}");
    for dep in ["state-fetcher", "txpool", "signer", "publisher"] {
        assert!(body.contains(dep), "{body}");
    }
    let (code, metrics) = http("GET", &node.http, "/metrics", "")?;
    assert_eq!(code, 200);
    assert!(metrics.contains("opseq_builder_head_number{chain_id=\"901\"} 1"), "{metrics}");
    assert!(metrics.contains("opseq_builder_build_seconds"), "{metrics}");
    assert_eq!(node.rpc(901, "eth_chainId", json!([]))?, "0x385");
    assert_eq!(node.rpc(902, "net_version", json!([]))?, "902");
    assert!(node.rpc(900, "web3_clientVersion", json!([]))?.as_str().unwrap().starts_with("op-sequencer/"));
    let fh = node.rpc(901, "eth_feeHistory", json!(["0x2", "latest", [50]]))?;
    assert_eq!(fh["baseFeePerGas"].as_array().unwrap().len(), 3);
    let gas = cast(&[
        "estimate",
        "--rpc-url",
        &node.url(901),
        DEAD,
        "--value",
        "1",
        "--from",
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    ])?;
    assert_eq!(gas, "21000");
    let code = cast(&["code", "--rpc-url", &node.url(900), "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02"])?;
    assert!(code.starts_with("0x3373"), "EIP-4788 beacon roots code: {code}");
    // eth_call into the beacon roots contract with a wrong-length input reverts, as the EIP says.
    let v = node.rpc_raw(
        900,
        "eth_call",
        json!([{"to": "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02", "data": "0x01"}, "latest"]),
    )?;
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("execution reverted"), "{v}");
    // State reads at an older block answer that block's state: dev account 0 had its 10,000 ETH
    // at genesis; a block past the head is geth's "header not found".
    node.rpc(901, "evm_mine", json!([]))?;
    let v = node.rpc(901, "eth_getBalance", json!(["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x0"]))?;
    assert_eq!(v, "0x21e19e0c9bab2400000", "genesis balance");
    let v = node.rpc_raw(901, "eth_getBalance", json!([DEAD, "0xffff"]))?;
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("header not found"), "{v}");
    Ok(())
}

#[test]
fn l1_mock_blocks_are_valid_for_ethereumjs_and_the_spec_t8n() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let ts = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() - 3600).to_string();
    let node = dev(&dir.path().join("d"), &["--no-auto", "--genesis.timestamp", &ts])?;
    let genesis = run(&binary(), &["genesis", "--chain", "900", "--genesis.timestamp", &ts])?;
    let gpath = dir.path().join("genesis.json");
    std::fs::write(&gpath, genesis)?;
    // Block 1: a transfer, a contract creation and a call into the beacon-roots contract.
    node.rpc(
        900,
        "eth_sendRawTransaction",
        json!([sign_transfer(KEY0, 900, 0, DEAD, 12345, 21_000, 100_000_000_000)?]),
    )?;
    cast(&[
        "send",
        "--async",
        "--rpc-url",
        &node.url(900),
        "--private-key",
        KEY1,
        "--create",
        "0x600a600c600039600a6000f3602a60005260206000f3",
    ])?;
    // cast fills the nonce from the latest state, so the second tx of KEY0 names its nonce.
    cast(&[
        "send",
        "--async",
        "--rpc-url",
        &node.url(900),
        "--private-key",
        KEY0,
        "--nonce",
        "1",
        "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02",
        "--gas-limit",
        "100000",
        "0x",
    ])?;
    node.rpc(900, "evm_mine", json!([]))?;
    let b1 = node.rpc(900, "eth_getBlockByNumber", json!(["0x1", false]))?;
    assert_eq!(b1["transactions"].as_array().unwrap().len(), 3, "{b1}");
    node.rpc(900, "evm_mine", json!([]))?; // and an empty one
    let peers = peers();
    let out = python(
        "engine_check.py",
        &[
            "--rpc",
            &node.url(900),
            "--genesis",
            gpath.to_str().unwrap(),
            "--ethereumjs",
            peers.join("bin/ethereumjs").to_str().unwrap(),
            "--t8n",
            peers.join("bin/ethereum-spec-evm").to_str().unwrap(),
        ],
    )?;
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default())?;
    println!("{v}");
    assert_eq!(v["newPayloadV4"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["newPayloadV4"][0]["txs"], 3, "{v}");
    assert!(v["newPayloadV4"].as_array().unwrap().iter().all(|r| r["status"] == "VALID"), "{v}");
    assert_eq!(v["t8n"]["match"], true, "{v}");
    Ok(())
}

#[test]
fn l2_txs_pay_real_l1_data_fees_through_the_l1block_predeploy() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    node.rpc(901, "evm_mine", json!([]))?;
    // L1Block.basefee() now holds the L1 origin's base fee, set by the L1-info deposit.
    let l1_block = "0x4200000000000000000000000000000000000015";
    let fee = node.rpc(901, "eth_call", json!([{"to": l1_block, "data": "0x5cf24969"}, "latest"]))?;
    let origin = node.rpc(900, "eth_getBlockByNumber", json!(["0x0", false]))?;
    assert_eq!(hex_u128(&fee)?, hex_u128(&origin["baseFeePerGas"])?);
    // A transfer costs value + gas × price + the L1 data fee.
    let from = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    let before = hex_u128(&node.rpc(901, "eth_getBalance", json!([from, "latest"]))?)?;
    let raw = sign_transfer(KEY0, 901, 0, DEAD, 1_000, 21_000, 100_000_000_000)?;
    let hash = node.rpc(901, "eth_sendRawTransaction", json!([raw]))?;
    node.rpc(901, "evm_mine", json!([]))?;
    let r = node.rpc(901, "eth_getTransactionReceipt", json!([hash]))?;
    let after = hex_u128(&node.rpc(901, "eth_getBalance", json!([from, "latest"]))?)?;
    let gas = hex_u64(&r["gasUsed"])? as u128 * hex_u128(&r["effectiveGasPrice"])?;
    let l1_fee = before - after - 1_000 - gas;
    assert!(l1_fee > 0, "no L1 data fee was charged");
    // The GasPriceOracle (what viem/ethers ask for L1-fee estimates) is there, upgraded through
    // Isthmus, reads the same L1Block values, and prices the signed tx as op-revm charged it: it
    // adds 68 bytes for a signature to what it is given, so for the signed tx it may only ask
    // a little more.
    let gpo = "0x420000000000000000000000000000000000000F";
    let sel = |f: &str| format!("0x{}", alloy_primitives::hex::encode(&alloy_primitives::keccak256(f.as_bytes())[..4]));
    let call = |data: String| node.rpc(901, "eth_call", json!([{"to": gpo, "data": data}, "latest"]));
    assert_eq!(hex_u128(&call(sel("isIsthmus()"))?)?, 1);
    assert_eq!(hex_u128(&call(sel("l1BaseFee()"))?)?, hex_u128(&fee)?);
    let raw_hex = raw.trim_start_matches("0x");
    let arg = format!(
        "{}{:064x}{:064x}{raw_hex}{}",
        sel("getL1Fee(bytes)"),
        32,
        raw_hex.len() / 2,
        "0".repeat((64 - (raw_hex.len() % 64)) % 64)
    );
    let estimate = hex_u128(&call(arg)?)?;
    assert!(estimate >= l1_fee && estimate <= l1_fee * 3 / 2, "GasPriceOracle {estimate} vs charged {l1_fee}");
    Ok(())
}

#[test]
fn eth_get_logs_filters_by_range_address_and_topics() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let url = node.url(901);
    // A contract that logs 42 under topic 0x11…11 when called (hand-assembled runtime, 0x2c bytes).
    let topic = format!("0x{}", "11".repeat(32));
    let init = format!("0x602c600c600039602c6000f3602a6000527f{}60206000a100", "11".repeat(32));
    cast(&["send", "--async", "--rpc-url", &url, "--private-key", KEY1, "--create", &init])?;
    node.rpc(901, "evm_mine", json!([]))?;
    let emitter = "0x8464135c8F25Da09e49BC8782676a84730C318bC"; // create(dev account 1, nonce 0)
    assert_ne!(node.rpc(901, "eth_getCode", json!([emitter, "latest"]))?, "0x");
    let hash = cast(&[
        "send",
        "--async",
        "--rpc-url",
        &url,
        "--private-key",
        KEY1,
        "--nonce",
        "1",
        "--gas-limit",
        "100000",
        emitter,
    ])?;
    node.rpc(901, "evm_mine", json!([]))?;
    let block = node.head(901)?;
    // cast, a real client, finds it.
    let out = cast(&["logs", "--rpc-url", &url, "--from-block", "0", "--address", emitter])?;
    assert!(out.contains(&topic[2..]), "{out}");
    let logs = |filter: serde_json::Value| -> eyre::Result<Vec<serde_json::Value>> {
        Ok(node.rpc(901, "eth_getLogs", json!([filter]))?.as_array().cloned().unwrap_or_default())
    };
    let all = logs(json!({"fromBlock": "earliest", "toBlock": "latest", "address": emitter}))?;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["transactionHash"], hash);
    assert_eq!(all[0]["blockNumber"], format!("{block:#x}"));
    assert_eq!(all[0]["data"], format!("0x{:064x}", 42));
    assert_eq!(logs(json!({"fromBlock": "0x0", "topics": [[topic, format!("0x{}", "22".repeat(32))]]}))?.len(), 1);
    assert_eq!(logs(json!({"fromBlock": "0x0", "topics": [format!("0x{}", "22".repeat(32))]}))?.len(), 0);
    assert_eq!(logs(json!({"fromBlock": "0x0", "address": [DEAD]}))?.len(), 0);
    assert_eq!(logs(json!({"blockHash": all[0]["blockHash"]}))?.len(), 1);
    assert_eq!(logs(json!({"fromBlock": format!("{:#x}", block + 1)}))?.len(), 0);
    let bad = node.rpc_raw(901, "eth_getLogs", json!([{"blockHash": all[0]["blockHash"], "fromBlock": "0x0"}]))?;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    // eth_getBlockReceipts, by number and by hash: the L1-info deposit's receipt, then ours.
    for id in [json!(format!("{block:#x}")), all[0]["blockHash"].clone()] {
        let rs = node.rpc(901, "eth_getBlockReceipts", json!([id]))?;
        let rs = rs.as_array().unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0]["type"], "0x7e");
        assert_eq!(rs[1]["transactionHash"], hash);
        assert_eq!(rs[1]["logs"][0]["logIndex"], "0x0");
        assert_eq!(rs[1], node.rpc(901, "eth_getTransactionReceipt", json!([hash]))?);
    }
    assert!(node.rpc(901, "eth_getBlockReceipts", json!([format!("{:#x}", block + 5)]))?.is_null());
    Ok(())
}

/// `eth_getProof` answers verify with ethereum's Python trie against the block's stateRoot:
/// an EOA, the L1Block predeploy with slots that hold the L1-info values (and one that is zero),
/// an account that does not exist; also through cast, and on a chain forked from our own node
/// (whose proofs then come from the upstream's `eth_getProof`). Bad input is refused.
#[test]
fn eth_get_proof_verifies_against_the_state_root() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    node.rpc(901, "evm_mine", json!([]))?;
    let url = node.url(901);
    let eoa = cast(&["wallet", "address", "--private-key", KEY0])?;
    let args = [
        "--rpc",
        url.as_str(),
        "--account",
        eoa.trim(),
        "--account",
        "0x4200000000000000000000000000000000000015",
        "--account",
        "0x00000000000000000000000000000000000dead1",
        "--slot",
        "0x0",
        "--slot",
        "0x1",
        "--slot",
        "0x2",
        "--slot",
        "0x3",
        "--slot",
        "0x99",
    ];
    let out = python("verify_proof.py", &args)?;
    assert!(out.contains("18 proofs verified"), "{out}");
    let l1block =
        node.rpc(901, "eth_getProof", json!(["0x4200000000000000000000000000000000000015", ["0x1"], "latest"]))?;
    assert_ne!(l1block["storageProof"][0]["value"], "0x0", "the L1-info deposit wrote slot 1: {l1block}");
    // cast's own reading of it.
    let c = cast(&["proof", "--rpc-url", &url, "0x4200000000000000000000000000000000000015", "0x1"])?;
    assert!(c.contains("storageHash") || c.contains("storage_hash"), "{c}");
    // Bad input: a clear error, nothing else.
    let v = node.rpc_raw(901, "eth_getProof", json!(["0x12", [], "latest"]))?;
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let many: Vec<String> = (0..1025).map(|i| format!("{i:#x}")).collect();
    let v = node.rpc_raw(901, "eth_getProof", json!([eoa.trim(), many, "latest"]))?;
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("1024"), "{v}");

    // A chain forked from this node's L1 (900): proofs of keys it never touched come from here.
    node.rpc(900, "evm_mine", json!([]))?;
    let fork = dev(&dir.path().join("f"), &["--no-auto", "--fork.url", &node.url(900)])?;
    let chain: u64 = 900;
    let furl = fork.url(chain);
    let out = python(
        "verify_proof.py",
        &[
            "--rpc",
            &furl,
            "--account",
            eoa.trim(),
            "--account",
            "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02",
            "--slot",
            "0x1",
        ],
    )?;
    assert!(out.contains("4 proofs verified"), "{out}");
    Ok(())
}
