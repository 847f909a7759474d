//! The ABI of `SyncCaller` (`contracts/src/SyncCaller.sol`) and the messenger calls a sync call's
//! legs make, and the payloads of the logs they check.
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolError, SolValue, sol};
use opseq_primitives::interop::{
    Identifier, L2_TO_L2_CROSS_DOMAIN_MESSENGER, RELAYED_MESSAGE_TOPIC, SENT_MESSAGE_TOPIC,
};

sol! {
    struct SolIdentifier { address origin; uint256 blockNumber; uint256 logIndex; uint256 timestamp; uint256 chainId; }
    function relayMessage(SolIdentifier _id, bytes _sentMessage) returns (bytes);
    function provide(uint256 nonce, SolIdentifier id, bool success, bytes returnData);
    function clear(uint256 nonce);
    function call(uint256 destination, address target, bytes data) returns (bytes);
    error MissingWitness(address store, uint256 nonce, uint256 destination, address target, bytes data);
    error Expired(uint256 deadline);
    error BadSignature();
    function execute(uint256 destination, address target, bytes data, uint256 deadline, bytes signature) returns (bytes);
}

fn sol_id(id: &Identifier) -> SolIdentifier {
    SolIdentifier {
        origin: id.origin,
        blockNumber: U256::from(id.block_number),
        logIndex: U256::from(id.log_index),
        timestamp: U256::from(id.timestamp),
        chainId: id.chain_id,
    }
}

/// A message `SyncCaller.call` sent and found no result for (its `MissingWitness` revert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Missing {
    /// The contract that sent it and keeps its result: `SyncCaller`, or a user's account
    /// delegated to `SyncAccount`.
    pub store: Address,
    /// The messenger nonce it was sent with.
    pub nonce: U256,
    /// Its destination chain.
    pub destination: U256,
    /// Its target there.
    pub target: Address,
    /// Its calldata.
    pub data: Bytes,
}

/// The `MissingWitness` a reverted tx's output carries (bubbled up unchanged by the messenger
/// when the call was itself relayed), if it is one.
pub(crate) fn missing(output: &[u8]) -> Option<Missing> {
    let e = MissingWitness::abi_decode(output).ok()?;
    Some(Missing { store: e.store, nonce: e.nonce, destination: e.destination, target: e.target, data: e.data })
}

/// The payload (topics ‖ data) of the `SentMessage` log `SyncCaller` made the messenger emit.
pub(crate) fn sent_message_payload(m: &Missing) -> Vec<u8> {
    let mut p = Vec::with_capacity(4 * 32 + 128 + m.data.len());
    p.extend_from_slice(SENT_MESSAGE_TOPIC.as_slice());
    p.extend_from_slice(&m.destination.to_be_bytes::<32>());
    p.extend_from_slice(B256::left_padding_from(m.target.as_slice()).as_slice());
    p.extend_from_slice(&m.nonce.to_be_bytes::<32>());
    p.extend_from_slice(&(m.store, m.data.clone()).abi_encode_params());
    p
}

/// A log's payload (topics ‖ data): what an identifier's message hash commits to.
pub(crate) fn payload_of(log: &alloy_primitives::Log) -> Vec<u8> {
    let mut p: Vec<u8> = log.topics().iter().flat_map(|t| t.0).collect();
    p.extend_from_slice(&log.data.data);
    p
}

/// Whether `log` is the messenger's `SentMessage` to `destination` with `nonce`.
pub(crate) fn is_sent(log: &alloy_primitives::Log, destination: U256, nonce: U256) -> bool {
    let t = log.topics();
    log.address == L2_TO_L2_CROSS_DOMAIN_MESSENGER
        && t.len() == 4
        && t[0] == SENT_MESSAGE_TOPIC
        && t[1] == B256::from(destination)
        && t[3] == B256::from(nonce)
}

/// Whether `log` is the messenger's `RelayedMessage` of the message from `source` with `nonce`.
pub(crate) fn is_relayed(log: &alloy_primitives::Log, source: u64, nonce: U256) -> bool {
    let t = log.topics();
    log.address == L2_TO_L2_CROSS_DOMAIN_MESSENGER
        && t.len() == 4
        && t[0] == RELAYED_MESSAGE_TOPIC
        && t[1] == B256::from(U256::from(source))
        && t[2] == B256::from(nonce)
}

/// `relayMessage(id, payload)` calldata.
pub(crate) fn relay_message(id: &Identifier, payload: &[u8]) -> Bytes {
    relayMessageCall { _id: sol_id(id), _sentMessage: payload.to_vec().into() }.abi_encode().into()
}

/// What `relayMessage` returned: the target's return data.
pub(crate) fn relayed_return(output: &[u8]) -> Option<Bytes> {
    relayMessageCall::abi_decode_returns(output).ok()
}

/// `SyncCaller.provide(nonce, id, success, returnData)` calldata.
pub(crate) fn provide(nonce: U256, id: &Identifier, success: bool, return_data: Bytes) -> Bytes {
    provideCall { nonce, id: sol_id(id), success, returnData: return_data }.abi_encode().into()
}

/// `SyncAccount.execute(destination, target, data, deadline, signature)` calldata.
pub(crate) fn execute(destination: U256, target: Address, data: Bytes, deadline: U256, signature: Bytes) -> Bytes {
    executeCall { destination, target, data, deadline, signature }.abi_encode().into()
}

/// Why `SyncAccount` refused an intent before sending anything, if it did.
pub(crate) fn intent_refusal(output: &[u8]) -> Option<String> {
    if let Ok(e) = Expired::abi_decode(output) {
        return Some(format!("the intent expired at {}", e.deadline));
    }
    BadSignature::abi_decode(output)
        .ok()
        .map(|_| "the intent is not signed by the account for its next intent nonce on this chain".to_string())
}

/// `SyncCaller.clear(nonce)` calldata.
pub(crate) fn clear(nonce: U256) -> Bytes {
    clearCall { nonce }.abi_encode().into()
}

/// What `SyncCaller.call` returned: the callee's return data.
pub(crate) fn call_return(output: &[u8]) -> Option<Bytes> {
    callCall::abi_decode_returns(output).ok()
}

/// The message hash of a log payload.
pub(crate) fn hash(payload: &[u8]) -> B256 {
    keccak256(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The selectors SyncCaller.sol and the messenger have (solc's method identifiers).
    #[test]
    fn selectors() {
        assert_eq!(relayMessageCall::SELECTOR, [0x8d, 0x1d, 0x29, 0x8f]);
        assert_eq!(
            MissingWitness::SELECTOR,
            alloy_primitives::keccak256("MissingWitness(address,uint256,uint256,address,bytes)")[..4]
        );
    }

    /// The relayer key is keccak256("opseq sync-call relayer"), and its address is the one the
    /// genesis funds and SyncCaller trusts.
    #[test]
    fn relayer_key_and_address() {
        use opseq_primitives::interop::{SYNC_RELAYER, SYNC_RELAYER_KEY};
        assert_eq!(SYNC_RELAYER_KEY, keccak256("opseq sync-call relayer"));
        let k = alloy_signer_local::PrivateKeySigner::from_bytes(&SYNC_RELAYER_KEY).unwrap();
        assert_eq!(k.address(), SYNC_RELAYER);
    }
}
