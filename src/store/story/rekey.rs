//! What a migration needs to bring stored fingerprints and the band index
//! to the current [`FINGERPRINT_VERSION`](crate::dedup::story::FINGERPRINT_VERSION):
//! two SQL functions, registered on the migrating connection only (the
//! schema's views and triggers never call them).
//!
//! - `story_print_current(print)`: the print re-encoded in the current
//!   version and layout (a version 1 print, or one with its facts in the
//!   fixed layout of schema 21, reads back as exactly the current print of
//!   the same text, see `dedup::story`); a value that does not decode is
//!   returned as it came (it was unreadable before too).
//! - `story_index_keys(print)`: the print's index keys (band and fact
//!   keys, as `i64`) as a JSON array, `[]` when it does not decode, for
//!   `json_each` to turn into `story_bands` rows.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use crate::dedup::story::{index_keys, Fingerprint};

/// Registers `story_print_current` and `story_index_keys` on `conn`.
pub(in crate::store) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("story_print_current", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Blob(b) => match Fingerprint::from_bytes(b) {
                Ok(print) => Value::Blob(print.to_bytes()),
                Err(_) => Value::Blob(b.to_vec()),
            },
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        })
    })?;
    conn.create_scalar_function("story_index_keys", 1, flags, |ctx| {
        let keys: Vec<i64> = match ctx.get_raw(0) {
            ValueRef::Blob(b) => Fingerprint::from_bytes(b)
                .map(|print| index_keys(&print).map(i64::from).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(serde_json::to_string(&keys).expect("integers serialize"))
    })
}
