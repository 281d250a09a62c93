//! The operational endpoints: `/healthz` (alive), `/readyz` (store
//! writable, scheduler making progress), `/metrics` (Prometheus text),
//! `/opml` (the subscriptions), and `/search` (a saved search as a feed).

use axum::extract::State;
use axum::http::Uri;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::{answer_bytes, failure, ServerState};
use crate::publish::{self, Format};

/// A scheduler silent for longer than this is not ready.
pub const READY_MAX_IDLE_SECS: i64 = 30;
/// Most results a search feed holds.
pub const SEARCH_LIMIT: usize = 50;

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
    let body = match &state.metrics {
        Some(m) => m.render(&gauges, Utc::now().timestamp()),
        None => crate::metrics::Metrics::default().render(&gauges, Utc::now().timestamp()),
    };
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

/// `/search?q=…[&format=atom|rss|json]`: the best matches as a feed, so a
/// saved search can be subscribed to.
pub async fn search(State(state): State<ServerState>, uri: Uri, headers: HeaderMap) -> Response {
    let mut q = None;
    let mut format_name = None;
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "q" => q = Some(v.into_owned()),
            "format" => format_name = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some(q) = q
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty() && q.len() <= 500)
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "give a query: /search?q=words (at most 500 characters)\n".into(),
        );
    };
    let Some(format) = Format::from_extension(format_name.as_deref().unwrap_or("atom")) else {
        return text(
            StatusCode::BAD_REQUEST,
            "format is atom, rss or json\n".into(),
        );
    };
    let query = q.clone();
    let results = match state
        .cache
        .read(move |s| s.search(&query, SEARCH_LIMIT))
        .await
    {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let channel = state.cache.search_channel(&q, &results.hits).await;
    let path = format!("search?q={q}&format={}", format.extension());
    answer_bytes(
        &headers,
        &path,
        publish::render(&channel, format),
        format.content_type(),
        &state,
    )
    .await
}
