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
    /// The chain has no genesis yet.
    #[error("chain has no genesis")]
    NoGenesis,
}

impl From<StoreError> for OpseqError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotOnHead { .. } => Self::invalid(e.to_string()),
            StoreError::NoGenesis => Self::transient(e.to_string()),
            _ => Self::fatal(e.to_string()),
        }
    }
}
