//! The daemon's periodic work beside polling, each on its own timer:
//! digests on their schedules, mail delivery with retries, the static copy
//! of the outputs, the daily retention run, and the probe that tells
//! `/readyz` whether the store can still be written.

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use super::Daemon;
use crate::jobs::digests;
use crate::jobs::retention::prune_store;
use crate::store::Store;

/// How often the store's writability is probed.
const PROBE_INTERVAL: chrono::Duration = chrono::Duration::seconds(5);
/// How often retention runs.
const PRUNE_INTERVAL: chrono::Duration = chrono::Duration::hours(24);
/// How long after start retention first runs (the first fetches go first).
pub(super) const PRUNE_FIRST: chrono::Duration = chrono::Duration::minutes(10);

/// How often the daemon looks whether the static copy needs writing.
const STATIC_INTERVAL: chrono::Duration = chrono::Duration::seconds(2);

impl Daemon {
    /// Each digest's next due time from where the store says it stands; a
    /// digest that fell due while the daemon was down is due now (once).
    pub(super) async fn plan_digests(&mut self, now: DateTime<Utc>) {
        self.digest_due.clear();
        for cfg in self.config.digests.clone() {
            let (c, sched) = (cfg.clone(), self.config.schedule.clone());
            let state = self
                .store
                .call(move |s| digests::state(s, &c, &sched, now))
                .await;
            match state {
                Ok(state) => {
                    if let Some(at) = digests::next_due(&cfg, &state, &self.config.schedule) {
                        if at <= now {
                            info!(digest = %cfg.name, due = %at, "digest fell due while stopped: making it now");
                        }
                        self.digest_due.insert(cfg.name.clone(), at.max(now));
                    }
                }
                Err(e) => error!(digest = %cfg.name, error = %e, "reading digest state failed"),
            }
        }
    }

    pub(super) async fn make_due_digests(&mut self, now: DateTime<Utc>) {
        let due: Vec<String> = self
            .digest_due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            let Some(cfg) = self.config.digests.iter().find(|d| d.name == name).cloned() else {
                self.digest_due.remove(&name);
                continue;
            };
            let (c, sched) = (cfg.clone(), self.config.schedule.clone());
            match self
                .store
                .call(move |s| digests::make(s, &c, &sched, now))
                .await
            {
                Ok(Some((id, d))) => {
                    info!(digest = %name, id, stories = d.stories(), "digest made");
                    self.metrics.digest_made();
                    if cfg.email.is_some() {
                        self.mail_due = Some(now);
                    }
                }
                Ok(None) => info!(digest = %name, "nothing new: no digest this time"),
                Err(e) => error!(digest = %name, error = %e, "making the digest failed"),
            }
            match cfg.schedule.next_after(now, self.config.schedule.timezone) {
                Some(at) => self.digest_due.insert(name, at),
                None => self.digest_due.remove(&name),
            };
        }
    }

    /// Starts delivering pending digest emails when due (one delivery run
    /// at a time, in the background).
    pub(super) async fn deliver_mail(&mut self, now: DateTime<Utc>) {
        if let Some(task) = &self.mail_task {
            if !task.is_finished() {
                return;
            }
            self.mail_task = None;
            self.mail_due = self
                .store
                .call(|s| s.next_email_try())
                .await
                .unwrap_or(None);
        }
        if self.mail_due.is_none_or(|at| at > now)
            || self.config.digests.iter().all(|d| d.email.is_none())
        {
            return;
        }
        self.mail_due = None;
        let store = self.store.clone();
        let config = self.config.clone();
        self.mail_task = Some(tokio::spawn(async move {
            if let Err(e) = digests::deliver_pending(&store, &config).await {
                error!(error = %e, "delivering digests failed");
            }
        }));
    }

    /// Rewrites the static copy in `[server] out_dir` when something
    /// published changed (looked at every couple of seconds, one write at a
    /// time, on the blocking pool with its own read connection).
    pub(super) async fn write_static(&mut self, now: DateTime<Utc>) {
        let Some(out_dir) = self.config.server.out_dir.clone() else {
            return;
        };
        if now < self.static_check || self.static_task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        self.static_check = now + STATIC_INTERVAL;
        let generation = match self.store.call(|s| s.content_generation()).await {
            Ok(g) => g,
            Err(e) => {
                warn!(error = %e, "reading the content generation failed");
                return;
            }
        };
        if self.static_generation == Some(generation) {
            return;
        }
        self.static_generation = Some(generation);
        let site = crate::output::Site::new(&self.config);
        let path = self.config.store.path.clone();
        self.static_task = Some(tokio::task::spawn_blocking(move || {
            let result = Store::open_read_only(&path)
                .map_err(|e| e.to_string())
                .and_then(|reader| {
                    crate::output::write_static(&site, &reader, &out_dir).map_err(|e| e.to_string())
                });
            match result {
                Ok(written) => {
                    let changed = written.iter().filter(|w| w.changed).count();
                    if changed > 0 {
                        info!(dir = %out_dir.display(), changed, "static outputs written");
                    }
                }
                Err(e) => {
                    error!(dir = %out_dir.display(), error = %e, "writing the static outputs failed")
                }
            }
        }));
    }

    /// Daily retention, on the blocking pool with its own connection (the
    /// fetches keep committing between its short batches).
    pub(super) fn prune(&mut self, now: DateTime<Utc>) {
        if now < self.prune_due || self.prune_task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        self.prune_due = now + PRUNE_INTERVAL;
        let retention = self.config.retention.clone();
        let store = self.config.store.clone();
        let digests: Vec<String> = self.config.digests.iter().map(|d| d.name.clone()).collect();
        self.prune_task = Some(tokio::task::spawn_blocking(move || {
            if let Err(e) = prune_store(&store, &retention, &digests, Utc::now()) {
                error!(error = %e, "retention failed");
            }
        }));
    }

    /// Every few seconds: can the store still be written? (for `/readyz`)
    pub(super) async fn probe_store(&mut self, now: DateTime<Utc>) {
        if now < self.probe_due {
            return;
        }
        self.probe_due = now + PROBE_INTERVAL;
        let ok = self.store.call(|s| s.probe_write()).await;
        if let Err(e) = &ok {
            warn!(error = %e, "the store cannot be written");
        }
        self.metrics.set_store_writable(ok.is_ok());
    }
}
