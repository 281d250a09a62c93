//! Reloading the config (SIGHUP, or `Control::Reload`): a valid config is
//! applied to the running daemon (feeds added, renamed, moved or removed,
//! their plan and digests updated); an invalid one is refused and the old
//! one keeps running.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::Semaphore;
use tracing::{error, info, warn};

use super::{feed_positions, Daemon};
use crate::config::{Config, FeedConfig};
use crate::fetch::Fetcher;
use crate::jobs::feed_specs;
use crate::jobs::plan::on_schedule;

impl Daemon {
    /// SIGHUP: read the config again; apply it if valid, keep the old one if not.
    pub(super) async fn reload(&mut self) {
        self.notifier.reloading();
        info!(config = %self.config_path.display(), "SIGHUP: reloading the config");
        let new = match Config::load(&self.config_path) {
            Ok(c) => c,
            Err(e) => {
                error!("config reload refused, the previous config stays in force: {e}");
                self.notifier.ready(&format!("reload refused: {e}"));
                return;
            }
        };
        if new.store.path != self.config.store.path {
            warn!(
                "[store] path changed to {}: a restart is needed for that; the rest of the config is applied",
                new.store.path.display()
            );
        }
        let specs = feed_specs(&new);
        let now = Utc::now();
        let reconciled = self.store.call(move |s| s.reconcile(&specs, now)).await;
        match reconciled {
            Ok(changes) => log_reconcile(&changes),
            Err(e) => {
                error!("config reload refused: updating the feeds table failed: {e}");
                self.notifier.ready(&format!("reload refused: {e}"));
                return;
            }
        }
        if new.fetch != self.config.fetch {
            match Fetcher::new(&new.fetch) {
                Ok(f) => self.fetcher = f,
                Err(e) => warn!("keeping the previous HTTP settings: {e}"),
            }
            if new.fetch.concurrency != self.config.fetch.concurrency {
                self.limit = Arc::new(Semaphore::new(new.fetch.concurrency.max(1)));
            }
        }
        let rows = self.store.call(|s| s.feeds()).await.unwrap_or_default();
        let rows: HashMap<&str, &crate::store::FeedRow> =
            rows.iter().map(|r| (r.name.as_str(), r)).collect();
        let old: HashMap<String, FeedConfig> = self
            .config
            .feeds
            .iter()
            .map(|f| (f.name.clone(), f.clone()))
            .collect();
        let old_schedule = self.config.schedule.clone();
        self.config = new;
        self.feed_at = feed_positions(&self.config);
        self.websub.reload(&self.config, now);
        let mut plan = BTreeMap::new();
        for feed in &self.config.feeds {
            let row = rows.get(feed.name.as_str());
            if row.is_some_and(|r| r.status == "gone") {
                continue;
            }
            let same_feed = old.get(&feed.name).is_some_and(|o| o.url == feed.url);
            let same_schedule = old.get(&feed.name).is_some_and(|o| {
                old_schedule
                    .for_feed(o.schedule.as_deref(), &o.tags)
                    .to_string()
                    == self
                        .config
                        .schedule
                        .for_feed(feed.schedule.as_deref(), &feed.tags)
                        .to_string()
            }) && old_schedule.timezone == self.config.schedule.timezone;
            let at = match self.plan.get(&feed.name) {
                Some(at) if same_feed && same_schedule => *at,
                // New, moved or rescheduled: its new schedule applies at once.
                _ if !same_feed => now,
                _ => on_schedule(now, feed, &self.config.schedule).unwrap_or(now),
            };
            plan.insert(feed.name.clone(), at);
        }
        self.plan = plan;
        self.full_text.reload(&self.config, &self.fetcher);
        let targets = self.config.notify.clone();
        let set = self.store.call(move |s| {
            s.set_notify_targets(&targets);
            Ok(())
        });
        if let Err(e) = set.await {
            warn!("notification targets not updated: {e}");
        }
        self.outbox.reload(&self.config);
        if let Some(server) = &self.server {
            server.reload(&self.config).await;
        }
        self.static_generation = None;
        self.plan_digests(now).await;
        self.mail_due = Some(now);
        info!(
            feeds = self.plan.len(),
            digests = self.digest_due.len(),
            "config reloaded"
        );
        self.notifier.ready(&self.status_line());
    }
}

/// Logs what reconciling the feeds table with the config changed.
pub(super) fn log_reconcile(c: &crate::store::Reconciled) {
    for name in &c.added {
        info!(feed = %name, "feed added");
    }
    for (old, new) in &c.renamed {
        info!(feed = %new, was = %old, "feed renamed");
    }
    for name in &c.moved {
        info!(feed = %name, "feed URL changed: fetch state reset");
    }
    for name in &c.removed {
        info!(feed = %name, "feed removed from the config: no longer polled, its articles are kept");
    }
}
