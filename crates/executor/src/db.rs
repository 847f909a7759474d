//! The state an executor reads: a sync trait the builder backs with the state-fetcher edge.
use alloy_primitives::{Address, B256, Bytes, U256};
use opseq_primitives::AccountState;
use revm::{
    bytecode::Bytecode,
    database_interface::{DBErrorMarker, DatabaseRef},
    state::AccountInfo,
};

/// Synchronous reads of a chain's head state. Implementations batch and cache: the executor asks
/// per account and slot, so a round trip per call would be a design bug (ARCHITECTURE.md rule 3).
pub trait StateReader: Send + Sync + std::fmt::Debug {
    /// An account.
    fn account(&self, address: Address) -> Result<Option<AccountState>, String>;
    /// A storage slot.
    fn storage(&self, address: Address, slot: U256) -> Result<U256, String>;
    /// Code by hash.
    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String>;
    /// Hash of an ancestor block (BLOCKHASH).
    fn block_hash(&self, number: u64) -> Result<B256, String>;
}

impl<R: StateReader + ?Sized> StateReader for &R {
    fn account(&self, address: Address) -> Result<Option<AccountState>, String> {
        (**self).account(address)
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, String> {
        (**self).storage(address, slot)
    }
    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String> {
        (**self).code(code_hash)
    }
    fn block_hash(&self, number: u64) -> Result<B256, String> {
        (**self).block_hash(number)
    }
}

/// A state read failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct ReadError(pub String);

impl DBErrorMarker for ReadError {}

/// revm's view of a [`StateReader`].
#[derive(Debug)]
pub struct ReaderDb<R>(pub R);

impl<R: StateReader> DatabaseRef for ReaderDb<R> {
    type Error = ReadError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.0.account(address).map_err(ReadError)?.map(|a| AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash: a.code_hash,
            account_id: None,
            code: None,
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        let code =
            self.0.code(code_hash).map_err(ReadError)?.ok_or_else(|| ReadError(format!("code {code_hash} missing")))?;
        Ok(Bytecode::new_raw(code))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        self.0.storage(address, index).map_err(ReadError)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.0.block_hash(number).map_err(ReadError)
    }
}
