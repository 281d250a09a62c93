//! The river as a WebSub publisher: the outputs advertise the configured
//! hub (`rel="hub"`), and when an output changes the hub is pinged
//! (`hub.mode=publish`, `hub.url=` the output's URL in each format), so
//! that readers subscribed there get the new document without polling.
//!
//! A change is a change of the rendered document: after the store's
//! content changed, each output is rendered in each format and compared
//! (by hash) with what was last seen; only documents that differ are
//! announced. The first look after start only records what is there.

use std::collections::HashMap;

use tracing::{debug, warn};
use url::Url;

use super::subscriber::form;
use super::REQUEST_TIMEOUT;
use crate::config::Config;
use crate::fetch::{Fetcher, Outgoing};
use crate::output::Site;
use crate::store::{self, Store};
use crate::syndication::Format;

/// The hubs the outputs advertise.
pub fn hubs(config: &Config) -> Vec<String> {
    let own = config
        .websub
        .serve_hub
        .then(|| super::hub::hub_url(&config.server.base_url));
    config
        .websub
        .hub
        .iter()
        .chain(&own)
        .map(Url::to_string)
        .collect()
}

/// Every output URL, in every format: what may be subscribed to.
pub fn topics(site: &Site) -> std::collections::HashSet<String> {
    site.outputs()
        .iter()
        .flat_map(|o| Format::ALL.map(|f| site.feed_url(&o.name, f)))
        .collect()
}

/// One output document that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Its public URL (the topic).
    pub url: String,
    /// Its format.
    pub format: Format,
    /// The new document.
    pub bytes: Vec<u8>,
}

/// What each output document was when last looked at, by URL.
#[derive(Debug, Default)]
pub struct Seen {
    hashes: HashMap<String, u64>,
    /// Whether a first look happened (it announces nothing).
    looked: bool,
}

impl Seen {
    /// Renders every output of `site` in every format and returns those
    /// whose bytes differ from the last look (none on the first look).
    pub fn changes(&mut self, site: &Site, reader: &Store) -> store::Result<Vec<Changed>> {
        let mut changed = Vec::new();
        let mut now = HashMap::new();
        for output in site.outputs() {
            let channel = site.load(reader, output)?;
            for format in Format::ALL {
                let bytes = crate::syndication::render(&channel, format);
                let url = site.feed_url(&output.name, format);
                let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
                if self.looked && self.hashes.get(&url) != Some(&hash) {
                    changed.push(Changed {
                        url: url.clone(),
                        format,
                        bytes,
                    });
                }
                now.insert(url, hash);
            }
        }
        self.hashes = now;
        self.looked = true;
        Ok(changed)
    }
}

/// Tells `hub` that the documents at `urls` changed (`hub.mode=publish`,
/// one request per URL). Failures are logged: the next change pings again.
pub async fn ping(fetcher: &Fetcher, hub: &Url, urls: &[String]) {
    for url in urls {
        let body = form(&[("hub.mode", "publish"), ("hub.url", url)]);
        let sent = fetcher
            .send(&Outgoing {
                url: hub,
                configured: hub,
                internal: false,
                body: Some(("application/x-www-form-urlencoded", body)),
                headers: Vec::new(),
                timeout: REQUEST_TIMEOUT,
            })
            .await;
        match sent {
            Ok(a) if (200..300).contains(&a.status) => debug!(%hub, topic = %url, "hub pinged"),
            Ok(a) => warn!(%hub, topic = %url, status = a.status, "the hub refused the ping"),
            Err(e) => warn!(%hub, topic = %url, error = %e, "pinging the hub failed"),
        }
    }
}
