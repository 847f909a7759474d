//! The RPC as clients no one here wrote see it (issue 22): refusals in geth's words, so cast (and
//! ethers, viem, web3.py, which match on geth's strings) classify them as against geth. The OP
//! receipt fields are checked key by key against op-geth's in `op_stack.rs`.
use opseq_e2e::{KEY0, cast, dev};

const DEAD: &str = "0x000000000000000000000000000000000000dEaD";

/// cast's error output of a command that must fail.
fn refused(args: &[&str]) -> String {
    match cast(args) {
        Ok(out) => panic!("cast {args:?} succeeded: {out}"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn refusals_use_geths_words() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    let url = node.url(901);
    // A tip above the fee cap: the pool refuses it (geth's ErrTipAboveFeeCap), and so does
    // estimation (cast estimates first when no gas limit is given).
    let tip_above_cap = ["--gas-price", "2gwei", "--priority-gas-price", "3gwei"];
    for with_limit in [true, false] {
        let mut args = vec!["send", "--async", "--rpc-url", &url, "--private-key", KEY0, DEAD, "--value", "1"];
        args.extend_from_slice(&tip_above_cap);
        if with_limit {
            args.extend_from_slice(&["--gas-limit", "21000"]);
        }
        let e = refused(&args);
        assert!(e.contains("max priority fee per gas higher than max fee per gas"), "{e}");
    }
    assert!(node.rpc(901, "txpool_status", serde_json::json!([]))?["pending"] == "0x0", "nothing pooled");
    // A sender without funds: geth's ErrInsufficientFunds, with its address/have/want details.
    let poor = "0x1111111111111111111111111111111111111111";
    let e = refused(&["estimate", "--rpc-url", &url, "--from", poor, "--gas-price", "1gwei", DEAD, "--value", "1"]);
    assert!(e.contains(&format!("insufficient funds for gas * price + value: address {poor} have 0 want")), "{e}");
    let e = refused(&["call", "--rpc-url", &url, "--from", poor, "--gas-price", "1gwei", DEAD, "--value", "1"]);
    assert!(e.contains("insufficient funds for gas * price + value"), "{e}");
    Ok(())
}

/// A contract that stores its calldata word in slot 0, and returns slot 0 when called without
/// data (hand-assembled: `CALLDATASIZE ISZERO PUSH1 0x0c JUMPI  PUSH1 0 CALLDATALOAD PUSH1 0
/// SSTORE STOP  JUMPDEST PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`, behind an init
/// that copies those 24 bytes).
const CELL_INIT: &str = "0x601880600b6000396000f33615600c57600035600055005b60005460005260206000f3";

#[test]
fn state_reads_at_past_blocks_answer_what_the_state_was_then() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    let url = node.url(901);
    let mine = || node.rpc(901, "evm_mine", serde_json::json!([]));
    let send = |args: &[&str]| -> eyre::Result<()> {
        let mut all = vec!["send", "--async", "--rpc-url", url.as_str(), "--private-key", KEY0];
        all.extend_from_slice(args);
        cast(&all)?;
        mine()?;
        Ok(())
    };
    let before_deploy = node.head(901)?;
    send(&["--create", CELL_INIT])?;
    let deployed = node.head(901)?;
    let receipt: serde_json::Value =
        serde_json::from_str(&cast(&["receipt", "--rpc-url", &url, "--json", &latest_tx(&node)?])?)?;
    let cell = receipt["contractAddress"].as_str().unwrap().to_string();
    let word = |n: u64| format!("{n:#066x}");
    send(&[&cell, &word(5)])?;
    let at5 = node.head(901)?;
    send(&[&cell, &word(9)])?;
    send(&["--value", "7", DEAD])?;
    let at9 = node.head(901)?;
    let at = |n: u64| n.to_string();
    // eth_call, eth_getStorageAt, eth_getCode, eth_getBalance, eth_getTransactionCount and
    // eth_getProof at each block answer that block's state.
    let call = |b: &str| cast(&["call", "--rpc-url", &url, "--block", b, &cell]);
    assert_eq!(call(&at(at5))?.trim(), word(5));
    assert_eq!(call(&at(at9))?.trim(), word(9));
    assert_eq!(call("latest")?.trim(), word(9));
    assert_eq!(cast(&["storage", "--rpc-url", &url, "--block", &at(at5), &cell, "0"])?.trim(), word(5));
    assert_eq!(cast(&["code", "--rpc-url", &url, "--block", &at(before_deploy), &cell])?.trim(), "0x");
    assert_ne!(cast(&["code", "--rpc-url", &url, "--block", &at(deployed), &cell])?.trim(), "0x");
    let nonce = |b: u64| cast(&["nonce", "--rpc-url", &url, "--block", &at(b), KEY0_ADDRESS]);
    assert_eq!((nonce(before_deploy)?.trim().to_string(), nonce(at5)?.trim().to_string()), ("0".into(), "2".into()));
    let balance = |b: u64| cast(&["balance", "--rpc-url", &url, "--block", &at(b), DEAD]);
    assert_eq!((balance(at5)?.trim().to_string(), balance(at9)?.trim().to_string()), ("0".into(), "7".into()));
    let proof: serde_json::Value =
        serde_json::from_str(&cast(&["proof", "--rpc-url", &url, "--block", &at(at5), &cell, "0"])?)?;
    assert_eq!(proof["storageProof"][0]["value"], "0x5", "{proof}");
    // A block past the head: geth's "header not found", for reads and calls alike.
    let ahead = at(at9 + 5);
    for e in [
        refused(&["balance", "--rpc-url", &url, "--block", &ahead, DEAD]),
        refused(&["call", "--rpc-url", &url, "--block", &ahead, &cell]),
    ] {
        assert!(e.contains("header not found"), "{e}");
    }
    Ok(())
}

/// Dev account 0's address.
const KEY0_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

fn latest_tx(node: &opseq_e2e::Proc) -> eyre::Result<String> {
    let b = node.rpc(901, "eth_getBlockByNumber", serde_json::json!(["latest", false]))?;
    Ok(b["transactions"].as_array().and_then(|t| t.last()).and_then(|t| t.as_str()).unwrap_or_default().to_string())
}

#[test]
fn methods_without_parameters_refuse_junk_and_change_nothing() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    let head = node.head(901)?;
    for method in ["eth_blockNumber", "eth_chainId", "eth_gasPrice", "txpool_status", "evm_mine"] {
        let v = node.rpc_raw(901, method, serde_json::json!(["junk"]))?;
        assert_eq!(v["error"]["code"], -32602, "{method}: {v}");
        assert_eq!(v["error"]["message"], "too many arguments, want at most 0", "{method}: {v}");
    }
    assert_eq!(node.head(901)?, head, "a refused evm_mine mined");
    // No parameters, or an empty list, are fine.
    assert_eq!(node.rpc(901, "eth_blockNumber", serde_json::json!([]))?, format!("{head:#x}"));
    node.rpc(901, "evm_mine", serde_json::json!([]))?;
    assert_eq!(node.head(901)?, head + 1);
    Ok(())
}

