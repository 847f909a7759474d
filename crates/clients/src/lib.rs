#![doc = include_str!("../README.md")]

use alloy_primitives::{Address, B256, Bytes, U256};
use async_trait::async_trait;
use futures::{StreamExt, stream::BoxStream};
use opseq_interfaces::{
    AccountProof, BlockSigner, BlockSink, CommitDiff, DumpAccount, EdgeResult, PeerBuilder, RootsOutcome, ShredBus,
    StateOverlay, StateSource, TxSource,
};
use opseq_primitives::{
    AccountState, BlockRef, ChainId, OpseqError, PoolEvent, PoolStatus, PoolTx, SealedBlock, Shred, StateDiff,
    SubmitOutcome, TxLocation,
};
use opseq_proto::{v1, *};
use std::{future::Future, time::Duration};
use tonic::{Request, transport::Channel};

/// Deadline of one call.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_MSG: usize = 256 << 20;
/// HTTP/2 flow-control windows of the gRPC connections (both ends use the same).
pub const STREAM_WINDOW: u32 = 16 << 20;
/// See [`STREAM_WINDOW`].
pub const CONNECTION_WINDOW: u32 = 32 << 20;

/// A lazily connecting channel to `uri` (e.g. `http://127.0.0.1:7001`).
pub fn channel(uri: &str) -> Result<Channel, OpseqError> {
    Ok(Channel::from_shared(uri.to_string())
        .map_err(|e| OpseqError::invalid(format!("bad gRPC address {uri}: {e}")))?
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        // Blocks, pool selections and state diffs are megabytes: with HTTP/2's default 64 KiB
        // windows every such message waits on window updates round trip after round trip.
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .connect_lazy())
}

/// A request with the call deadline and the caller's W3C trace context in its metadata.
fn req<T>(m: T) -> Request<T> {
    let mut r = Request::new(m);
    r.set_timeout(CALL_TIMEOUT);
    for (k, v) in opseq_runtime::trace_headers() {
        if let (Ok(k), Ok(v)) = (k.parse::<tonic::metadata::MetadataKey<_>>(), v.parse()) {
            r.metadata_mut().insert(k, v);
        }
    }
    r
}

/// Whether a failed idempotent call is worth retrying (see the README table).
const fn should_retry(code: tonic::Code) -> bool {
    matches!(code, tonic::Code::Unavailable)
}

/// One idempotent call under the retry policy: `retry!(self, WHAT, method, message)` clones the
/// client and the message for each attempt and returns the response (or the classified error).
macro_rules! retry {
    ($self:ident, $what:expr, $method:ident, $msg:expr) => {{
        let m = $msg;
        with_retry($what, stringify!($method), || {
            let mut c = $self.client.clone();
            let m = m.clone();
            async move { c.$method(req(m)).await }
        })
        .await?
    }};
}

/// Times one gRPC call: `opseq_grpc_client_seconds` and, on failure,
/// `opseq_grpc_client_errors_total`, by peer, method and (errors) status code.
async fn timed<T>(
    peer: &'static str,
    method: &'static str,
    call: impl Future<Output = Result<T, tonic::Status>>,
) -> Result<T, tonic::Status> {
    let started = std::time::Instant::now();
    let r = call.await;
    metrics::histogram!("opseq_grpc_client_seconds", "peer" => peer, "method" => method)
        .record(started.elapsed().as_secs_f64());
    if let Err(s) = &r {
        metrics::counter!("opseq_grpc_client_errors_total", "peer" => peer, "method" => method, "code" => format!("{:?}", s.code()))
            .increment(1);
    }
    r
}

/// Calls `peer.method` once, timed; a failure is classified (no retry: for calls that are not
/// idempotent).
macro_rules! once {
    ($self:ident, $what:expr, $method:ident, $req:expr) => {
        timed($what, stringify!($method), $self.client.clone().$method($req)).await.map_err(|s| peer_error($what, s))
    };
}

async fn with_retry<T, F, Fut>(what: &'static str, method: &'static str, mut f: F) -> EdgeResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let mut delay = Duration::from_millis(100);
    for attempt in 0.. {
        match timed(what, method, f()).await {
            Ok(v) => return Ok(v),
            Err(s) if should_retry(s.code()) && attempt < 3 => {
                tracing::debug!(target: "opseq::clients", what, attempt, code = ?s.code(), "retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(s) => return Err(peer_error(what, s)),
        }
    }
    unreachable!()
}

/// A commit's diff on the wire: absent means the computed one.
fn commit_diff(d: &CommitDiff) -> Option<v1::StateDiff> {
    match d {
        CommitDiff::Full(d) => Some(diff_to_wire(d)),
        CommitDiff::Computed => None,
    }
}

fn peer_error(what: &str, s: tonic::Status) -> OpseqError {
    let mut e = error_from_status(s);
    if e.is_transient() {
        e.message = format!("{what} unreachable: {}", e.message);
    }
    e
}

/// `StateSource` over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcStateSource {
    client: v1::state_service_client::StateServiceClient<Channel>,
}

