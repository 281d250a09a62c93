//! An article's HTML, and the texts stored with it, compressed in the
//! format the `sqlite3` shell reads.
//!
//! Since the migration `PACKED_TEXTS` (see `schema::compact`),
//! `articles.texts_zlib` holds three texts of the feed's entry one after
//! the other ([`Texts`]): the sanitized HTML of its content, the HTML of
//! its summary, and the excerpt of its plain text that `latest_articles`
//! shows (`store::text`). They are compressed together, as SQLite
//! archives ("sqlar") hold files: zlib (RFC 1950), or the bytes
//! themselves where compressing would not make them smaller, with their
//! length in bytes in `articles.texts_size`, and where each ends in
//! `content_html_size` and `summary_html_size` (NULL for a text the feed
//! did not give). A summary is most often the start of the content, and
//! the excerpt always is, so compressed together they cost a few bytes
//! where each stored apart cost its whole length.
//!
//! The `sqlite3` shell (built with zlib, as distributions and sqlite.org
//! build it) has the function that inflates them,
//! `sqlar_uncompress(data, size)`, and `substr` cuts the bytes; Tributary
//! registers the same two functions, with the same meaning, on its own
//! connections ([`register`]), so the views `article_html`,
//! `article_text` and `latest_articles`, the search index's triggers and
//! Tributary's own queries read them the same way in both.
//!
//! Compressing costs about a tenth of a cold import's CPU, so it is done
//! where documents are processed ([`PackedTexts::of`], carried to the
//! writer in the fetch's record), not on the one thread that writes; the
//! writer compresses only what did not come compressed (a second pass, a
//! bulk load).
//!
//! The bound: reading a value never makes more than its declared size
//! (a value that would inflate further is an error, not a larger
//! allocation), and a stored value is never longer than the texts it
//! holds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use crate::model::Entry;

/// The content's HTML of the article aliased `a`, as text (NULL where
/// the feed gave none), as a string literal for statements put together
/// with `concat!`. (`substr` of a BLOB of no bytes is NULL, not an empty
/// BLOB, hence the case of an empty text.)
macro_rules! html_sql {
    () => {
        "CASE a.content_html_size WHEN 0 THEN '' ELSE
         CAST(substr(sqlar_uncompress(a.texts_zlib, a.texts_size), 1, a.content_html_size) AS TEXT) END"
    };
}
pub(super) use html_sql;

/// The summary's HTML of the article aliased `a`, as text (NULL where the
/// feed gave none), as a string literal (see [`html_sql`]).
macro_rules! summary_sql {
    () => {
        "CASE a.summary_html_size WHEN 0 THEN '' ELSE
         CAST(substr(sqlar_uncompress(a.texts_zlib, a.texts_size),
                     coalesce(a.content_html_size, 0) + 1, a.summary_html_size) AS TEXT) END"
    };
}
pub(super) use summary_sql;

/// zlib's level 2: on the benchmark's articles it keeps nearly all of
/// level 6's ratio (2.36 × against 2.39 ×) at almost twice its speed;
/// level 1 switches to a faster matcher that gives up a quarter of it.
const LEVEL: u32 = 2;

/// Compressors and decompressors kept between uses, reset each time:
/// making a compressor allocates and clears about 300 KB of tables, which
/// costs more than compressing an article of a few kilobytes. One pool
/// for the process rather than one per thread, since documents are
/// processed on the blocking pool, whose threads come and go: it holds at
/// most as many as were ever in use at once.
static DEFLATERS: Mutex<Vec<Compress>> = Mutex::new(Vec::new());
static INFLATERS: Mutex<Vec<Decompress>> = Mutex::new(Vec::new());

/// Runs `f` with a compressor from `pool` (or a new one from `make`),
/// and gives it back.
fn pooled<Z, T>(pool: &Mutex<Vec<Z>>, make: impl FnOnce() -> Z, f: impl FnOnce(&mut Z) -> T) -> T {
    let taken = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut z = taken.unwrap_or_else(make);
    let out = f(&mut z);
    pool.lock().unwrap_or_else(PoisonError::into_inner).push(z);
    out
}

fn deflater() -> Compress {
    Compress::new(Compression::new(LEVEL), true)
}

/// What `texts_zlib` holds for `html` (any bytes): its zlib stream, or its
/// bytes where the stream would not be shorter (as `sqlar_compress`
/// decides). Never longer than `html`.
pub(super) fn pack(html: &[u8]) -> Vec<u8> {
    pooled(&DEFLATERS, deflater, |d| pack_with(d, html))
}

