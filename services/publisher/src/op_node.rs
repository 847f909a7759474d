//! The `op-node` publishing target: every block that becomes canonical on one of our L2s is
//! handed to an op-node's sequencer API (`opstack_commitBlockV1`, then `opstack_publishBlockV1`;
//! op-node started with `--experimental.sequencer-api`), so the op-geth behind it imports it and
//! op-node gossips it when its p2p is on.
//!
//! A follower per chain keeps op-node's unsafe head equal to our head rather than forwarding a
//! stream: it remembers what it handed over (number → hash), and on every committed block (or
//! every half second) sends what op-node lacks, from the newest block both have. So a reorg made
//! with the test API (a sibling committed, `test_setHead` back to an ancestor) reaches op-node as
//! the new branch, or as the ancestor committed again (op-geth lets an OP chain's forkchoice go
//! back to its own ancestor); an op-node that was down or refused a block is caught up when it
//! answers again, in order.
use alloy_primitives::{B256, Bytes};
use futures::StreamExt;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope;
use opseq_interfaces::{BlockSink, StateSource};
use opseq_primitives::{ChainId, SealedBlock};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// op-node's `SignedExecutionPayloadEnvelope` (`op-service/signer`): the envelope and the
/// sequencer's 65-byte signature.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedEnvelope {
    /// The execution payload and its parent beacon block root.
    pub envelope: OpExecutionPayloadEnvelope,
    /// The sequencer's signature over the payload hash (r ‖ s ‖ v).
    pub signature: Bytes,
}

/// A block reference as op-node's `optimism_syncStatus` reports it.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct L2BlockRef {
    /// Block hash.
    pub hash: B256,
    /// Block number (a JSON number).
    pub number: u64,
}

/// The part of op-node's `optimism_syncStatus` the follower reads.
#[derive(Debug, Clone, Deserialize)]
pub struct SyncStatus {
    /// op-node's unsafe L2 head.
    pub unsafe_l2: L2BlockRef,
}

/// op-node's sequencer API (`op-node/node/api.go`, namespace `opstack`).
#[rpc(client, namespace = "opstack")]
pub trait OpStackApi {
    /// Inserts a signed block into op-node's engine (newPayload, then forkchoice to it).
    #[method(name = "commitBlockV1")]
    async fn commit_block_v1(&self, signed: SignedEnvelope) -> jsonrpsee::core::RpcResult<()>;
    /// Gossips a signed block ("P2P not enabled" when op-node runs without p2p).
    #[method(name = "publishBlockV1")]
    async fn publish_block_v1(&self, signed: SignedEnvelope) -> jsonrpsee::core::RpcResult<()>;
}

/// op-node's rollup API (namespace `optimism`).
#[rpc(client, namespace = "optimism")]
pub trait OptimismApi {
    /// op-node's heads.
    #[method(name = "syncStatus")]
    async fn sync_status(&self) -> jsonrpsee::core::RpcResult<SyncStatus>;
}

