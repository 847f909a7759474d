//! OP Stack interop messages: identifiers, message hashes, and the CrossL2Inbox access-list
//! entries a tx that executes a message must carry (OP specs, `interop/predeploys.md`
//! §Access-list; the checksum and entry layouts are protocol facts).
use alloy_primitives::{Address, B256, U256, address, b256, keccak256};

/// The CrossL2Inbox predeploy, whose access-list keys carry executing messages.
pub const CROSS_L2_INBOX: Address = address!("4200000000000000000000000000000000000022");
/// The L2ToL2CrossDomainMessenger predeploy (OP specs `interop/predeploys.md`).
pub const L2_TO_L2_CROSS_DOMAIN_MESSENGER: Address = address!("4200000000000000000000000000000000000023");

/// `SyncCaller` (`contracts/src/SyncCaller.sol`): synchronous cross-chain calls, in the genesis of
/// every interop chain at this address (ours; no OP predeploy does this).
pub const SYNC_CALLER: Address = address!("5c00000000000000000000000000000000000001");
/// `SyncAccount` (`contracts/src/SyncAccount.sol`): the EIP-7702 delegate for one-signature sync
/// calls (the user's address is the caller the destination sees), in interop chains' genesis.
pub const SYNC_ACCOUNT: Address = address!("5c00000000000000000000000000000000000002");
/// The key the builder signs a sync call's sequencer transactions with (the relay on the callee's
/// chain, the result handed to `SyncCaller.provide` on the caller's): keccak256("opseq sync-call
/// relayer"), public like the dev keys; funded in interop chains' genesis, and `SyncCaller`'s
/// relayer there.
pub const SYNC_RELAYER_KEY: B256 = b256!("d6fed7f8f53d98d90fff3f78e39b845f52612b66199d984284664d00b33c7f1e");
/// [`SYNC_RELAYER_KEY`]'s address.
pub const SYNC_RELAYER: Address = address!("09f8bC4b41795Abb42210e7671e34CA2c5850aC1");
/// topic0 of the messenger's `SentMessage(uint256 indexed destination, address indexed target,
/// uint256 indexed messageNonce, address sender, bytes message)`.
pub const SENT_MESSAGE_TOPIC: B256 = b256!("382409ac69001e11931a28435afef442cbfd20d9891907e8fa373ba7d351f320");
/// topic0 of the messenger's `RelayedMessage(uint256 indexed source, uint256 indexed
/// messageNonce, bytes32 indexed messageHash, bytes32 returnDataHash)`.
pub const RELAYED_MESSAGE_TOPIC: B256 = b256!("c270d73e26d2d39dee7ef92093555927e344e243415547ecc350b2b5385b68a2");

/// topic0 of `ExecutingMessage(bytes32 indexed msgHash, Identifier id)`, which the CrossL2Inbox
/// emits for each message a tx executes (OP specs `interop/predeploys.md`).
pub const EXECUTING_MESSAGE_TOPIC: B256 = b256!("5c37832d2e8d10e346e55ad62071a6a2f9fa5130614ef2ec6617555c6f467ba7");
/// The expiry window of initiating messages (OP specs `interop/messaging.md`): a message
/// initiated at `t` may be executed up to `t + EXPIRY_WINDOW` inclusive.
pub const EXPIRY_WINDOW: u64 = 604_800;

/// A message a tx executed, as its receipt records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutingMessage {
    /// The hash of the initiating log's payload.
    pub msg_hash: B256,
    /// Where the initiating log is.
    pub id: Identifier,
}

/// The executing message an `ExecutingMessage` log of the CrossL2Inbox records; `None` for any
/// other log, an error for a malformed one (wrong topics or data size, a value past its type:
/// the identifier's block number and timestamp are u64, its log index u32).
pub fn executing_message(log: &alloy_primitives::Log) -> Option<Result<ExecutingMessage, String>> {
    if log.address != CROSS_L2_INBOX || log.topics().first() != Some(&EXECUTING_MESSAGE_TOPIC) {
        return None;
    }
    Some((|| {
        let [_, msg_hash] = log.topics() else { return Err(format!("{} topics, not 2", log.topics().len())) };
        let data = &log.data.data;
        if data.len() != 160 {
            return Err(format!("{} bytes of identifier, not 160", data.len()));
        }
        let word = |i: usize| U256::from_be_slice(&data[i * 32..(i + 1) * 32]);
        let small = |i: usize, bits: u32, what: &str| {
            let v = word(i);
            if v.bit_len() > bits as usize { Err(format!("{what} {v} is past u{bits}")) } else { Ok(v.to::<u64>()) }
        };
        if data[..12].iter().any(|b| *b != 0) {
            return Err("the origin word has bytes above its 20".into());
        }
        Ok(ExecutingMessage {
            msg_hash: *msg_hash,
            id: Identifier {
                origin: Address::from_slice(&data[12..32]),
                block_number: small(1, 64, "block number")?,
                log_index: small(2, 32, "log index")? as u32,
                timestamp: small(3, 64, "timestamp")?,
                chain_id: word(4),
            },
        })
    })())
}

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

/// One executing message as a tx's CrossL2Inbox access list declares it: the lookup hint
/// (chain, block, timestamp, log index) and the checksum the inbox checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxEntry {
    /// The initiating message's chain.
    pub chain_id: U256,
    /// Its block number.
    pub block_number: u64,
    /// Its block's timestamp.
    pub timestamp: u64,
    /// Its block-global log index.
    pub log_index: u32,
    /// The checksum entry (type 3).
    pub checksum: B256,
}

