//! Build jobs: blocks built step by step under a test's control (open on any known parent and L1
//! origin, include exact txs, inspect, seal, commit, cancel), and the other controls of a chain
//! builder (auto mode, head rewinds). One job registry per chain builder actor; every control
//! runs atomically with the chain's builds.
use crate::chain::{BuildNext, ChainBuilderActor, commit, execute, l1_origin, reader_for, reinject, seal};
use crate::reader::EdgeReader;
use actix::{ActorFutureExt, AsyncContext, Context, Handler, Message, WrapFuture};
use alloy_consensus::Header;
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Bytes, Log};
use op_alloy_consensus::OpTxEnvelope;
use opseq_executor::{Executed, NextBlock};
use opseq_primitives::{BlockRef, ChainId, OpseqError, SealedBlock, StateDiff};
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tracing::Instrument;

/// Jobs kept after they finished (sealed, committed or cancelled), for clear errors and
/// inspection; older finished jobs are forgotten.
const FINISHED_KEPT: usize = 256;
/// Open jobs per chain.
const MAX_OPEN: usize = 64;

/// What a new job builds on. Every field is optional.
#[derive(Debug, Clone, Default)]
pub struct OpenOpts {
    /// Parent block hash; default the chain's head.
    pub parent: Option<B256>,
    /// L2: L1 origin block hash; default the parent's origin, or its successor once its time has
    /// come (OP derivation: no gaps, `l2.time >= l1.time`).
    pub l1_origin: Option<B256>,
    /// Block timestamp; default `parent.timestamp + blockTime`.
    pub timestamp: Option<u64>,
    /// L1 chains: header fields chosen instead of ours.
    pub overrides: opseq_executor::HeaderOverrides,
}

/// Which transaction(s) to include.
#[derive(Debug, Clone)]
pub enum Include {
    /// These raw bytes, without any pool check (how invalid txs are forced in).
    Raw(Bytes),
    /// The pooled tx with this hash.
    Hash(B256),
    /// The first (lowest-nonce) pooled tx of this sender.
    First(Address),
    /// The best `n` pooled txs paying the job's base fee.
    Best(usize),
    /// These raw txs, in order, all or none: a leg of a bundle (`crate::sync_calls`), whose
    /// messages of other open blocks at its timestamp not included yet are edges, not waits.
    Bundle(Vec<Bytes>),
}

/// A control operation on one chain.
#[derive(Debug, Clone)]
pub enum Op {
    /// Open a job.
    Open(OpenOpts),
    /// Include txs in an open job; with `true` (force), also txs whose executing messages are
    /// invalid.
    Include(String, Include, bool),
    /// The job so far.
    Inspect(String),
    /// Seal the job; with `commit`, also commit (and publish) the block.
    Seal(String, bool),
    /// Commit (and publish) a sealed job's block.
    Commit(String),
    /// Cancel an open job.
    Cancel(String),
    /// Forget a job.
    Close(String),
    /// Switch auto mode, optionally with an interval other than the block time.
    Auto(bool, Option<Duration>),
    /// Make a known block the head (rewind, or reorg onto a sealed sibling).
    SetHead(B256),
    /// Whether auto mode is on.
    AutoStatus,
    /// Every job with its state.
    Jobs,
    /// Run unsigned txs after the job's txs without including them (a sync call's discovery).
    Simulate(String, Vec<opseq_executor::simulate::SimTx>),
    /// Check again the executing messages of the job's txs from this index on, now: a log of
    /// another open block that is not there is invalid (a bundle's joint check).
    Verify(String, usize),
    /// Hold auto mode (`true`) or let it go on (`false`), not persisted: a sync-call group
    /// builds the chain's next block as a job meanwhile. Answers the auto mode.
    Hold(bool),
    /// Cut the open job back to its first `n` txs (an aborted bundle), cascading to the blocks
    /// that executed its lost logs; the reason goes to the log.
    Truncate(String, usize, String),
}

impl Op {
    /// The operation's name (logs and metrics).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Open(_) => "open",
            Self::Include(..) => "include",
            Self::Inspect(_) => "inspect",
            Self::Seal(..) => "seal",
            Self::Commit(_) => "commit",
            Self::Cancel(_) => "cancel",
            Self::Close(_) => "close",
            Self::Auto(..) => "auto",
            Self::SetHead(_) => "set_head",
            Self::AutoStatus => "auto_status",
            Self::Jobs => "jobs",
            Self::Simulate(..) => "simulate",
            Self::Verify(..) => "verify",
            Self::Truncate(..) => "truncate",
            Self::Hold(_) => "hold",
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Open: txs can be included.
    Open,
    /// Sealed (and signed), not committed.
    Sealed,
    /// Sealed and committed: its block became the head.
    Committed,
    /// Cancelled.
    Cancelled,
}

impl JobState {
    /// The name used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Sealed => "sealed",
            Self::Committed => "committed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One included transaction, as the include that added it reported it.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// Hash.
    pub hash: B256,
    /// Index in the block.
    pub index: u64,
    /// Receipt status.
    pub success: bool,
    /// Gas used.
    pub gas_used: u64,
    /// Logs.
    pub logs: Vec<Log>,
    /// Its executing messages (interop chains), each with its verdict.
    pub messages: Vec<crate::interop::MessageCheck>,
}

/// A candidate an include did not add, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Hash.
    pub hash: B256,
    /// Why.
    pub reason: String,
}

/// A job as seen from outside.
#[derive(Debug, Clone)]
pub struct JobView {
    /// Id.
    pub id: String,
    /// State.
    pub state: JobState,
    /// Parent.
    pub parent: BlockRef,
    /// L2: the L1 origin.
    pub l1_origin: Option<BlockRef>,
    /// The header so far (no state root until sealed).
    pub header: Header,
    /// Every tx in the block so far, in order (the L1-info deposit first on L2).
    pub txs: Vec<TxOutcome>,
    /// The sealed block.
    pub block: Option<SealedBlock>,
}

