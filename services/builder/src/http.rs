//! The HTTP front: JSON-RPC per chain on `/chains/<chainId>`, plus `/healthz`, `/readyz`, `/metrics`.
use crate::{compat::Compat, rpc::ChainRpc};
use actix_web::{HttpResponse, web};
use alloy_rpc_types_engine::JwtSecret;
use jsonrpsee::RpcModule;
use opseq_interfaces::Edges;
use opseq_primitives::{ChainId, DevnetConfig};
use serde_json::{Value, json};
use std::{collections::BTreeMap, sync::Arc};
use tracing::Instrument;

/// Largest accepted JSON-RPC body (a 128 KiB tx hex-encodes to 256 KiB; batches need more).
const MAX_BODY: usize = 16 << 20;

/// The JSON-RPC modules of every chain.
#[derive(Debug, Clone)]
pub struct RpcRoutes {
    modules: Arc<BTreeMap<ChainId, RpcModule<Arc<ChainRpc>>>>,
    contexts: Arc<BTreeMap<ChainId, Arc<ChainRpc>>>,
    compat: Compat,
    jwt: Option<JwtSecret>,
    /// The shred bus, for websocket subscribers (`GET /shreds`, `GET /flashblocks`).
    shreds: Arc<dyn opseq_interfaces::ShredBus>,
    /// The state, for the flashblocks view's sealed blocks.
    state: Arc<dyn opseq_interfaces::StateSource>,
    /// The devnet's chain ids.
    chains: Vec<ChainId>,
    /// `safe`/`finalized` of the L2s as consensus clients set them (engine API).
    forkchoice: Arc<crate::engine::Forkchoice>,
}

/// The engine API's HTTP routes (the auth port).
#[derive(Debug, Clone)]
pub struct EngineRoutes {
    modules: Arc<BTreeMap<ChainId, RpcModule<Arc<crate::engine::EngineApi>>>>,
    jwt: JwtSecret,
}

/// Configures the auth port's app: `POST /chains/<chainId>` with a JWT on every request.
pub fn configure_engine(routes: EngineRoutes) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(routes))
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .route("/chains/{chain}", web::post().to(engine_route))
            .default_service(web::to(|req: actix_web::HttpRequest| async move {
                HttpResponse::NotFound().json(error(
                    Value::Null,
                    -32601,
                    &format!("unknown route {}: the engine API is served on /chains/<chainId> of each L2", req.path()),
                ))
            }));
    }
}

/// One engine-API request: geth's JWT check first (HTTP 401 and its text, nothing run), then
/// the chain's module.
async fn engine_route(
    routes: web::Data<EngineRoutes>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(reason) = check_jwt(Some(&routes.jwt), &req) {
        return HttpResponse::Unauthorized().content_type("text/plain").body(reason);
    }
    let Some(module) = path.parse::<ChainId>().ok().and_then(|c| routes.modules.get(&c)) else {
        let served: Vec<String> = routes.modules.keys().map(|c| format!("/chains/{c}")).collect();
        return HttpResponse::NotFound().json(error(
            Value::Null,
            -32601,
            &format!("unknown chain route /chains/{}: the engine API serves {}", path.as_str(), served.join(", ")),
        ));
    };
    HttpResponse::Ok().json(handle_body(module, &body).instrument(request_span(&req)).await)
}

/// Methods that need the JWT (the control namespace and op-node's sequencer admin API); the
/// Ethereum namespaces are open, as anvil's are.
fn needs_auth(method: &str) -> bool {
    method.starts_with("test_")
        || method.starts_with("admin_")
        || matches!(method, "xchain_submitPrepared" | "xchain_sendBundle" | "xchain_sendCall")
}

