//! Executing messages: what a builder checks of a tx's `ExecutingMessage` logs before including
//! it (OP specs `interop/messaging.md`, `derivation.md`; `../shared/reference/interop.md` §2).
//! The verifier derives executing messages from receipt logs, not from access lists, and so does
//! this: a tx whose inbox call reverted executed nothing.
use alloy_primitives::{B256, Log};
use opseq_interfaces::{Edges, ShredBus};
use opseq_primitives::{
    InteropConfig, Shred, ShredDep, ShredLog,
    interop::{ExecutingMessage, Identifier, executing_message, message_hash},
};

/// One executing message of a tx, and what is wrong with it, if anything.
#[derive(Debug, Clone)]
pub struct MessageCheck {
    /// The message (`None` for a log too malformed to decode).
    pub message: Option<ExecutingMessage>,
    /// Why it is invalid; `None` when valid.
    pub invalid: Option<String>,
    /// When it executes a log of another chain's block still being built at the same timestamp:
    /// that edge of the log graph.
    pub dep: Option<Dep>,
}

/// An edge of the log graph between blocks built at one timestamp: the log at `init_index` of
/// `init_chain`'s open block is executed by the log at `exec_pos` of this block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dep {
    /// Where the executing message's log is in this block (block-global index).
    pub exec_pos: usize,
    /// The initiating chain.
    pub init_chain: u64,
    /// The initiating log's block-global index.
    pub init_index: u32,
}

/// A block being built (an open job) as other chains' builders see it: for messages between
/// blocks at one timestamp, which no store has yet. One registry per builder process, shared by
/// its chains' actors.
#[derive(Debug, Clone)]
pub struct OpenBuild {
    /// Its chain.
    pub chain: u64,
    /// Its job.
    pub job: String,
    /// Its number.
    pub number: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// Its logs so far, in block order.
    pub logs: Vec<Log>,
    /// The logs of other open blocks at its timestamp it executes.
    pub deps: Vec<Dep>,
}

/// An open block lost logs (it was cancelled, `keep` 0, or cut back to its first `keep` logs):
/// blocks at its timestamp that executed a lost log must cut themselves back too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated {
    /// The block's chain.
    pub chain: u64,
    /// Its number.
    pub number: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// How many of its logs remain.
    pub keep: usize,
}

impl Truncated {
    /// Whether `d` executes one of the lost logs.
    pub fn hits(&self, d: &Dep) -> bool {
        d.init_chain == self.chain && d.init_index as usize >= self.keep
    }
}

/// Every open build this process knows: its own chains' (announced on the shred bus as
/// [`Shred::BuildView`] / [`Shred::BuildEnded`]) and, with `--builder.peers`, those of builder
/// processes it follows ([`OpenBuilds::apply`]; never announced again).
#[derive(Debug)]
pub struct OpenBuilds {
    builds: parking_lot::RwLock<std::collections::HashMap<(u64, String), OpenBuild>>,
    /// Woken on every change: includes waiting for a log of another open block.
    changed: tokio::sync::Notify,
    /// How long an include waits for a log of another open block at its timestamp.
    wait: std::time::Duration,
    /// Lost logs, for the chain actors with blocks that executed them (rollback cascade).
    events: tokio::sync::broadcast::Sender<Truncated>,
    /// Where changes to this process's own builds go, in order (to the shred bus).
    announce: Option<tokio::sync::mpsc::UnboundedSender<Shred>>,
}

impl Default for OpenBuilds {
    fn default() -> Self {
        Self::new(std::time::Duration::from_millis(2_000))
    }
}

impl OpenBuilds {
    /// A registry whose includes wait up to `wait` for a log not included yet.
    pub fn new(wait: std::time::Duration) -> Self {
        Self {
            builds: Default::default(),
            changed: tokio::sync::Notify::new(),
            wait,
            events: tokio::sync::broadcast::channel(1024).0,
            announce: None,
        }
    }

