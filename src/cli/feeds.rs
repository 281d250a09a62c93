//! `tributary feeds`: every feed with its state.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::open_store;
use crate::config::Config;

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

/// Prints the feeds table (or JSON lines).
pub(super) fn run(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let rows = store.feeds()?;
    let mut out = std::io::stdout().lock();
    if json {
        for f in &rows {
            let v = serde_json::json!({
                "name": f.name, "url": f.url, "active": f.active, "status": f.status,
                "title": f.title, "tags": f.tags,
                "last_fetch_at": f.last_fetch_at, "last_success_at": f.last_success_at,
                "last_new_entry_at": f.last_new_entry_at, "http_status": f.last_http_status,
                "consecutive_errors": f.consecutive_errors, "last_error": f.last_error,
                "next_check_at": f.next_check_at, "next_check_reason": f.next_check_reason,
                "entries": f.entries,
            });
            writeln!(out, "{v}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<24} {:<12} {:<16} {:<16} {:>7} {:>6}  last error",
        "NAME", "STATUS", "LAST FETCH", "NEXT CHECK", "ENTRIES", "ERRORS"
    )?;
    for f in &rows {
        let status = if f.active {
            f.status.as_str()
        } else {
            "removed"
        };
        let next = match (&f.next_check_at, &f.next_check_reason) {
            (Some(t), Some(why)) => format!("{} ({why})", when(Some(*t))),
            (t, _) => when(*t),
        };
        writeln!(
            out,
            "{:<24} {:<12} {:<16} {:<30} {:>7} {:>6}  {}",
            f.name,
            status,
            when(f.last_fetch_at),
            next,
            f.entries,
            f.consecutive_errors,
            f.last_error.as_deref().unwrap_or("")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
