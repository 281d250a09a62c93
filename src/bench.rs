//! The benchmark command, `tributary-bench` (cargo feature `bench`): the
//! real ingest pipeline against a synthetic corpus served over loopback
//! HTTP, phase by phase, with what each phase cost.
//!
//! # What it does
//! 1. Plans and renders a deterministic corpus ([`corpus`], [`prose`],
//!    [`documents`]): N feeds × M entries of RSS 2.0, Atom 1.0 and JSON Feed
//!    1.1 with cross-feed copies and entries without guids, and its ground
//!    truth — a port of the shared `bench/feedgen.py` so figures compare
//!    with the peers measured by `bench/run-peers.sh`.
//! 2. Serves it from 127.0.0.1 ([`server`]) with `ETag`, `Last-Modified`
//!    and `304` answers, counting what it sends.
//! 3. Runs the phases **cold** (every entry new), **unchanged** (every feed
//!    answers 304) and **updated** (5 % of the feeds got 3 new entries;
//!    `--rounds` repeats the last two, each time with other new entries),
//!    each through [`refresh_all`](crate::refresh::refresh_all) on one
//!    SQLite file ([`phase`]), and checks the stored rows against the truth.
//! 4. With `--extract-pages N`, measures full-text extraction on N
//!    generated article pages over loopback ([`extract`]).
//! 5. Fills a second store with a million articles and times the default
//!    output, read and rendered, and the output server's cached answer to
//!    a conditional request for it ([`render`]).
//!
//! # Measuring
//! Each phase runs in a child process (this same binary, with a hidden
//! subcommand) and reports its own wall time, CPU time and peak RSS
//! ([`usage`]); the server stays in the parent, so neither its CPU nor the
//! corpus it holds in memory counts against the pipeline. `--wrap` runs
//! the children under a profiler.
//!
//! The command fails (exit 1) when the store disagrees with the ground
//! truth after any phase, so a run doubles as an end-to-end check.
//!
//! # Must not do
//! Reach the network: everything is on 127.0.0.1, and nothing it writes
//! outlives the run unless `--dir` is given.

pub mod commands;
pub mod corpus;
pub mod documents;
pub mod extract;
pub mod phase;
pub mod process;
pub mod prose;
pub mod render;
pub mod report;
pub mod rng;
pub mod server;
pub mod size;
pub mod usage;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{DEFAULT_CONCURRENCY, DEFAULT_PER_HOST};
use corpus::{Corpus, Params, BASE_EPOCH};
use phase::{Knobs, PhaseCost};
use report::{CorpusFacts, Machine, PhaseRow, Report};
use server::{CorpusServer, Served};

/// When the corpus documents were published (their `Last-Modified`); an
/// update round `r` republishes at `PUBLISHED + r` hours.
const PUBLISHED: i64 = BASE_EPOCH + 2 * 86_400;

