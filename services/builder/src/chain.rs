//! `ChainBuilderActor`: one per chain; builds, seals, signs and commits blocks on its schedule.
use crate::reader::EdgeReader;
use actix::{Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, WrapFuture};
use alloy_primitives::{Address, B256, Bytes};
use opseq_executor::{BlockBuilder, Executed, L1Origin, L2_TO_L1_MESSAGE_PASSER, NextBlock, parse_sequence_number};
use opseq_interfaces::{CommitDiff, Edges};
use opseq_primitives::{BlockRef, ChainConfig, ChainId, OpseqError, SealedBlock, Shred, ShredLog, StateDiff};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tracing::{debug, error, info, warn};

/// Most transactions offered to one block.
pub(crate) const MAX_TXS_PER_BLOCK: usize = 10_000;

/// Builds the blocks of one chain: on its schedule (auto mode) and through build jobs (the test
/// API).
#[derive(Debug)]
pub struct ChainBuilderActor {
    pub(crate) builder: Arc<BlockBuilder>,
    pub(crate) edges: Edges,
    pub(crate) auto: bool,
    /// Auto mode's block interval, when not the chain's block time (`test_auto`).
    pub(crate) interval: Option<Duration>,
    /// Bumped whenever auto mode is switched, so a stale scheduled build does nothing.
    pub(crate) generation: u64,
    /// Auto mode held for a while (not persisted): a sync call builds the next block as a job
    /// of a group (`crate::sync_calls`).
    pub(crate) held: bool,
    failures: u32,
    pub(crate) jobs: crate::jobs::Jobs,
    /// The persisted auto mode of every chain (shared with the other chains' actors).
    pub(crate) state: Arc<crate::persist::SequencerState>,
    /// Interop: the heads of the other chains of the dependency set at the last check.
    seen: Arc<parking_lot::Mutex<HashMap<ChainId, BlockRef>>>,
    /// Interop: every chain's open builds in this process (shared by the chains' actors).
    pub(crate) open: Arc<crate::interop::OpenBuilds>,
}

impl ChainBuilderActor {
    /// A builder for `config` using `edges`; `auto` unless `state` recorded a mode for the chain.
    pub fn new(
        config: ChainConfig,
        edges: Edges,
        auto: bool,
        state: Arc<crate::persist::SequencerState>,
        open: Arc<crate::interop::OpenBuilds>,
    ) -> Self {
        let persisted = state.get(config.chain_id);
        if let Some(m) = persisted.filter(|m| m.active != auto) {
            info!(target: "opseq::builder::chain", chain_id = config.chain_id, active = m.active, "automatic sequencing as persisted, not as flagged");
        }
        Self {
            builder: Arc::new(BlockBuilder::new(config)),
            edges,
            auto: persisted.map_or(auto, |m| m.active),
            interval: persisted.and_then(|m| m.interval()),
            generation: 0,
            held: false,
            failures: 0,
            jobs: Default::default(),
            state,
            seen: Default::default(),
            open,
        }
    }

    pub(crate) fn schedule(&self, ctx: &mut Context<Self>, after: Duration) {
        let generation = self.generation;
        ctx.run_later(after, move |_, ctx| ctx.notify(BuildNext(generation)));
    }
}

impl Actor for ChainBuilderActor {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.auto {
            self.schedule(ctx, Duration::ZERO);
        }
        if self.builder.config().interop.is_some() {
            ctx.add_stream(tokio_stream::wrappers::BroadcastStream::new(self.open.subscribe()));
        }
    }
}