/// Checks an `Authorization: Bearer <HS256 JWT>` header as geth's and op-service's JWT handlers
/// do (`iat` within 60 s of now).
fn check_jwt(secret: Option<&JwtSecret>, req: &actix_web::HttpRequest) -> Result<(), String> {
    let Some(secret) = secret else { return Ok(()) };
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| "missing token".to_string())?;
    let token = header.strip_prefix("Bearer ").ok_or_else(|| "missing token: expected \"Bearer <jwt>\"".to_string())?;
    secret.validate(token).map_err(|e| format!("invalid token: {e}"))
}

impl RpcRoutes {
    /// One module per chain of `devnet`. With `jwt`, the control methods (`test_*`) and the
    /// op-test-sequencer routes need a bearer token signed with it. Sequencers and builders are
    /// named `sequencer-<chainId>` / `builder-<chainId>`, plus the names of `ensemble`.
    pub fn new(
        devnet: &DevnetConfig,
        edges: &Edges,
        miner: Option<actix::Addr<crate::BuilderSupervisor>>,
        jwt: Option<JwtSecret>,
        ensemble: Option<&crate::ensemble::Ensemble>,
    ) -> Self {
        let forkchoice = Arc::new(crate::engine::Forkchoice::default());
        let contexts: BTreeMap<ChainId, Arc<ChainRpc>> = devnet
            .chains
            .iter()
            .map(|c| (c.chain_id, ChainRpc::new(c.clone(), edges.clone(), miner.clone(), Arc::clone(&forkchoice))))
            .collect();
        let sync_calls = Arc::new(crate::sync_calls::SyncCallState::default());
        // Each chain's methods and polling filters; on L2s also op-node's sequencer admin API
        // (JWT, as `test_*`).
        let modules = contexts
            .iter()
            .map(|(id, ctx)| {
                let mut m = ChainRpc::module_of(Arc::clone(ctx));
                m.merge(crate::filters::Filters::module(crate::filters::Filters::new(Arc::clone(ctx))))
                    .expect("filter names differ from the chain's");
                if ctx.config().is_l2() {
                    m.merge(crate::debug_trace::DebugTrace::module(Arc::clone(ctx)))
                        .expect("debug trace names differ from the chain's");
                    let engine =
                        crate::engine::EngineApi::new(ctx.config().clone(), edges.clone(), Arc::clone(&forkchoice));
                    let admin = crate::admin::AdminApi::module(crate::admin::AdminApi::new(Arc::clone(ctx), engine));
                    m.merge(admin).expect("admin names differ from the chain's");
                }
                if ctx.config().interop.is_some() {
                    let calls = crate::sync_calls::SyncCalls::module(Arc::clone(ctx), Arc::clone(&sync_calls));
                    m.merge(calls).expect("xchain names differ from the chain's");
                }
                (*id, m)
            })
            .collect();
        let mut names: Vec<_> = devnet
            .chains
            .iter()
            .map(|c| (format!("sequencer-{}", c.chain_id), format!("builder-{}", c.chain_id), c.chain_id))
            .collect();
        names.extend(ensemble.map(|e| e.names.clone()).unwrap_or_default());
        Self {
            modules: Arc::new(modules),
            contexts: Arc::new(contexts.clone()),
            compat: Compat::new(contexts, &names),
            jwt,
            shreds: Arc::clone(&edges.shreds),
            state: Arc::clone(&edges.state),
            chains: devnet.chain_ids(),
            forkchoice,
        }
    }

    /// The engine API's routes (`/chains/<id>` for each L2, engine methods and the chain's `eth_*`,
    /// JWT on every call), sharing this front's contexts and forkchoice labels.
    pub fn engine(&self, devnet: &DevnetConfig, edges: &Edges, jwt: JwtSecret) -> EngineRoutes {
        let modules = devnet
            .chains
            .iter()
            .filter(|c| c.is_l2())
            .map(|c| {
                let api = crate::engine::EngineApi::new(c.clone(), edges.clone(), Arc::clone(&self.forkchoice));
                let eth = ChainRpc::module_of(Arc::clone(&self.contexts[&c.chain_id]));
                (c.chain_id, crate::engine::EngineApi::module_of(api, eth))
            })
            .collect();
        EngineRoutes { modules: Arc::new(modules), jwt }
    }

