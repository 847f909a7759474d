//! State changes produced by executing a block.
use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

/// An account's state without its storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccountState {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak256 of the code (the empty-code hash for EOAs).
    pub code_hash: B256,
}

/// What a block did to one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChange {
    /// The account.
    pub address: Address,
    /// The new account state; `None` when the account was destroyed or emptied away.
    pub info: Option<AccountState>,
    /// Whether all storage was wiped before applying `storage` (self-destruct, re-creation).
    pub wipe_storage: bool,
    /// Changed storage slots and their new values (zero = deleted).
    pub storage: Vec<(U256, U256)>,
    /// New code, when the account got code in this block.
    pub code: Option<Bytes>,
}

/// The state changes of one block, relative to its parent's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StateDiff {
    /// Changed accounts, sorted by address.
    pub accounts: Vec<AccountChange>,
}