/// Runs the ingest pipeline against a synthetic corpus on a loopback server
/// and reports what each phase cost.
#[derive(Debug, Parser)]
#[command(name = "tributary-bench", version, about)]
pub struct Cli {
    /// Feeds in the corpus.
    #[arg(long, default_value_t = 1000)]
    pub feeds: usize,
    /// Entries per feed.
    #[arg(long, default_value_t = 50)]
    pub entries: usize,
    /// Seed of the corpus.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Cross-feed merging of articles (`dedup` of every feed).
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub dedup: Switch,
    /// Feeds fetched at once (`[fetch] concurrency`).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Requests in flight per host (`[fetch] per_host`).
    #[arg(long, default_value_t = DEFAULT_PER_HOST)]
    pub per_host: usize,
    /// Simulated hosts: the server listens on this many ports and the
    /// feeds are spread over them.
    #[arg(long, default_value_t = 16)]
    pub hosts: usize,
    /// Articles in the render store; 0 skips the render phase.
    #[arg(long, default_value_t = 1_000_000)]
    pub render_articles: u64,
    /// Generated article pages for the extraction phase (pure extraction,
    /// and the worker over loopback); 0 skips it.
    #[arg(long, default_value_t = 0)]
    pub extract_pages: usize,
    /// Iterations of the render per format.
    #[arg(long, default_value_t = 20)]
    pub render_iterations: usize,
    /// Times the unchanged and updated phases run after the cold one, each
    /// updated phase with new entries of its own (repeats show how much a
    /// short phase's figures spread on a shared machine).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub rounds: u64,
    /// Working directory, kept afterwards; a render store of the same size
    /// found there is reused. Default: a fresh directory under the system
    /// temp directory, removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also time the document pipeline alone (`refresh::process` over the
    /// corpus on one thread: parse, sanitize, text, keys, fingerprints),
    /// and the libraries it is built on alone (feed-rs, ammonia, SQLite
    /// inserts and FTS5), before the phases.
    #[arg(long)]
    pub process: bool,
    /// Run each phase's child under this command, e.g. `perf record -g -o
    /// perf-{phase}.data --`; `{phase}` is replaced by the phase's name.
    #[arg(long, value_name = "COMMAND")]
    pub wrap: Option<String>,
    /// Instead of the in-process phases, run the `tributary` binary's own
    /// commands against a written config: `check`, then `fetch` cold,
    /// unchanged and updated, each with its CPU time and peak RSS.
    #[arg(long)]
    pub commands: bool,
    /// The `tributary` binary for `--commands` (default: the one beside
    /// this binary).
    #[arg(long, value_name = "PATH")]
    pub tributary: Option<PathBuf>,
    /// Internal: one phase, in a child process.
    #[command(subcommand)]
    pub child: Option<Child>,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// The phases as child processes run them; each prints one JSON object.
#[derive(Debug, Subcommand)]
pub enum Child {
    /// One ingest phase.
    #[command(hide = true)]
    ChildIngest {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// `name<TAB>url` lines.
        #[arg(long)]
        feed_list: PathBuf,
        /// Cross-feed merging.
        #[arg(long, action = clap::ArgAction::Set)]
        dedup: bool,
        /// Feeds at once.
        #[arg(long)]
        concurrency: usize,
        /// Requests per host.
        #[arg(long)]
        per_host: usize,
    },
    /// Fill the render store.
    #[command(hide = true)]
    ChildFill {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// Corpus seed.
        #[arg(long)]
        seed: u64,
        /// Articles to write.
        #[arg(long)]
        articles: u64,
        /// Feeds to spread them over.
        #[arg(long)]
        feeds: u64,
        /// Newest articles with full-size bodies.
        #[arg(long)]
        full_bodies: u64,
    },
    /// Full-text extraction: ingest the feeds, time the worker.
    #[command(hide = true)]
    ChildExtract {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// `name<TAB>url` lines.
        #[arg(long)]
        feed_list: PathBuf,
    },
    /// Time the default output.
    #[command(hide = true)]
    ChildRender {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// Iterations per format.
        #[arg(long)]
        iterations: usize,
    },
}

/// Entry point of the `tributary-bench` binary.
pub fn main() -> ExitCode {
    crate::allocator::tune();
    let cli = Cli::parse();
    let result = match cli.child {
        Some(child) => run_child(child),
        None => run(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_child(child: Child) -> anyhow::Result<()> {
    let json = match child {
        Child::ChildIngest {
            db,
            feed_list,
            dedup,
            concurrency,
            per_host,
        } => {
            let knobs = Knobs {
                dedup,
                concurrency,
                per_host,
            };
            serde_json::to_string(&phase::ingest(&db, &feed_list, knobs)?)?
        }
        Child::ChildFill {
            db,
            seed,
            articles,
            feeds,
            full_bodies,
        } => serde_json::to_string(&render::fill(&db, seed, articles, feeds, full_bodies)?)?,
        Child::ChildExtract { db, feed_list } => {
            serde_json::to_string(&extract::child(&db, &feed_list)?)?
        }
        Child::ChildRender { db, iterations } => {
            serde_json::to_string(&render::render(&db, iterations)?)?
        }
    };
    println!("{json}");
    Ok(())
}

/// Runs `args` as a child phase (under `--wrap` when given) and parses the
/// JSON it prints; also returns the parent's CPU seconds meanwhile (the
/// server's work).
fn spawn<T: serde::de::DeserializeOwned>(
    cli: &Cli,
    phase: &str,
    args: &[String],
) -> anyhow::Result<(T, f64)> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut words: Vec<String> = cli
        .wrap
        .as_deref()
        .map(|w| w.replace("{phase}", phase))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    words.push(exe.display().to_string());
    words.extend(args.iter().cloned());
    let cpu = || {
        let (u, s) = usage::cpu_seconds();
        u + s
    };
    let before = cpu();
    let out = Command::new(&words[0])
        .args(&words[1..])
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running the {phase} phase"))?;
    let server_cpu = cpu() - before;
    if !out.status.success() {
        bail!("the {phase} phase failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("the phase printed no result")?;
    Ok((serde_json::from_str(line)?, server_cpu))
}

fn say(msg: &str) {
    eprintln!("tributary-bench: {msg}");
}

/// Renders every document of `corpus` (on all cores), with its URL path.
fn render_all(corpus: &Corpus, only: Option<&[usize]>) -> Vec<(usize, String, Served)> {
    let seed = corpus.params.seed;
    let picks: Vec<usize> = only.map_or_else(|| (0..corpus.feeds.len()).collect(), <[_]>::to_vec);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = picks.len().div_ceil(workers).max(1);
    let round = u64::from(only.is_some());
    std::thread::scope(|scope| {
        let handles: Vec<_> = picks
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&i| {
                            let f = &corpus.feeds[i];
                            let doc = Served::new(
                                documents::render(seed, f),
                                f.format.content_type(),
                                PUBLISHED + round as i64 * 3600,
                            );
                            (i, f.path(), doc)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("rendering a document panicked"))
            .collect()
    })
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    if cli.feeds == 0 || cli.entries == 0 {
        bail!("--feeds and --entries must be at least 1");
    }
    let (dir, keep) = match &cli.dir {
        Some(d) => (d.clone(), true),
        None => (
            std::env::temp_dir().join(format!("tributary-bench-{}", std::process::id())),
            false,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = if cli.commands {
        commands::run(cli, &dir).map(|()| None)
    } else {
        run_in(cli, &dir).map(Some)
    };
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let Some(report) = result? else {
        return Ok(());
    };
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    if let Some(wrong) = report.phases.iter().find(|p| !p.correct()) {
        bail!(
            "after the {} phase the store disagrees with the ground truth",
            wrong.phase
        );
    }
    Ok(())
}

fn run_in(cli: &Cli, dir: &Path) -> anyhow::Result<Report> {
    let dedup = cli.dedup == Switch::On;
    let t0 = Instant::now();
    let mut corpus = Corpus::plan(Params::new(cli.seed, cli.feeds, cli.entries));
    let docs = render_all(&corpus, None);
    let mut facts = CorpusFacts {
        documents: docs.len(),
        bytes: docs.iter().map(|(_, _, d)| d.body.len() as u64).sum(),
        generate_s: t0.elapsed().as_secs_f64(),
        before_update: corpus.truth(),
        ..CorpusFacts::default()
    };
    say(&format!(
        "corpus: {} documents, {:.1} MB in {:.1} s",
        facts.documents,
        facts.bytes as f64 / 1e6,
        facts.generate_s
    ));
    let (pipeline, floor) = if cli.process {
        let pipeline = process::measure(&docs);
        say(&pipeline.to_string());
        let floor = process::floor(&docs, dir)?;
        say(&floor.to_string());
        (Some(pipeline), Some(floor))
    } else {
        (None, None)
    };
    let hosts = cli.hosts.max(1);
    let list: Vec<(usize, String)> = docs.iter().map(|(i, p, _)| (*i, p.clone())).collect();
    let server = CorpusServer::start(docs.into_iter().map(|(_, p, d)| (p, d)).collect(), hosts)
        .context("starting the corpus server")?;
    let feed_list = dir.join("feeds.tsv");
    let lines: String = list
        .iter()
        .map(|(i, path)| format!("{}\t{}\n", corpus.feeds[*i].id(), server.url(*i, path)))
        .collect();
    std::fs::write(&feed_list, lines)?;
    let db = dir.join("ingest.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let ingest_args = vec![
        "child-ingest".to_owned(),
        "--db".into(),
        db.display().to_string(),
        "--feed-list".into(),
        feed_list.display().to_string(),
        format!("--dedup={dedup}"),
        "--concurrency".into(),
        cli.concurrency.to_string(),
        "--per-host".into(),
        cli.per_host.to_string(),
    ];
    let mut phases = Vec::new();
    let mut store = None;
    let (content_bytes, content_entries) = size::entry_content(&corpus);
    let mut truth = facts.before_update.clone();
    let order = std::iter::once(("cold", 0))
        .chain((1..=cli.rounds).flat_map(|r| [("unchanged", r), ("updated", r)]));
    for (name, round) in order {
        if name == "updated" {
            let changed = corpus.update(round, 0.05, 3);
            for (_, path, doc) in render_all(&corpus, Some(&changed)) {
                server.replace(&path, doc);
            }
            facts.updated_feeds = changed.len();
            truth = corpus.truth();
            facts.after_update = truth.clone();
        }
        say(&format!("phase {name}…"));
        server.take_stats();
        let (cost, server_cpu_s): (PhaseCost, f64) = spawn(cli, name, &ingest_args)?;
        let row = PhaseRow {
            phase: name,
            traffic: server.take_stats(),
            server_cpu_s,
            expected_entries: truth.entries,
            expected_articles: if dedup {
                truth.distinct_articles
            } else {
                truth.entries
            },
            cost,
        };
        say(&format!(
            "phase {name}: {:.2} s wall, {:.2} s CPU, {} new",
            row.cost.wall_s,
            row.cost.cpu_s(),
            row.cost.new_entries
        ));
        phases.push(row);
        if name == "cold" {
            store = Some(size::StoreSize::measure(
                &db,
                content_bytes,
                content_entries,
            )?);
        }
    }
    drop(server);
    let extract = if cli.extract_pages > 0 {
        say(&format!("extraction of {} pages…", cli.extract_pages));
        let cost = extract::run(cli.seed, cli.extract_pages, hosts, dir, |args| {
            Ok(spawn::<extract::ExtractCost>(cli, "extract", args)?.0)
        })?;
        say(&cost.to_string());
        Some(cost)
    } else {
        None
    };
    let (fill, render) = if cli.render_articles > 0 {
        render_phase(cli, dir)?
    } else {
        (None, None)
    };
    Ok(Report {
        machine: Machine::this(),
        params: corpus.params.clone(),
        dedup,
        concurrency: cli.concurrency,
        per_host: cli.per_host,
        hosts,
        corpus: facts,
        phases,
        store,
        fill,
        render,
        extract,
        pipeline,
        floor,
    })
}

fn render_phase(
    cli: &Cli,
    dir: &Path,
) -> anyhow::Result<(Option<render::FillCost>, Option<render::RenderCost>)> {
    let n = cli.render_articles;
    let db = dir.join(format!("render-{n}.db"));
    let done = dir.join(format!("render-{n}.done"));
    let mut fill = None;
    if !done.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        say(&format!("filling a store with {n} articles…"));
        let args = [
            "child-fill".to_owned(),
            "--db".into(),
            db.display().to_string(),
            "--seed".into(),
            cli.seed.to_string(),
            "--articles".into(),
            n.to_string(),
            "--feeds".into(),
            cli.feeds.to_string(),
            "--full-bodies".into(),
            10_000u64.min(n).to_string(),
        ];
        let (cost, _): (render::FillCost, f64) = spawn(cli, "fill", &args)?;
        std::fs::write(&done, b"")?;
        fill = Some(cost);
    }
    say("render…");
    let args = [
        "child-render".to_owned(),
        "--db".into(),
        db.display().to_string(),
        "--iterations".into(),
        cli.render_iterations.to_string(),
    ];
    let (cost, _): (render::RenderCost, f64) = spawn(cli, "render", &args)?;
    Ok((fill, Some(cost)))
}
