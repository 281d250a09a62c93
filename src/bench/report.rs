//! The benchmark's results: one [`Report`] printed as a plain table, or as
//! JSON for machines, with the targets checked.

use std::fmt::Write as _;

use super::corpus::{Params, Truth};
use super::phase::PhaseCost;
use super::process::{Floor, ProcessCost};
use super::render::{FillCost, RenderCost};
use super::server::Traffic;

const MB: f64 = 1e6;
const MIB: f64 = 1024.0 * 1024.0;

/// The machine the figures were taken on.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Machine {
    /// Cores available to the process.
    pub cores: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu: String,
    /// `MemTotal` in GiB.
    pub memory_gib: f64,
}

impl Machine {
    /// Reads what Linux tells about this machine.
    pub fn this() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            })
            .unwrap_or_default();
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / MIB);
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu,
            memory_gib,
        }
    }
}

/// The corpus as generated and served.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CorpusFacts {
    /// Documents served.
    pub documents: usize,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Seconds to plan and render them.
    pub generate_s: f64,
    /// Ground truth before the update round.
    pub before_update: Truth,
    /// Ground truth after it.
    pub after_update: Truth,
    /// Feeds the update round changed.
    pub updated_feeds: usize,
}

/// One ingest phase.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhaseRow {
    /// `cold`, `unchanged` or `updated`.
    pub phase: &'static str,
    /// What the child measured.
    pub cost: PhaseCost,
    /// What the server saw.
    pub traffic: Traffic,
    /// CPU seconds the server (the parent process) used meanwhile.
    pub server_cpu_s: f64,
    /// Rows `entries` must hold afterwards.
    pub expected_entries: u64,
    /// Rows `articles` must hold afterwards.
    pub expected_articles: u64,
}

impl PhaseRow {
    /// Entries added per wall second.
    pub fn entries_per_s(&self) -> f64 {
        if self.cost.wall_s > 0.0 {
            self.cost.new_entries as f64 / self.cost.wall_s
        } else {
            0.0
        }
    }

    /// Whether the store holds exactly what the ground truth says.
    pub fn correct(&self) -> bool {
        self.cost.entries_total == self.expected_entries
            && self.cost.articles_total == self.expected_articles
            && self.cost.failed == 0
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Where.
    pub machine: Machine,
    /// The corpus parameters.
    pub params: Params,
    /// Cross-feed merging on.
    pub dedup: bool,
    /// `[fetch] concurrency`.
    pub concurrency: usize,
    /// `[fetch] per_host`.
    pub per_host: usize,
    /// Simulated hosts (server ports).
    pub hosts: usize,
    /// The corpus.
    pub corpus: CorpusFacts,
    /// Cold, unchanged, updated.
    pub phases: Vec<PhaseRow>,
    /// The store's size after the cold phase.
    pub store: Option<super::size::StoreSize>,
    /// Filling the render store, when it was filled in this run.
    pub fill: Option<FillCost>,
    /// Rendering the default output, and the server's cached answers.
    pub render: Option<RenderCost>,
    /// Full-text extraction (`--extract-pages`).
    pub extract: Option<super::extract::ExtractCost>,
    /// The document pipeline alone (`--process`).
    pub pipeline: Option<ProcessCost>,
    /// The libraries alone, the floor of a cold ingest (`--process`).
    pub floor: Option<Floor>,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / MB
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB
}

/// The targets for 1000 × 50 on two cores, per phase:
/// (CPU seconds, wall seconds). The cold phase is held to ratios instead
/// ([`COLD_CPU_PER_FLOOR`], [`COLD_WALL_PER_CPU`]).
fn target(phase: &str) -> Option<(f64, f64)> {
    match phase {
        "unchanged" => Some((0.3, 0.5)),
        "updated" => Some((0.5, 1.0)),
        _ => None,
    }
}

/// Cold CPU at most this many times the libraries' floor of the same run.
const COLD_CPU_PER_FLOOR: f64 = 1.3;
/// Cold wall time at most this share of cold CPU (both cores busy).
const COLD_WALL_PER_CPU: f64 = 0.6;

/// Microseconds per entry.
fn per_entry(seconds: f64, entries: u64) -> f64 {
    seconds * 1e6 / entries.max(1) as f64
}

/// Peak RSS target for every phase, MiB.
const RSS_TARGET_MIB: f64 = 64.0;
/// Render target, ms.
const RENDER_TARGET_MS: f64 = 20.0;
/// Cached conditional request target, ms.
const CONDITIONAL_TARGET_MS: f64 = 1.0;

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

impl Report {
    /// The cold phase, when it ran.
    pub fn cold(&self) -> Option<&PhaseRow> {
        self.phases.iter().find(|r| r.phase == "cold")
    }

