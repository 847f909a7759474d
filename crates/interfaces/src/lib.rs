#![doc = include_str!("../README.md")]

use alloy_primitives::{Address, B256, Bytes, U256};
use async_trait::async_trait;
use futures::stream::BoxStream;
use opseq_primitives::{
    AccountState, BlockRef, ChainId, OpseqError, PoolEvent, PoolStatus, PoolTx, SealedBlock, Shred, StateDiff,
    SubmitOutcome, TxLocation,
};
use std::{fmt::Debug, sync::Arc};

/// Result of an edge call.
pub type EdgeResult<T> = Result<T, OpseqError>;

/// Roots computed for a state diff applied on a chain's head state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootsOutcome {
    /// The state root after applying the diff.
    pub state_root: B256,
    /// Storage roots of the requested accounts after applying the diff.
    pub storage_roots: Vec<(Address, B256)>,
}

/// An EIP-1186 proof of an account and some of its slots, at the head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountProof {
    /// The account (`None`: it does not exist; the proof shows its absence).
    pub account: Option<AccountState>,
    /// Its storage root (the empty root when it has no storage or does not exist).
    pub storage_root: B256,
    /// The state trie nodes on the path to the account.
    pub account_proof: Vec<Bytes>,
    /// Each asked slot: its key, value and storage trie nodes.
    pub storage: Vec<(U256, U256, Vec<Bytes>)>,
}

/// One account of a state dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpAccount {
    /// Address.
    pub address: Address,
    /// Account state.
    pub state: AccountState,
    /// Code (empty for EOAs).
    pub code: Bytes,
    /// Non-zero storage.
    pub storage: Vec<(U256, U256)>,
}

/// The state at some block, as a diff on top of the head state (see [`StateSource::overlay`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateOverlay {
    /// The head the diff applies to; reads made after the head moved must be redone.
    pub head: BlockRef,
    /// The block's state relative to the head's.
    pub diff: StateDiff,
}

/// The state changes a commit carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitDiff {
    /// The changes themselves.
    Full(StateDiff),
    /// The changes of the chain's last [`StateSource::compute_roots`], which produced the block's
    /// state root: a remote builder sends a block's diff once (for its roots), not again with
    /// the block. Refused with a not-found error when they are no longer held (another
    /// `compute_roots` since, a restart): the caller then sends [`CommitDiff::Full`].
    Computed,
}