/// Other chains' open blocks that lost logs: a job of this chain that executed one is cut back.
impl actix::StreamHandler<Result<crate::interop::Truncated, tokio_stream::wrappers::errors::BroadcastStreamRecvError>>
    for ChainBuilderActor
{
    fn handle(
        &mut self,
        t: Result<crate::interop::Truncated, tokio_stream::wrappers::errors::BroadcastStreamRecvError>,
        ctx: &mut Context<Self>,
    ) {
        match t {
            Ok(t) if t.chain != self.builder.config().chain_id => {
                // Committed blocks may have executed the lost logs too: the next build checks
                // them all again.
                self.seen.lock().clear();
                ctx.notify(crate::jobs::Cascade(t));
            }
            Ok(_) => {}
            Err(e) => warn!(target: "opseq::builder::chain", error = %e, "missed rollback notices of other chains"),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl actix::Supervised for ChainBuilderActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        warn!(target: "opseq::builder::chain", chain_id = self.builder.config().chain_id, "restarting chain builder");
    }
}

/// Build the next block when its time has come (auto mode, generation `.0`).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct BuildNext(pub(crate) u64);

impl Handler<BuildNext> for ChainBuilderActor {
    type Result = ();
    fn handle(&mut self, BuildNext(generation): BuildNext, ctx: &mut Context<Self>) {
        if generation != self.generation || !self.auto || self.held {
            return;
        }
        let builder = Arc::clone(&self.builder);
        let edges = self.edges.clone();
        let interval = self.interval;
        let seen = Arc::clone(&self.seen);
        let open = Arc::clone(&self.open);
        // `wait` holds the mailbox: one build at a time per chain.
        ctx.wait(
            async move {
                let config = builder.config();
                let parent = next_parent(&builder, &edges, &open, &seen).await?;
                let wait = match interval {
                    // A test-chosen interval counts from the last build, not from timestamps.
                    Some(_) => None,
                    None => {
                        let due = parent.header.timestamp + config.block_time;
                        let now = unix_now();
                        (due > now).then(|| Duration::from_secs(due - now))
                    }
                };
                if let Some(wait) = wait {
                    return Ok(Some(wait));
                }
                build_block(&builder, &edges, &parent).await?;
                Ok::<_, OpseqError>(None)
            }
            .into_actor(self)
            .map(move |res, act, ctx| {
                let chain = act.builder.config().chain_id;
                let block_time = Duration::from_secs(act.builder.config().block_time);
                let next = match res {
                    Ok(Some(wait)) => wait.min(block_time),
                    Ok(None) => {
                        act.failures = 0;
                        act.interval.unwrap_or(Duration::ZERO)
                    }
                    Err(e) => {
                        act.failures += 1;
                        if e.is_transient() {
                            warn!(target: "opseq::builder::chain", chain_id = chain, error = %e, "build failed, retrying");
                        } else {
                            error!(target: "opseq::builder::chain", chain_id = chain, error = %e, "build failed");
                        }
                        Duration::from_millis(100 * u64::from(act.failures.min(10)))
                    }
                };
                if act.auto && act.generation == generation && !act.held {
                    act.schedule(ctx, next);
                }
            }),
        );
    }
}

/// Build one block now, whatever the schedule (`evm_mine`); answers with the block.
#[derive(Debug, Message)]
#[rtype(result = "Result<SealedBlock, OpseqError>")]
pub struct MineNow;

impl Handler<MineNow> for ChainBuilderActor {
    type Result = actix::AtomicResponse<Self, Result<SealedBlock, OpseqError>>;
    fn handle(&mut self, _: MineNow, _: &mut Context<Self>) -> Self::Result {
        let builder = Arc::clone(&self.builder);
        let edges = self.edges.clone();
        let seen = Arc::clone(&self.seen);
        let open = Arc::clone(&self.open);
        actix::AtomicResponse::new(Box::pin(
            async move {
                let parent = next_parent(&builder, &edges, &open, &seen).await?;
                build_block(&builder, &edges, &parent).await
            }
            .into_actor(self),
        ))
    }
}

/// The block the next block (auto mode or `evm_mine`) builds on: the head, after an L1 reorg
/// the newest block whose L1 origin is still canonical, after a dependency's reorg the newest
/// block whose executing messages still hold.
async fn next_parent(
    builder: &Arc<BlockBuilder>,
    edges: &Edges,
    open: &crate::interop::OpenBuilds,
    seen: &parking_lot::Mutex<HashMap<ChainId, BlockRef>>,
) -> Result<SealedBlock, OpseqError> {
    let config = builder.config();
    let chain = config.chain_id;
    let head = edges.state.head(chain).await?;
    let mut parent = edges
        .state
        .block_by_number(chain, head.number)
        .await?
        .ok_or_else(|| OpseqError::transient("head block missing"))?;
    if let Some(l1) = config.l1_chain_id.filter(|_| config.is_l2()) {
        parent = follow_l1(edges, chain, l1, parent).await?;
    }
    if let Some(rules) = &config.interop {
        parent = follow_messages(builder, edges, rules, open, seen, parent).await?;
    }
    Ok(parent)
}

/// After an L1 reorg: if the L2 head's L1 origin is no longer canonical, rewinds the L2 chain to
/// its newest block whose origin is (the txs of the blocks it drops go back to the pool), so the
/// next block is built on a canonical origin. Returns the block to build on (the head, or the
/// block rewound to).
pub(crate) async fn follow_l1(
    edges: &Edges,
    chain: ChainId,
    l1: ChainId,
    head: SealedBlock,
) -> Result<SealedBlock, OpseqError> {
    let head_number = head.header.number;
    let mut block = head;
    loop {
        let canonical = match block.l1_origin {
            None => true,
            Some(o) => edges.state.block_by_number(l1, o.number).await?.is_some_and(|b| b.hash == o.hash),
        };
        if canonical {
            if block.header.number != head_number {
                let removed = edges.state.set_head(chain, block.hash).await?;
                warn!(target: "opseq::builder::chain", chain_id = chain, to = block.header.number, reorged_out = removed.len(), "L1 origin reorged out: L2 rewound");
                reinject(edges, chain, &removed).await;
            }
            return Ok(block);
        }
        let Some(number) = block.header.number.checked_sub(1) else {
            return Err(OpseqError::fatal("no L2 block has a canonical L1 origin"));
        };
        block = edges
            .state
            .block_by_number(chain, number)
            .await?
            .ok_or_else(|| OpseqError::transient("L2 block missing"))?;
    }
}

/// Blocks back from the head whose executing messages are checked again after another chain of
/// the dependency set reorged.
const MESSAGE_LOOKBACK: u64 = 64;

/// Interop, before a scheduled build: checks the executing messages of this chain's recent
/// blocks again — every one of the last [`MESSAGE_LOOKBACK`] after another chain of the
/// dependency set reorged, or an open block of another chain lost logs (and at the first look),
/// else only the blocks committed since the last look. A message is invalid when its initiating
/// log is not in the canonical chain (nor in a block open at its timestamp), or when the blocks
/// at one timestamp execute each other's logs in a cycle. The oldest block with an invalid one
/// is replaced, unless the policy keeps it (`keep_invalid`): the chain rewinds to its parent
/// (the txs of the blocks dropped go back to the pool, where an invalid message leaves them out
/// again) and a deposit-only block with its attributes (timestamp, L1 origin) takes its place,
/// as derivation would do (OP specs `interop/derivation.md`); a `Reorged` shred says so. Returns
/// the block to build on.
pub(crate) async fn follow_messages(
    builder: &Arc<BlockBuilder>,
    edges: &Edges,
    rules: &opseq_primitives::InteropConfig,
    open: &crate::interop::OpenBuilds,
    seen: &parking_lot::Mutex<HashMap<ChainId, BlockRef>>,
    head: SealedBlock,
) -> Result<SealedBlock, OpseqError> {
    let chain = builder.config().chain_id;
    let mut reorged = false;
    for &other in rules.dependency_set.iter().filter(|c| **c != chain) {
        let now = edges.state.head(other).await?;
        let before = seen.lock().insert(other, now);
        reorged |= match before {
            None => true,
            Some(b) => edges.state.block_by_number(other, b.number).await?.is_none_or(|x| x.hash != b.hash),
        };
    }
    let own = BlockRef { number: head.header.number, hash: head.hash };
    let depth = match seen.lock().insert(chain, own) {
        _ if reorged => MESSAGE_LOOKBACK,
        None => MESSAGE_LOOKBACK,
        Some(b) if b == own => 0,
        Some(b) if b.number < own.number => (own.number - b.number).min(MESSAGE_LOOKBACK),
        Some(_) => MESSAGE_LOOKBACK,
    };
    let mut first_bad = None;
    let mut block = head.clone();
    for _ in 0..depth {
        if block.header.number == 0 {
            break;
        }
        if let Some(reason) = invalid_in(edges, rules, open, chain, &block).await {
            first_bad = Some((block.clone(), reason));
        }
        match edges.state.block_by_number(chain, block.header.number - 1).await? {
            Some(b) => block = b,
            None => break,
        }
    }
    let Some((bad, reason)) = first_bad else { return Ok(head) };
    if rules.keep_invalid {
        warn!(target: "opseq::builder::chain", chain_id = chain, number = bad.header.number, %reason, "a block holds an invalid executing message: kept (--interop.keep-invalid)");
        return Ok(head);
    }
    let parent = edges
        .state
        .block_by_hash(chain, bad.header.parent_hash)
        .await?
        .ok_or_else(|| OpseqError::transient("L2 block missing"))?;
    let removed = edges.state.set_head(chain, parent.hash).await?;
    reinject(edges, chain, &removed).await;
    let opts = crate::jobs::OpenOpts {
        parent: Some(parent.hash),
        l1_origin: bad.l1_origin.map(|o| o.hash),
        timestamp: Some(bad.header.timestamp),
        ..Default::default()
    };
    let replacement = crate::jobs::deposit_only(builder, edges, opts).await?;
    warn!(target: "opseq::builder::chain", chain_id = chain, number = bad.header.number, invalid = %bad.hash, replacement = %replacement.hash, dropped = removed.len(), %reason, "a block held an invalid executing message: replaced by a deposit-only block");
    let _ = edges
        .shreds
        .publish(Shred::Reorged {
            chain_id: chain,
            block_number: bad.header.number,
            old_hash: bad.hash,
            new_hash: replacement.hash,
            reason: format!("invalid executing message: {reason}"),
        })
        .await;
    seen.lock().insert(chain, BlockRef { number: replacement.header.number, hash: replacement.hash });
    Ok(replacement)
}

/// Why a committed block of `chain` is invalid (its first invalid executing message, or a
/// cycle in the log graph of the blocks at its timestamp), if it is.
async fn invalid_in(
    edges: &Edges,
    rules: &opseq_primitives::InteropConfig,
    open: &crate::interop::OpenBuilds,
    chain: ChainId,
    block: &SealedBlock,
) -> Option<String> {
    // No log of the inbox in its bloom: no executing message (and no receipt decoded).
    let inbox = alloy_primitives::BloomInput::Raw(opseq_primitives::interop::CROSS_L2_INBOX.as_slice());
    if !block.header.logs_bloom.contains_input(inbox) {
        return None;
    }
    let logs: Vec<Vec<alloy_primitives::Log>> =
        block.receipts.iter().map(|r| crate::interop::receipt_logs(r)).collect();
    let txs: Vec<&[alloy_primitives::Log]> = logs.iter().map(Vec::as_slice).collect();
    let within = crate::interop::Within {
        chain,
        number: block.header.number,
        open: Some(open),
        job: None,
        pending: crate::interop::Pending::Wait,
    };
    let checks = crate::interop::check_txs(edges, rules, block.header.timestamp, within, &txs, |_| true).await;
    if let Some(r) = checks.iter().flatten().find_map(|c| c.invalid.clone()) {
        return Some(r);
    }
    crate::interop::committed_cycle(edges, chain, block, &logs).await
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Picks the L1 origin of the L2 block after `parent` at `timestamp`: the parent's origin, or its
/// successor once the successor's time has come (OP derivation rules: no gaps, `l2.time >= l1.time`).
pub(crate) async fn l1_origin(
    edges: &Edges,
    chain: ChainId,
    l1: u64,
    parent: &SealedBlock,
    timestamp: u64,
) -> Result<L1Origin, OpseqError> {
    // The genesis L2 block's origin is the L1 genesis; so is the origin after a fork block whose
    // L1 is not ours (an L1 mock under a forked L2: a new epoch on the mock's genesis).
    let current_block = match parent.l1_origin {
        Some(o) => edges.state.block_by_hash(l1, o.hash).await?,
        None => edges.state.block_by_number(l1, 0).await?,
    }
    .ok_or_else(|| OpseqError::transient("the parent's L1 origin is unknown"))?;
    if let Some(next) = edges.state.block_by_number(l1, current_block.header.number + 1).await?
        && next.header.timestamp <= timestamp
        && next.header.parent_hash == current_block.hash
    {
        return origin(next, 0, chain);
    }
    let sequence_number = next_sequence_number(parent)?;
    origin(current_block, sequence_number, chain)
}

/// The L1 block `block` as the origin of an L2 block of `chain` at `sequence_number`: an epoch's
/// first block carries the user deposits of its origin (`chain`'s portal's `TransactionDeposited`
/// logs, from the block's receipts; an L1 read from another node, whose blocks come without
/// receipts, has none).
pub(crate) fn origin(block: SealedBlock, sequence_number: u64, chain: ChainId) -> Result<L1Origin, OpseqError> {
    let deposits = if sequence_number == 0 {
        opseq_executor::user_deposits(block.hash, &block.receipts, opseq_primitives::optimism_portal(chain))
            .map_err(OpseqError::invalid)?
    } else {
        vec![]
    };
    Ok(L1Origin { header: block.header, hash: block.hash, sequence_number, deposits })
}

/// The sequence number of the next L2 block in the parent's epoch. The L2 genesis is the first
/// block (number 0) of the L1 genesis's epoch (rollup config `genesis.l1`), so a block that keeps
/// that origin is number 1 (op-node derives it so); after a fork block from an L1 that is not ours
/// (no origin) the next block starts an epoch on the L1 mock.
pub(crate) fn next_sequence_number(parent: &SealedBlock) -> Result<u64, OpseqError> {
    if parent.header.number == 0 {
        return Ok(1);
    }
    if parent.l1_origin.is_none() {
        return Ok(0);
    }
    let first = parent.transactions.first().ok_or_else(|| OpseqError::fatal("L2 parent has no L1-info deposit"))?;
    let tx: op_alloy_consensus::OpTxEnvelope = alloy_eips::eip2718::Decodable2718::decode_2718_exact(first.as_ref())
        .map_err(|e| OpseqError::fatal(format!("L1-info deposit undecodable: {e}")))?;
    let input = alloy_consensus::Transaction::input(&tx);
    Ok(parse_sequence_number(input).ok_or_else(|| OpseqError::fatal("L1-info calldata too short"))? + 1)
}

/// The reader of the state after `parent`: the head state, or, for any other known parent, the
/// head state under the parent's overlay (with the hashes of its off-chain ancestors for
/// BLOCKHASH). Returns the reader and the head it reads through.
pub(crate) async fn reader_for(
    edges: &Edges,
    chain: ChainId,
    parent: &SealedBlock,
) -> Result<(Arc<EdgeReader>, B256), OpseqError> {
    let handle = tokio::runtime::Handle::current();
    let head = edges.state.head(chain).await?;
    if head.hash == parent.hash {
        return Ok((Arc::new(EdgeReader::new(Arc::clone(&edges.state), chain, handle)), head.hash));
    }
    let overlay = edges.state.overlay(chain, parent.hash).await?;
    let mut branch = HashMap::new();
    let mut block = parent.clone();
    for _ in 0..256 {
        let canonical = edges.state.block_by_number(chain, block.header.number).await?.map(|b| b.hash);
        if canonical == Some(block.hash) {
            break;
        }
        branch.insert(block.header.number, block.hash);
        match edges.state.block_by_hash(chain, block.header.parent_hash).await? {
            Some(p) => block = p,
            None => break,
        }
    }
    let reader = EdgeReader::at(Arc::clone(&edges.state), chain, handle, &overlay.diff, branch);
    Ok((Arc::new(reader), overlay.head.hash))
}

/// Executes the block `next` on `reader`: the L1-info deposit (L2), `chosen` (must execute), then
/// `candidates` (included where valid). Included txs from index `shred_from` on are streamed as
/// shreds.
pub(crate) async fn execute(
    builder: &Arc<BlockBuilder>,
    edges: &Edges,
    reader: &Arc<EdgeReader>,
    next: &NextBlock,
    chosen: Vec<(Bytes, Address)>,
    candidates: Vec<(Bytes, Address)>,
    shred_from: u64,
) -> Result<Executed, OpseqError> {
    let chain = builder.config().chain_id;
    let block_number = next.parent.number + 1;
    let shred_of = move |inc: &opseq_executor::IncludedTx| Shred::TxIncluded {
        chain_id: chain,
        block_number,
        index: inc.index,
        tx_hash: inc.hash,
        success: inc.success,
        gas_used: inc.gas_used,
        raw: inc.raw.clone(),
        logs: inc
            .logs
            .iter()
            .map(|l| ShredLog { address: l.address, topics: l.topics().to_vec(), data: l.data.data.clone() })
            .collect(),
    };
    let result = if chosen.len() + candidates.len() <= IN_PLACE_TXS && edges.state.reads_in_place(chain) {
        // A few txs over reads that never wait: cheaper here than two thread hand-offs. Their
        // shreds follow the execution (microseconds later) instead of interleaving with it.
        let mut out = Vec::new();
        let r = {
            let _in_place = crate::reader::InPlace::enter();
            builder.execute(&**reader, next, chosen, candidates, &mut |inc: &opseq_executor::IncludedTx| {
                if inc.index >= shred_from {
                    out.push(shred_of(inc));
                }
            })
        };
        for s in out {
            let _ = edges.shreds.publish(s).await;
        }
        r
    } else {
        let shreds = Arc::clone(&edges.shreds);
        let (b, r, next) = (Arc::clone(builder), Arc::clone(reader), next.clone());
        let handle = tokio::runtime::Handle::current();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            // State reads from the blocking thread belong to the caller's trace.
            let _entered = span.enter();
            let mut on_included = |inc: &opseq_executor::IncludedTx| {
                if inc.index >= shred_from {
                    let _ = handle.block_on(shreds.publish(shred_of(inc)));
                }
            };
            b.execute(&*r, &next, chosen, candidates, &mut on_included)
        })
        .await
        .map_err(|e| OpseqError::fatal(format!("executor panicked: {e}")))?
    };
    result.map_err(|e| match e {
        opseq_executor::BuildError::State(m) => OpseqError::transient(m),
        opseq_executor::BuildError::InvalidBlock(m) => OpseqError::invalid(m),
        other => OpseqError::fatal(other.to_string()),
    })
}

