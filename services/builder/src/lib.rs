#![doc = include_str!("../README.md")]

pub mod admin;
mod chain;
mod compat;
mod debug_trace;
pub mod engine;
pub mod ensemble;
mod filters;
pub mod flashblocks;
pub mod grpc;
pub mod http;
pub mod interop;
pub mod jobs;
mod op_receipt;
pub mod persist;
mod reader;
pub mod relay;
pub mod rpc;
mod subscriptions;
pub mod sync_calls;
mod test_api;

pub use chain::{ChainBuilderActor, MineNow};

use actix::{Actor, Addr, Context, Handler, Message, ResponseFuture, Supervisor};
use opseq_interfaces::Edges;
use opseq_primitives::{ChainId, DevnetConfig, OpseqError, SealedBlock};
use std::{collections::BTreeMap, sync::Arc};
use tracing::info;

/// Starts and supervises one [`ChainBuilderActor`] per chain.
#[derive(Debug)]
pub struct BuilderSupervisor {
    devnet: DevnetConfig,
    edges: Edges,
    auto: bool,
    state: Arc<persist::SequencerState>,
    chains: BTreeMap<ChainId, Addr<ChainBuilderActor>>,
    /// Interop: the open builds of every chain, shared by their actors (this process's and its
    /// peers').
    open: Arc<interop::OpenBuilds>,
    /// The chains built here (all of the devnet's when `None`).
    only: Option<Vec<ChainId>>,
    /// Other builder processes, whose open builds this one follows.
    peers: Vec<Peer>,
}

/// Another builder process (`--builder.peers`).
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its address, for logs.
    pub name: String,
    /// Its shred bus (its open builds).
    pub shreds: Arc<dyn opseq_interfaces::ShredBus>,
    /// Its jobs (`test_sealGroup` naming them).
    pub builder: Arc<dyn opseq_interfaces::PeerBuilder>,
}

/// This process's supervisor as a [`opseq_interfaces::PeerBuilder`]: what another builder
/// process's `SealJob` reaches.
#[derive(Debug, Clone)]
pub struct LocalPeer(pub Addr<BuilderSupervisor>);

#[async_trait::async_trait]
impl opseq_interfaces::PeerBuilder for LocalPeer {
    async fn seal_job(
        &self,
        chain: ChainId,
        job: &str,
        commit: bool,
    ) -> opseq_interfaces::EdgeResult<(alloy_primitives::B256, Vec<alloy_primitives::B256>)> {
        let op = jobs::Op::Seal(job.to_string(), commit);
        let r = self
            .0
            .send(ChainControl(chain, op, tracing::Span::current()))
            .await
            .map_err(|_| OpseqError::transient("builder supervisor stopped"))?;
        match r {
            Ok(jobs::Reply::Sealed { block, reorged_out, .. }) => Ok((block.hash, reorged_out)),
            Ok(_) => Err(OpseqError::fatal("sealing answered something else than a block")),
            Err(jobs::ControlError::Edge(e)) => Err(e),
            Err(e) => Err(OpseqError::invalid(e.to_string())),
        }
    }
}

impl BuilderSupervisor {
    /// A supervisor for `devnet`'s chains. `auto` starts block production on each chain's
    /// schedule, unless `state` persisted another mode for the chain.
    pub fn new(devnet: DevnetConfig, edges: Edges, auto: bool, state: persist::SequencerState) -> Self {
        Self {
            devnet,
            edges,
            auto,
            state: Arc::new(state),
            chains: BTreeMap::new(),
            open: Default::default(),
            only: None,
            peers: vec![],
        }
    }

