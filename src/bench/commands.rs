//! `tributary-bench --commands`: the phases as the commands a user runs.
//!
//! The in-process phases ([`super::phase`]) build their feed list from a
//! file and skip the config; this mode writes a real config with one
//! `[[feeds]]` table per corpus feed (pointing at the loopback server) and
//! runs the `tributary` binary itself: `check`, then `fetch` cold,
//! unchanged (every feed answers `304`) and updated (5 % of the feeds got 3
//! new entries), `--rounds` times the last two. Each command's wall and
//! CPU time (user + system) and peak resident set are what `/usr/bin/time`
//! reports for it, so start-up and config loading count. `--wrap` runs each command under a profiler.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use super::corpus::{Corpus, Params};
use super::server::CorpusServer;
use super::Cli;

/// What one command cost, as `/usr/bin/time` reported it.
#[derive(Debug, Clone, Default)]
pub struct CommandCost {
    /// The phase: `check`, `cold`, `unchanged`, `updated`.
    pub phase: &'static str,
    /// Wall seconds.
    pub wall_s: f64,
    /// User CPU seconds.
    pub user_s: f64,
    /// System CPU seconds.
    pub sys_s: f64,
    /// Peak resident set, bytes.
    pub peak_rss: u64,
    /// The command's last line of output (`fetch`'s summary).
    pub summary: String,
}

/// `/usr/bin/time`, which reports a command's CPU time and peak RSS. The
/// bench cannot take them from its own `wait4`: a child's peak resident
/// set starts at its parent's (it is kept across `fork` and `exec`), and
/// this parent holds the whole corpus; `time` is a small process between.
pub const TIME: &str = "/usr/bin/time";

/// Runs `wrap exe args` under [`TIME`] and returns what it cost.
pub fn measure(
    phase: &'static str,
    wrap: &[String],
    exe: &Path,
    args: &[&str],
) -> anyhow::Result<CommandCost> {
    let report = std::env::temp_dir().join(format!("tributary-bench-time-{}", std::process::id()));
    let out = Command::new(TIME)
        .args(["-f", "%e %U %S %M", "-o"])
        .arg(&report)
        .args(wrap)
        .arg(exe)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {TIME} {}", exe.display()))?;
    let figures = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    if !out.status.success() {
        bail!(
            "`{} {}` failed ({})",
            exe.display(),
            args.join(" "),
            out.status
        );
    }
    // The last line: `time` puts a note about a failed command before it.
    let numbers: Vec<f64> = figures
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [wall_s, user_s, sys_s, max_kib] = numbers[..] else {
        bail!("{TIME} reported `{figures}`");
    };
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(CommandCost {
        phase,
        wall_s,
        user_s,
        sys_s,
        peak_rss: max_kib as u64 * 1024,
        summary: text.lines().last().unwrap_or_default().to_owned(),
    })
}

/// The config of the run: the store in `dir`, no pause between requests to
/// one host (the corpus' hosts are loopback ports), every corpus feed.
pub fn config_text(cli: &Cli, feeds: impl Iterator<Item = (String, String)>) -> String {
    let mut text = format!(
        "[store]\npath = \"tributary.db\"\n\n[fetch]\nconcurrency = {}\nper_host = {}\nhost_gap = \"0s\"\n\n[dedup]\nenabled = {}\n",
        cli.concurrency,
        cli.per_host,
        cli.dedup == super::Switch::On
    );
    for (name, url) in feeds {
        let _ = write!(text, "\n[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n");
    }
    text
}

/// The `tributary` binary: `--tributary`, else the one beside this binary.
fn tributary_exe(cli: &Cli) -> anyhow::Result<PathBuf> {
    if let Some(p) = &cli.tributary {
        return Ok(p.clone());
    }
    let me = std::env::current_exe().context("locating this binary")?;
    let exe = me.with_file_name("tributary");
    if !exe.is_file() {
        bail!(
            "no {} (build it with `cargo build --release`, or pass --tributary)",
            exe.display()
        );
    }
    Ok(exe)
}

