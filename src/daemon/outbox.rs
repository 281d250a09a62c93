//! The delivery task: works the notification outbox beside polling (see
//! `jobs::notify`), so that no feed's poll waits for a slow receiver. It
//! wakes when a refresh stored something, when the next thing it waits
//! for comes due (a batch window, a retry, a rate-limit slot), and every
//! [`OUTBOX_TICK`] at the least; a reload hands it the new targets (and
//! the store queues for them from then on). What was queued survives
//! restarts: the schedule of retries is in the store.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::config::Config;
use crate::jobs::notify::{deliver, Delivering};
use crate::metrics::Metrics;
use crate::notify::send::Sender;
use crate::store::SharedStore;

/// Longest the task sleeps between passes.
pub const OUTBOX_TICK: Duration = Duration::from_secs(60);

/// The running task and what steers it.
pub struct Outbox {
    task: JoinHandle<()>,
    /// Tells a command still running to end (see `notify::send`).
    stopping: Arc<AtomicBool>,
    settings: watch::Sender<Arc<Config>>,
    wake: Arc<Notify>,
}

impl Outbox {
    /// Starts the task.
    pub fn spawn(store: SharedStore, config: &Config, metrics: Arc<Metrics>) -> Outbox {
        let (settings, mut rx) = watch::channel(Arc::new(config.clone()));
        let wake = Arc::new(Notify::new());
        let woken = Arc::clone(&wake);
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopping);
        let task = tokio::spawn(async move {
            let mut sender: Option<(String, Sender)> = None;
            loop {
                let config = rx.borrow_and_update().clone();
                let mut wait = OUTBOX_TICK;
                if !config.notify.is_empty() {
                    let ua = &config.fetch.user_agent;
                    if sender.as_ref().is_none_or(|(had, _)| had != ua) {
                        match Sender::new(ua, config.fetch.connect_timeout) {
                            Ok(s) => sender = Some((ua.clone(), s.stopping_on(Arc::clone(&stop)))),
                            Err(e) => warn!(error = %e, "notifications cannot be sent"),
                        }
                    }
                    if let Some((_, s)) = &sender {
                        let pass = deliver(&Delivering {
                            store: &store,
                            sender: s,
                            config: &config,
                            metrics: Some(&metrics),
                            now_or_never: false,
                        })
                        .await;
                        if let Some(next) = pass.next {
                            wait = (next - Utc::now())
                                .to_std()
                                .unwrap_or(Duration::ZERO)
                                .clamp(Duration::from_millis(100), OUTBOX_TICK);
                        }
                    }
                }
                tokio::select! {
                    _ = woken.notified() => {}
                    _ = rx.changed() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
        Outbox {
            task,
            stopping,
            settings,
            wake,
        }
    }

    /// Something was stored: look at the outbox.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The config was reloaded.
    pub fn reload(&self, config: &Config) {
        let _ = self.settings.send(Arc::new(config.clone()));
    }

    /// Stops the task. A message in flight is abandoned (a command is
    /// killed); its notifications stay queued and go again (at least once).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.task.abort();
    }
}
