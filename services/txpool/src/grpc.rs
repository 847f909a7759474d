//! `opseq.v1.TxPoolService` over a [`TxSource`]: the only module that sees wire types.
use alloy_primitives::Bytes;
use futures::StreamExt;
use opseq_interfaces::TxSource;
use opseq_primitives::{PoolEvent, SubmitOutcome};
use opseq_proto::{v1, *};
use std::sync::Arc;
use tonic::{Request, Response, Status};

type EventStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<v1::SubscribePoolEventsResponse, Status>> + Send>>;

/// The gRPC server of the txpool.
#[derive(Debug, Clone)]
pub struct TxPoolGrpc {
    source: Arc<dyn TxSource>,
}

impl TxPoolGrpc {
    /// Serves `source`.
    pub fn new(source: Arc<dyn TxSource>) -> v1::tx_pool_service_server::TxPoolServiceServer<Self> {
        v1::tx_pool_service_server::TxPoolServiceServer::new(Self { source })
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20)
    }
}

/// Outcome to wire.
pub fn outcome_to_wire(o: SubmitOutcome) -> v1::SubmitOutcome {
    match o {
        SubmitOutcome::Pending => v1::SubmitOutcome::Pending,
        SubmitOutcome::Queued => v1::SubmitOutcome::Queued,
        SubmitOutcome::AlreadyKnown => v1::SubmitOutcome::AlreadyKnown,
        SubmitOutcome::Replaced => v1::SubmitOutcome::Replaced,
    }
}

#[tonic::async_trait]
impl v1::tx_pool_service_server::TxPoolService for TxPoolGrpc {
    async fn submit_tx(&self, r: Request<v1::SubmitTxRequest>) -> Result<Response<v1::SubmitTxResponse>, Status> {
        let r = r.into_inner();
        let (hash, outcome) = self.source.submit(r.chain_id, Bytes::from(r.raw)).await.map_err(status_from_error)?;
        Ok(Response::new(v1::SubmitTxResponse { hash: hash.to_vec(), outcome: outcome_to_wire(outcome) as i32 }))
    }
    async fn best_transactions(
        &self,
        r: Request<v1::BestTransactionsRequest>,
    ) -> Result<Response<v1::BestTransactionsResponse>, Status> {
        let r = r.into_inner();
        let txs = self.source.best(r.chain_id, r.base_fee, r.max as usize).await.map_err(status_from_error)?;
        Ok(Response::new(v1::BestTransactionsResponse { txs: txs.iter().map(pool_tx_to_wire).collect() }))
    }
    async fn block_committed(
        &self,
        r: Request<v1::BlockCommittedRequest>,
    ) -> Result<Response<v1::BlockCommittedResponse>, Status> {
        let r = r.into_inner();
        let inc = r.included.iter().map(|h| b256(h)).collect::<Result<Vec<_>, _>>().map_err(status_from_error)?;
        let inv = r.invalid.iter().map(|h| b256(h)).collect::<Result<Vec<_>, _>>().map_err(status_from_error)?;
        self.source.on_block(r.chain_id, inc, inv).await.map_err(status_from_error)?;
        Ok(Response::new(v1::BlockCommittedResponse {}))
    }
    async fn pending_nonce(
        &self,
        r: Request<v1::PendingNonceRequest>,
    ) -> Result<Response<v1::PendingNonceResponse>, Status> {
        let r = r.into_inner();
        let nonce = self
            .source
            .pending_nonce(r.chain_id, address(&r.sender).map_err(status_from_error)?)
            .await
            .map_err(status_from_error)?;
        Ok(Response::new(v1::PendingNonceResponse { nonce }))
    }
    async fn get_pooled_tx(
        &self,
        r: Request<v1::GetPooledTxRequest>,
    ) -> Result<Response<v1::GetPooledTxResponse>, Status> {
        let r = r.into_inner();
        let tx =
            self.source.get(r.chain_id, b256(&r.hash).map_err(status_from_error)?).await.map_err(status_from_error)?;
        Ok(Response::new(v1::GetPooledTxResponse { tx: tx.as_ref().map(pool_tx_to_wire) }))
    }
    async fn submit_txs(&self, r: Request<v1::SubmitTxsRequest>) -> Result<Response<v1::SubmitTxsResponse>, Status> {
        let r = r.into_inner();
        let raws = r.raws.into_iter().map(Bytes::from).collect();
        let results = self.source.submit_many(r.chain_id, raws).await.map_err(status_from_error)?;
        Ok(Response::new(v1::SubmitTxsResponse {
            results: results
                .into_iter()
                .map(|res| match res {
                    Ok((hash, outcome)) => v1::SubmitResult {
                        accepted: Some(v1::SubmitTxResponse {
                            hash: hash.to_vec(),
                            outcome: outcome_to_wire(outcome) as i32,
                        }),
                        ..Default::default()
                    },
                    Err(e) => {
                        let st = status_from_error(e);
                        v1::SubmitResult {
                            accepted: None,
                            error_code: st.code() as i32,
                            error_message: st.message().to_string(),
                        }
                    }
                })
                .collect(),
        }))
    }
    async fn pool_content(
        &self,
        r: Request<v1::PoolContentRequest>,
    ) -> Result<Response<v1::PoolContentResponse>, Status> {
        let c = self.source.content(r.get_ref().chain_id).await.map_err(status_from_error)?;
        Ok(Response::new(v1::PoolContentResponse {
            entries: c
                .iter()
                .map(|(t, pending)| v1::PoolEntry { tx: Some(pool_tx_to_wire(t)), pending: *pending })
                .collect(),
        }))
    }
    async fn drop_tx(&self, r: Request<v1::DropTxRequest>) -> Result<Response<v1::DropTxResponse>, Status> {
        let r = r.into_inner();
        let dropped = self
            .source
            .remove(r.chain_id, b256(&r.hash).map_err(status_from_error)?)
            .await
            .map_err(status_from_error)?;
        Ok(Response::new(v1::DropTxResponse { dropped }))
    }
    type SubscribePoolEventsStream = EventStream;

    async fn subscribe_pool_events(
        &self,
        r: Request<v1::SubscribePoolEventsRequest>,
    ) -> Result<Response<Self::SubscribePoolEventsStream>, Status> {
        let only = r.get_ref().chain_id;
        let events = self.source.subscribe().await.map_err(status_from_error)?;
        Ok(Response::new(
            events
                .filter(move |e| {
                    let chain = match e {
                        PoolEvent::Added { chain_id, .. } | PoolEvent::Removed { chain_id, .. } => *chain_id,
                    };
                    futures::future::ready(only == 0 || only == chain)
                })
                .map(|e| Ok(pool_event_to_wire(&e)))
                .boxed(),
        ))
    }

    async fn pool_status(&self, r: Request<v1::PoolStatusRequest>) -> Result<Response<v1::PoolStatusResponse>, Status> {
        let s = self.source.status(r.get_ref().chain_id).await.map_err(status_from_error)?;
        Ok(Response::new(v1::PoolStatusResponse { pending: s.pending, queued: s.queued }))
    }
}
