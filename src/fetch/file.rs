//! `file://` feeds: regular files only, and at most `max_body` bytes.
//!
//! A FIFO, a device (`/dev/zero`, `/dev/urandom`) or a socket has no end
//! a reader can count on, so only regular files are read (symbolic links
//! are followed to what they name). The file is opened without blocking
//! (opening a FIFO with no writer would otherwise wait for one), its type
//! is checked on the open handle (so it cannot be swapped after the
//! check), and the read stops one byte past the cap, however the file
//! grows meanwhile.

use std::time::SystemTime;

use tokio::io::AsyncReadExt as _;

use super::{FetchError, Fetched, Request, ResponseMeta};
use crate::model::Validators;

pub(super) async fn fetch(req: &Request<'_>) -> Result<Fetched, FetchError> {
    let path = req
        .url
        .to_file_path()
        .map_err(|()| FetchError::Unsupported(req.url.to_string()))?;
    let file_err = |message: String| FetchError::File {
        path: path.display().to_string(),
        message,
    };
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true).custom_flags(libc::O_NONBLOCK);
    let file = options
        .open(&path)
        .await
        .map_err(|e| file_err(e.to_string()))?;
    let md = file.metadata().await.map_err(|e| file_err(e.to_string()))?;
    if !md.is_file() {
        return Err(file_err(format!(
            "not a regular file ({}); only regular files are read",
            kind(&md.file_type())
        )));
    }
    let mtime = md.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let nanos = mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let validators = Validators {
        etag: Some(format!("\"{nanos:x}-{:x}\"", md.len())),
        last_modified: None,
    };
    let meta = ResponseMeta {
        status: 0,
        validators: validators.clone(),
        final_url: Some(req.url.clone()),
        ..ResponseMeta::default()
    };
    if req.validators.etag.is_some() && req.validators.etag == validators.etag {
        return Ok(Fetched::NotModified { meta });
    }
    let too_large = FetchError::TooLarge {
        limit: req.max_body,
    };
    if md.len() > req.max_body {
        return Err(too_large);
    }
    let mut body = Vec::with_capacity(md.len() as usize);
    file.take(req.max_body.saturating_add(1))
        .read_to_end(&mut body)
        .await
        .map_err(|e| file_err(e.to_string()))?;
    if body.len() as u64 > req.max_body {
        return Err(too_large);
    }
    Ok(Fetched::Body {
        body,
        content_type: None,
        meta,
    })
}

fn kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use url::Url;

    use super::*;
    use crate::config::FeedHttp;

    async fn read(path: &std::path::Path, max_body: u64) -> Result<Fetched, FetchError> {
        let url = Url::from_file_path(path).unwrap();
        let validators = Validators::default();
        let http = FeedHttp::default();
        let req = Request {
            url: &url,
            configured: &url,
            validators: &validators,
            timeout: Duration::from_secs(5),
            max_body,
            user_agent: None,
            http: &http,
            min_gap: Duration::ZERO,
            truncate: false,
            hops: None,
        };
        // Generous: the point is that these end at all.
        tokio::time::timeout(Duration::from_secs(20), fetch(&req))
            .await
            .expect("a file read ends")
    }

    #[tokio::test]
    async fn fifos_and_devices_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("feed.fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for (path, what) in [
            (fifo.as_path(), "a FIFO"),
            (std::path::Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a directory"),
        ] {
            match read(path, 1 << 20).await {
                Err(FetchError::File { message, .. }) => {
                    assert!(message.contains(what), "{path:?}: {message}")
                }
                other => panic!("{path:?}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn files_over_the_cap_are_refused_and_at_the_cap_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.xml");
        std::fs::write(&path, vec![b'a'; 4097]).unwrap();
        assert!(matches!(
            read(&path, 4096).await,
            Err(FetchError::TooLarge { limit: 4096 })
        ));
        match read(&path, 4097).await {
            Ok(Fetched::Body { body, .. }) => assert_eq!(body.len(), 4097),
            other => panic!("{other:?}"),
        }
        // A link to a regular file is read as the file.
        let link = dir.path().join("link.xml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(read(&link, 4097).await, Ok(Fetched::Body { .. })));
        // A link to a device is refused like the device.
        let dev = dir.path().join("zero.xml");
        std::os::unix::fs::symlink("/dev/zero", &dev).unwrap();
        assert!(matches!(
            read(&dev, 1 << 30).await,
            Err(FetchError::File { .. })
        ));
    }
}