/// What a control operation answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A job's view (open, inspect, cancel).
    Job(JobView),
    /// What an include added and refused, with the job after it.
    Included {
        /// Added.
        added: Vec<TxOutcome>,
        /// Refused (include-best only; single includes fail instead).
        refused: Vec<Refused>,
        /// The job after the include.
        job: JobView,
    },
    /// A sealed block, whether it was committed, and what the commit reorged out.
    Sealed {
        /// The block.
        block: SealedBlock,
        /// Committed.
        committed: bool,
        /// Blocks that left the canonical chain.
        reorged_out: Vec<B256>,
    },
    /// Auto mode after the switch.
    Auto {
        /// On or off.
        active: bool,
        /// The interval, if not the block time.
        interval: Option<Duration>,
    },
    /// The blocks a head change removed.
    Reorged(Vec<B256>),
    /// All jobs.
    Jobs(Vec<JobView>),
    /// A simulation on a job.
    Simulated(Simulated),
    /// What a verification found wrong (nothing: valid).
    Verified(Vec<String>),
    /// Done, nothing to say.
    Done,
}

/// Txs run on an open job without being included ([`Op::Simulate`]).
#[derive(Debug, Clone)]
pub struct Simulated {
    /// The block's number.
    pub number: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// Its base fee.
    pub base_fee: u64,
    /// Its txs so far (where the simulated ones would start).
    pub txs: usize,
    /// Its logs so far (the block-global index of the first simulated log).
    pub logs: usize,
    /// Each simulated tx's outcome, in order.
    pub outcomes: Vec<opseq_executor::simulate::SimOutcome>,
}

/// Why a control operation failed. Each job-state error has its own code on the wire.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ControlError {
    /// No job with this id.
    #[error("unknown job {0}")]
    UnknownJob(String),
    /// The job is already sealed and cannot be sealed again.
    #[error("block already sealed: job {0} was sealed before")]
    AlreadySealed(String),
    /// Include into a sealed job.
    #[error("job {0} is sealed: nothing can be included any more")]
    IncludeAfterSeal(String),
    /// Cancel of a sealed job.
    #[error("job {0} is sealed: a sealed job cannot be cancelled")]
    CancelAfterSeal(String),
    /// The job was cancelled.
    #[error("job {0} was cancelled")]
    Cancelled(String),
    /// Commit of a job that is not sealed.
    #[error("block not yet sealed: job {0} is open")]
    NotSealed(String),
    /// Commit of a job already committed.
    #[error("block already committed: job {0}")]
    AlreadyCommitted(String),
    /// Too many open jobs.
    #[error("too many open jobs on this chain ({0}); cancel or seal some")]
    TooManyJobs(usize),
    /// The tx was not included (refused by the EVM or not found); the job is unchanged.
    #[error("transaction refused: {0}")]
    Refused(String),
    /// Bad parameters (unknown parent or origin, timestamp out of range).
    #[error("{0}")]
    Invalid(String),
    /// A component failed.
    #[error(transparent)]
    Edge(#[from] OpseqError),
}

/// A control operation on a chain builder, with the caller's span (the trace continues through
/// the actor's mailbox).
#[derive(Debug, Message)]
#[rtype(result = "Result<Reply, ControlError>")]
pub struct Control(pub Op, pub tracing::Span);

/// One job.
#[derive(Debug)]
pub(crate) struct Job {
    id: String,
    state: JobState,
    parent: SealedBlock,
    next: NextBlock,
    /// User txs chosen so far (re-executed in order on every include).
    chosen: Vec<(Bytes, Address)>,
    /// The last execution; `None` until the first include (or seal): opening a job executes
    /// nothing, its header so far is the template.
    executed: Option<Executed>,
    /// The template header (what a job's view shows before any execution).
    template: Header,
    reader: Arc<EdgeReader>,
    /// The head `reader` reads through.
    head_at: B256,
    sealed: Option<(SealedBlock, StateDiff)>,
    /// Interop: the logs of other blocks open at this timestamp its txs execute.
    deps: Vec<crate::interop::Dep>,
}

impl Job {
    /// The job as other chains' builders see it ([`crate::interop::OpenBuilds`]): its logs so
    /// far and the edges its txs execute.
    fn open_build(&self, chain: ChainId) -> crate::interop::OpenBuild {
        crate::interop::OpenBuild {
            chain,
            job: self.id.clone(),
            number: self.next.parent.number + 1,
            timestamp: self.next.timestamp,
            logs: self.executed.iter().flat_map(|e| e.included.iter().flat_map(|i| i.logs.iter().cloned())).collect(),
            deps: self.deps.clone(),
        }
    }

    fn view(&self) -> JobView {
        let mut header = self.executed.as_ref().map_or_else(|| self.template.clone(), |e| e.header.clone());
        if let Some((b, _)) = &self.sealed {
            header = b.header.clone();
        }
        JobView {
            id: self.id.clone(),
            state: self.state,
            parent: self.parent.block_ref(),
            l1_origin: self.next.l1_origin.as_ref().map(|o| BlockRef { number: o.header.number, hash: o.hash }),
            header,
            txs: self.executed.as_ref().map(|e| e.included.iter().map(outcome).collect()).unwrap_or_default(),
            block: self.sealed.as_ref().map(|(b, _)| b.clone()),
        }
    }
}

fn outcome(i: &opseq_executor::IncludedTx) -> TxOutcome {
    TxOutcome {
        hash: i.hash,
        index: i.index,
        success: i.success,
        gas_used: i.gas_used,
        logs: i.logs.clone(),
        messages: vec![],
    }
}