    /// The cold phase beside the libraries' floor and the document
    /// pipeline alone (`--process`), with the ratios the targets
    /// are set in, each from this one run.
    fn against_floor(&self, s: &mut String) {
        let Some(cold) = self.cold() else {
            return;
        };
        let k = &cold.cost;
        let entries = k.new_entries;
        let _ = writeln!(
            s,
            "\ncold against the libraries' floor (same run, {entries} entries):"
        );
        let _ = writeln!(
            s,
            "{:<34} {:>8} {:>8} {:>10} {:>9} {:>9}",
            "", "CPU s", "wall s", "µs/entry", "/ floor", "wall/CPU"
        );
        let floor = self.floor.map(|f| f.total_cpu_s());
        let ratio =
            |cpu: f64| floor.map_or("-".to_owned(), |f| format!("{:.2}", cpu / f.max(1e-9)));
        let mut row = |name: &str, cpu: f64, wall: Option<f64>, n: u64| {
            let _ = writeln!(
                s,
                "{:<34} {:>8.2} {:>8} {:>10.1} {:>9} {:>9}",
                name,
                cpu,
                wall.map_or("-".to_owned(), |w| format!("{w:.2}")),
                per_entry(cpu, n),
                ratio(cpu),
                wall.map_or("-".to_owned(), |w| format!("{:.2}", w / cpu.max(1e-9))),
            );
        };
        if let Some(f) = &self.floor {
            let n = f.entries as u64;
            row("floor: feed-rs", f.feed_rs_cpu_s, None, n);
            row("floor: ammonia", f.ammonia_cpu_s, None, n);
            row("floor: SQLite inserts", f.insert_cpu_s, None, n);
            row("floor: FTS5", f.fts_cpu_s, None, n);
            row("floor: the libraries together", f.total_cpu_s(), None, n);
        }
        if let Some(p) = &self.pipeline {
            let n = p.entries as u64;
            row(
                "document pipeline alone, 1 thread",
                p.process_cpu_s,
                Some(p.process_wall_s),
                n,
            );
        }
        row("cold phase", k.cpu_s(), Some(k.wall_s), entries);
        if self.floor.is_none() {
            let _ = writeln!(s, "  (run with --process for the floor and the ratios)");
        }
    }