/// State views and the chain store (served by the state-fetcher).
///
/// Reads are at the chain's head. Building on another block reads through an [`StateOverlay`]
/// (the reverts down to the common ancestor, then the block's branch); commits on a parent other
/// than the head reorg the chain onto it.
#[async_trait]
pub trait StateSource: Send + Sync + Debug + 'static {
    /// The chain's head.
    async fn head(&self, chain: ChainId) -> EdgeResult<BlockRef>;
    /// A block by number.
    async fn block_by_number(&self, chain: ChainId, number: u64) -> EdgeResult<Option<SealedBlock>>;
    /// A block by hash.
    async fn block_by_hash(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<SealedBlock>>;
    /// The hash of canonical block `number` (a forked chain also knows its upstream's blocks
    /// below the fork point).
    async fn block_hash(&self, chain: ChainId, number: u64) -> EdgeResult<Option<B256>> {
        Ok(self.block_by_number(chain, number).await?.map(|b| b.hash))
    }
    /// The EIP-1186 proof of `address` and `slots` (`eth_getProof`) in the state of block `at`
    /// (a known block: canonical or kept; `None`: the head). Trie nodes are never deleted, so any
    /// known block's state can be proven.
    async fn proof(
        &self,
        chain: ChainId,
        address: Address,
        slots: Vec<U256>,
        at: Option<B256>,
    ) -> EdgeResult<AccountProof>;
    /// Where a transaction was mined.
    async fn tx_location(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<TxLocation>>;
    /// Accounts at head, batched; `None` for accounts that do not exist.
    async fn accounts(&self, chain: ChainId, addresses: Vec<Address>) -> EdgeResult<Vec<Option<AccountState>>>;
    /// Storage slots at head, batched.
    async fn storage(&self, chain: ChainId, slots: Vec<(Address, U256)>) -> EdgeResult<Vec<U256>>;
    /// Code by hash.
    async fn code(&self, chain: ChainId, code_hash: B256) -> EdgeResult<Option<Bytes>>;
    /// Roots after applying `diff` on the state whose root is `base_root` (the parent block's),
    /// without committing it.
    async fn compute_roots(
        &self,
        chain: ChainId,
        base_root: B256,
        diff: StateDiff,
        storage_roots_of: Vec<Address>,
    ) -> EdgeResult<RootsOutcome>;
    /// Appends `block` with its state changes, atomically. Its parent is the head, or another
    /// known block: then the chain is reorged onto the parent first. Returns the hashes of the
    /// blocks that left the canonical chain, oldest first. Committing the head again is a no-op.
    async fn commit(&self, chain: ChainId, block: SealedBlock, diff: CommitDiff) -> EdgeResult<Vec<B256>>;
    /// Makes a known block the head (a rewind, or a reorg onto a non-canonical block); returns
    /// the hashes of the blocks that left the canonical chain, oldest first.
    async fn set_head(&self, chain: ChainId, hash: B256) -> EdgeResult<Vec<B256>>;
    /// Remembers a sealed block that is not canonical (served by hash, buildable on, and
    /// committable later).
    async fn keep(&self, chain: ChainId, block: SealedBlock, diff: StateDiff) -> EdgeResult<()>;
    /// The state at any known block, as a diff on top of the current head state.
    async fn overlay(&self, chain: ChainId, hash: B256) -> EdgeResult<StateOverlay>;
    /// Every account at head, with code and storage (for `debug_dumpBlock`).
    async fn dump(&self, chain: ChainId) -> EdgeResult<Vec<DumpAccount>>;
    /// Whether reads of `chain` complete without waiting (an in-process store that is not
    /// forked): a caller may then poll them once on its own thread instead of handing small
    /// work to another thread.
    fn reads_in_place(&self, _chain: ChainId) -> bool {
        false
    }
}

/// Transactions waiting to be sequenced (served by the txpool).
#[async_trait]
pub trait TxSource: Send + Sync + Debug + 'static {
    /// Validates, journals and adds a raw EIP-2718 transaction; returns its hash.
    async fn submit(&self, chain: ChainId, raw: Bytes) -> EdgeResult<(B256, SubmitOutcome)>;
    /// [`TxSource::submit`] for many txs at once (a JSON-RPC batch): senders recovered in
    /// parallel, one state read, one journal write. One outcome per tx, in order.
    async fn submit_many(&self, chain: ChainId, raws: Vec<Bytes>)
    -> EdgeResult<Vec<EdgeResult<(B256, SubmitOutcome)>>>;
    /// Every pooled tx, with whether it is pending (executable) or queued (behind a gap).
    async fn content(&self, chain: ChainId) -> EdgeResult<Vec<(PoolTx, bool)>>;
    /// Drops a pooled tx by hash; whether it was there.
    async fn remove(&self, chain: ChainId, hash: B256) -> EdgeResult<bool>;
    /// Up to `max` executable transactions that pay `base_fee`, best first, each sender's in nonce
    /// order.
    async fn best(&self, chain: ChainId, base_fee: u64, max: usize) -> EdgeResult<Vec<PoolTx>>;
    /// A block was committed: drop `included`, and drop `invalid` (txs that could not execute).
    async fn on_block(&self, chain: ChainId, included: Vec<B256>, invalid: Vec<B256>) -> EdgeResult<()>;
    /// The next nonce of `sender` counting its pending pool txs, if it has any in the pool.
    async fn pending_nonce(&self, chain: ChainId, sender: Address) -> EdgeResult<Option<u64>>;
    /// A pooled transaction by hash.
    async fn get(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<PoolTx>>;
    /// Pool sizes.
    async fn status(&self, chain: ChainId) -> EdgeResult<PoolStatus>;
    /// Every pool change from now on, of every chain (adds, and removals with their reason).
    /// A subscriber that falls more than 16,384 events behind misses the oldest ones.
    async fn subscribe(&self) -> EdgeResult<BoxStream<'static, PoolEvent>>;
}

/// Block signing per the OP p2p spec (served by the signer-client).
#[async_trait]
pub trait BlockSigner: Send + Sync + Debug + 'static {
    /// Signs `payload_hash` for `chain` (the signer derives the signing hash with the domain and
    /// chain id); returns the 65-byte `r ‖ s ‖ v` signature.
    async fn sign_block(&self, chain: ChainId, payload_hash: B256) -> EdgeResult<Bytes>;
    /// The signer's address.
    async fn address(&self) -> EdgeResult<Address>;
}

/// Where sealed blocks go (served by the publisher).
#[async_trait]
pub trait BlockSink: Send + Sync + Debug + 'static {
    /// Commits the block (critical: persisted before returning) and publishes it (best effort).
    /// Returns the hashes of the blocks that left the canonical chain (see
    /// [`StateSource::commit`]).
    async fn commit(&self, chain: ChainId, block: SealedBlock, diff: CommitDiff) -> EdgeResult<Vec<B256>>;
    /// Published blocks, as they are committed.
    async fn subscribe(&self) -> EdgeResult<BoxStream<'static, SealedBlock>>;
}

