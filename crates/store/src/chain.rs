//! One chain's store.
use crate::StoreError;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount, root::storage_root_unhashed};
use opseq_primitives::{AccountState, BlockRef, ChainId, SealedBlock, StateDiff, TxLocation};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};

const P_BLOCK: u8 = b'b';
const P_HASH: u8 = b'h';
const P_TX: u8 = b't';
const P_ACCOUNT: u8 = b'a';
const P_STORAGE: u8 = b's';
const P_CODE: u8 = b'c';
const P_META: u8 = b'm';
const HEAD: &[u8] = b"head";

fn key(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(prefix);
    k.extend_from_slice(rest);
    k
}

fn storage_key(addr: &Address, slot: &U256) -> Vec<u8> {
    let mut k = Vec::with_capacity(53);
    k.push(P_STORAGE);
    k.extend_from_slice(addr.as_slice());
    k.extend_from_slice(&slot.to_be_bytes::<32>());
    k
}

fn encode_account(a: &AccountState) -> [u8; 72] {
    let mut out = [0u8; 72];
    out[..8].copy_from_slice(&a.nonce.to_be_bytes());
    out[8..40].copy_from_slice(&a.balance.to_be_bytes::<32>());
    out[40..].copy_from_slice(a.code_hash.as_slice());
    out
}

fn decode_account(v: &[u8]) -> Result<AccountState, StoreError> {
    if v.len() != 72 {
        return Err(StoreError::Corrupt(format!("account record of {} bytes", v.len())));
    }
    Ok(AccountState {
        nonce: u64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
        balance: U256::from_be_slice(&v[8..40]),
        code_hash: B256::from_slice(&v[40..]),
    })
}

/// The store of one chain: blocks, index, head and head state.
#[derive(Debug)]
pub struct ChainStore {
    chain_id: ChainId,
    tree: sled::Tree,
    /// Storage roots of accounts at head, filled lazily; entries are dropped on change.
    storage_roots: Mutex<HashMap<Address, B256>>,
    /// Serialises commits (one writer per chain).
    write: Mutex<()>,
}

impl ChainStore {
    pub(crate) fn new(chain_id: ChainId, tree: sled::Tree) -> Self {
        Self { chain_id, tree, storage_roots: Mutex::default(), write: Mutex::new(()) }
    }

    /// The chain id.
    pub const fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The head, or `None` before genesis.
    pub fn head(&self) -> Result<Option<BlockRef>, StoreError> {
        let Some(n) = self.tree.get(key(P_META, HEAD))? else { return Ok(None) };
        let number = u64::from_be_bytes(n.as_ref().try_into().map_err(|_| corrupt("head"))?);
        let block = self.block_by_number(number)?.ok_or_else(|| corrupt("head block missing"))?;
        Ok(Some(block.block_ref()))
    }

    /// A block by number.
    pub fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, StoreError> {
        match self.tree.get(key(P_BLOCK, &number.to_be_bytes()))? {
            Some(v) => Ok(Some(serde_json::from_slice(&v).map_err(|e| corrupt(&e.to_string()))?)),
            None => Ok(None),
        }
    }

    /// A block by hash.
    pub fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, StoreError> {
        match self.tree.get(key(P_HASH, hash.as_slice()))? {
            Some(n) => {
                let n = u64::from_be_bytes(n.as_ref().try_into().map_err(|_| corrupt("hash"))?);
                Ok(self.block_by_number(n)?.filter(|b| b.hash == hash))
            }
            None => Ok(None),
        }
    }

    /// Where a transaction was mined.
    pub fn tx_location(&self, hash: B256) -> Result<Option<TxLocation>, StoreError> {
        match self.tree.get(key(P_TX, hash.as_slice()))? {
            Some(v) if v.len() == 16 => Ok(Some(TxLocation {
                block_number: u64::from_be_bytes(v[..8].try_into().expect("8")),
                index: u64::from_be_bytes(v[8..].try_into().expect("8")),
            })),
            Some(_) => Err(corrupt("tx index")),
            None => Ok(None),
        }
    }

    /// An account at head.
    pub fn account(&self, address: &Address) -> Result<Option<AccountState>, StoreError> {
        self.tree.get(key(P_ACCOUNT, address.as_slice()))?.map(|v| decode_account(&v)).transpose()
    }

    /// A storage slot at head.
    pub fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StoreError> {
        Ok(self
            .tree
            .get(storage_key(address, slot))?
            .map(|v| U256::from_be_slice(&v))
            .unwrap_or_default())
    }

