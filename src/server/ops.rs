//! The operational endpoints: `/healthz` (alive), `/readyz` (store
//! writable, scheduler making progress), `/metrics` (OpenMetrics text, the
//! server's own figures after the daemon's), `/opml` (the subscriptions).

use std::sync::atomic::Ordering;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

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

/// `/metrics`: the OpenMetrics text format Prometheus scrapes.
pub async fn metrics(State(state): State<ServerState>) -> Response {
    let gauges = match state.cache.read(|s| s.gauges()).await {
        Ok(g) => g,
        Err(e) => return failure(e),
    };
    let usage = state.cache.usage().await;
    let server = |r: &mut Registry| server_metrics(r, &usage, &state);
    let body = match &state.metrics {
        Some(m) => m.render_with(&gauges, Utc::now().timestamp(), server),
        None => {
            crate::metrics::Metrics::default().render_with(&gauges, Utc::now().timestamp(), server)
        }
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
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
fn server_metrics(r: &mut Registry, usage: &super::cache::Usage, state: &ServerState) {
    use crate::metrics::gauge;
    r.register(
        "tributary_server_cache_documents",
        "Rendered documents the server keeps",
        gauge(usage.documents as i64),
    );
    r.register(
        "tributary_server_cache_document_bytes",
        "Bytes of the rendered documents the server keeps",
        gauge(usage.document_bytes as i64),
    );
    r.register(
        "tributary_server_cache_stamps",
        "Paths whose validators the server keeps across re-renders",
        gauge(usage.stamps as i64),
    );
    r.register(
        "tributary_server_cache_stamp_bytes",
        "Bytes of the paths and validators kept across re-renders",
        gauge(usage.stamp_bytes as i64),
    );
    r.register(
        "tributary_searches_running",
        "Searches running now",
        gauge(state.searches.running() as i64),
    );
    let searches = Family::<Vec<(String, String)>, Counter>::default();
    let counts = &state.searches.counts;
    for (result, n) in [
        ("ok", &counts.ok),
        ("refused", &counts.refused),
        ("busy", &counts.busy),
        ("timed_out", &counts.timed_out),
    ] {
        searches
            .get_or_create(&vec![("result".to_string(), result.to_string())])
            .inc_by(n.load(Ordering::Relaxed));
    }
    r.register(
        "tributary_searches",
        "Searches answered by the server, by result",
        searches,
    );
}
