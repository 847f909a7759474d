#![doc = include_str!("README.md")]

use crate::{chain, reader::EdgeReader, rpc::ChainRpc};
use alloy_consensus::transaction::SignerRecoverable;
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_engine::{
    BlobsBundleV1, CancunPayloadFields, ForkchoiceState, ForkchoiceUpdated, PayloadId, PayloadStatus,
    PayloadStatusEnum, PraguePayloadFields,
};
use jsonrpsee::{RpcModule, types::ErrorObjectOwned};
use op_alloy_consensus::OpTxEnvelope;
use op_alloy_rpc_types_engine::{
    OpExecutionPayload, OpExecutionPayloadEnvelopeV4, OpExecutionPayloadSidecar, OpExecutionPayloadV4,
    OpPayloadAttributes,
};
use opseq_executor::{BlockBuilder, BlockInput, Executed, L2_BASE_FEE_PARAMS};
use opseq_interfaces::Edges;
use opseq_primitives::{BlockRef, ChainConfig, ChainId, OpseqError, SealedBlock, StateDiff};
use parking_lot::Mutex;
use std::{collections::VecDeque, sync::Arc};
use tracing::{info, warn};

/// Engine API error codes (execution-apis `engine/common.md`).
pub mod codes {
    /// `Unknown payload`.
    pub const UNKNOWN_PAYLOAD: i32 = -38001;
    /// `Invalid forkchoice state`.
    pub const INVALID_FORKCHOICE_STATE: i32 = -38002;
    /// `Invalid payload attributes`.
    pub const INVALID_PAYLOAD_ATTRIBUTES: i32 = -38003;
    /// `Unsupported fork`.
    pub const UNSUPPORTED_FORK: i32 = -38005;
}

/// The engine methods this server answers (`engine_exchangeCapabilities`).
pub const CAPABILITIES: &[&str] =
    &["engine_exchangeCapabilities", "engine_forkchoiceUpdatedV3", "engine_getPayloadV4", "engine_newPayloadV4"];

/// How many built payloads are kept for `engine_getPayload` (oldest forgotten first).
const KEPT_PAYLOADS: usize = 64;

/// The forkchoice labels a consensus client set on a chain (`safe`, `finalized`), which its
/// `eth_getBlockByNumber("safe" | "finalized")` then answers.
#[derive(Debug, Default)]
pub struct Forkchoice {
    labels: Mutex<std::collections::BTreeMap<ChainId, SafeAndFinalized>>,
}

/// A chain's `safe` and `finalized` blocks, where set.
type SafeAndFinalized = (Option<BlockRef>, Option<BlockRef>);

impl Forkchoice {
    /// The (safe, finalized) blocks last set on `chain`, if a consensus client set them.
    pub fn labels(&self, chain: ChainId) -> SafeAndFinalized {
        self.labels.lock().get(&chain).copied().unwrap_or_default()
    }
    fn set(&self, chain: ChainId, safe: Option<BlockRef>, finalized: Option<BlockRef>) {
        self.labels.lock().insert(chain, (safe, finalized));
    }
}

/// A payload built for `engine_forkchoiceUpdated` with attributes, kept for `engine_getPayload`.
#[derive(Debug, Clone)]
struct Built {
    id: PayloadId,
    block: SealedBlock,
}

/// The engine API of one L2 chain.
#[derive(Debug)]
pub struct EngineApi {
    config: ChainConfig,
    builder: Arc<BlockBuilder>,
    edges: Edges,
    forkchoice: Arc<Forkchoice>,
    built: Mutex<VecDeque<Built>>,
}

fn rpc_err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

fn internal(e: OpseqError) -> ErrorObjectOwned {
    rpc_err(-32603, e.message)
}

fn status(status: PayloadStatusEnum, latest_valid: Option<B256>) -> PayloadStatus {
    PayloadStatus { status, latest_valid_hash: latest_valid }
}