    /// [`OpenBuilds::new`], announcing every change to this process's builds on `bus` (from a
    /// task of the current tokio runtime, in order).
    pub fn announcing(wait: std::time::Duration, bus: std::sync::Arc<dyn ShredBus>) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Shred>();
        tokio::spawn(async move {
            while let Some(s) = rx.recv().await {
                if let Err(e) = bus.publish(s).await {
                    tracing::warn!(target: "opseq::builder::interop", error = %e, "could not announce an open build");
                }
            }
        });
        Self { announce: Some(tx), ..Self::new(wait) }
    }

    fn announce(&self, s: Shred) {
        if let Some(tx) = &self.announce {
            let _ = tx.send(s);
        }
    }

    /// Lost logs of open blocks, as they happen.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Truncated> {
        self.events.subscribe()
    }

    /// Announces that an open block lost logs.
    pub fn truncated(&self, t: Truncated) {
        let _ = self.events.send(t);
    }

    /// Forgets a cancelled (or closed) job's build and announces its logs lost.
    pub fn cancel(&self, chain: u64, job: &str) {
        self.end(chain, job, true);
    }

    /// Forgets a job's build (sealed: its logs stand in the store).
    pub fn remove(&self, chain: u64, job: &str) {
        self.end(chain, job, false);
    }

    fn end(&self, chain: u64, job: &str, lost: bool) {
        let gone = self.builds.write().remove(&(chain, job.to_string()));
        self.changed.notify_waiters();
        if let Some(b) = gone {
            self.announce(Shred::BuildEnded {
                chain_id: chain,
                block_number: b.number,
                build_id: b.job.clone(),
                timestamp: b.timestamp,
                lost,
            });
            if lost {
                self.truncated(Truncated { chain, number: b.number, timestamp: b.timestamp, keep: 0 });
            }
        }
    }

    /// Records (or replaces) a job's build.
    pub fn set(&self, build: OpenBuild) {
        let view = {
            let mut builds = self.builds.write();
            let key = (build.chain, build.job.clone());
            let keep =
                builds.get(&key).map_or(0, |old| old.logs.iter().zip(&build.logs).take_while(|(a, b)| a == b).count());
            let view = self.announce.is_some().then(|| view_of(&build, keep));
            builds.insert(key, build);
            view
        };
        self.changed.notify_waiters();
        if let Some(v) = view {
            self.announce(v);
        }
    }

    /// Adds an edge to a job's build (created empty if it has none yet): a message its block is
    /// waiting to see included, which other blocks' cycle checks must count already.
    fn add_dep(&self, chain: u64, job: &str, number: u64, timestamp: u64, dep: Dep) {
        let view = {
            let mut builds = self.builds.write();
            let b = builds.entry((chain, job.to_string())).or_insert_with(|| OpenBuild {
                chain,
                job: job.to_string(),
                number,
                timestamp,
                logs: vec![],
                deps: vec![],
            });
            b.deps.push(dep);
            self.announce.is_some().then(|| view_of(b, b.logs.len()))
        };
        if let Some(v) = view {
            self.announce(v);
        }
    }

    fn remove_dep(&self, chain: u64, job: &str, dep: Dep) {
        let view = {
            let mut builds = self.builds.write();
            let Some(b) = builds.get_mut(&(chain, job.to_string())) else { return };
            let Some(i) = b.deps.iter().position(|d| *d == dep) else { return };
            b.deps.remove(i);
            self.announce.is_some().then(|| view_of(b, b.logs.len()))
        };
        if let Some(v) = view {
            self.announce(v);
        }
    }

    /// Applies a shred of another builder process's open build (`BuildView`, `BuildEnded`; other
    /// shreds are ignored): waiting includes wake, and lost logs cascade like local ones.
    /// Returns the build it touched, if any.
    pub fn apply(&self, s: &Shred) -> Option<(u64, String)> {
        match s {
            Shred::BuildView { chain_id, block_number, build_id, timestamp, keep_logs, logs, deps } => {
                let lost = {
                    let mut builds = self.builds.write();
                    let b = builds.entry((*chain_id, build_id.clone())).or_insert_with(|| OpenBuild {
                        chain: *chain_id,
                        job: build_id.clone(),
                        number: *block_number,
                        timestamp: *timestamp,
                        logs: vec![],
                        deps: vec![],
                    });
                    let keep = (*keep_logs as usize).min(b.logs.len());
                    let lost = keep < b.logs.len();
                    b.logs.truncate(keep);
                    b.logs.extend(logs.iter().map(|l| Log::new_unchecked(l.address, l.topics.clone(), l.data.clone())));
                    b.deps = deps
                        .iter()
                        .map(|d| Dep {
                            exec_pos: d.exec_log_index as usize,
                            init_chain: d.chain_id,
                            init_index: d.log_index,
                        })
                        .collect();
                    lost.then_some(keep)
                };
                self.changed.notify_waiters();
                if let Some(keep) = lost {
                    self.truncated(Truncated { chain: *chain_id, number: *block_number, timestamp: *timestamp, keep });
                }
                Some((*chain_id, build_id.clone()))
            }
            Shred::BuildEnded { chain_id, block_number, build_id, timestamp, lost } => {
                let gone = self.builds.write().remove(&(*chain_id, build_id.clone()));
                self.changed.notify_waiters();
                if gone.is_some() && *lost {
                    self.truncated(Truncated {
                        chain: *chain_id,
                        number: *block_number,
                        timestamp: *timestamp,
                        keep: 0,
                    });
                }
                Some((*chain_id, build_id.clone()))
            }
            _ => None,
        }
    }

    /// One job's build.
    pub fn get(&self, chain: u64, job: &str) -> Option<OpenBuild> {
        self.builds.read().get(&(chain, job.to_string())).cloned()
    }

    /// What the open blocks of `chain` at height `number` and `timestamp` say of their log
    /// `log_index` (without copying their logs: this runs once per executing message).
    fn lookup(&self, chain: u64, number: u64, timestamp: u64, log_index: u32) -> Lookup {
        let builds = self.builds.read();
        let mut found = builds.values().filter(|b| b.chain == chain && b.number == number && b.timestamp == timestamp);
        let Some(b) = found.next() else { return Lookup::None };
        let others = found.count();
        if others > 0 {
            return Lookup::Ambiguous(others + 1);
        }
        match b.logs.get(log_index as usize) {
            Some(l) => Lookup::Log(l.clone()),
            None => Lookup::NotYet(b.logs.len()),
        }
    }

    /// The open builds at `timestamp` (any chain).
    pub fn at(&self, timestamp: u64) -> Vec<OpenBuild> {
        self.builds.read().values().filter(|b| b.timestamp == timestamp).cloned().collect()
    }
}