    fn routes(&self) -> String {
        let mut r: Vec<String> = self.modules.keys().map(|c| format!("/chains/{c}")).collect();
        r.push("/ (op-test-sequencer build_*)".into());
        r.push("GET /shreds?chainId=&fromSeq= (websocket)".into());
        r.push("GET /flashblocks?chainId= (websocket)".into());
        r.extend(self.compat.names().iter().map(|n| format!("/sequencers/{n}, /tx/{n}")));
        r.join(", ")
    }

    fn unknown_chain(&self, chain: ChainId) -> Value {
        error(Value::Null, -32601, &format!("unknown chain {chain}: served routes are {}", self.routes()))
    }

    /// Handles one JSON-RPC body (single call or batch) for `chain`. The
    /// `eth_sendRawTransaction` calls of a batch are submitted to the pool together.
    pub async fn handle(&self, chain: ChainId, request: Value) -> Value {
        let Some(module) = self.modules.get(&chain) else {
            return self.unknown_chain(chain);
        };
        if let Value::Array(calls) = &request {
            let is_send = |c: &Value| c.get("method").and_then(Value::as_str) == Some("eth_sendRawTransaction");
            if calls.iter().filter(|c| is_send(c)).count() >= 2 {
                let ctx = &self.contexts[&chain];
                let sends: Vec<(Value, Value)> = calls
                    .iter()
                    .filter(|c| is_send(c))
                    .map(|c| {
                        (c.get("id").cloned().unwrap_or(Value::Null), c.get("params").cloned().unwrap_or(Value::Null))
                    })
                    .collect();
                let mut sent = ctx.send_raw_batch(sends).await.into_iter();
                let mut out = Vec::with_capacity(calls.len());
                for c in calls {
                    if is_send(c) {
                        out.push(sent.next().unwrap_or_default());
                    } else {
                        out.push(call_one(module, c.clone()).await);
                    }
                }
                return Value::Array(out);
            }
        }
        handle_request(module, request).await
    }
}

/// A request body parsed once: the JSON-RPC request(s), or the parse-error response.
fn parse_body(body: &[u8]) -> Result<Value, Value> {
    serde_json::from_slice(body).map_err(|e| error(Value::Null, -32700, &format!("parse error: invalid JSON: {e}")))
}

/// Handles one JSON-RPC body (single call or batch) with `module`.
async fn handle_body<T: Send + Sync + 'static>(module: &RpcModule<T>, body: &[u8]) -> Value {
    match parse_body(body) {
        Ok(request) => handle_request(module, request).await,
        Err(response) => response,
    }
}

/// Handles a parsed JSON-RPC request (single call or batch) with `module`.
async fn handle_request<T: Send + Sync + 'static>(module: &RpcModule<T>, request: Value) -> Value {
    match request {
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

async fn call_one<T: Send + Sync + 'static>(module: &RpcModule<T>, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let raw = call_one_raw(module, call).await;
    serde_json::from_str(&raw).unwrap_or_else(|e| error(id, -32603, &e.to_string()))
}

/// One call, answered as the JSON text of its response object.
async fn call_one_raw<T: Send + Sync + 'static>(module: &RpcModule<T>, call: Value) -> String {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    if !call.is_object() || call.get("method").and_then(Value::as_str).is_none() {
        return error(id, -32600, "invalid request: expected a JSON-RPC 2.0 request object with a method").to_string();
    }
    let method = call["method"].as_str().unwrap_or_default();
    if !module.method_names().any(|m| m == method) {
        return error(id, -32601, &format!("the method {method} does not exist/is not available")).to_string();
    }
    match module.raw_json_request(&call.to_string(), 1).await {
        Ok((resp, _)) => resp.get().to_string(),
        Err(e) => error(id, -32600, &format!("invalid request: {e}")).to_string(),
    }
}

