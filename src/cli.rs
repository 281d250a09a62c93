//! The command line: one function per command, on top of the library.
//!
//! Exit codes: 0 success (including a fetch round in which some feeds
//! failed: they are reported), 1 the store or runtime failed, 2 the
//! configuration is invalid or the command line is wrong.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::fetch::Fetcher;
use crate::model::FeedSpec;
use crate::refresh::{refresh_all, FeedReport, SharedStore};
use crate::store::Store;

/// Tributary: many feeds in, one clean river out.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about)]
pub struct Cli {
    /// Config file [default: $TRIBUTARY_CONFIG, ./config/tributary.toml, /etc/tributary/tributary.toml]
    #[arg(long, short, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll the configured feeds once, store what is new, print one line per feed.
    Fetch {
        /// Only this feed (repeatable).
        #[arg(long = "feed", value_name = "NAME")]
        feeds: Vec<String>,
        /// One JSON object per feed per line, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Validate the config and print what it resolved to.
    Check,
    /// List the feeds with their state.
    Feeds {
        /// One JSON object per feed per line.
        #[arg(long)]
        json: bool,
    },
    /// Render every output (Atom, RSS, JSON Feed) and the index page into a folder.
    Publish {
        /// Folder to write into [default: `[server] out_dir` of the config]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ce) = e.downcast_ref::<ConfigError>() {
                eprintln!("error: {ce}");
                return ExitCode::from(2);
            }
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let path = Config::locate(cli.config.as_deref())?;
    Ok(Config::load(&path)?)
}

fn specs(config: &Config) -> Vec<FeedSpec> {
    config
        .feeds
        .iter()
        .map(|f| FeedSpec {
            name: f.name.clone(),
            url: f.url.to_string(),
            tags: f.tags.clone(),
            dedup: f.dedup,
        })
        .collect()
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli)?;
    match cli.command {
        Command::Check => {
            print!("{config}");
            println!("ok");
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch { feeds, json } => fetch(config, &feeds, json),
        Command::Feeds { json } => list_feeds(&config, json),
        Command::Publish { out } => publish(&config, out),
    }
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.store.path)
        .with_context(|| format!("opening the store {}", config.store.path.display()))
}

fn fetch(config: Config, only: &[String], json: bool) -> anyhow::Result<ExitCode> {
    for name in only {
        if config.feed(name).is_none() {
            eprintln!("error: no feed named `{name}` in {}", config.path.display());
            return Ok(ExitCode::from(2));
        }
    }
    let mut store = open_store(&config)?;
    store.reconcile(&specs(&config), Utc::now())?;
    let rows = store.feeds()?;
    let work: Vec<_> = config
        .feeds
        .iter()
        .filter(|f| only.is_empty() || only.contains(&f.name))
        .filter_map(|f| {
            rows.iter()
                .find(|r| r.name == f.name)
                .map(|r| (f.clone(), r.clone()))
        })
        .collect();
    let fetcher = Fetcher::new(&config.fetch).context("setting up the HTTP client")?;
    let shared = SharedStore::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stdout = std::io::stdout();
    let reports = runtime.block_on(refresh_all(&fetcher, &shared, work, |r| {
        let mut out = stdout.lock();
        let _ = if json {
            print_json(&mut out, r)
        } else {
            print_line(&mut out, r)
        };
    }));
    let (new, updated, failed) = reports.iter().fold((0, 0, 0), |(n, u, f), r| {
        (n + r.new, u + r.updated, f + usize::from(r.error.is_some()))
    });
    if !json {
        println!(
            "{} feeds: {new} new, {updated} updated, {failed} failed",
            reports.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_line(out: &mut impl Write, r: &FeedReport) -> std::io::Result<()> {
    let http = r.http_status.map(|s| format!(" {s}")).unwrap_or_default();
    match &r.error {
        None => writeln!(
            out,
            "{:<24} {}{http}  {} new, {} updated",
            r.name, r.status, r.new, r.updated
        ),
        Some(e) => writeln!(out, "{:<24} {}{http}  error: {e}", r.name, r.status),
    }
}

fn print_json(out: &mut impl Write, r: &FeedReport) -> std::io::Result<()> {
    let v = serde_json::json!({
        "name": r.name,
        "url": r.url,
        "status": r.status,
        "http_status": r.http_status,
        "new": r.new,
        "updated": r.updated,
        "error": r.error,
    });
    writeln!(out, "{v}")
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

fn list_feeds(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
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
            "{:<24} {:<12} {:<16} {:<16} {:>7} {:>6}  {}",
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

fn publish(config: &Config, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let Some(dir) = out.or_else(|| config.server.out_dir.clone()) else {
        eprintln!(
            "error: no folder to publish into: pass --out DIR or set [server] out_dir in {}",
            config.path.display()
        );
        return Ok(ExitCode::from(2));
    };
    let store = open_store(config)?;
    let site = crate::output::Site::new(config);
    let written = crate::output::write_static(&site, &store, &dir)
        .with_context(|| format!("publishing into {}", dir.display()))?;
    let mut out = std::io::stdout().lock();
    for w in &written {
        let shown = w.path.strip_prefix(&dir).unwrap_or(&w.path);
        let what = if w.changed { "wrote" } else { "unchanged" };
        writeln!(out, "{what:<10} {} ({} bytes)", shown.display(), w.bytes)?;
    }
    let changed = written.iter().filter(|w| w.changed).count();
    writeln!(
        out,
        "{} files in {}: {changed} written, {} unchanged",
        written.len(),
        dir.display(),
        written.len() - changed
    )?;
    Ok(ExitCode::SUCCESS)
}
