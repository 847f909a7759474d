//! The in-process state source.
use actix::{Actor, Addr, Handler, Message, SyncArbiter, SyncContext};
use alloy_primitives::{Address, B256, Bytes, U256};
use async_trait::async_trait;
use opseq_interfaces::{AccountProof, CommitDiff, DumpAccount, EdgeResult, RootsOutcome, StateOverlay, StateSource};
use opseq_primitives::{AccountState, BlockRef, ChainId, DevnetConfig, OpseqError, SealedBlock, StateDiff, TxLocation};
use opseq_store::{ChainStore, Store, StoreError, SyncMode};
use std::{path::Path, sync::Arc};
use tracing::info;

/// A chain forked from another node's state (`--fork.url`).
#[derive(Debug, Clone)]
pub struct Fork {
    /// The forked chain (the upstream's chain id).
    pub chain: ChainId,
    /// The upstream's JSON-RPC URL.
    pub url: String,
    /// The block to fork at (latest if unset).
    pub block: Option<u64>,
    /// Per-request timeout.
    pub timeout: std::time::Duration,
    /// The upstream is an OP Stack L2 (its blocks start with an L1-info deposit).
    pub l2: bool,
    /// For an L2: the L1 node its L1 origins come from (`None`: the local L1 mock).
    pub l1_url: Option<String>,
}

/// The state-fetcher's data: one store for all chains.
#[derive(Debug)]
pub struct StateFetcher {
    store: Store,
    /// A forked L2's L1, read from another node (served for its blocks only).
    remote_l1: Option<Arc<crate::remote::RemoteL1>>,
}

impl StateFetcher {
    /// Opens the store under `datadir/state` and writes the genesis of every chain that has none.
    pub fn open(datadir: &Path, devnet: &DevnetConfig, sync: SyncMode) -> Result<Self, StoreError> {
        let store = Store::open(&datadir.join("state"), &devnet.chain_ids(), sync)?;
        Self::init(store, devnet)
    }

    /// Opens the store like [`StateFetcher::open`], with chain `fork.chain` forked from the
    /// node at `fork.url`: at `fork.block` (its latest if unset) for a new data dir, at the
    /// block the data dir was forked from otherwise.
    pub fn open_forked(datadir: &Path, devnet: &DevnetConfig, fork: &Fork, sync: SyncMode) -> Result<Self, OpseqError> {
        let store = Store::open(&datadir.join("state"), &devnet.chain_ids(), sync)?;
        let chain = store.chain(fork.chain).ok_or_else(|| OpseqError::invalid(format!("no chain {}", fork.chain)))?;
        let at = match chain.fork_point()? {
            Some(p) => {
                if fork.block.is_some_and(|b| b != p.number) {
                    return Err(OpseqError::invalid(format!(
                        "this data dir was forked at block {}, not {}",
                        p.number,
                        fork.block.unwrap_or_default()
                    )));
                }
                Some(p.number)
            }
            None => fork.block,
        };
        let (base, mut pinned, l1_info) =
            crate::remote::RemoteBase::connect_blocking(&fork.url, at, fork.timeout, fork.l2)?;
        let remote_l1 = match &fork.l1_url {
            Some(url) => {
                let l1 = crate::remote::RemoteL1::connect_blocking(url, fork.timeout)?;
                // The fork block's L1 origin is a block of that L1: the next epoch follows it.
                pinned.l1_origin = l1_info.map(|v| BlockRef { number: v.origin_number, hash: v.origin_hash });
                Some(Arc::new(l1))
            }
            None => None,
        };
        if base.chain_id() != fork.chain {
            return Err(OpseqError::invalid(format!(
                "{} serves chain {}, not {}",
                fork.url,
                base.chain_id(),
                fork.chain
            )));
        }
        chain.fork(Arc::new(base), &pinned)?;
        info!(target: "opseq::state", chain_id = fork.chain, url = %fork.url, number = pinned.header.number, hash = %pinned.hash, "chain forked from a remote node");
        let others =
            DevnetConfig { chains: devnet.chains.iter().filter(|c| c.chain_id != fork.chain).cloned().collect() };
        Ok(Self { remote_l1, ..Self::init(store, &others)? })
    }