/// web3.py's websocket subscriber (`tests/e2e/py/subscribe.py`), once it says it subscribed.
struct Subscriber {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Subscriber {
    fn start(url: &str, address: &str, count: usize) -> eyre::Result<Self> {
        let mut child = std::process::Command::new(opseq_e2e::peers().join("venv/bin/python"))
            .arg(opseq_e2e::workspace().join("tests/e2e/py/subscribe.py"))
            .args(["--url", url, "--address", address, "--count", &count.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line)?;
        eyre::ensure!(line.trim() == "ready", "subscriber: {line}");
        Ok(Self { child, out })
    }

    fn finish(mut self) -> eyre::Result<Vec<serde_json::Value>> {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.out, &mut rest)?;
        eyre::ensure!(self.child.wait()?.success(), "{rest}");
        Ok(rest.lines().map(serde_json::from_str).collect::<Result<_, _>>()?)
    }
}

#[test]
fn web3py_subscriptions_get_heads_logs_pending_txs_and_removed_logs_after_a_reorg() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    // Logs come from the token of opseq_e2e (its transfer emits Transfer).
    let (token, transfer) = token_on_901(&node)?;
    // Block A1 with a Transfer log, then a reorg: a sibling of A1 without it (test API), then B2.
    // Notifications: pending tx, head A1, log A1; head A1' (the sibling), removed log A1, the tx
    // pending again (back in the pool); head B2.
    let sub = Subscriber::start(&format!("ws://{}/chains/901", node.http), &token.to_string(), 7)?;
    let hash = node.rpc(901, "eth_sendRawTransaction", serde_json::json!([transfer(1, 5)?]))?;
    node.rpc(901, "evm_mine", serde_json::json!([]))?;
    let a1 = node.rpc(901, "eth_getBlockByNumber", serde_json::json!(["latest", false]))?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    let job = node.control(901, "test_open", serde_json::json!([{"parent": a1["parentHash"]}]))?["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    node.control(901, "test_seal", serde_json::json!([job]))?;
    // The transfer went back to the pool: drop it so B2 stays without it.
    node.rpc(901, "anvil_dropTransaction", serde_json::json!([hash]))?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    node.rpc(901, "evm_mine", serde_json::json!([]))?;
    let msgs = sub.finish()?;
    let all = serde_json::to_string(&msgs)?;
    let of = |k: &str| msgs.iter().filter(|m| m["kind"] == k).map(|m| m["result"].clone()).collect::<Vec<_>>();
    let (heads, logs, pending) = (of("newHeads"), of("logs"), of("newPendingTransactions"));
    assert_eq!(pending, vec![hash.clone(), hash.clone()], "accepted, then back after the reorg: {all}");
    assert_eq!(heads.first().map(|h| h["hash"].clone()), Some(a1["hash"].clone()), "{all}");
    assert_eq!(heads.len(), 3, "A1, its sibling, B2: {all}");
    assert_ne!(heads[1]["hash"], a1["hash"]);
    // (web3.py formats header numbers as integers.)
    assert_eq!(heads[1]["number"].as_u64(), Some(opseq_e2e::hex_u64(&a1["number"])?), "the sibling is at A1's height");
    assert_eq!(logs.len(), 2, "A1's Transfer, then the same log removed: {all}");
    assert_eq!(
        (logs[0]["removed"].clone(), logs[1]["removed"].clone()),
        (serde_json::json!(false), serde_json::json!(true)),
        "{all}"
    );
    assert_eq!(logs[0]["transactionHash"], hash);
    assert_eq!(logs[1]["blockHash"], a1["hash"]);
    Ok(())
}

#[test]
fn polling_filters_answer_what_happened_since_the_last_poll_removed_logs_included() -> eyre::Result<()> {
    use serde_json::json;
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    let (token, transfer) = token_on_901(&node)?;
    let transfer = transfer(1, 5)?;

    let blocks = node.rpc(901, "eth_newBlockFilter", json!([]))?;
    let logs = node.rpc(901, "eth_newFilter", json!([{"address": token}]))?;
    let pending = node.rpc(901, "eth_newPendingTransactionFilter", json!([]))?;
    let changes = |f: &serde_json::Value| node.rpc(901, "eth_getFilterChanges", json!([f]));
    assert_eq!(changes(&blocks)?, json!([]), "nothing yet");
    let hash = node.rpc(901, "eth_sendRawTransaction", json!([transfer]))?;
    // The pool's event reaches the filter asynchronously: poll as a client does.
    let seen = opseq_e2e::opstack::wait_for(std::time::Duration::from_secs(10), "the pending tx", || {
        let got = changes(&pending)?;
        Ok(got.as_array().is_some_and(|a| !a.is_empty()).then_some(got))
    })?;
    assert_eq!(seen, json!([hash]));
    assert_eq!(changes(&pending)?, json!([]), "each poll answers what came since the last");
    node.rpc(901, "evm_mine", json!([]))?;
    let a1 = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(changes(&blocks)?, json!([a1["hash"]]));
    let got = changes(&logs)?;
    assert_eq!((got[0]["transactionHash"].clone(), got[0]["removed"].clone()), (hash.clone(), json!(false)), "{got}");
    // A reorg takes A1 out: the log comes again, removed; the block filter shows the sibling.
    let job =
        node.control(901, "test_open", json!([{"parent": a1["parentHash"]}]))?["jobId"].as_str().unwrap().to_string();
    node.control(901, "test_seal", json!([job]))?;
    let got = changes(&logs)?;
    assert_eq!((got.as_array().map(Vec::len), got[0]["removed"].clone()), (Some(1), json!(true)), "{got}");
    let sibling = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(changes(&blocks)?, json!([sibling["hash"]]));
    // eth_getFilterLogs: the filter's whole range, now without the reorged-out log.
    assert_eq!(node.rpc(901, "eth_getFilterLogs", json!([logs]))?, json!([]));
    // Uninstalled, and unknown, filters: geth's answers.
    assert_eq!(node.rpc(901, "eth_uninstallFilter", json!([blocks]))?, json!(true));
    assert_eq!(node.rpc(901, "eth_uninstallFilter", json!([blocks]))?, json!(false));
    let v = node.rpc_raw(901, "eth_getFilterChanges", json!([blocks]))?;
    assert_eq!(v["error"]["message"], "filter not found", "{v}");
    Ok(())
}

#[test]
fn debug_traces_of_a_contract_call_with_geths_tracers() -> eyre::Result<()> {
    use serde_json::json;
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    let (token, transfer) = token_on_901(&node)?;
    let raw = transfer(1, 5)?;
    let hash = node.rpc(901, "eth_sendRawTransaction", json!([raw]))?;
    node.rpc(901, "evm_mine", json!([]))?;
    // A later block, so the trace replays on a past state.
    node.rpc(901, "evm_mine", json!([]))?;
    let receipt = node.rpc(901, "eth_getTransactionReceipt", json!([hash]))?;
    let trace = |opts: serde_json::Value| node.rpc(901, "debug_traceTransaction", json!([hash, opts]));
    let call = trace(json!({"tracer": "callTracer", "tracerConfig": {"withLog": true}}))?;
    assert_eq!(call["type"], "CALL", "{call}");
    assert_eq!(call["to"].as_str().map(str::to_lowercase), Some(token.to_string().to_lowercase()));
    assert_eq!(call["logs"].as_array().map(Vec::len), Some(1), "the Transfer: {call}");
    // The call's gas is the tx's minus intrinsic costs: it used less than the receipt says.
    assert!(opseq_e2e::hex_u64(&call["gasUsed"])? <= opseq_e2e::hex_u64(&receipt["gasUsed"])?);
    let pre = trace(json!({"tracer": "prestateTracer"}))?;
    assert!(pre.get(token.to_string().to_lowercase()).is_some() || pre.get(token.to_string()).is_some(), "{pre}");
    let steps = trace(json!({}))?;
    assert!(steps["structLogs"].as_array().map(Vec::len).unwrap_or_default() > 10, "the struct logger's steps");
    assert_eq!(steps["failed"], false);
    // A block: one entry per tx (the L1-info deposit first).
    let block = node.rpc(901, "debug_traceBlockByNumber", json!([receipt["blockNumber"], {"tracer": "callTracer"}]))?;
    assert_eq!(block.as_array().map(Vec::len), Some(2), "{block}");
    assert_eq!(block[1]["txHash"], hash);
    assert_eq!(
        block[1]["result"],
        call.as_object()
            .map(|o| {
                let mut o = o.clone();
                o.remove("logs");
                serde_json::Value::Object(o)
            })
            .unwrap_or_default()
    );
    // debug_traceCall: the same call, not sent, at the head (dev account 0 holds the tokens).
    let input = format!("0xa9059cbb{:0>64}{:064x}", "42".repeat(20), 5);
    let traced = node.rpc(
        901,
        "debug_traceCall",
        json!([{"from": KEY0_ADDRESS, "to": token, "data": input}, "latest", {"tracer": "callTracer", "tracerConfig": {"withLog": true}}]),
    )?;
    assert_eq!((traced["type"].clone(), traced["logs"].as_array().map(Vec::len)), (json!("CALL"), Some(1)), "{traced}");
    // Refusals: an unknown tx, an unknown tracer.
    let v = node.rpc_raw(901, "debug_traceTransaction", json!([format!("0x{}", "11".repeat(32))]))?;
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("not found"), "{v}");
    let v = node.rpc_raw(901, "debug_traceTransaction", json!([hash, {"tracer": "nopeTracer"}]))?;
    assert!(v["error"].is_object(), "{v}");
    Ok(())
}

