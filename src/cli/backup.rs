//! `tributary backup PATH [--force]`: a consistent copy of the database,
//! safe while the daemon runs.
//!
//! The copy is made with `VACUUM INTO` (one read transaction: a snapshot,
//! compacted) into a temporary file beside `PATH`, checked with `PRAGMA
//! integrity_check`, and only then renamed to `PATH`, so `PATH` is never a
//! half-written or broken copy. An existing `PATH` is replaced only with
//! `--force`. The copy is readable by its owner only, or also by the
//! group `[store] group` names, like the database (see
//! [`crate::private_files`]).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::open_store;
use crate::config::Config;
use crate::store::Store;

/// Writes the copy to `dest`.
pub(super) fn run(config: &Config, dest: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if dest.exists() && !force {
        bail!("{} exists; pass --force to replace it", dest.display());
    }
    if dest.is_dir() {
        bail!("{} is a directory; give a file name", dest.display());
    }
    let store = open_store(config)?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup.db".into());
    let tmp = dest.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> anyhow::Result<()> {
        // Created empty with its mode (`VACUUM INTO` writes into an empty
        // file as it finds it), so the copy is never readable by more
        // than the database is.
        config
            .store
            .access
            .create_new(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        store
            .vacuum_into(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        let copy = Store::open_read_only(&tmp)?;
        if !copy.integrity_ok()? {
            bail!(
                "the copy failed its integrity check; {} is left as it was",
                dest.display()
            );
        }
        drop(copy);
        std::fs::rename(&tmp, dest)
            .with_context(|| format!("renaming the copy to {}", dest.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    let bytes = std::fs::metadata(dest).map_or(0, |m| m.len());
    println!(
        "backed up {} to {} ({bytes} bytes, integrity ok)",
        config.store.path.display(),
        dest.display()
    );
    Ok(ExitCode::SUCCESS)
}
