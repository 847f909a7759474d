//! `opseq.v1.ShredService` over a [`ShredBus`]: the shred stream for other processes.
use futures::StreamExt;
use opseq_interfaces::{PeerBuilder, ShredBus};
use opseq_proto::{shred_from_wire, shred_to_wire, status_from_error, v1};
use std::{pin::Pin, sync::Arc};
use tonic::{Request, Response, Status};

/// The gRPC server of the shred bus, and of the builder process's `SealJob` for its peers.
#[derive(Debug, Clone)]
pub struct ShredGrpc {
    bus: Arc<dyn ShredBus>,
    builder: Option<Arc<dyn PeerBuilder>>,
}

impl ShredGrpc {
    /// Serves `bus` (no `SealJob`).
    pub fn new(bus: Arc<dyn ShredBus>) -> v1::shred_service_server::ShredServiceServer<Self> {
        v1::shred_service_server::ShredServiceServer::new(Self { bus, builder: None })
    }

    /// Serves `bus`, and `SealJob` through `supervisor`.
    pub fn serving(
        bus: Arc<dyn ShredBus>,
        supervisor: actix::Addr<crate::BuilderSupervisor>,
    ) -> v1::shred_service_server::ShredServiceServer<Self> {
        let builder: Arc<dyn PeerBuilder> = Arc::new(crate::LocalPeer(supervisor));
        v1::shred_service_server::ShredServiceServer::new(Self { bus, builder: Some(builder) })
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

    async fn seal_job(&self, r: Request<v1::SealJobRequest>) -> Result<Response<v1::SealJobResponse>, Status> {
        let r = r.into_inner();
        let builder = self.builder.as_ref().ok_or_else(|| Status::unimplemented("no builder in this process"))?;
        let (hash, reorged_out) = builder.seal_job(r.chain_id, &r.job_id, r.commit).await.map_err(status_from_error)?;
        Ok(Response::new(v1::SealJobResponse {
            block_hash: hash.to_vec(),
            reorged_out: reorged_out.iter().map(|h| h.to_vec()).collect(),
        }))
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
