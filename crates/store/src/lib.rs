#![doc = include_str!("../README.md")]

mod base;
mod chain;
mod durable;
mod error;
mod history;
mod nodes;

pub use base::BaseState;
pub use chain::{ChainStore, REORG_DEPTH};
pub use durable::{Batch, DurableDb, DurableTree, SyncMode};
pub use error::StoreError;

use opseq_primitives::ChainId;
use std::{collections::BTreeMap, path::Path, sync::Arc};

/// The store of every chain a state-fetcher serves.
#[derive(Debug, Clone)]
pub struct Store {
    db: DurableDb,
    chains: BTreeMap<ChainId, Arc<ChainStore>>,
}

impl Store {
    /// Opens (or creates) the store at `path` with a tree per chain; commits are durable to
    /// `sync`'s standard once [`Store::flush`] (or [`ChainStore::flush`]) returns.
    pub fn open(path: &Path, chains: &[ChainId], sync: SyncMode) -> Result<Self, StoreError> {
        Self::with_db(DurableDb::open(path, sync)?, chains)
    }

    /// A throwaway in-memory store (tests).
    pub fn temporary(chains: &[ChainId]) -> Result<Self, StoreError> {
        Self::with_db(DurableDb::temporary()?, chains)
    }

    fn with_db(db: DurableDb, chains: &[ChainId]) -> Result<Self, StoreError> {
        let mut map = BTreeMap::new();
        for &id in chains {
            let tree = db.open_tree(&format!("chain/{id}"))?;
            map.insert(id, Arc::new(ChainStore::new(id, tree)));
        }
        Ok(Self { db, chains: map })
    }

    /// The store of one chain.
    pub fn chain(&self, id: ChainId) -> Option<&Arc<ChainStore>> {
        self.chains.get(&id)
    }

    /// Makes every write durable (see [`SyncMode`]).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.sync()
    }
}
