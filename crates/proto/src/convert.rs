//! Wire <-> domain conversions.
use crate::v1;
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::{Decodable, Encodable};
use opseq_primitives::{
    AccountChange, AccountState, BlockRef, OpseqError, PoolEvent, PoolTx, RemovalReason, SealedBlock, Shred, ShredDep,
    ShredLog, StateDiff,
};

type R<T> = Result<T, OpseqError>;

fn bad(what: &str) -> OpseqError {
    OpseqError::invalid(format!("malformed {what} on the wire"))
}

/// Parses a 32-byte hash.
pub fn b256(b: &[u8]) -> R<B256> {
    (b.len() == 32).then(|| B256::from_slice(b)).ok_or_else(|| bad("hash"))
}
/// Parses a 20-byte address.
/// A list of 32-byte hashes.
pub fn hashes(v: &[Vec<u8>]) -> R<Vec<B256>> {
    v.iter().map(|h| b256(h)).collect()
}

pub fn address(b: &[u8]) -> R<Address> {
    (b.len() == 20).then(|| Address::from_slice(b)).ok_or_else(|| bad("address"))
}
/// Parses a big-endian 256-bit word.
pub fn u256(b: &[u8]) -> R<U256> {
    (b.len() <= 32).then(|| U256::from_be_slice(b)).ok_or_else(|| bad("word"))
}
/// Encodes a u128 as 16 big-endian bytes.
pub fn u128_bytes(v: u128) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}
/// Parses 16 big-endian bytes.
pub fn u128_from(b: &[u8]) -> R<u128> {
    b.try_into().map(u128::from_be_bytes).map_err(|_| bad("u128"))
}

/// Block ref to wire.
pub fn block_ref_to_wire(r: &BlockRef) -> v1::BlockRef {
    v1::BlockRef { number: r.number, hash: r.hash.to_vec() }
}
/// Block ref from wire.
pub fn block_ref_from_wire(r: &v1::BlockRef) -> R<BlockRef> {
    Ok(BlockRef { number: r.number, hash: b256(&r.hash)? })
}

/// Block to wire.
pub fn block_to_wire(b: &SealedBlock) -> v1::Block {
    let mut header_rlp = Vec::new();
    b.header.encode(&mut header_rlp);
    v1::Block {
        header_rlp,
        transactions: b.transactions.iter().map(|t| t.to_vec()).collect(),
        senders: b.senders.iter().map(|s| s.to_vec()).collect(),
        receipts: b.receipts.iter().map(|r| r.to_vec()).collect(),
        l1_origin: b.l1_origin.as_ref().map(block_ref_to_wire),
        signature: b.signature.as_ref().map(|s| s.to_vec()),
    }
}

/// Block from wire (hashes are recomputed, not trusted).
pub fn block_from_wire(b: &v1::Block) -> R<SealedBlock> {
    let header = Header::decode(&mut b.header_rlp.as_slice()).map_err(|_| bad("header"))?;
    let transactions: Vec<Bytes> = b.transactions.iter().map(|t| Bytes::from(t.clone())).collect();
    Ok(SealedBlock {
        hash: header.hash_slow(),
        header,
        tx_hashes: transactions.iter().map(alloy_primitives::keccak256).collect(),
        transactions,
        senders: b.senders.iter().map(|s| address(s)).collect::<R<_>>()?,
        receipts: b.receipts.iter().map(|r| Bytes::from(r.clone())).collect(),
        l1_origin: b.l1_origin.as_ref().map(block_ref_from_wire).transpose()?,
        signature: b.signature.as_ref().map(|s| Bytes::from(s.clone())),
    })
}

/// Account to wire.
pub fn account_to_wire(a: &AccountState) -> v1::Account {
    v1::Account { nonce: a.nonce, balance: a.balance.to_be_bytes::<32>().to_vec(), code_hash: a.code_hash.to_vec() }
}
/// Account from wire.
pub fn account_from_wire(a: &v1::Account) -> R<AccountState> {
    Ok(AccountState { nonce: a.nonce, balance: u256(&a.balance)?, code_hash: b256(&a.code_hash)? })
}