impl EngineApi {
    /// The engine API of the L2 `config`, building and storing through `edges`.
    pub fn new(config: ChainConfig, edges: Edges, forkchoice: Arc<Forkchoice>) -> Arc<Self> {
        let builder = Arc::new(BlockBuilder::new(config.clone()));
        Arc::new(Self { config, builder, edges, forkchoice, built: Mutex::new(VecDeque::new()) })
    }

    fn chain(&self) -> ChainId {
        self.config.chain_id
    }

    /// The engine methods, merged with the chain's `eth_*` methods (what a consensus client reads
    /// on the same authenticated port).
    pub fn module_of(this: Arc<Self>, eth: RpcModule<Arc<ChainRpc>>) -> RpcModule<Arc<Self>> {
        let mut m = RpcModule::new(this);
        m.register_method("engine_exchangeCapabilities", |_, _, _| {
            Ok::<_, ErrorObjectOwned>(serde_json::json!(CAPABILITIES))
        })
        .expect("unique");
        m.register_async_method("engine_forkchoiceUpdatedV3", |p, ctx, _| async move {
            let mut seq = p.sequence();
            let state: ForkchoiceState = seq.next()?;
            let attrs: Option<OpPayloadAttributes> = seq.optional_next()?;
            ctx.forkchoice_updated(state, attrs).await
        })
        .expect("unique");
        m.register_async_method("engine_getPayloadV4", |p, ctx, _| async move {
            let (id,): (PayloadId,) = p.parse()?;
            ctx.get_payload(id)
        })
        .expect("unique");
        m.register_async_method("engine_newPayloadV4", |p, ctx, _| async move {
            let (payload, hashes, beacon_root, requests): (OpExecutionPayloadV4, Vec<B256>, B256, Vec<Bytes>) =
                p.parse()?;
            ctx.new_payload(payload, hashes, beacon_root, requests).await
        })
        .expect("unique");
        m.merge(eth).expect("engine and eth names differ");
        m
    }

    /// `engine_forkchoiceUpdatedV3`: moves the head (a rewind, a reorg onto a known block, or the
    /// block just given by `newPayload`), records `safe` and `finalized`, and with attributes
    /// builds a payload on the head: exactly the attributes' transactions first (the L1-info
    /// deposit, user deposits, forced txs), then, unless `noTxPool`, the pool's best.
    pub(crate) async fn forkchoice_updated(
        &self,
        state: ForkchoiceState,
        attrs: Option<OpPayloadAttributes>,
    ) -> Result<ForkchoiceUpdated, ErrorObjectOwned> {
        let chain = self.chain();
        let state_source = &self.edges.state;
        let Some(head) = state_source.block_by_hash(chain, state.head_block_hash).await.map_err(internal)? else {
            // Not a block we have: the client should give it through newPayload first.
            return Ok(ForkchoiceUpdated::from_status(PayloadStatusEnum::Syncing));
        };
        let mut labels = [None, None];
        for (i, h) in [state.safe_block_hash, state.finalized_block_hash].into_iter().enumerate() {
            if h.is_zero() {
                continue;
            }
            let b = state_source.block_by_hash(chain, h).await.map_err(internal)?.ok_or_else(|| {
                rpc_err(codes::INVALID_FORKCHOICE_STATE, format!("Invalid forkchoice state: unknown block {h}"))
            })?;
            labels[i] = Some(b.block_ref());
        }
        if let Some(a) = &attrs {
            // Checked before anything moves: bad attributes change nothing.
            self.check_attributes(&head, a)?;
        }
        let current = state_source.head(chain).await.map_err(internal)?;
        if current.hash != head.hash {
            let removed = state_source.set_head(chain, head.hash).await.map_err(internal)?;
            info!(target: "opseq::engine", chain_id = chain, number = head.header.number, hash = %head.hash, reorged_out = removed.len(), "forkchoice moved the head");
        }
        self.forkchoice.set(chain, labels[0], labels[1]);
        let mut out = ForkchoiceUpdated::from_status(PayloadStatusEnum::Valid).with_latest_valid_hash(head.hash);
        if let Some(a) = attrs {
            let id = a.payload_id(&head.hash, 3);
            let block = self.build(&head, &a).await?;
            let mut built = self.built.lock();
            built.retain(|b| b.id != id);
            built.push_back(Built { id, block });
            while built.len() > KEPT_PAYLOADS {
                built.pop_front();
            }
            out = out.with_payload_id(id);
        }
        Ok(out)
    }

