//! A bundle's status after its include, on the shred stream of its calling chain
//! ([`Shred::Bundle`]): `committed` (every leg included) or `aborted`, then `rolledBack` when any
//! leg is undone (a rollback from an index at or below its txs, its job cancelled, its sealed
//! block replaced: the cascade takes the other legs with it), or `sealed` once every leg's block
//! is committed. Followed from the shreds the builders publish anyway, so a client sees a bundle
//! the way it sees its txs (`GET /shreds?chainId=<calling chain>`, gRPC `SubscribeShreds`).
use futures::StreamExt;
use opseq_interfaces::Edges;
use opseq_primitives::{BundleLeg, ChainId, Shred};
use std::sync::Arc;

#[derive(Debug, Clone)]
struct Tracked {
    id: alloy_primitives::B256,
    chain: ChainId,
    block_number: u64,
    timestamp: u64,
    legs: Vec<BundleLeg>,
    sealed: Vec<ChainId>,
}

/// The bundles whose status can still change.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    live: parking_lot::Mutex<Vec<Tracked>>,
    started: std::sync::OnceLock<()>,
}

/// A status change, for the receipts `xchain_getBundle` serves.
pub(crate) type OnChange = Arc<dyn Fn(alloy_primitives::B256, &str, &str) + Send + Sync>;

impl Tracker {
    /// Announces a bundle's include (`committed`, or `aborted` with `reason`) and, when
    /// committed, follows it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn announce(
        self: &Arc<Self>,
        edges: &Edges,
        id: alloy_primitives::B256,
        chain: ChainId,
        timestamp: u64,
        legs: Vec<BundleLeg>,
        reason: Option<String>,
    ) {
        let block_number = legs.iter().find(|l| l.chain_id == chain).map_or(0, |l| l.block_number);
        let status = if reason.is_some() { "aborted" } else { "committed" };
        let _ = edges
            .shreds
            .publish(Shred::Bundle {
                chain_id: chain,
                block_number,
                bundle_id: id,
                status: status.into(),
                timestamp,
                legs: legs.clone(),
                reason: reason.clone().unwrap_or_default(),
            })
            .await;
        if reason.is_some() {
            return;
        }
        self.live.lock().push(Tracked { id, chain, block_number, timestamp, legs, sealed: vec![] });
    }

    /// Starts following the shred stream (once; before the first include, so nothing a bundle's
    /// legs go through is missed).
    pub(crate) async fn start(self: &Arc<Self>, edges: &Edges, on_change: OnChange) {
        if self.started.set(()).is_err() {
            return;
        }
        match edges.shreds.subscribe(None).await {
            Ok(shreds) => {
                let (this, edges) = (Arc::clone(self), edges.clone());
                tokio::spawn(async move { this.follow(edges, shreds, on_change).await });
            }
            Err(e) => {
                tracing::warn!(target: "opseq::builder::sync_calls", error = %e, "no shred stream: bundle statuses after their include are not followed");
            }
        }
    }

    async fn follow(
        self: Arc<Self>,
        edges: Edges,
        mut shreds: futures::stream::BoxStream<'static, Shred>,
        on_change: OnChange,
    ) {
        while let Some(s) = shreds.next().await {
            let changes: Vec<(Tracked, &str, String)> = {
                let mut live = self.live.lock();
                let mut out = vec![];
                live.retain_mut(|t| {
                    let hit = |c: ChainId, n: u64| t.legs.iter().find(|l| l.chain_id == c && l.block_number == n);
                    let undone = match &s {
                        Shred::RolledBack { chain_id, block_number, from_index } => hit(*chain_id, *block_number)
                            .filter(|l| *from_index < l.first_index + l.tx_count)
                            .map(|_| format!("chain {chain_id} rolled block {block_number} back from tx {from_index}")),
                        Shred::BuildEnded { chain_id, block_number, lost: true, .. } => hit(*chain_id, *block_number)
                            .map(|_| format!("chain {chain_id}'s block {block_number} was cancelled")),
                        Shred::Reorged { chain_id, block_number, reason, .. } => hit(*chain_id, *block_number)
                            .map(|_| format!("chain {chain_id}'s block {block_number} was replaced: {reason}")),
                        _ => None,
                    };
                    if let Some(why) = undone {
                        out.push((t.clone(), "rolledBack", why));
                        return false;
                    }
                    if let Shred::Sealed { chain_id, block_number, .. } = &s
                        && hit(*chain_id, *block_number).is_some()
                        && !t.sealed.contains(chain_id)
                    {
                        t.sealed.push(*chain_id);
                        if t.sealed.len() == t.legs.len() {
                            out.push((t.clone(), "sealed", String::new()));
                            return false;
                        }
                    }
                    true
                });
                out
            };
            for (t, status, reason) in changes {
                on_change(t.id, status, &reason);
                let _ = edges
                    .shreds
                    .publish(Shred::Bundle {
                        chain_id: t.chain,
                        block_number: t.block_number,
                        bundle_id: t.id,
                        status: status.into(),
                        timestamp: t.timestamp,
                        legs: t.legs,
                        reason,
                    })
                    .await;
            }
        }
    }
}