/// Storage slots and values to wire.
pub fn slots_to_wire(slots: &[(U256, U256)]) -> Vec<v1::StorageSlot> {
    slots
        .iter()
        .map(|(k, v)| v1::StorageSlot { slot: k.to_be_bytes::<32>().to_vec(), value: v.to_be_bytes::<32>().to_vec() })
        .collect()
}

/// Storage slots and values from wire.
pub fn slots_from_wire(slots: &[v1::StorageSlot]) -> R<Vec<(U256, U256)>> {
    slots.iter().map(|s| Ok((u256(&s.slot)?, u256(&s.value)?))).collect()
}

/// Diff to wire.
pub fn diff_to_wire(d: &StateDiff) -> v1::StateDiff {
    v1::StateDiff {
        accounts: d
            .accounts
            .iter()
            .map(|c| v1::AccountChange {
                address: c.address.to_vec(),
                account: c.info.as_ref().map(account_to_wire),
                wipe_storage: c.wipe_storage,
                storage: slots_to_wire(&c.storage),
                code: c.code.as_ref().map(|c| c.to_vec()),
            })
            .collect(),
    }
}
/// Diff from wire.
pub fn diff_from_wire(d: &v1::StateDiff) -> R<StateDiff> {
    Ok(StateDiff {
        accounts: d
            .accounts
            .iter()
            .map(|c| {
                Ok(AccountChange {
                    address: address(&c.address)?,
                    info: c.account.as_ref().map(account_from_wire).transpose()?,
                    wipe_storage: c.wipe_storage,
                    storage: slots_from_wire(&c.storage)?,
                    code: c.code.as_ref().map(|c| Bytes::from(c.clone())),
                })
            })
            .collect::<R<_>>()?,
    })
}

/// Pool tx to wire.
pub fn pool_tx_to_wire(t: &PoolTx) -> v1::PooledTx {
    v1::PooledTx {
        chain_id: t.chain_id,
        hash: t.hash.to_vec(),
        sender: t.sender.to_vec(),
        nonce: t.nonce,
        gas_limit: t.gas_limit,
        max_fee_per_gas: u128_bytes(t.max_fee_per_gas),
        max_priority_fee_per_gas: u128_bytes(t.max_priority_fee_per_gas),
        raw: t.raw.to_vec(),
    }
}
/// Pool tx from wire.
pub fn pool_tx_from_wire(t: &v1::PooledTx) -> R<PoolTx> {
    Ok(PoolTx {
        chain_id: t.chain_id,
        hash: b256(&t.hash)?,
        sender: address(&t.sender)?,
        nonce: t.nonce,
        gas_limit: t.gas_limit,
        max_fee_per_gas: u128_from(&t.max_fee_per_gas)?,
        max_priority_fee_per_gas: u128_from(&t.max_priority_fee_per_gas)?,
        raw: Bytes::from(t.raw.clone()),
    })
}

/// Pool event to wire.
pub fn pool_event_to_wire(e: &PoolEvent) -> v1::SubscribePoolEventsResponse {
    use v1::subscribe_pool_events_response::Event;
    match *e {
        PoolEvent::Added { chain_id, hash, sender, nonce, pending } => v1::SubscribePoolEventsResponse {
            chain_id,
            hash: hash.to_vec(),
            event: Some(Event::Added(v1::PoolTxAdded { sender: sender.to_vec(), nonce, pending })),
        },
        PoolEvent::Removed { chain_id, hash, reason } => {
            let reason = match reason {
                RemovalReason::Mined => v1::RemovalReason::Mined,
                RemovalReason::Replaced => v1::RemovalReason::Replaced,
                RemovalReason::Evicted => v1::RemovalReason::Evicted,
                RemovalReason::Dropped => v1::RemovalReason::Dropped,
                RemovalReason::NonceUsed => v1::RemovalReason::NonceUsed,
                RemovalReason::Invalid => v1::RemovalReason::Invalid,
            };
            v1::SubscribePoolEventsResponse {
                chain_id,
                hash: hash.to_vec(),
                event: Some(Event::Removed(v1::PoolTxRemoved { reason: reason as i32 })),
            }
        }
    }
}