/// The jobs of one chain, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    jobs: BTreeMap<u64, Job>,
    next: u64,
}

impl Jobs {
    fn find(&self, id: &str) -> Result<u64, ControlError> {
        self.jobs.iter().find(|(_, j)| j.id == id).map(|(k, _)| *k).ok_or_else(|| ControlError::UnknownJob(id.into()))
    }
    fn trim(&mut self) {
        let finished: Vec<u64> = self.jobs.iter().filter(|(_, j)| j.state != JobState::Open).map(|(k, _)| *k).collect();
        for k in finished.iter().take(finished.len().saturating_sub(FINISHED_KEPT)) {
            self.jobs.remove(k);
        }
    }
}

type Fut<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

impl Handler<Control> for ChainBuilderActor {
    type Result = actix::AtomicResponse<Self, Result<Reply, ControlError>>;

    fn handle(&mut self, Control(op, span): Control, ctx: &mut Context<Self>) -> Self::Result {
        let builder = Arc::clone(&self.builder);
        let edges = self.edges.clone();
        let chain = builder.config().chain_id;
        let open = Arc::clone(&self.open);
        // Jobs an operation works on are taken out of the registry and put back when it ends
        // (atomically: no other message runs in between).
        let done = |r: Result<Reply, ControlError>| -> Fut<Result<Reply, ControlError>> { Box::pin(async move { r }) };
        let started = std::time::Instant::now();
        let name = op.name();
        let fut: actix::ResponseActFuture<Self, Result<Reply, ControlError>> = match op {
            Op::Open(opts) => {
                let open = self.jobs.jobs.values().filter(|j| j.state == JobState::Open).count();
                if open >= MAX_OPEN {
                    return actix::AtomicResponse::new(Box::pin(
                        done(Err(ControlError::TooManyJobs(MAX_OPEN))).into_actor(self),
                    ));
                }
                self.jobs.next += 1;
                let id = format!("job-{chain}-{}", self.jobs.next);
                let key = self.jobs.next;
                Box::pin(
                    async move { open_job(&builder, &edges, id, opts).await }
                        .instrument(span.clone())
                        .into_actor(self)
                        .map(move |r, act, _| {
                            let job = r?;
                            let view = job.view();
                            if act.builder.config().interop.is_some() {
                                // Other chains' includes at its timestamp may wait on its logs.
                                act.open.set(job.open_build(act.builder.config().chain_id));
                            }
                            act.jobs.jobs.insert(key, job);
                            act.jobs.trim();
                            Ok(Reply::Job(view))
                        }),
                )
            }
            Op::Include(id, what, force) => match self.take_open(&id, ControlError::IncludeAfterSeal) {
                Err(e) => Box::pin(done(Err(e)).into_actor(self)),
                Ok((key, mut job)) => Box::pin(
                    async move {
                        let r = include(&builder, &edges, &mut job, what, force, &open).await;
                        (job, r)
                    }
                    .instrument(span.clone())
                    .into_actor(self)
                    .map(move |(job, r), act, _| {
                        let view = job.view();
                        act.jobs.jobs.insert(key, job);
                        let (added, refused) = r?;
                        Ok(Reply::Included { added, refused, job: view })
                    }),
                ),
            },
            Op::Inspect(id) => match self.jobs.find(&id) {
                Err(e) => Box::pin(done(Err(e)).into_actor(self)),
                Ok(k) if self.jobs.jobs[&k].executed.is_some() || self.jobs.jobs[&k].state != JobState::Open => {
                    Box::pin(done(Ok(Reply::Job(self.jobs.jobs[&k].view()))).into_actor(self))
                }
                Ok(k) => {
                    // An open job nothing was included in yet: execute its deposit-only block.
                    let mut job = self.jobs.jobs.remove(&k).expect("found");
                    Box::pin(
                        async move {
                            let r = ensure_executed(&builder, &edges, &mut job).await;
                            (job, r)
                        }
                        .instrument(span.clone())
                        .into_actor(self)
                        .map(move |(job, r), act, _| {
                            let view = job.view();
                            act.jobs.jobs.insert(k, job);
                            r.map(|_| Reply::Job(view))
                        }),
                    )
                }
            },
            Op::Seal(id, and_commit) => match self.take_open(&id, ControlError::AlreadySealed) {
                Err(e) => Box::pin(done(Err(e)).into_actor(self)),
                Ok((key, mut job)) => Box::pin(
                    async move {
                        let r = seal_job(&builder, &edges, &mut job, and_commit).await;
                        (job, r)
                    }
                    .instrument(span.clone())
                    .into_actor(self)
                    .map(move |(job, r), act, _| {
                        if r.is_ok() {
                            act.open.remove(chain, &job.id);
                        }
                        act.jobs.jobs.insert(key, job);
                        act.jobs.trim();
                        r
                    }),
                ),
            },
            Op::Commit(id) => {
                let found = self.jobs.find(&id).and_then(|key| {
                    let job = &self.jobs.jobs[&key];
                    match (job.state, &job.sealed) {
                        (JobState::Sealed, Some((b, d))) => Ok((key, b.clone(), d.clone())),
                        (JobState::Open, _) => Err(ControlError::NotSealed(id.clone())),
                        (JobState::Committed, _) => Err(ControlError::AlreadyCommitted(id.clone())),
                        (JobState::Cancelled, _) => Err(ControlError::Cancelled(id.clone())),
                        (JobState::Sealed, None) => Err(OpseqError::fatal("sealed job without a block").into()),
                    }
                });
                match found {
                    Err(e) => Box::pin(done(Err(e)).into_actor(self)),
                    Ok((key, block, diff)) => Box::pin(
                        async move { commit(&edges, chain, block.clone(), diff, vec![]).await.map(|r| (block, r)) }
                            .instrument(span.clone())
                            .into_actor(self)
                            .map(move |r, act, _| {
                                let (block, reorged_out) = r?;
                                if let Some(j) = act.jobs.jobs.get_mut(&key) {
                                    j.state = JobState::Committed;
                                }
                                Ok(Reply::Sealed { block, committed: true, reorged_out })
                            }),
                    ),
                }
            }
            Op::Cancel(id) => {
                let r = match self.jobs.find(&id) {
                    Err(e) => Err(e),
                    Ok(k) => {
                        let job = self.jobs.jobs.get_mut(&k).expect("found");
                        match job.state {
                            JobState::Open => {
                                job.state = JobState::Cancelled;
                                self.open.cancel(chain, &job.id);
                                Ok(Reply::Job(job.view()))
                            }
                            JobState::Cancelled => Err(ControlError::Cancelled(id)),
                            JobState::Sealed | JobState::Committed => Err(ControlError::CancelAfterSeal(id)),
                        }
                    }
                };
                self.jobs.trim();
                Box::pin(done(r).into_actor(self))
            }
            Op::Close(id) => {
                let r = self.jobs.find(&id).map(|k| {
                    self.jobs.jobs.remove(&k);
                    self.open.cancel(chain, &id);
                    Reply::Done
                });
                Box::pin(done(r).into_actor(self))
            }
            Op::Jobs => {
                Box::pin(done(Ok(Reply::Jobs(self.jobs.jobs.values().map(Job::view).collect()))).into_actor(self))
            }
            Op::Simulate(id, txs) => match self.take_open(&id, ControlError::IncludeAfterSeal) {
                Err(e) => Box::pin(done(Err(e)).into_actor(self)),
                Ok((key, mut job)) => Box::pin(
                    async move {
                        let r = simulate(&builder, &edges, &mut job, txs).await;
                        (job, r)
                    }
                    .instrument(span.clone())
                    .into_actor(self)
                    .map(move |(job, r), act, _| {
                        act.jobs.jobs.insert(key, job);
                        r.map(Reply::Simulated)
                    }),
                ),
            },
            Op::Verify(id, from) => match self.take_open(&id, ControlError::IncludeAfterSeal) {
                Err(e) => Box::pin(done(Err(e)).into_actor(self)),
                Ok((key, job)) => Box::pin(
                    async move {
                        let r = verify(&builder, &edges, &job, from, &open).await;
                        (job, r)
                    }
                    .instrument(span.clone())
                    .into_actor(self)
                    .map(move |(job, r), act, _| {
                        act.jobs.jobs.insert(key, job);
                        Ok(Reply::Verified(r))
                    }),
                ),
            },
            Op::Truncate(id, n, reason) => match self.take_open(&id, ControlError::IncludeAfterSeal) {
                Err(e) => Box::pin(done(Err(e)).into_actor(self)),
                Ok((key, mut job)) => Box::pin(
                    async move {
                        let r = truncate(&builder, &edges, &open, &mut job, n, &reason).await;
                        (job, r)
                    }
                    .instrument(span.clone())
                    .into_actor(self)
                    .map(move |(job, r), act, _| {
                        let view = job.view();
                        act.jobs.jobs.insert(key, job);
                        r.map(|()| Reply::Job(view))
                    }),
                ),
            },
            Op::Auto(active, interval) => {
                // Persisted first: a restarted sequencer keeps the mode it was told to have.
                let mode = crate::persist::AutoMode { active, interval_ms: interval.map(|d| d.as_millis() as u64) };
                if let Err(e) = self.state.set(chain, mode) {
                    return actix::AtomicResponse::new(Box::pin(done(Err(e.into())).into_actor(self)));
                }
                self.auto = active;
                self.interval = interval;
                self.generation += 1;
                if active {
                    let generation = self.generation;
                    ctx.notify(BuildNext(generation));
                }
                Box::pin(done(Ok(Reply::Auto { active, interval })).into_actor(self))
            }
            Op::Hold(held) => {
                self.held = held;
                if !held && self.auto {
                    self.generation += 1;
                    ctx.notify(BuildNext(self.generation));
                }
                Box::pin(done(Ok(Reply::Auto { active: self.auto, interval: self.interval })).into_actor(self))
            }
            Op::AutoStatus => {
                Box::pin(done(Ok(Reply::Auto { active: self.auto, interval: self.interval })).into_actor(self))
            }
            Op::SetHead(hash) => Box::pin(
                async move {
                    if edges.state.block_by_hash(chain, hash).await?.is_none() {
                        return Err(ControlError::Invalid(format!("unknown block {hash}")));
                    }
                    let removed = edges.state.set_head(chain, hash).await?;
                    reinject(&edges, chain, &removed).await;
                    Ok(Reply::Reorged(removed))
                }
                .instrument(span.clone())
                .into_actor(self),
            ),
        };
        actix::AtomicResponse::new(Box::pin(fut.map(move |r, act, _| {
            let chain_id = act.builder.config().chain_id;
            tracing::debug!(target: "opseq::builder::jobs", chain_id, op = name, took = ?started.elapsed(), ok = r.is_ok(), "control");
            metrics::histogram!("opseq_builder_control_seconds", "op" => name).record(started.elapsed().as_secs_f64());
            r
        })))
    }
}