#[test]
fn calls_reach_back_to_the_oldest_kept_block_and_say_so_one_past_it() -> eyre::Result<()> {
    use serde_json::json;
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    // More blocks than the reorg window (8,192: the store prunes older change records).
    node.rpc(902, "anvil_mine", json!([8200]))?;
    let head = node.head(902)?;
    let call = |n: u64| node.rpc_raw(902, "eth_call", json!([{"to": DEAD}, format!("{n:#x}")]));
    let oldest = head - 8192;
    assert_eq!(call(oldest)?["result"], "0x", "the oldest block the window keeps");
    let past = call(oldest - 1)?;
    let message = past["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("deeper than the reorg window (8192 blocks)"), "{past}");
    // Balances and nonces are read through proofs (trie nodes are never pruned): any block.
    let v = node.rpc(902, "eth_getBalance", json!([KEY0_ADDRESS, "0x1"]))?;
    assert_eq!(v, "0x21e19e0c9bab2400000");
    Ok(())
}

#[test]
fn ethers_classifies_our_refusals_as_against_geth() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    let out = std::process::Command::new("node")
        .arg(opseq_e2e::workspace().join("tests/e2e/js/ethers_errors.mjs"))
        .args([node.url(901).as_str(), KEY0])
        .env("OPSEQ_NODE_MODULES", opseq_e2e::peers().join("npm/node_modules"))
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    eyre::ensure!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let codes: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .map(|v| (v["name"].as_str().unwrap_or_default().into(), v["code"].as_str().unwrap_or_default().into()))
        })
        .collect::<Result<_, _>>()?;
    let want = [
        ("insufficient funds", "INSUFFICIENT_FUNDS"),
        ("replacement underpriced", "REPLACEMENT_UNDERPRICED"),
        ("nonce too low", "NONCE_EXPIRED"),
    ];
    assert_eq!(codes, want.map(|(a, b)| (a.to_string(), b.to_string())), "{text}");
    Ok(())
}