fn error(id: Value, code: i32, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// A span for one JSON-RPC request, a child of the W3C trace context in its HTTP headers.
fn request_span(req: &actix_web::HttpRequest) -> tracing::Span {
    let span = tracing::info_span!("jsonrpc", otel.name = %format!("POST {}", req.path()), otel.kind = "server");
    opseq_runtime::adopt_parent(&span, |k| req.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string));
    span
}

/// Whether a JSON-RPC request (single call or batch) calls a method that needs the JWT.
fn calls_control(request: &Value) -> bool {
    let method_of = |v: &Value| v.get("method").and_then(Value::as_str).is_some_and(needs_auth);
    match request {
        Value::Array(calls) => calls.iter().any(method_of),
        v => method_of(v),
    }
}

fn unauthorized(reason: &str) -> HttpResponse {
    HttpResponse::Unauthorized().json(error(Value::Null, -32001, &format!("unauthorized: {reason}")))
}

async fn chain_route(
    routes: web::Data<RpcRoutes>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let parsed = parse_body(&body);
    if parsed.as_ref().is_ok_and(calls_control)
        && let Err(reason) = check_jwt(routes.jwt.as_ref(), &req)
    {
        return unauthorized(&reason);
    }
    let Ok(chain) = path.parse::<ChainId>() else {
        return HttpResponse::NotFound().json(error(
            Value::Null,
            -32601,
            &format!("unknown route /chains/{}: served routes are {}", path.as_str(), routes.routes()),
        ));
    };
    if !routes.modules.contains_key(&chain) {
        return HttpResponse::NotFound().json(routes.unknown_chain(chain));
    }
    match parsed {
        // A single call: the module's answer goes out as it came (no second parse and encode).
        Ok(request) if request.is_object() => {
            let module = &routes.modules[&chain];
            let body = call_one_raw(module, request).instrument(request_span(&req)).await;
            HttpResponse::Ok().content_type("application/json").body(body)
        }
        Ok(request) => HttpResponse::Ok().json(routes.handle(chain, request).instrument(request_span(&req)).await),
        Err(response) => HttpResponse::Ok().json(response),
    }
}

/// `GET /chains/<id>` upgraded to a websocket: the chain's methods and `eth_subscribe`
/// (`crate::subscriptions`). The control methods need the upgrade request's JWT.
async fn chain_websocket(
    routes: web::Data<RpcRoutes>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
) -> HttpResponse {
    let Some((chain, ctx)) =
        path.parse::<ChainId>().ok().and_then(|c| routes.contexts.get(&c).map(|ctx| (c, Arc::clone(ctx))))
    else {
        return HttpResponse::NotFound().json(error(
            Value::Null,
            -32601,
            &format!("unknown route /chains/{}: served routes are {}", path.as_str(), routes.routes()),
        ));
    };
    let authorized = check_jwt(routes.jwt.as_ref(), &req);
    let modules = Arc::clone(&routes.modules);
    crate::subscriptions::serve(&req, body, ctx, move |request| {
        let modules = Arc::clone(&modules);
        let authorized = authorized.clone();
        async move {
            if calls_control(&request)
                && let Err(reason) = authorized
            {
                let id = request.get("id").cloned().unwrap_or(Value::Null);
                return error(id, -32001, &format!("unauthorized: {reason}")).to_string();
            }
            let module = &modules[&chain];
            if request.is_object() {
                call_one_raw(module, request).await
            } else {
                handle_request(module, request).await.to_string()
            }
        }
    })
}

async fn root_route(routes: web::Data<RpcRoutes>, req: actix_web::HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err(reason) = check_jwt(routes.jwt.as_ref(), &req) {
        return unauthorized(&reason);
    }
    HttpResponse::Ok().json(handle_body(routes.compat.root(), &body).instrument(request_span(&req)).await)
}

async fn sequencer_route(
    routes: web::Data<RpcRoutes>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some((control, _)) = routes.compat.sequencer(&path) else {
        return unknown_sequencer(&routes, &path);
    };
    if let Err(reason) = check_jwt(routes.jwt.as_ref(), &req) {
        return unauthorized(&reason);
    }
    HttpResponse::Ok().json(handle_body(control, &body).instrument(request_span(&req)).await)
}