impl ChainBuilderActor {
    /// Takes an open job out of the registry; `after_seal` is the error for a sealed job.
    fn take_open(&mut self, id: &str, after_seal: impl Fn(String) -> ControlError) -> Result<(u64, Job), ControlError> {
        let k = self.jobs.find(id)?;
        match self.jobs.jobs[&k].state {
            JobState::Open => Ok((k, self.jobs.jobs.remove(&k).expect("found"))),
            JobState::Cancelled => Err(ControlError::Cancelled(id.into())),
            JobState::Sealed | JobState::Committed => Err(after_seal(id.into())),
        }
    }
}

async fn open_job(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    id: String,
    opts: OpenOpts,
) -> Result<Job, ControlError> {
    let config = builder.config();
    let chain = config.chain_id;
    let parent = match opts.parent {
        Some(h) => edges
            .state
            .block_by_hash(chain, h)
            .await?
            .ok_or_else(|| ControlError::Invalid(format!("unknown parent block {h} on chain {chain}")))?,
        None => {
            let head = edges.state.head(chain).await?;
            edges
                .state
                .block_by_number(chain, head.number)
                .await?
                .ok_or_else(|| OpseqError::transient("head block missing"))?
        }
    };
    let timestamp = opts.timestamp.unwrap_or(parent.header.timestamp + config.block_time);
    if timestamp <= parent.header.timestamp {
        return Err(ControlError::Invalid(format!(
            "timestamp {timestamp} is not after the parent's ({})",
            parent.header.timestamp
        )));
    }
    let l1_origin = match (config.l1_chain_id.filter(|_| config.is_l2()), opts.l1_origin) {
        (None, Some(_)) => {
            return Err(ControlError::Invalid(format!("chain {chain} is an L1 chain: it has no L1 origin")));
        }
        (None, None) => None,
        (Some(l1), None) => Some(l1_origin(edges, chain, l1, &parent, timestamp).await?),
        (Some(l1), Some(h)) => {
            let b = edges
                .state
                .block_by_hash(l1, h)
                .await?
                .ok_or_else(|| ControlError::Invalid(format!("unknown L1 origin {h} on chain {l1}")))?;
            // As op-test-sequencer (TestSkipL1OriginCheck), any known L1 block may be the origin;
            // the sequence number follows the parent's epoch when the origin stays.
            let genesis_epoch = parent.header.number == 0 && b.header.number == 0;
            let sequence_number = if parent.l1_origin.is_some_and(|o| o.hash == h) || genesis_epoch {
                crate::chain::next_sequence_number(&parent)?
            } else {
                0
            };
            Some(crate::chain::origin(b, sequence_number, chain)?)
        }
    };
    if let Some(o) = &l1_origin
        && o.header.timestamp > timestamp
    {
        return Err(ControlError::Invalid(format!(
            "L1 origin {} has timestamp {}, after the block's {timestamp} (l2.time >= l1origin.time)",
            o.hash, o.header.timestamp
        )));
    }
    if config.is_l2() && opts.overrides != opseq_executor::HeaderOverrides::default() {
        return Err(ControlError::Invalid(format!(
            "chain {chain} is an L2: prevRandao, parentBeaconBlockRoot, feeRecipient, extraData and gasLimit follow from the L1 origin and the protocol"
        )));
    }
    if opts.overrides.extra_data.as_ref().is_some_and(|x| x.len() > 32) {
        return Err(ControlError::Invalid("extraData is longer than 32 bytes".into()));
    }
    if opts.overrides.gas_limit.is_some_and(|g| g < 5000) {
        return Err(ControlError::Invalid("gasLimit must be at least 5000".into()));
    }
    let next = NextBlock {
        parent: parent.header.clone(),
        parent_hash: parent.hash,
        timestamp,
        l1_origin,
        overrides: opts.overrides,
    };
    let (reader, head_at) = reader_for(edges, chain, &parent).await?;
    let template = builder.input_for(&next).template;
    let _ = edges
        .shreds
        .publish(opseq_primitives::Shred::Opened {
            chain_id: chain,
            block_number: template.number,
            build_id: id.clone(),
            template: Box::new(template.clone()),
        })
        .await;
    Ok(Job {
        id,
        state: JobState::Open,
        parent,
        next,
        chosen: vec![],
        executed: None,
        template,
        reader,
        head_at,
        sealed: None,
        deps: vec![],
    })
}