/// Pool event from wire.
pub fn pool_event_from_wire(e: &v1::SubscribePoolEventsResponse) -> R<PoolEvent> {
    use v1::subscribe_pool_events_response::Event;
    let hash = b256(&e.hash)?;
    Ok(match e.event.as_ref().ok_or_else(|| bad("pool event"))? {
        Event::Added(a) => PoolEvent::Added {
            chain_id: e.chain_id,
            hash,
            sender: address(&a.sender)?,
            nonce: a.nonce,
            pending: a.pending,
        },
        Event::Removed(r) => {
            let reason = match v1::RemovalReason::try_from(r.reason).map_err(|_| bad("removal reason"))? {
                v1::RemovalReason::Mined => RemovalReason::Mined,
                v1::RemovalReason::Replaced => RemovalReason::Replaced,
                v1::RemovalReason::Evicted => RemovalReason::Evicted,
                v1::RemovalReason::Dropped => RemovalReason::Dropped,
                v1::RemovalReason::NonceUsed => RemovalReason::NonceUsed,
                v1::RemovalReason::Invalid => RemovalReason::Invalid,
                v1::RemovalReason::Unspecified => return Err(bad("removal reason")),
            };
            PoolEvent::Removed { chain_id: e.chain_id, hash, reason }
        }
    })
}

/// Shred to wire.
pub fn shred_to_wire(s: &Shred) -> v1::Shred {
    use v1::shred::Event;
    let (block_number, event) = match s {
        Shred::Opened { block_number, build_id, template, .. } => (
            *block_number,
            Event::Opened(v1::Opened {
                build_id: build_id.clone(),
                template_json: serde_json::to_vec(template).unwrap_or_default(),
            }),
        ),
        Shred::TxIncluded { block_number, index, tx_hash, success, gas_used, raw, logs, .. } => (
            *block_number,
            Event::TxIncluded(v1::TxIncluded {
                index: *index,
                tx_hash: tx_hash.to_vec(),
                success: *success,
                logs: logs_to_wire(logs),
                gas_used: *gas_used,
                raw: raw.to_vec(),
            }),
        ),
        Shred::RolledBack { block_number, from_index, .. } => {
            (*block_number, Event::RolledBack(v1::RolledBack { from_index: *from_index }))
        }
        Shred::Sealed { block_number, block_hash, tx_count, .. } => {
            (*block_number, Event::Sealed(v1::Sealed { block_hash: block_hash.to_vec(), tx_count: *tx_count }))
        }
        Shred::Cancelled { block_number, .. } => (*block_number, Event::Cancelled(v1::Cancelled {})),
        Shred::BuildView { block_number, build_id, timestamp, keep_logs, logs, deps, .. } => (
            *block_number,
            Event::BuildView(v1::BuildView {
                build_id: build_id.clone(),
                timestamp: *timestamp,
                keep_logs: *keep_logs,
                logs: logs_to_wire(logs),
                deps: deps
                    .iter()
                    .map(|d| v1::ShredDep {
                        exec_log_index: d.exec_log_index,
                        chain_id: d.chain_id,
                        log_index: d.log_index,
                    })
                    .collect(),
            }),
        ),
        Shred::Reorged { block_number, old_hash, new_hash, reason, .. } => (
            *block_number,
            Event::Reorged(v1::Reorged {
                old_hash: old_hash.to_vec(),
                new_hash: new_hash.to_vec(),
                reason: reason.clone(),
            }),
        ),
        Shred::BuildEnded { block_number, build_id, timestamp, lost, .. } => (
            *block_number,
            Event::BuildEnded(v1::BuildEnded { build_id: build_id.clone(), timestamp: *timestamp, lost: *lost }),
        ),
        Shred::Bundle { block_number, bundle_id, status, timestamp, legs, reason, .. } => (
            *block_number,
            Event::Bundle(v1::Bundle {
                bundle_id: bundle_id.to_vec(),
                status: status.clone(),
                timestamp: *timestamp,
                legs: legs
                    .iter()
                    .map(|l| v1::BundleLeg {
                        chain_id: l.chain_id,
                        block_number: l.block_number,
                        first_index: l.first_index,
                        tx_count: l.tx_count,
                    })
                    .collect(),
                reason: reason.clone(),
            }),
        ),
    };
    v1::Shred { chain_id: s.chain_id(), block_number, event: Some(event) }
}

