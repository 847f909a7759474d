#![doc = include_str!("../README.md")]

mod chain;
mod compat;
pub mod ensemble;
pub mod grpc;
pub mod http;
pub mod interop;
pub mod jobs;
pub mod persist;
mod reader;
pub mod rpc;
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
}

impl BuilderSupervisor {
    /// A supervisor for `devnet`'s chains. `auto` starts block production on each chain's
    /// schedule, unless `state` persisted another mode for the chain.
    pub fn new(devnet: DevnetConfig, edges: Edges, auto: bool, state: persist::SequencerState) -> Self {
        Self { devnet, edges, auto, state: Arc::new(state), chains: BTreeMap::new() }
    }
}

impl Actor for BuilderSupervisor {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        for chain in self.devnet.chains.clone() {
            let id = chain.chain_id;
            let edges = self.edges.clone();
            let auto = self.auto;
            let state = Arc::clone(&self.state);
            // actix's Supervisor restarts the actor in place if it stops (per-chain restart).
            let addr = Supervisor::start(move |_| ChainBuilderActor::new(chain, edges, auto, state));
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
            let addr = addr.ok_or_else(|| OpseqError::not_found(format!("unknown chain {chain}")))?;
            addr.send(jobs::Control(op, span)).await.map_err(|_| OpseqError::transient("chain builder restarting"))?
        })
    }
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
            let addr = addr.ok_or_else(|| OpseqError::not_found(format!("unknown chain {chain}")))?;
            addr.send(MineNow).await.map_err(|_| OpseqError::transient("chain builder restarting"))?
        })
    }
}