    /// Builds only `chains` of the devnet (`--builder.chains`): the others are another builder
    /// process's. Unknown ids are an error.
    pub fn only(mut self, chains: Vec<ChainId>) -> Result<Self, OpseqError> {
        if let Some(c) = chains.iter().find(|c| !self.devnet.chains.iter().any(|x| x.chain_id == **c)) {
            return Err(OpseqError::invalid(format!(
                "--builder.chains: chain {c} is not one of the devnet's ({:?})",
                self.devnet.chains.iter().map(|x| x.chain_id).collect::<Vec<_>>()
            )));
        }
        self.only = Some(chains);
        Ok(self)
    }

    /// Follows the open builds of other builder processes (`--builder.peers`), for messages
    /// between blocks built at one timestamp in different processes, and seals their jobs for
    /// `test_sealGroup`.
    pub fn with_peers(mut self, peers: Vec<Peer>) -> Self {
        self.peers = peers;
        self
    }

    fn builds_here(&self, chain: ChainId) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&chain))
    }

    fn not_here(chain: ChainId) -> OpseqError {
        OpseqError::not_found(format!("chain {chain} is not built by this builder process (see its --builder.chains)"))
    }
}

impl Actor for BuilderSupervisor {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        // Changes to this process's open builds go on its shred bus, for the builder processes
        // that follow it; its peers' join the same registry.
        self.open = Arc::new(interop::OpenBuilds::announcing(
            std::time::Duration::from_millis(2_000),
            Arc::clone(&self.edges.shreds),
        ));
        let local: std::collections::HashSet<ChainId> =
            self.devnet.chains.iter().map(|c| c.chain_id).filter(|c| self.builds_here(*c)).collect();
        for p in self.peers.clone() {
            info!(target: "opseq::builder::supervisor", peer = %p.name, "following a builder process");
            interop::follow_peer(Arc::clone(&self.open), p.shreds, p.name, local.clone());
        }
        for chain in self.devnet.chains.clone() {
            if !self.builds_here(chain.chain_id) {
                continue;
            }
            let id = chain.chain_id;
            let edges = self.edges.clone();
            let auto = self.auto;
            let state = Arc::clone(&self.state);
            let open = Arc::clone(&self.open);
            // actix's Supervisor restarts the actor in place if it stops (per-chain restart).
            let addr = Supervisor::start(move |_| ChainBuilderActor::new(chain, edges, auto, state, open));
            info!(target: "opseq::builder::supervisor", chain_id = id, auto, "chain builder started");
            self.chains.insert(id, addr);
        }
    }
}

/// A control operation (build jobs, auto mode, head changes) on one chain.
#[derive(Debug, Message)]
#[rtype(result = "Result<jobs::Reply, jobs::ControlError>")]
pub struct ChainControl(pub ChainId, pub jobs::Op, pub tracing::Span);

impl Handler<ChainControl> for BuilderSupervisor {
    type Result = ResponseFuture<Result<jobs::Reply, jobs::ControlError>>;
    fn handle(&mut self, ChainControl(chain, op, span): ChainControl, _: &mut Context<Self>) -> Self::Result {
        let addr = self.chains.get(&chain).cloned();
        Box::pin(async move {
            let addr = addr.ok_or_else(|| Self::not_here(chain))?;
            addr.send(jobs::Control(op, span)).await.map_err(|_| OpseqError::transient("chain builder restarting"))?
        })
    }
}

/// Seal and commit several open jobs (of any chains) built at one timestamp, each after the
/// jobs whose logs it executes where that order exists (blocks that execute each other's logs,
/// whose log graph includes keep acyclic, seal in the given order): `test_sealGroup`. Answers
/// each job's seal, in sealing order.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<(ChainId, String, jobs::Reply)>, jobs::ControlError>")]
pub struct SealGroup(pub Vec<(ChainId, String)>, pub tracing::Span);

