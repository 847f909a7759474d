//! The L1-cost fields of an L2 receipt, as op-geth derives them (`core/types/receipt_opstack.go`
//! at op-geth v1.101702.3-rc.2): from the block's L1-info deposit, the L1 base fee, blob base fee
//! and scalars; per non-deposit tx, the L1 fee and L1 gas of its encoding (op-revm's
//! `L1BlockInfo`, the formula the executor charged), the operator fee parameters (when either is
//! set) and, from Jovian, the DA-footprint gas scalar and the tx's DA footprint.
use crate::l1info::{DA_FOOTPRINT_GAS_SCALAR_DEFAULT, parse_l1_info};
use alloy_primitives::U256;
use op_revm::{L1BlockInfo, OpSpecId};

/// The block-wide values of the L1-info deposit.
#[derive(Debug, Clone)]
pub struct RollupFees {
    info: L1BlockInfo,
    operator_fee: Option<(u32, u64)>,
    da_footprint_gas_scalar: Option<u16>,
    spec: OpSpecId,
}

/// One tx's L1-cost fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxRollupFees {
    /// The L1 fee charged (wei).
    pub l1_fee: U256,
    /// The L1 gas of its compressed size estimate (Fjord: estimated size × 16).
    pub l1_gas_used: U256,
    /// The L1 origin's base fee.
    pub l1_gas_price: U256,
    /// The L1 origin's blob base fee.
    pub l1_blob_base_fee: U256,
    /// Ecotone scalars.
    pub l1_base_fee_scalar: u64,
    /// Ecotone blob scalar.
    pub l1_blob_base_fee_scalar: u64,
    /// Isthmus operator fee (scalar, constant), when either is non-zero.
    pub operator_fee: Option<(u64, u64)>,
    /// Jovian: (DA-footprint gas scalar, this tx's DA footprint = scalar × estimated DA size).
    pub da_footprint: Option<(u64, u64)>,
}

impl RollupFees {
    /// From a block's L1-info calldata (Ecotone, Isthmus or Jovian layout); `jovian`: the block
    /// follows Jovian (op-revm's Jovian formulas). `None` for anything else.
    pub fn from_l1_info(calldata: &[u8], jovian: bool) -> Option<Self> {
        let v = parse_l1_info(calldata)?;
        let word = |at: usize| U256::from_be_slice(&calldata[at..at + 32]);
        let c = v.system_config;
        let isthmus = calldata.len() > 164;
        let info = L1BlockInfo {
            l1_base_fee: word(36),
            l1_base_fee_scalar: U256::from(c.base_fee_scalar),
            l1_blob_base_fee: Some(word(68)),
            l1_blob_base_fee_scalar: Some(U256::from(c.blob_base_fee_scalar)),
            operator_fee_scalar: isthmus.then(|| U256::from(c.operator_fee_scalar)),
            operator_fee_constant: isthmus.then(|| U256::from(c.operator_fee_constant)),
            da_footprint_gas_scalar: v.jovian.then_some(c.da_footprint_gas_scalar),
            ..Default::default()
        };
        let operator_fee = isthmus.then_some((c.operator_fee_scalar, c.operator_fee_constant));
        // op-geth reads the scalar from the calldata at Jovian blocks (the activation block's
        // Isthmus calldata has none: the default).
        let da_footprint_gas_scalar = jovian.then_some(match (v.jovian, c.da_footprint_gas_scalar) {
            (true, s) if s != 0 => s,
            _ => DA_FOOTPRINT_GAS_SCALAR_DEFAULT,
        });
        let spec = if jovian {
            OpSpecId::JOVIAN
        } else if isthmus {
            OpSpecId::ISTHMUS
        } else {
            OpSpecId::ECOTONE
        };
        Some(Self { info, operator_fee, da_footprint_gas_scalar, spec })
    }

    /// The fields of the non-deposit tx whose EIP-2718 encoding is `raw`.
    pub fn for_tx(&self, raw: &[u8]) -> TxRollupFees {
        let mut info = self.info.clone();
        let l1_fee = info.calculate_tx_l1_cost(raw, self.spec);
        let l1_gas_used = info.data_gas(raw, self.spec);
        // DA size: the Fjord estimate (scaled by 1e6) in bytes.
        let da_size = op_revm::estimate_tx_compressed_size(raw) / 1_000_000;
        TxRollupFees {
            l1_fee,
            l1_gas_used,
            l1_gas_price: self.info.l1_base_fee,
            l1_blob_base_fee: self.info.l1_blob_base_fee.unwrap_or_default(),
            l1_base_fee_scalar: self.info.l1_base_fee_scalar.to::<u64>(),
            l1_blob_base_fee_scalar: self.info.l1_blob_base_fee_scalar.unwrap_or_default().to::<u64>(),
            operator_fee: self.operator_fee.filter(|(s, c)| *s != 0 || *c != 0).map(|(s, c)| (u64::from(s), c)),
            da_footprint: self.da_footprint_gas_scalar.map(|s| (u64::from(s), u64::from(s) * da_size)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l1info::{L1InfoParams, l1_info_calldata};
    use alloy_consensus::Header;
    use alloy_primitives::B256;

    #[test]
    fn fees_follow_the_l1_info_values_and_the_fjord_estimate() {
        let origin = Header { base_fee_per_gas: Some(7_000_000_000), excess_blob_gas: Some(0), ..Default::default() };
        let p = L1InfoParams { operator_fee_scalar: 0, operator_fee_constant: 0, ..L1InfoParams::default() };
        let isthmus = RollupFees::from_l1_info(&l1_info_calldata(&origin, B256::ZERO, 1, &p, false), false).unwrap();
        let raw = [0x02u8; 200];
        let f = isthmus.for_tx(&raw);
        assert_eq!((f.l1_gas_price, f.l1_blob_base_fee), (U256::from(7_000_000_000u64), U256::from(1)));
        assert_eq!((f.l1_base_fee_scalar, f.l1_blob_base_fee_scalar), (1368, 810_949));
        assert!(f.l1_fee > U256::ZERO && f.l1_gas_used > U256::ZERO);
        assert_eq!((f.operator_fee, f.da_footprint), (None, None));
        // Jovian: the scalar (400 for a system config's 0) and the tx's footprint.
        let jovian = RollupFees::from_l1_info(&l1_info_calldata(&origin, B256::ZERO, 1, &p, true), true).unwrap();
        let j = jovian.for_tx(&raw);
        let (scalar, footprint) = j.da_footprint.unwrap();
        assert_eq!(scalar, 400);
        assert_eq!(footprint, 400 * (op_revm::estimate_tx_compressed_size(&raw) / 1_000_000));
        assert_eq!(j.l1_fee, f.l1_fee, "Jovian changes no L1 fee formula");
        // A bigger tx that does not compress costs more.
        let noise: Vec<u8> = (0..64u8).flat_map(|i| alloy_primitives::keccak256([i]).0).collect();
        assert!(isthmus.for_tx(&noise).l1_fee > f.l1_fee);
    }
}