/// Fetches in batches what executing `candidates` after `chosen` on `reader` will read: the
/// candidates' senders and recipients, the system accounts, what their access lists name, and,
/// on a chain whose reads wait on another process or node, when a candidate calls code (whose
/// reads no one can list beforehand), what one discovery pass over the cache misses.
pub(crate) async fn prepare(
    builder: &Arc<BlockBuilder>,
    edges: &Edges,
    reader: &Arc<EdgeReader>,
    next: &NextBlock,
    chosen: &[(Bytes, Address)],
    candidates: &[(Bytes, Address)],
) -> Result<(), OpseqError> {
    let config = builder.config();
    let mut touch: Vec<Address> = candidates.iter().map(|(_, sender)| *sender).collect();
    // Each candidate's recipient (`None`: a creation) and access list, from one decoding.
    let (recipients, lists): (Vec<Option<Address>>, Vec<_>) =
        candidates.iter().map(|(raw, _)| opseq_primitives::tx::touches(raw, config.is_l2())).unzip();
    touch.extend(recipients.iter().flatten());
    touch.extend([
        opseq_executor::L1_BLOCK_ADDRESS,
        opseq_executor::SEQUENCER_FEE_VAULT,
        opseq_executor::DEPOSITOR_ACCOUNT,
    ]);
    let mut slots = Vec::new();
    for (address, keys) in lists.into_iter().flatten() {
        touch.push(address);
        slots.extend(keys.into_iter().map(|k| (address, alloy_primitives::U256::from_be_bytes(k.0))));
    }
    reader.prefetch(touch).await.map_err(OpseqError::transient)?;
    reader.prefetch_slots(slots).await.map_err(OpseqError::transient)?;
    let calls_code = || recipients.iter().any(|r| r.is_none_or(|r| reader.has_code(r)));
    if candidates.len() > 1 && !edges.state.reads_in_place(config.chain_id) && calls_code() {
        let txs: Vec<_> = chosen.iter().chain(candidates).cloned().collect();
        discover(builder, reader, next, txs).await?;
    }
    Ok(())
}

