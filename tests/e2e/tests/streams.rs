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
    let py = peers().join("venv/bin/python");
    let script = workspace().join("tests/e2e/py/shreds_ws.py");
    let mut reader = std::process::Command::new(&py)
        .arg(&script)
        .args(["--url", &url])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut out = std::io::BufReader::new(reader.stdout.take().expect("stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line)?;
    assert_eq!(line.trim(), "ready");
    let raw = sign_transfer(KEY0, 901, 0, "0x000000000000000000000000000000000000dEaD", 1, 21_000, 100_000_000_000)?;
    let hash = node.rpc(901, "eth_sendRawTransaction", json!([raw]))?;
    node.rpc(902, "evm_mine", json!([]))?; // another chain's shreds are filtered out
    node.rpc(901, "evm_mine", json!([]))?;
    let mut rest = String::new();
    out.read_to_string(&mut rest)?;
    assert!(reader.wait()?.success(), "{rest}");
    let msgs: Vec<serde_json::Value> = rest.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
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
        let got = std::process::Command::new(&py).arg(&script).args(["--url", &url]).output()?;
        let text = String::from_utf8_lossy(&got.stdout).to_string();
        assert!(text.starts_with(&format!("refused {status}")) && text.contains(reason), "{query}: {text}");
    }
    Ok(())
}
