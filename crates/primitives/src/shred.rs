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

/// An edge of the log graph of blocks built at one timestamp (interop): the log at
/// `exec_log_index` of the block a [`Shred::BuildView`] describes executes the log at `log_index`
/// of `chain_id`'s block open at the same timestamp (or waits to, until that log is included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShredDep {
    /// Block-global index of the executing log (or of where it will be).
    pub exec_log_index: u64,
    /// The initiating chain.
    pub chain_id: ChainId,
    /// Block-global index of the initiating log.
    pub log_index: u32,
}

/// One event of a chain's block in progress. Consumers rebuild the partial block from the stream:
/// `TxIncluded` appends, `RolledBack` truncates, `Sealed`/`Cancelled` end the block.
///
/// On interop chains every build job is also described by `BuildView` and `BuildEnded` shreds:
/// what builders in other processes need of a block open at a timestamp to check messages of
/// their own blocks at that timestamp against it (its logs, and the edges of the log graph it
/// added), and what tells them it lost logs (a rollback cascade) or left the open set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Shred {
    /// A block was opened: the header it will have, but for what execution fills in (gas used,
    /// roots, bloom). A build job's, or a scheduled build's (`build_id` `auto`).
    #[serde(rename_all = "camelCase")]
    Opened {
        /// Chain.
        chain_id: ChainId,
        /// Number of the block being built.
        block_number: u64,
        /// The build job.
        build_id: String,
        /// The header template (parent hash, timestamp, gas limit, base fee, fee recipient,
        /// prevRandao, extraData, parent beacon block root).
        template: Box<alloy_consensus::Header>,
    },
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
        /// Gas it used.
        #[serde(default)]
        gas_used: u64,
        /// Its EIP-2718 encoding.
        #[serde(default)]
        raw: Bytes,
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
    /// An open build job changed: its first `keep_logs` logs stand, `logs` follow them (a view
    /// with fewer logs than the last one lost the rest: a rollback), and `deps` are all the
    /// log-graph edges it has now.
    #[serde(rename_all = "camelCase")]
    BuildView {
        /// Chain.
        chain_id: ChainId,
        /// Number of the block being built.
        block_number: u64,
        /// The build job.
        build_id: String,
        /// The block's timestamp.
        timestamp: u64,
        /// How many of the logs of the previous view stand.
        keep_logs: u64,
        /// The logs after them, in block order.
        logs: Vec<ShredLog>,
        /// Every edge from this block into other blocks open at its timestamp.
        deps: Vec<ShredDep>,
    },
    /// A committed block was replaced at its height (interop: a block with an invalid executing
    /// message gives way to a deposit-only block with the same attributes, and its descendants
    /// go; OP specs `interop/derivation.md`).
    #[serde(rename_all = "camelCase")]
    Reorged {
        /// Chain.
        chain_id: ChainId,
        /// The height replaced.
        block_number: u64,
        /// The block that is no longer canonical.
        old_hash: B256,
        /// The block now at that height.
        new_hash: B256,
        /// Why.
        reason: String,
    },
    /// A sync-call bundle changed status (on the calling chain's stream): `committed` (every leg
    /// included), `aborted` (none), `rolledBack` (a leg was undone, and with it the others),
    /// `sealed` (every leg's block sealed).
    #[serde(rename_all = "camelCase")]
    Bundle {
        /// The calling chain.
        chain_id: ChainId,
        /// The calling chain's block.
        block_number: u64,
        /// The bundle.
        bundle_id: B256,
        /// Its status.
        status: String,
        /// The legs' timestamp.
        timestamp: u64,
        /// Its legs.
        legs: Vec<BundleLeg>,
        /// Why (aborted, rolled back).
        reason: String,
    },
    /// An open build job left the open set: sealed (`lost` false: its block is in the store), or
    /// cancelled or closed (`lost`: every log it had is gone).
    #[serde(rename_all = "camelCase")]
    BuildEnded {
        /// Chain.
        chain_id: ChainId,
        /// Number of the block.
        block_number: u64,
        /// The build job.
        build_id: String,
        /// The block's timestamp.
        timestamp: u64,
        /// Whether its logs are gone.
        lost: bool,
    },
}

/// One chain's part of a sync-call bundle ([`Shred::Bundle`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleLeg {
    /// Chain.
    pub chain_id: ChainId,
    /// Its block.
    pub block_number: u64,
    /// The leg's first tx's index in the block.
    pub first_index: u64,
    /// Its txs.
    pub tx_count: u64,
}

impl Shred {
    /// The chain the shred belongs to.
    pub const fn chain_id(&self) -> ChainId {
        match self {
            Self::Opened { chain_id, .. }
            | Self::TxIncluded { chain_id, .. }
            | Self::RolledBack { chain_id, .. }
            | Self::Sealed { chain_id, .. }
            | Self::Cancelled { chain_id, .. }
            | Self::Reorged { chain_id, .. }
            | Self::BuildView { chain_id, .. }
            | Self::BuildEnded { chain_id, .. }
            | Self::Bundle { chain_id, .. } => *chain_id,
        }
    }
}