/// Executes `txs` once over a [`crate::reader::Discovering`] view of `reader` (answers thrown
/// away) and fetches, in two batches, the accounts and slots it found missing.
async fn discover(
    builder: &Arc<BlockBuilder>,
    reader: &Arc<EdgeReader>,
    next: &NextBlock,
    txs: Vec<(Bytes, Address)>,
) -> Result<(), OpseqError> {
    let (b, r, next) = (Arc::clone(builder), Arc::clone(reader), next.clone());
    let missed = tokio::task::spawn_blocking(move || {
        let d = crate::reader::Discovering::new(&r);
        // Failures of the speculative run (a tx that needs a value it was told is zero) are
        // expected: only what it asked for matters.
        match b.execute(&d, &next, vec![], txs, &mut |_| {}) {
            Ok(e) => debug!(target: "opseq::builder::chain", included = e.included.len(), "discovery run"),
            Err(e) => debug!(target: "opseq::builder::chain", error = %e, "discovery run stopped early"),
        }
        d.into_missed()
    })
    .await
    .map_err(|e| OpseqError::fatal(format!("executor panicked: {e}")))?;
    let (accounts, slots) = reader.prefetch_missed(missed).await.map_err(OpseqError::transient)?;
    debug!(target: "opseq::builder::chain", accounts, slots, "discovery pass");
    Ok(())
}

