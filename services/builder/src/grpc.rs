//! `opseq.v1.ShredService` over a [`ShredBus`]: the shred stream for other processes.
use futures::StreamExt;
use opseq_interfaces::ShredBus;
use opseq_proto::{shred_from_wire, shred_to_wire, status_from_error, v1};
use std::{pin::Pin, sync::Arc};
use tonic::{Request, Response, Status};

/// The gRPC server of the shred bus.
#[derive(Debug, Clone)]
pub struct ShredGrpc {
    bus: Arc<dyn ShredBus>,
}

impl ShredGrpc {
    /// Serves `bus`.
    pub fn new(bus: Arc<dyn ShredBus>) -> v1::shred_service_server::ShredServiceServer<Self> {
        v1::shred_service_server::ShredServiceServer::new(Self { bus })
    }
}

type ShredStream = Pin<Box<dyn futures::Stream<Item = Result<v1::SubscribeShredsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl v1::shred_service_server::ShredService for ShredGrpc {
    async fn publish_shred(
        &self,
        r: Request<v1::PublishShredRequest>,
    ) -> Result<Response<v1::PublishShredResponse>, Status> {
        let s = r.into_inner().shred.ok_or_else(|| Status::invalid_argument("shred missing"))?;
        self.bus.publish(shred_from_wire(&s).map_err(status_from_error)?).await.map_err(status_from_error)?;
        Ok(Response::new(v1::PublishShredResponse {}))
    }

    type SubscribeShredsStream = ShredStream;

    async fn subscribe_shreds(
        &self,
        r: Request<v1::SubscribeShredsRequest>,
    ) -> Result<Response<Self::SubscribeShredsStream>, Status> {
        let (chain, from) = (r.get_ref().chain_id, r.get_ref().from_seq);
        let s = self.bus.subscribe_from((chain != 0).then_some(chain), from).await.map_err(status_from_error)?;
        Ok(Response::new(
            s.map(|(seq, s)| Ok(v1::SubscribeShredsResponse { shred: Some(shred_to_wire(&s)), seq })).boxed(),
        ))
    }
}
