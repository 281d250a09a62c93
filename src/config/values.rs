//! The config's values read from their TOML spans: durations, sizes,
//! counts, URLs and paths, each refused with the file, line and column it
//! came from ([`Locator`]).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use url::Url;

use super::{ConfigError, Size};

/// Turns byte offsets into file:line:column errors.
///
/// Spans count in the text that was deserialized, which is not always the
/// file (see `config::tables`): a feed's table alone, from `offset` in
/// the file, or the file with the feed tables (`cuts`) taken out.
pub(super) struct Locator<'a> {
    /// The whole file.
    pub(super) text: &'a str,
    pub(super) path: &'a Path,
    /// Where the deserialized piece starts in `text`.
    pub(super) offset: usize,
    /// The ranges of `text` taken out of the deserialized text, in order.
    pub(super) cuts: &'a [Range<usize>],
}

impl Locator<'_> {
    /// The place in the file of `pos` in the deserialized text.
    fn in_file(&self, pos: usize) -> usize {
        let mut at = self.offset + pos;
        for cut in self.cuts {
            if cut.start > at {
                break;
            }
            at += cut.len();
        }
        at
    }

    /// Line and column of `pos` in the deserialized text.
    pub(super) fn line_col(&self, pos: usize) -> (usize, usize) {
        self.file_line_col(self.in_file(pos))
    }

    /// Line and column of `offset` in the file.
    pub(super) fn file_line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// The same file, with spans counted from `offset` in it.
    pub(super) fn at(&self, offset: usize) -> Locator<'_> {
        Locator {
            text: self.text,
            path: self.path,
            offset,
            cuts: &[],
        }
    }

    /// Where `pos` of the deserialized text is in the file.
    pub(super) fn file_offset(&self, pos: usize) -> usize {
        self.in_file(pos)
    }

    pub(super) fn error(&self, span: Range<usize>, message: &str) -> ConfigError {
        let (line, column) = self.line_col(span.start);
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.replace('\n', " "),
        }
    }

    pub(super) fn base_dir(&self) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        lexical_clean(&std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()))
    }
}

/// Folds `.` and `..` components without touching the file system, so
/// resolved paths print the way people expect.
pub(super) fn lexical_clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

pub(super) fn non_empty(
    at: &Locator<'_>,
    v: &Spanned<String>,
    key: &str,
) -> Result<String, ConfigError> {
    let s = v.get_ref().trim();
    if s.is_empty() {
        return Err(at.error(v.span(), &format!("{key} is empty")));
    }
    Ok(s.to_string())
}

pub(super) fn duration(at: &Locator<'_>, v: &Spanned<String>) -> Result<Duration, ConfigError> {
    match humantime::parse_duration(v.get_ref()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(at.error(v.span(), "duration must be longer than zero")),
        Err(e) => Err(at.error(
            v.span(),
            &format!(
                "invalid duration `{}`: {e} (write e.g. \"30s\", \"5m\", \"1h 30m\")",
                v.get_ref()
            ),
        )),
    }
}

/// A configured span as people write it: whole days as days ("90 days",
/// not humantime's "2months 29days 2h 1m 12s"), whole hours as hours, and
/// anything else as humantime writes it.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match (s % 86_400, s % 3_600, d.subsec_nanos()) {
        (0, _, 0) if s == 86_400 => "1 day".into(),
        (0, _, 0) => format!("{} days", s / 86_400),
        (_, 0, 0) => format!("{}h", s / 3_600),
        _ => humantime::format_duration(d).to_string(),
    }
}

pub(super) fn count(
    at: &Locator<'_>,
    v: &Spanned<i64>,
    min: i64,
    max: i64,
) -> Result<usize, ConfigError> {
    let n = *v.get_ref();
    if n < min || n > max {
        return Err(at.error(v.span(), &format!("{n} is out of range {min}..={max}")));
    }
    Ok(n as usize)
}

pub(super) fn size(at: &Locator<'_>, v: &Spanned<Size>) -> Result<u64, ConfigError> {
    let bad = |why: &str| at.error(v.span(), why);
    let n = match v.get_ref() {
        Size::Bytes(n) if *n > 0 => *n as u64,
        Size::Bytes(_) => return Err(bad("size must be more than zero bytes")),
        Size::Text(s) => parse_size(s).ok_or_else(|| {
            bad(&format!(
                "invalid size `{s}` (write bytes as a number, or e.g. \"512 KiB\", \"16 MiB\")"
            ))
        })?,
    };
    Ok(n)
}

/// Parses `"16 MiB"`, `"500KB"`, `"1048576"`; binary and decimal units.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = num * mult;
    (bytes >= 1.0 && bytes.is_finite()).then_some(bytes as u64)
}

pub(super) fn feed_url(
    at: &Locator<'_>,
    v: &Spanned<String>,
    base: &Path,
) -> Result<Url, ConfigError> {
    let raw = v.get_ref().trim();
    if raw.is_empty() {
        return Err(at.error(v.span(), "feed url is empty"));
    }
    let looks_like_url = raw.contains("://");
    if looks_like_url {
        let url = Url::parse(raw)
            .map_err(|e| at.error(v.span(), &format!("invalid feed url `{raw}`: {e}")))?;
        return match url.scheme() {
            "http" | "https" if url.host_str().is_some() => Ok(url),
            "http" | "https" => Err(at.error(v.span(), &format!("feed url `{raw}` has no host"))),
            "file" => Ok(url),
            other => Err(at.error(
                v.span(),
                &format!(
                    "unsupported url scheme `{other}` in `{raw}` (use http, https, file or a path)"
                ),
            )),
        };
    }
    let path = lexical_clean(&base.join(raw));
    Url::from_file_path(&path).map_err(|()| {
        at.error(
            v.span(),
            &format!("cannot turn path `{raw}` into a file url"),
        )
    })
}
