//! The L1-info deposit (OP specs `ecotone/l1-attributes.md`, `isthmus/l1-attributes.md`).
use crate::spec::{DEPOSITOR_ACCOUNT, L1_BLOCK_ADDRESS};
use alloy_consensus::Header;
use alloy_eips::eip7840::BlobParams;
use alloy_primitives::{B256, Bytes, TxKind, U256};
use op_alloy_consensus::{L1InfoDepositSource, TxDeposit};

/// `setL1BlockValuesIsthmus()` selector.
const ISTHMUS_SELECTOR: [u8; 4] = [0x09, 0x89, 0x99, 0xbe];
/// Length of the Isthmus calldata.
pub const ISTHMUS_LEN: usize = 176;

/// System-config values carried in the L1-info deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L1InfoParams {
    /// Ecotone base-fee scalar.
    pub base_fee_scalar: u32,
    /// Ecotone blob-base-fee scalar.
    pub blob_base_fee_scalar: u32,
    /// Batcher address, left-padded to 32 bytes.
    pub batcher_hash: B256,
    /// Isthmus operator-fee scalar.
    pub operator_fee_scalar: u32,
    /// Isthmus operator-fee constant.
    pub operator_fee_constant: u64,
    /// The L1's blob parameters: the blob base fee follows the L1 fork's update fraction.
    pub l1_blob_params: BlobParams,
}

impl Default for L1InfoParams {
    /// The scalars OP mainnet used after Ecotone (base 1368, blob 810949), no operator fee, a
    /// Prague L1.
    fn default() -> Self {
        Self {
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
            batcher_hash: B256::left_padding_from(&[0xba; 20]),
            operator_fee_scalar: 0,
            operator_fee_constant: 0,
            l1_blob_params: BlobParams::prague(),
        }
    }
}

/// The Isthmus `setL1BlockValuesIsthmus` calldata (176 bytes, packed).
pub fn l1_info_calldata(origin: &Header, origin_hash: B256, seq: u64, p: &L1InfoParams) -> Bytes {
    let blob_base_fee = origin
        .excess_blob_gas
        .map(|excess| p.l1_blob_params.calc_blob_fee(excess))
        .map(U256::from)
        .unwrap_or(U256::from(1));
    let mut out = Vec::with_capacity(ISTHMUS_LEN);
    out.extend_from_slice(&ISTHMUS_SELECTOR);
    out.extend_from_slice(&p.base_fee_scalar.to_be_bytes());
    out.extend_from_slice(&p.blob_base_fee_scalar.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&origin.timestamp.to_be_bytes());
    out.extend_from_slice(&origin.number.to_be_bytes());
    out.extend_from_slice(&U256::from(origin.base_fee_per_gas.unwrap_or_default()).to_be_bytes::<32>());
    out.extend_from_slice(&blob_base_fee.to_be_bytes::<32>());
    out.extend_from_slice(origin_hash.as_slice());
    out.extend_from_slice(p.batcher_hash.as_slice());
    out.extend_from_slice(&p.operator_fee_scalar.to_be_bytes());
    out.extend_from_slice(&p.operator_fee_constant.to_be_bytes());
    debug_assert_eq!(out.len(), ISTHMUS_LEN);
    out.into()
}

/// The sequence number inside an L1-info deposit's calldata (any Ecotone-style layout).
pub fn parse_sequence_number(calldata: &[u8]) -> Option<u64> {
    calldata.get(12..20).map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
}

/// The L1-info deposit transaction for an L2 block whose L1 origin is `origin` and whose position
/// in the epoch is `seq`.
pub fn l1_info_deposit(origin: &Header, origin_hash: B256, seq: u64, p: &L1InfoParams) -> TxDeposit {
    let source = L1InfoDepositSource::new(origin_hash, seq);
    TxDeposit {
        source_hash: source.source_hash(),
        from: DEPOSITOR_ACCOUNT,
        to: TxKind::Call(L1_BLOCK_ADDRESS),
        mint: 0,
        value: U256::ZERO,
        gas_limit: 1_000_000,
        is_system_transaction: false,
        input: l1_info_calldata(origin, origin_hash, seq, p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{b256, keccak256};

    #[test]
    fn calldata_layout_and_source_hash_follow_the_spec() {
        let origin = Header {
            number: 0x1234,
            timestamp: 0x5678,
            base_fee_per_gas: Some(7),
            excess_blob_gas: Some(0),
            ..Default::default()
        };
        let hash = B256::repeat_byte(0xab);
        let p = L1InfoParams::default();
        let data = l1_info_calldata(&origin, hash, 3, &p);
        assert_eq!(data.len(), 176);
        assert_eq!(&data[..4], &[0x09, 0x89, 0x99, 0xbe]);
        assert_eq!(parse_sequence_number(&data), Some(3));
        assert_eq!(&data[20..28], &0x5678u64.to_be_bytes());
        assert_eq!(&data[28..36], &0x1234u64.to_be_bytes());
        assert_eq!(U256::from_be_slice(&data[36..68]), U256::from(7));
        assert_eq!(U256::from_be_slice(&data[68..100]), U256::from(1)); // min blob base fee
        assert_eq!(&data[100..132], hash.as_slice());

        // sourceHash = keccak256(bytes32(1) ‖ keccak256(l1BlockHash ‖ bytes32(seq))), deposits.md
        let mut inner = hash.to_vec();
        inner.extend_from_slice(&B256::left_padding_from(&3u64.to_be_bytes()).0);
        let mut outer = B256::left_padding_from(&[1]).to_vec();
        outer.extend_from_slice(keccak256(inner).as_slice());
        let tx = l1_info_deposit(&origin, hash, 3, &p);
        assert_eq!(tx.source_hash, keccak256(outer));
        let _ = b256!("0000000000000000000000000000000000000000000000000000000000000000");
    }
}