    fn check_attributes(&self, head: &SealedBlock, a: &OpPayloadAttributes) -> Result<(), ErrorObjectOwned> {
        let bad = |m: String| rpc_err(codes::INVALID_PAYLOAD_ATTRIBUTES, format!("Invalid payload attributes: {m}"));
        let t = a.payload_attributes.timestamp;
        if t <= head.header.timestamp {
            return Err(bad(format!("timestamp {t} is not after the parent's {}", head.header.timestamp)));
        }
        if a.payload_attributes.parent_beacon_block_root.is_none() {
            return Err(bad("parentBeaconBlockRoot is required (V3)".into()));
        }
        if a.gas_limit.is_none() {
            return Err(bad("gasLimit is required on an OP chain".into()));
        }
        if a.eip_1559_params.is_none() {
            return Err(bad("eip1559Params is required from Holocene".into()));
        }
        match (self.builder.is_jovian_at(t), a.min_base_fee.is_some()) {
            (true, false) => return Err(bad("minBaseFee is required from Jovian".into())),
            (false, true) => return Err(bad("minBaseFee must be absent before Jovian".into())),
            _ => {}
        }
        Ok(())
    }

    /// Executes and seals the block the attributes describe on `parent`.
    async fn build(&self, parent: &SealedBlock, a: &OpPayloadAttributes) -> Result<SealedBlock, ErrorObjectOwned> {
        let bad = |m: String| rpc_err(codes::INVALID_PAYLOAD_ATTRIBUTES, format!("Invalid payload attributes: {m}"));
        let forced = recover(a.transactions.as_deref().unwrap_or_default()).map_err(bad)?;
        let extra_data = if self.builder.is_jovian_at(a.payload_attributes.timestamp) {
            a.get_jovian_extra_data(L2_BASE_FEE_PARAMS)
        } else {
            a.get_holocene_extra_data(L2_BASE_FEE_PARAMS)
        }
        .map_err(|e| bad(e.to_string()))?;
        let pa = &a.payload_attributes;
        let template = alloy_consensus::Header {
            parent_hash: parent.hash,
            ommers_hash: alloy_consensus::EMPTY_OMMER_ROOT_HASH,
            beneficiary: pa.suggested_fee_recipient,
            number: parent.header.number + 1,
            gas_limit: a.gas_limit.unwrap_or(self.config.gas_limit),
            timestamp: pa.timestamp,
            mix_hash: pa.prev_randao,
            base_fee_per_gas: Some(self.builder.next_base_fee(&parent.header)),
            extra_data,
            parent_beacon_block_root: pa.parent_beacon_block_root,
            excess_blob_gas: Some(0),
            ..Default::default()
        };
        let candidates = if a.no_tx_pool.unwrap_or(false) {
            vec![]
        } else {
            let base_fee = template.base_fee_per_gas.unwrap_or_default();
            self.edges
                .txs
                .best(self.chain(), base_fee, 10_000)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|t| (t.raw, t.sender))
                .collect()
        };
        let input = BlockInput { template, withdrawals: vec![], l1_origin: origin_of(&forced) };
        let executed = self.execute(parent, input, forced, candidates).await.map_err(|e| match e {
            ExecError::Invalid(m) => bad(m),
            ExecError::Other(e) => internal(e),
        })?;
        // The consensus client signs what it builds through us: no signature of ours.
        let (block, diff, _) =
            chain::seal_unsigned(&self.builder, &self.edges, parent, executed).await.map_err(internal)?;
        self.edges.state.keep(self.chain(), block.clone(), diff).await.map_err(internal)?;
        Ok(block)
    }

    /// `engine_getPayloadV4`: a payload built by `forkchoiceUpdated`.
    fn get_payload(&self, id: PayloadId) -> Result<OpExecutionPayloadEnvelopeV4, ErrorObjectOwned> {
        let built = self.built.lock();
        let b = built.iter().find(|b| b.id == id).ok_or_else(|| rpc_err(codes::UNKNOWN_PAYLOAD, "Unknown payload"))?;
        let envelope = opseq_executor::payload_envelope(&b.block, true);
        let OpExecutionPayload::V4(execution_payload) = envelope.execution_payload else {
            return Err(rpc_err(codes::UNSUPPORTED_FORK, "Unsupported fork: the payload is not an Isthmus one"));
        };
        Ok(OpExecutionPayloadEnvelopeV4 {
            execution_payload,
            block_value: U256::ZERO,
            blobs_bundle: BlobsBundleV1 { commitments: vec![], proofs: vec![], blobs: vec![] },
            should_override_builder: false,
            parent_beacon_block_root: b.block.header.parent_beacon_block_root.unwrap_or_default(),
            execution_requests: vec![],
        })
    }

    /// `engine_newPayloadV4`: checks the block hash, then executes the block on its parent and
    /// keeps it (not canonical until a forkchoice update names it). A wrong hash is `INVALID`
    /// with geth's "blockhash mismatch" (no latest valid hash), an unknown parent `SYNCING`, a
    /// block whose execution disagrees with its header `INVALID` with the reason and the parent
    /// as latest valid; in each case nothing is stored. When our own state cannot be read or
    /// written (an edge down), the call fails with an internal error (-32603) the consensus
    /// client retries, never INVALID: the block was not judged.
    pub(crate) async fn new_payload(
        &self,
        payload: OpExecutionPayloadV4,
        versioned_hashes: Vec<B256>,
        parent_beacon_block_root: B256,
        requests: Vec<Bytes>,
    ) -> Result<PayloadStatus, ErrorObjectOwned> {
        let chain = self.chain();
        let claimed = payload.payload_inner.payload_inner.payload_inner.block_hash;
        let raws = payload.payload_inner.payload_inner.payload_inner.transactions.clone();
        let sidecar = OpExecutionPayloadSidecar::v4(
            CancunPayloadFields { parent_beacon_block_root, versioned_hashes },
            PraguePayloadFields::new(alloy_eips::eip7685::Requests::new(requests)),
        );
        let block = match OpExecutionPayload::V4(payload).try_into_block_with_sidecar::<OpTxEnvelope>(&sidecar) {
            Ok(b) => b,
            Err(e) => return Ok(status(PayloadStatusEnum::Invalid { validation_error: e.to_string() }, None)),
        };
        let computed = block.header.hash_slow();
        if computed != claimed {
            warn!(target: "opseq::engine", chain_id = chain, %claimed, %computed, "newPayload with a wrong block hash");
            // geth's answer and words (op-node and kona-node treat it as INVALID_BLOCK_HASH).
            return Ok(status(
                PayloadStatusEnum::Invalid {
                    validation_error: format!("blockhash mismatch, want {claimed}, got {computed}"),
                },
                None,
            ));
        }
        match self.edges.state.block_by_hash(chain, claimed).await {
            Ok(Some(_)) => return Ok(status(PayloadStatusEnum::Valid, Some(claimed))),
            Ok(None) => {}
            Err(e) => return Err(internal(e)),
        }
        let parent = match self.edges.state.block_by_hash(chain, block.header.parent_hash).await {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(status(PayloadStatusEnum::Syncing, None)),
            Err(e) => return Err(internal(e)),
        };
        let invalid = |m: String| Ok(status(PayloadStatusEnum::Invalid { validation_error: m }, Some(parent.hash)));
        let txs = match with_senders(raws, &block.body.transactions) {
            Ok(t) => t,
            Err(m) => return invalid(m),
        };
        let header = block.header;
        let input = BlockInput { template: header.clone(), withdrawals: vec![], l1_origin: origin_of(&txs) };
        let executed = match self.execute(&parent, input, txs, vec![]).await {
            Ok(x) => x,
            Err(ExecError::Invalid(m)) => return invalid(m),
            Err(ExecError::Other(e)) => return Err(internal(e)),
        };
        if let Some(m) = mismatch(&header, &executed) {
            return invalid(m);
        }
        let (sealed, diff, _): (SealedBlock, StateDiff, _) =
            match chain::seal_unsigned(&self.builder, &self.edges, &parent, executed).await {
                Ok(x) => x,
                Err(e) => return Err(internal(e)),
            };
        if sealed.hash != claimed {
            return invalid(format!(
                "state root {} or withdrawals root {:?} differ from the executed block's ({}, {:?})",
                header.state_root, header.withdrawals_root, sealed.header.state_root, sealed.header.withdrawals_root
            ));
        }
        if let Err(e) = self.edges.state.keep(chain, sealed, diff).await {
            return Err(internal(e));
        }
        Ok(status(PayloadStatusEnum::Valid, Some(claimed)))
    }

    async fn execute(
        &self,
        parent: &SealedBlock,
        input: BlockInput,
        forced: Vec<(Bytes, Address)>,
        candidates: Vec<(Bytes, Address)>,
    ) -> Result<Executed, ExecError> {
        let (reader, _) = chain::reader_for(&self.edges, self.chain(), parent).await.map_err(ExecError::Other)?;
        let builder = Arc::clone(&self.builder);
        let reader: Arc<EdgeReader> = reader;
        tokio::task::spawn_blocking(move || builder.execute_input(&*reader, &input, forced, candidates, &mut |_| {}))
            .await
            .map_err(|e| ExecError::Other(OpseqError::fatal(format!("executor panicked: {e}"))))?
            .map_err(|e| match e {
                opseq_executor::BuildError::State(m) => ExecError::Other(OpseqError::transient(m)),
                other => ExecError::Invalid(other.to_string()),
            })
    }
}

