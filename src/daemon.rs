//! `tributary run`: the long-running service.
//!
//! Wiring only: timers and what it is told ([`run`] takes a [`Control`]
//! channel, which [`run_until_signalled`] feeds from the signals, and a
//! test can drive). The decisions live elsewhere
//! (`schedule` says when, `refresh` does one feed, `store` remembers), and
//! the jobs it shares with the commands (planning the next check, digests,
//! retention) in `jobs`. One task owns the plan (a
//! map from feed to its next due time) and runs a loop that:
//! - starts the refresh of every due feed (at most `[fetch] concurrency` at
//!   once; per-host limits are the fetcher's), each in its own task;
//! - when a refresh ends, computes the feed's next check and stores it,
//!   and wakes the notification delivery task (`outbox`);
//! - on SIGHUP reloads the config (an invalid one is refused and the old
//!   one keeps running); on SIGTERM/SIGINT stops taking work, gives the
//!   fetches in flight `shutdown_grace` to finish, cancels the rest, and
//!   returns. A cancelled fetch leaves nothing behind: its writes happen in
//!   one transaction or not at all.
//!
//! The loop wakes at least once a second and records that it did; the
//! systemd watchdog is pinged only while those wake-ups keep coming and the
//! store answers, so a stuck daemon is restarted rather than left hanging.

mod full_text;
mod notify;
mod outbox;
mod periodic;
mod reload;
mod round;
mod websub;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

pub use notify::Notifier;

use crate::jobs::plan::{on_schedule, Due};
use crate::jobs::{feed_specs, store_next_checks};

use crate::config::{Config, FeedConfig};
use crate::fetch::Fetcher;
use crate::refresh::{refresh_feed, FeedReport};
use crate::schedule::spread_overdue;
use crate::store::SharedStore;
use crate::store::Store;

/// The longest the loop sleeps before looking around again.
const TICK: Duration = Duration::from_secs(1);

/// How much longer than the unit's start timeout a start that upgrades the
/// store may take (`EXTEND_TIMEOUT_USEC`).
const MIGRATION_LIMIT: Duration = Duration::from_secs(60 * 60);

/// Counters for the status line.
#[derive(Default)]
struct Stats {
    fetches: u64,
    failures: u64,
    new_entries: u64,
    last_done: Option<DateTime<Utc>>,
}

/// The running service's state, owned by the loop.
struct Daemon {
    config_path: PathBuf,
    /// The full-text task (works the extraction queue).
    full_text: full_text::FullText,
    /// The notification delivery task.
    outbox: outbox::Outbox,
    config: Config,
    /// Where each feed sits in `config.feeds`, by name; rebuilt whenever
    /// `config` is replaced (see [`Daemon::feed`]).
    feed_at: HashMap<String, usize>,
    store: SharedStore,
    fetcher: Fetcher,
    notifier: Notifier,
    /// Next due time per active, non-retired feed.
    plan: BTreeMap<String, DateTime<Utc>>,
    in_flight: HashSet<String>,
    limit: Arc<Semaphore>,
    tasks: JoinSet<(FeedConfig, FeedReport)>,
    progress: Arc<AtomicI64>,
    stats: Stats,
    /// Counts for the next round summary.
    round: round::Round,
    /// Next due time per digest.
    digest_due: BTreeMap<String, DateTime<Utc>>,
    /// When pending digest emails are next tried.
    mail_due: Option<DateTime<Utc>>,
    /// The email delivery in progress, if any.
    mail_task: Option<tokio::task::JoinHandle<()>>,
    /// The HTTP server's state (for reloads), when it runs.
    server: Option<crate::server::ServerState>,
    /// The content generation last written to `[server] out_dir`.
    static_generation: Option<i64>,
    /// When to look at the generation again.
    static_check: DateTime<Utc>,
    /// The static copy being written, if any.
    static_task: Option<tokio::task::JoinHandle<()>>,
    /// Live counters for `/metrics` and `/readyz`.
    metrics: Arc<crate::metrics::Metrics>,
    /// When the store's writability is probed next.
    probe_due: DateTime<Utc>,
    /// When retention runs next (daily).
    prune_due: DateTime<Utc>,
    /// The retention run in progress, if any.
    prune_task: Option<tokio::task::JoinHandle<()>>,
    /// Pushed documents and the WebSub subscriptions.
    websub: websub::WebSub,
}

