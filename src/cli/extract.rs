//! `tributary extract URL`: what full-text extraction takes from one page,
//! fetched through the same path as feeds (user agent, timeout, size cap,
//! address rules), for choosing `full_text` selectors. It is the
//! operator's own request, so robots.txt does not stop it; when the
//! daemon would be refused, a note on stderr says so.

use std::process::ExitCode;

use anyhow::{bail, Context};
use url::Url;

use crate::config::Config;
use crate::extract::page::{fetch_and_extract, PageRequest};
use crate::extract::robots::{self, RobotsCache};
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
    let recipe = Recipe {
        selector,
        remove,
        ..Recipe::default()
    };
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
        min_gap: std::time::Duration::ZERO,
        hops: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if config.full_text.robots {
        let asking = robots::Asking {
            configured: &url,
            internal: false,
            timeout: config.fetch.timeout,
            user_agent: None,
        };
        let verdict = runtime.block_on(RobotsCache::default().check(
            &fetcher,
            &url,
            &asking,
            chrono::Utc::now(),
        ));
        match verdict {
            robots::Verdict::Disallowed(rule) => eprintln!(
                "note: robots.txt refuses this page to the daemon{}; extracted anyway, as asked",
                rule.map(|r| format!(" ({r})")).unwrap_or_default()
            ),
            robots::Verdict::Unreachable(why) => {
                eprintln!("note: robots.txt is unreachable ({why}): the daemon would wait for it")
            }
            robots::Verdict::Allowed(_) => {}
        }
    }
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
