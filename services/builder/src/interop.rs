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

/// The block a tx's logs are in: its chain and number, and the logs of the txs before it (a
/// message may execute a log of its own block that comes before it).
#[derive(Debug, Clone, Copy)]
pub struct Within<'a> {
    /// The executing chain.
    pub chain: u64,
    /// The block's number.
    pub number: u64,
    /// The block's logs before the tx's, in order.
    pub before: &'a [Log],
}

/// The executing messages in `logs` (one tx's) of a block at `exec_timestamp`, each checked
/// against the initiating chain's store, or, for a log of the same block, against the logs before
/// it (executing one that comes later is a cycle).
pub async fn check_logs(
    edges: &Edges,
    rules: &InteropConfig,
    exec_timestamp: u64,
    within: Within<'_>,
    logs: &[Log],
) -> Vec<MessageCheck> {
    let mut out = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        match executing_message(log) {
            None => {}
            Some(Err(e)) => {
                out.push(MessageCheck { message: None, invalid: Some(format!("malformed ExecutingMessage log: {e}")) })
            }
            Some(Ok(m)) => {
                let same_block =
                    m.id.chain_id == alloy_primitives::U256::from(within.chain) && m.id.block_number == within.number;
                let invalid = if same_block {
                    let before: Vec<&Log> = within.before.iter().chain(&logs[..i]).collect();
                    validate_in_block(exec_timestamp, &m, &before).err()
                } else {
                    validate(edges, rules, exec_timestamp, &m).await.err()
                };
                out.push(MessageCheck { message: Some(m), invalid });
            }
        }
    }
    out
}

/// A message of the executing block itself: the log it names must come before the executing
/// one (else the log graph has a cycle), at this block's timestamp, from its origin, with its
/// payload.
fn validate_in_block(exec_timestamp: u64, m: &ExecutingMessage, before: &[&Log]) -> Result<(), String> {
    if m.id.timestamp != exec_timestamp {
        return Err(format!("timestamp {} is not this block's ({exec_timestamp})", m.id.timestamp));
    }
    let log = before.get(m.id.log_index as usize).ok_or_else(|| {
        format!(
            "cycle: log {} of this block does not come before the executing message (log {})",
            m.id.log_index,
            before.len()
        )
    })?;
    matches(log, m)
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
    let Identifier { block_number, log_index, timestamp, chain_id, .. } = m.id;
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
    let logs: Vec<Log> = block.receipts.iter().flat_map(|raw| receipt_logs(raw)).collect();
    let log = logs.get(log_index as usize).ok_or_else(|| {
        format!("block {block_number} of chain {chain} has {} logs: there is no log {log_index}", logs.len())
    })?;
    matches(log, m)
}

/// The log is the one `m` names: its emitter and payload hash.
fn matches(log: &Log, m: &ExecutingMessage) -> Result<(), String> {
    if log.address != m.id.origin {
        return Err(format!(
            "log {} was emitted by {}, not by the origin {}",
            m.id.log_index, log.address, m.id.origin
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