impl GrpcStateSource {
    /// A client of the state-fetcher at `uri`.
    pub fn new(uri: &str) -> Result<Self, OpseqError> {
        Ok(Self {
            client: v1::state_service_client::StateServiceClient::new(channel(uri)?)
                .max_decoding_message_size(MAX_MSG)
                .max_encoding_message_size(MAX_MSG),
        })
    }
}

const STATE: &str = "state-fetcher";

#[async_trait]
impl StateSource for GrpcStateSource {
    async fn head(&self, chain: ChainId) -> EdgeResult<BlockRef> {
        let r = retry!(self, STATE, get_head, v1::GetHeadRequest { chain_id: chain });
        block_ref_from_wire(r.get_ref().head.as_ref().ok_or_else(|| OpseqError::fatal("head missing"))?)
    }
    async fn block_by_number(&self, chain: ChainId, number: u64) -> EdgeResult<Option<SealedBlock>> {
        let m = v1::GetBlockRequest { chain_id: chain, id: Some(v1::get_block_request::Id::Number(number)) };
        let r = retry!(self, STATE, get_block, m);
        r.into_inner().block.as_ref().map(block_from_wire).transpose()
    }
    async fn proof(
        &self,
        chain: ChainId,
        address: Address,
        slots: Vec<U256>,
        at: Option<B256>,
    ) -> EdgeResult<AccountProof> {
        let m = v1::GetProofRequest {
            chain_id: chain,
            address: address.to_vec(),
            slots: slots.iter().map(|s| s.to_be_bytes::<32>().to_vec()).collect(),
            block_hash: at.map(|h| h.to_vec()).unwrap_or_default(),
        };
        let r = retry!(self, STATE, get_proof, m).into_inner();
        Ok(AccountProof {
            account: r.account.as_ref().map(account_from_wire).transpose()?,
            storage_root: b256(&r.storage_root)?,
            account_proof: r.account_proof.into_iter().map(Bytes::from).collect(),
            storage: r
                .storage
                .into_iter()
                .map(|s| Ok((u256(&s.key)?, u256(&s.value)?, s.proof.into_iter().map(Bytes::from).collect())))
                .collect::<EdgeResult<_>>()?,
        })
    }
    async fn block_hash(&self, chain: ChainId, number: u64) -> EdgeResult<Option<B256>> {
        let r = retry!(self, STATE, get_block_hash, v1::GetBlockHashRequest { chain_id: chain, number });
        r.into_inner().hash.as_deref().map(b256).transpose()
    }
    async fn block_by_hash(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<SealedBlock>> {
        let m = v1::GetBlockRequest { chain_id: chain, id: Some(v1::get_block_request::Id::Hash(hash.to_vec())) };
        let r = retry!(self, STATE, get_block, m);
        r.into_inner().block.as_ref().map(block_from_wire).transpose()
    }
    async fn tx_location(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<TxLocation>> {
        let m = v1::GetTxLocationRequest { chain_id: chain, tx_hash: hash.to_vec() };
        let r = retry!(self, STATE, get_tx_location, m).into_inner();
        Ok(r.found.then_some(TxLocation { block_number: r.block_number, index: r.index }))
    }
    async fn accounts(&self, chain: ChainId, addresses: Vec<Address>) -> EdgeResult<Vec<Option<AccountState>>> {
        let m = v1::GetAccountsRequest { chain_id: chain, addresses: addresses.iter().map(|a| a.to_vec()).collect() };
        let r = retry!(self, STATE, get_accounts, m).into_inner();
        r.accounts.iter().map(|a| a.account.as_ref().map(account_from_wire).transpose()).collect()
    }
    async fn storage(&self, chain: ChainId, slots: Vec<(Address, U256)>) -> EdgeResult<Vec<U256>> {
        let m = v1::GetStorageRequest {
            chain_id: chain,
            slots: slots
                .iter()
                .map(|(a, s)| v1::AccountSlot { address: a.to_vec(), slot: s.to_be_bytes::<32>().to_vec() })
                .collect(),
        };
        let r = retry!(self, STATE, get_storage, m).into_inner();
        r.values.iter().map(|v| u256(v)).collect()
    }
    async fn code(&self, chain: ChainId, code_hash: B256) -> EdgeResult<Option<Bytes>> {
        let m = v1::GetCodeRequest { chain_id: chain, code_hash: code_hash.to_vec() };
        let r = retry!(self, STATE, get_code, m).into_inner();
        Ok(r.code.map(Bytes::from))
    }
    async fn compute_roots(
        &self,
        chain: ChainId,
        base_root: B256,
        diff: StateDiff,
        of: Vec<Address>,
    ) -> EdgeResult<RootsOutcome> {
        let m = v1::ComputeRootsRequest {
            chain_id: chain,
            diff: Some(diff_to_wire(&diff)),
            storage_roots_of: of.iter().map(|a| a.to_vec()).collect(),
            base_root: base_root.to_vec(),
        };
        let r = retry!(self, STATE, compute_roots, m).into_inner();
        Ok(RootsOutcome {
            state_root: b256(&r.state_root)?,
            storage_roots: r
                .storage_roots
                .iter()
                .map(|s| Ok((address(&s.address)?, b256(&s.root)?)))
                .collect::<EdgeResult<_>>()?,
        })
    }
    async fn commit(&self, chain: ChainId, block: SealedBlock, diff: CommitDiff) -> EdgeResult<Vec<B256>> {
        let m =
            v1::CommitBlockRequest { chain_id: chain, block: Some(block_to_wire(&block)), diff: commit_diff(&diff) };
        let r = once!(self, STATE, commit_block, req(m))?.into_inner();
        hashes(&r.reorged_out)
    }
    async fn set_head(&self, chain: ChainId, hash: B256) -> EdgeResult<Vec<B256>> {
        let m = v1::SetHeadRequest { chain_id: chain, hash: hash.to_vec() };
        // Not retried: a rewind is not idempotent once other blocks were committed in between.
        let r = once!(self, STATE, set_head, req(m))?.into_inner();
        hashes(&r.reorged_out)
    }
    async fn keep(&self, chain: ChainId, block: SealedBlock, diff: StateDiff) -> EdgeResult<()> {
        let m = v1::KeepBlockRequest {
            chain_id: chain,
            block: Some(block_to_wire(&block)),
            diff: Some(diff_to_wire(&diff)),
        };
        retry!(self, STATE, keep_block, m);
        Ok(())
    }
    async fn overlay(&self, chain: ChainId, hash: B256) -> EdgeResult<StateOverlay> {
        let m = v1::GetOverlayRequest { chain_id: chain, hash: hash.to_vec() };
        let r = retry!(self, STATE, get_overlay, m).into_inner();
        Ok(StateOverlay {
            head: block_ref_from_wire(r.head.as_ref().ok_or_else(|| OpseqError::fatal("overlay without head"))?)?,
            diff: diff_from_wire(&r.diff.unwrap_or_default())?,
        })
    }
    async fn dump(&self, chain: ChainId) -> EdgeResult<Vec<DumpAccount>> {
        let r = retry!(self, STATE, dump_state, v1::DumpStateRequest { chain_id: chain }).into_inner();
        r.accounts
            .iter()
            .map(|a| {
                Ok(DumpAccount {
                    address: address(&a.address)?,
                    state: account_from_wire(a.account.as_ref().ok_or_else(|| OpseqError::fatal("account missing"))?)?,
                    code: Bytes::from(a.code.clone()),
                    storage: slots_from_wire(&a.storage)?,
                })
            })
            .collect()
    }
}

/// `TxSource` over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcTxSource {
    client: v1::tx_pool_service_client::TxPoolServiceClient<Channel>,
}

impl GrpcTxSource {
    /// A client of the txpool at `uri`.
    pub fn new(uri: &str) -> Result<Self, OpseqError> {
        Ok(Self {
            client: v1::tx_pool_service_client::TxPoolServiceClient::new(channel(uri)?)
                .max_decoding_message_size(MAX_MSG)
                .max_encoding_message_size(MAX_MSG),
        })
    }
}

const POOL: &str = "txpool";

#[async_trait]
impl TxSource for GrpcTxSource {
    async fn submit(&self, chain: ChainId, raw: Bytes) -> EdgeResult<(B256, SubmitOutcome)> {
        let r =
            once!(self, POOL, submit_tx, req(v1::SubmitTxRequest { chain_id: chain, raw: raw.to_vec() }))?.into_inner();
        Ok((b256(&r.hash)?, outcome_from_wire(r.outcome)))
    }
    async fn submit_many(
        &self,
        chain: ChainId,
        raws: Vec<Bytes>,
    ) -> EdgeResult<Vec<EdgeResult<(B256, SubmitOutcome)>>> {
        let m = v1::SubmitTxsRequest { chain_id: chain, raws: raws.iter().map(|r| r.to_vec()).collect() };
        // Not retried: a resent batch would answer "already known" for what the first one added.
        let r = once!(self, POOL, submit_txs, req(m))?.into_inner();
        Ok(r.results
            .into_iter()
            .map(|res| match res.accepted {
                Some(a) => Ok((b256(&a.hash)?, outcome_from_wire(a.outcome))),
                None => {
                    Err(error_from_status(tonic::Status::new(tonic::Code::from(res.error_code), res.error_message)))
                }
            })
            .collect())
    }
    async fn content(&self, chain: ChainId) -> EdgeResult<Vec<(PoolTx, bool)>> {
        let r = retry!(self, POOL, pool_content, v1::PoolContentRequest { chain_id: chain }).into_inner();
        r.entries
            .iter()
            .map(|e| {
                Ok((
                    pool_tx_from_wire(e.tx.as_ref().ok_or_else(|| OpseqError::fatal("pool entry without tx"))?)?,
                    e.pending,
                ))
            })
            .collect()
    }
    async fn remove(&self, chain: ChainId, hash: B256) -> EdgeResult<bool> {
        let m = v1::DropTxRequest { chain_id: chain, hash: hash.to_vec() };
        Ok(retry!(self, POOL, drop_tx, m).into_inner().dropped)
    }
    async fn best(&self, chain: ChainId, base_fee: u64, max: usize) -> EdgeResult<Vec<PoolTx>> {
        let m = v1::BestTransactionsRequest { chain_id: chain, base_fee, max: max as u64 };
        let r = retry!(self, POOL, best_transactions, m).into_inner();
        r.txs.iter().map(pool_tx_from_wire).collect()
    }
    async fn on_block(&self, chain: ChainId, included: Vec<B256>, invalid: Vec<B256>) -> EdgeResult<()> {
        let m = v1::BlockCommittedRequest {
            chain_id: chain,
            included: included.iter().map(|h| h.to_vec()).collect(),
            invalid: invalid.iter().map(|h| h.to_vec()).collect(),
        };
        // Idempotent: removing a tx twice is a no-op.
        retry!(self, POOL, block_committed, m);
        Ok(())
    }
    async fn pending_nonce(&self, chain: ChainId, sender: Address) -> EdgeResult<Option<u64>> {
        let m = v1::PendingNonceRequest { chain_id: chain, sender: sender.to_vec() };
        Ok(retry!(self, POOL, pending_nonce, m).into_inner().nonce)
    }
    async fn get(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<PoolTx>> {
        let m = v1::GetPooledTxRequest { chain_id: chain, hash: hash.to_vec() };
        let r = retry!(self, POOL, get_pooled_tx, m).into_inner();
        r.tx.as_ref().map(pool_tx_from_wire).transpose()
    }
    async fn status(&self, chain: ChainId) -> EdgeResult<PoolStatus> {
        let r = retry!(self, POOL, pool_status, v1::PoolStatusRequest { chain_id: chain }).into_inner();
        Ok(PoolStatus { pending: r.pending, queued: r.queued })
    }
    async fn subscribe(&self) -> EdgeResult<BoxStream<'static, PoolEvent>> {
        // A stream lives as long as its subscriber: no call deadline.
        let r = Request::new(v1::SubscribePoolEventsRequest { chain_id: 0 });
        let s = self.client.clone().subscribe_pool_events(r).await.map_err(|s| peer_error(POOL, s))?.into_inner();
        Ok(s.filter_map(|e| async move { e.ok().and_then(|e| pool_event_from_wire(&e).ok()) }).boxed())
    }
}

/// `BlockSigner` over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcSigner {
    client: v1::signer_service_client::SignerServiceClient<Channel>,
}