/// [`OpenBuilds::lookup`]'s answer.
enum Lookup {
    /// No such open block.
    None,
    /// This many open blocks at that height.
    Ambiguous(usize),
    /// The log.
    Log(Log),
    /// Not included yet: the block has this many logs.
    NotYet(usize),
}

/// A build as a `BuildView` shred whose first `keep` logs the last view had.
fn view_of(b: &OpenBuild, keep: usize) -> Shred {
    Shred::BuildView {
        chain_id: b.chain,
        block_number: b.number,
        build_id: b.job.clone(),
        timestamp: b.timestamp,
        keep_logs: keep as u64,
        logs: b.logs[keep..]
            .iter()
            .map(|l| ShredLog { address: l.address, topics: l.topics().to_vec(), data: l.data.data.clone() })
            .collect(),
        deps: b
            .deps
            .iter()
            .map(|d| ShredDep { exec_log_index: d.exec_pos as u64, chain_id: d.init_chain, log_index: d.init_index })
            .collect(),
    }
}

/// Follows another builder process's shred bus (`--builder.peers`): its open builds join
/// `open` (this process's chains' are skipped), so includes here check messages of blocks it
/// builds at the same timestamp, wait for their logs, count their edges in cycle checks, and
/// cut back when they lose logs. Resumes after a broken stream from the last sequence number
/// it saw; when the peer restarted (its numbers begin again), the builds it had are lost.
pub fn follow_peer(
    open: std::sync::Arc<OpenBuilds>,
    peer: std::sync::Arc<dyn ShredBus>,
    name: String,
    local: std::collections::HashSet<u64>,
) -> tokio::task::JoinHandle<()> {
    use futures::StreamExt;
    tokio::spawn(async move {
        let mut last = 0u64;
        let mut from_now = false;
        let mut mirrored: std::collections::HashMap<(u64, String), (u64, u64)> = Default::default();
        loop {
            // From the start of its history at first (builds opened before this process), then
            // from where the stream broke.
            let from = if from_now { 0 } else { last + 1 };
            match peer.subscribe_from(None, from).await {
                Ok(mut stream) => {
                    from_now = false;
                    tracing::info!(target: "opseq::builder::interop", peer = %name, from, "following a builder process's open builds");
                    while let Some((seq, s)) = stream.next().await {
                        if seq <= last {
                            continue;
                        }
                        last = seq;
                        if local.contains(&s.chain_id()) {
                            continue;
                        }
                        match &s {
                            Shred::BuildView { chain_id, block_number, build_id, timestamp, .. } => {
                                mirrored.insert((*chain_id, build_id.clone()), (*block_number, *timestamp));
                            }
                            Shred::BuildEnded { chain_id, build_id, .. } => {
                                mirrored.remove(&(*chain_id, build_id.clone()));
                            }
                            _ => continue,
                        }
                        open.apply(&s);
                    }
                    tracing::warn!(target: "opseq::builder::interop", peer = %name, last, "a builder process's shred stream ended; resuming");
                }
                Err(e) if e.class == opseq_primitives::ErrorClass::NotFound => {
                    // The peer restarted: its open builds are gone.
                    tracing::warn!(target: "opseq::builder::interop", peer = %name, error = %e, "a builder process restarted: its open builds are lost");
                    for ((chain_id, build_id), (block_number, timestamp)) in mirrored.drain() {
                        open.apply(&Shred::BuildEnded { chain_id, block_number, build_id, timestamp, lost: true });
                    }
                    last = 0;
                    continue;
                }
                Err(e) if e.class == opseq_primitives::ErrorClass::InvalidInput => {
                    // Its history no longer reaches back that far: follow it from now on (the
                    // views of builds it changed meanwhile are missed until they change again).
                    tracing::warn!(target: "opseq::builder::interop", peer = %name, error = %e, "following a builder process from now on");
                    from_now = true;
                    last = 0;
                    continue;
                }
                Err(e) => {
                    tracing::debug!(target: "opseq::builder::interop", peer = %name, error = %e, "a builder process's shred stream is unreachable");
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
}

/// Whether a new edge, the log `(init_chain, init_index)` executed by the log at `exec_pos` of
/// `exec_chain`'s block, closes a cycle in the log graph of `builds` (blocks at one timestamp:
/// each block's logs in order, and the executing edges their `deps` record), that is whether the
/// initiating log is reachable from the executing one (the graph must be acyclic).
pub fn closes_cycle(builds: &[OpenBuild], exec_chain: u64, exec_pos: usize, init_chain: u64, init_index: u32) -> bool {
    // The earliest position reachable in each chain's block.
    let mut reach = std::collections::HashMap::from([(exec_chain, exec_pos)]);
    loop {
        let mut changed = false;
        for b in builds {
            for d in &b.deps {
                if reach.get(&d.init_chain).is_some_and(|r| *r <= d.init_index as usize) {
                    let e = reach.entry(b.chain).or_insert(usize::MAX);
                    if d.exec_pos < *e {
                        *e = d.exec_pos;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    reach.get(&init_chain).is_some_and(|r| *r <= init_index as usize)
}

/// A cycle in the log graph of committed blocks at `block`'s timestamp that passes through a
/// message `block` executes (its `logs`: each tx's), if there is one: the blocks of other chains
/// at that timestamp it executes logs of are read, and theirs in turn (each block's logs in
/// order, and the executing edges between them; interop.md §2).
pub async fn committed_cycle(
    edges: &Edges,
    chain: u64,
    block: &opseq_primitives::SealedBlock,
    logs: &[Vec<Log>],
) -> Option<String> {
    let ts = block.header.timestamp;
    // Same-timestamp edges out of a block's logs, with the initiating block's number.
    let edges_of = |c: u64, logs: &mut dyn Iterator<Item = &Log>| -> Vec<(Dep, u64)> {
        logs.enumerate()
            .filter_map(|(pos, l)| {
                let m = executing_message(l)?.ok()?;
                let init = u64::try_from(m.id.chain_id).ok().filter(|i| *i != c)?;
                (m.id.timestamp == ts)
                    .then_some((Dep { exec_pos: pos, init_chain: init, init_index: m.id.log_index }, m.id.block_number))
            })
            .collect()
    };
    let mine = edges_of(chain, &mut logs.iter().flatten());
    if mine.is_empty() {
        return None;
    }
    let mut graph = vec![OpenBuild {
        chain,
        job: String::new(),
        number: block.header.number,
        timestamp: ts,
        logs: vec![],
        deps: mine.iter().map(|(d, _)| *d).collect(),
    }];
    let mut queue: Vec<(u64, u64)> = mine.iter().map(|(d, n)| (d.init_chain, *n)).collect();
    while let Some((c, n)) = queue.pop() {
        if graph.iter().any(|b| b.chain == c) {
            continue;
        }
        let Ok(Some(b)) = edges.state.block_by_number(c, n).await else { continue };
        if b.header.timestamp != ts {
            continue;
        }
        let theirs = edges_of(c, &mut b.receipts.iter().flat_map(|r| receipt_logs(r)).collect::<Vec<_>>().iter());
        queue.extend(theirs.iter().map(|(d, n)| (d.init_chain, *n)));
        graph.push(OpenBuild {
            chain: c,
            job: String::new(),
            number: n,
            timestamp: ts,
            logs: vec![],
            deps: theirs.iter().map(|(d, _)| *d).collect(),
        });
    }
    mine.iter().find(|(d, _)| closes_cycle(&graph, chain, d.exec_pos, d.init_chain, d.init_index)).map(|(d, n)| {
        format!(
            "cycle: log {} of chain {}'s block {n} at timestamp {ts} depends on this block's log {}, which executes it",
            d.init_index, d.init_chain, d.exec_pos
        )
    })
}

/// The block whose txs' messages are checked: its chain and number, and who builds it.
#[derive(Debug, Clone, Copy)]
pub struct Within<'a> {
    /// The executing chain.
    pub chain: u64,
    /// The block's number.
    pub number: u64,
    /// The blocks being built in this process (messages at the same timestamp).
    pub open: Option<&'a OpenBuilds>,
    /// The job building the block, when it is one (its waits count in others' cycle checks).
    pub job: Option<&'a str>,
    /// What a log of another block open at this timestamp that is not included yet means.
    pub pending: Pending,
}

/// What an include does with a message of another open block at its timestamp whose log is not
/// there yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Wait for it (bounded), counting the edge in others' cycle checks meanwhile.
    Wait,
    /// Take it as an edge of the log graph at once (a bundle leg: the bundle's other legs bring
    /// the log, and the bundle checks every leg once all are in).
    Edge,
}

/// The executing messages of a block's txs (`txs`: each tx's logs, in block order), each checked
/// against the initiating chain's store, or, for a log of the same block, against the logs
/// before it (executing one that comes later is a cycle); only the txs `which` picks are checked
/// (the others get no checks).
pub async fn check_txs(
    edges: &Edges,
    rules: &InteropConfig,
    exec_timestamp: u64,
    within: Within<'_>,
    txs: &[&[Log]],
    which: impl Fn(usize) -> bool,
) -> Vec<Vec<MessageCheck>> {
    // Most blocks execute no message: skip them without copying their logs.
    if !txs.iter().flat_map(|l| l.iter()).any(|l| l.address == opseq_primitives::interop::CROSS_L2_INBOX) {
        return vec![vec![]; txs.len()];
    }
    let mut before: Vec<Log> = Vec::new();
    let mut out = Vec::with_capacity(txs.len());
    let blocks = Blocks::default();
    for (i, logs) in txs.iter().enumerate() {
        out.push(if which(i) {
            check_logs(edges, rules, exec_timestamp, within, &blocks, &before, logs).await
        } else {
            vec![]
        });
        before.extend(logs.iter().cloned());
    }
    out
}

/// A committed block as messages are checked against it: its logs decoded once.
#[derive(Debug)]
struct Committed {
    block: opseq_primitives::SealedBlock,
    logs: std::sync::OnceLock<Vec<Log>>,
}

impl Committed {
    fn logs(&self) -> &[Log] {
        self.logs.get_or_init(|| self.block.receipts.iter().flat_map(|raw| receipt_logs(raw)).collect())
    }
}

/// The initiating blocks one [`check_txs`] read (a block pair with many messages reads each
/// block once, not once per message).
#[derive(Debug, Default)]
struct Blocks(parking_lot::Mutex<std::collections::HashMap<(u64, u64), Read>>);

/// A block read: committed, or not (yet).
type Read = Option<std::sync::Arc<Committed>>;

impl Blocks {
    /// Block `number` of `chain`: as first read during this check, or read again (`fresh`: a
    /// wait for a block being built ends when it is committed).
    async fn get(&self, edges: &Edges, chain: u64, number: u64, fresh: bool) -> Result<Read, String> {
        if !fresh && let Some(b) = self.0.lock().get(&(chain, number)) {
            return Ok(b.clone());
        }
        let b = edges
            .state
            .block_by_number(chain, number)
            .await
            .map_err(|e| format!("reading block {number} of chain {chain}: {e}"))?
            .map(|block| std::sync::Arc::new(Committed { block, logs: Default::default() }));
        self.0.lock().insert((chain, number), b.clone());
        Ok(b)
    }
}

/// [`check_txs`] for one tx's `logs`, after the block's logs `before`.
async fn check_logs(
    edges: &Edges,
    rules: &InteropConfig,
    exec_timestamp: u64,
    within: Within<'_>,
    blocks: &Blocks,
    before: &[Log],
    logs: &[Log],
) -> Vec<MessageCheck> {
    let mut out = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        match executing_message(log) {
            None => {}
            Some(Err(e)) => out.push(MessageCheck {
                message: None,
                invalid: Some(format!("malformed ExecutingMessage log: {e}")),
                dep: None,
            }),
            Some(Ok(m)) => {
                let same_block =
                    m.id.chain_id == alloy_primitives::U256::from(within.chain) && m.id.block_number == within.number;
                let exec_pos = before.len() + i;
                let (invalid, dep) = if same_block {
                    let before: Vec<&Log> = before.iter().chain(&logs[..i]).collect();
                    (validate_in_block(exec_timestamp, &m, &before).err(), None)
                } else {
                    let me = Dep { exec_pos, init_chain: 0, init_index: m.id.log_index };
                    match validate(edges, rules, exec_timestamp, &m, &within, blocks, me).await {
                        Ok(Some(open)) => (None, Some(Dep { exec_pos, init_chain: open, init_index: m.id.log_index })),
                        Ok(None) => (None, None),
                        Err(e) => (Some(e), None),
                    }
                };
                out.push(MessageCheck { message: Some(m), invalid, dep });
            }
        }
    }
    out
}

/// A message of the executing block itself: the log it names must come before the executing
/// one (else the log graph has a cycle), at this block's timestamp, from its origin, with its
/// payload.
fn validate_in_block(exec_timestamp: u64, m: &ExecutingMessage, before: &[&Log]) -> Result<(), String> {
    if m.id.timestamp != exec_timestamp {
        return Err(format!("timestamp {} is not this block's ({exec_timestamp})", m.id.timestamp));
    }
    let log = before.get(m.id.log_index as usize).ok_or_else(|| {
        format!(
            "cycle: log {} of this block does not come before the executing message (log {})",
            m.id.log_index,
            before.len()
        )
    })?;
    matches(log, m)
}

/// Why `m` may not be executed in a block at `exec_timestamp`: its chain is outside the
/// dependency set, it is from the future or expired (valid at exactly `init + window`), or the
/// log it names is not the one it claims (block unknown, timestamp, index, emitter, payload).
/// `Ok(Some(chain))` when the log is in `chain`'s block still being built at the same timestamp.
async fn validate(
    edges: &Edges,
    rules: &InteropConfig,
    exec_timestamp: u64,
    m: &ExecutingMessage,
    within: &Within<'_>,
    blocks: &Blocks,
    me: Dep,
) -> Result<Option<u64>, String> {
    let Identifier { block_number, log_index, timestamp, chain_id, .. } = m.id;
    let chain = u64::try_from(chain_id)
        .ok()
        .filter(|c| rules.dependency_set.contains(c))
        .ok_or_else(|| format!("chain {chain_id} is not in the dependency set {:?}", rules.dependency_set))?;
    if timestamp > exec_timestamp {
        return Err(format!("initiated after the executing block: timestamp {timestamp} > {exec_timestamp}"));
    }
    if timestamp.saturating_add(rules.expiry_window) < exec_timestamp {
        return Err(format!(
            "expired: initiated at {timestamp}, executed at {exec_timestamp}, expiry window {}s",
            rules.expiry_window
        ));
    }
    let me = Dep { init_chain: chain, ..me };
    let (mut waiting, mut reread) = (false, false);
    let deadline = tokio::time::Instant::now() + within.open.map_or(std::time::Duration::ZERO, |o| o.wait);
    let block = loop {
        // Registered before the state is read, so no change between the read and the wait is lost.
        let changed = within.open.map(|o| o.changed.notified());
        let block = blocks.get(edges, chain, block_number, waiting || reread).await?;
        let open = match (block, within.open) {
            (Some(b), _) => break b,
            (None, Some(open)) if timestamp == exec_timestamp => open,
            (None, _) => {
                return Err(format!("block {block_number} of chain {chain} is not known (sealed and committed)"));
            }
        };
        // Not committed: at the same timestamp, a block open in this process or one it follows.
        let unwait = |waiting: bool| {
            if let (true, Some(job)) = (waiting, within.job) {
                open.remove_dep(within.chain, job, me);
            }
        };
        let so_far = match open.lookup(chain, block_number, timestamp, log_index) {
            // Read before this include's other messages: it may have been sealed since.
            Lookup::None if !reread => {
                reread = true;
                continue;
            }
            Lookup::None => {
                unwait(waiting);
                return Err(format!("block {block_number} of chain {chain} is neither committed nor being built"));
            }
            Lookup::Ambiguous(n) => {
                unwait(waiting);
                return Err(format!(
                    "chain {chain} has {n} open blocks at height {block_number}: which one is meant is ambiguous"
                ));
            }
            Lookup::Log(log) => {
                unwait(waiting);
                return matches(&log, m).map(|()| Some(chain));
            }
            Lookup::NotYet(_) if within.pending == Pending::Edge => {
                let others: Vec<OpenBuild> = open
                    .at(timestamp)
                    .into_iter()
                    .filter(|b| !(b.chain == within.chain && Some(b.job.as_str()) == within.job))
                    .collect();
                if closes_cycle(&others, within.chain, me.exec_pos, chain, log_index) {
                    return Err(format!(
                        "cycle: log {log_index} of chain {chain}'s open block depends on this block's log {}, which executes it",
                        me.exec_pos
                    ));
                }
                return Ok(Some(chain));
            }
            Lookup::NotYet(n) => n,
        };
        // Not included yet: wait for it (bounded), counting the edge in everyone's cycle checks
        // meanwhile; if it would close a cycle with another block's waits, it never can come.
        if !waiting {
            let Some(job) = within.job else {
                return Err(format!(
                    "log {log_index} of chain {chain}'s open block {block_number} is not included yet"
                ));
            };
            let others: Vec<OpenBuild> =
                open.at(timestamp).into_iter().filter(|b| !(b.chain == within.chain && b.job == job)).collect();
            if closes_cycle(&others, within.chain, me.exec_pos, chain, log_index) {
                return Err(format!(
                    "cycle: log {log_index} of chain {chain}'s open block waits on this block's log {}, which executes it",
                    me.exec_pos
                ));
            }
            open.add_dep(within.chain, job, within.number, exec_timestamp, me);
            waiting = true;
        }
        let timed_out = match changed {
            Some(c) => tokio::time::timeout_at(deadline, c).await.is_err(),
            None => true,
        };
        if timed_out {
            unwait(waiting);
            return Err(format!(
                "log {log_index} of chain {chain}'s open block {block_number} was not included within {} ms ({} logs so far)",
                open.wait.as_millis(),
                so_far
            ));
        }
    };
    if waiting && let (Some(open), Some(job)) = (within.open, within.job) {
        open.remove_dep(within.chain, job, me);
    }
    // The activation block's logs (and earlier ones) are not initiating messages.
    if rules.activation > 0 && block_number > 0 {
        let parent = blocks.get(edges, chain, block_number - 1, false).await?;
        if parent.is_none_or(|p| p.block.header.timestamp < rules.activation) {
            return Err(format!(
                "initiated in or before chain {chain}'s interop activation block (block {block_number}, activation at {})",
                rules.activation
            ));
        }
    }
    if block.block.header.timestamp != timestamp {
        return Err(format!(
            "timestamp {timestamp} is not block {block_number}'s ({}) on chain {chain}",
            block.block.header.timestamp
        ));
    }
    let logs = block.logs();
    let log = logs.get(log_index as usize).ok_or_else(|| {
        format!("block {block_number} of chain {chain} has {} logs: there is no log {log_index}", logs.len())
    })?;
    matches(log, m).map(|()| None)
}

/// The log is the one `m` names: its emitter and payload hash.
fn matches(log: &Log, m: &ExecutingMessage) -> Result<(), String> {
    if log.address != m.id.origin {
        return Err(format!(
            "log {} was emitted by {}, not by the origin {}",
            m.id.log_index, log.address, m.id.origin
        ));
    }
    let mut payload: Vec<u8> = log.topics().iter().flat_map(|t| t.0).collect();
    payload.extend_from_slice(&log.data.data);
    let hash = message_hash(&payload);
    if hash != m.msg_hash {
        return Err(format!("the message hash {} is not the log's payload hash {hash}", m.msg_hash));
    }
    Ok(())
}

/// Checks the CrossL2Inbox entries of a tx's access list (OP tx envelope): every key must parse
/// (lookup, optional chain-id extension, checksum, in order; reserved bytes zero), as the
/// supervisor's check requires. A tx without inbox entries passes.
pub fn check_inbox_entries(raw: &[u8]) -> Result<(), String> {
    use alloy_consensus::Transaction;
    use alloy_eips::eip2718::Decodable2718;
    let Ok(tx) = op_alloy_consensus::OpTxEnvelope::decode_2718_exact(raw) else { return Ok(()) };
    let keys: Vec<B256> = tx
        .access_list()
        .map(|l| {
            l.iter()
                .filter(|i| i.address == opseq_primitives::interop::CROSS_L2_INBOX)
                .flat_map(|i| i.storage_keys.clone())
                .collect()
        })
        .unwrap_or_default();
    opseq_primitives::interop::parse_inbox_keys(&keys).map(drop)
}

/// The logs of an L2 receipt (EIP-2718 encoded).
pub fn receipt_logs(raw: &[u8]) -> Vec<Log> {
    use alloy_eips::eip2718::Decodable2718;
    op_alloy_consensus::OpReceiptEnvelope::decode_2718_exact(raw).map(|r| r.logs().to_vec()).unwrap_or_default()
}

/// The reasons of the invalid ones, for a refusal.
pub fn reasons(checks: &[MessageCheck]) -> Vec<String> {
    checks.iter().filter_map(|c| c.invalid.clone()).collect()
}

/// A checked message as JSON (the include result's `executingMessages`).
pub fn check_json(c: &MessageCheck) -> serde_json::Value {
    let id = c.message.map(|m| {
        serde_json::json!({
            "origin": m.id.origin,
            "blockNumber": format!("{:#x}", m.id.block_number),
            "logIndex": format!("{:#x}", m.id.log_index),
            "timestamp": format!("{:#x}", m.id.timestamp),
            "chainId": format!("{:#x}", m.id.chain_id),
        })
    });
    serde_json::json!({
        "msgHash": c.message.map(|m| m.msg_hash).unwrap_or(B256::ZERO),
        "identifier": id,
        "valid": c.invalid.is_none(),
        "reason": c.invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(chain: u64, deps: Vec<Dep>) -> OpenBuild {
        OpenBuild { chain, job: format!("job-{chain}"), number: 1, timestamp: 10, logs: vec![], deps }
    }

    fn log(n: u8) -> Log {
        Log::new_unchecked(alloy_primitives::Address::repeat_byte(n), vec![B256::repeat_byte(n)], vec![n].into())
    }

    /// A process's own builds are announced as views that carry only what changed (logs kept,
    /// logs after them, every edge); another process applying them rebuilds the same build, and
    /// a view that keeps fewer logs, or a lost end, cascades there as lost logs.
    #[tokio::test]
    async fn open_builds_replicate_through_their_shreds() {
        let bus: std::sync::Arc<dyn ShredBus> = std::sync::Arc::new(opseq_interfaces::LocalShredBus::default());
        let mut shreds = bus.subscribe(None).await.unwrap();
        let here = OpenBuilds::announcing(std::time::Duration::from_millis(10), std::sync::Arc::clone(&bus));
        let there = OpenBuilds::new(std::time::Duration::from_millis(10));
        let mut lost = there.subscribe();
        let mut b =
            OpenBuild { chain: 901, job: "j".into(), number: 1, timestamp: 10, logs: vec![log(1)], deps: vec![] };
        here.set(b.clone());
        b.logs.push(log(2));
        b.deps.push(Dep { exec_pos: 1, init_chain: 902, init_index: 0 });
        here.set(b.clone());
        use futures::StreamExt;
        let mut next =
            async || tokio::time::timeout(std::time::Duration::from_secs(1), shreds.next()).await.unwrap().unwrap();
        let v = next().await;
        assert!(matches!(&v, Shred::BuildView { keep_logs: 0, logs, .. } if logs.len() == 1), "{v:?}");
        there.apply(&v);
        let v = next().await;
        assert!(
            matches!(&v, Shred::BuildView { keep_logs: 1, logs, deps, .. } if logs.len() == 1 && deps.len() == 1),
            "{v:?}"
        );
        there.apply(&v);
        let got = there.get(901, "j").unwrap();
        assert_eq!((got.logs.clone(), got.deps.clone()), (b.logs.clone(), b.deps.clone()));
        assert!(lost.try_recv().is_err(), "nothing lost so far");
        // Cut back to its first log: the other side loses log 1.
        b.logs.truncate(1);
        here.set(b.clone());
        let v = next().await;
        there.apply(&v);
        assert_eq!(lost.try_recv().unwrap(), Truncated { chain: 901, number: 1, timestamp: 10, keep: 1 });
        assert_eq!(there.get(901, "j").unwrap().logs, b.logs);
        // Cancelled: every log lost, once (an end seen twice changes nothing).
        here.cancel(901, "j");
        let v = next().await;
        assert!(matches!(&v, Shred::BuildEnded { lost: true, .. }), "{v:?}");
        there.apply(&v);
        there.apply(&v);
        assert_eq!(lost.try_recv().unwrap(), Truncated { chain: 901, number: 1, timestamp: 10, keep: 0 });
        assert!(lost.try_recv().is_err());
        assert!(there.get(901, "j").is_none());
    }

    /// interop.md §2: the cross pattern (A0 → B0, B1 → A1) is acyclic; "B0 executes A1 while A0
    /// executes B1" is a cycle; so is one closed through a third chain.
    #[test]
    fn cycles_in_the_log_graph_of_one_timestamp() {
        let dep = |exec_pos, init_chain, init_index| Dep { exec_pos, init_chain, init_index };
        // B's log 0 executes A's log 0; A's log 1 would execute B's log 1.
        let builds = [build(901, vec![]), build(902, vec![dep(0, 901, 0)])];
        assert!(!closes_cycle(&builds, 901, 1, 902, 1));
        // B's log 0 executes A's log 1; A's log 0 would execute B's log 1.
        let builds = [build(901, vec![]), build(902, vec![dep(0, 901, 1)])];
        assert!(closes_cycle(&builds, 901, 0, 902, 1));
        // Through C: B0 executes A1, C0 executes B1; A0 would execute C1.
        let builds = [build(901, vec![]), build(902, vec![dep(0, 901, 1)]), build(903, vec![dep(0, 902, 1)])];
        assert!(closes_cycle(&builds, 901, 0, 903, 1));
        assert!(!closes_cycle(&builds, 901, 2, 903, 0), "A2 executing C0: nothing after A2 leads to C0");
    }
}
