//! `tributary prune`: applies the `[retention]` settings now (with the
//! policy the daemon's daily run uses: entry limits when there are any,
//! and the fetch log's age limit), then gives free space back.

use std::process::ExitCode;

use chrono::Utc;

use super::open_store;
use crate::config::{span, Config};
use crate::jobs::retention::prune_policy;

/// Prunes what `[retention]` says and reports what went.
pub(super) fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let r = &config.retention;
    let mut store = open_store(config)?;
    let names: Vec<String> = config.digests.iter().map(|d| d.name.clone()).collect();
    let protect = store.digest_protection(&names)?;
    let report = store.prune(&prune_policy(r, protect), Utc::now())?;
    if r.keeps_every_entry() {
        println!(
            "no entry limits in [retention] of {}: every entry is kept",
            config.path.display()
        );
    } else {
        let mut limits = Vec::new();
        if let Some(age) = r.max_age {
            limits.push(format!("older than {}", span(age)));
        }
        if let Some(n) = r.max_per_feed {
            limits.push(format!("beyond the newest {n} of each feed"));
        }
        println!(
            "pruned {} entries ({}) and {} articles no longer carried by any entry",
            report.entries,
            limits.join(", or "),
            report.articles
        );
    }
    println!(
        "deleted {} fetch-log rows older than {}",
        report.fetch_log,
        span(r.fetch_log_max_age)
    );
    println!(
        "deleted {} delivered notifications and notification-log rows as old",
        report.notifications
    );
    println!(
        "forgot {} pruned entries their feeds stopped listing over {} ago",
        report.tombstones,
        span(r.tombstone_max_age)
    );
    let c = &report.compaction;
    let vacuum = match c.vacuum {
        "full" => ", vacuumed (the file now gives space back incrementally)",
        "incremental" => ", free pages given back",
        _ => "",
    };
    println!(
        "compacted: {} → {}{vacuum}{}",
        size(c.bytes_before),
        size(c.bytes_after),
        if c.checkpointed {
            ""
        } else {
            " (a reader kept part of the WAL busy; the next checkpoint finishes)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}
