#![doc = include_str!("../README.md")]

use actix::{Actor, Addr, Context, Handler, Message};
use alloy_primitives::{Address, B256, Bytes};
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

/// The signer actor, holding a local key. Signs with libsecp256k1 (RFC 6979 nonces, so the
/// same block always gets the same signature; about 3x faster than the pure-Rust k256 that
/// alloy's local signer uses, and signing is on every sealed block's critical path).
pub struct SignerActor {
    key: secp256k1::SecretKey,
    secp: secp256k1::Secp256k1<secp256k1::SignOnly>,
}

impl std::fmt::Debug for SignerActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerActor").finish_non_exhaustive()
    }
}

/// `r ‖ s ‖ v` with `v` = 27 + the recovery id, as op-node's p2p block signatures are written.
fn sign(secp: &secp256k1::Secp256k1<secp256k1::SignOnly>, key: &secp256k1::SecretKey, message: B256) -> Bytes {
    let sig = secp.sign_ecdsa_recoverable(secp256k1::Message::from_digest(message.0), key);
    let (id, rs) = sig.serialize_compact();
    let mut out = Vec::with_capacity(65);
    out.extend_from_slice(&rs);
    out.push(27 + i32::from(id) as u8);
    Bytes::from(out)
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
        Ok(sign(&self.secp, &self.key, signing_message(chain, hash)))
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
        let key = secp256k1::SecretKey::from_byte_array(key.0)
            .map_err(|e| OpseqError::invalid(format!("bad sequencer key: {e}")))?;
        let secp = secp256k1::Secp256k1::signing_only();
        let public = key.public_key(&secp).serialize_uncompressed();
        let address = Address::from_raw_public_key(&public[1..]);
        Ok(Self { actor: SignerActor { key, secp }.start(), address })
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

    #[actix_rt::test]
    async fn signatures_are_byte_equal_to_alloys_local_signer() {
        use alloy_signer::SignerSync;
        let key = opseq_primitives::DEV_SEQUENCER_KEY;
        let ours = LocalSigner::start(key).unwrap();
        let alloy = alloy_signer_local::PrivateKeySigner::from_bytes(&key).unwrap();
        assert_eq!(ours.address().await.unwrap(), alloy.address());
        for i in 0..32u8 {
            let hash = alloy_primitives::keccak256([i]);
            let want = alloy.sign_hash_sync(&signing_message(901, hash)).unwrap().as_bytes();
            assert_eq!(ours.sign_block(901, hash).await.unwrap().as_ref(), &want[..], "hash {hash}");
        }
    }
}