fn pack_with(d: &mut Compress, html: &[u8]) -> Vec<u8> {
    d.reset();
    // Room for a stream as long as the input: if it does not fit, it is
    // not worth keeping and the bytes are stored as they are.
    let mut out = Vec::with_capacity(html.len());
    match d.compress_vec(html, &mut out, FlushCompress::Finish) {
        Ok(Status::StreamEnd) if out.len() < html.len() => {
            // Held until the writer stores it: only its own bytes.
            out.shrink_to_fit();
            out
        }
        _ => html.to_vec(),
    }
}

/// An entry's texts as `articles.texts_zlib` holds them once inflated:
/// the content's HTML, the summary's HTML and the excerpt of its text
/// (`store::text::excerpt`), one after the other, and where the first two
/// end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Texts {
    bytes: Vec<u8>,
    content: Option<usize>,
    summary: Option<usize>,
}

impl Texts {
    /// The texts of `e`; `None` when it has neither content HTML nor a
    /// summary (the excerpt is there only with the content's HTML).
    pub(super) fn of(e: &Entry) -> Option<Texts> {
        let content = e.content_html.as_deref();
        let summary = e.summary_html.as_deref();
        if content.is_none() && summary.is_none() {
            return None;
        }
        let excerpt = super::text::excerpt(content, &e.content_text);
        let parts = [content, summary, excerpt.as_deref()];
        let mut bytes = Vec::with_capacity(parts.iter().flatten().map(|p| p.len()).sum());
        for part in parts.into_iter().flatten() {
            bytes.extend_from_slice(part.as_bytes());
        }
        Some(Texts {
            bytes,
            content: content.map(str::len),
            summary: summary.map(str::len),
        })
    }

    /// The bytes, inflated (`texts_size` is their length).
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `content_html_size`: the content's HTML's length in bytes.
    pub(super) fn content_size(&self) -> Option<usize> {
        self.content
    }

    /// `summary_html_size`: the summary's HTML's length in bytes.
    pub(super) fn summary_size(&self) -> Option<usize> {
        self.summary
    }
}

/// The texts of a document's entries ([`Texts`]), compressed ahead of the
/// writer, by entry key, each with its bytes' hash and length: the entries
/// may be filtered or processed again after it was made, and texts it
/// does not hold as they are (another entry's, changed ones) are
/// compressed when they are written. Keyed by entry, a document cannot
/// have one entry stored with another's texts by making their hashes
/// collide (xxh3 is not made to resist that).
#[derive(Debug, Clone, Default)]
pub struct PackedTexts(HashMap<String, ((u64, usize), Vec<u8>)>);

impl PackedTexts {
    /// The texts of `entries`, compressed.
    pub fn of(entries: &[Entry]) -> PackedTexts {
        let mut texts = entries
            .iter()
            .filter_map(|e| Some((&e.key, Texts::of(e)?)))
            .peekable();
        if texts.peek().is_none() {
            return PackedTexts::default();
        }
        pooled(&DEFLATERS, deflater, |d| {
            PackedTexts(
                texts
                    .map(|(k, t)| (k.clone(), (sum(t.bytes()), pack_with(d, t.bytes()))))
                    .collect(),
            )
        })
    }

    /// What `texts_zlib` holds for `texts` of the entry keyed `entry`:
    /// made ahead, or now.
    pub(super) fn get(&self, entry: &str, texts: &Texts) -> Cow<'_, [u8]> {
        let bytes = texts.bytes();
        match self.0.get(entry).filter(|(made, _)| *made == sum(bytes)) {
            Some((_, packed)) => {
                debug_assert_eq!(unpack(packed, bytes.len() as i64).as_deref(), Ok(bytes));
                Cow::Borrowed(packed)
            }
            None => Cow::Owned(pack(bytes)),
        }
    }

    /// How many entries' texts it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

fn sum(bytes: &[u8]) -> (u64, usize) {
    (xxhash_rust::xxh3::xxh3_64(bytes), bytes.len())
}

/// The columns [`stored_texts`] reads, for the article aliased `a`, in
/// its order.
pub(super) const STORED_TEXTS: &str =
    "a.texts_zlib, a.texts_size, a.content_html_size, a.summary_html_size";

