//! The daemon's WebSub part: pushed documents join the feed's refreshes
//! (one document per feed at a time, under the fetch concurrency limit,
//! like a poll), and the subscriptions are tended once a second
//! (renewals, retries, unsubscribing feeds that left the config), in a
//! task of their own so that a slow hub never holds the loop.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::Daemon;
use crate::config::{Config, FeedConfig};
use crate::refresh::{ingest_pushed, Pushed};
use crate::server::websub::{Push, Taken};
use crate::store::Store;
use crate::websub::hub::Hub;
use crate::websub::river::{self, Seen};
use crate::websub::subscriber::Subscriber;

/// Documents pushed and waiting, and the tending in progress.
pub(super) struct WebSub {
    /// Signed documents from the callback route.
    pub(super) pushes: mpsc::Receiver<Push>,
    /// One document per feed waiting for the feed's refresh in flight.
    waiting: HashMap<String, Pushed>,
    /// The subscriptions being tended, if that is under way.
    task: Option<tokio::task::JoinHandle<()>>,
    /// When the subscriptions are looked at next.
    due: DateTime<Utc>,
    /// The configured feeds by name, for the tending task (rebuilt on
    /// reload, so a tick costs no copy of the config).
    feeds: Arc<HashMap<String, FeedConfig>>,
    /// The outputs as last announced to hubs.
    seen: Arc<std::sync::Mutex<Seen>>,
    /// The content generation the outputs were last looked at for.
    river_generation: Option<i64>,
    /// Announcing changed outputs, if under way.
    river_task: Option<tokio::task::JoinHandle<()>>,
    /// Tributary's own hub, when it serves one.
    hub: Option<Arc<Hub>>,
}

/// Pushed documents queued between the callback route and the loop.
pub(super) const PUSH_QUEUE: usize = 16;

impl WebSub {
    pub(super) fn new(
        pushes: mpsc::Receiver<Push>,
        hub: Option<Arc<Hub>>,
        config: &Config,
        now: DateTime<Utc>,
    ) -> WebSub {
        let mut websub = WebSub {
            pushes,
            waiting: HashMap::new(),
            task: None,
            due: now,
            feeds: Arc::default(),
            seen: Arc::default(),
            river_generation: None,
            river_task: None,
            hub,
        };
        websub.reload(config, now);
        websub
    }

    /// Takes the feeds of a (re)loaded config, and looks at the
    /// subscriptions at once (feeds may have left it).
    pub(super) fn reload(&mut self, config: &Config, now: DateTime<Utc>) {
        self.feeds = Arc::new(
            config
                .feeds
                .iter()
                .map(|f| (f.name.clone(), f.clone()))
                .collect(),
        );
        self.due = now;
    }
}

/// The subscriber of `config`, when the server runs (hubs call it back).
pub(super) fn subscriber(config: &Config, d: &Daemon) -> Option<Subscriber> {
    config.server.enabled.then(|| {
        Subscriber::new(
            d.fetcher.clone(),
            d.store.clone(),
            config.server.base_url.clone(),
            config.websub.lease,
        )
    })
}

