//! Interop messages for the e2e tests: the predeploys, sending (`sendMessage`), executing
//! (`validateMessage` with the access list the test API gives) and one same-timestamp exchange
//! between 901 and 902 (interop.rs, op_stack.rs).
use crate::{KEY0, KEY1, Proc, cast, message_of, sign_eip1559, sign_eip1559_access_list};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::{Value, json};

const GWEI: u128 = 1_000_000_000;

/// CrossL2Inbox predeploy.
pub const INBOX: &str = "0x4200000000000000000000000000000000000022";
/// L2ToL2CrossDomainMessenger predeploy.
pub const MESSENGER: &str = "0x4200000000000000000000000000000000000023";
/// The target of the messages the tests send.
pub const TARGET: &str = "0x000000000000000000000000000000000000bEEF";
/// A dev key as a signer.
pub fn key(k: &str) -> PrivateKeySigner {
    k.parse().expect("a dev key")
}

/// A call of `to` with `data` (and an access list), signed by `k`: its raw form.
pub fn call_tx(
    k: &PrivateKeySigner,
    chain: u64,
    nonce: u64,
    to: &str,
    data: &str,
    list: Option<&Value>,
) -> eyre::Result<String> {
    let to = TxKind::Call(to.parse::<Address>()?);
    let input = Bytes::from(alloy_primitives::hex::decode(data.trim())?);
    match list {
        Some(l) => {
            sign_eip1559_access_list(k, chain, nonce, to, input, 300_000, 10 * GWEI, serde_json::from_value(l.clone())?)
        }
        None => sign_eip1559(k, chain, nonce, to, U256::ZERO, input, 300_000, 10 * GWEI),
    }
}

/// `sendMessage(destination, TARGET, message)` calldata for the messenger.
pub fn send_message_data(destination: u64, message: &str) -> eyre::Result<String> {
    cast(&["calldata", "sendMessage(uint256,address,bytes)", &destination.to_string(), TARGET, message])
}

/// An identifier as the test API and cast take it, with one field changed.
pub fn with(id: &Value, field: &str, v: Value) -> Value {
    let mut id = id.clone();
    id[field] = v;
    id
}

/// An identifier as the `(address,uint256,uint256,uint256,uint256)` tuple cast takes.
pub fn tuple(id: &Value) -> eyre::Result<String> {
    let n = |k: &str| -> eyre::Result<String> {
        Ok(U256::from_str_radix(id[k].as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)?.to_string())
    };
    Ok(format!(
        "({},{},{},{},{})",
        id["origin"].as_str().unwrap_or_default(),
        n("blockNumber")?,
        n("logIndex")?,
        n("timestamp")?,
        n("chainId")?
    ))
}

/// `validateMessage(id, msgHash)` on `chain`'s inbox, with the access list the test API gives.
pub fn validate_tx_on(
    node: &Proc,
    chain: u64,
    k: &PrivateKeySigner,
    nonce: u64,
    id: &Value,
    msg_hash: &str,
) -> eyre::Result<String> {
    let list =
        node.control(chain, "test_accessList", json!([with(id, "msgHash", json!(msg_hash))]))?["accessList"].clone();
    let data = cast(&[
        "calldata",
        "validateMessage((address,uint256,uint256,uint256,uint256),bytes32)",
        &tuple(id)?,
        msg_hash,
    ])?;
    call_tx(k, chain, nonce, INBOX, &data, Some(&list))
}

/// Two blocks open at one timestamp, 901's built by `pa` and 902's by `pb`: 901's log 0 is a
/// message X; 902 executes X (log 0) from 901's open block, and then includes Y (log 1) 300 ms
/// after 901 began an include that executes Y (log 1) and so waits for it. Both valid.
pub fn exchange_at_one_timestamp(pa: &Proc, pb: &Proc) -> eyre::Result<Pair> {
    let (k0, k1) = (key(KEY0), key(KEY1));
    let (a, b) = (pa.control(901, "test_open", json!([]))?, pb.control(902, "test_open", json!([]))?);
    assert_eq!(a["timestamp"], b["timestamp"], "both blocks at one timestamp");
    let (ja, jb, ts) = (a["jobId"].clone(), b["jobId"].clone(), a["timestamp"].clone());
    // 901 log 0: X; 902 log 0 executes it.
    let x = pa.control(
        901,
        "test_includeRaw",
        json!([ja, call_tx(&k0, 901, 0, MESSENGER, &send_message_data(902, "0x0a")?, None)?]),
    )?;
    let (_, x_hash) = message_of(&x["logs"][0])?;
    let x_id = json!({"origin": MESSENGER, "blockNumber": a["number"], "logIndex": "0x0", "timestamp": ts, "chainId": "0x385"});
    let r = pb.control(902, "test_includeRaw", json!([jb, validate_tx_on(pb, 902, &k1, 0, &x_id, &x_hash)?]))?;
    assert_eq!(r["executingMessages"][0]["valid"], true, "X from the other open block: {r}");
    // 902 log 1: Y, from dev account 2 with nonce 0, so a dry run on a throwaway job gives its
    // hash; 901 log 1 executes Y, waiting for it: 901 log 0 → 902 log 0 → 902 log 1 → 901 log 1
    // is acyclic.
    let k2 = key("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
    let y_raw = call_tx(&k2, 902, 0, MESSENGER, &send_message_data(901, "0x0b")?, None)?;
    let dry = pb.control(902, "test_open", json!([]))?["jobId"].clone();
    let (_, y_hash) = message_of(&pb.control(902, "test_includeRaw", json!([dry, y_raw]))?["logs"][0])?;
    pb.control(902, "test_cancel", json!([dry]))?;
    let y_id = json!({"origin": MESSENGER, "blockNumber": b["number"], "logIndex": "0x1", "timestamp": ts, "chainId": "0x386"});
    let exec_y = validate_tx_on(pa, 901, &k1, 0, &y_id, &y_hash)?;
    let waited = std::thread::scope(|s| {
        let waiter = s.spawn(|| pa.control(901, "test_includeRaw", json!([ja, exec_y])));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let y = pb.control(902, "test_includeRaw", json!([jb, y_raw]))?;
        assert_eq!(y["index"], "0x2", "after the deposit and X's executing tx: Y is log 1 {y}");
        waiter.join().expect("the waiting include")
    })?;
    assert_eq!(waited["executingMessages"][0]["valid"], true, "Y waited for: {waited}");
    Ok(Pair { a, b, ja, jb, x_id, y_hash })
}

/// The block pair [`exchange_at_one_timestamp`] leaves open.
#[derive(Debug)]
pub struct Pair {
    /// See [`exchange_at_one_timestamp`].
    pub a: Value,
    /// See [`exchange_at_one_timestamp`].
    pub b: Value,
    /// See [`exchange_at_one_timestamp`].
    pub ja: Value,
    /// See [`exchange_at_one_timestamp`].
    pub jb: Value,
    /// See [`exchange_at_one_timestamp`].
    pub x_id: Value,
    /// See [`exchange_at_one_timestamp`].
    pub y_hash: String,
}