/// The content's and the summary's HTML of a row that selected
/// [`STORED_TEXTS`] from column `first` on: inflated once and cut apart
/// in the program exactly as [`html_sql`] and [`summary_sql`] cut them in
/// SQL (which inflates once per column). A size that runs past the
/// stored bytes (a row edited by hand) is cut short, as `substr` cuts it,
/// rather than failing the whole read; a value that does not inflate, or
/// a part that is not UTF-8, is an error, as it is in SQL.
pub(super) fn stored_texts(
    r: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<(Option<String>, Option<String>)> {
    let data: Option<Vec<u8>> = r.get(first)?;
    let size: Option<i64> = r.get(first + 1)?;
    let content: Option<usize> = r.get(first + 2)?;
    let summary: Option<usize> = r.get(first + 3)?;
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(first, rusqlite::types::Type::Blob, e)
    };
    let bytes = match data {
        Some(data) => unpack(&data, size.unwrap_or(0)).map_err(|e| failed(Box::new(e)))?,
        None => Vec::new(),
    };
    let part = |from: usize, len: Option<usize>| -> rusqlite::Result<Option<String>> {
        match len {
            None => Ok(None),
            Some(0) => Ok(Some(String::new())),
            // `substr` of NULL, or of a BLOB of no bytes, is NULL.
            Some(_) if bytes.is_empty() => Ok(None),
            Some(len) => {
                let start = from.min(bytes.len());
                let end = from.saturating_add(len).min(bytes.len());
                String::from_utf8(bytes[start..end].to_vec())
                    .map(Some)
                    .map_err(|e| failed(Box::new(e)))
            }
        }
    };
    Ok((part(0, content)?, part(content.unwrap_or(0), summary)?))
}

/// Why a stored value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    #[error("the value is not a zlib stream: {0}")]
    Corrupt(String),
    #[error("the value inflates to more than its declared {0} bytes")]
    TooLong(usize),
    #[error("the value inflates to {got} bytes, not its declared {declared}")]
    WrongSize { got: usize, declared: usize },
}

/// The bytes `data` holds, given the `size` stored beside it: `data`
/// itself when `size` is not positive or is its length, else its zlib
/// stream inflated into at most `size` bytes (as `sqlar_uncompress`).
pub(super) fn unpack(data: &[u8], size: i64) -> Result<Vec<u8>, UnpackError> {
    let Ok(size) = usize::try_from(size) else {
        return Ok(data.to_vec());
    };
    if size == 0 || size == data.len() {
        return Ok(data.to_vec());
    }
    pooled(
        &INFLATERS,
        || Decompress::new(true),
        |d| {
            d.reset(true);
            // One byte more than declared, to tell a stream that would go on
            // from one that ends there; written into spare capacity only.
            let mut out = Vec::with_capacity(size.saturating_add(1));
            match d.decompress_vec(data, &mut out, FlushDecompress::Finish) {
                Ok(Status::StreamEnd) if out.len() == size => Ok(out),
                Ok(_) if out.len() > size => Err(UnpackError::TooLong(size)),
                Ok(Status::StreamEnd) => Err(UnpackError::WrongSize {
                    got: out.len(),
                    declared: size,
                }),
                Ok(_) => Err(UnpackError::Corrupt("the stream ends early".into())),
                Err(e) => Err(UnpackError::Corrupt(e.to_string())),
            }
        },
    )
}

/// Registers `sqlar_compress(X)` and `sqlar_uncompress(X, SZ)` as the
/// `sqlite3` shell defines them: the first compresses a BLOB (any other
/// value is returned as it is) and returns it unchanged where that would
/// not make it shorter; the second returns X when SZ is not positive or
/// is X's length in bytes, else X inflated (a BLOB of SZ bytes). Both
/// deterministic and innocuous.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("sqlar_compress", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Blob(b) => Value::Blob(pack(b)),
            other => owned(other),
        })
    })?;
    conn.create_scalar_function("sqlar_uncompress", 2, flags, |ctx| uncompress(ctx))
}

fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Integer(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

fn uncompress(ctx: &Context<'_>) -> rusqlite::Result<Value> {
    let size: i64 = match ctx.get_raw(1) {
        ValueRef::Integer(n) => n,
        ValueRef::Null => 0,
        _ => ctx.get(1)?,
    };
    let data = match ctx.get_raw(0) {
        ValueRef::Blob(b) => b,
        ValueRef::Text(t) => t,
        other => return Ok(owned(other)),
    };
    if size <= 0 || usize::try_from(size).is_ok_and(|s| s == data.len()) {
        return Ok(owned(ctx.get_raw(0)));
    }
    unpack(data, size)
        .map(Value::Blob)
        .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
}

#[cfg(test)]
mod tests;
