//! The per-host limit on requests in flight, and the gap between the
//! starts of two requests to one host (or host group).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::{FetchConfig, HostGroup};

/// A cap on requests in flight per host (or host group), and a minimum gap
/// between the starts of two requests to it, so that many feeds on one
/// server are fetched a few at a time while other hosts proceed.
pub(super) struct HostLimits {
    per_host: usize,
    gap: Duration,
    groups: Vec<HostGroup>,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

struct HostSlot {
    in_flight: Arc<Semaphore>,
    /// Earliest start of the next request.
    next_start: tokio::sync::Mutex<Instant>,
}

impl HostLimits {
    pub(super) fn new(config: &FetchConfig) -> HostLimits {
        HostLimits {
            per_host: config.per_host.max(1),
            gap: config.host_gap,
            groups: config.host_groups.clone(),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot of `url`'s host and its turn; the next request to
    /// the host then waits the larger of `[fetch] host_gap` and `min_gap`.
    pub(super) async fn acquire(&self, url: &Url, min_gap: Duration) -> OwnedSemaphorePermit {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let (key, limit) = match self.groups.iter().position(|g| g.matches(&host)) {
            Some(i) => (format!("group#{i}"), self.groups[i].limit),
            None => (
                format!("{host}:{}", url.port_or_known_default().unwrap_or(0)),
                self.per_host,
            ),
        };
        let slot = {
            // A std mutex is fine: it is never held across an await.
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(HostSlot {
                        in_flight: Arc::new(Semaphore::new(limit.max(1))),
                        next_start: tokio::sync::Mutex::new(Instant::now()),
                    })
                })
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = Arc::clone(&slot.in_flight)
            .acquire_owned()
            .await
            .expect("host semaphore is never closed");
        let gap = self.gap.max(min_gap);
        let mut next = slot.next_start.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until((*next).into()).await;
        }
        if !gap.is_zero() {
            *next = Instant::now() + gap;
        }
        permit
    }
}