impl GrpcSigner {
    /// A client of the signer at `uri`.
    pub fn new(uri: &str) -> Result<Self, OpseqError> {
        Ok(Self { client: v1::signer_service_client::SignerServiceClient::new(channel(uri)?) })
    }
}

#[async_trait]
impl BlockSigner for GrpcSigner {
    async fn sign_block(&self, chain: ChainId, payload_hash: B256) -> EdgeResult<Bytes> {
        let m = v1::SignBlockRequest { chain_id: chain, payload_hash: payload_hash.to_vec() };
        // Signing is deterministic (RFC 6979): retrying cannot produce a second, different signature.
        let r = retry!(self, "signer", sign_block, m);
        Ok(Bytes::from(r.into_inner().signature))
    }
    async fn address(&self) -> EdgeResult<Address> {
        let r = retry!(self, "signer", signer_address, v1::SignerAddressRequest {});
        address(&r.get_ref().address)
    }
}

/// `BlockSink` over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcBlockSink {
    client: v1::publisher_service_client::PublisherServiceClient<Channel>,
}

impl GrpcBlockSink {
    /// A client of the publisher at `uri`.
    pub fn new(uri: &str) -> Result<Self, OpseqError> {
        Ok(Self {
            client: v1::publisher_service_client::PublisherServiceClient::new(channel(uri)?)
                .max_decoding_message_size(MAX_MSG)
                .max_encoding_message_size(MAX_MSG),
        })
    }
}

