//! Discovery: what each leg of a sync call is, found by running the calling transaction on its
//! open block until it names no message without a result.
//!
//! Re-execution, not suspension: the root runs until `SyncCaller.call` reverts with
//! `MissingWitness` (the message it just sent); that message is relayed on its destination's
//! open block (recursively: the relay may itself call onwards), the result is handed to
//! `SyncCaller.provide` before the root, and the root runs again. A call with `n` hops costs
//! `n + 1` runs of the root and one run per relay, each a few hundred microseconds on an open
//! block; suspending revm frames at the boundary (the OP demo's Rust builder) saves the re-runs
//! but ties the builder to revm's frame internals and to one call shape, which an experiment
//! that wants any contract to call through `SyncCaller` should not. Each run is a simulation on
//! the job's live state ([`Op::Simulate`]): nothing is included, no shred goes out.
use super::abi;
use crate::jobs::{ControlError, Op, Reply, Simulated};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Address, U256};
use opseq_executor::simulate::{SimOutcome, SimTx};
use opseq_primitives::{
    ChainId,
    interop::{CROSS_L2_INBOX, Identifier, L2_TO_L2_CROSS_DOMAIN_MESSENGER, SYNC_RELAYER, access_list_keys},
};
use std::collections::BTreeMap;

/// Calls deeper than this many hops are refused.
pub(crate) const MAX_HOPS: usize = 8;
/// Gas each sequencer tx may use while it is discovered (the final ones carry what they used).
const DISCOVERY_GAS: u64 = 5_000_000;
/// Gas the root runs with when the caller names none (it then carries what it used).
pub(crate) const ROOT_GAS: u64 = 10_000_000;

/// Runs control operations on the chains' builders.
#[async_trait::async_trait]
pub(crate) trait Chains: Send + Sync {
    /// One control operation on `chain`.
    async fn control(&self, chain: ChainId, op: Op) -> Result<Reply, ControlError>;
}

/// What a tx of a leg is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The user's calling tx.
    Root,
    /// `provide` of the result of the message with this nonce, to the contract that keeps it
    /// (`SyncCaller`, or a user's `SyncAccount`; sequencer-signed).
    Provide(U256, Address),
    /// `SyncCaller.clear` of a result a reverted root left (sequencer-signed).
    Clear,
    /// The relay of the message from `source` with `nonce` (sequencer-signed).
    Relay { source: ChainId, nonce: U256, destination: ChainId, payload: Vec<u8> },
}

/// One tx of a leg.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub kind: Kind,
    pub tx: SimTx,
}

/// A chain's part of a call: its open job, where the block stood, the txs to add.
#[derive(Debug, Clone)]
pub(crate) struct Leg {
    pub chain: ChainId,
    pub job: String,
    pub steps: Vec<Step>,
    /// The block before the leg (from the last run).
    pub at: Option<At>,
    /// The last run's outcomes of `steps`.
    pub outcomes: Vec<SimOutcome>,
}

/// Where a leg starts in its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    pub number: u64,
    pub timestamp: u64,
    pub base_fee: u64,
    pub txs: usize,
    pub logs: usize,
}

/// A discovered call: its legs (the root's chain first), the root's outcome, and what discovery
/// cost.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub legs: Vec<Leg>,
    pub root: SimOutcome,
    pub runs: usize,
    pub hops: usize,
    /// Auto mode: how long the call waited for its group (a shared timestamp), µs.
    pub wait_us: u128,
}

/// Discovery's failure: a clear reason, nothing included anywhere.
pub(crate) type Refusal = String;

/// [`Discovery::resolve`]'s future (boxed: it recurses).
type Resolving<'s> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(SimOutcome, SimTx), Refusal>> + Send + 's>>;

struct Discovery<'a> {
    chains: &'a dyn Chains,
    jobs: &'a BTreeMap<ChainId, String>,
    legs: Vec<Leg>,
    runs: usize,
    hops: usize,
}

