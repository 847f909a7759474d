//! A flashblocks-style view of a chain's shred stream, for clients written against
//! rollup-boost / op-rbuilder's websocket (`FlashblocksPayloadV1` of rollup-boost's
//! `specs/flashblocks.md`: `payload_id`, `index`, `base` on the first of a payload, a `diff`
//! with the new transactions, the block's gas used so far and, once sealed, its roots and hash,
//! and `metadata` with the new txs' receipts). Derived from shreds, as interop.md §4 proposes:
//! `Opened` starts a payload (index 0, the base), each `TxIncluded` is one flashblock, `Sealed`
//! ends the payload with the sealed block's header fields, and since flashblocks have no
//! rollback, a `RolledBack` starts a new payload whose first flashblock carries the kept txs.
//! The view follows the most recently opened block of its chain.
use alloy_consensus::Header;
use alloy_primitives::{B256, Bloom, Bytes};
use opseq_interfaces::StateSource;
use opseq_primitives::{ChainId, Shred};
use serde_json::{Value, json};
use std::sync::Arc;

/// One included tx as the view keeps it.
#[derive(Debug, Clone)]
struct Tx {
    raw: Bytes,
    gas_used: u64,
    receipt: Value,
    hash: B256,
}

/// The block the view follows.
#[derive(Debug)]
struct Current {
    payload_id: [u8; 8],
    index: u64,
    template: Header,
    build_id: String,
    txs: Vec<Tx>,
}

/// The view of one chain: feed it the chain's shreds in order, send what it answers.
#[derive(Debug)]
pub struct FlashblocksView {
    chain: ChainId,
    state: Arc<dyn StateSource>,
    current: Option<Current>,
    /// Payloads started so far (each gets its own id).
    started: u64,
}

fn quantity(n: u64) -> String {
    format!("{n:#x}")
}

impl FlashblocksView {
    /// A view of `chain`, reading sealed blocks from `state`.
    pub fn new(chain: ChainId, state: Arc<dyn StateSource>) -> Self {
        Self { chain, state, current: None, started: 0 }
    }

    /// A new payload id: keccak(chain ‖ number ‖ build id ‖ count)[..8].
    fn payload_id(&mut self, number: u64, build_id: &str) -> [u8; 8] {
        self.started += 1;
        let mut pre = Vec::new();
        pre.extend_from_slice(&self.chain.to_be_bytes());
        pre.extend_from_slice(&number.to_be_bytes());
        pre.extend_from_slice(build_id.as_bytes());
        pre.extend_from_slice(&self.started.to_be_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&alloy_primitives::keccak256(pre)[..8]);
        id
    }

