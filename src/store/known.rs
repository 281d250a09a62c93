//! What the store tells a re-fetch it may skip: the known entries' hashes
//! and the feed's identity mode.

use rusqlite::OptionalExtension;

use super::{Result, Store};
use crate::model::{FeedId, IdentityMode, KnownEntries, KnownItem};

impl Store {
    /// What a re-fetch of the feed may skip: its stored entries' raw and
    /// item hashes, and the site address they were cleaned against (see
    /// `refresh::process_with`).
    pub fn known_entries(&self, feed: FeedId) -> Result<KnownEntries> {
        let mut known = KnownEntries {
            site_url: self
                .conn
                .prepare_cached("SELECT site_url FROM feeds WHERE id = ?1")?
                .query_row([feed.0], |r| r.get(0))
                .optional()?
                .flatten(),
            ..KnownEntries::default()
        };
        let mut st = self.conn.prepare_cached(
            "SELECT raw_hash, content_hash, item_hash, entry_key, guid, url FROM entries
             WHERE feed_id = ?1 AND (raw_hash IS NOT NULL OR item_hash IS NOT NULL)",
        )?;
        let mut rows = st.query([feed.0])?;
        while let Some(r) = rows.next()? {
            let raw: Option<i64> = r.get(0)?;
            let hash: String = r.get(1)?;
            if let (Some(raw), Ok(hash)) = (raw, u64::from_str_radix(&hash, 16)) {
                known.by_raw.insert(raw as u64, hash);
            }
            if let Some(item) = r.get::<_, Option<i64>>(2)? {
                known.by_item.insert(
                    item as u64,
                    KnownItem {
                        key: r.get(3)?,
                        guid: r.get(4)?,
                        url: r.get(5)?,
                    },
                );
            }
        }
        super::rules::known_dropped(&self.conn, feed, &mut known)?;
        Ok(known)
    }

    /// The identity mode stored for a feed (for key assignment).
    pub fn identity_mode(&self, feed: FeedId) -> Result<IdentityMode> {
        let s: String = self.conn.query_row(
            "SELECT identity_mode FROM feeds WHERE id = ?1",
            [feed.0],
            |r| r.get(0),
        )?;
        Ok(IdentityMode::from_stored(&s))
    }
}
