//! Files that may hold secrets or other people's reading habits: the
//! database (and its `-wal`/`-shm`), its backups, and a config rewritten by
//! `add`, `remove` or `import-opml`. They are created readable by their
//! owner only (`0600`), or also by the group the operator names in
//! `[store] group` (`0640`, that group), whatever the umask: the mode is
//! given when the file is created, before a byte is written, and set again
//! explicitly (a umask can only take bits away, and a later `chmod` would
//! leave a window in which the content was readable).

use std::ffi::CString;
use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Who may read a private file: its owner, and a group if one is named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    group: Option<u32>,
}

impl Access {
    /// Readable and writable by the owner only (`0600`).
    pub const OWNER: Access = Access { group: None };

    /// Also readable by the group `gid` (`0640`).
    pub fn group(gid: u32) -> Access {
        Access { group: Some(gid) }
    }

    /// The group that may read, if any.
    pub fn gid(self) -> Option<u32> {
        self.group
    }

    /// The permission bits these files get.
    pub fn mode(self) -> u32 {
        if self.group.is_some() {
            0o640
        } else {
            0o600
        }
    }

    /// Creates `path`, which must not exist, with this access; nothing has
    /// been written to it yet.
    pub fn create_new(self, path: &Path) -> io::Result<File> {
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        self.apply(&f)?;
        Ok(f)
    }

    /// Gives the existing file at `path` exactly this access (its group
    /// and mode); a missing file is left missing.
    pub fn enforce(self, path: &Path) -> io::Result<()> {
        let md = match std::fs::metadata(path) {
            Ok(md) => md,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(gid) = self.group.filter(|&g| g != md.gid()) {
            std::os::unix::fs::chown(path, None, Some(gid))?;
        }
        if md.mode() & 0o7777 != self.mode() {
            std::fs::set_permissions(path, Permissions::from_mode(self.mode()))?;
        }
        Ok(())
    }

    fn apply(self, f: &File) -> io::Result<()> {
        if let Some(gid) = self.group {
            std::os::unix::fs::fchown(f, None, Some(gid))?;
        }
        f.set_permissions(Permissions::from_mode(self.mode()))
    }
}

/// The numeric id of the group named `name` (or written as a number).
pub fn group_id(name: &str) -> Option<u32> {
    if let Ok(gid) = name.parse::<u32>() {
        return Some(gid);
    }
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 1 << 14];
    loop {
        // SAFETY: `libc::group` is plain data (integers and raw pointers),
        // for which all-zero bytes are a valid value.
        let mut group: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: `group` and `buf` outlive the call, `result` is written
        // only by it, and the strings it points into are not read after.
        let rc = unsafe {
            libc::getgrnam_r(
                cname.as_ptr(),
                &mut group,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        return (rc == 0 && !result.is_null()).then_some(group.gr_gid);
    }
}

/// Creates `tmp` (which must not exist) readable by the owner only, gives
/// it the owner and group of `original` where that is allowed, and the
/// original's mode without the bits for others when `secret` (the content
/// holds secrets), or the original's mode as it is otherwise; then writes
/// `content` and syncs. The content is never readable by anyone the final
/// file would not let read it.
pub fn write_replacement(
    tmp: &Path,
    original: Option<&std::fs::Metadata>,
    secret: bool,
    content: &[u8],
) -> io::Result<File> {
    use std::io::Write;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    let mine = f.metadata()?;
    let mode = match original {
        Some(md) => {
            // Only root can give a file away; a group we are not in cannot
            // be given either: then the group bits go too, so as not to
            // grant our own group what the original's group had.
            let owned = std::os::unix::fs::fchown(&f, Some(md.uid()), Some(md.gid())).is_ok()
                || (md.uid() == mine.uid() && md.gid() == mine.gid());
            let mut mode = md.mode() & 0o7777;
            if secret {
                mode &= !0o007;
            }
            if !owned && md.gid() != mine.gid() {
                mode &= !0o070;
            }
            mode
        }
        None => 0o600,
    };
    f.set_permissions(Permissions::from_mode(mode))?;
    f.write_all(content)?;
    f.sync_all()?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn created_and_enforced_modes_ignore_what_the_file_had() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        Access::OWNER.create_new(&p).unwrap();
        assert_eq!(mode(&p), 0o600);
        assert!(Access::OWNER.create_new(&p).is_err(), "must not exist");
        std::fs::set_permissions(&p, Permissions::from_mode(0o666)).unwrap();
        Access::OWNER.enforce(&p).unwrap();
        assert_eq!(mode(&p), 0o600);
        let gid = std::fs::metadata(&p).unwrap().gid();
        Access::group(gid).enforce(&p).unwrap();
        assert_eq!(mode(&p), 0o640);
        Access::OWNER.enforce(&dir.path().join("missing")).unwrap();
    }

    #[test]
    fn replacements_keep_the_original_mode_and_drop_others_for_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let orig = dir.path().join("orig");
        std::fs::write(&orig, "x").unwrap();
        for (had, secret, want) in [
            (0o644, false, 0o644),
            (0o644, true, 0o640),
            (0o600, true, 0o600),
            (0o600, false, 0o600),
            (0o660, true, 0o660),
        ] {
            std::fs::set_permissions(&orig, Permissions::from_mode(had)).unwrap();
            let md = std::fs::metadata(&orig).unwrap();
            let tmp = dir.path().join(format!("t{had:o}{secret}"));
            write_replacement(&tmp, Some(&md), secret, b"s3cret").unwrap();
            assert_eq!(mode(&tmp), want, "{had:o} secret={secret}");
            assert_eq!(std::fs::read(&tmp).unwrap(), b"s3cret");
        }
        let fresh = dir.path().join("fresh");
        write_replacement(&fresh, None, false, b"").unwrap();
        assert_eq!(mode(&fresh), 0o600);
    }

    #[test]
    fn groups_by_name_or_number() {
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(group_id("4242"), Some(4242));
        assert_eq!(group_id("no-such-group-tributary"), None);
    }
}
