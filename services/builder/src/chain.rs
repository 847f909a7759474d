//! `ChainBuilderActor`: one per chain; builds, seals, signs and commits blocks on its schedule.
use crate::reader::EdgeReader;
use actix::{Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, WrapFuture};
use alloy_primitives::Address;
use opseq_executor::{BlockBuilder, L1Origin, L2_TO_L1_MESSAGE_PASSER, NextBlock, parse_sequence_number};
use opseq_interfaces::Edges;
use opseq_primitives::{ChainConfig, OpseqError, SealedBlock, Shred, ShredLog};
use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tracing::{debug, error, warn};

/// Most transactions offered to one block.
const MAX_TXS_PER_BLOCK: usize = 10_000;

/// Builds the blocks of one chain.
#[derive(Debug)]
pub struct ChainBuilderActor {
    builder: Arc<BlockBuilder>,
    edges: Edges,
    auto: bool,
    failures: u32,
}

impl ChainBuilderActor {
    /// A builder for `config` using `edges`.
    pub fn new(config: ChainConfig, edges: Edges, auto: bool) -> Self {
        Self { builder: Arc::new(BlockBuilder::new(config)), edges, auto, failures: 0 }
    }

    fn schedule(&self, ctx: &mut Context<Self>, after: Duration) {
        ctx.run_later(after, |_, ctx| ctx.notify(BuildNext));
    }
}

impl Actor for ChainBuilderActor {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.auto {
            self.schedule(ctx, Duration::ZERO);
        }
    }
}

impl actix::Supervised for ChainBuilderActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        warn!(target: "opseq::builder::chain", chain_id = self.builder.config().chain_id, "restarting chain builder");
    }
}

/// Build the next block when its time has come.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct BuildNext;

