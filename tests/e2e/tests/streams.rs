//! The shred stream over gRPC, and OTLP export switched on by environment.
use futures::StreamExt;
use opseq_e2e::*;
use opseq_interfaces::ShredBus;
use opseq_primitives::Shred;
use serde_json::json;
use std::{io::Read, net::TcpListener, time::Duration};

/// Shreds carry one gapless sequence of numbers per bus; a subscriber that lost its stream
/// resumes from the last number it saw and gets that shred again (at-least-once: it drops what
/// it has), over gRPC; without a number, a subscription starts at the next shred.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shred_streams_resume_from_a_sequence_number() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let bus = opseq_clients::GrpcShredBus::new(&format!("http://{}", node.grpc.as_ref().unwrap()))
        .map_err(|e| eyre::eyre!(e))?;
    let mut live = bus.subscribe_from(None, 0).await.map_err(|e| eyre::eyre!(e))?;
    node.rpc(901, "evm_mine", json!([]))?;
    node.rpc(902, "evm_mine", json!([]))?;
    // Each empty block: opened, its L1-info deposit's inclusion, then its seal.
    let mut got = Vec::new();
    while got.len() < 6 {
        match tokio::time::timeout(Duration::from_secs(10), live.next()).await {
            Ok(Some(s)) => got.push(s),
            _ => eyre::bail!("the stream ended or stalled after {got:?}"),
        }
    }
    for w in got.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "gapless: {got:?}");
    }
    drop(live);
    // Resume from the second one: the same shreds again, in order.
    let mut resumed = bus.subscribe_from(None, got[1].0).await.map_err(|e| eyre::eyre!(e))?;
    let mut again = Vec::new();
    while again.len() < 5 {
        match tokio::time::timeout(Duration::from_secs(10), resumed.next()).await {
            Ok(Some(s)) => again.push(s),
            _ => eyre::bail!("the resumed stream ended or stalled after {again:?}"),
        }
    }
    assert_eq!(again, got[1..].to_vec());
    // And then what comes next, numbered on.
    node.rpc(901, "evm_mine", json!([]))?;
    let next = tokio::time::timeout(Duration::from_secs(10), resumed.next()).await?.expect("a shred");
    assert_eq!(next.0, got[5].0 + 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shreds_stream_inclusions_then_the_seal_over_grpc() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let bus = opseq_clients::GrpcShredBus::new(&format!("http://{}", node.grpc.as_ref().unwrap()))
        .map_err(|e| eyre::eyre!(e))?;
    let mut shreds = bus.subscribe(Some(901)).await.map_err(|e| eyre::eyre!(e))?;
    let raw = sign_transfer(KEY0, 901, 0, "0x000000000000000000000000000000000000dEaD", 1, 21_000, 100_000_000_000)?;
    let hash = node.rpc(901, "eth_sendRawTransaction", json!([raw]))?;
    node.rpc(902, "evm_mine", json!([]))?; // another chain's shreds are filtered out
    node.rpc(901, "evm_mine", json!([]))?;
    let mut got = Vec::new();
    while let Ok(Some(s)) = tokio::time::timeout(Duration::from_secs(10), shreds.next()).await {
        let done = matches!(s, Shred::Sealed { .. });
        got.push(s);
        if done {
            break;
        }
    }
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(matches!(&got[0], Shred::Opened { chain_id: 901, block_number: 1, .. }), "opened first");
    let got = got.split_off(1);
    assert!(
        matches!(&got[0], Shred::TxIncluded { chain_id: 901, index: 0, success: true, .. }),
        "the L1-info deposit first"
    );
    match &got[1] {
        Shred::TxIncluded { index: 1, tx_hash, success: true, .. } => assert_eq!(json!(tx_hash), hash),
        other => panic!("expected our tx at index 1, got {other:?}"),
    }
    let head = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    match &got[2] {
        Shred::Sealed { block_hash, tx_count: 2, .. } => assert_eq!(json!(block_hash), head["hash"]),
        other => panic!("expected the seal, got {other:?}"),
    }
    Ok(())
}