    /// Code by hash.
    pub fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StoreError> {
        if *code_hash == KECCAK256_EMPTY {
            return Ok(Some(Bytes::new()));
        }
        Ok(self.tree.get(key(P_CODE, code_hash.as_slice()))?.map(|v| Bytes::from(v.to_vec())))
    }

    /// All non-zero storage of an account at head.
    pub fn account_storage(&self, address: &Address) -> Result<Vec<(U256, U256)>, StoreError> {
        let prefix = key(P_STORAGE, address.as_slice());
        self.tree
            .scan_prefix(&prefix)
            .map(|r| {
                let (k, v) = r?;
                Ok((U256::from_be_slice(&k[21..]), U256::from_be_slice(&v)))
            })
            .collect()
    }

    /// Every account at head.
    pub fn accounts(&self) -> Result<Vec<(Address, AccountState)>, StoreError> {
        self.tree
            .scan_prefix([P_ACCOUNT])
            .map(|r| {
                let (k, v) = r?;
                Ok((Address::from_slice(&k[1..]), decode_account(&v)?))
            })
            .collect()
    }

    fn storage_root_at_head(&self, address: &Address) -> Result<B256, StoreError> {
        if let Some(root) = self.storage_roots.lock().get(address) {
            return Ok(*root);
        }
        let root = storage_root_of(self.account_storage(address)?);
        self.storage_roots.lock().insert(*address, root);
        Ok(root)
    }

    /// The state root and the requested storage roots after applying `diff` on the head state.
    /// With an empty diff this is the head's state root, recomputed from the stored state.
    pub fn compute_roots(
        &self,
        diff: &StateDiff,
        storage_roots_of: &[Address],
    ) -> Result<(B256, Vec<(Address, B256)>), StoreError> {
        let mut accounts: BTreeMap<Address, (AccountState, B256)> = BTreeMap::new();
        let changed: HashMap<Address, _> = diff.accounts.iter().map(|c| (c.address, c)).collect();
        for (address, state) in self.accounts()? {
            if changed.contains_key(&address) {
                continue;
            }
            accounts.insert(address, (state, self.storage_root_at_head(&address)?));
        }
        for change in &diff.accounts {
            let Some(info) = change.info else { continue };
            let root = if change.storage.is_empty() && !change.wipe_storage {
                self.storage_root_at_head(&change.address)?
            } else {
                let mut slots: BTreeMap<U256, U256> = if change.wipe_storage {
                    BTreeMap::new()
                } else {
                    self.account_storage(&change.address)?.into_iter().collect()
                };
                for (slot, value) in &change.storage {
                    if value.is_zero() {
                        slots.remove(slot);
                    } else {
                        slots.insert(*slot, *value);
                    }
                }
                storage_root_of(slots)
            };
            accounts.insert(change.address, (info, root));
        }
        let wanted = storage_roots_of
            .iter()
            .map(|a| (*a, accounts.get(a).map(|(_, r)| *r).unwrap_or(EMPTY_ROOT_HASH)))
            .collect();
        let root = alloy_trie::root::state_root_unsorted(accounts.into_iter().map(
            |(address, (s, storage_root))| {
                (
                    keccak256(address),
                    TrieAccount {
                        nonce: s.nonce,
                        balance: s.balance,
                        storage_root,
                        code_hash: s.code_hash,
                    },
                )
            },
        ));
        Ok((root, wanted))
    }

    /// Appends a block with its state changes atomically. The block's parent must be the head
    /// (or, for the genesis block, the chain must be empty).
    pub fn commit(&self, block: &SealedBlock, diff: &StateDiff) -> Result<(), StoreError> {
        let _w = self.write.lock();
        match self.head()? {
            Some(head) => {
                if block.header.parent_hash != head.hash || block.header.number != head.number + 1 {
                    return Err(StoreError::NotOnHead {
                        number: block.header.number,
                        parent: block.header.parent_hash,
                        head: head.hash,
                    });
                }
            }
            None if block.header.number == 0 => {}
            None => return Err(StoreError::NoGenesis),
        }
        let mut batch = sled::Batch::default();
        let number = block.header.number.to_be_bytes();
        let encoded = serde_json::to_vec(block).map_err(|e| corrupt(&e.to_string()))?;
        batch.insert(key(P_BLOCK, &number), encoded);
        batch.insert(key(P_HASH, block.hash.as_slice()), &number[..]);
        for (i, h) in block.tx_hashes.iter().enumerate() {
            let mut v = [0u8; 16];
            v[..8].copy_from_slice(&number);
            v[8..].copy_from_slice(&(i as u64).to_be_bytes());
            batch.insert(key(P_TX, h.as_slice()), &v[..]);
        }
        for change in &diff.accounts {
            if change.wipe_storage || change.info.is_none() {
                for r in self.tree.scan_prefix(key(P_STORAGE, change.address.as_slice())).keys() {
                    batch.remove(r?);
                }
            }
            match &change.info {
                Some(info) => {
                    batch.insert(key(P_ACCOUNT, change.address.as_slice()), &encode_account(info)[..]);
                    for (slot, value) in &change.storage {
                        let k = storage_key(&change.address, slot);
                        if value.is_zero() {
                            batch.remove(k);
                        } else {
                            batch.insert(k, &value.to_be_bytes::<32>()[..]);
                        }
                    }
                }
                None => batch.remove(key(P_ACCOUNT, change.address.as_slice())),
            }
            if let Some(code) = &change.code {
                batch.insert(key(P_CODE, keccak256(code).as_slice()), code.as_ref());
            }
        }
        batch.insert(key(P_META, HEAD), &number[..]);
        self.tree.apply_batch(batch)?;
        let mut roots = self.storage_roots.lock();
        for change in &diff.accounts {
            if change.wipe_storage || !change.storage.is_empty() || change.info.is_none() {
                roots.remove(&change.address);
            }
        }
        Ok(())
    }

