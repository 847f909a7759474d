#![doc = include_str!("../README.md")]

use actix::{Actor, Addr, Context, Handler, Message};
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use async_trait::async_trait;
use opseq_interfaces::{BlockSigner, EdgeResult};
use opseq_primitives::{ChainId, OpseqError};

pub mod grpc;

/// The signing message of the OP p2p spec: `keccak256(domain(32 zero bytes) ‖ chainId ‖ payloadHash)`.
pub fn signing_message(chain: ChainId, payload_hash: B256) -> B256 {
    let mut buf = [0u8; 96];
    buf[32..64].copy_from_slice(&B256::left_padding_from(&chain.to_be_bytes()).0);
    buf[64..].copy_from_slice(payload_hash.as_slice());
    alloy_primitives::keccak256(buf)
}

/// The signer actor, holding a local key.
#[derive(Debug)]
pub struct SignerActor {
    key: PrivateKeySigner,
}

impl Actor for SignerActor {
    type Context = Context<Self>;
}

/// Sign a payload hash.
#[derive(Debug, Message)]
#[rtype(result = "EdgeResult<Bytes>")]
struct Sign(ChainId, B256);

impl Handler<Sign> for SignerActor {
    type Result = EdgeResult<Bytes>;
    fn handle(&mut self, Sign(chain, hash): Sign, _: &mut Context<Self>) -> Self::Result {
        let sig = self
            .key
            .sign_hash_sync(&signing_message(chain, hash))
            .map_err(|e| OpseqError::fatal(format!("signing failed: {e}")))?;
        Ok(Bytes::from(sig.as_bytes().to_vec()))
    }
}

/// `BlockSigner` in-process: messages to the [`SignerActor`].
#[derive(Debug, Clone)]
pub struct LocalSigner {
    actor: Addr<SignerActor>,
    address: Address,
}

impl LocalSigner {
    /// Starts the actor with `key` (must run inside an actix system).
    pub fn start(key: B256) -> Result<Self, OpseqError> {
        let key =
            PrivateKeySigner::from_bytes(&key).map_err(|e| OpseqError::invalid(format!("bad sequencer key: {e}")))?;
        let address = key.address();
        Ok(Self { actor: SignerActor { key }.start(), address })
    }
}

#[async_trait]
impl BlockSigner for LocalSigner {
    async fn sign_block(&self, chain: ChainId, payload_hash: B256) -> EdgeResult<Bytes> {
        self.actor.send(Sign(chain, payload_hash)).await.map_err(|_| OpseqError::transient("signer actor stopped"))?
    }
    async fn address(&self) -> EdgeResult<Address> {
        Ok(self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Signature;

    #[actix_rt::test]
    async fn signature_recovers_to_the_signer_over_the_op_signing_message() {
        let signer = LocalSigner::start(opseq_primitives::DEV_SEQUENCER_KEY).unwrap();
        let hash = B256::repeat_byte(7);
        let sig = signer.sign_block(901, hash).await.unwrap();
        let sig = Signature::try_from(sig.as_ref()).unwrap();
        let who = sig.recover_address_from_prehash(&signing_message(901, hash)).unwrap();
        assert_eq!(who, signer.address().await.unwrap());
        // A different chain id gives a different message: no cross-chain replay.
        assert_ne!(signing_message(901, hash), signing_message(902, hash));
    }
}
