//! Sync calls in auto mode: a call sent without jobs lands at the next timestamp every chain of
//! the caller's dependency set builds. The first such call holds those chains' automatic building
//! (`jobs::Op::Hold`, not persisted), opens each chain's next block as a job, and starts the
//! group's sealer; calls that come while the group is open join it (several bundles per block
//! pair). The sealer waits until the blocks are due (and at least [`WINDOW`] after the group
//! opened, so a prepared call can be signed and submitted), adds the best pool txs to every job
//! (ordinary txs keep flowing, after the bundles), seals the jobs as one group and lets automatic
//! building go on. Bundle includes and the seal exclude each other (`gate`): a bundle is in
//! every block of the group or in none.
//!
//! Chains whose next blocks are at different timestamps (mixed block times, or one chain behind)
//! are not grouped: their building goes on, and the call retries until one timestamp is every
//! chain's next, for at most [`SHARED_WAIT`]; then it is refused with the timestamps it saw.
use super::plan::Chains;
use crate::jobs::{Include, JobState, Op, Reply};
use opseq_primitives::ChainId;
use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// The least time between a group's opening and its seal.
pub(crate) const WINDOW: Duration = Duration::from_millis(500);
/// How long a call waits for its chains to have a shared next timestamp.
const SHARED_WAIT: Duration = Duration::from_secs(6);
/// Pool txs a group's block takes.
const POOL_TXS: usize = 10_000;

/// The open group: each chain's job at `timestamp`.
#[derive(Debug)]
pub(crate) struct Group {
    pub jobs: BTreeMap<ChainId, String>,
    pub timestamp: u64,
    /// When the sealer seals it.
    pub seal_at: Instant,
    /// Held for reading by each bundle include in the group, for writing by the seal.
    pub gate: Arc<tokio::sync::RwLock<bool>>,
}

/// The group state every route shares.
#[derive(Debug, Default)]
pub(crate) struct AutoGroups {
    current: tokio::sync::Mutex<Option<Arc<Group>>>,
    ended: tokio::sync::Notify,
}

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

impl AutoGroups {
    /// The open group over `chains`: joined (`false`), or opened now (`true`: the caller starts
    /// its sealer).
    pub(crate) async fn group(&self, chains: &dyn Chains, wanted: &[ChainId]) -> Result<(Arc<Group>, bool), String> {
        let deadline = Instant::now() + SHARED_WAIT;
        let mut seen = BTreeMap::new();
        loop {
            let ended = self.ended.notified();
            {
                let mut current = self.current.lock().await;
                match current.as_ref() {
                    Some(g)
                        if wanted.iter().all(|c| g.jobs.contains_key(c)) && !g.gate.try_read().map_or(true, |s| *s) =>
                    {
                        return Ok((Arc::clone(g), false));
                    }
                    Some(_) => {}
                    None => match open(chains, wanted).await? {
                        Ok(g) => {
                            let g = Arc::new(g);
                            *current = Some(Arc::clone(&g));
                            return Ok((g, true));
                        }
                        Err(timestamps) => seen = timestamps,
                    },
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no shared timestamp: the chains' next blocks are at {seen:?} and were not aligned within {} s",
                    SHARED_WAIT.as_secs()
                ));
            }
            // A group of other chains ends, or the chains' heads move on.
            let _ = tokio::time::timeout(Duration::from_millis(100), ended).await;
        }
    }

    /// Seals `g` when it is due, then ends it.
    pub(crate) fn seal_later(
        self: &Arc<Self>,
        chains: Arc<dyn Chains>,
        supervisor: actix::Addr<crate::BuilderSupervisor>,
        g: Arc<Group>,
    ) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep_until(g.seal_at.into()).await;
            let mut sealed = g.gate.write().await;
            *sealed = true;
            for (chain, job) in &g.jobs {
                if let Err(e) = chains.control(*chain, Op::Include(job.clone(), Include::Best(POOL_TXS), false)).await {
                    tracing::debug!(target: "opseq::builder::sync_calls", chain_id = chain, error = %e, "no pool txs for a group's block");
                }
            }
            let items: Vec<(ChainId, String)> = g.jobs.iter().map(|(c, j)| (*c, j.clone())).collect();
            match supervisor.send(crate::SealGroup(items, tracing::Span::current())).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(target: "opseq::builder::sync_calls", error = %e, "could not seal a sync-call group")
                }
                Err(e) => {
                    tracing::error!(target: "opseq::builder::sync_calls", error = %e, "builder supervisor stopped")
                }
            }
            release(&*chains, &g.jobs).await;
            *this.current.lock().await = None;
            this.ended.notify_waiters();
        });
    }
}

/// Holds `wanted`, opens each one's next block; the group when they share a timestamp, else the
/// timestamps (everything released again).
async fn open(chains: &dyn Chains, wanted: &[ChainId]) -> Result<Result<Group, BTreeMap<ChainId, u64>>, String> {
    let mut jobs = BTreeMap::new();
    let mut timestamps = BTreeMap::new();
    let mut held = vec![];
    for &chain in wanted {
        match chains.control(chain, Op::Hold(true)).await {
            Ok(Reply::Auto { active: true, .. }) => held.push(chain),
            Ok(Reply::Auto { active: false, .. }) => {
                let _ = chains.control(chain, Op::Hold(false)).await;
                release_holds(chains, &held).await;
                return Err(format!(
                    "chain {chain} is not sequencing automatically: name each chain's open job (jobs: {{chainId: jobId}})"
                ));
            }
            Ok(other) => {
                release_holds(chains, &held).await;
                return Err(format!("unexpected reply {other:?}"));
            }
            Err(e) => {
                release_holds(chains, &held).await;
                return Err(format!("chain {chain}: {e}"));
            }
        }
        match chains.control(chain, Op::Open(Default::default())).await {
            Ok(Reply::Job(j)) => {
                timestamps.insert(chain, j.header.timestamp);
                jobs.insert(chain, j.id);
            }
            Ok(other) => return Err(format!("unexpected reply {other:?}")),
            Err(e) => {
                release(chains, &jobs).await;
                release_holds(chains, &held).await;
                return Err(format!("chain {chain}: {e}"));
            }
        }
    }
    let shared: std::collections::BTreeSet<u64> = timestamps.values().copied().collect();
    if shared.len() != 1 {
        release(chains, &jobs).await;
        return Ok(Err(timestamps));
    }
    let timestamp = *shared.first().expect("one");
    let due = Duration::from_secs(timestamp).saturating_sub(unix_now());
    let seal_at = Instant::now() + due.max(WINDOW);
    Ok(Ok(Group { jobs, timestamp, seal_at, gate: Arc::new(tokio::sync::RwLock::new(false)) }))
}

/// Closes the group's jobs that are still open (not sealed), and lets the chains build again.
async fn release(chains: &dyn Chains, jobs: &BTreeMap<ChainId, String>) {
    for (chain, job) in jobs {
        if let Ok(Reply::Job(j)) = chains.control(*chain, Op::Inspect(job.clone())).await
            && j.state == JobState::Open
        {
            let _ = chains.control(*chain, Op::Cancel(job.clone())).await;
        }
        let _ = chains.control(*chain, Op::Hold(false)).await;
    }
}

async fn release_holds(chains: &dyn Chains, held: &[ChainId]) {
    for chain in held {
        let _ = chains.control(*chain, Op::Hold(false)).await;
    }
}