    /// Flushes this chain's writes to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.tree.flush()?;
        Ok(())
    }
}

fn storage_root_of(slots: impl IntoIterator<Item = (U256, U256)>) -> B256 {
    let slots: Vec<(B256, U256)> =
        slots.into_iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(k), v)).collect();
    if slots.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    storage_root_unhashed(slots)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use alloy_consensus::Header;
    use opseq_primitives::AccountChange;

    fn block(number: u64, parent: B256) -> SealedBlock {
        let header = Header { number, parent_hash: parent, ..Default::default() };
        SealedBlock {
            hash: header.hash_slow(),
            header,
            transactions: vec![],
            tx_hashes: vec![],
            senders: vec![],
            receipts: vec![],
            l1_origin: None,
            signature: None,
        }
    }

    fn acct(address: Address, balance: u64, storage: Vec<(U256, U256)>) -> AccountChange {
        AccountChange {
            address,
            info: Some(AccountState {
                nonce: 0,
                balance: U256::from(balance),
                code_hash: KECCAK256_EMPTY,
            }),
            wipe_storage: false,
            storage,
            code: None,
        }
    }

    #[test]
    fn commit_requires_the_head_as_parent_and_roots_match_a_full_recompute() {
        let store = Store::temporary(&[1]).unwrap();
        let chain = store.chain(1).unwrap();
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        let genesis = block(0, B256::ZERO);
        let diff = StateDiff { accounts: vec![acct(a, 10, vec![(U256::from(1), U256::from(7))])] };
        chain.commit(&genesis, &diff).unwrap();
        let (root0, _) = chain.compute_roots(&StateDiff::default(), &[]).unwrap();

        // A block not on the head is refused and changes nothing.
        let stray = block(1, B256::repeat_byte(9));
        assert!(matches!(chain.commit(&stray, &diff), Err(StoreError::NotOnHead { .. })));
        assert_eq!(chain.head().unwrap().unwrap().hash, genesis.hash);

        // Roots predicted for a diff equal the roots recomputed after committing it.
        let diff1 = StateDiff {
            accounts: vec![
                acct(a, 5, vec![(U256::from(1), U256::ZERO), (U256::from(2), U256::from(3))]),
                acct(b, 5, vec![]),
            ],
        };
        let (predicted, roots) = chain.compute_roots(&diff1, &[a]).unwrap();
        assert_ne!(predicted, root0);
        chain.commit(&block(1, genesis.hash), &diff1).unwrap();
        let (after, roots_after) = chain.compute_roots(&StateDiff::default(), &[a]).unwrap();
        assert_eq!(predicted, after);
        assert_eq!(roots, roots_after);
        assert_eq!(chain.storage(&a, &U256::from(1)).unwrap(), U256::ZERO);
        assert_eq!(chain.storage(&a, &U256::from(2)).unwrap(), U256::from(3));

        // The well-known root of one empty-storage account: cross-check with alloy-trie directly.
        let expect = alloy_trie::root::state_root_unhashed([
            (a, TrieAccount {
                nonce: 0,
                balance: U256::from(5),
                storage_root: storage_root_of([(U256::from(2), U256::from(3))]),
                code_hash: KECCAK256_EMPTY,
            }),
            (b, TrieAccount {
                nonce: 0,
                balance: U256::from(5),
                storage_root: EMPTY_ROOT_HASH,
                code_hash: KECCAK256_EMPTY,
            }),
        ]);
        assert_eq!(after, expect);
    }
}
