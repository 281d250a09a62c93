//! The full-text task: works the extraction queue beside polling (see
//! `extract::worker`), so that no feed's poll waits for article pages.
//! It wakes when a refresh stored something new or changed, and every
//! [`FULL_TEXT_TICK`] for retries that have come due; a reload hands it the
//! new config and HTTP client. The sites' robots.txt answers are kept for
//! the life of the task (reloads included).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::Config;
use crate::extract::robots::RobotsCache;
use crate::extract::worker;
use crate::fetch::Fetcher;
use crate::store::SharedStore;

/// Longest the task sleeps between passes over the queue.
pub const FULL_TEXT_TICK: Duration = Duration::from_secs(60);

/// The running task and what steers it.
pub struct FullText {
    task: JoinHandle<()>,
    settings: watch::Sender<(Arc<Config>, Fetcher)>,
    wake: Arc<Notify>,
}

impl FullText {
    /// Starts the task.
    pub fn spawn(store: SharedStore, fetcher: Fetcher, config: &Config) -> FullText {
        let (settings, mut rx) = watch::channel((Arc::new(config.clone()), fetcher));
        let wake = Arc::new(Notify::new());
        let woken = Arc::clone(&wake);
        let task = tokio::spawn(async move {
            let robots = RobotsCache::default();
            loop {
                let (config, fetcher) = rx.borrow_and_update().clone();
                if config.feeds.iter().any(|f| f.full_text.is_some()) {
                    match worker::pass(&store, &fetcher, &config, &robots).await {
                        Ok(p) if p.done + p.unchanged + p.failed + p.retried > 0 => info!(
                            extracted = p.done,
                            unchanged = p.unchanged,
                            failed = p.failed,
                            retry = p.retried,
                            "full text"
                        ),
                        Ok(_) => {}
                        Err(e) => warn!(error = %e, "full-text pass failed"),
                    }
                }
                tokio::select! {
                    _ = woken.notified() => {}
                    _ = rx.changed() => {}
                    _ = tokio::time::sleep(FULL_TEXT_TICK) => {}
                }
            }
        });
        FullText {
            task,
            settings,
            wake,
        }
    }

    /// Something new was stored: look for pages to extract.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The config was reloaded.
    pub fn reload(&self, config: &Config, fetcher: &Fetcher) {
        let _ = self
            .settings
            .send((Arc::new(config.clone()), fetcher.clone()));
    }

    /// Stops the task; an extraction in flight is abandoned (its article
    /// stays queued: each result is written in one transaction).
    pub fn stop(&self) {
        self.task.abort();
    }
}