/// What the daemon is told from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Read the config file again (SIGHUP).
    Reload,
    /// Stop taking work, finish or cancel what is in flight, and return
    /// (SIGTERM, SIGINT).
    Stop,
}

/// Runs the daemon until SIGTERM or SIGINT, reloading on SIGHUP: [`run`]
/// driven by the process's signals. The handlers are installed before
/// anything starts, so a signal during start-up is not lost.
pub async fn run_until_signalled(
    config_path: PathBuf,
    config: Config,
) -> anyhow::Result<SharedStore> {
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let signals = tokio::spawn(async move {
        loop {
            let control = tokio::select! {
                _ = hup.recv() => Control::Reload,
                _ = term.recv() => { info!("SIGTERM: stopping"); Control::Stop }
                _ = int.recv() => { info!("SIGINT: stopping"); Control::Stop }
            };
            if tx.send(control).await.is_err() {
                return;
            }
        }
    });
    let result = run(config_path, config, rx).await;
    signals.abort();
    result
}

/// Runs the daemon until told to stop (or until every sender of
/// `control` is gone). Returns once everything in flight has finished or
/// been cancelled, with the store, for [`close_store`] once the runtime
/// has shut down.
pub async fn run(
    config_path: PathBuf,
    config: Config,
    mut control: tokio::sync::mpsc::Receiver<Control>,
) -> anyhow::Result<SharedStore> {
    let notifier = Notifier::from_env();
    // An upgrade rewrites tables in one transaction: on a large store
    // that outlasts systemd's start timeout (90 s by default), which
    // would kill the start, roll the upgrade back, and do it again.
    if let Some((from, to)) = Store::pending_migrations(&config.store.path)
        .with_context(|| format!("reading the store {}", config.store.path.display()))?
    {
        let status = format!("upgrading the store from schema {from} to {to}");
        info!(
            from,
            to, "upgrading the store (on a large store this takes minutes)"
        );
        notifier.extend_start(MIGRATION_LIMIT, &status);
    }
    let mut store = Store::open_with(&config.store.path, config.store.access)
        .with_context(|| format!("opening the store {}", config.store.path.display()))?;
    let now = Utc::now();
    let changes = store.reconcile(&feed_specs(&config), now)?;
    reload::log_reconcile(&changes);
    let rows = store.feeds()?;
    store.set_notify_targets(&config.notify);
    let store = SharedStore::new(store);

    // The HTTP server, on its own read-only connection (the store above
    // has migrated the file already).
    let (stop_server, server_stopped) = tokio::sync::watch::channel(false);
    let mut server_task = None;
    let metrics = Arc::new(crate::metrics::Metrics::default());
    metrics.set_store_writable(true);
    let (pushes, pushed) = tokio::sync::mpsc::channel(websub::PUSH_QUEUE);
    let hub =
        crate::websub::hub::Hub::for_config(&config, store.clone()).context("the WebSub hub")?;
    let server = if config.server.enabled {
        let callbacks =
            crate::server::websub::Callbacks::new(store.clone(), pushes, &config, hub.clone());
        let state = crate::server::ServerState::new(&config)
            .context("opening the store for the server")?
            .with_metrics(Arc::clone(&metrics))
            .with_websub(Arc::new(callbacks));
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} ([server] listen)",
                    config.server.listen
                )
            })?;
        let address = listener.local_addr()?;
        info!(%address, base_url = %config.server.base_url, "serving outputs");
        let mut stopped = server_stopped.clone();
        server_task = Some(tokio::spawn(crate::server::serve(
            listener,
            state.clone(),
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        )));
        Some(state)
    } else {
        None
    };
    let fetcher = Fetcher::new(&config.fetch).context("setting up the HTTP client")?;
    let limit = Arc::new(Semaphore::new(config.fetch.concurrency.max(1)));
    let full_text = full_text::FullText::spawn(store.clone(), fetcher.clone(), &config);
    let outbox = outbox::Outbox::spawn(store.clone(), &config, Arc::clone(&metrics));
    let mut d = Daemon {
        config_path,
        full_text,
        outbox,
        store,
        fetcher,
        notifier,
        plan: BTreeMap::new(),
        in_flight: HashSet::new(),
        limit,
        tasks: JoinSet::new(),
        progress: Arc::new(AtomicI64::new(now.timestamp())),
        stats: Stats::default(),
        round: round::Round::default(),
        digest_due: BTreeMap::new(),
        mail_due: Some(now),
        mail_task: None,
        server,
        static_generation: None,
        static_check: now,
        static_task: None,
        metrics,
        probe_due: now,
        prune_due: now + periodic::PRUNE_FIRST,
        prune_task: None,
        websub: websub::WebSub::new(pushed, hub, &config, now),
        feed_at: feed_positions(&config),
        config,
    };
    d.plan_from_store(&rows, now);
    d.plan_digests(now).await;

    let watchdog = d.spawn_watchdog();

    info!(feeds = d.plan.len(), store = %d.config.store.path.display(), "tributary running");
    d.notifier.ready(&d.status_line());

    loop {
        let now = Utc::now();
        d.progress.store(now.timestamp(), Ordering::Relaxed);
        d.metrics.turn(now.timestamp());
        d.probe_store(now).await;
        d.start_due(now);
        d.make_due_digests(now).await;
        d.deliver_mail(now).await;
        d.write_static(now).await;
        d.prune(now);
        d.tend_subscriptions(now).await;
        let wait = d
            .plan
            .iter()
            .filter(|(name, _)| !d.in_flight.contains(*name))
            .map(|(_, at)| *at)
            .chain(d.digest_due.values().copied())
            .chain(d.mail_due)
            .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
            .min()
            .unwrap_or(TICK)
            .min(TICK);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            Some(done) = d.tasks.join_next(), if !d.tasks.is_empty() => {
                match done {
                    Ok((feed, report)) => d.finished(feed, report).await,
                    Err(e) => error!(error = %e, "a refresh task failed"),
                }
            }
            Some(push) = d.websub.pushes.recv() => d.take_push(push),
            told = control.recv() => match told {
                Some(Control::Reload) => d.reload().await,
                Some(Control::Stop) | None => break,
            },
        }
    }

    d.notifier.stopping();
    watchdog.abort();
    d.full_text.stop();
    d.outbox.stop();
    d.stop_tending();
    if let Some(mail) = d.mail_task.take() {
        // An interrupted delivery stays pending and is retried next time.
        mail.abort();
    }
    let _ = stop_server.send(true);
    if let Some(task) = server_task {
        // The server gives requests in flight a few seconds, then returns.
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    if let Some(task) = d.static_task.take() {
        let _ = task.await;
    }
    if let Some(task) = d.prune_task.take() {
        // Each prune batch is its own transaction: waiting ends cleanly.
        let _ = task.await;
    }
    d.drain().await;
    info!("stopped");
    Ok(d.store)
}

