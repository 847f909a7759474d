//! `opseq.v1.SignerService` over a [`BlockSigner`].
use opseq_interfaces::BlockSigner;
use opseq_proto::{b256, status_from_error, v1};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The gRPC server of the signer.
#[derive(Debug, Clone)]
pub struct SignerGrpc {
    signer: Arc<dyn BlockSigner>,
}

impl SignerGrpc {
    /// Serves `signer`.
    pub fn new(signer: Arc<dyn BlockSigner>) -> v1::signer_service_server::SignerServiceServer<Self> {
        v1::signer_service_server::SignerServiceServer::new(Self { signer })
    }
}

#[tonic::async_trait]
impl v1::signer_service_server::SignerService for SignerGrpc {
    async fn sign_block(&self, r: Request<v1::SignBlockRequest>) -> Result<Response<v1::SignBlockResponse>, Status> {
        let r = r.into_inner();
        let sig = self
            .signer
            .sign_block(r.chain_id, b256(&r.payload_hash).map_err(status_from_error)?)
            .await
            .map_err(status_from_error)?;
        Ok(Response::new(v1::SignBlockResponse { signature: sig.to_vec() }))
    }
    async fn signer_address(
        &self,
        _: Request<v1::SignerAddressRequest>,
    ) -> Result<Response<v1::SignerAddressResponse>, Status> {
        let a = self.signer.address().await.map_err(status_from_error)?;
        Ok(Response::new(v1::SignerAddressResponse { address: a.to_vec() }))
    }
}
