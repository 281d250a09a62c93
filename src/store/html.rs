//! An article's HTML, stored compressed in the format the `sqlite3`
//! shell reads.
//!
//! Since the migration `PACKED_HTML` (see `schema::compact`),
//! `articles.content_html_zlib` holds the sanitized HTML of the feed's
//! content as SQLite archives ("sqlar") hold files: zlib-compressed
//! (RFC 1950), or the bytes themselves where compressing would not make
//! them smaller, with the HTML's length in bytes in
//! `articles.content_html_size`. The `sqlite3` shell (built with zlib, as
//! distributions and sqlite.org build it) has the function that reads it,
//! `sqlar_uncompress(data, size)`, and Tributary registers the same two
//! functions, with the same meaning, on its own connections
//! ([`register`]), so the views `article_html` and `article_text`, the
//! search index's triggers and Tributary's own queries read it the same
//! way in both.
//!
//! Compressing costs about a tenth of a cold import's CPU, so it is done
//! where documents are processed ([`PackedHtml::of`], carried to the
//! writer in the fetch's record), not on the one thread that writes; the
//! writer compresses only what did not come compressed (a second pass, a
//! bulk load).
//!
//! The bound: reading a value never makes more than its declared size
//! (a value that would inflate further is an error, not a larger
//! allocation), and a stored value is never larger than the HTML it
//! holds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

/// The article's HTML (for the article aliased `a`) as text, as a
/// string literal for statements put together with `concat!`.
macro_rules! html_sql {
    () => {
        "CAST(sqlar_uncompress(a.content_html_zlib, a.content_html_size) AS TEXT)"
    };
}
pub(super) use html_sql;

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

/// What `content_html_zlib` holds for `html`: its zlib stream, or its
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

/// The HTML of a document's entries, compressed ahead of the writer, by
/// entry key, each with its HTML's hash and length: the entries may be
/// filtered or processed again after it was made, and an HTML it does
/// not hold as it is (another entry's, a changed one) is compressed when
/// it is written. Keyed by entry, a document cannot have one entry
/// stored with another's HTML by making their hashes collide (xxh3 is
/// not made to resist that).
#[derive(Debug, Clone, Default)]
pub struct PackedHtml(HashMap<String, ((u64, usize), Vec<u8>)>);

impl PackedHtml {
    /// The HTML of `entries`, compressed.
    pub fn of(entries: &[crate::model::Entry]) -> PackedHtml {
        let mut htmls = entries
            .iter()
            .filter_map(|e| Some((&e.key, e.content_html.as_deref()?)))
            .peekable();
        if htmls.peek().is_none() {
            return PackedHtml::default();
        }
        pooled(&DEFLATERS, deflater, |d| {
            PackedHtml(
                htmls
                    .map(|(k, h)| (k.clone(), (sum(h), pack_with(d, h.as_bytes()))))
                    .collect(),
            )
        })
    }

    /// What `content_html_zlib` holds for the HTML of the entry keyed
    /// `entry`: made ahead, or now.
    pub(super) fn get(&self, entry: &str, html: &str) -> Cow<'_, [u8]> {
        match self.0.get(entry).filter(|(made, _)| *made == sum(html)) {
            Some((_, packed)) => {
                debug_assert_eq!(
                    unpack(packed, html.len() as i64).as_deref(),
                    Ok(html.as_bytes())
                );
                Cow::Borrowed(packed)
            }
            None => Cow::Owned(pack(html.as_bytes())),
        }
    }

    /// How many HTMLs it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

fn sum(html: &str) -> (u64, usize) {
    (xxhash_rust::xxh3::xxh3_64(html.as_bytes()), html.len())
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