#[async_trait]
impl BlockSink for GrpcBlockSink {
    async fn commit(&self, chain: ChainId, block: SealedBlock, diff: CommitDiff) -> EdgeResult<Vec<B256>> {
        let m = v1::CommitRequest { chain_id: chain, block: Some(block_to_wire(&block)), diff: commit_diff(&diff) };
        let r = once!(self, "publisher", commit, req(m))?.into_inner();
        hashes(&r.reorged_out)
    }
    async fn subscribe(&self) -> EdgeResult<BoxStream<'static, SealedBlock>> {
        let mut r = Request::new(v1::SubscribeBlocksRequest {});
        r.set_timeout(Duration::from_secs(3600 * 24 * 365));
        let s = self.client.clone().subscribe_blocks(r).await.map_err(|s| peer_error("publisher", s))?.into_inner();
        Ok(s.filter_map(|b| async move { b.ok().and_then(|b| b.block).and_then(|b| block_from_wire(&b).ok()) }).boxed())
    }
}

fn outcome_from_wire(o: i32) -> SubmitOutcome {
    match v1::SubmitOutcome::try_from(o).unwrap_or_default() {
        v1::SubmitOutcome::Queued => SubmitOutcome::Queued,
        v1::SubmitOutcome::AlreadyKnown => SubmitOutcome::AlreadyKnown,
        v1::SubmitOutcome::Replaced => SubmitOutcome::Replaced,
        _ => SubmitOutcome::Pending,
    }
}