    /// The flashblocks `shred` makes (none, one, or — never more than — one).
    pub async fn apply(&mut self, shred: &Shred) -> Vec<Value> {
        if shred.chain_id() != self.chain {
            return vec![];
        }
        match shred {
            Shred::Opened { build_id, template, .. } => {
                let payload_id = self.payload_id(template.number, build_id);
                let c = Current {
                    payload_id,
                    index: 0,
                    template: (**template).clone(),
                    build_id: build_id.clone(),
                    txs: vec![],
                };
                let out = first(&c);
                self.current = Some(c);
                vec![out]
            }
            Shred::TxIncluded { block_number, index, tx_hash, success, gas_used, raw, logs, .. } => {
                let Some(c) = self.current.as_mut().filter(|c| c.template.number == *block_number) else {
                    return vec![];
                };
                // At-least-once delivery: an inclusion already seen changes nothing.
                if *index as usize != c.txs.len() {
                    return vec![];
                }
                let cumulative = c.txs.iter().map(|t| t.gas_used).sum::<u64>() + gas_used;
                let receipt = json!({
                    "status": quantity(u64::from(*success)),
                    "gasUsed": quantity(*gas_used),
                    "cumulativeGasUsed": quantity(cumulative),
                    "logs": logs,
                });
                c.txs.push(Tx { raw: raw.clone(), gas_used: *gas_used, receipt, hash: *tx_hash });
                c.index += 1;
                vec![flashblock(c, &c.txs[c.txs.len() - 1..], None)]
            }
            Shred::RolledBack { block_number, from_index, .. } => {
                let Some(number) = self.current.as_ref().map(|c| c.template.number).filter(|n| n == block_number)
                else {
                    return vec![];
                };
                let build_id = self.current.as_ref().map(|c| c.build_id.clone()).unwrap_or_default();
                let payload_id = self.payload_id(number, &build_id);
                let Some(c) = self.current.as_mut() else { return vec![] };
                c.txs.truncate(*from_index as usize);
                c.payload_id = payload_id;
                c.index = 0;
                vec![first(c)]
            }
            Shred::Sealed { block_number, block_hash, .. } => {
                let Some(mut c) = self.current.take().filter(|c| c.template.number == *block_number) else {
                    return vec![];
                };
                let Ok(Some(block)) = self.state.block_by_hash(self.chain, *block_hash).await else {
                    return vec![];
                };
                c.index += 1;
                vec![flashblock(&c, &[], Some((&block.header, block.hash)))]
            }
            Shred::Cancelled { block_number, .. } => {
                if self.current.as_ref().is_some_and(|c| c.template.number == *block_number) {
                    self.current = None;
                }
                vec![]
            }
            _ => vec![],
        }
    }
}

/// The first flashblock of a payload: the base, and the txs it starts with.
fn first(c: &Current) -> Value {
    let t = &c.template;
    let mut fb = flashblock(c, &c.txs, None);
    fb["base"] = json!({
        "parent_beacon_block_root": t.parent_beacon_block_root.unwrap_or_default(),
        "parent_hash": t.parent_hash,
        "fee_recipient": t.beneficiary,
        "prev_randao": t.mix_hash,
        "block_number": quantity(t.number),
        "gas_limit": quantity(t.gas_limit),
        "timestamp": quantity(t.timestamp),
        "extra_data": t.extra_data,
        "base_fee_per_gas": quantity(t.base_fee_per_gas.unwrap_or_default()),
    });
    fb
}

/// A flashblock of `c` carrying `new` txs; with the sealed header, the block's final fields.
fn flashblock(c: &Current, new: &[Tx], sealed: Option<(&Header, B256)>) -> Value {
    let gas_used = c.txs.iter().map(|t| t.gas_used).sum::<u64>();
    let receipts: serde_json::Map<String, Value> =
        new.iter().map(|t| (t.hash.to_string(), t.receipt.clone())).collect();
    let (state_root, receipts_root, bloom, block_hash, withdrawals_root, blob_gas_used) = match sealed {
        Some((h, hash)) => {
            (h.state_root, h.receipts_root, h.logs_bloom, hash, h.withdrawals_root.unwrap_or_default(), h.blob_gas_used)
        }
        None => (B256::ZERO, B256::ZERO, Bloom::ZERO, B256::ZERO, B256::ZERO, None),
    };
    let mut diff = json!({
        "state_root": state_root,
        "receipts_root": receipts_root,
        "logs_bloom": bloom,
        "gas_used": quantity(sealed.map_or(gas_used, |(h, _)| h.gas_used)),
        "block_hash": block_hash,
        "transactions": new.iter().map(|t| t.raw.clone()).collect::<Vec<_>>(),
        "withdrawals": [],
        "withdrawals_root": withdrawals_root,
    });
    if let Some(b) = blob_gas_used {
        diff["blob_gas_used"] = json!(quantity(b));
    }
    json!({
        "payload_id": format!("0x{}", alloy_primitives::hex::encode(c.payload_id)),
        "index": c.index,
        "diff": diff,
        "metadata": {
            "block_number": c.template.number,
            "new_account_balances": {},
            "receipts": receipts,
        },
    })
}