impl Daemon {
    /// A push from the callback route: started now, queued behind the
    /// feed's refresh in flight, or refused when one already waits.
    pub(super) fn take_push(&mut self, push: Push) {
        let Push {
            feed,
            pushed,
            taken,
        } = push;
        let answer = if self.feed(&feed).is_none() {
            Taken::Unknown
        } else if !self.in_flight.contains(&feed) {
            self.start_push(feed, pushed);
            Taken::Yes
        } else {
            match self.websub.waiting.entry(feed) {
                std::collections::hash_map::Entry::Occupied(_) => Taken::Busy,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(pushed);
                    Taken::Yes
                }
            }
        };
        let _ = taken.send(answer);
    }

    /// After a refresh of `name` ended: the document waiting for it, if any.
    pub(super) fn start_waiting_push(&mut self, name: &str) {
        if let Some(pushed) = self.websub.waiting.remove(name) {
            if self.feed(name).is_some() {
                self.start_push(name.to_string(), pushed);
            }
        }
    }

    fn start_push(&mut self, name: String, pushed: Pushed) {
        let Some(feed) = self.feed(&name).cloned() else {
            return;
        };
        self.in_flight.insert(name);
        let store = self.store.clone();
        let limit = Arc::clone(&self.limit);
        let dedup = self.config.dedup.clone();
        let secrets = self.config.fetch.url_secrets.clone();
        self.tasks.spawn(async move {
            // The semaphore is never closed.
            let _permit = limit.acquire_owned().await.expect("semaphore open");
            let name = feed.name.clone();
            let row = store.call(move |s| s.feed_by_name(&name)).await;
            let report = match row {
                Ok(Some(row)) => ingest_pushed(&store, &feed, &row, &dedup, &secrets, pushed).await,
                Ok(None) => super::failed_report(&feed, "feed is not in the store"),
                Err(e) => super::failed_report(&feed, &format!("reading feed state: {e}")),
            };
            (feed, report)
        });
    }

    /// Once a second: acts on the subscriptions that are due (see
    /// `Store::subscriptions_due`).
    pub(super) async fn tend_subscriptions(&mut self, now: DateTime<Utc>) {
        if now < self.websub.due {
            return;
        }
        self.websub.due = now + chrono::Duration::seconds(1);
        self.announce_changes().await;
        if self.websub.task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let Some(subscriber) = subscriber(&self.config, self) else {
            return;
        };
        let store = self.store.clone();
        let subscribing = self.config.websub.subscribe;
        let feeds = Arc::clone(&self.websub.feeds);
        self.websub.task = Some(tokio::spawn(async move {
            let due = match store.call(move |s| s.subscriptions_due(now)).await {
                Ok(due) => due,
                Err(e) => return warn!(error = %e, "reading the WebSub subscriptions failed"),
            };
            for sub in due {
                let feed = feeds.get(&sub.feed).filter(|_| subscribing);
                if let Err(e) = subscriber.act(sub, feed, now).await {
                    warn!(error = %e, "storing a WebSub subscription failed");
                }
            }
        }));
    }

    /// When the store's content changed: the outputs whose documents
    /// changed are announced to the hubs they advertise.
    async fn announce_changes(&mut self) {
        let hubs: Vec<url::Url> = self.config.websub.hub.iter().cloned().collect();
        let own = self.websub.hub.clone();
        if (hubs.is_empty() && own.is_none())
            || self
                .websub
                .river_task
                .as_ref()
                .is_some_and(|t| !t.is_finished())
        {
            return;
        }
        let generation = match self.store.call(|s| s.content_generation()).await {
            Ok(g) => g,
            Err(e) => return warn!(error = %e, "reading the content generation failed"),
        };
        if self.websub.river_generation == Some(generation) {
            return;
        }
        self.websub.river_generation = Some(generation);
        let site = crate::output::Site::new(&self.config);
        let path = self.config.store.path.clone();
        let seen = Arc::clone(&self.websub.seen);
        let fetcher = self.fetcher.clone();
        self.websub.river_task = Some(tokio::spawn(async move {
            let looked = tokio::task::spawn_blocking(move || {
                let reader = Store::open_read_only(&path)?;
                let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                seen.changes(&site, &reader)
            })
            .await;
            let changed = match looked {
                Ok(Ok(changed)) => changed,
                Ok(Err(e)) => return warn!(error = %e, "rendering the outputs for the hub failed"),
                Err(e) => return warn!(error = %e, "rendering the outputs for the hub failed"),
            };
            if changed.is_empty() {
                return;
            }
            let urls: Vec<String> = changed.iter().map(|c| c.url.clone()).collect();
            info!(documents = urls.len(), "outputs changed: announcing them");
            for hub in &hubs {
                river::ping(&fetcher, hub, &urls).await;
            }
            if let Some(own) = own {
                own.deliver(changed).await;
            }
        }));
    }

    /// Stops the tending in progress (at shutdown; what it stored stays).
    pub(super) fn stop_tending(&mut self) {
        if let Some(task) = self.websub.task.take() {
            task.abort();
        }
        if let Some(task) = self.websub.river_task.take() {
            task.abort();
        }
    }
}