/// `/tx/<sequencer>`: unauthenticated, as op-test-sequencer's.
async fn tx_route(routes: web::Data<RpcRoutes>, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let Some((_, tx)) = routes.compat.sequencer(&path) else {
        return unknown_sequencer(&routes, &path);
    };
    HttpResponse::Ok().json(handle_body(tx, &body).await)
}

fn unknown_sequencer(routes: &RpcRoutes, name: &str) -> HttpResponse {
    HttpResponse::NotFound().json(error(
        Value::Null,
        -32601,
        &format!("unknown sequencer {name}: served sequencers are {}", routes.compat.names().join(", ")),
    ))
}

async fn unknown_route(routes: web::Data<RpcRoutes>, req: actix_web::HttpRequest) -> HttpResponse {
    HttpResponse::NotFound().json(error(
        Value::Null,
        -32601,
        &format!("unknown route {}: served routes are {}", req.path(), routes.routes()),
    ))
}

/// `GET /shreds` and `GET /flashblocks` query: which chain (all when absent; required for
/// flashblocks) and, for shreds, where to resume (`fromSeq`, the first sequence number wanted;
/// from now on when absent).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StreamQuery {
    chain_id: Option<ChainId>,
    from_seq: Option<u64>,
}

fn refuse(status: actix_web::http::StatusCode, message: String) -> HttpResponse {
    HttpResponse::build(status).json(error(Value::Null, -32602, &message))
}

/// The query of a stream route, its chain checked.
fn stream_query(routes: &RpcRoutes, req: &actix_web::HttpRequest) -> Result<StreamQuery, HttpResponse> {
    let q = web::Query::<StreamQuery>::from_query(req.query_string())
        .map_err(|e| refuse(actix_web::http::StatusCode::BAD_REQUEST, format!("bad {} query: {e}", req.path())))?
        .into_inner();
    if let Some(c) = q.chain_id.filter(|c| !routes.chains.contains(c)) {
        return Err(refuse(
            actix_web::http::StatusCode::NOT_FOUND,
            format!("unknown chain {c}: the devnet's chains are {:?}", routes.chains),
        ));
    }
    Ok(q)
}

