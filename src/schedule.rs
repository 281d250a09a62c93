//! When to check a feed next, and why.
//!
//! Owns the schedule math: crontab expressions read as wall-clock time in a
//! zone ([`crontab`]), what publishers say about how often to come back
//! ([`hints`]), and the rule combining those with backoff after errors and an
//! optional adaptive interval ([`timing`]).
//!
//! Everything here is pure: no clock reads, no I/O, no random source of its
//! own. Callers pass `now` and, where jitter is wanted, a random number, so
//! every rule is tested with fixed values. The loop that hands due feeds to
//! `refresh` builds on this and is not part of it.

pub mod crontab;
pub mod hints;
pub mod timing;
mod wall_clock;

pub use crontab::{CronError, CronSchedule};
pub use hints::Hints;
pub use timing::{next_check, spread_overdue, Adaptive, History, NextCheck, NextReason, Policy};
