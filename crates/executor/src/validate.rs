//! Header rules checked against the parent before a given block is executed (what an execution
//! client checks on `newPayload`). Our own blocks satisfy them by construction.
use crate::build::{BlockBuilder, Rules};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_op_hardforks::OpHardforks;
use alloy_primitives::U256;

/// Gas limits may move by less than 1/1024 of the parent's per block, and not below 5000.
const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
const MIN_GAS_LIMIT: u64 = 5000;
/// Largest `extraData` on L1.
const MAX_EXTRA_DATA: usize = 32;

impl BlockBuilder {
    /// Checks `header` against `parent` and the chain's rules; the error names the rule.
    pub fn check_header(&self, parent: &Header, header: &Header) -> Result<(), String> {
        let parent_hash = parent.hash_slow();
        if header.parent_hash != parent_hash {
            return Err(format!("unknown parent: parentHash {} is not {}", header.parent_hash, parent_hash));
        }
        if header.number != parent.number + 1 {
            return Err(format!("invalid number {}: parent is {}", header.number, parent.number));
        }
        if header.timestamp <= parent.timestamp {
            return Err(format!("invalid timestamp {}: not after the parent's {}", header.timestamp, parent.timestamp));
        }
        if header.gas_used > header.gas_limit {
            return Err(format!("gas used {} above gas limit {}", header.gas_used, header.gas_limit));
        }
        let diff = header.gas_limit.abs_diff(parent.gas_limit);
        if (diff != 0 && diff >= parent.gas_limit / GAS_LIMIT_BOUND_DIVISOR) || header.gas_limit < MIN_GAS_LIMIT {
            return Err(format!("invalid gas limit {}: parent's is {}", header.gas_limit, parent.gas_limit));
        }
        if header.difficulty != U256::ZERO || !header.nonce.is_zero() || header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
            return Err("post-merge header with difficulty, nonce or ommers".into());
        }
        let want = self.next_base_fee(parent);
        if header.base_fee_per_gas != Some(want) {
            return Err(format!("invalid base fee {:?}: expected {want}", header.base_fee_per_gas));
        }
        if let Rules::L2(forks) = self.rules()
            && forks.is_holocene_active_at_timestamp(header.timestamp)
        {
            // Holocene `extraData` (version 0, 9 bytes), Jovian's (version 1, 17 bytes).
            let ok = if forks.is_jovian_active_at_timestamp(header.timestamp) {
                op_alloy_consensus::decode_jovian_extra_data(&header.extra_data).is_ok()
            } else {
                op_alloy_consensus::decode_holocene_extra_data(&header.extra_data).is_ok()
            };
            if !ok {
                return Err(format!("invalid extraData {} for the block's fork", header.extra_data));
            }
        }
        if let Rules::L1 { blob, .. } = self.rules() {
            if header.extra_data.len() > MAX_EXTRA_DATA {
                return Err(format!("extraData of {} bytes exceeds {MAX_EXTRA_DATA}", header.extra_data.len()));
            }
            let want = parent.next_block_excess_blob_gas(*blob).unwrap_or_default();
            if header.excess_blob_gas != Some(want) {
                return Err(format!("invalid excess blob gas {:?}: expected {want}", header.excess_blob_gas));
            }
            if header.blob_gas_used.unwrap_or_default() > blob.max_blob_gas_per_block() {
                return Err("blob gas used above the block maximum".into());
            }
        }
        Ok(())
    }
}
