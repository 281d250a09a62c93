//! The systemd notification protocol (`sd_notify`), as the daemon uses it.
//!
//! Every call is a no-op when `NOTIFY_SOCKET` is not set (not started by
//! systemd, or in tests that do not ask for it), and a failure to send is
//! logged, never fatal: the daemon's work matters more than its reports.

use std::time::Duration;

use sd_notify::NotifyState;
use tracing::debug;

/// Sends states to the service manager.
#[derive(Debug, Clone, Copy, Default)]
pub struct Notifier {
    enabled: bool,
}

impl Notifier {
    /// A notifier for this process; enabled when `NOTIFY_SOCKET` is set.
    pub fn from_env() -> Notifier {
        Notifier {
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty()),
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            debug!(error = %e, "sd_notify failed");
        }
    }

    /// `READY=1` with a status line.
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (as `Type=notify-reload` wants).
    pub fn reloading(&self) {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[
                NotifyState::Reloading,
                now,
                NotifyState::Status("reloading config"),
            ]),
            Err(_) => self.send(&[
                NotifyState::Reloading,
                NotifyState::Status("reloading config"),
            ]),
        }
    }

    /// Before a long start: `EXTEND_TIMEOUT_USEC=` (the start may take
    /// `limit` more than the unit's `TimeoutStartSec=`, at most 71
    /// minutes) with a status line.
    pub fn extend_start(&self, limit: Duration, status: &str) {
        let usec = u32::try_from(limit.as_micros()).unwrap_or(u32::MAX);
        self.send(&[
            NotifyState::ExtendTimeoutUsec(usec),
            NotifyState::Status(status),
        ]);
    }

    /// `STOPPING=1`.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }

    /// `WATCHDOG=1`.
    pub fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }

    /// `STATUS=…` alone.
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// The watchdog interval systemd expects (`WATCHDOG_USEC`), when it
    /// expects one of this process.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        if !self.enabled {
            return None;
        }
        sd_notify::watchdog_enabled()
    }
}