impl Discovery<'_> {
    fn leg_mut(&mut self, chain: ChainId) -> Result<&mut Leg, Refusal> {
        if let Some(i) = self.legs.iter().position(|l| l.chain == chain) {
            return Ok(&mut self.legs[i]);
        }
        let job = self.jobs.get(&chain).ok_or_else(|| {
            format!("the call reaches chain {chain}, and no open job of chain {chain} was given (jobs: {{\"{chain}\": \"<jobId>\"}})")
        })?;
        self.legs.push(Leg { chain, job: job.clone(), steps: vec![], at: None, outcomes: vec![] });
        Ok(self.legs.last_mut().expect("pushed"))
    }

    /// Runs `extra` after the leg's steps on its job.
    async fn run(&mut self, chain: ChainId, extra: Option<&SimTx>) -> Result<Vec<SimOutcome>, Refusal> {
        let leg = self.leg_mut(chain)?;
        let job = leg.job.clone();
        let mut txs: Vec<SimTx> = leg.steps.iter().map(|s| s.tx.clone()).collect();
        txs.extend(extra.cloned());
        self.runs += 1;
        let sim = match self.chains.control(chain, Op::Simulate(job.clone(), txs)).await {
            Ok(Reply::Simulated(s)) => s,
            Ok(other) => return Err(format!("unexpected reply {other:?}")),
            Err(e) => return Err(format!("chain {chain}, job {job}: {e}")),
        };
        let Simulated { number, timestamp, base_fee, txs, logs, outcomes } = sim;
        let leg = self.leg_mut(chain)?;
        let at = At { number, timestamp, base_fee, txs, logs };
        if leg.at.is_some_and(|a| a != at) {
            return Err(format!("chain {chain}'s job {job} changed during discovery"));
        }
        leg.at = Some(at);
        leg.outcomes = outcomes[..leg.steps.len().min(outcomes.len())].to_vec();
        Ok(outcomes)
    }

    /// Resolves `tx` on `chain` until it names no message without a result; returns its last
    /// outcome and the tx as it ran then (its access list names the results it checks); the tx
    /// itself is not added to the leg.
    fn resolve<'s>(&'s mut self, chain: ChainId, mut tx: SimTx, path: Vec<ChainId>) -> Resolving<'s> {
        Box::pin(async move {
            loop {
                let outcomes = self.run(chain, Some(&tx)).await?;
                let (last, before) = outcomes.split_last().ok_or("no outcome")?;
                if let Some(i) = before.iter().position(|o| !o.success) {
                    return Err(format!("chain {chain}: the leg's tx {i} no longer succeeds"));
                }
                let Some(m) = (!last.success).then(|| abi::missing(&last.output)).flatten() else {
                    return Ok((last.clone(), tx));
                };
                self.hops += 1;
                if path.len() + 1 > MAX_HOPS || self.hops > 4 * MAX_HOPS {
                    return Err(format!("the call goes deeper than {MAX_HOPS} hops"));
                }
                let destination = u64::try_from(m.destination)
                    .map_err(|_| format!("destination chain {} is not a chain id", m.destination))?;
                // Back to a chain on the way (A→B→A): its relay there would have to come before
                // the tx on the way that sent the call it answers, a cycle in the log graph.
                if path.contains(&destination) || destination == chain {
                    let hops: Vec<String> =
                        path.iter().chain([&chain, &destination]).map(ToString::to_string).collect();
                    return Err(format!(
                        "the call goes back to chain {destination} ({}): a call back into a chain on the way is a cycle in the log graph of one timestamp",
                        hops.join(" → ")
                    ));
                }
                let at = self.leg_mut(chain)?.at.expect("ran above");
                // Where the SentMessage lands is known once the root ran through; the relay's
                // outcome does not depend on it (fixed in `fix_identifiers`).
                let payload = abi::sent_message_payload(&m);
                let id = Identifier {
                    origin: L2_TO_L2_CROSS_DOMAIN_MESSENGER,
                    block_number: at.number,
                    log_index: 0,
                    timestamp: at.timestamp,
                    chain_id: U256::from(chain),
                };
                let relay = relay_tx(&id, &payload);
                // A relay that fails is not included: what its discovery added to any leg goes.
                let snapshot: Vec<(ChainId, usize)> = self.legs.iter().map(|l| (l.chain, l.steps.len())).collect();
                let mut on = path.clone();
                on.push(chain);
                let (out, relay) = self.resolve(destination, relay, on).await?;
                if !out.success {
                    for leg in &mut self.legs {
                        let keep = snapshot.iter().find(|(c, _)| *c == leg.chain).map_or(0, |(_, n)| *n);
                        leg.steps.truncate(keep);
                        leg.outcomes.truncate(keep);
                    }
                }
                let (success, ret, witness) = if out.success {
                    let ret = abi::relayed_return(&out.output).ok_or("relayMessage returned no bytes")?;
                    let i = out
                        .logs
                        .iter()
                        .position(|l| abi::is_relayed(l, chain, m.nonce))
                        .ok_or("the relay emitted no RelayedMessage")?;
                    let leg = self.leg_mut(destination)?;
                    let dat = leg.at.expect("ran");
                    let before: usize = leg.outcomes.iter().map(|o| o.logs.len()).sum();
                    let wid = Identifier {
                        origin: L2_TO_L2_CROSS_DOMAIN_MESSENGER,
                        block_number: dat.number,
                        log_index: (dat.logs + before + i) as u32,
                        timestamp: dat.timestamp,
                        chain_id: U256::from(destination),
                    };
                    let relayed = abi::payload_of(&out.logs[i]);
                    leg.steps.push(Step {
                        kind: Kind::Relay { source: chain, nonce: m.nonce, destination, payload: payload.clone() },
                        tx: relay,
                    });
                    leg.outcomes.push(out.clone());
                    tx.access_list.0.push(inbox_entry(&wid, &relayed));
                    (true, ret, wid)
                } else {
                    // An abort hint: the callee's revert data, nothing to check.
                    let none = Identifier {
                        origin: Address::ZERO,
                        block_number: 0,
                        log_index: 0,
                        timestamp: 0,
                        chain_id: U256::ZERO,
                    };
                    (false, out.output.clone(), none)
                };
                let provide = SimTx {
                    from: SYNC_RELAYER,
                    to: m.store,
                    input: abi::provide(m.nonce, &witness, success, ret),
                    gas: DISCOVERY_GAS,
                    ..Default::default()
                };
                self.leg_mut(chain)?.steps.push(Step { kind: Kind::Provide(m.nonce, m.store), tx: provide });
            }
        })
    }
}