impl Handler<BuildNext> for ChainBuilderActor {
    type Result = ();
    fn handle(&mut self, _: BuildNext, ctx: &mut Context<Self>) {
        let builder = Arc::clone(&self.builder);
        let edges = self.edges.clone();
        // `wait` holds the mailbox: one build at a time per chain.
        ctx.wait(
            async move {
                let chain = builder.config().chain_id;
                let head = edges.state.head(chain).await?;
                let parent = edges.state.block_by_number(chain, head.number).await?.ok_or_else(|| OpseqError::transient("head block missing"))?;
                let due = parent.header.timestamp + builder.config().block_time;
                let now = unix_now();
                if due > now {
                    return Ok(Some(Duration::from_secs(due - now)));
                }
                build_block(&builder, &edges, &parent).await?;
                Ok::<_, OpseqError>(None)
            }
            .into_actor(self)
            .map(|res, act, ctx| {
                let chain = act.builder.config().chain_id;
                let block_time = Duration::from_secs(act.builder.config().block_time);
                let next = match res {
                    Ok(Some(wait)) => wait.min(block_time),
                    Ok(None) => {
                        act.failures = 0;
                        Duration::ZERO
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
                if act.auto {
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
        actix::AtomicResponse::new(Box::pin(
            async move {
                let chain = builder.config().chain_id;
                let head = edges.state.head(chain).await?;
                let parent = edges
                    .state
                    .block_by_number(chain, head.number)
                    .await?
                    .ok_or_else(|| OpseqError::transient("head block missing"))?;
                build_block(&builder, &edges, &parent).await
            }
            .into_actor(self),
        ))
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Picks the L1 origin of the L2 block after `parent` at `timestamp`: the parent's origin, or its
/// successor once the successor's time has come (OP derivation rules: no gaps, `l2.time >= l1.time`).
async fn l1_origin(edges: &Edges, l1: u64, parent: &SealedBlock, timestamp: u64) -> Result<L1Origin, OpseqError> {
    let current = parent.l1_origin.unwrap_or_default();
    let current_block = edges
        .state
        .block_by_number(l1, current.number)
        .await?
        .ok_or_else(|| OpseqError::transient("L1 origin not found"))?;
    if let Some(next) = edges.state.block_by_number(l1, current.number + 1).await?
        && next.header.timestamp <= timestamp
        && next.header.parent_hash == current_block.hash
    {
        return Ok(L1Origin { header: next.header, hash: next.hash, sequence_number: 0 });
    }
    let seq = if parent.header.number == 0 {
        0
    } else {
        let first = parent.transactions.first().ok_or_else(|| OpseqError::fatal("L2 parent has no L1-info deposit"))?;
        let tx: op_alloy_consensus::OpTxEnvelope =
            alloy_eips::eip2718::Decodable2718::decode_2718_exact(first.as_ref())
                .map_err(|e| OpseqError::fatal(format!("L1-info deposit undecodable: {e}")))?;
        let input = alloy_consensus::Transaction::input(&tx);
        parse_sequence_number(input).ok_or_else(|| OpseqError::fatal("L1-info calldata too short"))? + 1
    };
    Ok(L1Origin { header: current_block.header, hash: current_block.hash, sequence_number: seq })
}

/// Builds, seals, signs and commits the block after `parent`.
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
        Some(l1) if config.is_l2() => Some(l1_origin(edges, l1, parent, timestamp).await?),
        _ => None,
    };
    let next = NextBlock { parent: parent.header.clone(), parent_hash: parent.hash, timestamp, l1_origin };
    let base_fee = builder.next_base_fee(&parent.header);
    let candidates = edges.txs.best(chain, base_fee, MAX_TXS_PER_BLOCK).await?;
    let t_best = started.elapsed();
    let reader = EdgeReader::new(Arc::clone(&edges.state), chain, tokio::runtime::Handle::current());
    // Batch the accounts we know we will touch.
    let mut touch: Vec<Address> = candidates.iter().map(|t| t.sender).collect();
    touch.extend([
        opseq_executor::L1_BLOCK_ADDRESS,
        opseq_executor::SEQUENCER_FEE_VAULT,
        opseq_executor::DEPOSITOR_ACCOUNT,
    ]);
    reader.prefetch(touch).await.map_err(OpseqError::transient)?;
    let t_prefetch = started.elapsed();
    let block_number = parent.header.number + 1;
    let shreds = Arc::clone(&edges.shreds);
    let b = Arc::clone(builder);
    let handle = tokio::runtime::Handle::current();
    let txs: Vec<_> = candidates.iter().map(|t| (t.raw.clone(), t.sender)).collect();
    let executed = tokio::task::spawn_blocking(move || {
        let mut on_included = |inc: &opseq_executor::IncludedTx| {
            let shred = Shred::TxIncluded {
                chain_id: chain,
                block_number,
                index: inc.index,
                tx_hash: inc.hash,
                success: inc.success,
                logs: inc
                    .logs
                    .iter()
                    .map(|l| ShredLog { address: l.address, topics: l.topics().to_vec(), data: l.data.data.clone() })
                    .collect(),
            };
            let _ = handle.block_on(shreds.publish(shred));
        };
        b.execute(&reader, &next, txs, &mut on_included)
    })
    .await
    .map_err(|e| OpseqError::fatal(format!("executor panicked: {e}")))?
    .map_err(|e| match e {
        opseq_executor::BuildError::State(m) => OpseqError::transient(m),
        other => OpseqError::fatal(other.to_string()),
    })?;
    let t_exec = started.elapsed();
    let storage_of = if builder.needs_message_passer_root(timestamp) { vec![L2_TO_L1_MESSAGE_PASSER] } else { vec![] };
    let roots = edges.state.compute_roots(chain, executed.diff.clone(), storage_of).await?;
    let withdrawals_root = roots.storage_roots.first().map(|(_, r)| *r);
    let t_roots = started.elapsed();
    let included: Vec<_> = executed.included.iter().map(|i| i.hash).collect();
    let invalid: Vec<_> = executed.rejected.iter().filter(|r| r.invalid).map(|r| r.hash).collect();
    for r in &executed.rejected {
        debug!(target: "opseq::builder::chain", chain_id = chain, hash = %r.hash, reason = %r.reason, invalid = r.invalid, "tx left out");
    }
    let diff = executed.diff.clone();
    let (mut block, to_sign) = builder.seal(executed, roots.state_root, withdrawals_root);
    if let Some(payload_hash) = to_sign {
        block.signature = Some(edges.signer.sign_block(chain, payload_hash).await?);
    }
    let t_sealed = started.elapsed();
    edges.sink.commit(chain, block.clone(), diff).await?;
    let t_commit = started.elapsed();
    if let Err(e) = edges.txs.on_block(chain, included, invalid).await {
        // The pool drops mined txs on its next read anyway (stale nonces), so this is not fatal.
        warn!(target: "opseq::builder::chain", chain_id = chain, error = %e, "could not tell the txpool about the block");
    }
    let _ = edges
        .shreds
        .publish(Shred::Sealed {
            chain_id: chain,
            block_number,
            block_hash: block.hash,
            tx_count: block.transactions.len() as u64,
        })
        .await;
    debug!(
        target: "opseq::builder::chain", chain_id = chain, number = block_number, txs = block.transactions.len(),
        best = ?t_best, prefetch = ?(t_prefetch - t_best), execute = ?(t_exec - t_prefetch), roots = ?(t_roots - t_exec),
        seal_sign = ?(t_sealed - t_roots), commit = ?(t_commit - t_sealed), total = ?started.elapsed(), "block timings"
    );
    metrics::histogram!("opseq_builder_build_seconds", "chain_id" => chain.to_string())
        .record(started.elapsed().as_secs_f64());
    metrics::gauge!("opseq_builder_head_number", "chain_id" => chain.to_string()).set(block_number as f64);
    Ok(block)
}
