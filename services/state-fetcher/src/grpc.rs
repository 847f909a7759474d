//! `opseq.v1.StateService` over a [`StateSource`]: the only module that sees wire types.
use opseq_interfaces::{CommitDiff, StateSource};
use opseq_proto::{v1, *};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The gRPC server of the state-fetcher.
#[derive(Debug, Clone)]
pub struct StateGrpc {
    source: Arc<dyn StateSource>,
}

impl StateGrpc {
    /// Serves `source`.
    pub fn new(source: Arc<dyn StateSource>) -> v1::state_service_server::StateServiceServer<Self> {
        v1::state_service_server::StateServiceServer::new(Self { source })
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20)
    }
}

fn inv(e: opseq_primitives::OpseqError) -> Status {
    status_from_error(e)
}

#[tonic::async_trait]
impl v1::state_service_server::StateService for StateGrpc {
    async fn get_head(&self, r: Request<v1::GetHeadRequest>) -> Result<Response<v1::GetHeadResponse>, Status> {
        let head = self.source.head(r.get_ref().chain_id).await.map_err(inv)?;
        Ok(Response::new(v1::GetHeadResponse { head: Some(block_ref_to_wire(&head)) }))
    }
    async fn get_block(&self, r: Request<v1::GetBlockRequest>) -> Result<Response<v1::GetBlockResponse>, Status> {
        let r = r.into_inner();
        let block = match r.id {
            Some(v1::get_block_request::Id::Number(n)) => self.source.block_by_number(r.chain_id, n).await,
            Some(v1::get_block_request::Id::Hash(h)) => {
                self.source.block_by_hash(r.chain_id, b256(&h).map_err(inv)?).await
            }
            None => return Err(Status::invalid_argument("block id missing")),
        }
        .map_err(inv)?;
        Ok(Response::new(v1::GetBlockResponse { block: block.as_ref().map(block_to_wire) }))
    }
    async fn get_proof(&self, r: Request<v1::GetProofRequest>) -> Result<Response<v1::GetProofResponse>, Status> {
        let r = r.into_inner();
        let slots = r.slots.iter().map(|s| u256(s)).collect::<Result<Vec<_>, _>>().map_err(inv)?;
        let at = if r.block_hash.is_empty() { None } else { Some(b256(&r.block_hash).map_err(inv)?) };
        let p = self.source.proof(r.chain_id, address(&r.address).map_err(inv)?, slots, at).await.map_err(inv)?;
        Ok(Response::new(v1::GetProofResponse {
            account: p.account.as_ref().map(account_to_wire),
            storage_root: p.storage_root.to_vec(),
            account_proof: p.account_proof.iter().map(|n| n.to_vec()).collect(),
            storage: p
                .storage
                .iter()
                .map(|(k, v, proof)| v1::SlotProof {
                    key: k.to_be_bytes::<32>().to_vec(),
                    value: v.to_be_bytes::<32>().to_vec(),
                    proof: proof.iter().map(|n| n.to_vec()).collect(),
                })
                .collect(),
        }))
    }
    async fn get_block_hash(
        &self,
        r: Request<v1::GetBlockHashRequest>,
    ) -> Result<Response<v1::GetBlockHashResponse>, Status> {
        let r = r.into_inner();
        let hash = self.source.block_hash(r.chain_id, r.number).await.map_err(inv)?;
        Ok(Response::new(v1::GetBlockHashResponse { hash: hash.map(|h| h.to_vec()) }))
    }
    async fn get_tx_location(
        &self,
        r: Request<v1::GetTxLocationRequest>,
    ) -> Result<Response<v1::GetTxLocationResponse>, Status> {
        let r = r.into_inner();
        let loc = self.source.tx_location(r.chain_id, b256(&r.tx_hash).map_err(inv)?).await.map_err(inv)?;
        Ok(Response::new(match loc {
            Some(l) => v1::GetTxLocationResponse { found: true, block_number: l.block_number, index: l.index },
            None => v1::GetTxLocationResponse::default(),
        }))
    }
    async fn get_accounts(
        &self,
        r: Request<v1::GetAccountsRequest>,
    ) -> Result<Response<v1::GetAccountsResponse>, Status> {
        let r = r.into_inner();
        let addrs = r.addresses.iter().map(|a| address(a)).collect::<Result<Vec<_>, _>>().map_err(inv)?;
        let accounts = self.source.accounts(r.chain_id, addrs).await.map_err(inv)?;
        Ok(Response::new(v1::GetAccountsResponse {
            accounts: accounts.iter().map(|a| v1::MaybeAccount { account: a.as_ref().map(account_to_wire) }).collect(),
        }))
    }
    async fn get_storage(&self, r: Request<v1::GetStorageRequest>) -> Result<Response<v1::GetStorageResponse>, Status> {
        let r = r.into_inner();
        let slots = r
            .slots
            .iter()
            .map(|s| Ok((address(&s.address)?, u256(&s.slot)?)))
            .collect::<Result<Vec<_>, opseq_primitives::OpseqError>>()
            .map_err(inv)?;
        let values = self.source.storage(r.chain_id, slots).await.map_err(inv)?;
        Ok(Response::new(v1::GetStorageResponse {
            values: values.iter().map(|v| v.to_be_bytes::<32>().to_vec()).collect(),
        }))
    }
    async fn get_code(&self, r: Request<v1::GetCodeRequest>) -> Result<Response<v1::GetCodeResponse>, Status> {
        let r = r.into_inner();
        let code = self.source.code(r.chain_id, b256(&r.code_hash).map_err(inv)?).await.map_err(inv)?;
        Ok(Response::new(v1::GetCodeResponse { code: code.map(|c| c.to_vec()) }))
    }
    async fn compute_roots(
        &self,
        r: Request<v1::ComputeRootsRequest>,
    ) -> Result<Response<v1::ComputeRootsResponse>, Status> {
        let r = r.into_inner();
        let diff = diff_from_wire(&r.diff.unwrap_or_default()).map_err(inv)?;
        let of = r.storage_roots_of.iter().map(|a| address(a)).collect::<Result<Vec<_>, _>>().map_err(inv)?;
        let base = b256(&r.base_root).map_err(inv)?;
        let out = self.source.compute_roots(r.chain_id, base, diff, of).await.map_err(inv)?;
        Ok(Response::new(v1::ComputeRootsResponse {
            state_root: out.state_root.to_vec(),
            storage_roots: out
                .storage_roots
                .iter()
                .map(|(a, r)| v1::StorageRoot { address: a.to_vec(), root: r.to_vec() })
                .collect(),
        }))
    }
    async fn commit_block(
        &self,
        r: Request<v1::CommitBlockRequest>,
    ) -> Result<Response<v1::CommitBlockResponse>, Status> {
        let r = r.into_inner();
        let block =
            block_from_wire(r.block.as_ref().ok_or_else(|| Status::invalid_argument("block missing"))?).map_err(inv)?;
        let diff = match &r.diff {
            Some(d) => CommitDiff::Full(diff_from_wire(d).map_err(inv)?),
            None => CommitDiff::Computed,
        };
        let removed = self.source.commit(r.chain_id, block, diff).await.map_err(inv)?;
        Ok(Response::new(v1::CommitBlockResponse { reorged_out: removed.iter().map(|h| h.to_vec()).collect() }))
    }
    async fn set_head(&self, r: Request<v1::SetHeadRequest>) -> Result<Response<v1::SetHeadResponse>, Status> {
        let r = r.into_inner();
        let removed = self.source.set_head(r.chain_id, b256(&r.hash).map_err(inv)?).await.map_err(inv)?;
        Ok(Response::new(v1::SetHeadResponse { reorged_out: removed.iter().map(|h| h.to_vec()).collect() }))
    }
    async fn keep_block(&self, r: Request<v1::KeepBlockRequest>) -> Result<Response<v1::KeepBlockResponse>, Status> {
        let r = r.into_inner();
        let block =
            block_from_wire(r.block.as_ref().ok_or_else(|| Status::invalid_argument("block missing"))?).map_err(inv)?;
        let diff = diff_from_wire(&r.diff.unwrap_or_default()).map_err(inv)?;
        self.source.keep(r.chain_id, block, diff).await.map_err(inv)?;
        Ok(Response::new(v1::KeepBlockResponse {}))
    }
    async fn get_overlay(&self, r: Request<v1::GetOverlayRequest>) -> Result<Response<v1::GetOverlayResponse>, Status> {
        let r = r.into_inner();
        let o = self.source.overlay(r.chain_id, b256(&r.hash).map_err(inv)?).await.map_err(inv)?;
        Ok(Response::new(v1::GetOverlayResponse {
            diff: Some(diff_to_wire(&o.diff)),
            head: Some(block_ref_to_wire(&o.head)),
        }))
    }
    async fn dump_state(&self, r: Request<v1::DumpStateRequest>) -> Result<Response<v1::DumpStateResponse>, Status> {
        let accounts = self.source.dump(r.get_ref().chain_id).await.map_err(inv)?;
        Ok(Response::new(v1::DumpStateResponse {
            accounts: accounts
                .iter()
                .map(|a| v1::DumpedAccount {
                    address: a.address.to_vec(),
                    account: Some(account_to_wire(&a.state)),
                    code: a.code.to_vec(),
                    storage: slots_to_wire(&a.storage),
                })
                .collect(),
        }))
    }
}
