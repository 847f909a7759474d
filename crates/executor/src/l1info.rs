//! The L1-info deposit (OP specs `ecotone/l1-attributes.md`, `isthmus/l1-attributes.md`,
//! `jovian/l1-attributes.md`).
use crate::spec::{DEPOSITOR_ACCOUNT, L1_BLOCK_ADDRESS};
use alloy_consensus::Header;
use alloy_eips::eip7840::BlobParams;
use alloy_primitives::{B256, Bytes, TxKind, U256};
use op_alloy_consensus::{L1InfoDepositSource, TxDeposit};

/// `setL1BlockValuesIsthmus()` selector.
const ISTHMUS_SELECTOR: [u8; 4] = [0x09, 0x89, 0x99, 0xbe];
/// Length of the Isthmus calldata.
pub const ISTHMUS_LEN: usize = 176;
/// `setL1BlockValuesJovian()` selector.
const JOVIAN_SELECTOR: [u8; 4] = [0x3d, 0xb6, 0xbe, 0x2b];
/// Length of the Jovian calldata: Isthmus's and the DA-footprint gas scalar (u16).
pub const JOVIAN_LEN: usize = ISTHMUS_LEN + 2;
/// The DA-footprint gas scalar a system config's 0 stands for (OP specs, Jovian; op-node's
/// `DAFootprintGasScalarDefault`).
pub const DA_FOOTPRINT_GAS_SCALAR_DEFAULT: u16 = 400;

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
    /// Jovian DA-footprint gas scalar as the system config holds it (0: the default, 400).
    pub da_footprint_gas_scalar: u16,
    /// Jovian minimum base fee (wei): the `extraData` of blocks after genesis carry their
    /// parent's, the genesis this one.
    pub min_base_fee: u64,
    /// The L1's blob parameters: the blob base fee follows the L1 fork's update fraction.
    pub l1_blob_params: BlobParams,
}

impl Default for L1InfoParams {
    /// The scalars OP mainnet used after Ecotone (base 1368, blob 810949), no batcher (see
    /// [`L1InfoParams::for_chain`]), no operator fee, a Prague L1.
    fn default() -> Self {
        Self {
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
            batcher_hash: B256::ZERO,
            operator_fee_scalar: 0,
            operator_fee_constant: 0,
            da_footprint_gas_scalar: 0,
            min_base_fee: 0,
            l1_blob_params: BlobParams::prague(),
        }
    }
}

/// The L1-info calldata: Isthmus's `setL1BlockValuesIsthmus` (176 bytes, packed) or, with
/// `jovian`, `setL1BlockValuesJovian` (178 bytes: the DA-footprint gas scalar appended, its 0
/// replaced by the default 400).
pub fn l1_info_calldata(origin: &Header, origin_hash: B256, seq: u64, p: &L1InfoParams, jovian: bool) -> Bytes {
    let blob_base_fee = origin
        .excess_blob_gas
        .map(|excess| p.l1_blob_params.calc_blob_fee(excess))
        .map(U256::from)
        .unwrap_or(U256::from(1));
    let mut out = Vec::with_capacity(JOVIAN_LEN);
    out.extend_from_slice(if jovian { &JOVIAN_SELECTOR } else { &ISTHMUS_SELECTOR });
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
    if jovian {
        let scalar = match p.da_footprint_gas_scalar {
            0 => DA_FOOTPRINT_GAS_SCALAR_DEFAULT,
            s => s,
        };
        out.extend_from_slice(&scalar.to_be_bytes());
    }
    debug_assert_eq!(out.len(), if jovian { JOVIAN_LEN } else { ISTHMUS_LEN });
    out.into()
}

impl L1InfoParams {
    /// A chain's values: its system config, or the dev defaults with its dev batcher
    /// (`crate::dev_batcher`, what its exported rollup config names).
    pub fn for_chain(config: &opseq_primitives::ChainConfig) -> Self {
        match &config.system_config {
            Some(c) => Self::with_system_config(Some(c)),
            None => Self::dev(config.chain_id),
        }
    }

    /// The dev defaults of the L2 `chain_id`, with its dev batcher.
    pub fn dev(chain_id: u64) -> Self {
        Self { batcher_hash: B256::left_padding_from(crate::dev_batcher(chain_id).as_slice()), ..Self::default() }
    }

    /// The dev defaults with `c`'s system-config values, if any.
    pub fn with_system_config(c: Option<&opseq_primitives::SystemConfig>) -> Self {
        let d = Self::default();
        let Some(c) = c else { return d };
        Self {
            base_fee_scalar: c.base_fee_scalar,
            blob_base_fee_scalar: c.blob_base_fee_scalar,
            batcher_hash: c.batcher_hash,
            operator_fee_scalar: c.operator_fee_scalar,
            operator_fee_constant: c.operator_fee_constant,
            da_footprint_gas_scalar: c.da_footprint_gas_scalar,
            min_base_fee: c.min_base_fee,
            ..d
        }
    }
}

/// What an L1-info deposit's calldata says (Ecotone's 164-byte, Isthmus's 176-byte or Jovian's
/// 178-byte layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L1InfoValues {
    /// The system-config values (operator fee zero before Isthmus).
    pub system_config: opseq_primitives::SystemConfig,
    /// The L1 origin's number.
    pub origin_number: u64,
    /// The L1 origin's hash.
    pub origin_hash: B256,
    /// The L2 block's position in its epoch.
    pub sequence_number: u64,
    /// Jovian's layout (the block follows Jovian rules).
    pub jovian: bool,
}

