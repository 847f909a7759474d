//! An in-memory state for fixtures: the pre-state, the blocks' changes, and a full state root.
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use opseq_executor::StateReader;
use opseq_primitives::{AccountState, StateDiff};
use std::collections::{BTreeMap, HashMap};

/// Accounts, storage, code and block hashes, all in memory.
#[derive(Debug, Default, Clone)]
pub struct MemState {
    accounts: BTreeMap<Address, AccountState>,
    storage: HashMap<Address, BTreeMap<U256, U256>>,
    code: HashMap<B256, Bytes>,
    hashes: HashMap<u64, B256>,
}

impl MemState {
    /// Adds an account.
    pub fn insert(&mut self, address: Address, nonce: u64, balance: U256, code: Bytes, storage: BTreeMap<U256, U256>) {
        let code_hash = if code.is_empty() { KECCAK256_EMPTY } else { keccak256(&code) };
        if !code.is_empty() {
            self.code.insert(code_hash, code);
        }
        self.accounts.insert(address, AccountState { nonce, balance, code_hash });
        let storage: BTreeMap<_, _> = storage.into_iter().filter(|(_, v)| !v.is_zero()).collect();
        if !storage.is_empty() {
            self.storage.insert(address, storage);
        }
    }

    /// Records a block hash for BLOCKHASH.
    pub fn set_block_hash(&mut self, number: u64, hash: B256) {
        self.hashes.insert(number, hash);
    }

    /// Applies a block's state changes.
    pub fn apply(&mut self, diff: &StateDiff) {
        for c in &diff.accounts {
            if c.wipe_storage || c.info.is_none() {
                self.storage.remove(&c.address);
            }
            match c.info {
                Some(info) => {
                    self.accounts.insert(c.address, info);
                    let s = self.storage.entry(c.address).or_default();
                    for (k, v) in &c.storage {
                        if v.is_zero() {
                            s.remove(k);
                        } else {
                            s.insert(*k, *v);
                        }
                    }
                    if s.is_empty() {
                        self.storage.remove(&c.address);
                    }
                }
                None => {
                    self.accounts.remove(&c.address);
                }
            }
            if let Some(code) = &c.code {
                self.code.insert(keccak256(code), code.clone());
            }
        }
    }

    /// The state root (full recomputation).
    pub fn state_root(&self) -> B256 {
        alloy_trie::root::state_root_unsorted(self.accounts.iter().map(|(a, s)| {
            let storage_root = match self.storage.get(a) {
                Some(st) if !st.is_empty() => {
                    alloy_trie::root::storage_root_unhashed(st.iter().map(|(k, v)| (B256::from(*k), *v)))
                }
                _ => EMPTY_ROOT_HASH,
            };
            (keccak256(a), TrieAccount { nonce: s.nonce, balance: s.balance, storage_root, code_hash: s.code_hash })
        }))
    }
}

impl StateReader for MemState {
    fn account(&self, address: Address) -> Result<Option<AccountState>, String> {
        Ok(self.accounts.get(&address).copied())
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, String> {
        Ok(self.storage.get(&address).and_then(|s| s.get(&slot)).copied().unwrap_or_default())
    }
    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String> {
        if code_hash == KECCAK256_EMPTY {
            return Ok(Some(Bytes::new()));
        }
        Ok(self.code.get(&code_hash).cloned())
    }
    fn block_hash(&self, number: u64) -> Result<B256, String> {
        Ok(self.hashes.get(&number).copied().unwrap_or_default())
    }
}