/// The per-chain stream of in-progress block building (served by the builder).
#[async_trait]
pub trait ShredBus: Send + Sync + Debug + 'static {
    /// Broadcasts a shred.
    async fn publish(&self, shred: Shred) -> EdgeResult<()>;
    /// Shreds of `chain` (or all chains), from now on.
    async fn subscribe(&self, chain: Option<ChainId>) -> EdgeResult<BoxStream<'static, Shred>> {
        use futures::StreamExt;
        Ok(self.subscribe_from(chain, 0).await?.map(|(_, s)| s).boxed())
    }
    /// Shreds of `chain` (or all chains) with their sequence numbers (one gapless sequence per
    /// bus): from `from_seq` on when it is > 0 (a subscriber that lost its stream resumes from
    /// the last number it saw, and drops what it already has: delivery is at-least-once), from
    /// now on otherwise. A `from_seq` the bus no longer holds is an error naming the oldest it has
    /// (invalid input); one past the next number it will publish is a not-found error (the bus
    /// restarted since the subscriber saw it).
    async fn subscribe_from(
        &self,
        chain: Option<ChainId>,
        from_seq: u64,
    ) -> EdgeResult<BoxStream<'static, (u64, Shred)>>;
}

/// Another builder process, for what a test API call of this one asks of a chain that process
/// builds (`test_sealGroup` naming jobs of both: `--builder.peers`). In-process: the local
/// supervisor (what a peer's call reaches); over gRPC: `ShredService.SealJob`.
#[async_trait]
pub trait PeerBuilder: Send + Sync + Debug + 'static {
    /// Seals, and commits when `commit`, the open job `job` of `chain`: the block's hash and the
    /// blocks the commit reorged out. Not-found when the process does not build `chain`.
    async fn seal_job(&self, chain: ChainId, job: &str, commit: bool) -> EdgeResult<(B256, Vec<B256>)>;
}

/// The edges one process wires together.
#[derive(Debug, Clone)]
pub struct Edges {
    /// State-fetcher.
    pub state: Arc<dyn StateSource>,
    /// Txpool.
    pub txs: Arc<dyn TxSource>,
    /// Signer.
    pub signer: Arc<dyn BlockSigner>,
    /// Publisher.
    pub sink: Arc<dyn BlockSink>,
    /// Shred bus.
    pub shreds: Arc<dyn ShredBus>,
}

/// The next sequence number, and the recent shreds with theirs.
type ShredHistory = (u64, std::collections::VecDeque<(u64, Shred)>);

/// Shreds a [`LocalShredBus`] keeps for subscribers that resume.
const SHRED_HISTORY: usize = 65_536;

/// An in-process shred bus: a tokio broadcast channel, and the last [`SHRED_HISTORY`] shreds
/// with their sequence numbers for subscribers that resume.
#[derive(Debug, Clone)]
pub struct LocalShredBus {
    tx: tokio::sync::broadcast::Sender<(u64, Shred)>,
    /// The next sequence number and the recent shreds (locked while publishing, so the history
    /// and the live stream agree on the order).
    history: std::sync::Arc<parking_lot::Mutex<ShredHistory>>,
}

impl Default for LocalShredBus {
    fn default() -> Self {
        Self {
            tx: tokio::sync::broadcast::channel(4096).0,
            history: std::sync::Arc::new(parking_lot::Mutex::new((1, Default::default()))),
        }
    }
}

#[async_trait]
impl ShredBus for LocalShredBus {
    async fn publish(&self, shred: Shred) -> EdgeResult<()> {
        let mut h = self.history.lock();
        let seq = h.0;
        h.0 += 1;
        h.1.push_back((seq, shred.clone()));
        if h.1.len() > SHRED_HISTORY {
            h.1.pop_front();
        }
        // No subscribers is fine: shreds are a live stream.
        let _ = self.tx.send((seq, shred));
        Ok(())
    }
    async fn subscribe_from(
        &self,
        chain: Option<ChainId>,
        from_seq: u64,
    ) -> EdgeResult<BoxStream<'static, (u64, Shred)>> {
        use futures::StreamExt;
        let (rx, replay) = {
            let h = self.history.lock();
            let oldest = h.1.front().map_or(h.0, |(s, _)| *s);
            if from_seq > 0 && from_seq < oldest {
                return Err(OpseqError::invalid(format!(
                    "shreds before sequence number {oldest} are no longer kept; resume from {oldest}"
                )));
            }
            // Past the next number: the subscriber saw another incarnation of this bus (the
            // process restarted and numbers from 1 again).
            if from_seq > h.0 {
                return Err(OpseqError::not_found(format!(
                    "shred sequence number {from_seq} was never published here (the next is {}): the bus restarted",
                    h.0
                )));
            }
            let replay: Vec<(u64, Shred)> =
                if from_seq == 0 { vec![] } else { h.1.iter().filter(|(s, _)| *s >= from_seq).cloned().collect() };
            (self.tx.subscribe(), replay)
        };
        let last = replay.last().map(|(s, _)| *s);
        let live = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(s) => return Some((s, rx)),
                    // A subscriber this far behind sees the gap in the numbers and resumes.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return None,
                }
            }
        })
        .filter(move |(s, _)| futures::future::ready(last.is_none_or(|l| *s > l)));
        let stream = futures::stream::iter(replay)
            .chain(live)
            .filter(move |(_, s)| futures::future::ready(chain.is_none_or(|c| s.chain_id() == c)));
        Ok(stream.boxed())
    }
}
