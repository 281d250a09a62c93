//! When to check a feed next, and why.
//!
//! Owns the schedule math: crontab expressions read as wall-clock time in a
//! zone ([`crontab`]) and what publishers say about how often to come back
//! ([`hints`]).
//!
//! Everything here is pure: no clock reads, no I/O, no random source of its
//! own. Callers pass `now`, so every rule is tested with fixed values. The
//! loop that hands due feeds to `refresh` builds on this and is not part of it.

pub mod crontab;
pub mod hints;
mod wall_clock;

pub use crontab::{CronError, CronSchedule};
pub use hints::Hints;
