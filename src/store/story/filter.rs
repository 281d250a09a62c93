//! A filter in memory over the keys of the table tier (`story_bands`): a
//! lookup of a key the filter has never seen needs no seek in the table.
//!
//! Most band keys belong to one article alone, so most of the 20–25
//! lookups per new article find nothing in the table; each cost a seek in
//! a B-tree several times the page cache, and more as the store grew. The
//! filter answers those in memory, so that a new article's cost stays flat
//! as the window fills.
//!
//! It is a Bloom filter in 64-bit blocks: a key sets [`BITS_PER_KEY`] bits
//! of one word. It never says "absent" of a key it was given (no false
//! negatives), so the table is asked whenever the key may be there and a
//! survey finds exactly what a survey without the filter finds; a false
//! "maybe" (under 1 % at [`BITS_PER_WORD_KEY`] bits per key) only costs the
//! seek it would have cost anyway.
//!
//! # Bound
//!
//! At most [`MAX_BYTES`] (4 MiB): it starts at [`MIN_BYTES`] and doubles,
//! rebuilt from the table, while it holds more keys than
//! `bytes * 8 / BITS_PER_WORD_KEY`; past the bound it stays at 4 MiB and
//! only says "maybe" more often (a few per cent at 4.4 million keys, the
//! window of 10,000 feeds × 20 entries).
//!
//! # What it holds, and when it is trusted
//!
//! Every key of the table, and perhaps others (keys of rows since pruned,
//! or rolled back). Rows enter the table in three ways, each tracked:
//! - the recent tier's flushes in this process add their keys here;
//! - an extraction's re-placement (`restory`) in this process adds its keys
//!   here;
//! - another connection's commit (another process's flush or
//!   re-placement, the retention job's connection) is seen through
//!   `PRAGMA data_version`: the filter is then *stale*, not used, until it
//!   is rebuilt from the table, at the next prune of the index (hourly) or
//!   growth.
//!
//! A failed transaction drops it (a rebuild inside it may have read rows
//! the rollback brought back). It is built from the table (a scan of
//! `story_bands`) only once a process has looked up [`BUILD_AFTER`] keys:
//! a `tributary fetch` of a few new articles does not pay a scan for a
//! few seeks.

use rusqlite::Transaction;

use crate::store::Result;

/// Bits one key sets in its word.
pub const BITS_PER_KEY: u32 = 4;
/// Bits of filter per key it is sized for (one false "maybe" in about a
/// hundred lookups of absent keys).
pub const BITS_PER_WORD_KEY: usize = 16;
/// The smallest filter, in bytes.
pub const MIN_BYTES: usize = 64 * 1024;
/// The largest filter, in bytes: the bound on its memory.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Keys a process looks up in the table before the filter is built.
pub const BUILD_AFTER: u64 = 32 * 1024;

/// The filter (see the module docs).
#[derive(Debug)]
pub(in crate::store) struct KeyFilter {
    /// The bits; a power of two of words.
    words: Vec<u64>,
    /// Keys added since it was built (with repeats).
    keys: usize,
    /// `PRAGMA data_version` when it was last known complete.
    version: i64,
    /// Another connection has committed since: not to be used.
    stale: bool,
}

impl KeyFilter {
    /// A filter holding every key of `story_bands`, sized for them and
    /// `more` to come.
    pub(in crate::store) fn build(tx: &Transaction<'_>, more: usize) -> Result<KeyFilter> {
        let rows: i64 = tx
            .prepare_cached("SELECT count(*) FROM story_bands")?
            .query_row([], |r| r.get(0))?;
        let want = (usize::try_from(rows).unwrap_or(0).saturating_add(more))
            .saturating_mul(BITS_PER_WORD_KEY / 8);
        let bytes = want.clamp(MIN_BYTES, MAX_BYTES).next_power_of_two();
        let mut filter = KeyFilter {
            words: vec![0; bytes / 8],
            keys: 0,
            version: data_version(tx)?,
            stale: false,
        };
        let mut st = tx.prepare_cached("SELECT band_key FROM story_bands")?;
        let mut keys = st.query([])?;
        while let Some(r) = keys.next()? {
            filter.add(r.get(0)?);
        }
        Ok(filter)
    }

    /// Adds `key`.
    pub(in crate::store) fn add(&mut self, key: i64) {
        let (word, bits) = self.place(key);
        self.words[word] |= bits;
        self.keys += 1;
    }

    /// Whether `key` may be in the table: `false` only for a key never
    /// added (or when the filter is stale, never).
    pub(in crate::store) fn may_contain(&self, key: i64) -> bool {
        if self.stale {
            return true;
        }
        let (word, bits) = self.place(key);
        self.words[word] & bits == bits
    }

    /// Whether it holds more keys than it was sized for, and may grow.
    pub(in crate::store) fn crowded(&self) -> bool {
        self.bytes() < MAX_BYTES && self.keys * BITS_PER_WORD_KEY > self.bytes() * 8
    }

    /// Whether it may not be used (see the module docs).
    pub(in crate::store) fn stale(&self) -> bool {
        self.stale
    }

    /// Its size in bytes.
    pub(in crate::store) fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    /// Notes another connection's commits, read at the start of a write
    /// transaction: the filter is stale when there were any.
    pub(in crate::store) fn check(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if data_version(tx)? != self.version {
            self.stale = true;
        }
        Ok(())
    }

    /// The word of `key` and the bits it sets there.
    fn place(&self, key: i64) -> (usize, u64) {
        let h = mix(key as u64);
        let word = (h as usize) & (self.words.len() - 1);
        let mut bits = 0u64;
        for i in 0..BITS_PER_KEY {
            bits |= 1 << ((h >> (40 + 6 * i)) & 63);
        }
        (word, bits)
    }
}

/// SQLite's count of other connections' commits, as this one sees it.
fn data_version(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.pragma_query_value(None, "data_version", |r| r.get(0))?)
}

/// SplitMix64's finalizer: a key's low 27 bits are already a hash, but its
/// top five are the band number, and as an `i64` (sign-extended) its high
/// 32 bits are all zeros or all ones. Every bit of the result depends on
/// every bit of the key, so the word and the bits a key picks are spread
/// all the same.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