    /// A throwaway in-memory state-fetcher (tests).
    pub fn temporary(devnet: &DevnetConfig) -> Result<Self, StoreError> {
        Self::init(Store::temporary(&devnet.chain_ids())?, devnet)
    }

    fn init(store: Store, devnet: &DevnetConfig) -> Result<Self, StoreError> {
        for chain in &devnet.chains {
            let cs = store.chain(chain.chain_id).expect("opened above");
            match cs.head()? {
                Some(head) => {
                    if cs.ensure_trie()? {
                        info!(target: "opseq::state", chain_id = chain.chain_id, "rebuilt the state trie from the flat state");
                    }
                    info!(target: "opseq::state", chain_id = chain.chain_id, number = head.number, hash = %head.hash, "resuming chain");
                }
                None => {
                    let (block, diff) = opseq_executor::genesis(chain);
                    cs.commit(&block, &diff)?;
                    cs.flush()?;
                    info!(target: "opseq::state", chain_id = chain.chain_id, hash = %block.hash, state_root = %block.header.state_root, "wrote genesis");
                }
            }
        }
        Ok(Self { store, remote_l1: None })
    }

    fn chain(&self, id: ChainId) -> EdgeResult<&Arc<ChainStore>> {
        self.store.chain(id).ok_or_else(|| match &self.remote_l1 {
            Some(l1) if l1.chain_id() == id => OpseqError::invalid(format!(
                "chain {id} is the L1 read from {}: only its blocks are served here",
                l1.url()
            )),
            _ => OpseqError::not_found(format!("unknown chain {id}")),
        })
    }

    /// The remote L1, if `id` is it.
    fn remote_l1(&self, id: ChainId) -> Option<Arc<crate::remote::RemoteL1>> {
        self.remote_l1.as_ref().filter(|l1| l1.chain_id() == id).cloned()
    }

    /// Flushes all writes.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.store.flush()
    }
}

/// Commits blocks: the only writer of the store, on its own thread (a `SyncArbiter`), so sled
/// writes and fsyncs never block the actors on the system arbiter.
#[derive(Debug)]
pub struct StateWriter {
    fetcher: Arc<StateFetcher>,
}

impl Actor for StateWriter {
    type Context = SyncContext<Self>;
}

/// A write to a chain's store (see [`StateSource::commit`], [`StateSource::set_head`],
/// [`StateSource::keep`]).
#[derive(Debug, Message)]
#[rtype(result = "EdgeResult<Vec<B256>>")]
pub enum Write {
    /// Append a block (reorging onto its parent if needed).
    Commit(ChainId, SealedBlock, CommitDiff),
    /// Make a known block the head.
    SetHead(ChainId, B256),
    /// Remember a non-canonical block.
    Keep(ChainId, SealedBlock, StateDiff),
}

impl Handler<Write> for StateWriter {
    type Result = EdgeResult<Vec<B256>>;
    fn handle(&mut self, m: Write, _: &mut SyncContext<Self>) -> Self::Result {
        self.fetcher.write(m)
    }
}

impl StateFetcher {
    /// Applies a write and makes it durable.
    fn write(&self, m: Write) -> EdgeResult<Vec<B256>> {
        let (id, removed) = match &m {
            Write::Commit(id, block, CommitDiff::Full(diff)) => (*id, self.chain(*id)?.commit(block, diff)?),
            Write::Commit(id, block, CommitDiff::Computed) => (*id, self.chain(*id)?.commit_computed(block)?),
            Write::SetHead(id, hash) => (*id, self.chain(*id)?.set_head(*hash)?),
            Write::Keep(id, block, diff) => (*id, self.chain(*id)?.keep(block, diff).map(|()| vec![])?),
        };
        let chain = self.chain(id)?;
        // Writes are durable before anyone is told about them (ARCHITECTURE.md rule 5).
        chain.flush()?;
        if let Some(head) = chain.head()? {
            metrics::gauge!("opseq_state_head_number", "chain_id" => id.to_string()).set(head.number as f64);
        }
        if !removed.is_empty() {
            info!(target: "opseq::state", chain_id = id, reorged_out = removed.len(), "reorg");
            metrics::counter!("opseq_state_reorged_blocks_total", "chain_id" => id.to_string())
                .increment(removed.len() as u64);
        }
        Ok(removed)
    }
}