fn inbox_entry(id: &Identifier, payload: &[u8]) -> AccessListItem {
    AccessListItem { address: CROSS_L2_INBOX, storage_keys: access_list_keys(id, abi::hash(payload)) }
}

fn relay_tx(id: &Identifier, payload: &[u8]) -> SimTx {
    SimTx {
        from: SYNC_RELAYER,
        to: L2_TO_L2_CROSS_DOMAIN_MESSENGER,
        input: abi::relay_message(id, payload),
        gas: DISCOVERY_GAS,
        value: U256::ZERO,
        access_list: AccessList(vec![inbox_entry(id, payload)]),
    }
}

/// Discovers the legs of `root` (a tx on `chain`'s job) on the given open jobs (by chain), and
/// fixes every identifier; the legs' final runs (with the gas each tx will carry) must agree with
/// discovery, else the call is refused.
pub(crate) async fn discover(
    chains: &dyn Chains,
    jobs: &BTreeMap<ChainId, String>,
    chain: ChainId,
    root: SimTx,
    root_gas_free: bool,
) -> Result<Plan, Refusal> {
    let mut d = Discovery { chains, jobs, legs: vec![], runs: 0, hops: 0 };
    d.leg_mut(chain)?;
    let (out, root) = d.resolve(chain, root, vec![]).await?;
    let leg = d.leg_mut(chain)?;
    leg.steps.push(Step { kind: Kind::Root, tx: root });
    leg.outcomes = vec![];
    // A root that reverts sent nothing: its relays elsewhere are dropped; its provides stay
    // (the revert the user sees may be a callee's, handed over by one), and are cleared after it
    // (the next call from this chain gets the same messenger nonce).
    if !out.success {
        d.legs.retain(|l| l.chain == chain);
        let leg = &mut d.legs[0];
        let clears: Vec<Step> = leg
            .steps
            .iter()
            .filter_map(|s| match s.kind {
                Kind::Provide(nonce, store) => Some(Step {
                    kind: Kind::Clear,
                    tx: SimTx {
                        from: SYNC_RELAYER,
                        to: store,
                        input: abi::clear(nonce),
                        gas: DISCOVERY_GAS,
                        ..Default::default()
                    },
                }),
                _ => None,
            })
            .collect();
        leg.steps.extend(clears);
    }
    d.legs.retain(|l| l.chain == chain || !l.steps.is_empty());
    // Final gas: what each tx used, with headroom (the root keeps the gas it was asked with).
    for leg in &mut d.legs {
        let outcomes = run_leg(chains, leg, &mut d.runs).await?;
        for (s, o) in leg.steps.iter_mut().zip(&outcomes) {
            if s.kind != Kind::Root || root_gas_free {
                s.tx.gas = o.gas_used * 3 / 2 + 30_000;
            }
        }
        leg.outcomes = outcomes;
    }
    fix_identifiers(&mut d.legs)?;
    // The final run of each leg, exactly as it will be included.
    let mut root_out = None;
    for leg in &mut d.legs {
        let outcomes = run_leg(chains, leg, &mut d.runs).await?;
        for (s, o) in leg.steps.iter().zip(&outcomes) {
            match &s.kind {
                Kind::Root => root_out = Some(o.clone()),
                k if !o.success => {
                    return Err(format!("chain {}: a sequencer tx ({k:?}) fails in the final run", leg.chain));
                }
                _ => {}
            }
        }
        leg.outcomes = outcomes;
    }
    let root_out = root_out.ok_or("no root")?;
    if root_out.success != out.success || root_out.output != out.output {
        return Err("the call's final run differs from its discovery".into());
    }
    Ok(Plan { legs: d.legs, root: root_out, runs: d.runs, hops: d.hops, wait_us: 0 })
}

