#![doc = include_str!("../README.md")]

use actix_web::{HttpResponse, web};
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::sync::{Arc, OnceLock};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

/// Logging flags.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Logging")]
pub struct LogArgs {
    /// Log filter (tracing env-filter syntax), e.g. `info` or `opseq::builder=debug,info`.
    #[arg(global = true, long = "log.filter", env = "OPSEQ_LOG_FILTER", default_value = "info")]
    pub filter: String,
    /// Log as JSON lines (for Kubernetes).
    #[arg(global = true, long = "log.json", env = "OPSEQ_LOG_JSON", default_value_t = false)]
    pub json: bool,
}

/// OpenTelemetry export flags (off unless an endpoint is given).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Tracing export")]
pub struct OtlpArgs {
    /// OTLP/gRPC collector endpoint, e.g. `http://127.0.0.1:4317`. Unset: no export.
    #[arg(global = true, long = "otlp.endpoint", env = "OPSEQ_OTLP_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Service name reported to the collector.
    #[arg(global = true, long = "otlp.service-name", env = "OPSEQ_OTLP_SERVICE_NAME", default_value = "op-sequencer")]
    pub service_name: String,
}

/// Keeps the OTLP pipeline alive; flushes it on drop.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// Installs the tracing subscriber (and the OTLP exporter if configured). Must be called inside a
/// tokio runtime when OTLP is on.
pub fn init_telemetry(log: &LogArgs, otlp: &OtlpArgs) -> eyre::Result<TelemetryGuard> {
    let filter = EnvFilter::try_new(&log.filter).map_err(|e| eyre::eyre!("bad --log.filter {:?}: {e}", log.filter))?;
    use tracing_subscriber::Layer;
    let fmt = tracing_subscriber::fmt::layer().with_target(true).with_writer(std::io::stderr);
    let fmt: Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync> =
        if log.json { fmt.json().boxed() } else { fmt.boxed() };
    let mut guard = TelemetryGuard::default();
    let otel = match &otlp.endpoint {
        Some(endpoint) => {
            use opentelemetry::trace::TracerProvider;
            use opentelemetry_otlp::WithExportConfig;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_timeout(std::time::Duration::from_secs(3))
                .build()?;
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    opentelemetry_sdk::Resource::builder().with_service_name(otlp.service_name.clone()).build(),
                )
                .build();
            let tracer = provider.tracer("op-sequencer");
            guard.provider = Some(provider);
            Some(tracing_opentelemetry::layer().with_tracer(tracer))
        }
        None => None,
    };
    tracing_subscriber::registry().with(fmt).with(otel).with(filter).try_init()?;
    // W3C trace context on every hop (gRPC metadata, JSON-RPC HTTP headers).
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    Ok(guard)
}

/// The W3C trace context of the current span (`traceparent`, `tracestate`), for an outgoing
/// request's headers or gRPC metadata. Empty when no trace is being recorded.
pub fn trace_headers() -> Vec<(String, String)> {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = tracing::Span::current().context();
    let mut map = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut map));
    map.into_iter().collect()
}

/// Makes `span` a child of the W3C trace context carried by an incoming request (`header`
/// looks a header up by its lowercase name); a request without one starts a new trace.
pub fn adopt_parent(span: &tracing::Span, header: impl Fn(&str) -> Option<String>) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let map: std::collections::HashMap<String, String> =
        ["traceparent", "tracestate"].iter().filter_map(|k| header(k).map(|v| (k.to_string(), v))).collect();
    if map.is_empty() {
        return;
    }
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&map));
    let _ = span.set_parent(cx);
}

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global Prometheus recorder (once) and returns its handle.
pub fn prometheus() -> PrometheusHandle {
    PROMETHEUS
        .get_or_init(|| PrometheusBuilder::new().install_recorder().expect("no other metrics recorder is installed"))
        .clone()
}

/// A readiness probe: each dependency by name, `Ok` when reachable.
pub type Readiness = Arc<dyn Fn() -> BoxFuture<'static, Vec<(&'static str, Result<(), String>)>> + Send + Sync>;

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(probe: web::Data<Readiness>) -> HttpResponse {
    let checks = (probe.get_ref())().await;
    let missing: Vec<_> =
        checks.iter().filter_map(|(n, r)| r.as_ref().err().map(|e| json!({"dependency": n, "error": e}))).collect();
    let deps: serde_json::Map<_, _> =
        checks.iter().map(|(n, r)| (n.to_string(), json!(if r.is_ok() { "ok" } else { "unreachable" }))).collect();
    if missing.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ready", "dependencies": deps}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not ready", "dependencies": deps, "missing": missing}))
    }
}

async fn metrics_route(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(handle.render())
}

/// Mounts `/healthz`, `/readyz` and `/metrics`.
pub fn ops_routes(probe: Readiness) -> impl FnOnce(&mut web::ServiceConfig) {
    let handle = prometheus();
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(probe))
            .app_data(web::Data::new(handle))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics_route));
    }
}

/// A readiness probe with no dependencies.
pub fn always_ready() -> Readiness {
    Arc::new(|| Box::pin(async { Vec::new() }))
}
