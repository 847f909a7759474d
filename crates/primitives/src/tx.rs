//! Pooled transactions.
use crate::ChainId;
use alloy_primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};

/// A validated transaction in a pool, with its sender recovered at ingress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolTx {
    /// Chain.
    pub chain_id: ChainId,
    /// Hash.
    pub hash: B256,
    /// Recovered sender.
    pub sender: Address,
    /// Nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Max fee per gas (gas price for legacy txs).
    pub max_fee_per_gas: u128,
    /// Max priority fee per gas (gas price for legacy txs).
    pub max_priority_fee_per_gas: u128,
    /// EIP-2718 encoding.
    pub raw: Bytes,
}

/// A tx's decoded envelope handed to `f`: an OP envelope on L2 chains (`l2`), an Ethereum one
/// otherwise (`None` if it does not decode).
fn decoded<T>(raw: &[u8], l2: bool, f: impl FnOnce(&dyn alloy_consensus::Transaction) -> T) -> Option<T> {
    use alloy_eips::eip2718::Decodable2718;
    if l2 {
        op_alloy_consensus::OpTxEnvelope::decode_2718_exact(raw).ok().map(|t| f(&t))
    } else {
        alloy_consensus::TxEnvelope::decode_2718_exact(raw).ok().map(|t| f(&t))
    }
}

/// What an EIP-2718-encoded tx names before it runs, from one decoding: its recipient (`None`
/// for a creation or an undecodable tx) and the addresses and storage keys of its EIP-2930
/// access list (empty for a legacy tx).
pub fn touches(raw: &[u8], l2: bool) -> (Option<Address>, Vec<(Address, Vec<B256>)>) {
    decoded(raw, l2, |t| {
        let list = t.access_list().map(|l| l.iter().map(|i| (i.address, i.storage_keys.clone())).collect());
        (t.to(), list.unwrap_or_default())
    })
    .unwrap_or_default()
}

impl PoolTx {
    /// Its recipient (`None` for a creation or an undecodable tx).
    pub fn recipient(&self, l2: bool) -> Option<Address> {
        decoded(&self.raw, l2, |t| t.to()).flatten()
    }

    /// What it names before it runs ([`touches`]).
    pub fn touches(&self, l2: bool) -> (Option<Address>, Vec<(Address, Vec<B256>)>) {
        touches(&self.raw, l2)
    }

    /// The tip this tx pays per gas at `base_fee`, or `None` if it cannot pay the base fee.
    pub fn effective_tip(&self, base_fee: u64) -> Option<u128> {
        let base_fee = base_fee as u128;
        if self.max_fee_per_gas < base_fee {
            return None;
        }
        Some((self.max_fee_per_gas - base_fee).min(self.max_priority_fee_per_gas))
    }
}

/// What happened to a submitted transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubmitOutcome {
    /// Executable now (its nonce is the sender's next).
    Pending,
    /// Waiting for a nonce gap to close.
    Queued,
    /// The same transaction was already in the pool.
    AlreadyKnown,
    /// Replaced a transaction with the same sender and nonce.
    Replaced,
}

/// A change in a pool (streamed to subscribers: the txpool's `SubscribePoolEvents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolEvent {
    /// A tx entered the pool.
    Added {
        /// Chain.
        chain_id: ChainId,
        /// Hash.
        hash: B256,
        /// Sender.
        sender: Address,
        /// Nonce.
        nonce: u64,
        /// Executable now (else waiting for a nonce gap).
        pending: bool,
    },
    /// A tx left the pool.
    Removed {
        /// Chain.
        chain_id: ChainId,
        /// Hash.
        hash: B256,
        /// Why.
        reason: RemovalReason,
    },
}

/// Why a tx left a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemovalReason {
    /// Included in a committed block.
    Mined,
    /// A same-nonce tx paying enough more took its place.
    Replaced,
    /// The pool was full and it paid least.
    Evicted,
    /// Dropped on request (`anvil_dropTransaction`).
    Dropped,
    /// Its nonce was used by another tx (mined elsewhere, or a forced include).
    NonceUsed,
    /// The builder found it cannot execute.
    Invalid,
}

/// Pool sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PoolStatus {
    /// Executable transactions.
    pub pending: u64,
    /// Transactions waiting for a nonce gap.
    pub queued: u64,
}
