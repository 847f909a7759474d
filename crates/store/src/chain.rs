//! One chain's store.
use crate::nodes::NodeCache;
use crate::{
    BaseState, StoreError,
    durable::{Batch, DurableTree},
    history::{Composed, decode_diff, encode_diff, take, u32_of},
};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_rlp::{Decodable, Encodable};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use opseq_primitives::{AccountChange, AccountState, BlockRef, ChainId, SealedBlock, StateDiff, TxLocation};
use opseq_trie::{NodeSource, SparseTrie, key_nibbles};
use parking_lot::Mutex;
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, OnceLock},
};

const P_BLOCK: u8 = b'b';
const P_HASH: u8 = b'h';
const P_TX: u8 = b't';
const P_ACCOUNT: u8 = b'a';
const P_STORAGE: u8 = b's';
const P_CODE: u8 = b'c';
const P_META: u8 = b'm';
const P_NODE: u8 = b'n';
/// Per canonical block: its diff and the diff's revert.
const P_CHANGE: u8 = b'r';
/// Known blocks off the canonical chain (reorged out, or sealed and kept): block and diff.
const P_SIDE: u8 = b'x';
/// How far back a reorg can reach: the change records of older blocks are pruned.
pub const REORG_DEPTH: u64 = 8192;
/// Forked chains: accounts whose storage was wiped since the fork (unlisted slots are zero).
const P_WIPED: u8 = b'w';
const HEAD: &[u8] = b"head";
/// Forked chains: the fork block (number ‖ hash).
const FORK: &[u8] = b"fork";
const TRIE_ROOT: &[u8] = b"trie_root";

/// State trie nodes, content-addressed in the chain's tree, through the chain's node cache.
#[derive(Debug, Clone)]
struct SledNodes {
    tree: DurableTree,
    cache: Arc<NodeCache>,
}

impl NodeSource for SledNodes {
    fn node(&self, hash: &B256) -> Option<Bytes> {
        if let Some(n) = self.cache.get(hash) {
            return Some(n);
        }
        let n = Bytes::from(self.tree.get(key(P_NODE, hash.as_slice())).ok().flatten()?.to_vec());
        self.cache.extend([(*hash, n.clone())]);
        Some(n)
    }
}

/// What applying changes to a trie produced besides the trie: storage roots by account and the
/// nodes of the storage tries it hashed.
#[derive(Debug, Default)]
struct Applied {
    storage_roots: HashMap<Address, B256>,
    nodes: Vec<(B256, Vec<u8>)>,
}

/// From this many transactions a commit builds its batch on two threads.
const PARALLEL_COMMIT_TXS: usize = 512;

/// Below this many keys a trie is updated on the calling thread.
const SPLIT_MIN_KEYS: usize = 1024;

/// Applies `items` (a key's nibble path, and what to do there) to `trie` in order: in place, or,
/// for many keys under a branch root, as the root's two halves of subtries on two threads (each
/// key's order among the keys of its subtrie is kept, and no key touches another subtrie).
/// `apply` gets the trie holding the path and the path in it. Returns whether it split (then
/// hash with [`SparseTrie::root_with_nodes_parallel`]).
fn apply_items<T: Sync>(
    trie: &mut SparseTrie<SledNodes>,
    items: &[(Vec<u8>, T)],
    applied: &mut Applied,
    apply: impl Fn(&mut SparseTrie<SledNodes>, &[u8], &T, &mut Applied) -> Result<(), StoreError> + Sync,
) -> Result<bool, StoreError> {
    let subtries = if items.len() >= SPLIT_MIN_KEYS { trie.split_root().map_err(trie_err)? } else { None };
    let Some(mut subtries) = subtries else {
        for (path, item) in items {
            apply(trie, path, item, applied)?;
        }
        return Ok(false);
    };
    let half = |offset: u8, tries: &mut [SparseTrie<SledNodes>]| -> Result<Applied, StoreError> {
        let mut applied = Applied::default();
        for (path, item) in items.iter().filter(|(p, _)| (offset..offset + 8).contains(&p[0])) {
            apply(&mut tries[(path[0] - offset) as usize], &path[1..], item, &mut applied)?;
        }
        Ok(applied)
    };
    let (low, high) = subtries.split_at_mut(8);
    let (a, b) = std::thread::scope(|s| {
        let b = s.spawn(|| half(8, high));
        (half(0, low), b.join().expect("trie update thread"))
    });
    // The subtries go back whatever happened: an error leaves the trie as whole as it found it
    // (the caller drops it anyway).
    trie.join_root(subtries).map_err(trie_err)?;
    for part in [a?, b?] {
        applied.storage_roots.extend(part.storage_roots);
        applied.nodes.extend(part.nodes);
    }
    Ok(true)
}

/// A state trie updated in memory, with the nodes it created.
#[derive(Debug)]
struct TrieUpdate {
    root: B256,
    storage_roots: HashMap<Address, B256>,
    state: SparseTrie<SledNodes>,
    nodes: Vec<(B256, Vec<u8>)>,
}

fn trie_err(e: opseq_trie::TrieError) -> StoreError {
    StoreError::Trie(e)
}

/// The account in a state trie leaf.
fn trie_account(raw: &[u8]) -> Result<TrieAccount, StoreError> {
    TrieAccount::decode(&mut &raw[..]).map_err(|e| corrupt(&e.to_string()))
}

/// The storage root in an account leaf (the empty root where there is no account).
fn storage_root_in(leaf: Option<Vec<u8>>) -> Result<B256, StoreError> {
    leaf.map_or(Ok(EMPTY_ROOT_HASH), |raw| Ok(trie_account(&raw)?.storage_root))
}

/// A failed deletion, with where it was.
fn collapse(e: opseq_trie::TrieError, account: Address, slot: Option<U256>) -> StoreError {
    match e {
        opseq_trie::TrieError::MissingNode(node) => StoreError::Collapse { account, slot, node },
        e => StoreError::Trie(e),
    }
}

/// Longest sibling path brute force looks for a key under: 16^6 hashes at most (seconds).
const MAX_SEARCH_NIBBLES: usize = 6;