/// The token of opseq_e2e deployed on 901 by dev account 0 (its nonce 0, mined), and a signed
/// `transfer(0x42…42, amount)` of it with `nonce`.
fn token_on_901(
    node: &opseq_e2e::Proc,
) -> eyre::Result<(alloy_primitives::Address, impl Fn(u64, u64) -> eyre::Result<String>)> {
    let key0: alloy_signer_local::PrivateKeySigner = KEY0.parse()?;
    let init = alloy_primitives::Bytes::from(alloy_primitives::hex::decode(opseq_e2e::TOKEN_INIT)?);
    let raw = opseq_e2e::sign_eip1559(
        &key0,
        901,
        0,
        alloy_primitives::TxKind::Create,
        alloy_primitives::U256::ZERO,
        init,
        200_000,
        10_000_000_000,
    )?;
    node.rpc(901, "eth_sendRawTransaction", serde_json::json!([raw]))?;
    node.rpc(901, "evm_mine", serde_json::json!([]))?;
    let token = key0.address().create(0);
    let transfer = move |nonce: u64, amount: u64| -> eyre::Result<String> {
        let mut input = alloy_primitives::hex::decode("a9059cbb")?;
        input.extend_from_slice(&[0u8; 12]);
        input.extend_from_slice(alloy_primitives::Address::repeat_byte(0x42).as_slice());
        input.extend_from_slice(&alloy_primitives::U256::from(amount).to_be_bytes::<32>());
        opseq_e2e::sign_eip1559(
            &key0,
            901,
            nonce,
            alloy_primitives::TxKind::Call(token),
            alloy_primitives::U256::ZERO,
            input.into(),
            100_000,
            10_000_000_000,
        )
    };
    Ok((token, transfer))
}