    /// The plain-text table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let p = &self.params;
        let c = &self.corpus;
        let t = &c.before_update;
        let _ = writeln!(
            s,
            "Tributary benchmark: {} feeds x {} entries, seed {}, dedup {}, concurrency {}, per_host {}, {} hosts",
            p.feeds,
            p.entries,
            p.seed,
            if self.dedup { "on" } else { "off" },
            self.concurrency,
            self.per_host,
            self.hosts
        );
        let m = &self.machine;
        let _ = writeln!(
            s,
            "machine: {} cores, {}, {:.1} GiB",
            m.cores, m.cpu, m.memory_gib
        );
        let _ = writeln!(
            s,
            "corpus: {} documents ({} RSS, {} Atom, {} JSON Feed), {:.1} MB, generated in {:.1} s; \
             {} entries, {} distinct articles; copies {} utm / {} new guid / {} same guid; {} without guid",
            c.documents,
            t.feeds_by_format[0],
            t.feeds_by_format[1],
            t.feeds_by_format[2],
            mb(c.bytes),
            c.generate_s,
            t.entries,
            t.distinct_articles,
            t.utm_copies,
            t.reguid_copies,
            t.exact_copies,
            t.no_guid
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<10} {:>7} {:>7} {:>13} {:>8} {:>8} {:>9} {:>12} {:>8} {:>8}  {:<24} check",
            "phase",
            "wall s",
            "CPU s",
            "(user+sys)",
            "RSS MiB",
            "new",
            "entries/s",
            "HTTP 200/304",
            "MB in",
            "srv CPU",
            "stored entries/articles",
        );
        for r in &self.phases {
            let k = &r.cost;
            let _ = writeln!(
                s,
                "{:<10} {:>7.2} {:>7.2} {:>13} {:>8.1} {:>8} {:>9.0} {:>12} {:>8.1} {:>8.2}  {:<24} {}",
                r.phase,
                k.wall_s,
                k.cpu_s(),
                format!("({:.2}+{:.2})", k.user_s, k.sys_s),
                mib(k.peak_rss),
                k.new_entries,
                r.entries_per_s(),
                format!("{}/{}", r.traffic.ok, r.traffic.not_modified),
                mb(r.traffic.bytes),
                r.server_cpu_s,
                format!("{}/{}", k.entries_total, k.articles_total),
                if r.correct() {
                    "= truth".to_owned()
                } else {
                    format!(
                        "expected {}/{}, {} failed",
                        r.expected_entries, r.expected_articles, k.failed
                    )
                }
            );
            for e in &k.errors {
                let _ = writeln!(s, "    error: {e}");
            }
        }
        if let Some(z) = &self.store {
            let _ = writeln!(s, "\n{z}");
        }
        if let Some(f) = &self.fill {
            let _ = writeln!(
                s,
                "\nfill: {} articles in {:.1} s wall / {:.1} s CPU ({:.0}/s), peak RSS {:.1} MiB, file {:.0} MB",
                f.articles,
                f.wall_s,
                f.cpu_s,
                f.articles as f64 / f.wall_s.max(1e-9),
                mib(f.peak_rss),
                mb(f.db_bytes)
            );
        }
        if let Some(r) = &self.render {
            let _ = writeln!(
                s,
                "\nrender: the default output ({} items) of {} articles, {} iterations per format, peak RSS {:.1} MiB",
                r.items,
                r.articles,
                r.iterations,
                mib(r.peak_rss)
            );
            let _ = writeln!(
                s,
                "{:<6} {:>10} {:>10} {:>8} {:>9} {:>10} {:>9}",
                "format", "first ms", "median ms", "max ms", "read ms", "render ms", "KB"
            );
            for f in &r.formats {
                let _ = writeln!(
                    s,
                    "{:<6} {:>10.2} {:>10.2} {:>8.2} {:>9.2} {:>10.2} {:>9.1}",
                    f.format,
                    f.first_ms,
                    f.median_ms,
                    f.max_ms,
                    f.query_ms,
                    f.render_ms,
                    f.bytes as f64 / 1e3
                );
            }
        }
        if let Some(r) = &self.render {
            let c = &r.conditional;
            let _ = writeln!(
                s,
                "\noutput server, GET /feed.atom: first {:.2} ms; then {} conditional requests, {} answered 304, median {:.3} ms, p99 {:.3} ms",
                c.first_ms, c.requests, c.not_modified, c.median_ms, c.p99_ms
            );
        }
        if let Some(x) = &self.extract {
            let _ = writeln!(s, "\n{x}");
        }
        self.against_floor(&mut s);
        let _ = writeln!(s, "\ntargets (set for 1000 x 50 on 2 cores):");
        if (p.feeds, p.entries) != (1000, 50) {
            let _ = writeln!(
                s,
                "  (this run is {} x {}: the phase targets do not apply as such)",
                p.feeds, p.entries
            );
        }
        if let Some(cold) = self.cold() {
            let k = &cold.cost;
            let _ = writeln!(
                s,
                "  {:<10} wall/CPU {:.2} <= {COLD_WALL_PER_CPU} {}; RSS {:.1} <= {RSS_TARGET_MIB} MiB {}",
                "cold",
                k.wall_s / k.cpu_s().max(1e-9),
                verdict(k.wall_s <= COLD_WALL_PER_CPU * k.cpu_s()),
                mib(k.peak_rss),
                verdict(mib(k.peak_rss) <= RSS_TARGET_MIB)
            );
            if let Some(f) = &self.floor {
                let ratio = k.cpu_s() / f.total_cpu_s().max(1e-9);
                let _ = writeln!(
                    s,
                    "  {:<10} CPU/floor {ratio:.2} <= {COLD_CPU_PER_FLOOR} {}",
                    "cold",
                    verdict(ratio <= COLD_CPU_PER_FLOOR)
                );
            }
        }
        for r in &self.phases {
            if let Some((cpu, wall)) = target(r.phase) {
                let k = &r.cost;
                let _ = writeln!(
                    s,
                    "  {:<10} CPU {:.2} <= {cpu} s {}; wall {:.2} <= {wall} s {}; RSS {:.1} <= {RSS_TARGET_MIB} MiB {}",
                    r.phase,
                    k.cpu_s(),
                    verdict(k.cpu_s() <= cpu),
                    k.wall_s,
                    verdict(k.wall_s <= wall),
                    mib(k.peak_rss),
                    verdict(mib(k.peak_rss) <= RSS_TARGET_MIB)
                );
            }
        }
        if let Some(r) = &self.render {
            if let Some(atom) = r.formats.first() {
                let _ = writeln!(
                    s,
                    "  render     median {:.2} <= {RENDER_TARGET_MS} ms {} (first {:.2} ms {}); RSS {:.1} <= {RSS_TARGET_MIB} MiB {}",
                    atom.median_ms,
                    verdict(atom.median_ms <= RENDER_TARGET_MS),
                    atom.first_ms,
                    verdict(atom.first_ms <= RENDER_TARGET_MS),
                    mib(r.peak_rss),
                    verdict(mib(r.peak_rss) <= RSS_TARGET_MIB)
                );
            }
            let c = &r.conditional;
            let _ = writeln!(
                s,
                "  304        median {:.3} <= {CONDITIONAL_TARGET_MS} ms {}",
                c.median_ms,
                verdict(c.not_modified == c.requests && c.median_ms <= CONDITIONAL_TARGET_MS)
            );
        }
        s
    }
}
