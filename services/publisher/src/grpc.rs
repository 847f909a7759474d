//! `opseq.v1.PublisherService` over a [`BlockSink`].
use futures::StreamExt;
use opseq_interfaces::{BlockSink, CommitDiff};
use opseq_proto::{block_from_wire, block_to_wire, diff_from_wire, status_from_error, v1};
use std::{pin::Pin, sync::Arc};
use tonic::{Request, Response, Status};

/// The gRPC server of the publisher.
#[derive(Debug, Clone)]
pub struct PublisherGrpc {
    sink: Arc<dyn BlockSink>,
}

impl PublisherGrpc {
    /// Serves `sink`.
    pub fn new(sink: Arc<dyn BlockSink>) -> v1::publisher_service_server::PublisherServiceServer<Self> {
        v1::publisher_service_server::PublisherServiceServer::new(Self { sink })
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20)
    }
}

type BlockStream = Pin<Box<dyn futures::Stream<Item = Result<v1::SubscribeBlocksResponse, Status>> + Send>>;

#[tonic::async_trait]
impl v1::publisher_service_server::PublisherService for PublisherGrpc {
    async fn commit(&self, r: Request<v1::CommitRequest>) -> Result<Response<v1::CommitResponse>, Status> {
        let r = r.into_inner();
        let block = block_from_wire(r.block.as_ref().ok_or_else(|| Status::invalid_argument("block missing"))?)
            .map_err(status_from_error)?;
        let diff = match &r.diff {
            Some(d) => CommitDiff::Full(diff_from_wire(d).map_err(status_from_error)?),
            None => CommitDiff::Computed,
        };
        let removed = self.sink.commit(r.chain_id, block, diff).await.map_err(status_from_error)?;
        Ok(Response::new(v1::CommitResponse { reorged_out: removed.iter().map(|h| h.to_vec()).collect() }))
    }

    type SubscribeBlocksStream = BlockStream;

    async fn subscribe_blocks(
        &self,
        _: Request<v1::SubscribeBlocksRequest>,
    ) -> Result<Response<Self::SubscribeBlocksStream>, Status> {
        let s = self.sink.subscribe().await.map_err(status_from_error)?;
        Ok(Response::new(s.map(|b| Ok(v1::SubscribeBlocksResponse { block: Some(block_to_wire(&b)) })).boxed()))
    }
}