/// `setL1BlockValuesEcotone()` selector.
const ECOTONE_SELECTOR: [u8; 4] = [0x44, 0x0a, 0x5e, 0x20];
/// Length of the Ecotone calldata.
const ECOTONE_LEN: usize = 164;

/// Parses L1-info deposit calldata; `None` if it is not Ecotone's, Isthmus's or Jovian's.
pub fn parse_l1_info(calldata: &[u8]) -> Option<L1InfoValues> {
    let (isthmus, jovian) = match (calldata.len(), calldata.get(..4)?) {
        (ECOTONE_LEN, s) if s == ECOTONE_SELECTOR => (false, false),
        (ISTHMUS_LEN, s) if s == ISTHMUS_SELECTOR => (true, false),
        (JOVIAN_LEN, s) if s == JOVIAN_SELECTOR => (true, true),
        _ => return None,
    };
    let u32_at = |at: usize| u32::from_be_bytes(calldata[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_be_bytes(calldata[at..at + 8].try_into().expect("8 bytes"));
    Some(L1InfoValues {
        system_config: opseq_primitives::SystemConfig {
            base_fee_scalar: u32_at(4),
            blob_base_fee_scalar: u32_at(8),
            batcher_hash: B256::from_slice(&calldata[132..164]),
            operator_fee_scalar: if isthmus { u32_at(164) } else { 0 },
            operator_fee_constant: if isthmus { u64_at(168) } else { 0 },
            da_footprint_gas_scalar: if jovian { u16::from_be_bytes([calldata[176], calldata[177]]) } else { 0 },
            // Not in the L1-info deposit: a block's `extraData` carries it.
            min_base_fee: 0,
        },
        origin_number: u64_at(28),
        origin_hash: B256::from_slice(&calldata[100..132]),
        sequence_number: u64_at(12),
        jovian,
    })
}

/// The sequence number inside an L1-info deposit's calldata (any Ecotone-style layout).
pub fn parse_sequence_number(calldata: &[u8]) -> Option<u64> {
    calldata.get(12..20).map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
}

/// The L1-info deposit transaction for an L2 block whose L1 origin is `origin` and whose position
/// in the epoch is `seq` (`jovian`: the block follows Jovian rules and is not its activation
/// block).
pub fn l1_info_deposit(origin: &Header, origin_hash: B256, seq: u64, p: &L1InfoParams, jovian: bool) -> TxDeposit {
    let source = L1InfoDepositSource::new(origin_hash, seq);
    TxDeposit {
        source_hash: source.source_hash(),
        from: DEPOSITOR_ACCOUNT,
        to: TxKind::Call(L1_BLOCK_ADDRESS),
        mint: 0,
        value: U256::ZERO,
        gas_limit: 1_000_000,
        is_system_transaction: false,
        input: l1_info_calldata(origin, origin_hash, seq, p, jovian),
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
        let data = l1_info_calldata(&origin, hash, 3, &p, false);
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
        let tx = l1_info_deposit(&origin, hash, 3, &p, false);
        // Jovian: keccak256("setL1BlockValuesJovian()")[..4], the default scalar for a 0.
        let jovian = l1_info_calldata(&origin, hash, 3, &p, true);
        assert_eq!(&jovian[..4], &keccak256("setL1BlockValuesJovian()")[..4]);
        assert_eq!((jovian.len(), &jovian[4..176], &jovian[176..]), (178, &data[4..], &400u16.to_be_bytes()[..]));
        assert_eq!(tx.source_hash, keccak256(outer));
        let _ = b256!("0000000000000000000000000000000000000000000000000000000000000000");
    }

    #[test]
    fn l1_info_calldata_parses_back_in_both_layouts() {
        let origin = Header { number: 77, timestamp: 1_000, base_fee_per_gas: Some(9), ..Default::default() };
        let hash = B256::repeat_byte(0xcd);
        let p = L1InfoParams {
            base_fee_scalar: 11,
            blob_base_fee_scalar: 22,
            batcher_hash: B256::repeat_byte(0x0b),
            operator_fee_scalar: 33,
            operator_fee_constant: 44,
            ..Default::default()
        };
        let data = l1_info_calldata(&origin, hash, 5, &p, false);
        let v = parse_l1_info(&data).unwrap();
        let jovian =
            parse_l1_info(&l1_info_calldata(&origin, hash, 5, &L1InfoParams { da_footprint_gas_scalar: 7, ..p }, true))
                .unwrap();
        assert_eq!((jovian.system_config.da_footprint_gas_scalar, jovian.sequence_number), (7, 5));
        assert_eq!((v.origin_number, v.origin_hash, v.sequence_number), (77, hash, 5));
        assert_eq!(L1InfoParams::with_system_config(Some(&v.system_config)), p);
        // Ecotone's layout: its own selector, the first 164 bytes, no operator fee.
        let mut ecotone = data[..164].to_vec();
        ecotone[..4].copy_from_slice(&ECOTONE_SELECTOR);
        let v = parse_l1_info(&ecotone).unwrap();
        assert_eq!((v.system_config.operator_fee_scalar, v.system_config.operator_fee_constant), (0, 0));
        assert_eq!(v.system_config.base_fee_scalar, 11);
        // Anything else is not L1-info calldata.
        assert!(parse_l1_info(&data[..175]).is_none());
        assert!(parse_l1_info(&ecotone[..163]).is_none());
        let mut wrong = data.to_vec();
        wrong[0] ^= 1;
        assert!(parse_l1_info(&wrong).is_none());
    }
}
