//! Shreds: the per-chain stream of in-progress block building.
use crate::ChainId;
use alloy_primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};

/// A log carried in a shred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShredLog {
    /// Emitting contract.
    pub address: Address,
    /// Topics.
    pub topics: Vec<B256>,
    /// Data.
    pub data: Bytes,
}

/// One event of a chain's block in progress. Consumers rebuild the partial block from the stream:
/// `TxIncluded` appends, `RolledBack` truncates, `Sealed`/`Cancelled` end the block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Shred {
    /// A transaction was executed and included at `index` of block `block_number`.
    #[serde(rename_all = "camelCase")]
    TxIncluded {
        /// Chain.
        chain_id: ChainId,
        /// Number of the block being built.
        block_number: u64,
        /// Index in the block.
        index: u64,
        /// Transaction hash.
        tx_hash: B256,
        /// Whether it succeeded.
        success: bool,
        /// Its logs.
        logs: Vec<ShredLog>,
    },
    /// Every inclusion at index >= `from_index` of block `block_number` was undone.
    #[serde(rename_all = "camelCase")]
    RolledBack {
        /// Chain.
        chain_id: ChainId,
        /// Number of the block being built.
        block_number: u64,
        /// First index undone.
        from_index: u64,
    },
    /// The block was sealed with this hash.
    #[serde(rename_all = "camelCase")]
    Sealed {
        /// Chain.
        chain_id: ChainId,
        /// Block number.
        block_number: u64,
        /// Block hash.
        block_hash: B256,
        /// Number of transactions.
        tx_count: u64,
    },
    /// The block in progress was abandoned.
    #[serde(rename_all = "camelCase")]
    Cancelled {
        /// Chain.
        chain_id: ChainId,
        /// Number of the abandoned block.
        block_number: u64,
    },
}

impl Shred {
    /// The chain the shred belongs to.
    pub const fn chain_id(&self) -> ChainId {
        match self {
            Self::TxIncluded { chain_id, .. }
            | Self::RolledBack { chain_id, .. }
            | Self::Sealed { chain_id, .. }
            | Self::Cancelled { chain_id, .. } => *chain_id,
        }
    }
}