/// Executions of at most this many txs run on the builder's own thread when the state reads
/// never wait ([`opseq_interfaces::StateSource::reads_in_place`]).
const IN_PLACE_TXS: usize = 8;

/// Seals an executed block on `parent`: roots from the state-fetcher, header hash, and (L2) the
/// sequencer's signature.
pub(crate) async fn seal(
    builder: &Arc<BlockBuilder>,
    edges: &Edges,
    parent: &SealedBlock,
    executed: Executed,
) -> Result<(SealedBlock, StateDiff), OpseqError> {
    let t0 = std::time::Instant::now();
    let (mut block, diff, to_sign) = seal_unsigned(builder, edges, parent, executed).await?;
    let t1 = t0.elapsed();
    if let Some(payload_hash) = to_sign {
        block.signature = Some(edges.signer.sign_block(builder.config().chain_id, payload_hash).await?);
    }
    debug!(target: "opseq::timing", sign = ?(t0.elapsed() - t1), "sign");
    Ok((block, diff))
}

/// [`seal`] without the signature (blocks a consensus client builds or gives through the engine
/// API carry its signature, not ours): the block, its diff, and (L2) the payload hash to sign.
pub(crate) async fn seal_unsigned(
    builder: &Arc<BlockBuilder>,
    edges: &Edges,
    parent: &SealedBlock,
    mut executed: Executed,
) -> Result<(SealedBlock, StateDiff, Option<B256>), OpseqError> {
    let chain = builder.config().chain_id;
    let timestamp = executed.header.timestamp;
    let storage_of = if builder.needs_message_passer_root(timestamp) { vec![L2_TO_L1_MESSAGE_PASSER] } else { vec![] };
    let t0 = std::time::Instant::now();
    // Sealing needs the rest of the execution, not its diff: taken, not copied.
    let diff = std::mem::take(&mut executed.diff);
    let roots = edges.state.compute_roots(chain, parent.header.state_root, diff.clone(), storage_of).await?;
    let t1 = t0.elapsed();
    let withdrawals_root = roots.storage_roots.first().map(|(_, r)| *r);
    let (block, to_sign) = builder.seal(executed, roots.state_root, withdrawals_root);
    debug!(target: "opseq::timing", roots = ?t1, seal = ?(t0.elapsed() - t1), "seal");
    Ok((block, diff, to_sign))
}