/// Why one round of following failed (the next round starts again from what op-node has).
#[derive(Debug, thiserror::Error)]
enum FollowError {
    #[error("op-node: {0}")]
    OpNode(#[from] jsonrpsee::core::client::Error),
    #[error("our store: {0}")]
    Store(#[from] opseq_primitives::OpseqError),
    #[error("{0}")]
    Other(String),
}

/// Keeps one op-node's unsafe chain equal to ours for one chain.
#[derive(Debug)]
pub struct OpNodeFollower {
    chain: ChainId,
    url: String,
    client: HttpClient,
    state: Arc<dyn StateSource>,
    /// What op-node has from us (or told us it has): number → hash, contiguous up to the last.
    sent: BTreeMap<u64, B256>,
    /// Our head when op-node last matched it.
    synced: Option<B256>,
}

/// How many handed-over blocks the follower remembers (reorgs deeper than this resend from the
/// oldest it remembers).
const REMEMBERED: u64 = 8192;

impl OpNodeFollower {
    /// A follower of `chain` publishing to the op-node at `url`.
    pub fn new(chain: ChainId, url: &str, state: Arc<dyn StateSource>) -> Result<Self, String> {
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .max_request_size(128 * 1024 * 1024)
            .build(url)
            .map_err(|e| format!("op-node URL {url}: {e}"))?;
        Ok(Self { chain, url: url.to_string(), client, state, sent: BTreeMap::new(), synced: None })
    }

    /// Follows until `cancel`: a round on every committed block of `sink`, and every 500 ms.
    pub fn spawn(mut self, sink: Arc<dyn BlockSink>, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut committed = match sink.subscribe().await {
                Ok(s) => Some(s),
                Err(e) => {
                    warn!(target: "opseq::publisher", chain_id = self.chain, error = %e, "no block stream: polling only");
                    None
                }
            };
            let mut backoff = Duration::from_millis(100);
            info!(target: "opseq::publisher", chain_id = self.chain, url = %self.url, "publishing to op-node");
            loop {
                match self.round().await {
                    Ok(()) => backoff = Duration::from_millis(100),
                    Err(e) => {
                        // Ask op-node again what it has before the next try (it may have
                        // restarted, or taken another branch meanwhile).
                        self.sent.clear();
                        self.synced = None;
                        warn!(target: "opseq::publisher", chain_id = self.chain, url = %self.url, error = %e, "op-node follower");
                        tokio::select! {
                            _ = cancel.cancelled() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    Some(_) = async {
                        match committed.as_mut() {
                            Some(s) => s.next().await,
                            None => std::future::pending().await,
                        }
                    } => {}
                }
            }
        })
    }

    /// One round: sends op-node what it lacks of our canonical chain.
    async fn round(&mut self) -> Result<(), FollowError> {
        let head = self.state.head(self.chain).await?;
        if self.synced == Some(head.hash) {
            return Ok(());
        }
        if self.sent.is_empty() {
            let status = self.client.sync_status().await?;
            self.sent.insert(status.unsafe_l2.number, status.unsafe_l2.hash);
        }
        // The newest block op-node has that is still ours.
        let top = *self.sent.keys().next_back().expect("seeded");
        let mut n = top.min(head.number);
        let fork = loop {
            let ours = self.state.block_hash(self.chain, n).await?;
            if ours.is_some() && self.sent.get(&n) == ours.as_ref() {
                break n;
            }
            match n.checked_sub(1).filter(|p| self.sent.contains_key(p)) {
                Some(p) => n = p,
                None => {
                    return Err(FollowError::Other(format!(
                        "op-node's chain shares no block with ours from {n} to {top} (another chain, or a reorg deeper than {REMEMBERED} blocks)"
                    )));
                }
            }
        };
        // Extend from the fork point; when our head is at or below it (a rewind), commit the
        // head again so op-node moves its unsafe head back to it (never the genesis: op-node
        // starts from it).
        let from = if fork < head.number { fork + 1 } else { head.number };
        if from == 0 {
            self.synced = Some(head.hash);
            return Ok(());
        }
        for number in from..=head.number {
            let block = self
                .state
                .block_by_number(self.chain, number)
                .await?
                .ok_or_else(|| FollowError::Other(format!("block {number} is gone (reorged meanwhile)")))?;
            // Each block must extend what op-node has below it (a reorg meanwhile ends the round).
            if let Some(below) = number.checked_sub(1).and_then(|p| self.sent.get(&p))
                && *below != block.header.parent_hash
            {
                return Err(FollowError::Other(format!("block {number} no longer extends what was sent")));
            }
            self.commit(&block).await?;
            self.sent.split_off(&number);
            self.sent.insert(number, block.hash);
        }
        while self.sent.len() as u64 > REMEMBERED {
            self.sent.pop_first();
        }
        self.synced = Some(head.hash);
        metrics::gauge!("opseq_publisher_op_node_head", "chain_id" => self.chain.to_string()).set(head.number as f64);
        Ok(())
    }

    async fn commit(&self, block: &SealedBlock) -> Result<(), FollowError> {
        let signed = SignedEnvelope {
            envelope: opseq_executor::payload_envelope(block, true),
            signature: block.signature.clone().unwrap_or_else(|| Bytes::from(vec![0u8; 65])),
        };
        self.client.commit_block_v1(signed.clone()).await?;
        debug!(target: "opseq::publisher", chain_id = self.chain, number = block.header.number, hash = %block.hash, "op-node imported block");
        // Gossip is best effort: an op-node without p2p answers "P2P not enabled".
        if let Err(e) = self.client.publish_block_v1(signed).await {
            debug!(target: "opseq::publisher", chain_id = self.chain, error = %e, "op-node did not gossip the block");
        }
        Ok(())
    }
}

/// Parses `--publish.op-node` entries: `<chainId>=<URL>`.
pub fn parse_targets(entries: &[String]) -> Result<Vec<(ChainId, String)>, String> {
    entries
        .iter()
        .map(|e| {
            let (chain, url) =
                e.split_once('=').ok_or_else(|| format!("--publish.op-node {e:?}: expected <chainId>=<URL>"))?;
            let chain =
                chain.trim().parse().map_err(|_| format!("--publish.op-node {e:?}: {chain:?} is not a chain id"))?;
            Ok((chain, url.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_or_say_why_not() {
        assert_eq!(
            parse_targets(&["901=http://127.0.0.1:9545".into()]).unwrap(),
            vec![(901, "http://127.0.0.1:9545".to_string())]
        );
        assert!(parse_targets(&["http://127.0.0.1:9545".into()]).unwrap_err().contains("expected <chainId>=<URL>"));
        assert!(parse_targets(&["x=http://a".into()]).unwrap_err().contains("not a chain id"));
    }

    #[test]
    fn the_envelope_is_op_nodes_json() {
        let mut header = alloy_consensus::Header {
            number: 7,
            withdrawals_root: Some(B256::repeat_byte(1)),
            requests_hash: Some(B256::repeat_byte(2)),
            parent_beacon_block_root: Some(B256::repeat_byte(3)),
            base_fee_per_gas: Some(7),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            ..Default::default()
        };
        header.gas_limit = 30_000_000;
        let block =
            SealedBlock { transactions: vec![Bytes::from_static(&[0x7e, 1])], ..SealedBlock::header_only(header) };
        let v = serde_json::to_value(SignedEnvelope {
            envelope: opseq_executor::payload_envelope(&block, true),
            signature: Bytes::from(vec![0u8; 65]),
        })
        .unwrap();
        let p = &v["envelope"]["executionPayload"];
        assert_eq!(p["blockNumber"], "0x7");
        assert_eq!(p["withdrawalsRoot"], serde_json::json!(B256::repeat_byte(1)));
        assert_eq!(p["withdrawals"], serde_json::json!([]));
        assert_eq!(p["transactions"], serde_json::json!(["0x7e01"]));
        assert_eq!(v["envelope"]["parentBeaconBlockRoot"], serde_json::json!(B256::repeat_byte(3)));
    }
}