enum ExecError {
    Invalid(String),
    Other(OpseqError),
}

/// Which header fields execution got differently (gas used, receipts root, logs bloom).
fn mismatch(header: &alloy_consensus::Header, executed: &Executed) -> Option<String> {
    let e = &executed.header;
    if e.gas_used != header.gas_used {
        return Some(format!("gas used {} differs from the executed block's {}", header.gas_used, e.gas_used));
    }
    if e.receipts_root != header.receipts_root {
        return Some(format!(
            "receipts root {} differs from the executed block's {}",
            header.receipts_root, e.receipts_root
        ));
    }
    if e.logs_bloom != header.logs_bloom {
        return Some("logs bloom differs from the executed block's".into());
    }
    None
}

/// Decodes and recovers the senders of EIP-2718 txs (deposits: their `from`).
fn recover(raws: &[Bytes]) -> Result<Vec<(Bytes, Address)>, String> {
    let txs = raws
        .iter()
        .enumerate()
        .map(|(i, raw)| OpTxEnvelope::decode_2718_exact(raw).map_err(|e| format!("transaction {i}: undecodable: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    with_senders(raws.to_vec(), &txs)
}

/// The raw txs with the senders of their decoded forms `txs` (deposits: their `from`).
fn with_senders(raws: Vec<Bytes>, txs: &[OpTxEnvelope]) -> Result<Vec<(Bytes, Address)>, String> {
    raws.into_iter()
        .zip(txs)
        .enumerate()
        .map(|(i, (raw, tx))| {
            let sender = tx.recover_signer().map_err(|e| format!("transaction {i}: invalid signature: {e}"))?;
            Ok((raw, sender))
        })
        .collect()
}

/// The L1 origin named by a block's first tx, its L1-info deposit.
fn origin_of(txs: &[(Bytes, Address)]) -> Option<BlockRef> {
    let (raw, _) = txs.first()?;
    let tx = OpTxEnvelope::decode_2718_exact(raw).ok()?;
    let values = opseq_executor::parse_l1_info(alloy_consensus::Transaction::input(&tx))?;
    Some(BlockRef { number: values.origin_number, hash: values.origin_hash })
}
