//! `eth_subscribe` over a websocket on a chain's route (`GET /chains/<chainId>` upgraded): the
//! subscriptions geth serves, with its notification shape
//! (`{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":id,"result":…}}`):
//!
//! - `newHeads`: each new canonical block's header (as `eth_getBlockByNumber` without txs);
//! - `logs` (optional `{address, topics}`): the matching logs of each new canonical block, and
//!   after a reorg the logs of the blocks it took out again with `removed: true` (newest first),
//!   then those of the new branch;
//! - `newPendingTransactions`: the hash of each tx the pool accepts.
//!
//! `eth_unsubscribe(id)` answers true/false; every other method is the chain route's own (the
//! control methods need the upgrade request to carry the JWT). Wake-ups come from the block sink
//! (committed blocks) and the pool's event stream; the canonical chain is read from the store.
use crate::rpc::{ChainRpc, LogMatcher};
use actix_web::{HttpResponse, web};
use alloy_primitives::B256;
use futures::{StreamExt, stream::BoxStream};
use serde_json::{Value, json};
use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};
use tokio::sync::mpsc;

/// How many recent canonical blocks a subscription remembers to detect a reorg.
const REMEMBERED: usize = 256;

/// What a subscription streams.
enum Kind {
    NewHeads,
    Logs(LogMatcher),
    PendingTxs,
}

fn notification(id: &str, result: Value) -> String {
    json!({"jsonrpc": "2.0", "method": "eth_subscription", "params": {"subscription": id, "result": result}})
        .to_string()
}

fn response(id: &Value, result: Result<Value, (i32, String)>) -> String {
    match result {
        Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
        Err((code, message)) => json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    }
    .to_string()
}

/// Parses `eth_subscribe`'s params.
fn kind_of(params: &Value) -> Result<Kind, (i32, String)> {
    let bad = |m: String| (-32602, m);
    let name = params.get(0).and_then(Value::as_str).ok_or_else(|| bad("missing subscription name".into()))?;
    match name {
        "newHeads" => Ok(Kind::NewHeads),
        "newPendingTransactions" => Ok(Kind::PendingTxs),
        "logs" => {
            let filter = params.get(1).cloned().unwrap_or(Value::Null);
            if !(filter.is_null() || filter.is_object()) {
                return Err(bad("logs filter must be an object".into()));
            }
            let topics: Option<Vec<Option<Value>>> =
                serde_json::from_value(filter.get("topics").cloned().unwrap_or(Value::Null))
                    .map_err(|e| bad(format!("invalid topics: {e}")))?;
            LogMatcher::new(filter.get("address").cloned(), topics)
                .map(Kind::Logs)
                .map_err(|e| bad(e.message().to_string()))
        }
        other => Err(bad(format!("no \"{other}\" subscription in eth namespace"))),
    }
}