/// `ShredBus` (and `PeerBuilder`: the builder process serving the bus) over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcShredBus {
    client: v1::shred_service_client::ShredServiceClient<Channel>,
}

impl GrpcShredBus {
    /// A client of the shred bus at `uri`.
    pub fn new(uri: &str) -> Result<Self, OpseqError> {
        Ok(Self { client: v1::shred_service_client::ShredServiceClient::new(channel(uri)?) })
    }
}

#[async_trait]
impl PeerBuilder for GrpcShredBus {
    async fn seal_job(&self, chain: ChainId, job: &str, commit: bool) -> EdgeResult<(B256, Vec<B256>)> {
        let m = v1::SealJobRequest { chain_id: chain, job_id: job.to_string(), commit };
        let r = once!(self, "builder", seal_job, req(m))?.into_inner();
        let hash = |b: &[u8]| B256::try_from(b).map_err(|_| OpseqError::fatal("a block hash of the wrong length"));
        Ok((hash(&r.block_hash)?, r.reorged_out.iter().map(|h| hash(h)).collect::<EdgeResult<_>>()?))
    }
}

#[async_trait]
impl ShredBus for GrpcShredBus {
    async fn publish(&self, shred: Shred) -> EdgeResult<()> {
        let m = v1::PublishShredRequest { shred: Some(shred_to_wire(&shred)) };
        once!(self, "shred bus", publish_shred, req(m))?;
        Ok(())
    }
    async fn subscribe_from(
        &self,
        chain: Option<ChainId>,
        from_seq: u64,
    ) -> EdgeResult<BoxStream<'static, (u64, Shred)>> {
        let r = v1::SubscribeShredsRequest { chain_id: chain.unwrap_or(0), from_seq };
        let s = self
            .client
            .clone()
            .subscribe_shreds(Request::new(r))
            .await
            .map_err(|s| peer_error("shred bus", s))?
            .into_inner();
        Ok(s.filter_map(|r| async move {
            let r = r.ok()?;
            match shred_from_wire(&r.shred?) {
                Ok(s) => Some((r.seq, s)),
                Err(e) => {
                    // Skipped, not fatal: a newer peer may send kinds this build does not know.
                    tracing::warn!(target: "opseq::clients", seq = r.seq, error = %e, "undecodable shred skipped");
                    None
                }
            }
        })
        .boxed())
    }
}
