//! A [`StateReader`] over the state-fetcher edge: batched prefetch, a per-build cache, and
//! blocking calls from the executor's thread into the async edge.
use alloy_primitives::{Address, B256, Bytes, U256};
use opseq_executor::StateReader;
use opseq_interfaces::{EdgeResult, StateSource};
use opseq_primitives::{AccountState, ChainId, StateDiff};
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc};
use tokio::runtime::Handle;

/// Reads a chain's head state for one build (or one call); everything read is cached.
#[derive(Debug)]
pub(crate) struct EdgeReader {
    state: Arc<dyn StateSource>,
    chain: ChainId,
    handle: Handle,
    accounts: Mutex<HashMap<Address, Option<AccountState>>>,
    storage: Mutex<HashMap<(Address, U256), U256>>,
    codes: Mutex<HashMap<B256, Option<Bytes>>>,
    hashes: Mutex<HashMap<u64, B256>>,
    /// Accounts whose storage the overlay replaced as a whole: unlisted slots are zero.
    wiped: std::collections::HashSet<Address>,
}

impl EdgeReader {
    pub(crate) fn new(state: Arc<dyn StateSource>, chain: ChainId, handle: Handle) -> Self {
        Self {
            state,
            chain,
            handle,
            accounts: Mutex::default(),
            storage: Mutex::default(),
            codes: Mutex::default(),
            hashes: Mutex::default(),
            wiped: Default::default(),
        }
    }

    /// A reader of the state at another block than the head: `overlay` is that block's state
    /// relative to the head's, `branch` the hashes of its ancestors off the canonical chain.
    pub(crate) fn at(
        state: Arc<dyn StateSource>,
        chain: ChainId,
        handle: Handle,
        overlay: &StateDiff,
        branch: HashMap<u64, B256>,
    ) -> Self {
        let mut r = Self::new(state, chain, handle);
        let (accounts, storage) = (r.accounts.get_mut(), r.storage.get_mut());
        for c in &overlay.accounts {
            accounts.insert(c.address, c.info);
            if c.wipe_storage || c.info.is_none() {
                r.wiped.insert(c.address);
            }
            for (k, v) in &c.storage {
                storage.insert((c.address, *k), *v);
            }
            if let (Some(code), Some(info)) = (&c.code, &c.info) {
                r.codes.get_mut().insert(info.code_hash, Some(code.clone()));
            }
        }
        *r.hashes.get_mut() = branch;
        r
    }

    /// Loads the given accounts in one batch (senders and recipients known before execution).
    pub(crate) async fn prefetch(&self, addresses: Vec<Address>) -> Result<(), String> {
        fill(&self.accounts, addresses, |_| false, |m| self.state.accounts(self.chain, m)).await
    }

    fn block_on<T>(&self, f: impl std::future::Future<Output = EdgeResult<T>>) -> EdgeResult<T> {
        if IN_PLACE.get() {
            // Small work on the caller's own (async) thread, over reads that never wait.
            use futures::FutureExt;
            return f.now_or_never().unwrap_or_else(|| {
                Err(opseq_primitives::OpseqError::fatal("a state read would wait on the builder's own thread"))
            });
        }
        // Runs on a blocking-pool thread (spawn_blocking), where blocking on the runtime is allowed.
        self.handle.block_on(f)
    }
}

/// Fetches, in one call, the `keys` that `cache` lacks and `skip` does not rule out.
async fn fill<K, V, F>(
    cache: &Mutex<HashMap<K, V>>,
    keys: Vec<K>,
    skip: impl Fn(&K) -> bool,
    fetch: impl FnOnce(Vec<K>) -> F,
) -> Result<(), String>
where
    K: Ord + std::hash::Hash + Clone,
    F: std::future::Future<Output = EdgeResult<Vec<V>>>,
{
    let missing: Vec<K> = {
        let cache = cache.lock();
        let mut v: Vec<K> = keys.into_iter().filter(|k| !cache.contains_key(k) && !skip(k)).collect();
        v.sort();
        v.dedup();
        v
    };
    if missing.is_empty() {
        return Ok(());
    }
    let got = fetch(missing.clone()).await.map_err(|e| e.to_string())?;
    cache.lock().extend(missing.into_iter().zip(got));
    Ok(())
}

