//! The OP p2p block-signing payload hash (OP specs, `rollup-node-p2p.md#block-signatures`).
use alloy_consensus::{Block, Header};
use alloy_primitives::B256;
use alloy_primitives::U256;
use alloy_rpc_types_engine::{ExecutionPayloadV1, ExecutionPayloadV2, ExecutionPayloadV3};
use op_alloy_consensus::OpTxEnvelope;
use op_alloy_rpc_types_engine::{OpExecutionPayload, OpExecutionPayloadEnvelope, OpExecutionPayloadV4};
use opseq_primitives::SealedBlock;

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

/// The engine-API payload envelope of a sealed block, as op-node's engine and the engine API take
/// it: an Isthmus L2 block is V4 (the message passer's storage root as `withdrawalsRoot`), others
/// V3. The txs are handed over as their bytes, not decoded.
pub fn payload_envelope(block: &SealedBlock, l2: bool) -> OpExecutionPayloadEnvelope {
    let h = &block.header;
    let v3 = ExecutionPayloadV3 {
        payload_inner: ExecutionPayloadV2 {
            payload_inner: ExecutionPayloadV1 {
                parent_hash: h.parent_hash,
                fee_recipient: h.beneficiary,
                state_root: h.state_root,
                receipts_root: h.receipts_root,
                logs_bloom: h.logs_bloom,
                prev_randao: h.mix_hash,
                block_number: h.number,
                gas_limit: h.gas_limit,
                gas_used: h.gas_used,
                timestamp: h.timestamp,
                extra_data: h.extra_data.clone(),
                base_fee_per_gas: U256::from(h.base_fee_per_gas.unwrap_or_default()),
                block_hash: block.hash,
                transactions: block.transactions.clone(),
            },
            withdrawals: vec![],
        },
        blob_gas_used: h.blob_gas_used.unwrap_or_default(),
        excess_blob_gas: h.excess_blob_gas.unwrap_or_default(),
    };
    let execution_payload = match h.withdrawals_root {
        Some(withdrawals_root) if l2 && h.requests_hash.is_some() => {
            OpExecutionPayload::V4(OpExecutionPayloadV4 { payload_inner: v3, withdrawals_root })
        }
        _ => OpExecutionPayload::V3(v3),
    };
    OpExecutionPayloadEnvelope { parent_beacon_block_root: h.parent_beacon_block_root, execution_payload }
}
