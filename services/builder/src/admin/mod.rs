//! op-node's sequencer admin API (`admin_*`, op-node v1.19.0 `node/api.go` and
//! `rollup/sequencing/sequencer.go`), per chain, over our auto sequencing: what op-conductor and
//! operators' runbooks call, with op-node's error strings verbatim (op-conductor matches
//! "sequencer already running" and "sequencer not running" by substring, op-devstack "block hash
//! does not match"). Served on each chain's route with the control JWT. README.md in this folder
//! says what is not built yet.
use crate::{
    engine::EngineApi,
    jobs::{Op, Reply},
    rpc::{ChainRpc, codes, edge, err, no_params},
    test_api::unexpected,
};
use alloy_primitives::B256;
use alloy_rpc_types_engine::ForkchoiceState;
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use op_alloy_rpc_types_engine::OpExecutionPayloadV4;
use serde_json::{Value, json};
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

/// op-node's own strings (`sequencing.ErrSequencerAlreadyStarted` / `…Stopped`).
pub const ALREADY_RUNNING: &str = "sequencer already running";
/// See [`ALREADY_RUNNING`].
pub const NOT_RUNNING: &str = "sequencer not running";

/// One chain's admin API.
#[derive(Debug)]
pub struct AdminApi {
    chain: Arc<ChainRpc>,
    engine: Arc<EngineApi>,
    /// `admin_overrideLeader` was called (no conductor is consulted either way yet).
    leader_overridden: AtomicBool,
}

/// A plain error as op-node's Go RPC server returns one (-32000, the message).
fn node_err(msg: impl Into<String>) -> ErrorObjectOwned {
    err(codes::SERVER, msg)
}

impl AdminApi {
    /// The admin API of `chain`, importing posted payloads through `engine`.
    pub fn new(chain: Arc<ChainRpc>, engine: Arc<EngineApi>) -> Arc<Self> {
        Arc::new(Self { chain, engine, leader_overridden: AtomicBool::new(false) })
    }

    /// The `admin_*` methods.
    pub fn module(this: Arc<Self>) -> RpcModule<Arc<Self>> {
        let mut m = RpcModule::new(this);
        m.register_async_method("admin_sequencerActive", |p, ctx, _| async move {
            no_params(&p)?;
            ctx.active().await.map(Value::Bool)
        })
        .expect("unique");
        m.register_async_method("admin_startSequencer", |p, ctx, _| async move { ctx.start(p).await }).expect("unique");
        m.register_async_method("admin_stopSequencer", |p, ctx, _| async move {
            no_params(&p)?;
            ctx.stop().await
        })
        .expect("unique");
        m.register_async_method("admin_postUnsafePayload", |p, ctx, _| async move { ctx.post_unsafe_payload(p).await })
            .expect("unique");
        m.register_method("admin_conductorEnabled", |p, _, _| {
            no_params(&p)?;
            // No op-conductor is configured for op-sequencer yet.
            Ok::<_, ErrorObjectOwned>(Value::Bool(false))
        })
        .expect("unique");
        m.register_method("admin_overrideLeader", |p, ctx, _| {
            no_params(&p)?;
            ctx.leader_overridden.store(true, Ordering::SeqCst);
            Ok::<_, ErrorObjectOwned>(Value::Null)
        })
        .expect("unique");
        m
    }

    async fn active(&self) -> Result<bool, ErrorObjectOwned> {
        match self.chain.control(Op::AutoStatus).await? {
            Reply::Auto { active, .. } => Ok(active),
            other => Err(unexpected(other)),
        }
    }

    /// `admin_startSequencer(blockHash)`: sequencing resumes on the head, only if `blockHash` is
    /// the head (the safety check against reorgs in rotations).
    async fn start(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let (hash,): (B256,) = p.parse()?;
        if self.active().await? {
            return Err(node_err(ALREADY_RUNNING));
        }
        let head = self.chain.edges().state.head(self.chain.chain()).await.map_err(edge)?;
        if head.hash != hash {
            // op-node prints the head as an L2BlockRef: `hash:number`.
            return Err(node_err(format!(
                "block hash does not match: head {}:{}, received {hash}",
                head.hash, head.number
            )));
        }
        self.chain.control(Op::Auto(true, None)).await?;
        Ok(Value::Null)
    }

    /// `admin_stopSequencer`: stops after the block in flight (the builder's mailbox finishes a
    /// build before it reads the stop) and returns the head it stopped on.
    async fn stop(&self) -> Result<Value, ErrorObjectOwned> {
        if !self.active().await? {
            return Err(node_err(NOT_RUNNING));
        }
        self.chain.control(Op::Auto(false, None)).await?;
        let head = self.chain.edges().state.head(self.chain.chain()).await.map_err(edge)?;
        Ok(json!(head.hash))
    }

    /// `admin_postUnsafePayload({executionPayload, parentBeaconBlockRoot})`: a block from
    /// elsewhere (op-conductor's raft head when we are one block behind) is checked, executed and
    /// kept, and becomes the head when it extends the head.
    async fn post_unsafe_payload(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let (envelope,): (Value,) = p.parse()?;
        let beacon_root: B256 = serde_json::from_value(envelope["parentBeaconBlockRoot"].clone()).unwrap_or_default();
        // Isthmus payloads (V4: with the withdrawals root), the only kind our L2s have.
        let payload: OpExecutionPayloadV4 = serde_json::from_value(envelope["executionPayload"].clone())
            .map_err(|e| err(codes::INVALID_PARAMS, format!("invalid execution payload envelope: {e}")))?;
        let claimed = payload.payload_inner.payload_inner.payload_inner.block_hash;
        let status = self.engine.new_payload(payload, vec![], beacon_root, vec![]).await?;
        use alloy_rpc_types_engine::PayloadStatusEnum as S;
        match status.status {
            S::Valid => {}
            S::Invalid { validation_error } if validation_error.starts_with("blockhash mismatch") => {
                // op-node's check (`envelope.CheckBlockHash`) and words.
                let actual = validation_error.rsplit("got ").next().unwrap_or_default().to_string();
                return Err(node_err(format!("payload has bad block hash: {claimed}, actual block hash is: {actual}")));
            }
            // op-node queues any other payload like a gossiped one and returns; a block we cannot
            // place or execute is refused with the reason instead of being dropped silently.
            S::Syncing => return Err(node_err(format!("unknown parent of payload {claimed}"))),
            S::Invalid { validation_error } => {
                return Err(node_err(format!("invalid payload {claimed}: {validation_error}")));
            }
            S::Accepted => {}
        }
        let head = self.chain.edges().state.head(self.chain.chain()).await.map_err(edge)?;
        let block = self.chain.edges().state.block_by_hash(self.chain.chain(), claimed).await.map_err(edge)?;
        if block.is_some_and(|b| b.header.parent_hash == head.hash) {
            let state = ForkchoiceState {
                head_block_hash: claimed,
                safe_block_hash: B256::ZERO,
                finalized_block_hash: B256::ZERO,
            };
            self.engine.forkchoice_updated(state, None).await?;
        }
        Ok(Value::Null)
    }
}
