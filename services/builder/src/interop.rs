//! Executing messages: what a builder checks of a tx's `ExecutingMessage` logs before including
//! it (OP specs `interop/messaging.md`, `derivation.md`; `../shared/reference/interop.md` §2).
//! The verifier derives executing messages from receipt logs, not from access lists, and so does
//! this: a tx whose inbox call reverted executed nothing.
use alloy_primitives::{B256, Log};
use opseq_interfaces::Edges;
use opseq_primitives::{
    InteropConfig,
    interop::{ExecutingMessage, Identifier, executing_message, message_hash},
};

/// One executing message of a tx, and what is wrong with it, if anything.
#[derive(Debug, Clone)]
pub struct MessageCheck {
    /// The message (`None` for a log too malformed to decode).
    pub message: Option<ExecutingMessage>,
    /// Why it is invalid; `None` when valid.
    pub invalid: Option<String>,
}

/// The executing messages in `logs` (one tx's) of a block at `exec_timestamp`, each checked
/// against the initiating chain's store.
pub async fn check_logs(edges: &Edges, rules: &InteropConfig, exec_timestamp: u64, logs: &[Log]) -> Vec<MessageCheck> {
    let mut out = Vec::new();
    for log in logs {
        match executing_message(log) {
            None => {}
            Some(Err(e)) => {
                out.push(MessageCheck { message: None, invalid: Some(format!("malformed ExecutingMessage log: {e}")) })
            }
            Some(Ok(m)) => {
                let invalid = validate(edges, rules, exec_timestamp, &m).await.err();
                out.push(MessageCheck { message: Some(m), invalid });
            }
        }
    }
    out
}

/// Why `m` may not be executed in a block at `exec_timestamp`: its chain is outside the
/// dependency set, it is from the future or expired (valid at exactly `init + window`), or the
/// log it names is not the one it claims (block unknown, timestamp, index, emitter, payload).
async fn validate(
    edges: &Edges,
    rules: &InteropConfig,
    exec_timestamp: u64,
    m: &ExecutingMessage,
) -> Result<(), String> {
    let Identifier { origin, block_number, log_index, timestamp, chain_id } = m.id;
    let chain = u64::try_from(chain_id)
        .ok()
        .filter(|c| rules.dependency_set.contains(c))
        .ok_or_else(|| format!("chain {chain_id} is not in the dependency set {:?}", rules.dependency_set))?;
    if timestamp > exec_timestamp {
        return Err(format!("initiated after the executing block: timestamp {timestamp} > {exec_timestamp}"));
    }
    if timestamp.saturating_add(rules.expiry_window) < exec_timestamp {
        return Err(format!(
            "expired: initiated at {timestamp}, executed at {exec_timestamp}, expiry window {}s",
            rules.expiry_window
        ));
    }
    let block = edges
        .state
        .block_by_number(chain, block_number)
        .await
        .map_err(|e| format!("reading block {block_number} of chain {chain}: {e}"))?
        .ok_or_else(|| format!("block {block_number} of chain {chain} is not known (sealed and committed)"))?;
    if block.header.timestamp != timestamp {
        return Err(format!(
            "timestamp {timestamp} is not block {block_number}'s ({}) on chain {chain}",
            block.header.timestamp
        ));
    }
    let mut logs = block.receipts.iter().flat_map(|raw| receipt_logs(raw));
    let count = block.receipts.iter().map(|raw| receipt_logs(raw).len()).sum::<usize>();
    let log = logs.nth(log_index as usize).ok_or_else(|| {
        format!("block {block_number} of chain {chain} has {count} logs: there is no log {log_index}")
    })?;
    if log.address != origin {
        return Err(format!(
            "log {log_index} of block {block_number} was emitted by {}, not by the origin {origin}",
            log.address
        ));
    }
    let mut payload: Vec<u8> = log.topics().iter().flat_map(|t| t.0).collect();
    payload.extend_from_slice(&log.data.data);
    let hash = message_hash(&payload);
    if hash != m.msg_hash {
        return Err(format!("the message hash {} is not the log's payload hash {hash}", m.msg_hash));
    }
    Ok(())
}

/// Checks the CrossL2Inbox entries of a tx's access list (OP tx envelope): every key must parse
/// (lookup, optional chain-id extension, checksum, in order; reserved bytes zero), as the
/// supervisor's check requires. A tx without inbox entries passes.
pub fn check_inbox_entries(raw: &[u8]) -> Result<(), String> {
    use alloy_consensus::Transaction;
    use alloy_eips::eip2718::Decodable2718;
    let Ok(tx) = op_alloy_consensus::OpTxEnvelope::decode_2718_exact(raw) else { return Ok(()) };
    let keys: Vec<B256> = tx
        .access_list()
        .map(|l| {
            l.iter()
                .filter(|i| i.address == opseq_primitives::interop::CROSS_L2_INBOX)
                .flat_map(|i| i.storage_keys.clone())
                .collect()
        })
        .unwrap_or_default();
    opseq_primitives::interop::parse_inbox_keys(&keys).map(drop)
}

/// The logs of an L2 receipt (EIP-2718 encoded).
pub fn receipt_logs(raw: &[u8]) -> Vec<Log> {
    use alloy_eips::eip2718::Decodable2718;
    op_alloy_consensus::OpReceiptEnvelope::decode_2718_exact(raw).map(|r| r.logs().to_vec()).unwrap_or_default()
}

/// The reasons of the invalid ones, for a refusal.
pub fn reasons(checks: &[MessageCheck]) -> Vec<String> {
    checks.iter().filter_map(|c| c.invalid.clone()).collect()
}

/// A checked message as JSON (the include result's `executingMessages`).
pub fn check_json(c: &MessageCheck) -> serde_json::Value {
    let id = c.message.map(|m| {
        serde_json::json!({
            "origin": m.id.origin,
            "blockNumber": format!("{:#x}", m.id.block_number),
            "logIndex": format!("{:#x}", m.id.log_index),
            "timestamp": format!("{:#x}", m.id.timestamp),
            "chainId": format!("{:#x}", m.id.chain_id),
        })
    });
    serde_json::json!({
        "msgHash": c.message.map(|m| m.msg_hash).unwrap_or(B256::ZERO),
        "identifier": id,
        "valid": c.invalid.is_none(),
        "reason": c.invalid,
    })
}
