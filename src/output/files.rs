//! The static copy of the site: every output in every format and the index
//! page, written into a folder any web server can publish.
//!
//! Each file is replaced atomically: the new bytes go to a temporary file
//! in the same folder, which is flushed to disk and then renamed over the
//! old one, so a web server never serves half a document and a crash
//! leaves the old one. A file whose bytes did not change is not touched
//! (its modification time stays, so conditional requests to the web server
//! keep answering 304).
//!
//! Files of outputs removed from the config are left in place.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Site;
use crate::store::{self, Store};

/// What [`write_static`] did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// False when the file already held these bytes and was left alone.
    pub changed: bool,
}

/// Why the static copy could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

/// Renders every document of `site` from `store` into `out_dir` (created if
/// missing), replacing changed files atomically and leaving the others.
pub fn write_static(
    site: &Site,
    store: &Store,
    out_dir: &Path,
) -> Result<Vec<Written>, WriteError> {
    let documents = site.files(store)?;
    let mut written = Vec::with_capacity(documents.len());
    for document in documents {
        let path = document
            .path
            .split('/')
            .fold(out_dir.to_path_buf(), |p, part| p.join(part));
        let changed = replace(&path, &document.bytes).map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(Written {
            path,
            bytes: document.bytes.len(),
            changed,
        });
    }
    Ok(written)
}

/// Makes the file at `path` hold `bytes`; false when it already did.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let same_size = fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64);
    if same_size && fs::read(path)? == bytes {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temporary = temporary_name(path);
    let result = write_synced(&temporary, bytes).and_then(|()| fs::rename(&temporary, path));
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result?;
    // Make the rename itself durable; not every platform can sync a folder.
    if let Ok(folder) = File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(true)
}

/// A name beside `path` that no other writer (another process, or another
/// call in this one) uses at the same time.
fn temporary_name(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_changed_files_and_leaves_equal_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/feed.atom");
        assert!(replace(&path, b"one").unwrap());
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!replace(&path, b"one").unwrap());
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
        assert!(replace(&path, b"two").unwrap());
        assert!(replace(&path, b"three").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"three");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["feed.atom"], "no temporary file is left");
    }
}