#[test]
fn otlp_export_is_off_by_default_and_on_with_the_env_twin() -> eyre::Result<()> {
    let collector = TcpListener::bind("127.0.0.1:0")?;
    collector.set_nonblocking(true)?;
    let endpoint = format!("http://{}", collector.local_addr()?);
    let connects = |node: &Proc| -> eyre::Result<Option<Vec<u8>>> {
        for _ in 0..60 {
            node.rpc(901, "evm_mine", json!([]))?;
            if let Ok((mut s, _)) = collector.accept() {
                s.set_nonblocking(false)?;
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                let mut buf = vec![0u8; 24];
                s.read_exact(&mut buf)?;
                return Ok(Some(buf));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(None)
    };
    let dir = tempfile::tempdir()?;
    {
        let off = dev(&dir.path().join("off"), &["--no-auto"])?;
        for _ in 0..8 {
            off.rpc(901, "evm_mine", json!([]))?;
        }
        std::thread::sleep(Duration::from_secs(6));
        assert!(collector.accept().is_err(), "no export without an endpoint");
    }
    let on = dev_env(&dir.path().join("on"), &["--no-auto"], &[("OPSEQ_OTLP_ENDPOINT", &endpoint)])?;
    let preface = connects(&on)?.expect("the OTLP exporter connected to the collector within 15 s");
    // An OTLP/gRPC exporter opens with the HTTP/2 connection preface.
    assert_eq!(&preface, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    Ok(())
}

/// The shred stream over a websocket (`GET /shreds`), read by a Python `websockets` client as a
/// user script would: one JSON message per shred with its sequence number, this chain's only;
/// a `fromSeq` the bus no longer holds, an unknown chain or a bad query are refused before the
/// upgrade with the reason.
#[test]
fn shreds_stream_over_a_websocket() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let url = format!("ws://{}/shreds?chainId=901", node.http);
    let reader = WsReader::start(&url, &[])?;
    let raw = sign_transfer(KEY0, 901, 0, "0x000000000000000000000000000000000000dEaD", 1, 21_000, 100_000_000_000)?;
    let hash = node.rpc(901, "eth_sendRawTransaction", json!([raw]))?;
    node.rpc(902, "evm_mine", json!([]))?; // another chain's shreds are filtered out
    node.rpc(901, "evm_mine", json!([]))?;
    let msgs = reader.finish()?;
    let rest = serde_json::to_string(&msgs)?;
    let kinds: Vec<&str> = msgs.iter().map(|m| m["shred"]["kind"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["opened", "txIncluded", "txIncluded", "sealed"], "{rest}");
    assert!(msgs.iter().all(|m| m["shred"]["chainId"] == 901), "{rest}");
    assert_eq!(msgs[2]["shred"]["txHash"], hash);
    assert_eq!(msgs[2]["shred"]["index"], 2 - 1);
    assert_eq!(msgs[2]["shred"]["raw"], json!(raw), "the tx's bytes");
    let head = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(msgs[3]["shred"]["blockHash"], head["hash"]);
    assert_eq!(msgs[0]["shred"]["template"]["parentHash"], head["parentHash"], "opened on the parent");
    assert_eq!(msgs[0]["shred"]["template"]["timestamp"], head["timestamp"]);
    let seqs: Vec<u64> = msgs.iter().map(|m| m["seq"].as_u64().unwrap_or_default()).collect();
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");

    // Refusals, before the upgrade.
    for (query, status, reason) in [
        ("chainId=7", 404, "unknown chain 7"),
        ("fromSeq=abc", 400, "bad /shreds query"),
        ("chainID=901", 400, "bad /shreds query"),
        ("fromSeq=999999", 400, "was never published here"),
    ] {
        let url = format!("ws://{}/shreds?{query}", node.http);
        let got = std::process::Command::new(peers().join("venv/bin/python"))
            .arg(workspace().join("tests/e2e/py/shreds_ws.py"))
            .args(["--url", &url])
            .output()?;
        let text = String::from_utf8_lossy(&got.stdout).to_string();
        assert!(text.starts_with(&format!("refused {status}")) && text.contains(reason), "{query}: {text}");
    }
    Ok(())
}

/// A websocket client of `path` (python `websockets`), once it says the upgrade was answered.
struct WsReader {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl WsReader {
    fn start(url: &str, args: &[&str]) -> eyre::Result<Self> {
        let mut child = std::process::Command::new(peers().join("venv/bin/python"))
            .arg(workspace().join("tests/e2e/py/shreds_ws.py"))
            .args(["--url", url])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line)?;
        eyre::ensure!(line.trim() == "ready", "{line}");
        Ok(Self { child, out })
    }

    /// Every message it printed, once it is done.
    fn finish(mut self) -> eyre::Result<Vec<serde_json::Value>> {
        let mut rest = String::new();
        self.out.read_to_string(&mut rest)?;
        eyre::ensure!(self.child.wait()?.success(), "{rest}");
        Ok(rest.lines().map(serde_json::from_str).collect::<Result<_, _>>()?)
    }
}

/// The flashblocks view (`GET /flashblocks?chainId=`), read as rollup-boost's clients read it:
/// a block built from the pool is one payload (the base, then one flashblock per tx with its
/// bytes and receipt, then one with the sealed block's hash and roots); an include refused after
/// its execution streamed the tx starts a new payload with the txs the block keeps.
#[test]
fn flashblocks_view_over_a_websocket() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("d"), &["--no-auto"])?;
    let url = format!("ws://{}/flashblocks?chainId=901", node.http);
    let reader = WsReader::start(&url, &["--count", "4"])?;
    let raw = sign_transfer(KEY0, 901, 0, "0x000000000000000000000000000000000000dEaD", 1, 21_000, 100_000_000_000)?;
    let hash = node.rpc(901, "eth_sendRawTransaction", json!([raw]))?;
    node.rpc(902, "evm_mine", json!([]))?;
    node.rpc(901, "evm_mine", json!([]))?;
    let fbs = reader.finish()?;
    let head = node.rpc(901, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(fbs.len(), 4, "{fbs:?}");
    let id = fbs[0]["payload_id"].clone();
    assert_eq!(id.as_str().map(str::len), Some(18), "8 bytes: {id}");
    for (i, fb) in fbs.iter().enumerate() {
        assert_eq!((fb["payload_id"].clone(), fb["index"].clone()), (id.clone(), json!(i)), "{fb}");
    }
    let base = &fbs[0]["base"];
    assert_eq!(base["parent_hash"], head["parentHash"]);
    assert_eq!(
        (base["block_number"].clone(), base["timestamp"].clone()),
        (head["number"].clone(), head["timestamp"].clone())
    );
    assert_eq!(base["gas_limit"], head["gasLimit"]);
    assert_eq!(base["base_fee_per_gas"], head["baseFeePerGas"]);
    assert_eq!(base["extra_data"], head["extraData"]);
    assert!(fbs[1..].iter().all(|f| f.get("base").is_none()), "base on the first only");
    assert_eq!(fbs[2]["diff"]["transactions"], json!([raw]));
    assert_eq!(fbs[2]["metadata"]["receipts"][hash.as_str().unwrap_or_default()]["status"], "0x1");
    let last = &fbs[3]["diff"];
    assert_eq!(last["block_hash"], head["hash"]);
    assert_eq!(
        (last["state_root"].clone(), last["receipts_root"].clone()),
        (head["stateRoot"].clone(), head["receiptsRoot"].clone())
    );
    assert_eq!(last["gas_used"], head["gasUsed"]);

    // A rollback: a job includes a transfer, then an executing message of a chain outside the
    // dependency set, which its include refuses after executing it.
    let reader = WsReader::start(&url, &["--count", "6"])?;
    let job = node.control(901, "test_open", json!([]))?;
    let (jid, ts) = (job["jobId"].clone(), job["timestamp"].as_str().unwrap_or_default().to_string());
    let transfer =
        sign_transfer(KEY0, 901, 1, "0x000000000000000000000000000000000000dEaD", 1, 21_000, 100_000_000_000)?;
    node.control(901, "test_includeRaw", json!([jid, transfer]))?;
    let inbox = "0x4200000000000000000000000000000000000022";
    let id_json = json!({"origin": "0x4200000000000000000000000000000000000023", "blockNumber": "0x1", "logIndex": "0x0", "timestamp": ts, "chainId": "0x400", "msgHash": format!("{}", alloy_primitives::B256::repeat_byte(7))});
    let list = node.control(901, "test_accessList", json!([id_json]))?["accessList"].clone();
    let ts_dec = u64::from_str_radix(ts.trim_start_matches("0x"), 16)?.to_string();
    let data = cast(&[
        "calldata",
        "validateMessage((address,uint256,uint256,uint256,uint256),bytes32)",
        &format!("(0x4200000000000000000000000000000000000023,1,0,{ts_dec},1024)"),
        &format!("{}", alloy_primitives::B256::repeat_byte(7)),
    ])?;
    let key: alloy_signer_local::PrivateKeySigner = KEY1.parse()?;
    let bad = sign_eip1559_access_list(
        &key,
        901,
        0,
        alloy_primitives::TxKind::Call(inbox.parse()?),
        alloy_primitives::Bytes::from(alloy_primitives::hex::decode(data.trim())?),
        300_000,
        10_000_000_000,
        serde_json::from_value(list)?,
    )?;
    let (code, msg) = node.control_err(901, "test_includeRaw", json!([jid, bad]))?;
    assert!(code == -38570 && msg.contains("not in the dependency set"), "{msg}");
    let sealed = node.control(901, "test_seal", json!([jid]))?["block"].clone();
    let fbs = reader.finish()?;
    let kinds: Vec<(String, u64, usize)> = fbs
        .iter()
        .map(|f| {
            (
                f["payload_id"].as_str().unwrap_or_default().to_string(),
                f["index"].as_u64().unwrap_or(99),
                f["diff"]["transactions"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    let (p1, p2) = (&kinds[0].0, &kinds[4].0);
    assert_ne!(p1, p2, "the rollback starts a new payload: {kinds:?}");
    let shape: Vec<(bool, u64, usize)> = kinds.iter().map(|(p, i, n)| (p == p1, *i, *n)).collect();
    // Base; deposit; transfer; the refused tx; new payload: base with the two kept; the seal.
    assert_eq!(
        shape,
        [(true, 0, 0), (true, 1, 1), (true, 2, 1), (true, 3, 1), (false, 0, 2), (false, 1, 0)],
        "{kinds:?}"
    );
    assert_eq!(fbs[5]["diff"]["block_hash"], sealed["hash"]);
    Ok(())
}
