//! Forked chains: a chain whose state starts as another node's state at a pinned block, read on
//! demand (the state-fetcher's remote backend implements [`BaseState`] over JSON-RPC).
//!
//! The chain's own tree then holds only what happened since the fork: blocks, and the flat
//! state keys those blocks wrote (a deleted account or a zeroed slot is kept as a tombstone, a
//! wiped storage as a marker, so that a read never falls through to the pinned state for a key
//! that changed). A key the tree has no record of is read from the base. Trie nodes are
//! content-addressed, so the base's nodes (from its proofs) and ours live side by side: the
//! paths a block's writes need are fetched as proofs before its roots are computed.
use alloy_primitives::{Address, B256, Bytes, U256};
use opseq_primitives::AccountState;

/// The state of a chain at its fork block, read on demand. Implementations batch, cache, and
/// verify what they return (`proofs` against [`BaseState::state_root`]).
pub trait BaseState: Send + Sync + std::fmt::Debug {
    /// The fork block's state root.
    fn state_root(&self) -> B256;
    /// Accounts (`None`: no such account), in the order asked.
    fn accounts(&self, addresses: &[Address]) -> Result<Vec<Option<AccountState>>, String>;
    /// Storage slots, in the order asked.
    fn storage(&self, slots: &[(Address, U256)]) -> Result<Vec<U256>, String>;
    /// Code by hash (of an account `accounts` returned).
    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String>;
    /// The trie nodes on the paths to `keys` (accounts, each with storage slots) in the fork
    /// block's state: every node of the account proof and of the storage proofs, each verified
    /// to hash to its place under [`BaseState::state_root`].
    fn proofs(&self, keys: &[(Address, Vec<U256>)]) -> Result<Vec<Bytes>, String>;
    /// The hash of a block at or below the fork block (for `BLOCKHASH`).
    fn block_hash(&self, number: u64) -> Result<Option<B256>, String>;
}
