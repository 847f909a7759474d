//! OP Stack interop messages: identifiers, message hashes, and the CrossL2Inbox access-list
//! entries a tx that executes a message must carry (OP specs, `interop/predeploys.md`
//! §Access-list; the checksum and entry layouts are protocol facts).
use alloy_primitives::{Address, B256, U256, address, keccak256};

/// The CrossL2Inbox predeploy, whose access-list keys carry executing messages.
pub const CROSS_L2_INBOX: Address = address!("4200000000000000000000000000000000000022");

/// Where an initiating message (a log) is: its emitter, block, block-global log index, block
/// timestamp and chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identifier {
    /// The contract that emitted the log.
    pub origin: Address,
    /// Its block number.
    pub block_number: u64,
    /// Its index among the block's logs.
    pub log_index: u32,
    /// Its block's timestamp.
    pub timestamp: u64,
    /// Its chain.
    pub chain_id: U256,
}

/// A message's hash: keccak256 of its payload (the log's topics, then its data).
pub fn message_hash(payload: &[u8]) -> B256 {
    keccak256(payload)
}

/// The checksum entry: `0x03 ‖ keccak(keccak(keccak(origin ‖ msgHash) ‖ idPacked) ‖ chainId)[1..]`
/// with `idPacked = 0(12) ‖ blockNumber ‖ timestamp ‖ logIndex`.
pub fn checksum(id: &Identifier, msg_hash: B256) -> B256 {
    let mut log = [0u8; 52];
    log[..20].copy_from_slice(id.origin.as_slice());
    log[20..].copy_from_slice(msg_hash.as_slice());
    let log_hash = keccak256(log);
    let mut packed = [0u8; 64];
    packed[..32].copy_from_slice(log_hash.as_slice());
    packed[44..52].copy_from_slice(&id.block_number.to_be_bytes());
    packed[52..60].copy_from_slice(&id.timestamp.to_be_bytes());
    packed[60..64].copy_from_slice(&id.log_index.to_be_bytes());
    let id_log_hash = keccak256(packed);
    let mut with_chain = [0u8; 64];
    with_chain[..32].copy_from_slice(id_log_hash.as_slice());
    with_chain[32..].copy_from_slice(&id.chain_id.to_be_bytes::<32>());
    let mut out = keccak256(with_chain);
    out.0[0] = 0x03;
    out
}

/// The CrossL2Inbox access-list keys of one executing message, in order: the lookup entry
/// (type 1), the chain-id extension (type 2, only for a chain id above 2^64), the checksum
/// (type 3, the slot the inbox checks is warm).
pub fn access_list_keys(id: &Identifier, msg_hash: B256) -> Vec<B256> {
    let mut lookup = [0u8; 32];
    lookup[0] = 0x01;
    let chain = id.chain_id.to_be_bytes::<32>();
    lookup[4..12].copy_from_slice(&chain[24..]);
    lookup[12..20].copy_from_slice(&id.block_number.to_be_bytes());
    lookup[20..28].copy_from_slice(&id.timestamp.to_be_bytes());
    lookup[28..32].copy_from_slice(&id.log_index.to_be_bytes());
    let mut keys = vec![B256::from(lookup)];
    if id.chain_id > U256::from(u64::MAX) {
        let mut ext = [0u8; 32];
        ext[0] = 0x02;
        ext[8..].copy_from_slice(&chain[..24]);
        keys.push(B256::from(ext));
    }
    keys.push(checksum(id, msg_hash));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    /// op-supervisor's golden vector (`supervisor/types/types_test.go`, reproduced in
    /// ../shared/reference/interop.md §1.3).
    #[test]
    fn the_supervisors_golden_vector() {
        let id = Identifier {
            origin: address!("e0e1e2e3e4e5e6e7e8e9f0f1f2f3f4f5f6f7f8f9"),
            block_number: 0xa1a2a3a4a5a6a7a8,
            log_index: 0xb1b2b3b4,
            timestamp: 0xc1c2c3c4c5c6c7c8,
            chain_id: U256::from(0xd1d2d3d4d5d6d7d8u64),
        };
        let msg = message_hash(b"example payload");
        assert!(format!("{msg}").starts_with("0x8017559a"), "{msg}");
        assert_eq!(
            access_list_keys(&id, msg),
            vec![
                b256!("01000000d1d2d3d4d5d6d7d8a1a2a3a4a5a6a7a8c1c2c3c4c5c6c7c8b1b2b3b4"),
                b256!("03749e87fd7789575de9906569deb05aaf220dc4cfab3d8abbfd34a2e1d7d357"),
            ]
        );
    }

    #[test]
    fn a_chain_id_above_u64_adds_the_extension_entry() {
        let id = Identifier {
            origin: Address::repeat_byte(1),
            block_number: 1,
            log_index: 2,
            timestamp: 3,
            chain_id: (U256::from(7) << 64) | U256::from(9),
        };
        let keys = access_list_keys(&id, B256::repeat_byte(5));
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[1].0[0], 0x02);
        assert_eq!(U256::from_be_slice(&keys[1].0[8..]), U256::from(7), "the upper 24 bytes");
        assert_eq!(&keys[0].0[4..12], &9u64.to_be_bytes(), "the low 8 bytes in the lookup");
        assert_eq!(keys[2].0[0], 0x03);
    }
}