/// A key whose keccak256 starts with the nibbles `prefix` (`make` turns a counter into the key's
/// bytes), by trying counters: about 16^len(prefix) hashes.
fn key_under(prefix: &[u8], make: impl Fn(u64) -> Vec<u8>) -> Option<Vec<u8>> {
    if prefix.len() > MAX_SEARCH_NIBBLES {
        return None;
    }
    let limit = 8u64 << (4 * prefix.len() as u64);
    (0..limit).map(make).find(|k| {
        let h = keccak256(k);
        prefix.iter().enumerate().all(|(i, n)| (h[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f == *n)
    })
}

fn key_of_node(node: &[u8]) -> Vec<u8> {
    key(P_NODE, keccak256(node).as_slice())
}

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
    tree: DurableTree,
    /// The trie update of the last `compute_roots`, reused when the same diff is committed.
    pending: Mutex<Option<(B256, StateDiff, TrieUpdate)>>,
    /// Serialises commits (one writer per chain).
    write: Mutex<()>,
    /// Forked chains: the state at the fork block, read on demand.
    base: OnceLock<Arc<dyn BaseState>>,
    /// Trie nodes recently read or written (content-addressed: never stale).
    nodes: Arc<NodeCache>,
}

impl ChainStore {
    pub(crate) fn new(chain_id: ChainId, tree: DurableTree) -> Self {
        Self {
            chain_id,
            tree,
            pending: Mutex::default(),
            write: Mutex::new(()),
            base: OnceLock::new(),
            nodes: Arc::default(),
        }
    }

    /// The EIP-1186 proof of `address` and `slots` at the head: (the account's trie leaf, the
    /// state trie nodes on its path, and per slot its value and storage trie nodes). A forked
    /// chain first fetches from its base the nodes it lacks.
    #[allow(clippy::type_complexity)]
    pub fn proof(
        &self,
        address: Address,
        slots: &[U256],
        at: Option<B256>,
    ) -> Result<(Option<TrieAccount>, Vec<Bytes>, Vec<(U256, U256, Vec<Bytes>)>), StoreError> {
        let head_root = self.trie_root()?;
        // Another known block's state: its root's trie (nodes are never deleted).
        let root = match at {
            None => head_root,
            Some(hash) => {
                let block = self.block_by_hash(hash)?.ok_or(StoreError::UnknownBlock(hash))?;
                block.header.state_root
            }
        };
        if let Some(base) = self.base() {
            if root != head_root {
                return Err(StoreError::Fork(
                    "a forked chain proves its head state only (older states live upstream)".into(),
                ));
            }
            let probe = StateDiff {
                accounts: vec![AccountChange {
                    address,
                    info: Some(AccountState::default()),
                    wipe_storage: false,
                    storage: slots.iter().map(|s| (*s, U256::ZERO)).collect(),
                    code: None,
                }],
            };
            self.ensure_paths(base.as_ref(), root, &probe)?;
        }
        let nodes = self.sled_nodes();
        let mut state = SparseTrie::new(root, nodes.clone());
        let k = keccak256(address);
        let account_proof = state.proof(k.as_slice())?;
        let account = match state.get(k.as_slice())? {
            Some(raw) => Some(trie_account(&raw)?),
            None => None,
        };
        let mut st = SparseTrie::new(account.map_or(EMPTY_ROOT_HASH, |a| a.storage_root), nodes);
        let mut storage = Vec::with_capacity(slots.len());
        for slot in slots {
            let sk = keccak256(slot.to_be_bytes::<32>());
            let proof = st.proof(sk.as_slice())?;
            let value = match st.get(sk.as_slice())? {
                Some(raw) => U256::decode(&mut raw.as_slice()).map_err(|e| corrupt(&e.to_string()))?,
                None => U256::ZERO,
            };
            storage.push((*slot, value, proof));
        }
        Ok((account, account_proof, storage))
    }

    /// The fork block of a forked chain's data (set by [`ChainStore::fork`]), if any.
    pub fn fork_point(&self) -> Result<Option<BlockRef>, StoreError> {
        let Some(v) = self.tree.get(key(P_META, FORK))? else { return Ok(None) };
        if v.len() != 40 {
            return Err(corrupt("fork record"));
        }
        Ok(Some(BlockRef {
            number: u64::from_be_bytes(v[..8].try_into().expect("8")),
            hash: B256::from_slice(&v[8..]),
        }))
    }

    /// Makes this a forked chain on `base`, whose state is the state after `pinned`. A new
    /// chain starts with `pinned` as its head; a chain forked before must have been forked from
    /// the same block (its data builds on that state).
    pub fn fork(&self, base: Arc<dyn BaseState>, pinned: &SealedBlock) -> Result<(), StoreError> {
        let _w = self.write.lock();
        if base.state_root() != pinned.header.state_root {
            return Err(StoreError::Fork(format!(
                "the base state's root {} is not block {}'s {}",
                base.state_root(),
                pinned.header.number,
                pinned.header.state_root
            )));
        }
        match (self.fork_point()?, self.head()?) {
            (Some(f), _) if f.hash == pinned.hash => {}
            (Some(f), _) => {
                return Err(StoreError::Fork(format!(
                    "this data dir was forked from block {} ({}), not {} ({})",
                    f.number, f.hash, pinned.header.number, pinned.hash
                )));
            }
            (None, Some(h)) => {
                return Err(StoreError::Fork(format!("this data dir already holds a chain (head {})", h.hash)));
            }
            (None, None) => {
                let number = pinned.header.number.to_be_bytes();
                let mut at = number.to_vec();
                at.extend_from_slice(pinned.hash.as_slice());
                let mut batch = Batch::default();
                batch.insert(key(P_BLOCK, &number), encode_block(pinned));
                batch.insert(key(P_HASH, pinned.hash.as_slice()), &number[..]);
                batch.insert(key(P_META, TRIE_ROOT), pinned.header.state_root.as_slice());
                batch.insert(key(P_META, FORK), at.clone());
                batch.insert(key(P_META, HEAD), at);
                self.tree.apply(batch)?;
                self.tree.sync()?;
            }
        }
        let _ = self.base.set(base);
        Ok(())
    }

    /// Whether this chain is forked from another node's state.
    pub fn is_forked(&self) -> bool {
        self.base.get().is_some()
    }

    fn base(&self) -> Option<&Arc<dyn BaseState>> {
        self.base.get()
    }

    /// Accounts at head, batched (a forked chain reads the ones it has no record of from its
    /// base in one request).
    pub fn accounts_at(&self, addresses: &[Address]) -> Result<Vec<Option<AccountState>>, StoreError> {
        let mut out = Vec::with_capacity(addresses.len());
        let mut missing = Vec::new();
        for a in addresses {
            match self.tree.get(key(P_ACCOUNT, a.as_slice()))? {
                Some(v) if v.is_empty() => out.push(None),
                Some(v) => out.push(Some(decode_account(&v)?)),
                None => {
                    missing.push((out.len(), *a));
                    out.push(None);
                }
            }
        }
        if let (Some(base), false) = (self.base(), missing.is_empty()) {
            let got = base.accounts(&missing.iter().map(|(_, a)| *a).collect::<Vec<_>>()).map_err(StoreError::Base)?;
            for ((i, _), a) in missing.into_iter().zip(got) {
                out[i] = a;
            }
        }
        Ok(out)
    }

    /// Storage slots at head, batched (see [`ChainStore::accounts_at`]).
    pub fn storage_at(&self, slots: &[(Address, U256)]) -> Result<Vec<U256>, StoreError> {
        let mut out = Vec::with_capacity(slots.len());
        let mut missing = Vec::new();
        for (a, s) in slots {
            match self.tree.get(storage_key(a, s))? {
                Some(v) => out.push(U256::from_be_slice(&v)),
                None => {
                    if self.base().is_some() && !self.tree.contains_key(key(P_WIPED, a.as_slice()))? {
                        missing.push((out.len(), (*a, *s)));
                    }
                    out.push(U256::ZERO);
                }
            }
        }
        if let (Some(base), false) = (self.base(), missing.is_empty()) {
            let got = base.storage(&missing.iter().map(|(_, k)| *k).collect::<Vec<_>>()).map_err(StoreError::Base)?;
            for ((i, _), v) in missing.into_iter().zip(got) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// The chain id.
    pub const fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The head, or `None` before genesis.
    pub fn head(&self) -> Result<Option<BlockRef>, StoreError> {
        // The head record is the number and the hash (40 bytes), so that reading the head does not
        // decode the head block.
        let Some(v) = self.tree.get(key(P_META, HEAD))? else { return Ok(None) };
        if v.len() != 40 {
            return Err(corrupt("head record"));
        }
        Ok(Some(BlockRef {
            number: u64::from_be_bytes(v[..8].try_into().expect("8")),
            hash: B256::from_slice(&v[8..]),
        }))
    }

    /// A block by number.
    pub fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, StoreError> {
        match self.tree.get(key(P_BLOCK, &number.to_be_bytes()))? {
            Some(v) => Ok(Some(decode_block(&v)?)),
            None => Ok(None),
        }
    }

    /// A block by hash: canonical, or a known block off the canonical chain (as geth serves
    /// blocks by hash).
    pub fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, StoreError> {
        match self.canonical_number(hash)? {
            Some(n) => Ok(self.block_by_number(n)?.filter(|b| b.hash == hash)),
            None => Ok(self.side(hash)?.map(|(b, _)| b)),
        }
    }

    /// Whether a block is on the canonical chain.
    pub fn is_canonical(&self, hash: B256) -> Result<bool, StoreError> {
        Ok(self.canonical_number(hash)?.is_some())
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
        Ok(self.accounts_at(std::slice::from_ref(address))?.pop().flatten())
    }

    /// A storage slot at head.
    pub fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StoreError> {
        Ok(self.storage_at(&[(*address, *slot)])?.pop().unwrap_or_default())
    }

    /// Code by hash.
    pub fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StoreError> {
        if *code_hash == KECCAK256_EMPTY {
            return Ok(Some(Bytes::new()));
        }
        match self.tree.get(key(P_CODE, code_hash.as_slice()))? {
            Some(v) => Ok(Some(Bytes::from(v.to_vec()))),
            None => match self.base() {
                Some(base) => base.code(*code_hash).map_err(StoreError::Base),
                None => Ok(None),
            },
        }
    }

    /// The hash of canonical block `number`: ours, or (forked chains, at or below the fork
    /// block) the base's.
    pub fn block_hash(&self, number: u64) -> Result<Option<B256>, StoreError> {
        if let Some(b) = self.block_by_number(number)? {
            return Ok(Some(b.hash));
        }
        match self.base() {
            Some(base) => base.block_hash(number).map_err(StoreError::Base),
            None => Ok(None),
        }
    }

    /// All non-zero storage of an account at head.
    pub fn account_storage(&self, address: &Address) -> Result<Vec<(U256, U256)>, StoreError> {
        let prefix = key(P_STORAGE, address.as_slice());
        Ok(self
            .tree
            .scan_prefix(&prefix)?
            .into_iter()
            .map(|(k, v)| (U256::from_be_slice(&k[21..]), U256::from_be_slice(&v)))
            .filter(|(_, v)| !v.is_zero())
            .collect())
    }

    /// Every account at head.
    pub fn accounts(&self) -> Result<Vec<(Address, AccountState)>, StoreError> {
        self.tree
            .scan_prefix([P_ACCOUNT])?
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| Ok((Address::from_slice(&k[1..]), decode_account(&v)?)))
            .collect()
    }

    fn sled_nodes(&self) -> SledNodes {
        SledNodes { tree: self.tree.clone(), cache: Arc::clone(&self.nodes) }
    }

    /// The root of the persisted state trie (the head's state root), or the empty root.
    pub fn trie_root(&self) -> Result<B256, StoreError> {
        Ok(self.tree.get(key(P_META, TRIE_ROOT))?.map(|v| B256::from_slice(&v)).unwrap_or(EMPTY_ROOT_HASH))
    }

    /// Applies `diff` to the persisted state trie in memory: only the paths of touched keys are
    /// read (from sled) and rehashed, so the cost grows with the keys the block touched, not with
    /// the size of the state.
    fn trie_update(&self, base_root: B256, diff: &StateDiff) -> Result<TrieUpdate, StoreError> {
        let t0 = std::time::Instant::now();
        let nodes = self.sled_nodes();
        let mut state = SparseTrie::new(base_root, nodes.clone());
        // Inserts and updates before deletions: a branch that loses a child and gains another
        // in the same block never collapses (a forked chain may not know the sibling's node).
        let (upserts, deletes): (Vec<_>, Vec<_>) = diff.accounts.iter().partition(|c| c.info.is_some());
        let items: Vec<(Vec<u8>, &AccountChange)> =
            upserts.into_iter().chain(deletes).map(|c| (key_nibbles(keccak256(c.address).as_slice()), c)).collect();
        let mut applied = Applied::default();
        let split = apply_items(&mut state, &items, &mut applied, |trie, path, c, applied| {
            let Some(info) = c.info else {
                trie.remove_path(path).map_err(|e| collapse(e, c.address, None))?;
                applied.storage_roots.insert(c.address, EMPTY_ROOT_HASH);
                return Ok(());
            };
            let old = storage_root_in(trie.get_path(path).map_err(trie_err)?)?;
            let storage_root = if c.storage.is_empty() && !c.wipe_storage {
                old
            } else {
                let mut st = SparseTrie::new(if c.wipe_storage { EMPTY_ROOT_HASH } else { old }, nodes.clone());
                // The last write of a slot counts (as in the flat state), sets before clears.
                let last: BTreeMap<U256, U256> = c.storage.iter().copied().collect();
                let (sets, clears): (Vec<_>, Vec<_>) = last.into_iter().partition(|(_, v)| !v.is_zero());
                let slots: Vec<(Vec<u8>, (U256, U256))> = sets
                    .into_iter()
                    .chain(clears)
                    .map(|(slot, value)| (key_nibbles(keccak256(slot.to_be_bytes::<32>()).as_slice()), (slot, value)))
                    .collect();
                let mut created = Applied::default();
                let split = apply_items(&mut st, &slots, &mut created, |st, path, (slot, value), _| {
                    if value.is_zero() {
                        st.remove_path(path).map_err(|e| collapse(e, c.address, Some(*slot)))
                    } else {
                        let mut v = Vec::new();
                        value.encode(&mut v);
                        st.insert_path(path, v).map_err(trie_err)
                    }
                })?;
                let (root, created) = if split { st.root_with_nodes_parallel() } else { st.root_with_nodes() };
                applied.nodes.extend(created);
                root
            };
            applied.storage_roots.insert(c.address, storage_root);
            let mut leaf = Vec::new();
            TrieAccount { nonce: info.nonce, balance: info.balance, storage_root, code_hash: info.code_hash }
                .encode(&mut leaf);
            trie.insert_path(path, leaf).map_err(trie_err)
        })?;
        let t1 = t0.elapsed();
        let (root, created) = if split { state.root_with_nodes_parallel() } else { state.root_with_nodes() };
        let Applied { storage_roots, nodes: mut new_nodes } = applied;
        new_nodes.extend(created);
        tracing::debug!(target: "opseq::timing", updates = ?t1, hash = ?(t0.elapsed() - t1), accounts = diff.accounts.len(), split, "trie update");
        Ok(TrieUpdate { root, storage_roots, state, nodes: new_nodes })
    }

    /// The trie update of `diff` on `base_root`: the one the last `compute_roots` made when it
    /// was for the same inputs, computed otherwise.
    fn update_for(&self, base_root: B256, diff: &StateDiff) -> Result<TrieUpdate, StoreError> {
        let cached = self.pending.lock().take().filter(|(r, d, _)| *r == base_root && d == diff).map(|(_, _, u)| u);
        match cached {
            Some(u) => Ok(u),
            None => self.trie_update(base_root, diff),
        }
    }

    /// The state root and the requested storage roots after applying `diff` on the state whose
    /// root is `base_root` (the parent's; the head's, or any block the store knows). With an empty
    /// diff this is `base_root`. The trie update is kept for the commit or keep of the same diff
    /// on the same root, which writes its nodes (content-addressed) in the block's own batch.
    pub fn compute_roots(
        &self,
        base_root: B256,
        diff: &StateDiff,
        storage_roots_of: &[Address],
    ) -> Result<(B256, Vec<(Address, B256)>), StoreError> {
        if let Some(base) = self.base() {
            // The accounts whose storage roots are wanted are read from the trie too.
            let extra = storage_roots_of.iter().filter(|a| !diff.accounts.iter().any(|c| c.address == **a));
            let paths = StateDiff {
                accounts: diff
                    .accounts
                    .iter()
                    .cloned()
                    .chain(extra.map(|a| AccountChange {
                        address: *a,
                        info: None,
                        wipe_storage: false,
                        storage: vec![],
                        code: None,
                    }))
                    .collect(),
            };
            self.ensure_paths(base.as_ref(), base_root, &paths)?;
        } else if base_root != EMPTY_ROOT_HASH && !self.tree.contains_key(key(P_NODE, base_root.as_slice()))? {
            return Err(StoreError::UnknownState(base_root));
        }
        let mut update = match self.base() {
            Some(base) => self.trie_update_forked(base.as_ref(), base_root, diff)?,
            None => self.trie_update(base_root, diff)?,
        };
        let mut wanted = Vec::with_capacity(storage_roots_of.len());
        for a in storage_roots_of {
            let root = match update.storage_roots.get(a) {
                Some(r) => *r,
                None => storage_root_in(update.state.get(keccak256(a).as_slice()).map_err(trie_err)?)?,
            };
            wanted.push((*a, root));
        }
        // The new nodes are written with the block (commit or keep), in its batch: a root that
        // is computed and then never used costs no write.
        let root = update.root;
        *self.pending.lock() = Some((base_root, diff.clone(), update));
        Ok((root, wanted))
    }

    /// Forked chains: fetches (as proofs from the base, in rounds of one batch each) the trie
    /// nodes on the paths to every key `diff` writes, under `root`, that the store lacks. Only
    /// the base's nodes can be missing: ours are written with our blocks.
    fn ensure_paths(&self, base: &dyn BaseState, root: B256, diff: &StateDiff) -> Result<(), StoreError> {
        let nodes = self.sled_nodes();
        let stop = |r: Result<Option<Vec<u8>>, opseq_trie::TrieError>| match r {
            Ok(v) => Ok(Ok(v)),
            Err(opseq_trie::TrieError::MissingNode(h)) => Ok(Err(h)),
            Err(e) => Err(trie_err(e)),
        };
        for round in 0..64 {
            // Each key whose path stops at a node we lack, grouped by that node: one proof per
            // missing node reveals it (and every key of the group moves past it), so a round
            // costs as many proofs as the trie has unknown nodes at the frontier, not one per key.
            let mut by_node: BTreeMap<B256, (Address, BTreeSet<U256>)> = BTreeMap::new();
            let mut state = SparseTrie::new(root, nodes.clone());
            for c in &diff.accounts {
                let leaf = match stop(state.get(keccak256(c.address).as_slice()))? {
                    Ok(leaf) => leaf,
                    Err(h) => {
                        by_node.entry(h).or_insert_with(|| (c.address, BTreeSet::new()));
                        continue;
                    }
                };
                if c.storage.is_empty() || c.wipe_storage || c.info.is_none() {
                    continue;
                }
                let storage_root = storage_root_in(leaf)?;
                let mut st = SparseTrie::new(storage_root, nodes.clone());
                for (slot, _) in &c.storage {
                    if let Err(h) = stop(st.get(keccak256(B256::from(*slot)).as_slice()))? {
                        by_node.entry(h).or_insert_with(|| (c.address, BTreeSet::new())).1.insert(*slot);
                    }
                }
            }
            if by_node.is_empty() {
                return Ok(());
            }
            // A missing node under which the block read every key can be rebuilt from their
            // values and checked against its hash, with no proof (most a block touches).
            let missing = by_node.len();
            self.rebuild_nodes(base, root, diff, &mut by_node)?;
            tracing::debug!(target: "opseq::store::fork", chain_id = self.chain_id, round, missing, rebuilt = missing - by_node.len(), proofs = by_node.len(), "trie paths");
            if by_node.is_empty() {
                continue;
            }
            // One request per account, with the slots it stands for.
            let mut keys: BTreeMap<Address, BTreeSet<U256>> = BTreeMap::new();
            for (a, slots) in by_node.into_values() {
                keys.entry(a).or_default().extend(slots);
            }
            let keys: Vec<(Address, Vec<U256>)> = keys.into_iter().map(|(a, s)| (a, s.into_iter().collect())).collect();
            let proof = base.proofs(&keys).map_err(StoreError::Base)?;
            let mut batch = Batch::default();
            let mut new = 0usize;
            for node in proof {
                let k = key_of_node(&node);
                if !self.tree.contains_key(&k)? {
                    batch.insert(k, node.as_ref());
                    new += 1;
                }
            }
            if new == 0 {
                return Err(StoreError::Unresolved(format!(
                    "the base's proofs of {} keys revealed no new trie node",
                    keys.len()
                )));
            }
            self.tree.apply(batch)?;
        }
        Err(StoreError::Unresolved("the trie paths did not resolve within 64 rounds of proofs".into()))
    }

    /// Rebuilds the missing nodes of `by_node` from the base values of the keys under them: in
    /// the account trie, the node at a path from every account of `diff` under it that exists
    /// in the base (an account without code is assumed to have no storage), which is the node
    /// when those are all the accounts there; in a storage trie, the leaf of a slot whose value
    /// was read. A rebuilt node is kept only if it hashes to the hash its parent references
    /// (else a proof is fetched). Removes the rebuilt ones from `by_node`.
    fn rebuild_nodes(
        &self,
        base: &dyn BaseState,
        root: B256,
        diff: &StateDiff,
        by_node: &mut BTreeMap<B256, (Address, BTreeSet<U256>)>,
    ) -> Result<(), StoreError> {
        let nodes = self.sled_nodes();
        let mut state = SparseTrie::new(root, nodes.clone());
        let mut batch = Batch::default();
        let mut done = Vec::new();
        // The accounts of the diff that exist in the base and are not empty: (key nibbles, leaf
        // value), or `None` for one whose storage root is unknown (it has code).
        let addresses: Vec<Address> = diff.accounts.iter().map(|c| c.address).collect();
        let known: Vec<(Vec<u8>, Option<Vec<u8>>)> = match base.accounts(&addresses) {
            Ok(found) => addresses
                .iter()
                .zip(found)
                .filter_map(|(address, a)| {
                    // An empty account is taken for a missing one (the base answers zeros for
                    // both); an existing empty one makes the rebuild miss, and a proof follows.
                    let a = a.filter(|a| a.nonce != 0 || !a.balance.is_zero() || a.code_hash != KECCAK256_EMPTY)?;
                    let nibbles = opseq_trie::key_nibbles(keccak256(address).as_slice());
                    if a.code_hash != KECCAK256_EMPTY {
                        return Some((nibbles, None));
                    }
                    let mut value = Vec::new();
                    TrieAccount {
                        nonce: a.nonce,
                        balance: a.balance,
                        storage_root: EMPTY_ROOT_HASH,
                        code_hash: a.code_hash,
                    }
                    .encode(&mut value);
                    Some((nibbles, Some(value)))
                })
                .collect(),
            Err(_) => vec![],
        };
        for (h, (address, slots)) in by_node.iter() {
            if !slots.is_empty() {
                continue;
            }
            let Ok(Some(at)) = state.sibling_path(keccak256(address).as_slice(), *h) else { continue };
            let under: Option<Vec<(Vec<u8>, Vec<u8>)>> = known
                .iter()
                .filter(|(k, _)| k.starts_with(&at))
                .map(|(k, v)| v.clone().map(|v| (k[at.len()..].to_vec(), v)))
                .collect();
            let Some((node, below)) = under.as_deref().and_then(opseq_trie::subtrie_node) else { continue };
            if keccak256(&node) == *h {
                batch.insert(key_of_node(&node), node);
                put_nodes(&mut batch, &below);
                done.push(*h);
            }
        }
        for h in &done {
            by_node.remove(h);
        }
        // Storage slots: the leaf of a slot whose value was read.
        let mut slot_done = Vec::new();
        for (h, (address, slots)) in by_node.iter() {
            let Ok(Some(leaf)) = state.get(keccak256(address).as_slice()) else { continue };
            let storage_root = trie_account(&leaf)?.storage_root;
            let mut st = SparseTrie::new(storage_root, nodes.clone());
            for slot in slots {
                let k = keccak256(B256::from(*slot));
                let Ok(Some(at)) = st.sibling_path(k.as_slice(), *h) else { continue };
                let Ok(values) = base.storage(&[(*address, *slot)]) else { continue };
                let Some(v) = values.first().filter(|v| !v.is_zero()) else { continue };
                let mut value = Vec::new();
                v.encode(&mut value);
                let node = opseq_trie::leaf_node(&opseq_trie::key_nibbles(k.as_slice())[at.len()..], &value);
                if keccak256(&node) == *h {
                    batch.insert(key_of_node(&node), node);
                    slot_done.push(*h);
                    break;
                }
            }
        }
        for h in &slot_done {
            by_node.remove(h);
        }
        self.tree.apply(batch)?;
        Ok(())
    }

    /// [`ChainStore::trie_update`] on a forked chain: when a deletion collapses a branch onto a
    /// sibling node known only by hash, a key the base has read that lies under that sibling
    /// (its path walk stops at that very hash) is proven, and the update runs again. No such
    /// key: a clear error, never a guessed root.
    fn trie_update_forked(&self, base: &dyn BaseState, root: B256, diff: &StateDiff) -> Result<TrieUpdate, StoreError> {
        let nodes = self.sled_nodes();
        for _ in 0..32 {
            let (account, slot, missing) = match self.trie_update(root, diff) {
                Ok(u) => return Ok(u),
                Err(StoreError::Collapse { account, slot, node }) => (account, slot, node),
                Err(e) => return Err(e),
            };
            let unresolved = |why: &str| {
                let what = slot.map_or_else(|| format!("account {account}"), |s| format!("slot {s} of {account}"));
                StoreError::Unresolved(format!(
                    "deleting {what} collapses a trie branch onto node {missing}, which no proof revealed ({why}); the upstream offers no node-by-hash lookup, so the root is not guessed"
                ))
            };
            let mut state = SparseTrie::new(root, nodes.clone());
            // The sibling's place; then any key under it, whose proof (of presence or absence)
            // ends in that very node.
            let key: (Address, Vec<U256>) = match slot {
                None => {
                    let at = state
                        .sibling_path(keccak256(account).as_slice(), missing)?
                        .ok_or_else(|| unresolved("not on its path"))?;
                    let k = key_under(&at, |i| Address::left_padding_from(&i.to_be_bytes()).to_vec())
                        .ok_or_else(|| unresolved("too deep to search for an address under it"))?;
                    (Address::from_slice(&k), vec![])
                }
                Some(slot) => {
                    let leaf = state.get(keccak256(account).as_slice())?.ok_or_else(|| unresolved("no account"))?;
                    let storage_root = trie_account(&leaf)?.storage_root;
                    let at = SparseTrie::new(storage_root, nodes.clone())
                        .sibling_path(keccak256(slot.to_be_bytes::<32>()).as_slice(), missing)?
                        .ok_or_else(|| unresolved("not on its path"))?;
                    let k = key_under(&at, |i| U256::from(i).to_be_bytes::<32>().to_vec())
                        .ok_or_else(|| unresolved("too deep to search for a slot under it"))?;
                    (account, vec![U256::from_be_slice(&k)])
                }
            };
            let mut batch = Batch::default();
            for node in base.proofs(&[key]).map_err(StoreError::Base)? {
                batch.insert(key_of_node(&node), node.as_ref());
            }
            self.tree.apply(batch)?;
            if nodes.node(&missing).is_none() {
                return Err(unresolved("the proof of a key under it did not include it"));
            }
        }
        Err(StoreError::Unresolved("collapsed siblings did not resolve within 32 proofs".into()))
    }

    /// Rebuilds the persisted trie from the flat state when it is missing or stale (a data dir
    /// written before the trie was persisted). Returns whether it had to. (A forked chain's flat
    /// state holds only what changed since the fork: nothing to rebuild from.)
    pub fn ensure_trie(&self) -> Result<bool, StoreError> {
        if self.fork_point()?.is_some() {
            return Ok(false);
        }
        let Some(head) = self.head()? else { return Ok(false) };
        let block = self.block_by_number(head.number)?.ok_or_else(|| corrupt("head block missing"))?;
        if self.trie_root()? == block.header.state_root {
            return Ok(false);
        }
        let diff = StateDiff {
            accounts: self
                .accounts()?
                .into_iter()
                .map(|(address, state)| {
                    Ok(AccountChange {
                        address,
                        info: Some(state),
                        wipe_storage: false,
                        storage: self.account_storage(&address)?,
                        code: None,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        };
        let mut batch = Batch::default();
        batch.insert(key(P_META, TRIE_ROOT), EMPTY_ROOT_HASH.as_slice());
        self.tree.apply(batch)?;
        let update = self.trie_update(EMPTY_ROOT_HASH, &diff)?;
        if update.root != block.header.state_root {
            return Err(corrupt(&format!(
                "flat state hashes to {}, the head says {}",
                update.root, block.header.state_root
            )));
        }
        let mut batch = Batch::default();
        put_nodes(&mut batch, &update.nodes);
        batch.insert(key(P_META, TRIE_ROOT), update.root.as_slice());
        self.tree.apply(batch)?;
        Ok(true)
    }

    /// Commits a block with its state changes. Its parent is normally the head; if it is another
    /// block the store knows (a canonical ancestor, or a block off the canonical chain), the chain
    /// is first reorged onto that parent. Returns the hashes of the blocks that left the canonical
    /// chain, oldest first. Each step (rewind, append) is one atomic batch.
    pub fn commit(&self, block: &SealedBlock, diff: &StateDiff) -> Result<Vec<B256>, StoreError> {
        let _w = self.write.lock();
        self.commit_locked(block, diff, None)
    }

    /// [`ChainStore::commit`] with the diff of the last [`ChainStore::compute_roots`], which
    /// must have produced `block`'s state root: a remote builder then sends the diff once (for
    /// the roots), not again with the block. [`StoreError::DiffNotComputed`] when that diff is
    /// no longer held (another `compute_roots` since, or a restart): the caller sends it.
    pub fn commit_computed(&self, block: &SealedBlock) -> Result<Vec<B256>, StoreError> {
        let _w = self.write.lock();
        if self.head()?.is_some_and(|h| h.hash == block.hash) {
            return Ok(Vec::new());
        }
        let pending = self.pending.lock().take();
        match pending {
            Some((base, diff, update)) if update.root == block.header.state_root => {
                self.commit_locked(block, &diff, Some((base, update)))
            }
            other => {
                *self.pending.lock() = other;
                Err(StoreError::DiffNotComputed(block.header.state_root))
            }
        }
    }

    fn commit_locked(
        &self,
        block: &SealedBlock,
        diff: &StateDiff,
        computed: Option<(B256, TrieUpdate)>,
    ) -> Result<Vec<B256>, StoreError> {
        let mut removed = Vec::new();
        match self.head()? {
            // Committed already (a retry after an answer that was lost): nothing to do.
            Some(head) if head.hash == block.hash => return Ok(removed),
            Some(head) if block.header.parent_hash == head.hash && block.header.number == head.number + 1 => {}
            Some(head) => {
                let parent_number = match self.canonical_number(block.header.parent_hash)? {
                    Some(n) => Some(n),
                    None => self.side(block.header.parent_hash)?.map(|(b, _)| b.header.number),
                };
                if parent_number.is_none_or(|n| n + 1 != block.header.number) {
                    return Err(StoreError::NotOnHead {
                        number: block.header.number,
                        parent: block.header.parent_hash,
                        head: head.hash,
                    });
                }
                removed = self.set_head_locked(block.header.parent_hash)?;
            }
            None if block.header.number == 0 => {}
            None => return Err(StoreError::NoGenesis),
        }
        self.append(block, diff, computed)?;
        Ok(removed)
    }

    /// Makes a known block the head: a canonical ancestor (rewind) or a block off the canonical
    /// chain (reorg onto it). Returns the hashes of the blocks that left the canonical chain.
    pub fn set_head(&self, target: B256) -> Result<Vec<B256>, StoreError> {
        let _w = self.write.lock();
        self.set_head_locked(target)
    }

    /// Remembers a sealed block that is not (yet) canonical, so that blocks can be built on it and
    /// it can be made canonical later. Its state root is checked against its parent's state.
    pub fn keep(&self, block: &SealedBlock, diff: &StateDiff) -> Result<(), StoreError> {
        let _w = self.write.lock();
        if self.canonical_number(block.hash)?.is_some() || self.side(block.hash)?.is_some() {
            return Ok(());
        }
        let parent =
            self.block_by_hash(block.header.parent_hash)?.ok_or(StoreError::UnknownBlock(block.header.parent_hash))?;
        let update = self.update_for(parent.header.state_root, diff)?;
        root_matches(block, update.root)?;
        let mut batch = Batch::default();
        put_nodes(&mut batch, &update.nodes);
        batch.insert(key(P_SIDE, block.hash.as_slice()), encode_side(block, diff));
        self.tree.apply(batch)?;
        Ok(())
    }

    /// The state at `target` (any known block) as a diff on top of the head state: the reverts of
    /// the canonical blocks above the common ancestor, then the diffs of `target`'s own branch.
    /// Returns the head the diff applies to with it.
    pub fn overlay(&self, target: B256) -> Result<(BlockRef, StateDiff), StoreError> {
        let _w = self.write.lock();
        let head = self.head()?.ok_or(StoreError::NoGenesis)?;
        if target == head.hash {
            return Ok((head, StateDiff::default()));
        }
        let (ancestor, forwards) = self.path_to(target)?;
        let mut composed = self.reverts(ancestor, head.number)?;
        for (_, diff) in &forwards {
            composed.push(diff);
        }
        Ok((head, composed.finish()))
    }

    /// The canonical number of a block hash, if the block is canonical.
    fn canonical_number(&self, hash: B256) -> Result<Option<u64>, StoreError> {
        match self.tree.get(key(P_HASH, hash.as_slice()))? {
            Some(n) => Ok(Some(u64::from_be_bytes(n.as_ref().try_into().map_err(|_| corrupt("hash index"))?))),
            None => Ok(None),
        }
    }

    /// A known block off the canonical chain, with its diff.
    fn side(&self, hash: B256) -> Result<Option<(SealedBlock, StateDiff)>, StoreError> {
        let Some(v) = self.tree.get(key(P_SIDE, hash.as_slice()))? else { return Ok(None) };
        let mut v: &[u8] = &v;
        let n = u32_of(&mut v)?;
        let block = decode_block(take(&mut v, n)?)?;
        Ok(Some((block, decode_diff(&mut v)?)))
    }

    /// From `target` back to the canonical chain: the number of the canonical ancestor and the
    /// off-chain blocks from there to `target`, oldest first.
    fn path_to(&self, target: B256) -> Result<(u64, Vec<(SealedBlock, StateDiff)>), StoreError> {
        let mut forwards = Vec::new();
        let mut hash = target;
        loop {
            if let Some(n) = self.canonical_number(hash)? {
                forwards.reverse();
                return Ok((n, forwards));
            }
            let (block, diff) = self.side(hash)?.ok_or(StoreError::UnknownBlock(hash))?;
            hash = block.header.parent_hash;
            forwards.push((block, diff));
        }
    }

    /// The composed reverts of canonical blocks `top` down to `ancestor + 1`.
    fn reverts(&self, ancestor: u64, top: u64) -> Result<Composed, StoreError> {
        let mut composed = Composed::default();
        for n in (ancestor + 1..=top).rev() {
            let (_, revert) = self.change(n)?;
            composed.push(&revert);
        }
        Ok(composed)
    }

    /// The change record of canonical block `n`: its diff and the revert.
    fn change(&self, n: u64) -> Result<(StateDiff, StateDiff), StoreError> {
        let v = self
            .tree
            .get(key(P_CHANGE, &n.to_be_bytes()))?
            .ok_or(StoreError::TooDeep { number: n, depth: REORG_DEPTH })?;
        let mut v: &[u8] = &v;
        Ok((decode_diff(&mut v)?, decode_diff(&mut v)?))
    }

    fn set_head_locked(&self, target: B256) -> Result<Vec<B256>, StoreError> {
        let head = self.head()?.ok_or(StoreError::NoGenesis)?;
        if target == head.hash {
            return Ok(vec![]);
        }
        let (ancestor, forwards) = self.path_to(target)?;
        let removed = if ancestor < head.number { self.rewind(ancestor, head.number)? } else { vec![] };
        for (block, diff) in &forwards {
            self.append(block, diff, None)?;
        }
        Ok(removed)
    }

    /// Moves canonical blocks `ancestor + 1 ..= top` off the canonical chain (kept as side
    /// blocks) and restores the state of `ancestor`, in one batch. The trie needs no work: its
    /// nodes are content-addressed and kept, so the ancestor's root is its trie.
    fn rewind(&self, ancestor: u64, top: u64) -> Result<Vec<B256>, StoreError> {
        let composed = self.reverts(ancestor, top)?.finish();
        let base = self.block_by_number(ancestor)?.ok_or_else(|| corrupt("canonical block missing"))?;
        let mut batch = Batch::default();
        let mut removed = Vec::new();
        for n in ancestor + 1..=top {
            let block = self.block_by_number(n)?.ok_or_else(|| corrupt("canonical block missing"))?;
            let (diff, _) = self.change(n)?;
            batch.insert(key(P_SIDE, block.hash.as_slice()), encode_side(&block, &diff));
            batch.remove(key(P_BLOCK, &n.to_be_bytes()));
            batch.remove(key(P_CHANGE, &n.to_be_bytes()));
            batch.remove(key(P_HASH, block.hash.as_slice()));
            for h in &block.tx_hashes {
                batch.remove(key(P_TX, h.as_slice()));
            }
            removed.push(block.hash);
        }
        for change in &composed.accounts {
            self.apply_flat(&mut batch, change)?;
        }
        batch.insert(key(P_META, TRIE_ROOT), base.header.state_root.as_slice());
        let mut head = ancestor.to_be_bytes().to_vec();
        head.extend_from_slice(base.hash.as_slice());
        batch.insert(key(P_META, HEAD), head);
        self.tree.apply(batch)?;
        Ok(removed)
    }

    /// The revert of `diff` against the head state: applied after `diff`, it gives the head state
    /// back.
    fn revert_of(&self, diff: &StateDiff) -> Result<StateDiff, StoreError> {
        let mut accounts = Vec::with_capacity(diff.accounts.len());
        for c in &diff.accounts {
            let info = self.account(&c.address)?;
            let (wipe_storage, storage) = if c.wipe_storage || c.info.is_none() {
                (true, self.account_storage(&c.address)?)
            } else {
                let slots = c.storage.iter().map(|(k, _)| Ok((*k, self.storage(&c.address, k)?))).collect::<Result<
                    Vec<_>,
                    StoreError,
                >>(
                )?;
                (false, slots)
            };
            accounts.push(AccountChange { address: c.address, info, wipe_storage, storage, code: None });
        }
        Ok(StateDiff { accounts })
    }

    /// Writes one account change to the flat state.
    /// On a forked chain a deletion is a tombstone (an empty account record, a zero slot, a
    /// wiped-storage marker), so that the key is not read from the base again.
    fn apply_flat(&self, batch: &mut Batch, change: &AccountChange) -> Result<(), StoreError> {
        let forked = self.is_forked();
        if change.wipe_storage || change.info.is_none() {
            for (k, _) in self.tree.scan_prefix(key(P_STORAGE, change.address.as_slice()))? {
                batch.remove(k);
            }
            if forked {
                batch.insert(key(P_WIPED, change.address.as_slice()), &[][..]);
            }
        }
        match &change.info {
            Some(info) => {
                batch.insert(key(P_ACCOUNT, change.address.as_slice()), &encode_account(info)[..]);
                for (slot, value) in &change.storage {
                    let k = storage_key(&change.address, slot);
                    if value.is_zero() && !forked {
                        batch.remove(k);
                    } else {
                        batch.insert(k, &value.to_be_bytes::<32>()[..]);
                    }
                }
            }
            None if forked => batch.insert(key(P_ACCOUNT, change.address.as_slice()), &[][..]),
            None => batch.remove(key(P_ACCOUNT, change.address.as_slice())),
        }
        if let Some(code) = &change.code {
            batch.insert(key(P_CODE, keccak256(code).as_slice()), code.as_ref());
        } else if let (Some(base), Some(info)) = (self.base(), &change.info)
            && info.code_hash != KECCAK256_EMPTY
            && !self.tree.contains_key(key(P_CODE, info.code_hash.as_slice()))?
        {
            // A forked chain keeps the upstream code of every account it records: after a
            // restart the account is read here, and code is only asked for by its hash.
            if let Some(code) = base.code(info.code_hash).map_err(StoreError::Base)? {
                batch.insert(key(P_CODE, info.code_hash.as_slice()), code.as_ref());
            }
        }
        Ok(())
    }

    /// Appends a block on the head, atomically: block, indexes, flat state, trie root, its change
    /// record (pruning the one that fell out of the reorg window), head.
    /// Appends `block` on the head; `computed` is a trie update of `diff` already made on some
    /// root (used when that root is the head's).
    fn append(
        &self,
        block: &SealedBlock,
        diff: &StateDiff,
        computed: Option<(B256, TrieUpdate)>,
    ) -> Result<(), StoreError> {
        let t0 = std::time::Instant::now();
        let base_root = self.trie_root()?;
        let update = match computed {
            Some((base, update)) if base == base_root => update,
            _ => self.update_for(base_root, diff)?,
        };
        root_matches(block, update.root)?;
        let number = block.header.number.to_be_bytes();
        // Two halves of the batch, on two threads for a big block: the block's own records and
        // the trie nodes (which go to the node cache as well: content-addressed, so caching
        // them before the batch lands is harmless), and the change record and flat state.
        let (root, nodes) = (update.root, update.nodes);
        let records = move || {
            let mut batch = Batch::default();
            put_nodes(&mut batch, &nodes);
            batch.insert(key(P_META, TRIE_ROOT), root.as_slice());
            batch.insert(key(P_BLOCK, &number), encode_block(block));
            batch.insert(key(P_HASH, block.hash.as_slice()), &number[..]);
            batch.remove(key(P_SIDE, block.hash.as_slice()));
            for (i, h) in block.tx_hashes.iter().enumerate() {
                let mut v = [0u8; 16];
                v[..8].copy_from_slice(&number);
                v[8..].copy_from_slice(&(i as u64).to_be_bytes());
                batch.insert(key(P_TX, h.as_slice()), &v[..]);
            }
            self.nodes.extend(nodes.into_iter().map(|(h, n)| (h, Bytes::from(n))));
            batch
        };
        let state = || -> Result<Batch, StoreError> {
            let mut batch = Batch::default();
            if block.header.number > 0 {
                let mut record = Vec::new();
                encode_diff(diff, &mut record);
                encode_diff(&self.revert_of(diff)?, &mut record);
                batch.insert(key(P_CHANGE, &number), record);
                if let Some(old) = block.header.number.checked_sub(REORG_DEPTH) {
                    batch.remove(key(P_CHANGE, &old.to_be_bytes()));
                }
            }
            for change in &diff.accounts {
                self.apply_flat(&mut batch, change)?;
            }
            let mut head = number.to_vec();
            head.extend_from_slice(block.hash.as_slice());
            batch.insert(key(P_META, HEAD), head);
            Ok(batch)
        };
        let (mut batch, state) = if block.transactions.len() >= PARALLEL_COMMIT_TXS {
            std::thread::scope(|s| {
                let state = s.spawn(state);
                (records(), state.join().expect("commit thread"))
            })
        } else {
            (records(), state())
        };
        batch.extend(state?);
        let t1 = t0.elapsed();
        self.tree.apply(batch)?;
        tracing::debug!(target: "opseq::timing", batch = ?t1, apply = ?(t0.elapsed() - t1), "append");
        Ok(())
    }

    /// Makes this chain's writes durable (see [`crate::SyncMode`]).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.tree.sync()?;
        Ok(())
    }
}

/// Block records are a compact binary layout (no hex, no JSON): a block of 10k transactions is
/// written once per commit and read on every RPC that touches it.
///
/// `u32 len ‖ header RLP`, `u32 n`, n × (`u32 len ‖ tx`), n × tx hash, n × sender,
/// n × (`u32 len ‖ receipt`), `u8 has_origin [‖ u64 number ‖ hash]`, `u8 has_sig [‖ u32 len ‖ sig]`.
fn encode_block(b: &SealedBlock) -> Vec<u8> {
    let mut header = Vec::new();
    b.header.encode(&mut header);
    let size = 16
        + header.len()
        + b.transactions.iter().map(|t| t.len() + 4).sum::<usize>()
        + b.receipts.iter().map(|r| r.len() + 4).sum::<usize>()
        + b.transactions.len() * 52
        + 120;
    let mut out = Vec::with_capacity(size);
    let put = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    put(&mut out, &header);
    out.extend_from_slice(&(b.transactions.len() as u32).to_be_bytes());
    for t in &b.transactions {
        put(&mut out, t);
    }
    for h in &b.tx_hashes {
        out.extend_from_slice(h.as_slice());
    }
    for a in &b.senders {
        out.extend_from_slice(a.as_slice());
    }
    for r in &b.receipts {
        put(&mut out, r);
    }
    match &b.l1_origin {
        Some(o) => {
            out.push(1);
            out.extend_from_slice(&o.number.to_be_bytes());
            out.extend_from_slice(o.hash.as_slice());
        }
        None => out.push(0),
    }
    match &b.signature {
        Some(sig) => {
            out.push(1);
            put(&mut out, sig);
        }
        None => out.push(0),
    }
    out
}

/// Refuses a block whose header's state root is not the root of its state.
fn root_matches(block: &SealedBlock, root: B256) -> Result<(), StoreError> {
    if root != block.header.state_root {
        return Err(StoreError::RootMismatch {
            number: block.header.number,
            header: block.header.state_root,
            state: root,
        });
    }
    Ok(())
}

/// Adds trie nodes (content-addressed) to a batch.
fn put_nodes(batch: &mut Batch, nodes: &[(B256, Vec<u8>)]) {
    for (h, n) in nodes {
        batch.insert(key(P_NODE, h.as_slice()), n.as_slice());
    }
}

/// A side-block record: `u32 len ‖ block record ‖ diff`.
fn encode_side(block: &SealedBlock, diff: &StateDiff) -> Vec<u8> {
    let b = encode_block(block);
    let mut out = Vec::with_capacity(b.len() + 4);
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(&b);
    encode_diff(diff, &mut out);
    out
}

fn decode_block(mut v: &[u8]) -> Result<SealedBlock, StoreError> {
    fn sized<'a>(v: &mut &'a [u8]) -> Result<&'a [u8], StoreError> {
        let n = u32_of(v)?;
        take(v, n)
    }
    let header = alloy_consensus::Header::decode(&mut sized(&mut v)?).map_err(|e| corrupt(&e.to_string()))?;
    let n = u32_of(&mut v)?;
    let transactions = (0..n).map(|_| sized(&mut v).map(Bytes::copy_from_slice)).collect::<Result<Vec<_>, _>>()?;
    let tx_hashes = (0..n).map(|_| take(&mut v, 32).map(B256::from_slice)).collect::<Result<Vec<_>, _>>()?;
    let senders = (0..n).map(|_| take(&mut v, 20).map(Address::from_slice)).collect::<Result<Vec<_>, _>>()?;
    let receipts = (0..n).map(|_| sized(&mut v).map(Bytes::copy_from_slice)).collect::<Result<Vec<_>, _>>()?;
    let l1_origin = match take(&mut v, 1)?[0] {
        1 => Some(BlockRef {
            number: u64::from_be_bytes(take(&mut v, 8)?.try_into().expect("8")),
            hash: B256::from_slice(take(&mut v, 32)?),
        }),
        _ => None,
    };
    let signature = match take(&mut v, 1)?[0] {
        1 => Some(Bytes::copy_from_slice(sized(&mut v)?)),
        _ => None,
    };
    Ok(SealedBlock {
        hash: header.hash_slow(),
        header,
        transactions,
        tx_hashes,
        senders,
        receipts,
        l1_origin,
        signature,
    })
}

#[cfg(test)]
fn storage_root_of(slots: impl IntoIterator<Item = (U256, U256)>) -> B256 {
    let slots: Vec<(B256, U256)> =
        slots.into_iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(k), v)).collect();
    if slots.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    alloy_trie::root::storage_root_unhashed(slots)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use alloy_consensus::Header;

    fn block(chain: &ChainStore, number: u64, parent: B256, diff: &StateDiff) -> SealedBlock {
        let (state_root, _) = chain.compute_roots(chain.trie_root().unwrap(), diff, &[]).unwrap();
        let header = Header { number, parent_hash: parent, state_root, ..Default::default() };
        SealedBlock::header_only(header)
    }

    fn acct(address: Address, balance: u64, storage: Vec<(U256, U256)>) -> AccountChange {
        AccountChange {
            address,
            info: Some(AccountState { nonce: 0, balance: U256::from(balance), code_hash: KECCAK256_EMPTY }),
            wipe_storage: false,
            storage,
            code: None,
        }
    }

    fn full_root(chain: &ChainStore) -> B256 {
        alloy_trie::root::state_root_unsorted(chain.accounts().unwrap().into_iter().map(|(a, s)| {
            (
                keccak256(a),
                TrieAccount {
                    nonce: s.nonce,
                    balance: s.balance,
                    storage_root: storage_root_of(chain.account_storage(&a).unwrap()),
                    code_hash: s.code_hash,
                },
            )
        }))
    }

    #[test]
    fn commits_keep_the_persisted_trie_equal_to_a_full_recompute() {
        let store = Store::temporary(&[1]).unwrap();
        let chain = store.chain(1).unwrap();
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let d0 = StateDiff { accounts: vec![acct(a, 10, vec![(U256::from(1), U256::from(7))])] };
        let genesis = block(chain, 0, B256::ZERO, &d0);
        chain.commit(&genesis, &d0).unwrap();
        assert_eq!(chain.trie_root().unwrap(), full_root(chain));

        // A block not on the head is refused and changes nothing; so is a wrong state root.
        let stray = block(chain, 1, B256::repeat_byte(9), &d0);
        assert!(matches!(chain.commit(&stray, &d0), Err(StoreError::NotOnHead { .. })));
        let mut lying = block(chain, 1, genesis.hash, &d0);
        lying.header.state_root = B256::repeat_byte(7);
        assert!(matches!(chain.commit(&lying, &d0), Err(StoreError::RootMismatch { .. })));
        assert_eq!(chain.head().unwrap().unwrap().hash, genesis.hash);

        // Predicted roots equal the roots after commit, which equal a full recompute; storage
        // deletions collapse the trie correctly.
        let mut parent = genesis.hash;
        for n in 1..30u64 {
            let mut accounts =
                vec![acct(a, 5 + n, vec![(U256::from(1), U256::from(n % 3)), (U256::from(n), U256::from(n))])];
            accounts.push(acct(Address::repeat_byte(n as u8 + 10), n, vec![]));
            if n % 7 == 0 {
                accounts.push(AccountChange {
                    address: b,
                    info: None,
                    wipe_storage: true,
                    storage: vec![],
                    code: None,
                });
            } else {
                accounts.push(acct(b, n, vec![(U256::from(5), U256::from(n % 2))]));
            }
            accounts.sort_by_key(|c| c.address);
            let diff = StateDiff { accounts };
            let (predicted, roots) = chain.compute_roots(chain.trie_root().unwrap(), &diff, &[a]).unwrap();
            let blk = block(chain, n, parent, &diff);
            chain.commit(&blk, &diff).unwrap();
            parent = blk.hash;
            assert_eq!(predicted, full_root(chain), "block {n}");
            assert_eq!(roots[0].1, storage_root_of(chain.account_storage(&a).unwrap()));
        }
    }

    /// Every account with its storage: the flat state as a comparable value.
    type Snapshot = Vec<(Address, AccountState, Vec<(U256, U256)>)>;

    fn snapshot(chain: &ChainStore) -> Snapshot {
        chain.accounts().unwrap().into_iter().map(|(a, s)| (a, s, chain.account_storage(&a).unwrap())).collect()
    }

    /// `snapshot` of the head state with `overlay` applied on top.
    fn with_overlay(mut base: Snapshot, overlay: &StateDiff) -> Snapshot {
        for c in &overlay.accounts {
            let old = base.iter().position(|(a, ..)| *a == c.address).map(|i| base.remove(i));
            let Some(info) = c.info else { continue };
            let mut storage: std::collections::BTreeMap<U256, U256> = if c.wipe_storage {
                Default::default()
            } else {
                old.map(|o| o.2).unwrap_or_default().into_iter().collect()
            };
            storage.extend(c.storage.iter().copied());
            base.push((c.address, info, storage.into_iter().filter(|(_, v)| !v.is_zero()).collect()));
        }
        base.sort_by_key(|(a, ..)| *a);
        base
    }

    /// Blocks big enough that the account trie and a storage trie are updated as two halves on
    /// two threads: the roots equal a full recompute, through account deletions, slot clears and
    /// a deletion of all but one account.
    #[test]
    fn big_blocks_updated_on_two_threads_keep_the_trie_equal_to_a_full_recompute() {
        let store = Store::temporary(&[1]).unwrap();
        let chain = store.chain(1).unwrap();
        let addr = |i: u64| Address::from_word(keccak256(i.to_be_bytes()));
        let token = Address::repeat_byte(0x70);
        let slots = |n: u64, round: u64| (0..n).map(move |j| (U256::from(j), U256::from((j + round) % 5))).collect();
        let mut accounts: Vec<_> = (0..3000).map(|i| acct(addr(i), i + 1, vec![])).collect();
        accounts.push(acct(token, 1, slots(3000, 1)));
        let genesis_diff = StateDiff { accounts };
        let genesis = block(chain, 0, B256::ZERO, &genesis_diff);
        chain.commit(&genesis, &genesis_diff).unwrap();
        assert_eq!(chain.trie_root().unwrap(), full_root(chain));
        let mut parent = genesis.hash;
        let rounds: [Box<dyn Fn(u64) -> Option<AccountChange>>; 3] = [
            // Balances change, every third account goes, new ones come.
            Box::new(|i| (i % 3 != 0).then(|| acct(addr(i), i + 7, vec![]))),
            Box::new(|i| Some(acct(addr(i + 5000), i, vec![]))),
            // All but one account of the first 3000 goes.
            Box::new(|i| (i == 17).then(|| acct(addr(i), 1, vec![]))),
        ];
        for (n, round) in rounds.iter().enumerate() {
            let n = n as u64 + 1;
            let mut accounts: Vec<_> = (0..3000)
                .map(|i| {
                    round(i).unwrap_or(AccountChange {
                        address: addr(i),
                        info: None,
                        wipe_storage: true,
                        storage: vec![],
                        code: None,
                    })
                })
                .collect();
            accounts.push(acct(token, n, slots(3000 - 900 * n, n + 1)));
            accounts.sort_by_key(|c| c.address);
            accounts.dedup_by_key(|c| c.address);
            let diff = StateDiff { accounts };
            let (predicted, roots) = chain.compute_roots(chain.trie_root().unwrap(), &diff, &[token]).unwrap();
            let blk = block(chain, n, parent, &diff);
            chain.commit(&blk, &diff).unwrap();
            parent = blk.hash;
            assert_eq!(predicted, full_root(chain), "block {n}");
            assert_eq!(roots[0].1, storage_root_of(chain.account_storage(&token).unwrap()), "block {n}");
        }
    }

    fn varied_diff(n: u64, salt: u64) -> StateDiff {
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let mut accounts = vec![acct(
            a,
            5 + n + salt,
            vec![(U256::from(1), U256::from((n + salt) % 3)), (U256::from(n), U256::from(n + salt))],
        )];
        accounts.push(acct(Address::repeat_byte((n + 10 + salt) as u8), n, vec![(U256::from(salt), U256::from(1))]));
        if (n + salt).is_multiple_of(4) {
            accounts.push(AccountChange { address: b, info: None, wipe_storage: true, storage: vec![], code: None });
        } else {
            accounts.push(acct(b, n, vec![(U256::from(5 + n), U256::from(n % 2 + salt))]));
        }
        accounts.sort_by_key(|c| c.address);
        StateDiff { accounts }
    }

    #[test]
    fn reorgs_restore_state_and_trie_and_overlays_predict_them() {
        let store = Store::temporary(&[1]).unwrap();
        let chain = store.chain(1).unwrap();
        let d0 = StateDiff { accounts: vec![acct(Address::repeat_byte(1), 10, vec![(U256::from(1), U256::from(7))])] };
        let genesis = block(chain, 0, B256::ZERO, &d0);
        chain.commit(&genesis, &d0).unwrap();
        let mut snaps = vec![(genesis.clone(), snapshot(chain))];
        for n in 1..=8u64 {
            let d = varied_diff(n, 0);
            let b = block(chain, n, snaps.last().unwrap().0.hash, &d);
            assert!(chain.commit(&b, &d).unwrap().is_empty());
            snaps.push((b, snapshot(chain)));
        }
        // The overlay to an ancestor, applied on the head state, is the ancestor's state.
        let head_state = snapshot(chain);
        for (b, snap) in &snaps {
            assert_eq!(
                &with_overlay(head_state.clone(), &chain.overlay(b.hash).unwrap().1),
                snap,
                "block {}",
                b.header.number
            );
        }
        // A sibling of block 6 on block 5: committing it reorgs out 6..=8 and restores 5 first.
        let side_diff = varied_diff(6, 1);
        let root5 = snaps[5].0.header.state_root;
        let (root, _) = chain.compute_roots(root5, &side_diff, &[]).unwrap();
        let mut sibling = block(chain, 6, snaps[5].0.hash, &side_diff);
        sibling.header.state_root = root;
        sibling.hash = sibling.header.hash_slow();
        let removed = chain.commit(&sibling, &side_diff).unwrap();
        assert_eq!(removed, snaps[6..].iter().map(|(b, _)| b.hash).collect::<Vec<_>>());
        // A commit of the computed diff: only for the root the last compute_roots produced.
        let sealed = |number: u64, parent: B256, state_root: B256| {
            let header = Header { number, parent_hash: parent, state_root, ..Default::default() };
            SealedBlock::header_only(header)
        };
        let next_diff = varied_diff(7, 3);
        let wrong = sealed(7, sibling.hash, B256::repeat_byte(0x11));
        let (next_root, _) = chain.compute_roots(sibling.header.state_root, &next_diff, &[]).unwrap();
        let next = sealed(7, sibling.hash, next_root);
        assert!(matches!(chain.commit_computed(&wrong), Err(StoreError::DiffNotComputed(_))));
        assert_eq!(chain.head().unwrap().unwrap().hash, sibling.hash, "a refused commit changes nothing");
        assert_eq!(chain.commit_computed(&next).unwrap(), Vec::<B256>::new());
        assert_eq!(chain.trie_root().unwrap(), full_root(chain));
        assert!(matches!(chain.commit_computed(&next), Ok(v) if v.is_empty()), "the head again: no-op");
        // The diff is gone once used: another block needs its own.
        let r = chain.commit_computed(&sealed(8, next.hash, next_root));
        assert!(matches!(r, Err(StoreError::DiffNotComputed(_))), "{r:?}");
        // Its change record is the computed diff's: rewinding restores the sibling's state.
        chain.set_head(sibling.hash).unwrap();
        assert_eq!(chain.trie_root().unwrap(), sibling.header.state_root);
        assert_eq!(chain.trie_root().unwrap(), full_root(chain));
        // Committing the head again (a retried commit whose answer was lost) changes nothing.
        assert_eq!(chain.commit(&sibling, &side_diff).unwrap(), Vec::<B256>::new());
        assert_eq!(chain.head().unwrap().unwrap().hash, sibling.hash);
        assert_eq!(chain.head().unwrap().unwrap().hash, sibling.hash);
        assert_eq!(chain.trie_root().unwrap(), full_root(chain));
        assert_eq!(chain.trie_root().unwrap(), root);
        assert!(chain.block_by_number(7).unwrap().is_none());
        // Reorged-out blocks stay known by hash, and the old tip can be made canonical again.
        assert_eq!(chain.block_by_hash(snaps[8].0.hash).unwrap().unwrap().hash, snaps[8].0.hash);
        assert!(!chain.is_canonical(snaps[8].0.hash).unwrap());
        let tip_overlay = chain.overlay(snaps[8].0.hash).unwrap().1;
        assert_eq!(with_overlay(snapshot(chain), &tip_overlay), snaps[8].1);
        assert_eq!(chain.set_head(snaps[8].0.hash).unwrap(), vec![sibling.hash]);
        assert_eq!(snapshot(chain), snaps[8].1);
        assert_eq!(chain.trie_root().unwrap(), full_root(chain));
        assert_eq!(chain.block_by_number(7).unwrap().unwrap().hash, snaps[7].0.hash);
        // Rewind to genesis, then unknown targets are refused and change nothing.
        chain.set_head(genesis.hash).unwrap();
        assert_eq!(snapshot(chain), snaps[0].1);
        assert!(matches!(chain.set_head(B256::repeat_byte(0xee)), Err(StoreError::UnknownBlock(_))));
        assert!(matches!(chain.compute_roots(B256::repeat_byte(0xee), &d0, &[]), Err(StoreError::UnknownState(_))));
        assert_eq!(chain.head().unwrap().unwrap().hash, genesis.hash);
        // A kept (sealed, not committed) block: known by hash, buildable on, committable later.
        let kd = varied_diff(1, 2);
        let (kr, _) = chain.compute_roots(genesis.header.state_root, &kd, &[]).unwrap();
        let mut kept = block(chain, 1, genesis.hash, &kd);
        kept.header.state_root = kr;
        kept.hash = kept.header.hash_slow();
        chain.keep(&kept, &kd).unwrap();
        assert!(!chain.is_canonical(kept.hash).unwrap());
        assert_eq!(chain.head().unwrap().unwrap().hash, genesis.hash);
        chain.set_head(kept.hash).unwrap();
        assert_eq!(chain.trie_root().unwrap(), full_root(chain));
    }

    #[test]
    fn block_records_round_trip() {
        let header = Header { number: 7, gas_used: 3, ..Default::default() };
        let b = SealedBlock {
            hash: header.hash_slow(),
            header,
            transactions: vec![Bytes::from_static(&[1, 2, 3]), Bytes::new()],
            tx_hashes: vec![B256::repeat_byte(1), B256::repeat_byte(2)],
            senders: vec![Address::repeat_byte(3), Address::repeat_byte(4)],
            receipts: vec![Bytes::from_static(&[9]), Bytes::from_static(&[8, 7])],
            l1_origin: Some(BlockRef { number: 5, hash: B256::repeat_byte(6) }),
            signature: Some(Bytes::from_static(&[0xaa; 65])),
        };
        assert_eq!(decode_block(&encode_block(&b)).unwrap(), b);
        let enc = encode_block(&b);
        assert!(decode_block(&enc[..enc.len() - 3]).is_err());
    }

    #[test]
    fn a_missing_trie_is_rebuilt_from_the_flat_state() {
        let store = Store::temporary(&[1]).unwrap();
        let chain = store.chain(1).unwrap();
        let d0 = StateDiff { accounts: vec![acct(Address::repeat_byte(1), 10, vec![(U256::from(1), U256::from(7))])] };
        chain.commit(&block(chain, 0, B256::ZERO, &d0), &d0).unwrap();
        let root = chain.trie_root().unwrap();
        let mut gone = Batch::default();
        for (k, _) in chain.tree.scan_prefix([P_NODE]).unwrap() {
            gone.remove(k);
        }
        gone.remove(key(P_META, TRIE_ROOT));
        chain.tree.apply(gone).unwrap();
        assert!(chain.ensure_trie().unwrap());
        assert_eq!(chain.trie_root().unwrap(), root);
        assert!(!chain.ensure_trie().unwrap());
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::Store;
    use alloy_consensus::Header;

    /// Where a big block's commit goes (`cargo test --release -p opseq-store -- --ignored --nocapture`).
    #[test]
    #[ignore = "a measurement, not a test"]
    fn commit_of_a_10k_account_block() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[1], crate::SyncMode::Fsync).unwrap();
        let chain = store.chain(1).unwrap();
        let acct = |i: u64, bal: u64| AccountChange {
            address: Address::from_word(keccak256(i.to_be_bytes())),
            info: Some(AccountState { nonce: 0, balance: U256::from(bal), code_hash: KECCAK256_EMPTY }),
            wipe_storage: false,
            storage: vec![],
            code: None,
        };
        let mk = |number: u64, parent: B256, root: B256, txs: usize| {
            let header = Header { number, parent_hash: parent, state_root: root, ..Default::default() };
            SealedBlock {
                hash: header.hash_slow(),
                header,
                transactions: vec![Bytes::from(vec![0u8; 110]); txs],
                tx_hashes: (0..txs as u64).map(|i| keccak256(i.to_be_bytes())).collect(),
                senders: vec![Address::ZERO; txs],
                receipts: vec![Bytes::from(vec![0u8; 300]); txs],
                l1_origin: None,
                signature: None,
            }
        };
        let g = StateDiff { accounts: (0..20_000).map(|i| acct(i, 1)).collect() };
        let (root, _) = chain.compute_roots(EMPTY_ROOT_HASH, &g, &[]).unwrap();
        let genesis = mk(0, B256::ZERO, root, 0);
        chain.commit(&genesis, &g).unwrap();
        let d = StateDiff { accounts: (0..10_000).map(|i| acct(i, 2)).collect() };
        let t = std::time::Instant::now();
        let (root, _) = chain.compute_roots(chain.trie_root().unwrap(), &d, &[]).unwrap();
        let roots = t.elapsed();
        let b = mk(1, genesis.hash, root, 10_000);
        let t = std::time::Instant::now();
        let enc = encode_block(&b);
        let encode = t.elapsed();
        let t = std::time::Instant::now();
        chain.commit(&b, &d).unwrap();
        let commit = t.elapsed();
        let t = std::time::Instant::now();
        chain.flush().unwrap();
        let flush = t.elapsed();
        println!("roots {roots:?}, encode {encode:?} ({} bytes), commit {commit:?}, flush {flush:?}", enc.len());
    }
}