/// Upgrades to a websocket and sends `messages` as text, answering pings, until either side ends.
fn serve_websocket(
    req: &actix_web::HttpRequest,
    body: web::Payload,
    mut messages: futures::stream::BoxStream<'static, String>,
) -> HttpResponse {
    let (response, mut session, mut incoming) = match actix_ws::handle(req, body) {
        Ok(x) => x,
        Err(e) => return refuse(actix_web::http::StatusCode::BAD_REQUEST, format!("not a websocket upgrade: {e}")),
    };
    actix_web::rt::spawn(async move {
        use futures::StreamExt;
        loop {
            tokio::select! {
                next = messages.next() => {
                    let Some(text) = next else { break };
                    if session.text(text).await.is_err() {
                        return;
                    }
                }
                msg = incoming.next() => match msg {
                    Some(Ok(actix_ws::Message::Ping(p))) => {
                        if session.pong(&p).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(actix_ws::Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        let _ = session.close(None).await;
    });
    response
}

/// `GET /shreds`: the shred stream over a websocket, one JSON text message per shred,
/// `{"seq": n, "shred": {"kind": …}}` (the JSON of [`opseq_primitives::Shred`]). Unauthenticated,
/// as the Ethereum namespaces are. A bad query, an unknown chain or a `fromSeq` the bus no longer
/// holds is refused before the upgrade, with a JSON error naming it.
async fn shreds_route(routes: web::Data<RpcRoutes>, req: actix_web::HttpRequest, body: web::Payload) -> HttpResponse {
    use futures::StreamExt;
    let q = match stream_query(&routes, &req) {
        Ok(q) => q,
        Err(refused) => return refused,
    };
    match routes.shreds.subscribe_from(q.chain_id, q.from_seq.unwrap_or(0)).await {
        Ok(s) => {
            serve_websocket(&req, body, s.map(|(seq, shred)| json!({"seq": seq, "shred": shred}).to_string()).boxed())
        }
        Err(e) => refuse(actix_web::http::StatusCode::BAD_REQUEST, e.to_string()),
    }
}

/// `GET /flashblocks?chainId=`: the chain's [`crate::flashblocks::FlashblocksView`] over a
/// websocket, one `FlashblocksPayloadV1` JSON message per flashblock, from now on.
async fn flashblocks_route(
    routes: web::Data<RpcRoutes>,
    req: actix_web::HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    use futures::StreamExt;
    let q = match stream_query(&routes, &req) {
        Ok(q) => q,
        Err(refused) => return refused,
    };
    let (Some(chain), None) = (q.chain_id, q.from_seq) else {
        return refuse(
            actix_web::http::StatusCode::BAD_REQUEST,
            "/flashblocks takes chainId (required) and nothing else".into(),
        );
    };
    let shreds = match routes.shreds.subscribe_from(Some(chain), 0).await {
        Ok(s) => s,
        Err(e) => return refuse(actix_web::http::StatusCode::BAD_REQUEST, e.to_string()),
    };
    let view = crate::flashblocks::FlashblocksView::new(chain, Arc::clone(&routes.state));
    let payloads = futures::stream::unfold((shreds, view), |(mut shreds, mut view)| async move {
        let (_, shred) = shreds.next().await?;
        let out = view.apply(&shred).await;
        Some((futures::stream::iter(out.into_iter().map(|v| v.to_string())), (shreds, view)))
    })
    .flatten()
    .boxed();
    serve_websocket(&req, body, payloads)
}

/// Mounts the JSON-RPC routes on an actix-web app.
pub fn configure(routes: RpcRoutes) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(routes))
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .route("/chains/{chain}", web::post().to(chain_route))
            .route("/chains/{chain}", web::get().to(chain_websocket))
            .route("/", web::post().to(root_route))
            .route("/sequencers/{id}", web::post().to(sequencer_route))
            .route("/tx/{id}", web::post().to(tx_route))
            .route("/shreds", web::get().to(shreds_route))
            .route("/flashblocks", web::get().to(flashblocks_route))
            .route("/eth/v1/beacon/genesis", web::get().to(beacon_genesis))
            .route("/eth/v1/config/spec", web::get().to(beacon_spec))
            .default_service(web::to(unknown_route));
    }
}

/// The L1 mock's chain config, for the beacon API stub.
fn l1_mock(routes: &RpcRoutes) -> Option<&opseq_primitives::ChainConfig> {
    routes.contexts.values().map(|c| c.config()).find(|c| !c.is_l2())
}

/// The beacon API's `GET /eth/v1/beacon/genesis` for the L1 mock: its genesis time (kona-node
/// reads it at start; with calldata batches it never asks for blobs).
async fn beacon_genesis(routes: web::Data<RpcRoutes>) -> HttpResponse {
    match l1_mock(&routes) {
        Some(l1) => HttpResponse::Ok().json(json!({"data": {"genesis_time": l1.genesis_timestamp.to_string()}})),
        None => HttpResponse::NotFound().json(error(Value::Null, -32601, "no L1 mock here: no beacon API")),
    }
}

/// The beacon API's `GET /eth/v1/config/spec` for the L1 mock: `SECONDS_PER_SLOT` is its block
/// time.
async fn beacon_spec(routes: web::Data<RpcRoutes>) -> HttpResponse {
    match l1_mock(&routes) {
        Some(l1) => HttpResponse::Ok().json(json!({"data": {"SECONDS_PER_SLOT": l1.block_time.to_string()}})),
        None => HttpResponse::NotFound().json(error(Value::Null, -32601, "no L1 mock here: no beacon API")),
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