/// `StateSource` in-process: direct reads, commits through the [`StateWriter`] actor.
#[derive(Debug, Clone)]
pub struct LocalStateSource {
    fetcher: Arc<StateFetcher>,
    writer: Addr<StateWriter>,
}

impl LocalStateSource {
    /// Starts the writer actor (must run inside an actix system) and returns the source.
    pub fn start(fetcher: StateFetcher) -> Self {
        let fetcher = Arc::new(fetcher);
        let f = Arc::clone(&fetcher);
        let writer = SyncArbiter::start(1, move || StateWriter { fetcher: Arc::clone(&f) });
        Self { fetcher, writer }
    }
}

/// Blocks of at most this many txs (and diffs of at most this many accounts and slots) are
/// hashed and committed in place, on the caller's thread: a one-tx block's commit takes ~0.2 ms,
/// less than two hops to a thread that was asleep (~0.1 ms each way on these VMs).
const IN_PLACE: usize = 64;

impl LocalStateSource {
    async fn write(&self, w: Write) -> EdgeResult<Vec<B256>> {
        let small = match &w {
            Write::Commit(id, b, d) => {
                b.transactions.len() <= IN_PLACE
                    && matches!(d, CommitDiff::Computed)
                    && !self.fetcher.chain(*id)?.is_forked()
            }
            Write::SetHead(..) | Write::Keep(..) => false,
        };
        if small {
            return self.fetcher.write(w);
        }
        self.writer.send(w).await.map_err(|_| OpseqError::transient("state writer stopped"))?
    }
}

fn diff_size(diff: &StateDiff) -> usize {
    diff.accounts.iter().map(|a| 1 + a.storage.len()).sum()
}

/// Work that may block (a remote node, hashing), on a blocking thread.
async fn off_thread<T: Send + 'static>(f: impl FnOnce() -> EdgeResult<T> + Send + 'static) -> EdgeResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| OpseqError::fatal(e.to_string()))?
}

/// A read of a chain's state: in place for local chains (sled reads), on a blocking thread for
/// forked ones (which may wait on their upstream).
async fn read<T: Send + 'static>(
    c: &Arc<ChainStore>,
    f: impl FnOnce(&ChainStore) -> Result<T, StoreError> + Send + 'static,
) -> EdgeResult<T> {
    if !c.is_forked() {
        return Ok(f(c)?);
    }
    let c = Arc::clone(c);
    off_thread(move || Ok(f(&c)?)).await
}