/// Commits a sealed block through the publisher and tells the txpool: mined txs leave it, txs of
/// blocks the commit reorged out go back to it (anvil drops them). Returns the reorged-out
/// hashes.
pub(crate) async fn commit(
    edges: &Edges,
    chain: ChainId,
    block: SealedBlock,
    diff: StateDiff,
    invalid: Vec<B256>,
) -> Result<Vec<B256>, OpseqError> {
    let included = block.tx_hashes.clone();
    let (number, hash, count) = (block.header.number, block.hash, block.transactions.len() as u64);
    // The state-fetcher still holds the diff it computed the roots of (sent once, not twice);
    // when it does not (another block's roots since, a restart), the diff goes along.
    let t0 = std::time::Instant::now();
    let removed = match edges.sink.commit(chain, block.clone(), CommitDiff::Computed).await {
        Err(e) if e.is_not_found() => edges.sink.commit(chain, block, CommitDiff::Full(diff)).await?,
        r => r?,
    };
    let t1 = t0.elapsed();
    if let Err(e) = edges.txs.on_block(chain, included, invalid).await {
        // The pool drops mined txs on its next read anyway (stale nonces), so this is not fatal.
        warn!(target: "opseq::builder::chain", chain_id = chain, error = %e, "could not tell the txpool about the block");
    }
    let t2 = t0.elapsed();
    reinject(edges, chain, &removed).await;
    debug!(target: "opseq::timing", sink = ?t1, pool = ?(t2 - t1), "commit");
    let _ = edges
        .shreds
        .publish(Shred::Sealed { chain_id: chain, block_number: number, block_hash: hash, tx_count: count })
        .await;
    metrics::gauge!("opseq_builder_head_number", "chain_id" => chain.to_string()).set(number as f64);
    Ok(removed)
}