/// Re-reads through a fresh overlay if the head moved since the job last read.
async fn refresh(edges: &opseq_interfaces::Edges, chain: ChainId, job: &mut Job) -> Result<(), ControlError> {
    if edges.state.head(chain).await?.hash != job.head_at {
        let (reader, head_at) = reader_for(edges, chain, &job.parent).await?;
        job.reader = reader;
        job.head_at = head_at;
    }
    Ok(())
}

/// The sender of a raw tx (no pool rules: only decoding and the signature).
fn recover(l2: bool, raw: &[u8]) -> Result<Address, String> {
    use alloy_consensus::transaction::SignerRecoverable;
    if l2 {
        let tx = OpTxEnvelope::decode_2718_exact(raw).map_err(|e| format!("undecodable transaction: {e}"))?;
        if tx.is_deposit() {
            return Err("deposit transactions come from L1 and cannot be included".into());
        }
        tx.recover_signer().map_err(|e| format!("invalid signature: {e}"))
    } else {
        let tx =
            alloy_consensus::TxEnvelope::decode_2718_exact(raw).map_err(|e| format!("undecodable transaction: {e}"))?;
        tx.recover_signer().map_err(|e| format!("invalid signature: {e}"))
    }
}

async fn include(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    job: &mut Job,
    what: Include,
    force: bool,
    open: &crate::interop::OpenBuilds,
) -> Result<(Vec<TxOutcome>, Vec<Refused>), ControlError> {
    let chain = builder.config().chain_id;
    let in_block: std::collections::HashSet<B256> =
        job.executed.as_ref().map(|e| e.tx_hashes.iter().copied().collect()).unwrap_or_default();
    let pending =
        if matches!(what, Include::Bundle(_)) { crate::interop::Pending::Edge } else { crate::interop::Pending::Wait };
    let all = matches!(what, Include::Bundle(_));
    let (candidates, single) = match what {
        Include::Bundle(raws) => {
            let mut c = Vec::with_capacity(raws.len());
            for raw in raws {
                let sender = recover(builder.config().is_l2(), &raw)
                    .map_err(|e| ControlError::Refused(format!("{}: {e}", alloy_primitives::keccak256(&raw))))?;
                c.push((raw, sender));
            }
            if c.is_empty() {
                return Err(ControlError::Invalid("a bundle leg needs at least one transaction".into()));
            }
            (c, true)
        }
        Include::Raw(raw) => {
            let sender = recover(builder.config().is_l2(), &raw).map_err(ControlError::Refused)?;
            (vec![(raw, sender)], true)
        }
        Include::Hash(h) => {
            let tx = edges
                .txs
                .get(chain, h)
                .await?
                .ok_or_else(|| ControlError::Refused(format!("{h} is not in the pool")))?;
            (vec![(tx.raw, tx.sender)], true)
        }
        Include::First(a) => {
            let tx = edges
                .txs
                .best(chain, 0, crate::chain::MAX_TXS_PER_BLOCK)
                .await?
                .into_iter()
                .find(|t| t.sender == a && !in_block.contains(&t.hash))
                .ok_or_else(|| ControlError::Refused(format!("no executable pooled transaction from {a}")))?;
            (vec![(tx.raw, tx.sender)], true)
        }
        Include::Best(n) => {
            let base_fee = job.template.base_fee_per_gas.unwrap_or_default();
            let txs = edges.txs.best(chain, base_fee, n + in_block.len()).await?;
            let picked: Vec<_> =
                txs.into_iter().filter(|t| !in_block.contains(&t.hash)).take(n).map(|t| (t.raw, t.sender)).collect();
            (picked, false)
        }
    };
    if candidates.iter().any(|(raw, _)| in_block.contains(&alloy_primitives::keccak256(raw))) {
        return Err(ControlError::Refused("the transaction is already in this block".into()));
    }
    if builder.config().interop.is_some() && !force {
        for (raw, _) in &candidates {
            crate::interop::check_inbox_entries(raw).map_err(|e| {
                ControlError::Refused(format!(
                    "{}: malformed CrossL2Inbox access list: {e}",
                    alloy_primitives::keccak256(raw)
                ))
            })?;
        }
    }
    refresh(edges, chain, job).await?;
    // Forced first: the L1-info deposit (L2) and the txs already chosen; shreds for what the
    // stream has not seen (the deposit too, the first time).
    let shredded = job.executed.as_ref().map_or(0, |e| e.included.len() as u64);
    let started = std::time::Instant::now();
    // Where reads wait on another process or node, fetch what the new txs name in batches
    // (reads in place are as cheap one at a time).
    if !edges.state.reads_in_place(chain) {
        crate::chain::prepare(builder, edges, &job.reader, &job.next, &job.chosen, &candidates).await?;
    }
    let t_prepare = started.elapsed();
    let wanted: std::collections::HashSet<B256> =
        candidates.iter().map(|(raw, _)| alloy_primitives::keccak256(raw)).collect();
    let executed =
        execute(builder, edges, &job.reader, &job.next, job.chosen.clone(), candidates.clone(), shredded).await?;
    let t_execute = started.elapsed();
    let txs = executed.included.len();
    let r = if all && !executed.rejected.is_empty() {
        let r = &executed.rejected[0];
        Err(ControlError::Refused(format!("{}: {}", r.hash, r.reason)))
    } else {
        check_new(builder, edges, job, executed, &wanted, candidates, single, force, open, pending).await
    };
    tracing::debug!(target: "opseq::builder::jobs", chain_id = chain, job = %job.id, txs, prepare = ?t_prepare, execute = ?(t_execute - t_prepare), checks = ?(started.elapsed() - t_execute), "include timings");
    if r.is_err() && txs as u64 > shredded {
        // The stream saw inclusions the job does not keep.
        let _ = edges
            .shreds
            .publish(opseq_primitives::Shred::RolledBack {
                chain_id: chain,
                block_number: job.next.parent.number + 1,
                from_index: shredded,
            })
            .await;
    }
    r
}

