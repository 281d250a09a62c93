//! `tributary extract URL`: what full-text extraction takes from one page,
//! fetched through the same path as feeds (user agent, timeout, size cap,
//! address rules), for choosing `full_text` selectors.

use std::process::ExitCode;

use anyhow::{bail, Context};
use url::Url;

use crate::config::Config;
use crate::extract::page::{fetch_and_extract, PageRequest};
use crate::extract::Recipe;
use crate::fetch::Fetcher;

/// Fetches `url`, extracts with `selector`/`remove` (Readability when no
/// selector), prints the title and text (or the cleaned HTML).
pub fn run(
    config: &Config,
    url: &str,
    selector: Option<String>,
    remove: Vec<String>,
    html: bool,
) -> anyhow::Result<ExitCode> {
    let url = Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("`{url}`: only http(s) pages can be extracted");
    }
    let recipe = Recipe { selector, remove };
    // A selector that does not parse is a wrong command line (exit 2).
    if let Err(e) = recipe.validate() {
        eprintln!("error: bad CSS selector {e}");
        return Ok(ExitCode::from(2));
    }
    let fetcher = Fetcher::new(&config.fetch).context("setting up the HTTP client")?;
    let req = PageRequest {
        url: &url,
        configured: &url,
        internal: false,
        timeout: config.fetch.timeout,
        max_body: config.fetch.max_body,
        user_agent: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (final_url, got) = runtime
        .block_on(fetch_and_extract(&fetcher, &req, &recipe))
        .with_context(|| format!("extracting {url}"))?;
    if html {
        println!("{}", got.html);
    } else {
        if !got.title.is_empty() {
            println!("# {}\n", got.title);
        }
        println!("{}", got.text);
    }
    eprintln!(
        "{} characters of text from {final_url}",
        got.text.chars().count()
    );
    Ok(ExitCode::SUCCESS)
}
