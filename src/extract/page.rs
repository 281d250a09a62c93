//! One article page through the feeds' fetch path, then [`extract`].
//!
//! The page is fetched by the same [`Fetcher`] as feeds: its user agent,
//! per-host limits, timeouts, redirect handling and address rules. The
//! feed's credentials are never sent with page requests (they belong to
//! the feed), and the feed's reach applies: a page linked from a feed on a
//! public address must stay on public addresses through every redirect.

use std::time::Duration;

use url::Url;

use super::{extract, ExtractError, Extracted, Recipe, MAX_PAGE_BYTES};
use crate::clean::Cleaner;
use crate::config::FeedHttp;
use crate::fetch::{FetchError, Fetched, Fetcher, HopGate, Request};
use crate::model::Validators;

/// Where a page may go and how much it may cost.
#[derive(Debug, Clone)]
pub struct PageRequest<'a> {
    /// The page.
    pub url: &'a Url,
    /// The feed's configured URL (or the page itself, from the command
    /// line): its address bounds where the page's redirects may go.
    pub configured: &'a Url,
    /// The feed is marked `internal = true`.
    pub internal: bool,
    /// Limit on the whole exchange.
    pub timeout: Duration,
    /// Cap on the body (never above [`MAX_PAGE_BYTES`]).
    pub max_body: u64,
    /// `User-Agent` override (the feed's).
    pub user_agent: Option<&'a str>,
    /// At least this long before the host's next request (robots.txt's
    /// `Crawl-delay`; `[fetch] host_gap` when larger).
    pub min_gap: Duration,
    /// Asked before each redirect is followed: the daemon's is the
    /// target's robots.txt ([`super::robots::RobotsGate`]).
    pub hops: Option<&'a dyn HopGate>,
}

/// What a page fetch found.
// One value per page fetched, moved once: boxing the large variant would
// save nothing worth an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Page {
    /// The page, extracted.
    Extracted {
        /// Where the page ended after redirects.
        final_url: Url,
        /// What extraction found.
        extracted: Extracted,
        /// The page's `ETag` / `Last-Modified`, for the next fetch.
        validators: Validators,
    },
    /// 304: the page is as it was when `validators` were stored.
    NotModified,
}

/// Why a page gave no article.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The fetch failed.
    #[error("fetching the page: {0}")]
    Fetch(FetchError),
    /// The page was fetched but yielded nothing.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// robots.txt refuses the page (the rule, when it can be named).
    #[error("refused by robots.txt{}", .0.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Robots(Option<String>),
    /// robots.txt could not be had: no page of its site is fetched for now.
    #[error("robots.txt unreachable, retried later: {0}")]
    RobotsUnreachable(String),
}

// By hand, not `#[from]`: that would make the fetch error the source too,
// and chains of causes would print its message twice.
impl From<FetchError> for PageError {
    fn from(e: FetchError) -> Self {
        PageError::Fetch(e)
    }
}

/// Fetches `req.url` and extracts its article with `recipe`.
pub async fn fetch_and_extract(
    fetcher: &Fetcher,
    req: &PageRequest<'_>,
    recipe: &Recipe,
) -> Result<(Url, Extracted), PageError> {
    match fetch_page(fetcher, req, recipe, &Validators::default()).await? {
        Page::Extracted {
            final_url,
            extracted,
            ..
        } => Ok((final_url, extracted)),
        Page::NotModified => Err(PageError::Fetch(FetchError::Response(
            "304 Not Modified to an unconditional request".into(),
        ))),
    }
}

/// Fetches `req.url`, conditionally when `validators` are known (a 304 is
/// [`Page::NotModified`]), and extracts its article with `recipe`.
pub async fn fetch_page(
    fetcher: &Fetcher,
    req: &PageRequest<'_>,
    recipe: &Recipe,
    validators: &Validators,
) -> Result<Page, PageError> {
    // Only where the page may go comes from the feed; never credentials.
    let http = FeedHttp {
        internal: req.internal,
        ..FeedHttp::default()
    };
    let fetch = Request {
        url: req.url,
        configured: req.configured,
        validators,
        timeout: req.timeout,
        max_body: req.max_body.min(MAX_PAGE_BYTES as u64),
        user_agent: req.user_agent,
        http: &http,
        min_gap: req.min_gap,
        truncate: false,
        hops: req.hops,
    };
    let (body, content_type, meta) = match fetcher.fetch(&fetch).await? {
        Fetched::Body {
            body,
            content_type,
            meta,
        } => (body, content_type, meta),
        Fetched::NotModified { .. } if !validators.is_empty() => return Ok(Page::NotModified),
        Fetched::NotModified { .. } => {
            return Err(PageError::Fetch(FetchError::Response(
                "304 Not Modified to an unconditional request".into(),
            )))
        }
    };
    let final_url = meta.final_url.unwrap_or_else(|| req.url.clone());
    // Extraction is CPU work linear in the page: off the async threads.
    let base = final_url.clone();
    let recipe = recipe.clone();
    let extracted = tokio::task::spawn_blocking(move || {
        extract(
            &body,
            content_type.as_deref(),
            &base,
            &recipe,
            &Cleaner::new(),
        )
    })
    .await
    .map_err(|e| ExtractError::NoArticle(format!(": extraction panicked: {e}")))??;
    Ok(Page::Extracted {
        final_url,
        extracted,
        validators: meta.validators,
    })
}