/// The rest of [`include`], once the txs were executed: the interop checks of the new txs, and
/// the job's new state (taking `executed`) when they pass.
#[allow(clippy::too_many_arguments)]
async fn check_new(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    job: &mut Job,
    executed: Executed,
    wanted: &std::collections::HashSet<B256>,
    candidates: Vec<(alloy_primitives::Bytes, Address)>,
    single: bool,
    force: bool,
    open: &crate::interop::OpenBuilds,
    pending: crate::interop::Pending,
) -> Result<(Vec<TxOutcome>, Vec<Refused>), ControlError> {
    let chain = builder.config().chain_id;
    let mut added: Vec<TxOutcome> =
        executed.included.iter().filter(|i| wanted.contains(&i.hash)).map(outcome).collect();
    // Interop: every executing message the new txs' receipts record is checked; an invalid one
    // refuses the include (the job unchanged) unless forced.
    if let Some(rules) = &builder.config().interop {
        let txs: Vec<&[alloy_primitives::Log]> = executed.included.iter().map(|i| i.logs.as_slice()).collect();
        let number = job.next.parent.number + 1;
        let within = crate::interop::Within { chain, number, open: Some(open), job: Some(&job.id), pending };
        let which = |i: usize| wanted.contains(&executed.included[i].hash);
        let checks = crate::interop::check_txs(edges, rules, job.next.timestamp, within, &txs, which).await;
        let mut checks: std::collections::HashMap<B256, _> =
            executed.included.iter().map(|i| i.hash).zip(checks).collect();
        // Messages of blocks open at this timestamp are edges of their log graph, which must
        // stay acyclic.
        let mut builds: Vec<crate::interop::OpenBuild> =
            open.at(job.next.timestamp).into_iter().filter(|b| !(b.chain == chain && b.job == job.id)).collect();
        builds.push(job.open_build(chain));
        let mut new_deps = Vec::new();
        for o in &mut added {
            o.messages = checks.remove(&o.hash).unwrap_or_default();
            for c in &mut o.messages {
                if let Some(d) = c.dep {
                    if crate::interop::closes_cycle(&builds, chain, d.exec_pos, d.init_chain, d.init_index) {
                        c.invalid = Some(format!(
                            "cycle: log {} of chain {}'s open block depends on this block's log {}, which executes it",
                            d.init_index, d.init_chain, d.exec_pos
                        ));
                    } else {
                        builds.last_mut().expect("pushed above").deps.push(d);
                        new_deps.push(d);
                    }
                }
            }
            let bad = crate::interop::reasons(&o.messages);
            if !bad.is_empty() && !force {
                return Err(ControlError::Refused(format!(
                    "{}: invalid executing message: {} (include with force to build it anyway)",
                    o.hash,
                    bad.join("; ")
                )));
            }
        }
        job.deps.extend(new_deps);
    }
    let refused: Vec<Refused> =
        executed.rejected.iter().map(|r| Refused { hash: r.hash, reason: r.reason.clone() }).collect();
    if single && added.is_empty() {
        let r = refused.first().map(|r| format!("{}: {}", r.hash, r.reason)).unwrap_or_default();
        return Err(ControlError::Refused(r));
    }
    let added_hashes: std::collections::HashSet<B256> = added.iter().map(|a| a.hash).collect();
    job.chosen
        .extend(candidates.into_iter().filter(|(raw, _)| added_hashes.contains(&alloy_primitives::keccak256(raw))));
    job.executed = Some(executed);
    if builder.config().interop.is_some() {
        open.set(job.open_build(chain));
    }
    Ok((added, refused))
}

