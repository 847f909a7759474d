//! Store errors.
use opseq_primitives::OpseqError;

/// Errors of the chain store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed.
    #[error("database: {0}")]
    Sled(#[from] sled::Error),
    /// Filesystem error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The committed block does not extend the head.
    #[error("block {number} has parent {parent}, but the head is {head}")]
    NotOnHead {
        /// Block number.
        number: u64,
        /// Its parent hash.
        parent: alloy_primitives::B256,
        /// The head hash.
        head: alloy_primitives::B256,
    },
    /// The committed block's state root is not the root of its state.
    #[error("block {number} says state root {header}, its state hashes to {state}")]
    RootMismatch {
        /// Block number.
        number: u64,
        /// The header's state root.
        header: alloy_primitives::B256,
        /// The root of the state after the block.
        state: alloy_primitives::B256,
    },
    /// A block the store does not know.
    #[error("unknown block {0}")]
    UnknownBlock(alloy_primitives::B256),
    /// A state root the store has no trie for.
    #[error("no state with root {0}")]
    UnknownState(alloy_primitives::B256),
    /// A reorg below the kept change records.
    #[error("block {number} is deeper than the reorg window ({depth} blocks)")]
    TooDeep {
        /// The block whose change record is gone.
        number: u64,
        /// The window.
        depth: u64,
    },
    /// The chain has no genesis yet.
    #[error("chain has no genesis")]
    NoGenesis,
    /// The state trie lacks a node or holds a malformed one.
    #[error("state trie: {0}")]
    Trie(#[from] opseq_trie::TrieError),
    /// A deletion needs a trie node that is not there (a forked chain resolves it).
    #[error("deleting {slot:?} of {account} needs trie node {node}")]
    Collapse {
        /// The account deleted, or whose slot was.
        account: alloy_primitives::Address,
        /// The slot deleted, if a slot.
        slot: Option<alloy_primitives::U256>,
        /// The node the collapse needs.
        node: alloy_primitives::B256,
    },
    /// A forked chain's base could not be read.
    #[error("fork upstream: {0}")]
    Base(String),
    /// A forked chain's state root cannot be computed from what its base revealed.
    #[error("cannot compute the state root: {0}")]
    Unresolved(String),
    /// A forked chain's data does not fit the fork asked for.
    #[error("fork: {0}")]
    Fork(String),
    /// A commit referred to a computed diff the store no longer holds.
    #[error("no computed diff for state root {0}: send the diff")]
    DiffNotComputed(alloy_primitives::B256),
}

impl From<StoreError> for OpseqError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotOnHead { .. } | StoreError::RootMismatch { .. } | StoreError::TooDeep { .. } => {
                Self::invalid(e.to_string())
            }
            StoreError::UnknownBlock(_) | StoreError::UnknownState(_) | StoreError::DiffNotComputed(_) => {
                Self::not_found(e.to_string())
            }
            StoreError::NoGenesis | StoreError::Base(_) => Self::transient(e.to_string()),
            StoreError::Trie(_) | StoreError::Collapse { .. } => Self::fatal(e.to_string()),
            StoreError::Unresolved(_) | StoreError::Fork(_) => Self::invalid(e.to_string()),
            _ => Self::fatal(e.to_string()),
        }
    }
}
