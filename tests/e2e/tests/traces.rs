//! One request, one trace across processes: the five-process cluster exports its spans over OTLP
//! to a collector run here (the OTLP TraceService from `opentelemetry-proto`, served by tonic); a
//! test-API call carrying a W3C `traceparent` yields spans of that trace from the builder and
//! from the components it called over gRPC (the context travels in the gRPC metadata).
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};
use opseq_e2e::*;
use serde_json::json;
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// (service name, trace id, span name, span id, parent span id) of every received span.
type Received = Arc<Mutex<Vec<(String, Vec<u8>, String, Vec<u8>, Vec<u8>)>>>;

struct Collector(Received);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        r: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut got = self.0.lock().unwrap();
        for rs in r.into_inner().resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for s in ss.spans {
                    got.push((service.clone(), s.trace_id, s.name, s.span_id, s.parent_span_id));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[test]
fn one_test_api_request_is_one_trace_across_processes() -> eyre::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let received: Received = Arc::default();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let svc = TraceServiceServer::new(Collector(Arc::clone(&received)));
    rt.spawn(async move {
        tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
    });

    let dir = tempfile::tempdir()?;
    let cluster = Cluster::start_env(dir.path(), &["--no-auto"], &[("OPSEQ_OTLP_ENDPOINT", &endpoint)])?;
    let node = cluster.builder();
    // The caller's trace: W3C traceparent `00-<trace id>-<parent span id>-01`.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let h = [("traceparent", traceparent.as_str())];
    let (_, job) = node.control_with("/chains/901", "test_open", json!([]), &h)?;
    let job = job["result"]["jobId"].clone();
    let raw = sign_transfer(KEY0, 901, 0, "0x000000000000000000000000000000000000dEaD", 1, 21_000, 10_000_000_000)?;
    node.control_with("/chains/901", "test_includeRaw", json!([job, raw]), &h)?;
    let (_, sealed) = node.control_with("/chains/901", "test_seal", json!([job]), &h)?;
    assert_eq!(sealed["result"]["committed"], true, "{sealed}");

    // Spans are exported in batches (every 5 s).
    let want = alloy_primitives::hex::decode(trace_id)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let by_service = loop {
        let got = received.lock().unwrap().clone();
        let mut by_service: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (service, _, name, ..) in got.iter().filter(|s| s.1 == want) {
            by_service.entry(service.clone()).or_default().insert(name.clone());
        }
        // Each process exports on its own schedule: wait for all of them.
        let all = ["builder", "state-fetcher", "signer", "publisher"].iter().all(|s| by_service.contains_key(*s));
        if all || Instant::now() > deadline {
            break by_service;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    // The builder (the JSON-RPC request), and the state-fetcher, the signer and the publisher it
    // called over gRPC, all in the one trace.
    for service in ["builder", "state-fetcher", "signer", "publisher"] {
        assert!(by_service.contains_key(service), "no {service} span in the trace: {by_service:?}");
    }
    assert!(by_service["builder"].iter().any(|n| n.starts_with("POST /chains/901")), "{by_service:?}");
    assert!(by_service["signer"].iter().any(|n| n.contains("SignBlock")), "{by_service:?}");
    // Every span of the trace has a parent inside the trace except the requests' own, whose
    // parent is the caller's span (parents end, and are exported, after their children: wait).
    let caller = alloy_primitives::hex::decode("00f067aa0ba902b7")?;
    loop {
        let got = received.lock().unwrap().clone();
        let spans: Vec<_> = got.iter().filter(|s| s.1 == want).collect();
        let ids: BTreeSet<&Vec<u8>> = spans.iter().map(|s| &s.3).collect();
        let orphans: Vec<_> =
            spans.iter().filter(|s| !ids.contains(&s.4) && s.4 != caller).map(|s| (&s.0, &s.2)).collect();
        if orphans.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "spans with a parent outside the trace: {orphans:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}
