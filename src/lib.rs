//! Tributary: a feed aggregator daemon.
#![deny(missing_docs)]

pub mod schedule;