/// Another chain's open block lost logs ([`crate::interop::Truncated`]): every open job of this
/// chain at that timestamp that executed a lost log is cut back to before its first such tx
/// (the rollback cascade of interop.md §4), which may cut others in turn.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Cascade(pub(crate) crate::interop::Truncated);

impl Handler<Cascade> for ChainBuilderActor {
    type Result = ();
    fn handle(&mut self, Cascade(t): Cascade, ctx: &mut Context<Self>) {
        let keys: Vec<u64> = self
            .jobs
            .jobs
            .iter()
            .filter(|(_, j)| {
                j.state == JobState::Open && j.next.timestamp == t.timestamp && j.deps.iter().any(|d| t.hits(d))
            })
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let Some(mut job) = self.jobs.jobs.remove(&key) else { continue };
            let (builder, edges, open) = (Arc::clone(&self.builder), self.edges.clone(), Arc::clone(&self.open));
            // `wait`: nothing else runs on this chain until the job is cut back.
            ctx.wait(
                async move {
                    if let Err(e) = cut_back(&builder, &edges, &open, &mut job, t).await {
                        tracing::error!(target: "opseq::builder::jobs", job = %job.id, error = %e, "could not cut back a job whose dependency was rolled back");
                    }
                    job
                }
                .into_actor(self)
                .map(move |job, act, _| {
                    act.jobs.jobs.insert(key, job);
                }),
            );
        }
    }
}

/// [`Op::Simulate`]: `txs` run after the job's txs on its state, nothing kept.
async fn simulate(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    job: &mut Job,
    txs: Vec<opseq_executor::simulate::SimTx>,
) -> Result<Simulated, ControlError> {
    let executed = ensure_executed(builder, edges, job).await?;
    let prefix: Vec<(Bytes, Address)> =
        executed.transactions.iter().cloned().zip(executed.senders.iter().copied()).collect();
    let (b, reader, header) = (Arc::clone(builder), Arc::clone(&job.reader), executed.header.clone());
    let span = tracing::Span::current();
    let outcomes = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        b.simulate(&*reader, &header, &prefix, &txs)
    })
    .await
    .map_err(|e| OpseqError::fatal(format!("executor panicked: {e}")))?
    .map_err(|e| ControlError::Refused(e.to_string()))?;
    Ok(Simulated {
        number: executed.header.number,
        timestamp: executed.header.timestamp,
        base_fee: executed.header.base_fee_per_gas.unwrap_or_default(),
        txs: executed.included.len(),
        logs: executed.included.iter().map(|i| i.logs.len()).sum(),
        outcomes,
    })
}

/// [`Op::Verify`]: the reasons the executing messages of the job's txs from index `from` on are
/// invalid now (none: valid), a log of another open block that is not there included.
async fn verify(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    job: &Job,
    from: usize,
    open: &crate::interop::OpenBuilds,
) -> Vec<String> {
    let (Some(rules), Some(executed)) = (&builder.config().interop, &job.executed) else { return vec![] };
    let chain = builder.config().chain_id;
    let txs: Vec<&[Log]> = executed.included.iter().map(|i| i.logs.as_slice()).collect();
    let number = job.next.parent.number + 1;
    // No job: a log that is not there is not waited for.
    let within =
        crate::interop::Within { chain, number, open: Some(open), job: None, pending: crate::interop::Pending::Wait };
    let checks = crate::interop::check_txs(edges, rules, job.next.timestamp, within, &txs, |i| i >= from).await;
    checks
        .iter()
        .enumerate()
        .flat_map(|(i, c)| crate::interop::reasons(c).into_iter().map(move |r| format!("tx {i}: {r}")))
        .collect()
}

