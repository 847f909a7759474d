//! The bundle include: the legs of one call (signed txs for several chains' open jobs at one
//! timestamp) included all or none. Each leg is included provisionally (its messages of the
//! other legs' logs that are not there yet become edges of the log graph at once, each checked
//! for cycles against every edge already there), then every leg's messages are checked again now
//! that all legs are in (logs exist, payload hashes, timestamps); any failure cuts every leg's
//! job back to where it was (one `RolledBack` per chain). A later cancel or rollback of one leg
//! reaches the others through the rollback cascade, since each leg executes the others' logs.
use super::plan::Chains;
use crate::jobs::{Include, Op, Reply, TxOutcome};
use alloy_primitives::Bytes;
use opseq_primitives::ChainId;

/// One chain's txs of a bundle, for its open job.
#[derive(Debug, Clone)]
pub(crate) struct SignedLeg {
    pub chain: ChainId,
    pub job: String,
    pub txs: Vec<Bytes>,
}

/// A leg as included.
#[derive(Debug, Clone)]
pub(crate) struct IncludedLeg {
    pub chain: ChainId,
    pub job: String,
    pub number: u64,
    pub timestamp: u64,
    pub txs: Vec<TxOutcome>,
}

/// Includes `legs` in order, all or none; with `force`, keeps them even when the joint check
/// fails (to build invalid blocks for verifier tests), reporting what is wrong.
pub(crate) async fn include(
    chains: &dyn Chains,
    legs: &[SignedLeg],
    force: bool,
) -> Result<(Vec<IncludedLeg>, Vec<String>), String> {
    let mut done: Vec<(ChainId, String, usize)> = vec![];
    let mut out = vec![];
    let mut timestamps = std::collections::BTreeSet::new();
    for leg in legs {
        if done.iter().any(|(c, _, _)| *c == leg.chain) {
            rollback(chains, &done, "bundle refused").await;
            return Err(format!("two legs for chain {}: give each chain's txs in one leg", leg.chain));
        }
        let before = match chains.control(leg.chain, Op::Inspect(leg.job.clone())).await {
            Ok(Reply::Job(j)) if j.state == crate::jobs::JobState::Open => j.txs.len(),
            Ok(Reply::Job(j)) => {
                rollback(chains, &done, "bundle refused").await;
                return Err(format!("job {} of chain {} is {}", leg.job, leg.chain, j.state.as_str()));
            }
            Ok(other) => return Err(format!("unexpected reply {other:?}")),
            Err(e) => {
                rollback(chains, &done, "bundle refused").await;
                return Err(format!("chain {}: {e}", leg.chain));
            }
        };
        match chains.control(leg.chain, Op::Include(leg.job.clone(), Include::Bundle(leg.txs.clone()), force)).await {
            Ok(Reply::Included { added, job, .. }) => {
                done.push((leg.chain, leg.job.clone(), before));
                timestamps.insert(job.header.timestamp);
                out.push(IncludedLeg {
                    chain: leg.chain,
                    job: leg.job.clone(),
                    number: job.header.number,
                    timestamp: job.header.timestamp,
                    txs: added,
                });
            }
            Ok(other) => return Err(format!("unexpected reply {other:?}")),
            Err(e) => {
                rollback(chains, &done, "bundle aborted").await;
                return Err(format!("chain {}: {e}", leg.chain));
            }
        }
    }
    let mut problems = vec![];
    if timestamps.len() > 1 {
        problems.push(format!("the legs' blocks have different timestamps {timestamps:?}"));
    }
    for (chain, job, before) in &done {
        match chains.control(*chain, Op::Verify(job.clone(), *before)).await {
            Ok(Reply::Verified(r)) => problems.extend(r.into_iter().map(|r| format!("chain {chain}: {r}"))),
            Ok(other) => problems.push(format!("unexpected reply {other:?}")),
            Err(e) => problems.push(format!("chain {chain}: {e}")),
        }
    }
    if !problems.is_empty() && !force {
        rollback(chains, &done, &format!("bundle aborted: {}", problems.join("; "))).await;
        return Err(format!("invalid bundle: {}", problems.join("; ")));
    }
    Ok((out, problems))
}

/// Cuts each included leg's job back to before the leg, last first.
async fn rollback(chains: &dyn Chains, done: &[(ChainId, String, usize)], reason: &str) {
    for (chain, job, before) in done.iter().rev() {
        if let Err(e) = chains.control(*chain, Op::Truncate(job.clone(), *before, reason.to_string())).await {
            tracing::error!(target: "opseq::builder::sync_calls", chain_id = chain, %job, error = %e, "could not roll a bundle leg back");
        }
    }
}
