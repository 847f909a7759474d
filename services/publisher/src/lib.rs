#![doc = include_str!("../README.md")]

use actix::{Actor, ActorFutureExt, Addr, AtomicResponse, Context, Handler, Message, WrapFuture};
use alloy_primitives::B256;
use async_trait::async_trait;
use futures::{StreamExt, stream::BoxStream};
use opseq_interfaces::{BlockSink, CommitDiff, EdgeResult, StateSource};
use opseq_primitives::{ChainId, OpseqError, SealedBlock};
use std::sync::Arc;
use tokio::sync::broadcast;
use tracing::{Instrument, info};

pub mod grpc;
pub mod op_node;

/// The publisher actor. Commits are processed one at a time (`AtomicResponse`), so blocks are
/// published in commit order.
#[derive(Debug)]
pub struct PublisherActor {
    state: Arc<dyn StateSource>,
    published: broadcast::Sender<SealedBlock>,
}

impl Actor for PublisherActor {
    type Context = Context<Self>;
}

/// Commit and publish a block.
#[derive(Debug, Message)]
#[rtype(result = "EdgeResult<Vec<B256>>")]
struct Commit(ChainId, SealedBlock, CommitDiff, tracing::Span);

impl Handler<Commit> for PublisherActor {
    type Result = AtomicResponse<Self, EdgeResult<Vec<B256>>>;
    fn handle(&mut self, Commit(chain, block, diff, span): Commit, _: &mut Context<Self>) -> Self::Result {
        let state = Arc::clone(&self.state);
        let published = self.published.clone();
        AtomicResponse::new(Box::pin(
            async move {
                let number = block.header.number;
                let hash = block.hash;
                let txs = block.transactions.len();
                let removed = state.commit(chain, block.clone(), diff).await?;
                info!(target: "opseq::publisher", chain_id = chain, number, %hash, txs, reorged_out = removed.len(), "committed block");
                metrics::counter!("opseq_publisher_blocks_total", "chain_id" => chain.to_string()).increment(1);
                // Best effort: nobody listening is fine.
                let _ = published.send(block);
                Ok(removed)
            }
            // The caller's trace continues through the mailbox.
            .instrument(span)
            .into_actor(self)
            .map(|r, _, _| r),
        ))
    }
}

/// `BlockSink` in-process: messages to the [`PublisherActor`].
#[derive(Debug, Clone)]
pub struct LocalPublisher {
    actor: Addr<PublisherActor>,
    published: broadcast::Sender<SealedBlock>,
}

impl LocalPublisher {
    /// Starts the actor (inside an actix system) committing to `state`.
    pub fn start(state: Arc<dyn StateSource>) -> Self {
        let published = broadcast::channel(256).0;
        let actor = PublisherActor { state, published: published.clone() }.start();
        Self { actor, published }
    }
}

#[async_trait]
impl BlockSink for LocalPublisher {
    async fn commit(&self, chain: ChainId, block: SealedBlock, diff: CommitDiff) -> EdgeResult<Vec<B256>> {
        self.actor
            .send(Commit(chain, block, diff, tracing::Span::current()))
            .await
            .map_err(|_| OpseqError::transient("publisher actor stopped"))?
    }
    async fn subscribe(&self) -> EdgeResult<BoxStream<'static, SealedBlock>> {
        let rx = self.published.subscribe();
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(b) => return Some((b, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return None,
                }
            }
        })
        .boxed())
    }
}
