#![doc = include_str!("../README.md")]

mod block;
mod chain;
mod dev;
mod error;
pub mod interop;
mod shred;
mod state;
pub mod tx;

pub use block::{BlockRef, SealedBlock, TxLocation};
pub use chain::{ChainConfig, ChainKind, DevnetConfig, InteropConfig, SettledL2, SystemConfig};
pub use dev::{
    DEV_ACCOUNTS, DEV_SEQUENCER_KEY, DevAccount, SUPERCHAIN_CONFIG, UNSAFE_BLOCK_SIGNER_SLOT, batch_inbox,
    derived_dev_key, dev_accounts, dev_batcher_key, optimism_portal, system_config,
};
pub use error::{ErrorClass, OpseqError};
pub use shred::{BundleLeg, Shred, ShredDep, ShredLog};
pub use state::{AccountChange, AccountState, StateDiff};
pub use tx::{PoolEvent, PoolStatus, PoolTx, RemovalReason, SubmitOutcome};

/// A chain id (EIP-155).
pub type ChainId = u64;