/// Closes the store [`run`] returned, once the runtime that ran it has shut
/// down (no task, server connection or blocking thread holds a connection
/// any more, so the writer's is the last): the WAL is checkpointed into the
/// database and SQLite deletes the `-wal` and `-shm` files.
pub fn close_store(store: SharedStore) {
    match store.into_inner().map(Store::close) {
        Some(Ok(())) => info!("store closed"),
        Some(Err(e)) => {
            warn!(error = %e, "closing the store failed; SQLite replays its WAL at the next start")
        }
        None => {
            warn!("the store is still in use at exit; SQLite replays its WAL at the next start")
        }
    }
}

impl Daemon {
    /// The configured feed named `name`. Looked up for every fetch started
    /// and finished: through a map, since a search of the list made a round
    /// over every feed quadratic in their number.
    fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feed_at.get(name).map(|&i| &self.config.feeds[i])
    }

    /// Initial plan: stored next checks where they are still ahead; feeds
    /// overdue (or never planned) spread over the startup window.
    fn plan_from_store(&mut self, rows: &[crate::store::FeedRow], now: DateTime<Utc>) {
        let mut overdue = Vec::new();
        let rows: HashMap<&str, &crate::store::FeedRow> =
            rows.iter().map(|r| (r.name.as_str(), r)).collect();
        for feed in &self.config.feeds {
            let Some(row) = rows.get(feed.name.as_str()) else {
                continue;
            };
            if row.status == "gone" {
                info!(feed = %feed.name, "retired after 410 Gone; not polled until its config entry changes");
                continue;
            }
            match row.next_check_at {
                Some(at) if at > now => {
                    self.plan.insert(feed.name.clone(), at);
                }
                _ => overdue.push(feed.name.clone()),
            }
        }
        let times = spread_overdue(now, overdue.len(), self.config.schedule.startup_spread);
        for (name, at) in overdue.into_iter().zip(times) {
            self.plan.insert(name, at);
        }
    }

    fn start_due(&mut self, now: DateTime<Utc>) {
        let due: Vec<String> = self
            .plan
            .iter()
            .filter(|(name, at)| **at <= now && !self.in_flight.contains(*name))
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            let Some(feed) = self.feed(&name).cloned() else {
                self.plan.remove(&name);
                continue;
            };
            if let Some(at) = self.plan.get(&name) {
                self.metrics.started_late((now - *at).num_milliseconds());
            }
            self.in_flight.insert(name);
            let fetcher = self.fetcher.clone();
            let store = self.store.clone();
            let limit = Arc::clone(&self.limit);
            let dedup = self.config.dedup.clone();
            let subscriber =
                websub::subscriber(&self.config, self).filter(|_| self.config.websub.subscribe);
            self.tasks.spawn(async move {
                // The semaphore is never closed.
                let _permit = limit.acquire_owned().await.expect("semaphore open");
                let name = feed.name.clone();
                let row = store.call(move |s| s.feed_by_name(&name)).await;
                let report = match row {
                    Ok(Some(row)) => refresh_feed(&fetcher, &store, &feed, &row, &dedup).await,
                    Ok(None) => failed_report(&feed, "feed is not in the store"),
                    Err(e) => failed_report(&feed, &format!("reading feed state: {e}")),
                };
                if let (Some(subscriber), Some(hub)) = (subscriber, &report.hub) {
                    if let Err(e) = subscriber.ensure(&feed, hub).await {
                        warn!(feed = %feed.name, error = %e, "storing the WebSub subscription failed");
                    }
                }
                (feed, report)
            });
        }
    }

    /// A refresh ended: plan the feed's next check and store it.
    async fn finished(&mut self, feed: FeedConfig, report: FeedReport) {
        self.in_flight.remove(&feed.name);
        self.start_waiting_push(&feed.name);
        self.round.record(&report);
        self.round
            .summarize_if_due(self.in_flight.is_empty(), std::time::Instant::now());
        self.stats.fetches += 1;
        self.stats.new_entries += report.new as u64;
        // New articles to extract, or changed ones to look at again.
        if report.new + report.updated > 0 && feed.full_text.is_some() {
            self.full_text.wake();
        }
        self.outbox.wake();
        self.stats.last_done = Some(Utc::now());
        if report.error.is_some() {
            self.stats.failures += 1;
        }
        self.count_metrics(&feed, &report);
        // The feed may have been removed by a reload meanwhile.
        let Some(current) = self.feed(&feed.name).cloned() else {
            self.plan.remove(&feed.name);
            return;
        };
        let planned =
            store_next_check(&self.store, current, self.config.schedule.clone(), &report).await;
        match planned {
            Ok(Some(Due {
                at: Some(at),
                reason,
            })) => {
                tracing::debug!(feed = %feed.name, next = %at, %reason, "next check");
                self.plan.insert(feed.name.clone(), at);
            }
            Ok(Some(Due { at: None, reason })) => {
                warn!(feed = %feed.name, %reason, "feed no longer polled");
                self.plan.remove(&feed.name);
            }
            Ok(None) => {
                self.plan.remove(&feed.name);
            }
            Err(e) => {
                // Try again on the schedule; the store may be busy.
                error!(feed = %feed.name, error = %e, "storing the next check failed");
                let at =
                    on_schedule(Utc::now(), &feed, &self.config.schedule).unwrap_or_else(Utc::now);
                self.plan.insert(feed.name.clone(), at);
            }
        }
        self.notifier.status(&self.status_line());
    }

    fn status_line(&self) -> String {
        let now = Utc::now();
        let due = self
            .plan
            .values()
            .filter(|at| **at <= now + chrono::Duration::minutes(1))
            .count();
        let last = self
            .stats
            .last_done
            .map(|t| t.format("%H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        format!(
            "{} feeds, {} due within a minute, {} in flight; {} fetches ({} failed), {} new entries; last fetch {last}",
            self.plan.len(),
            due,
            self.in_flight.len(),
            self.stats.fetches,
            self.stats.failures,
            self.stats.new_entries
        )
    }

    /// Waits up to the grace period for refreshes in flight, then cancels
    /// the rest.
    async fn drain(&mut self) {
        if self.tasks.is_empty() {
            return;
        }
        let grace = self.config.schedule.shutdown_grace;
        info!(in_flight = self.tasks.len(), grace = %humantime::format_duration(grace), "waiting for fetches in flight");
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(Ok((feed, report)))) => self.finished(feed, report).await,
                Ok(Some(Err(_))) => {}
                Ok(None) => return,
                Err(_) => {
                    warn!(
                        cancelled = self.tasks.len(),
                        "grace period over: cancelling fetches in flight"
                    );
                    self.tasks.abort_all();
                    while self.tasks.join_next().await.is_some() {}
                    // Store writes already started finish on the blocking
                    // pool; taking the lock waits for them.
                    let _ = self.store.call(|_| Ok(())).await;
                    return;
                }
            }
        }
    }

    fn spawn_watchdog(&self) -> tokio::task::JoinHandle<()> {
        let Some(interval) = self.notifier.watchdog_interval() else {
            return tokio::spawn(async {});
        };
        let notifier = self.notifier;
        let progress = Arc::clone(&self.progress);
        let store = self.store.clone();
        tokio::spawn(async move {
            let period = interval / 2;
            loop {
                tokio::time::sleep(period).await;
                let age = Utc::now().timestamp() - progress.load(Ordering::Relaxed);
                let store_ok = tokio::time::timeout(period, store.call(|s| s.ping())).await;
                if age <= interval.as_secs() as i64 && matches!(store_ok, Ok(Ok(()))) {
                    notifier.watchdog();
                } else {
                    warn!(
                        scheduler_idle_secs = age,
                        "not pinging the watchdog: the scheduler or the store is stuck"
                    );
                }
            }
        })
    }
}

/// Computes a just-refreshed feed's next check and stores it; `None` when
/// the feed is no longer in the store.
pub async fn store_next_check(
    store: &SharedStore,
    feed: FeedConfig,
    schedule: crate::config::ScheduleConfig,
    report: &FeedReport,
) -> crate::store::Result<Option<Due>> {
    let mut planned =
        store_next_checks(store, vec![(feed, report.response.clone())], schedule).await?;
    Ok(planned.pop().flatten())
}

/// Each feed's position in `config.feeds`, by name.
fn feed_positions(config: &Config) -> HashMap<String, usize> {
    config
        .feeds
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.clone(), i))
        .collect()
}

fn failed_report(feed: &FeedConfig, error: &str) -> FeedReport {
    FeedReport {
        name: feed.name.clone(),
        url: feed.url.to_string(),
        status: crate::store::Outcome::Transient,
        http_status: None,
        new: 0,
        updated: 0,
        merged: 0,
        error: Some(error.to_string()),
        bytes: 0,
        duration_ms: 0,
        response: None,
        moved_to: None,
        hub: None,
        pushed: false,
    }
}
