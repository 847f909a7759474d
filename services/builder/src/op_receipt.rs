//! The OP Stack fields of L2 receipts, in op-geth's JSON names: `l1GasPrice`, `l1BlobBaseFee`,
//! `l1GasUsed`, `l1Fee`, `l1BaseFeeScalar`, `l1BlobBaseFeeScalar`, `operatorFeeScalar` /
//! `operatorFeeConstant` (when either is set), and from Jovian `daFootprintGasScalar` and the tx's
//! `blobGasUsed` (its DA footprint). As op-geth: none on deposits, and none in a block that holds
//! only deposits. The values come from `opseq_executor::RollupFees` (the block's L1-info deposit
//! and op-revm's L1-cost formulas).
use alloy_primitives::{Bytes, U256};
use opseq_executor::RollupFees;
use serde_json::{Map, Value, json};

/// What the receipts of one block need: its L1-info values, if the block carries any user tx.
pub(crate) struct BlockFees(Option<RollupFees>);

impl BlockFees {
    /// From a block's txs (EIP-2718, the L1-info deposit first); `jovian`: the block follows
    /// Jovian.
    pub(crate) fn of(txs: &[Bytes], jovian: bool) -> Self {
        let only_deposits = txs.last().is_none_or(|t| t.first() == Some(&0x7e));
        if only_deposits {
            return Self(None);
        }
        let calldata = txs.first().and_then(|raw| {
            use alloy_eips::eip2718::Decodable2718;
            let tx = op_alloy_consensus::OpTxEnvelope::decode_2718_exact(raw).ok()?;
            Some(alloy_consensus::Transaction::input(&tx).clone())
        });
        Self(calldata.and_then(|c| RollupFees::from_l1_info(&c, jovian)))
    }

    /// Adds the fields of the tx `raw` to its receipt `o` (nothing for a deposit).
    pub(crate) fn add(&self, raw: &[u8], o: &mut Map<String, Value>) {
        let Some(fees) = &self.0 else { return };
        if raw.first() == Some(&0x7e) {
            return;
        }
        let f = fees.for_tx(raw);
        let big = |v: U256| json!(format!("{v:#x}"));
        let small = |v: u64| json!(format!("{v:#x}"));
        o.insert("l1GasPrice".into(), big(f.l1_gas_price));
        o.insert("l1BlobBaseFee".into(), big(f.l1_blob_base_fee));
        o.insert("l1GasUsed".into(), big(f.l1_gas_used));
        o.insert("l1Fee".into(), big(f.l1_fee));
        o.insert("l1BaseFeeScalar".into(), small(f.l1_base_fee_scalar));
        o.insert("l1BlobBaseFeeScalar".into(), small(f.l1_blob_base_fee_scalar));
        if let Some((scalar, constant)) = f.operator_fee {
            o.insert("operatorFeeScalar".into(), small(scalar));
            o.insert("operatorFeeConstant".into(), small(constant));
        }
        if let Some((scalar, footprint)) = f.da_footprint {
            o.insert("daFootprintGasScalar".into(), small(scalar));
            o.insert("blobGasUsed".into(), small(footprint));
        }
    }
}