/// Runs the command phases in `dir` and prints a table.
pub fn run(cli: &Cli, dir: &Path) -> anyhow::Result<()> {
    let exe = tributary_exe(cli)?;
    let mut corpus = Corpus::plan(Params::new(cli.seed, cli.feeds, cli.entries));
    let docs = super::render_all(&corpus, None);
    let hosts = cli.hosts.max(1);
    let list: Vec<(usize, String)> = docs.iter().map(|(i, p, _)| (*i, p.clone())).collect();
    let server = CorpusServer::start(docs.into_iter().map(|(_, p, d)| (p, d)).collect(), hosts)
        .context("starting the corpus server")?;
    let config = dir.join("tributary.toml");
    let text = config_text(
        cli,
        list.iter()
            .map(|(i, path)| (corpus.feeds[*i].id(), server.url(*i, path))),
    );
    std::fs::write(&config, &text)?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", dir.join("tributary.db").display()));
    }
    super::say(&format!(
        "config: {} feeds, {:.1} MB",
        list.len(),
        text.len() as f64 / 1e6
    ));
    let config_arg = config.display().to_string();
    let wrap = |phase: &str| -> Vec<String> {
        let words = cli.wrap.as_deref().unwrap_or_default();
        words
            .replace("{phase}", phase)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let mut rows = vec![measure(
        "check",
        &wrap("check"),
        &exe,
        &["--config", &config_arg, "check"],
    )?];
    let order = std::iter::once(("cold", 0))
        .chain((1..=cli.rounds).flat_map(|r| [("unchanged", r), ("updated", r)]));
    for (name, round) in order {
        if name == "updated" {
            let changed = corpus.update(round, 0.05, 3);
            for (_, path, doc) in super::render_all(&corpus, Some(&changed)) {
                server.replace(&path, doc);
            }
        }
        super::say(&format!("phase {name}…"));
        server.take_stats();
        let cost = measure(name, &wrap(name), &exe, &["--config", &config_arg, "fetch"])?;
        let traffic = server.take_stats();
        super::say(&format!(
            "phase {name}: {:.2} s CPU, {:.1} MiB; {} ({} × 200, {} × 304)",
            cost.user_s + cost.sys_s,
            cost.peak_rss as f64 / 1048576.0,
            cost.summary,
            traffic.ok,
            traffic.not_modified
        ));
        rows.push(cost);
    }
    print!("{}", table(cli, &rows));
    Ok(())
}

/// The figures as a markdown table.
pub fn table(cli: &Cli, rows: &[CommandCost]) -> String {
    let mut out = format!(
        "`tributary` commands, {} feeds × {} entries\n\n| command | wall s | CPU s (user+sys) | peak RSS MiB | output |\n|---|---:|---:|---:|---|\n",
        cli.feeds, cli.entries
    );
    for r in rows {
        let command = if r.phase == "check" {
            "check".to_owned()
        } else {
            format!("fetch, {}", r.phase)
        };
        let _ = writeln!(
            out,
            "| {command} | {:.2} | {:.2} ({:.2}+{:.2}) | {:.1} | {} |",
            r.wall_s,
            r.user_s + r.sys_s,
            r.user_s,
            r.sys_s,
            r.peak_rss as f64 / 1048576.0,
            r.summary
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_measured_as_a_child() {
        let sh = Path::new("/bin/sh");
        let cost = measure("check", &[], sh, &["-c", "echo one; echo two"]).unwrap();
        assert_eq!(cost.summary, "two");
        assert!(cost.peak_rss > 0);
        assert!(measure("check", &[], sh, &["-c", "exit 3"]).is_err());
        let env = ["env".to_owned()];
        let wrapped = measure("check", &env, sh, &["-c", "echo three"]).unwrap();
        assert_eq!(wrapped.summary, "three");
    }
}