/// Upgrades `req` to a websocket serving `ctx`'s chain. `call` answers an ordinary JSON-RPC text
/// (the chain route's methods, with the upgrade request's authorization).
pub(crate) fn serve<F, Fut>(
    req: &actix_web::HttpRequest,
    body: web::Payload,
    ctx: Arc<ChainRpc>,
    call: F,
) -> HttpResponse
where
    F: Fn(Value) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = String> + Send,
{
    let (response_, mut session, mut incoming) = match actix_ws::handle(req, body) {
        Ok(x) => x,
        Err(e) => return HttpResponse::BadRequest().body(format!("not a websocket upgrade: {e}")),
    };
    actix_web::rt::spawn(async move {
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
        let mut subs: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            tokio::select! {
                Some(text) = out_rx.recv() => {
                    if session.text(text).await.is_err() {
                        break;
                    }
                }
                msg = incoming.next() => match msg {
                    // JSON-RPC in text frames, or binary ones (web3.py sends binary).
                    Some(Ok(frame @ (actix_ws::Message::Text(_) | actix_ws::Message::Binary(_)))) => {
                        let bytes = match frame {
                            actix_ws::Message::Text(t) => t.into_bytes(),
                            actix_ws::Message::Binary(b) => b,
                            _ => unreachable!("matched above"),
                        };
                        let Ok(request) = serde_json::from_slice::<Value>(&bytes) else {
                            let _ = out_tx.send(response(&Value::Null, Err((-32700, "parse error: invalid JSON".into()))));
                            continue;
                        };
                        let id = request.get("id").cloned().unwrap_or(Value::Null);
                        match request.get("method").and_then(Value::as_str) {
                            Some("eth_subscribe") => {
                                let params = request.get("params").cloned().unwrap_or(Value::Null);
                                match kind_of(&params) {
                                    // The source is subscribed before the id is answered: nothing
                                    // after the answer is missed.
                                    Ok(kind) => match open(&ctx, kind).await {
                                        Ok(source) => {
                                            let sub = format!("{:#x}", B256::random()).chars().take(34).collect::<String>();
                                            let _ = out_tx.send(response(&id, Ok(json!(sub))));
                                            let task = tokio::spawn(stream(Arc::clone(&ctx), source, sub.clone(), out_tx.clone()));
                                            subs.insert(sub, task);
                                        }
                                        Err(e) => { let _ = out_tx.send(response(&id, Err((-32000, e)))); }
                                    },
                                    Err(e) => { let _ = out_tx.send(response(&id, Err(e))); }
                                }
                            }
                            Some("eth_unsubscribe") => {
                                let sub = request.get("params").and_then(|p| p.get(0)).and_then(Value::as_str).unwrap_or_default();
                                let found = subs.remove(sub).map(|t| t.abort()).is_some();
                                let _ = out_tx.send(response(&id, Ok(json!(found))));
                            }
                            _ => { let _ = out_tx.send(call(request).await); }
                        }
                    }
                    Some(Ok(actix_ws::Message::Ping(p))) => {
                        if session.pong(&p).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(actix_ws::Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        for (_, t) in subs {
            t.abort();
        }
        let _ = session.close(None).await;
    });
    response_
}

/// A subscription's source, subscribed.
enum Source {
    Pool(BoxStream<'static, opseq_primitives::PoolEvent>),
    Blocks(Kind, BoxStream<'static, opseq_primitives::SealedBlock>, ChainCursor),
}

/// Subscribes `kind`'s source (the pool's events, or the block sink and the head it starts from).
async fn open(ctx: &ChainRpc, kind: Kind) -> Result<Source, String> {
    let edges = ctx.edges();
    Ok(match kind {
        Kind::PendingTxs => Source::Pool(edges.txs.subscribe().await.map_err(|e| e.to_string())?),
        kind => {
            let wakes = edges.sink.subscribe().await.map_err(|e| e.to_string())?;
            Source::Blocks(kind, wakes, ChainCursor::at_head(edges, ctx.chain()).await)
        }
    })
}

/// Streams one subscription until its connection drops it.
async fn stream(ctx: Arc<ChainRpc>, source: Source, sub: String, out: mpsc::UnboundedSender<String>) {
    let edges = ctx.edges().clone();
    let chain = ctx.chain();
    let (kind, mut wakes, mut cursor) = match source {
        Source::Pool(mut events) => {
            while let Some(ev) = events.next().await {
                if let opseq_primitives::PoolEvent::Added { chain_id, hash, .. } = ev
                    && chain_id == chain
                    && out.send(notification(&sub, json!(hash))).is_err()
                {
                    return;
                }
            }
            return;
        }
        Source::Blocks(kind, wakes, cursor) => (kind, wakes, cursor),
    };
    while wakes.next().await.is_some() {
        let Some((removed, new)) = cursor.advance(&edges, chain).await else { continue };
        let mut messages = Vec::new();
        if let Kind::Logs(m) = &kind {
            for b in &removed {
                messages.extend(ctx.block_logs(b, m, true).unwrap_or_default());
            }
        }
        for b in &new {
            match &kind {
                Kind::NewHeads => {
                    let mut v = ctx.block_json(b, false);
                    if let Some(o) = v.as_object_mut() {
                        o.remove("transactions");
                    }
                    messages.push(v);
                }
                Kind::Logs(m) => messages.extend(ctx.block_logs(b, m, false).unwrap_or_default()),
                Kind::PendingTxs => {}
            }
        }
        for m in messages {
            if out.send(notification(&sub, m)).is_err() {
                return;
            }
        }
    }
}

/// A reader's place on a chain: the canonical blocks it has seen (number, hash), newest last, so
/// that the next look tells the blocks a reorg took out from the ones that are new.
#[derive(Debug, Default)]
pub(crate) struct ChainCursor {
    seen: VecDeque<(u64, B256)>,
}

impl ChainCursor {
    /// A cursor that has seen the head (and nothing before it).
    pub(crate) async fn at_head(edges: &opseq_interfaces::Edges, chain: opseq_primitives::ChainId) -> Self {
        let mut seen = VecDeque::new();
        if let Ok(head) = edges.state.head(chain).await {
            seen.push_back((head.number, head.hash));
        }
        Self { seen }
    }

    /// What changed since the last look: the seen blocks a reorg took out (newest first) and the
    /// new canonical blocks (oldest first); `None` when the head is the one last seen.
    pub(crate) async fn advance(
        &mut self,
        edges: &opseq_interfaces::Edges,
        chain: opseq_primitives::ChainId,
    ) -> Option<(Vec<opseq_primitives::SealedBlock>, Vec<opseq_primitives::SealedBlock>)> {
        let head = edges.state.head(chain).await.ok()?;
        if self.seen.back().is_some_and(|(_, h)| *h == head.hash) {
            return None;
        }
        // Walk back from the head to a block seen on the canonical chain; what was seen above it
        // was reorged out.
        let mut new = Vec::new();
        let mut at = head.number;
        let fork = loop {
            let Ok(Some(b)) = edges.state.block_by_number(chain, at).await else { break None };
            if self.seen.iter().any(|(n, h)| *n == at && *h == b.hash) {
                break Some(at);
            }
            new.push(b);
            if at == 0 || new.len() > REMEMBERED {
                break None;
            }
            at -= 1;
        };
        let gone: Vec<(u64, B256)> = self.seen.iter().filter(|(n, _)| fork.is_none_or(|f| *n > f)).copied().collect();
        let mut removed = Vec::new();
        for (_, hash) in gone.iter().rev() {
            if let Ok(Some(b)) = edges.state.block_by_hash(chain, *hash).await {
                removed.push(b);
            }
        }
        self.seen.retain(|(n, _)| fork.is_some_and(|f| *n <= f));
        new.reverse();
        self.seen.extend(new.iter().map(|b| (b.header.number, b.hash)));
        while self.seen.len() > REMEMBERED {
            self.seen.pop_front();
        }
        Some((removed, new))
    }
}