/// [`Op::Truncate`]: the job cut back to its first `n` txs.
async fn truncate(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    open: &crate::interop::OpenBuilds,
    job: &mut Job,
    n: usize,
    reason: &str,
) -> Result<(), ControlError> {
    let Some(executed) = &job.executed else { return Ok(()) };
    let forced = executed.included.len() - job.chosen.len();
    if n < forced {
        return Err(ControlError::Invalid(format!("the first {forced} txs of the block are its deposits")));
    }
    if n >= executed.included.len() {
        return Ok(());
    }
    let logs_before = executed.included[..n].iter().map(|i| i.logs.len()).sum();
    cut_to(builder, edges, open, job, n, logs_before, reason).await
}

/// Cuts `job` back to before its first tx that executes a log `t` says is lost; announces its
/// own lost logs in turn.
async fn cut_back(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    open: &crate::interop::OpenBuilds,
    job: &mut Job,
    t: crate::interop::Truncated,
) -> Result<(), ControlError> {
    let Some(first) = job.deps.iter().filter(|d| t.hits(d)).map(|d| d.exec_pos).min() else {
        return Ok(());
    };
    let Some(executed) = &job.executed else { return Ok(()) };
    // The tx holding log `first`, and the logs before it.
    let (mut logs_before, mut tx) = (0usize, None);
    for (i, inc) in executed.included.iter().enumerate() {
        if first < logs_before + inc.logs.len() {
            tx = Some(i);
            break;
        }
        logs_before += inc.logs.len();
    }
    let Some(tx) = tx else { return Ok(()) };
    let reason = format!("a log its txs executed was rolled back on chain {}", t.chain);
    cut_to(builder, edges, open, job, tx, logs_before, &reason).await
}

/// Cuts `job` back to its first `tx` txs (which emitted `logs_before` logs), announcing the
/// inclusions it lost on the shred stream and its lost logs to the blocks that executed them.
async fn cut_to(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    open: &crate::interop::OpenBuilds,
    job: &mut Job,
    tx: usize,
    logs_before: usize,
    reason: &str,
) -> Result<(), ControlError> {
    let chain = builder.config().chain_id;
    let Some(executed) = &job.executed else { return Ok(()) };
    let forced = executed.included.len() - job.chosen.len();
    let dropped = job.chosen.len() - tx.saturating_sub(forced);
    job.chosen.truncate(tx.saturating_sub(forced));
    job.deps.retain(|d| d.exec_pos < logs_before);
    refresh(edges, chain, job).await?;
    let n = job.chosen.len() as u64 + forced as u64;
    job.executed = Some(execute(builder, edges, &job.reader, &job.next, job.chosen.clone(), vec![], n).await?);
    let build = job.open_build(chain);
    let keep = build.logs.len();
    open.set(build);
    tracing::warn!(target: "opseq::builder::jobs", chain_id = chain, job = %job.id, dropped, %reason, "rolled back");
    // Consumers of this chain's shreds drop the inclusions from `tx` on (interop.md §4).
    let _ = edges
        .shreds
        .publish(opseq_primitives::Shred::RolledBack {
            chain_id: chain,
            block_number: job.next.parent.number + 1,
            from_index: tx as u64,
        })
        .await;
    open.truncated(crate::interop::Truncated {
        chain,
        number: job.next.parent.number + 1,
        timestamp: job.next.timestamp,
        keep,
    });
    Ok(())
}

/// Builds, seals and commits the deposit-only block `opts` describes (a replacement).
pub(crate) async fn deposit_only(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    opts: OpenOpts,
) -> Result<SealedBlock, OpseqError> {
    let edge = |e: ControlError| match e {
        ControlError::Edge(e) => e,
        other => OpseqError::fatal(other.to_string()),
    };
    let id = format!("replacement-{}", builder.config().chain_id);
    let mut job = open_job(builder, edges, id, opts).await.map_err(edge)?;
    match seal_job(builder, edges, &mut job, true).await.map_err(edge)? {
        Reply::Sealed { block, .. } => Ok(block),
        _ => Err(OpseqError::fatal("sealing answered something else than a block")),
    }
}

/// The job's execution, running it (the deposit-only block) if nothing was included yet.
async fn ensure_executed(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    job: &mut Job,
) -> Result<Executed, ControlError> {
    if let Some(e) = &job.executed {
        return Ok(e.clone());
    }
    refresh(edges, builder.config().chain_id, job).await?;
    let e = execute(builder, edges, &job.reader, &job.next, vec![], vec![], 0).await?;
    job.executed = Some(e.clone());
    Ok(e)
}

async fn seal_job(
    builder: &Arc<opseq_executor::BlockBuilder>,
    edges: &opseq_interfaces::Edges,
    job: &mut Job,
    and_commit: bool,
) -> Result<Reply, ControlError> {
    let chain = builder.config().chain_id;
    let started = std::time::Instant::now();
    let executed = ensure_executed(builder, edges, job).await?;
    let (block, diff) = seal(builder, edges, &job.parent, executed).await?;
    let t_seal = started.elapsed();
    let reorged_out = if and_commit {
        commit(edges, chain, block.clone(), diff.clone(), vec![]).await?
    } else {
        edges.state.keep(chain, block.clone(), diff.clone()).await?;
        vec![]
    };
    tracing::debug!(target: "opseq::builder::jobs", chain_id = chain, job = %job.id, roots_seal_sign = ?t_seal, commit = ?(started.elapsed() - t_seal), "job sealed");
    job.state = if and_commit { JobState::Committed } else { JobState::Sealed };
    job.sealed = Some((block.clone(), diff));
    Ok(Reply::Sealed { block, committed: and_commit, reorged_out })
}
