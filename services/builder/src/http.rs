//! The HTTP front: JSON-RPC per chain on `/chains/<chainId>`, plus `/healthz`, `/readyz`, `/metrics`.
use crate::rpc::ChainRpc;
use actix_web::{HttpResponse, web};
use jsonrpsee::RpcModule;
use opseq_interfaces::Edges;
use opseq_primitives::{ChainId, DevnetConfig};
use serde_json::{Value, json};
use std::{collections::BTreeMap, sync::Arc};

/// Largest accepted JSON-RPC body (a 128 KiB tx hex-encodes to 256 KiB; batches need more).
const MAX_BODY: usize = 16 << 20;

/// The JSON-RPC modules of every chain.
#[derive(Debug, Clone)]
pub struct RpcRoutes {
    modules: Arc<BTreeMap<ChainId, RpcModule<Arc<ChainRpc>>>>,
}

impl RpcRoutes {
    /// One module per chain of `devnet`.
    pub fn new(devnet: &DevnetConfig, edges: &Edges, miner: Option<actix::Addr<crate::BuilderSupervisor>>) -> Self {
        let modules = devnet
            .chains
            .iter()
            .map(|c| (c.chain_id, ChainRpc::module(c.clone(), edges.clone(), miner.clone())))
            .collect();
        Self { modules: Arc::new(modules) }
    }

    fn routes(&self) -> String {
        self.modules.keys().map(|c| format!("/chains/{c}")).collect::<Vec<_>>().join(", ")
    }

    /// Handles one JSON-RPC body (single call or batch) for `chain`.
    pub async fn handle(&self, chain: ChainId, body: &[u8]) -> Value {
        let Some(module) = self.modules.get(&chain) else {
            return error(Value::Null, -32601, &format!("unknown chain {chain}: served routes are {}", self.routes()));
        };
        let parsed: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return error(Value::Null, -32700, &format!("parse error: invalid JSON: {e}")),
        };
        match parsed {
            Value::Array(calls) if calls.is_empty() => error(Value::Null, -32600, "invalid request: empty batch"),
            Value::Array(calls) => {
                let mut out = Vec::with_capacity(calls.len());
                for c in calls {
                    out.push(call_one(module, c).await);
                }
                Value::Array(out)
            }
            single => call_one(module, single).await,
        }
    }
}

async fn call_one(module: &RpcModule<Arc<ChainRpc>>, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    if !call.is_object() || call.get("method").and_then(Value::as_str).is_none() {
        return error(id, -32600, "invalid request: expected a JSON-RPC 2.0 request object with a method");
    }
    let method = call["method"].as_str().unwrap_or_default().to_string();
    if !module.method_names().any(|m| m == method) {
        return error(id, -32601, &format!("the method {method} does not exist/is not available"));
    }
    match module.raw_json_request(&call.to_string(), 1).await {
        Ok((resp, _)) => serde_json::from_str(resp.get()).unwrap_or_else(|e| error(id, -32603, &e.to_string())),
        Err(e) => error(id, -32600, &format!("invalid request: {e}")),
    }
}

fn error(id: Value, code: i32, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

async fn chain_route(routes: web::Data<RpcRoutes>, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let Ok(chain) = path.parse::<ChainId>() else {
        return HttpResponse::NotFound().json(error(
            Value::Null,
            -32601,
            &format!("unknown route /chains/{}: served routes are {}", path.as_str(), routes.routes()),
        ));
    };
    let v = routes.handle(chain, &body).await;
    if !routes.modules.contains_key(&chain) {
        return HttpResponse::NotFound().json(v);
    }
    HttpResponse::Ok().json(v)
}

async fn unknown_route(routes: web::Data<RpcRoutes>, req: actix_web::HttpRequest) -> HttpResponse {
    HttpResponse::NotFound().json(error(
        Value::Null,
        -32601,
        &format!("unknown route {}: served routes are {}", req.path(), routes.routes()),
    ))
}

/// Mounts the JSON-RPC routes on an actix-web app.
pub fn configure(routes: RpcRoutes) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(routes))
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .route("/chains/{chain}", web::post().to(chain_route))
            .default_service(web::to(unknown_route));
    }
}

/// Readiness of the builder's dependencies, by name.
pub async fn readiness(edges: &Edges, devnet: &DevnetConfig) -> Vec<(&'static str, Result<(), String>)> {
    let first = devnet.chains.first().map(|c| c.chain_id).unwrap_or_default();
    let timeout = std::time::Duration::from_secs(2);
    let check = |r: Result<Result<(), opseq_primitives::OpseqError>, tokio::time::error::Elapsed>| match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_string()),
    };
    vec![
        (
            "state-fetcher",
            check(tokio::time::timeout(timeout, async { edges.state.head(first).await.map(|_| ()) }).await),
        ),
        ("txpool", check(tokio::time::timeout(timeout, async { edges.txs.status(first).await.map(|_| ()) }).await)),
        ("signer", check(tokio::time::timeout(timeout, async { edges.signer.address().await.map(|_| ()) }).await)),
        ("publisher", check(tokio::time::timeout(timeout, async { edges.sink.subscribe().await.map(|_| ()) }).await)),
    ]
}