/// Shred from wire.
pub fn shred_from_wire(s: &v1::Shred) -> R<Shred> {
    use v1::shred::Event;
    let (chain_id, block_number) = (s.chain_id, s.block_number);
    Ok(match s.event.as_ref().ok_or_else(|| bad("shred"))? {
        Event::TxIncluded(t) => Shred::TxIncluded {
            chain_id,
            block_number,
            index: t.index,
            tx_hash: b256(&t.tx_hash)?,
            success: t.success,
            gas_used: t.gas_used,
            raw: Bytes::from(t.raw.clone()),
            logs: logs_from_wire(&t.logs)?,
        },
        Event::Opened(o) => Shred::Opened {
            chain_id,
            block_number,
            build_id: o.build_id.clone(),
            template: Box::new(serde_json::from_slice(&o.template_json).map_err(|_| bad("opened.template_json"))?),
        },
        Event::RolledBack(r) => Shred::RolledBack { chain_id, block_number, from_index: r.from_index },
        Event::Sealed(x) => {
            Shred::Sealed { chain_id, block_number, block_hash: b256(&x.block_hash)?, tx_count: x.tx_count }
        }
        Event::Cancelled(_) => Shred::Cancelled { chain_id, block_number },
        Event::BuildView(v) => Shred::BuildView {
            chain_id,
            block_number,
            build_id: v.build_id.clone(),
            timestamp: v.timestamp,
            keep_logs: v.keep_logs,
            logs: logs_from_wire(&v.logs)?,
            deps: v
                .deps
                .iter()
                .map(|d| ShredDep { exec_log_index: d.exec_log_index, chain_id: d.chain_id, log_index: d.log_index })
                .collect(),
        },
        Event::Reorged(r) => Shred::Reorged {
            chain_id,
            block_number,
            old_hash: b256(&r.old_hash)?,
            new_hash: b256(&r.new_hash)?,
            reason: r.reason.clone(),
        },
        Event::BuildEnded(e) => Shred::BuildEnded {
            chain_id,
            block_number,
            build_id: e.build_id.clone(),
            timestamp: e.timestamp,
            lost: e.lost,
        },
        Event::Bundle(b) => Shred::Bundle {
            chain_id,
            block_number,
            bundle_id: b256(&b.bundle_id)?,
            status: b.status.clone(),
            timestamp: b.timestamp,
            legs: b
                .legs
                .iter()
                .map(|l| opseq_primitives::BundleLeg {
                    chain_id: l.chain_id,
                    block_number: l.block_number,
                    first_index: l.first_index,
                    tx_count: l.tx_count,
                })
                .collect(),
            reason: b.reason.clone(),
        },
    })
}

fn logs_to_wire(logs: &[ShredLog]) -> Vec<v1::ShredLog> {
    logs.iter()
        .map(|l| v1::ShredLog {
            address: l.address.to_vec(),
            topics: l.topics.iter().map(|t| t.to_vec()).collect(),
            data: l.data.to_vec(),
        })
        .collect()
}

fn logs_from_wire(logs: &[v1::ShredLog]) -> R<Vec<ShredLog>> {
    logs.iter()
        .map(|l| {
            Ok(ShredLog {
                address: address(&l.address)?,
                topics: l.topics.iter().map(|t| b256(t)).collect::<R<_>>()?,
                data: Bytes::from(l.data.clone()),
            })
        })
        .collect()
}