#[cfg(test)]
mod genesis_memory {
    use super::*;
    use crate::Store;
    use alloy_consensus::Header;

    fn hwm() -> String {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    #[ignore = "a measurement"]
    fn genesis_of_many_accounts() {
        let n: u64 = std::env::var("N").ok().and_then(|s| s.parse().ok()).unwrap_or(250_000);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[1], crate::SyncMode::Os).unwrap();
        let chain = store.chain(1).unwrap();
        let t = std::time::Instant::now();
        let g = StateDiff {
            accounts: (0..n)
                .map(|i| AccountChange {
                    address: Address::from_word(keccak256(i.to_be_bytes())),
                    info: Some(AccountState { nonce: 0, balance: U256::from(i), code_hash: KECCAK256_EMPTY }),
                    wipe_storage: false,
                    storage: vec![],
                    code: None,
                })
                .collect(),
        };
        println!("diff {:?} {}", t.elapsed(), hwm());
        let header = Header {
            number: 0,
            state_root: chain.compute_roots(EMPTY_ROOT_HASH, &g, &[]).unwrap().0,
            ..Default::default()
        };
        println!("roots {:?} {}", t.elapsed(), hwm());
        let block = SealedBlock::header_only(header);
        chain.commit(&block, &g).unwrap();
        println!("commit {:?} {}", t.elapsed(), hwm());
        store.flush().unwrap();
        chain.tree.checkpoint().unwrap();
        println!("checkpoint {:?} {}", t.elapsed(), hwm());
    }
}
