//! geth's polling filters on each chain route: `eth_newBlockFilter`, `eth_newFilter({fromBlock?,
//! toBlock?, address?, topics?})`, `eth_newPendingTransactionFilter`, `eth_getFilterChanges`,
//! `eth_getFilterLogs`, `eth_uninstallFilter` (what ethers and viem's `watch*` poll over HTTP).
//! A filter answers what happened since its last poll: new canonical block hashes; matching logs
//! of new blocks, and those of blocks a reorg took out again with `removed: true`; hashes of txs
//! the pool accepted. Filters not polled for 5 minutes are dropped, as geth's
//! (`filters.deadline`); an unknown or dropped id is geth's "filter not found".
use crate::{
    rpc::{ChainRpc, LogMatcher, codes, err},
    subscriptions::ChainCursor,
};
use alloy_primitives::B256;
use futures::StreamExt;
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::Mutex;

/// geth's filter timeout.
const DEADLINE: Duration = Duration::from_secs(300);

enum Kind {
    Blocks(ChainCursor),
    Logs(ChainCursor, LogMatcher, Value),
    Pending(Arc<std::sync::Mutex<Vec<B256>>>, tokio::task::JoinHandle<()>),
}

struct Filter {
    kind: Kind,
    polled: Instant,
}

impl Drop for Filter {
    fn drop(&mut self) {
        if let Kind::Pending(_, task) = &self.kind {
            task.abort();
        }
    }
}

/// One chain's filters.
pub struct Filters {
    chain: Arc<ChainRpc>,
    table: Mutex<HashMap<String, Filter>>,
}

impl std::fmt::Debug for Filters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filters").field("chain", &self.chain.chain()).finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFilterArgs {
    from_block: Option<Value>,
    to_block: Option<Value>,
    address: Option<Value>,
    topics: Option<Vec<Option<Value>>>,
    block_hash: Option<Value>,
}

fn not_found() -> ErrorObjectOwned {
    err(codes::SERVER, "filter not found")
}

fn new_id() -> String {
    format!("{:#x}", B256::random()).chars().take(34).collect()
}

impl Filters {
    /// The filters of `chain`'s route.
    pub fn new(chain: Arc<ChainRpc>) -> Arc<Self> {
        Arc::new(Self { chain, table: Mutex::new(HashMap::new()) })
    }

    /// The filter methods.
    pub fn module(this: Arc<Self>) -> RpcModule<Arc<Self>> {
        let mut m = RpcModule::new(this);
        m.register_async_method("eth_newBlockFilter", |p, ctx, _| async move {
            crate::rpc::no_params(&p)?;
            let cursor = ChainCursor::at_head(ctx.chain.edges(), ctx.chain.chain()).await;
            Ok::<_, ErrorObjectOwned>(ctx.install(Kind::Blocks(cursor)).await)
        })
        .expect("unique");
        m.register_async_method("eth_newFilter", |p, ctx, _| async move { ctx.new_log_filter(p).await })
            .expect("unique");
        m.register_async_method("eth_newPendingTransactionFilter", |p, ctx, _| async move {
            crate::rpc::no_params(&p)?;
            ctx.new_pending_filter().await
        })
        .expect("unique");
        m.register_async_method("eth_getFilterChanges", |p, ctx, _| async move { ctx.changes(p).await })
            .expect("unique");
        m.register_async_method("eth_getFilterLogs", |p, ctx, _| async move { ctx.filter_logs(p).await })
            .expect("unique");
        m.register_async_method("eth_uninstallFilter", |p, ctx, _| async move {
            let (id,): (String,) = p.parse()?;
            Ok::<_, ErrorObjectOwned>(json!(ctx.table.lock().await.remove(&id).is_some()))
        })
        .expect("unique");
        m
    }

    async fn install(&self, kind: Kind) -> Value {
        let id = new_id();
        let mut table = self.table.lock().await;
        table.retain(|_, f| f.polled.elapsed() < DEADLINE);
        table.insert(id.clone(), Filter { kind, polled: Instant::now() });
        json!(id)
    }

    async fn new_log_filter(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let (args,): (LogFilterArgs,) = p.parse()?;
        if args.block_hash.is_some() {
            return Err(err(codes::INVALID_PARAMS, "blockHash is not supported by eth_newFilter; use eth_getLogs"));
        }
        let matcher = LogMatcher::new(args.address.clone(), args.topics.clone())?;
        // `eth_getFilterLogs` answers the filter's whole range through eth_getLogs.
        let query = json!({
            "fromBlock": args.from_block, "toBlock": args.to_block, "address": args.address, "topics": args.topics,
        });
        let cursor = ChainCursor::at_head(self.chain.edges(), self.chain.chain()).await;
        Ok(self.install(Kind::Logs(cursor, matcher, query)).await)
    }

    async fn new_pending_filter(&self) -> Result<Value, ErrorObjectOwned> {
        let chain = self.chain.chain();
        let mut events =
            self.chain.edges().txs.subscribe().await.map_err(|e| err(codes::SERVER, format!("pool events: {e}")))?;
        let hashes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = Arc::clone(&hashes);
        let task = tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                if let opseq_primitives::PoolEvent::Added { chain_id, hash, .. } = ev
                    && chain_id == chain
                {
                    into.lock().expect("not poisoned").push(hash);
                }
            }
        });
        Ok(self.install(Kind::Pending(hashes, task)).await)
    }

    async fn changes(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let (id,): (String,) = p.parse()?;
        let mut table = self.table.lock().await;
        table.retain(|_, f| f.polled.elapsed() < DEADLINE);
        let f = table.get_mut(&id).ok_or_else(not_found)?;
        f.polled = Instant::now();
        let (edges, chain) = (self.chain.edges(), self.chain.chain());
        Ok(match &mut f.kind {
            Kind::Blocks(cursor) => match cursor.advance(edges, chain).await {
                Some((_, new)) => json!(new.iter().map(|b| b.hash).collect::<Vec<_>>()),
                None => json!([]),
            },
            Kind::Logs(cursor, matcher, _) => {
                let mut out = Vec::new();
                if let Some((removed, new)) = cursor.advance(edges, chain).await {
                    for b in &removed {
                        out.extend(self.chain.block_logs(b, matcher, true)?);
                    }
                    for b in &new {
                        out.extend(self.chain.block_logs(b, matcher, false)?);
                    }
                }
                Value::Array(out)
            }
            Kind::Pending(hashes, _) => json!(std::mem::take(&mut *hashes.lock().expect("not poisoned"))),
        })
    }

    async fn filter_logs(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let (id,): (String,) = p.parse()?;
        let query = {
            let mut table = self.table.lock().await;
            let f = table.get_mut(&id).ok_or_else(not_found)?;
            f.polled = Instant::now();
            match &f.kind {
                Kind::Logs(_, _, query) => query.clone(),
                _ => return Err(not_found()),
            }
        };
        self.chain.get_logs_of(query).await
    }
}
