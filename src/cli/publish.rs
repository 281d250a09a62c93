//! `tributary publish`: render every output and the index page into a folder.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::open_store;
use crate::config::Config;

/// Writes the static copy into `out` (or `[server] out_dir`).
pub(super) fn run(config: &Config, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
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
