//! Auto-relay (`--interop.autorelay`, as supersim's `--interop.autorelay`): every `SentMessage`
//! that a committed block of an interop chain emits towards another chain of its dependency set
//! is relayed there — a `relayMessage(identifier, payload)` call to the destination's
//! L2ToL2CrossDomainMessenger with the CrossL2Inbox access list the message needs, signed by the
//! relayer (dev account 9, supersim's relayer too) and submitted to the destination's pool,
//! where it is checked like any executing message when a block takes it.
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList, eip2930::AccessListItem};
use alloy_primitives::{B256, Bytes, TxKind, U256, b256, keccak256};
use alloy_signer::SignerSync;
use futures::StreamExt;
use opseq_interfaces::Edges;
use opseq_primitives::{
    ChainId, DevnetConfig, Shred,
    interop::{CROSS_L2_INBOX, Identifier, L2_TO_L2_CROSS_DOMAIN_MESSENGER, access_list_keys, message_hash},
};
use std::collections::HashMap;
use tracing::{info, warn};

/// Dev account 9 (anvil's, and supersim's relayer).
const RELAYER_KEY: B256 = b256!("2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6");
/// `SentMessage(uint256 indexed destination, address indexed target, uint256 indexed messageNonce,
/// address sender, bytes message)` (interop.md §1.4).
const SENT_MESSAGE_TOPIC: B256 = b256!("382409ac69001e11931a28435afef442cbfd20d9891907e8fa373ba7d351f320");

/// Starts relaying (on the current actix/tokio runtime) until the shred bus ends.
pub fn spawn(edges: Edges, devnet: DevnetConfig) {
    actix::spawn(async move {
        if let Err(e) = run(edges, devnet).await {
            warn!(target: "opseq::builder::relay", error = %e, "auto-relay stopped");
        }
    });
}

async fn run(edges: Edges, devnet: DevnetConfig) -> Result<(), String> {
    let relayer = alloy_signer_local::PrivateKeySigner::from_bytes(&RELAYER_KEY).map_err(|e| e.to_string())?;
    let mut nonces: HashMap<ChainId, u64> = HashMap::new();
    let mut shreds = edges.shreds.subscribe(None).await.map_err(|e| e.to_string())?;
    info!(target: "opseq::builder::relay", relayer = %relayer.address(), "auto-relay on");
    while let Some(shred) = shreds.next().await {
        let Shred::Sealed { chain_id, block_hash, .. } = shred else { continue };
        let Some(rules) = devnet.chain(chain_id).and_then(|c| c.interop.as_ref()) else { continue };
        let Ok(Some(block)) = edges.state.block_by_hash(chain_id, block_hash).await else { continue };
        let logs = block.receipts.iter().flat_map(|r| crate::interop::receipt_logs(r));
        for (index, log) in logs.enumerate() {
            let topics = log.topics();
            if log.address != L2_TO_L2_CROSS_DOMAIN_MESSENGER || topics.len() != 4 || topics[0] != SENT_MESSAGE_TOPIC {
                continue;
            }
            let Ok(destination) = u64::try_from(U256::from_be_bytes(topics[1].0)) else { continue };
            if destination == chain_id || !rules.dependency_set.contains(&destination) {
                continue;
            }
            let mut payload: Vec<u8> = topics.iter().flat_map(|t| t.0).collect();
            payload.extend_from_slice(&log.data.data);
            let id = Identifier {
                origin: log.address,
                block_number: block.header.number,
                log_index: index as u32,
                timestamp: block.header.timestamp,
                chain_id: U256::from(chain_id),
            };
            match relay(&edges, &relayer, &mut nonces, destination, &id, &payload).await {
                Ok(hash) => {
                    info!(target: "opseq::builder::relay", from = chain_id, to = destination, %hash, block = id.block_number, log = index, "relayed a message")
                }
                Err(e) => {
                    // The next one reads the relayer's nonce from the state again.
                    nonces.remove(&destination);
                    warn!(target: "opseq::builder::relay", from = chain_id, to = destination, error = %e, "could not relay a message");
                }
            }
        }
    }
    Ok(())
}

/// `relayMessage((address,uint256,uint256,uint256,uint256),bytes)` calldata.
fn relay_message_data(id: &Identifier, payload: &[u8]) -> Bytes {
    let mut d = vec![0x8d, 0x1d, 0x29, 0x8f];
    d.extend_from_slice(B256::left_padding_from(id.origin.as_slice()).as_slice());
    for w in [U256::from(id.block_number), U256::from(id.log_index), U256::from(id.timestamp), id.chain_id] {
        d.extend_from_slice(&w.to_be_bytes::<32>());
    }
    // The bytes argument: its offset (after the 6 head words), length, and padded contents.
    d.extend_from_slice(&U256::from(6 * 32).to_be_bytes::<32>());
    d.extend_from_slice(&U256::from(payload.len()).to_be_bytes::<32>());
    d.extend_from_slice(payload);
    d.resize(4 + (d.len() - 4).div_ceil(32) * 32, 0);
    d.into()
}

async fn relay(
    edges: &Edges,
    relayer: &alloy_signer_local::PrivateKeySigner,
    nonces: &mut HashMap<ChainId, u64>,
    destination: ChainId,
    id: &Identifier,
    payload: &[u8],
) -> Result<B256, String> {
    let nonce = match nonces.get(&destination) {
        Some(n) => *n,
        None => edges
            .state
            .accounts(destination, vec![relayer.address()])
            .await
            .map_err(|e| e.to_string())?
            .first()
            .copied()
            .flatten()
            .map_or(0, |a| a.nonce),
    };
    let keys = access_list_keys(id, message_hash(payload));
    let tx = TxEip1559 {
        chain_id: destination,
        nonce,
        gas_limit: 1_000_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(L2_TO_L2_CROSS_DOMAIN_MESSENGER),
        value: U256::ZERO,
        access_list: AccessList(vec![AccessListItem { address: CROSS_L2_INBOX, storage_keys: keys }]),
        input: relay_message_data(id, payload),
    };
    let sig = relayer.sign_hash_sync(&tx.signature_hash()).map_err(|e| e.to_string())?;
    let raw: Bytes = TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into();
    let hash = keccak256(&raw);
    edges.txs.submit(destination, raw).await.map_err(|e| e.to_string())?;
    nonces.insert(destination, nonce + 1);
    Ok(hash)
}