/// Parses the CrossL2Inbox access-list keys of a tx (every item for the inbox, keys
/// concatenated in order) into its executing messages: lookup (type 1), optional chain-id
/// extension (type 2), checksum (type 3), per message. Every key must parse: type 0 is reserved,
/// reserved bytes must be zero, the order is fixed (the whole check fails otherwise, as the
/// supervisor's does). Duplicates are allowed.
pub fn parse_inbox_keys(keys: &[B256]) -> Result<Vec<InboxEntry>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let lookup = keys[i].0;
        if lookup[0] != 0x01 {
            return Err(format!("inbox key {i}: expected a lookup entry (type 1), found type {}", lookup[0]));
        }
        if lookup[1..4] != [0; 3] {
            return Err(format!("inbox key {i}: non-zero reserved bytes in a lookup entry"));
        }
        let mut chain = [0u8; 32];
        chain[24..].copy_from_slice(&lookup[4..12]);
        i += 1;
        if let Some(ext) = keys.get(i).map(|k| k.0).filter(|k| k[0] == 0x02) {
            if ext[1..8] != [0; 7] {
                return Err(format!("inbox key {i}: non-zero reserved bytes in a chain-id extension"));
            }
            chain[..24].copy_from_slice(&ext[8..]);
            i += 1;
        }
        let Some(checksum) = keys.get(i).copied() else {
            return Err(format!("inbox key {}: a lookup entry without its checksum", i - 1));
        };
        if checksum.0[0] != 0x03 {
            return Err(format!("inbox key {i}: expected a checksum entry (type 3), found type {}", checksum.0[0]));
        }
        i += 1;
        let u64_at = |at: usize| u64::from_be_bytes(lookup[at..at + 8].try_into().expect("8 bytes"));
        out.push(InboxEntry {
            chain_id: U256::from_be_bytes(chain),
            block_number: u64_at(12),
            timestamp: u64_at(20),
            log_index: u32::from_be_bytes(lookup[28..32].try_into().expect("4 bytes")),
            checksum,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    fn exec_log(words: [U256; 5], topics: usize) -> alloy_primitives::Log {
        let data: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes::<32>()).collect();
        let topics = [EXECUTING_MESSAGE_TOPIC, B256::repeat_byte(7)][..topics].to_vec();
        alloy_primitives::Log::new(CROSS_L2_INBOX, topics, data.into()).unwrap()
    }

    #[test]
    fn executing_message_logs_decode_and_bad_ones_say_why() {
        let origin = U256::from_be_slice(Address::repeat_byte(0xe0).as_slice());
        let ok = exec_log([origin, U256::from(5), U256::from(2), U256::from(1000), U256::from(901)], 2);
        let m = executing_message(&ok).unwrap().unwrap();
        assert_eq!(m.msg_hash, B256::repeat_byte(7));
        assert_eq!(
            m.id,
            Identifier {
                origin: Address::repeat_byte(0xe0),
                block_number: 5,
                log_index: 2,
                timestamp: 1000,
                chain_id: U256::from(901)
            }
        );
        let past_u32 = exec_log([origin, U256::from(5), U256::from(1u64 << 32), U256::from(1000), U256::from(901)], 2);
        assert!(executing_message(&past_u32).unwrap().unwrap_err().contains("log index"));
        let past_u64 = exec_log([origin, U256::MAX, U256::ZERO, U256::ZERO, U256::from(901)], 2);
        assert!(executing_message(&past_u64).unwrap().unwrap_err().contains("block number"));
        assert!(
            executing_message(&exec_log([origin, U256::ZERO, U256::ZERO, U256::ZERO, U256::ZERO], 1)).unwrap().is_err()
        );
        let mut other = ok.clone();
        other.address = Address::repeat_byte(1);
        assert!(executing_message(&other).is_none());
    }

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
    fn inbox_keys_parse_back_and_malformed_ones_fail_the_whole_list() {
        let small = Identifier {
            origin: Address::repeat_byte(1),
            block_number: 10,
            log_index: 3,
            timestamp: 99,
            chain_id: U256::from(901),
        };
        let big = Identifier { chain_id: (U256::from(7) << 64) | U256::from(902), ..small };
        let (m1, m2) = (B256::repeat_byte(0xaa), B256::repeat_byte(0xbb));
        let mut keys = access_list_keys(&small, m1);
        keys.extend(access_list_keys(&big, m2));
        keys.extend(access_list_keys(&small, m1));
        let parsed = parse_inbox_keys(&keys).unwrap();
        assert_eq!(parsed.len(), 3, "duplicates are allowed");
        assert_eq!(parsed[1].chain_id, big.chain_id);
        assert_eq!(parsed[1].checksum, checksum(&big, m2));
        assert_eq!((parsed[0].block_number, parsed[0].timestamp, parsed[0].log_index), (10, 99, 3));
        assert_eq!(parsed[2], parsed[0]);
        let good = access_list_keys(&small, m1);
        let mutate = |i: usize, byte: usize, value: u8| {
            let mut k = good.clone();
            k[i].0[byte] = value;
            k
        };
        for (why, bad) in [
            ("type 0", mutate(0, 0, 0x00)),
            ("reserved lookup byte", mutate(0, 2, 0x01)),
            ("checksum first", vec![good[1], good[0]]),
            ("lookup alone", vec![good[0]]),
            ("checksum typed as lookup", mutate(1, 0, 0x01)),
        ] {
            assert!(parse_inbox_keys(&bad).is_err(), "{why} must not parse");
        }
        let mut ext = access_list_keys(&big, m2);
        ext[1].0[3] = 1;
        assert!(parse_inbox_keys(&ext).is_err(), "reserved extension byte");
        assert_eq!(parse_inbox_keys(&[]).unwrap(), vec![]);
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