thread_local! {
    static IN_PLACE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While alive, [`EdgeReader`]s on this thread poll their reads once instead of blocking (see
/// [`StateSource::reads_in_place`]).
pub(crate) struct InPlace(());

impl InPlace {
    pub(crate) fn enter() -> Self {
        IN_PLACE.set(true);
        Self(())
    }
}

impl Drop for InPlace {
    fn drop(&mut self) {
        IN_PLACE.set(false);
    }
}

impl EdgeReader {
    /// Whether `address` is cached as an account with code (creations and calls into code are
    /// what a discovery pass is for).
    pub(crate) fn has_code(&self, address: Address) -> bool {
        self.accounts
            .lock()
            .get(&address)
            .copied()
            .flatten()
            .is_some_and(|a| a.code_hash != alloy_primitives::KECCAK256_EMPTY)
    }

    /// Loads the given slots in one batch (access lists, and what a discovery pass found).
    pub(crate) async fn prefetch_slots(&self, slots: Vec<(Address, U256)>) -> Result<(), String> {
        fill(&self.storage, slots, |k| self.wiped.contains(&k.0), |m| self.state.storage(self.chain, m)).await
    }

    /// Loads what a [`Discovering`] pass over this reader missed, in two batches.
    pub(crate) async fn prefetch_missed(&self, missed: Missed) -> Result<(usize, usize), String> {
        let (accounts, slots) = missed;
        let n = (accounts.len(), slots.len());
        self.prefetch(accounts).await?;
        self.prefetch_slots(slots).await?;
        Ok(n)
    }
}

/// A discovery pass over an [`EdgeReader`]: accounts and slots it has cached are answered, the
/// others recorded and answered as absent (zero); code and block hashes are read through. So one speculative execution of a
/// block's txs names the accounts and slots the real one will read, for one batch fetch before
/// it ("a tx's first execution reveals the rest"). Its results are thrown away.
#[derive(Debug)]
pub(crate) struct Discovering<'a> {
    reader: &'a EdgeReader,
    missed: Mutex<Missed>,
}

/// The accounts and slots a discovery pass missed.
pub(crate) type Missed = (Vec<Address>, Vec<(Address, U256)>);

impl<'a> Discovering<'a> {
    pub(crate) fn new(reader: &'a EdgeReader) -> Self {
        Self { reader, missed: Mutex::default() }
    }

    pub(crate) fn into_missed(self) -> Missed {
        self.missed.into_inner()
    }
}

impl StateReader for Discovering<'_> {
    fn account(&self, address: Address) -> Result<Option<AccountState>, String> {
        if let Some(a) = self.reader.accounts.lock().get(&address) {
            return Ok(*a);
        }
        self.missed.lock().0.push(address);
        Ok(None)
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, String> {
        if let Some(v) = self.reader.storage.lock().get(&(address, slot)) {
            return Ok(*v);
        }
        if self.reader.wiped.contains(&address) {
            return Ok(U256::ZERO);
        }
        self.missed.lock().1.push((address, slot));
        Ok(U256::ZERO)
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String> {
        // Code is read through: a prefetched account's code is one read (remote nodes send it
        // with the account), and without it the pass would see no SLOAD at all.
        self.reader.code(code_hash)
    }

    fn block_hash(&self, number: u64) -> Result<B256, String> {
        self.reader.block_hash(number)
    }
}

impl StateReader for EdgeReader {
    fn account(&self, address: Address) -> Result<Option<AccountState>, String> {
        if let Some(a) = self.accounts.lock().get(&address) {
            return Ok(*a);
        }
        let a =
            self.block_on(self.state.accounts(self.chain, vec![address])).map_err(|e| e.to_string())?.pop().flatten();
        self.accounts.lock().insert(address, a);
        Ok(a)
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, String> {
        if let Some(v) = self.storage.lock().get(&(address, slot)) {
            return Ok(*v);
        }
        if self.wiped.contains(&address) {
            return Ok(U256::ZERO);
        }
        let v = self
            .block_on(self.state.storage(self.chain, vec![(address, slot)]))
            .map_err(|e| e.to_string())?
            .pop()
            .unwrap_or_default();
        self.storage.lock().insert((address, slot), v);
        Ok(v)
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String> {
        if let Some(c) = self.codes.lock().get(&code_hash) {
            return Ok(c.clone());
        }
        let c = self.block_on(self.state.code(self.chain, code_hash)).map_err(|e| e.to_string())?;
        self.codes.lock().insert(code_hash, c.clone());
        Ok(c)
    }

    fn block_hash(&self, number: u64) -> Result<B256, String> {
        if let Some(h) = self.hashes.lock().get(&number) {
            return Ok(*h);
        }
        let h =
            self.block_on(self.state.block_hash(self.chain, number)).map_err(|e| e.to_string())?.unwrap_or_default();
        self.hashes.lock().insert(number, h);
        Ok(h)
    }
}