/// Maps an edge error to a gRPC status: invalid input → INVALID_ARGUMENT, not found → NOT_FOUND,
/// transient → UNAVAILABLE, fatal → INTERNAL. The message is kept verbatim.
pub fn status_from_error(e: OpseqError) -> tonic::Status {
    use opseq_primitives::ErrorClass::*;
    match e.class {
        InvalidInput => tonic::Status::invalid_argument(e.message),
        NotFound => tonic::Status::not_found(e.message),
        Transient => tonic::Status::unavailable(e.message),
        Fatal => tonic::Status::internal(e.message),
    }
}

/// Maps a gRPC status back to an edge error (the inverse of [`status_from_error`]); transport
/// failures and deadlines are transient.
pub fn error_from_status(s: tonic::Status) -> OpseqError {
    use tonic::Code::*;
    match s.code() {
        InvalidArgument | FailedPrecondition | AlreadyExists | OutOfRange => {
            OpseqError::invalid(s.message().to_string())
        }
        NotFound => OpseqError::not_found(s.message().to_string()),
        Unavailable | DeadlineExceeded | Cancelled | ResourceExhausted | Aborted | Unknown => {
            OpseqError::transient(format!("{}: {}", s.code(), s.message()))
        }
        _ => OpseqError::fatal(format!("{}: {}", s.code(), s.message())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_and_shred_round_trip() {
        let diff = StateDiff {
            accounts: vec![AccountChange {
                address: Address::repeat_byte(3),
                info: Some(AccountState { nonce: 4, balance: U256::from(5), code_hash: B256::repeat_byte(6) }),
                wipe_storage: true,
                storage: vec![(U256::from(1), U256::from(2))],
                code: Some(Bytes::from_static(&[0x60, 0x00])),
            }],
        };
        assert_eq!(diff_from_wire(&diff_to_wire(&diff)).unwrap(), diff);
        let s = Shred::Sealed { chain_id: 901, block_number: 7, block_hash: B256::repeat_byte(1), tx_count: 3 };
        assert_eq!(shred_from_wire(&shred_to_wire(&s)).unwrap(), s);
        let view = Shred::BuildView {
            chain_id: 902,
            block_number: 8,
            build_id: "job-902-3".into(),
            timestamp: 1_700_000_000,
            keep_logs: 2,
            logs: vec![ShredLog {
                address: Address::repeat_byte(0x23),
                topics: vec![B256::repeat_byte(2), B256::repeat_byte(3)],
                data: Bytes::from_static(b"payload"),
            }],
            deps: vec![ShredDep { exec_log_index: 2, chain_id: 901, log_index: 5 }],
        };
        assert_eq!(shred_from_wire(&shred_to_wire(&view)).unwrap(), view);
        let ended = Shred::BuildEnded {
            chain_id: 902,
            block_number: 8,
            build_id: "job-902-3".into(),
            timestamp: 1_700_000_000,
            lost: true,
        };
        assert_eq!(shred_from_wire(&shred_to_wire(&ended)).unwrap(), ended);
        let reorged = Shred::Reorged {
            chain_id: 902,
            block_number: 8,
            old_hash: B256::repeat_byte(8),
            new_hash: B256::repeat_byte(9),
            reason: "invalid executing message".into(),
        };
        assert_eq!(shred_from_wire(&shred_to_wire(&reorged)).unwrap(), reorged);
        let opened = Shred::Opened {
            chain_id: 901,
            block_number: 9,
            build_id: "auto".into(),
            // A template: the withdrawals root (filled by execution) absent, the beacon root there.
            template: Box::new(Header {
                number: 9,
                timestamp: 1_700_000_018,
                gas_limit: 60_000_000,
                base_fee_per_gas: Some(7),
                parent_beacon_block_root: Some(B256::repeat_byte(4)),
                ..Default::default()
            }),
        };
        assert_eq!(shred_from_wire(&shred_to_wire(&opened)).unwrap(), opened);
        assert!(b256(&[1, 2]).is_err());
    }
}