impl Handler<SealGroup> for BuilderSupervisor {
    type Result = ResponseFuture<Result<Vec<(ChainId, String, jobs::Reply)>, jobs::ControlError>>;
    fn handle(&mut self, SealGroup(items, span): SealGroup, _: &mut Context<Self>) -> Self::Result {
        // Kahn's order over "k executes a log of i's block": i first.
        let builds: Vec<Option<interop::OpenBuild>> = items.iter().map(|(c, j)| self.open.get(*c, j)).collect();
        let needs = |k: usize, i: usize| {
            builds[k].as_ref().is_some_and(|b| {
                b.deps.iter().any(|d| d.init_chain == items[i].0)
                    && builds[i].as_ref().is_some_and(|x| x.timestamp == b.timestamp)
            })
        };
        let n = items.len();
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let Some(k) = (0..n).find(|&k| !done[k] && (0..n).all(|i| i == k || done[i] || !needs(k, i))) else {
                break;
            };
            done[k] = true;
            order.push(k);
        }
        order.extend((0..n).filter(|k| !done[*k]));
        let addrs: Vec<Option<Addr<ChainBuilderActor>>> =
            items.iter().map(|(c, _)| self.chains.get(c).cloned()).collect();
        // A job of a chain another process builds must be one this process follows (open
        // there), and there must be peers to ask: checked before anything is sealed.
        let missing = items
            .iter()
            .enumerate()
            .find(|(k, _)| addrs[*k].is_none() && (builds[*k].is_none() || self.peers.is_empty()))
            .map(|(_, (c, j))| (*c, j.clone()));
        let (peers, state) = (self.peers.clone(), Arc::clone(&self.edges.state));
        Box::pin(async move {
            if let Some((chain, job)) = missing {
                return Err(OpseqError::not_found(format!(
                    "chain {chain} is not built by this builder process, and job {job} is not an open build of a builder process it follows"
                ))
                .into());
            }
            let mut out = Vec::with_capacity(n);
            for k in order {
                let (chain, job) = items[k].clone();
                let r = match &addrs[k] {
                    Some(addr) => addr
                        .send(jobs::Control(jobs::Op::Seal(job.clone(), true), span.clone()))
                        .await
                        .map_err(|_| OpseqError::transient("chain builder restarting"))??,
                    None => seal_at_peer(&peers, &state, chain, &job).await?,
                };
                out.push((chain, job, r));
            }
            Ok(out)
        })
    }
}

/// Seals and commits `job` of `chain` at the peer that builds it (the first that does not
/// answer not-found), and reads the block it sealed from the shared store.
async fn seal_at_peer(
    peers: &[Peer],
    state: &Arc<dyn opseq_interfaces::StateSource>,
    chain: ChainId,
    job: &str,
) -> Result<jobs::Reply, jobs::ControlError> {
    for p in peers {
        match p.builder.seal_job(chain, job, true).await {
            Ok((hash, reorged_out)) => {
                let block = state.block_by_hash(chain, hash).await?.ok_or_else(|| {
                    OpseqError::transient(format!("block {hash} sealed by {} is not in the store", p.name))
                })?;
                return Ok(jobs::Reply::Sealed { block, committed: true, reorged_out });
            }
            Err(e) if e.class == opseq_primitives::ErrorClass::NotFound && e.message.contains("is not built by") => {}
            Err(e) => return Err(OpseqError { message: format!("{}: {}", p.name, e.message), ..e }.into()),
        }
    }
    Err(BuilderSupervisor::not_here(chain).into())
}

/// Mine one block on a chain now (`evm_mine`).
#[derive(Debug, Message)]
#[rtype(result = "Result<SealedBlock, OpseqError>")]
pub struct Mine(pub ChainId);

impl Handler<Mine> for BuilderSupervisor {
    type Result = ResponseFuture<Result<SealedBlock, OpseqError>>;
    fn handle(&mut self, Mine(chain): Mine, _: &mut Context<Self>) -> Self::Result {
        let addr = self.chains.get(&chain).cloned();
        Box::pin(async move {
            let addr = addr.ok_or_else(|| Self::not_here(chain))?;
            addr.send(MineNow).await.map_err(|_| OpseqError::transient("chain builder restarting"))?
        })
    }
}
