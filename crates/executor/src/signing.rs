//! The OP p2p block-signing payload hash (OP specs, `rollup-node-p2p.md#block-signatures`).
use alloy_consensus::{Block, Header};
use alloy_primitives::B256;
use op_alloy_consensus::OpTxEnvelope;
use op_alloy_rpc_types_engine::{OpExecutionPayload, OpExecutionPayloadEnvelope};

/// keccak256 of the SSZ-encoded payload envelope of an L2 block; the signer turns it into the
/// signing message `keccak256(domain ‖ chainId ‖ payloadHash)`.
pub fn payload_hash(hash: B256, header: &Header, txs: &[OpTxEnvelope]) -> B256 {
    let block = Block {
        header: header.clone(),
        body: alloy_consensus::BlockBody {
            transactions: txs.to_vec(),
            ommers: vec![],
            withdrawals: Some(Default::default()),
        },
    };
    let (payload, _) = OpExecutionPayload::from_block_unchecked(hash, &block);
    OpExecutionPayloadEnvelope { parent_beacon_block_root: header.parent_beacon_block_root, execution_payload: payload }
        .payload_hash()
        .0
}