/// Runs a leg's steps on its job.
async fn run_leg(chains: &dyn Chains, leg: &mut Leg, runs: &mut usize) -> Result<Vec<SimOutcome>, Refusal> {
    *runs += 1;
    let txs = leg.steps.iter().map(|s| s.tx.clone()).collect();
    match chains.control(leg.chain, Op::Simulate(leg.job.clone(), txs)).await {
        Ok(Reply::Simulated(s)) => {
            let at = At { number: s.number, timestamp: s.timestamp, base_fee: s.base_fee, txs: s.txs, logs: s.logs };
            if leg.at.is_some_and(|a| a != at) {
                return Err(format!("chain {}'s job {} changed during discovery", leg.chain, leg.job));
            }
            Ok(s.outcomes)
        }
        Ok(other) => Err(format!("unexpected reply {other:?}")),
        Err(e) => Err(format!("chain {}, job {}: {e}", leg.chain, leg.job)),
    }
}

/// Points each relay at its message's SentMessage, now that every leg ran through.
fn fix_identifiers(legs: &mut [Leg]) -> Result<(), Refusal> {
    let mut fixes = vec![];
    for (li, leg) in legs.iter().enumerate() {
        for (si, s) in leg.steps.iter().enumerate() {
            let Kind::Relay { source, nonce, destination, payload } = &s.kind else { continue };
            let src = legs.iter().find(|l| l.chain == *source).ok_or("relay without its source leg")?;
            let at = src.at.ok_or("source leg never ran")?;
            let mut pos = at.logs;
            let mut found = None;
            for o in &src.outcomes {
                if let Some(i) = o.logs.iter().position(|l| abi::is_sent(l, U256::from(*destination), *nonce)) {
                    found = Some(pos + i);
                    break;
                }
                pos += o.logs.len();
            }
            let index = found.ok_or_else(|| format!("chain {source} emitted no SentMessage with nonce {nonce}"))?;
            let id = Identifier {
                origin: L2_TO_L2_CROSS_DOMAIN_MESSENGER,
                block_number: at.number,
                log_index: index as u32,
                timestamp: at.timestamp,
                chain_id: U256::from(*source),
            };
            // Its input and first access-list entry name the message; later entries are the
            // results of calls it makes onwards.
            let mut tx = s.tx.clone();
            tx.input = abi::relay_message(&id, payload);
            tx.access_list.0[0] = inbox_entry(&id, payload);
            fixes.push((li, si, tx));
        }
    }
    for (li, si, tx) in fixes {
        legs[li].steps[si].tx = tx;
    }
    Ok(())
}