/// Puts the user txs of reorged-out blocks back into the pool; the ones the new chain already
/// mined are refused there (nonce too low) and dropped.
pub(crate) async fn reinject(edges: &Edges, chain: ChainId, removed: &[B256]) {
    let mut back = 0usize;
    for hash in removed {
        let Ok(Some(block)) = edges.state.block_by_hash(chain, *hash).await else { continue };
        for raw in block.transactions {
            // Deposits (0x7e) are derived from L1, never pooled.
            if raw.first() == Some(&0x7e) {
                continue;
            }
            if edges.txs.submit(chain, raw).await.is_ok() {
                back += 1;
            }
        }
    }
    if !removed.is_empty() {
        debug!(target: "opseq::builder::chain", chain_id = chain, blocks = removed.len(), txs = back, "reorged-out txs back in the pool");
    }
}

/// Builds, seals, signs and commits the block after `parent` (the head) from the pool.
#[tracing::instrument(name = "build_block", target = "opseq::builder::chain", skip_all, fields(chain_id = builder.config().chain_id, number = parent.header.number + 1), err(Display))]
pub(crate) async fn build_block(
    builder: &Arc<BlockBuilder>,
    edges: &Edges,
    parent: &SealedBlock,
) -> Result<SealedBlock, OpseqError> {
    let config = builder.config().clone();
    let chain = config.chain_id;
    let started = std::time::Instant::now();
    let timestamp = parent.header.timestamp + config.block_time;
    let l1_origin = match config.l1_chain_id {
        Some(l1) if config.is_l2() => Some(l1_origin(edges, config.chain_id, l1, parent, timestamp).await?),
        _ => None,
    };
    let next = NextBlock {
        parent: parent.header.clone(),
        parent_hash: parent.hash,
        timestamp,
        l1_origin,
        overrides: Default::default(),
    };
    let base_fee = builder.next_base_fee(&parent.header);
    let _ = edges
        .shreds
        .publish(Shred::Opened {
            chain_id: chain,
            block_number: parent.header.number + 1,
            build_id: "auto".into(),
            template: Box::new(builder.input_for(&next).template),
        })
        .await;
    let candidates = edges.txs.best(chain, base_fee, MAX_TXS_PER_BLOCK).await?;
    let t_best = started.elapsed();
    let (reader, _) = reader_for(edges, chain, parent).await?;
    let txs: Vec<_> = candidates.iter().map(|t| (t.raw.clone(), t.sender)).collect();
    prepare(builder, edges, &reader, &next, &[], &txs).await?;
    let t_prefetch = started.elapsed();
    let mut executed = execute(builder, edges, &reader, &next, vec![], txs.clone(), 0).await?;
    // Interop: a pool tx whose executing messages are invalid leaves the block (and the pool),
    // and the block is executed again without it.
    let mut bad_messages = Vec::new();
    if let Some(rules) = &config.interop {
        for _ in 0..3 {
            let mut bad = Vec::new();
            let logs: Vec<&[alloy_primitives::Log]> = executed.included.iter().map(|i| i.logs.as_slice()).collect();
            let within = crate::interop::Within {
                chain,
                number: parent.header.number + 1,
                open: None,
                job: None,
                pending: crate::interop::Pending::Wait,
            };
            let checks = crate::interop::check_txs(edges, rules, timestamp, within, &logs, |_| true).await;
            for (inc, checks) in executed.included.iter().zip(checks) {
                let reasons = crate::interop::reasons(&checks);
                if !reasons.is_empty() {
                    warn!(target: "opseq::builder::chain", chain_id = chain, hash = %inc.hash, reasons = %reasons.join("; "), "left out: invalid executing message");
                    bad.push(inc.hash);
                }
            }
            if bad.is_empty() {
                break;
            }
            bad_messages.extend(bad);
            let kept: Vec<_> = txs
                .iter()
                .filter(|(raw, _)| !bad_messages.contains(&alloy_primitives::keccak256(raw)))
                .cloned()
                .collect();
            executed = execute(builder, edges, &reader, &next, vec![], kept, 0).await?;
        }
    }
    let t_exec = started.elapsed();
    let mut invalid: Vec<_> = executed.rejected.iter().filter(|r| r.invalid).map(|r| r.hash).collect();
    invalid.extend(bad_messages);
    for r in &executed.rejected {
        debug!(target: "opseq::builder::chain", chain_id = chain, hash = %r.hash, reason = %r.reason, invalid = r.invalid, "tx left out");
    }
    let (block, diff) = seal(builder, edges, parent, executed).await?;
    let t_sealed = started.elapsed();
    // Scheduled building only ever extends the head: a commit on another parent would be a reorg
    // (which the store performs for the test API's explicit requests), so it is refused here.
    let head = edges.state.head(chain).await?;
    if head.hash != parent.hash {
        return Err(OpseqError::transient(format!(
            "the head moved to {} while block {} was built on {}; building again on the new head",
            head.hash, block.header.number, parent.hash
        )));
    }
    commit(edges, chain, block.clone(), diff, invalid).await?;
    let t_commit = started.elapsed();
    debug!(
        target: "opseq::builder::chain", chain_id = chain, number = block.header.number, txs = block.transactions.len(),
        best = ?t_best, prefetch = ?(t_prefetch - t_best), execute = ?(t_exec - t_prefetch),
        roots_seal_sign = ?(t_sealed - t_exec), commit = ?(t_commit - t_sealed), total = ?started.elapsed(), "block timings"
    );
    metrics::histogram!("opseq_builder_build_seconds", "chain_id" => chain.to_string())
        .record(started.elapsed().as_secs_f64());
    Ok(block)
}
