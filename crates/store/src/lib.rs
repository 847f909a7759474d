#![doc = include_str!("../README.md")]

mod base;
mod chain;
mod error;
mod history;

pub use base::BaseState;
pub use chain::{ChainStore, REORG_DEPTH};
pub use error::StoreError;

use opseq_primitives::ChainId;
use std::{collections::BTreeMap, path::Path, sync::Arc};

/// The store of every chain a state-fetcher serves.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    chains: BTreeMap<ChainId, Arc<ChainStore>>,
}

impl Store {
    /// Opens (or creates) the store at `path` with a tree per chain.
    pub fn open(path: &Path, chains: &[ChainId]) -> Result<Self, StoreError> {
        std::fs::create_dir_all(path)?;
        let db = sled::Config::new().path(path).flush_every_ms(Some(200)).open()?;
        Self::with_db(db, chains)
    }

    /// A throwaway in-memory store (tests).
    pub fn temporary(chains: &[ChainId]) -> Result<Self, StoreError> {
        Self::with_db(sled::Config::new().temporary(true).open()?, chains)
    }

    fn with_db(db: sled::Db, chains: &[ChainId]) -> Result<Self, StoreError> {
        let mut map = BTreeMap::new();
        for &id in chains {
            let tree = db.open_tree(format!("chain/{id}"))?;
            map.insert(id, Arc::new(ChainStore::new(id, tree)));
        }
        Ok(Self { db, chains: map })
    }

    /// The store of one chain.
    pub fn chain(&self, id: ChainId) -> Option<&Arc<ChainStore>> {
        self.chains.get(&id)
    }

    /// Flushes everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