#[async_trait]
impl StateSource for LocalStateSource {
    async fn head(&self, chain: ChainId) -> EdgeResult<BlockRef> {
        if let Some(l1) = self.fetcher.remote_l1(chain) {
            return off_thread(move || l1.head()).await;
        }
        Ok(self.fetcher.chain(chain)?.head()?.ok_or_else(|| OpseqError::transient("no genesis yet"))?)
    }
    async fn block_by_number(&self, chain: ChainId, number: u64) -> EdgeResult<Option<SealedBlock>> {
        if let Some(l1) = self.fetcher.remote_l1(chain) {
            return off_thread(move || l1.block_by_number(number)).await;
        }
        Ok(self.fetcher.chain(chain)?.block_by_number(number)?)
    }
    async fn block_by_hash(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<SealedBlock>> {
        if let Some(l1) = self.fetcher.remote_l1(chain) {
            return off_thread(move || l1.block_by_hash(hash)).await;
        }
        Ok(self.fetcher.chain(chain)?.block_by_hash(hash)?)
    }
    async fn proof(
        &self,
        chain: ChainId,
        address: Address,
        slots: Vec<U256>,
        at: Option<B256>,
    ) -> EdgeResult<AccountProof> {
        let (account, account_proof, storage) =
            read(self.fetcher.chain(chain)?, move |c| c.proof(address, &slots, at)).await?;
        Ok(AccountProof {
            storage_root: account.map_or(alloy_trie::EMPTY_ROOT_HASH, |a| a.storage_root),
            account: account.map(|a| AccountState { nonce: a.nonce, balance: a.balance, code_hash: a.code_hash }),
            account_proof,
            storage,
        })
    }
    async fn block_hash(&self, chain: ChainId, number: u64) -> EdgeResult<Option<B256>> {
        read(self.fetcher.chain(chain)?, move |c| c.block_hash(number)).await
    }
    async fn tx_location(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<TxLocation>> {
        Ok(self.fetcher.chain(chain)?.tx_location(hash)?)
    }
    async fn accounts(&self, chain: ChainId, addresses: Vec<Address>) -> EdgeResult<Vec<Option<AccountState>>> {
        read(self.fetcher.chain(chain)?, move |c| c.accounts_at(&addresses)).await
    }
    async fn storage(&self, chain: ChainId, slots: Vec<(Address, U256)>) -> EdgeResult<Vec<U256>> {
        read(self.fetcher.chain(chain)?, move |c| c.storage_at(&slots)).await
    }
    async fn code(&self, chain: ChainId, code_hash: B256) -> EdgeResult<Option<Bytes>> {
        read(self.fetcher.chain(chain)?, move |c| c.code(&code_hash)).await
    }
    async fn compute_roots(
        &self,
        chain: ChainId,
        base_root: B256,
        diff: StateDiff,
        of: Vec<Address>,
    ) -> EdgeResult<RootsOutcome> {
        let c = Arc::clone(self.fetcher.chain(chain)?);
        let (state_root, storage_roots) = if diff_size(&diff) <= IN_PLACE && !c.is_forked() {
            c.compute_roots(base_root, &diff, &of)?
        } else {
            // Hashing is CPU work: keep it off the async workers.
            off_thread(move || Ok(c.compute_roots(base_root, &diff, &of)?)).await?
        };
        Ok(RootsOutcome { state_root, storage_roots })
    }
    async fn commit(&self, chain: ChainId, block: SealedBlock, diff: CommitDiff) -> EdgeResult<Vec<B256>> {
        self.write(Write::Commit(chain, block, diff)).await
    }
    async fn set_head(&self, chain: ChainId, hash: B256) -> EdgeResult<Vec<B256>> {
        self.write(Write::SetHead(chain, hash)).await
    }
    async fn keep(&self, chain: ChainId, block: SealedBlock, diff: StateDiff) -> EdgeResult<()> {
        self.write(Write::Keep(chain, block, diff)).await.map(|_| ())
    }
    fn reads_in_place(&self, chain: ChainId) -> bool {
        self.fetcher.chain(chain).is_ok_and(|c| !c.is_forked())
    }
    async fn overlay(&self, chain: ChainId, hash: B256) -> EdgeResult<StateOverlay> {
        let (head, diff) = self.fetcher.chain(chain)?.overlay(hash)?;
        Ok(StateOverlay { head, diff })
    }
    async fn dump(&self, chain: ChainId) -> EdgeResult<Vec<DumpAccount>> {
        let c = self.fetcher.chain(chain)?;
        if c.is_forked() {
            return Err(OpseqError::invalid(format!(
                "chain {chain} is forked from another node: its state is read on demand and cannot be dumped"
            )));
        }
        c.accounts()?
            .into_iter()
            .map(|(address, state)| {
                Ok(DumpAccount {
                    address,
                    code: c.code(&state.code_hash)?.unwrap_or_default(),
                    storage: c.account_storage(&address)?,
                    state,
                })
            })
            .collect()
    }
}
