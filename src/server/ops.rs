//! The operational endpoints: `/healthz` (alive), `/readyz` (store
//! writable, scheduler making progress), `/metrics` (Prometheus text, the
//! server's own figures after the daemon's), `/opml` (the subscriptions).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::{answer_bytes, failure, ServerState};

/// A scheduler silent for longer than this is not ready.
pub const READY_MAX_IDLE_SECS: i64 = 30;

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// `/healthz`: the process answers.
pub async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n".into())
}

/// `/readyz`: the store is writable and the scheduler turns.
pub async fn readyz(State(state): State<ServerState>) -> Response {
    let Some(m) = &state.metrics else {
        return text(StatusCode::OK, "ok (no scheduler in this process)\n".into());
    };
    let idle = Utc::now().timestamp() - m.last_turn();
    let mut problems = Vec::new();
    if !m.store_writable() {
        problems.push("the store is not writable".to_string());
    }
    if m.last_turn() == 0 || idle > READY_MAX_IDLE_SECS {
        problems.push(format!("the scheduler has not turned for {idle} s"));
    }
    if problems.is_empty() {
        text(StatusCode::OK, "ok\n".into())
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", problems.join("; ")),
        )
    }
}

/// `/metrics`: Prometheus text format.
pub async fn metrics(State(state): State<ServerState>) -> Response {
    let gauges = match state.cache.read(|s| s.gauges()).await {
        Ok(g) => g,
        Err(e) => return failure(e),
    };
    let mut body = match &state.metrics {
        Some(m) => m.render(&gauges, Utc::now().timestamp()),
        None => crate::metrics::Metrics::default().render(&gauges, Utc::now().timestamp()),
    };
    server_metrics(&mut body, &state).await;
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/opml`: the subscriptions as OPML 2.0 (private URLs left out).
pub async fn opml(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    let body = state.cache.opml().await;
    answer_bytes(
        &headers,
        "subscriptions.opml",
        body.into_bytes(),
        "text/x-opml; charset=utf-8",
        &state,
    )
    .await
}

/// The server's own figures: what its cache holds and what became of
/// searches.
async fn server_metrics(o: &mut String, state: &ServerState) {
    let usage = state.cache.usage().await;
    let mut gauge = |name: &str, help: &str, v: usize| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    };
    gauge(
        "tributary_server_cache_documents",
        "Rendered documents the server keeps.",
        usage.documents,
    );
    gauge(
        "tributary_server_cache_document_bytes",
        "Bytes of the rendered documents the server keeps.",
        usage.document_bytes,
    );
    gauge(
        "tributary_server_cache_stamps",
        "Paths whose validators the server keeps across re-renders.",
        usage.stamps,
    );
    gauge(
        "tributary_server_cache_stamp_bytes",
        "Bytes of the paths and validators kept across re-renders.",
        usage.stamp_bytes,
    );
    gauge(
        "tributary_searches_running",
        "Searches running now.",
        state.searches.running(),
    );
    let name = "tributary_searches_total";
    let _ = writeln!(
        o,
        "# HELP {name} Searches answered by the server, by result.\n# TYPE {name} counter"
    );
    let counts = &state.searches.counts;
    for (result, n) in [
        ("ok", &counts.ok),
        ("refused", &counts.refused),
        ("busy", &counts.busy),
        ("timed_out", &counts.timed_out),
    ] {
        let _ = writeln!(
            o,
            "{name}{{result=\"{result}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
}
