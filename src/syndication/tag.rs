//! Stable ids for published channels and items: `tag:` URIs (RFC 4151).
//!
//! A tag URI names something through an authority the operator controls
//! (a domain or an email address) and a date on which they controlled it,
//! so ids stay unique and valid even if the feed moves to another URL, which
//! URL-based ids would not. Ids look like
//! `tag:example.org,2026:item/123` and `tag:example.org,2026:channel/tech`.

use std::fmt::Write as _;

/// Why a tagging entity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTag {
    /// The authority is neither a domain name nor an email address.
    #[error("tag authority must be a domain name or an email address, not {0:?}")]
    Authority(String),
    /// The date is not `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[error("tag date must be YYYY, YYYY-MM or YYYY-MM-DD, not {0:?}")]
    Date(String),
}

/// Mints ids under one tagging entity (`authority,date`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagUri {
    /// `tag:authority,date:`, ready for a specific part to be appended.
    prefix: String,
}

impl TagUri {
    /// A minter for `authority` (e.g. `example.org`) and `date` (e.g.
    /// `2026`), which must never change once ids have been published.
    pub fn new(authority: &str, date: &str) -> Result<TagUri, InvalidTag> {
        let authority = authority.trim().to_ascii_lowercase();
        let date = date.trim();
        if !is_authority(&authority) {
            return Err(InvalidTag::Authority(authority));
        }
        if !is_date(date) {
            return Err(InvalidTag::Date(date.to_owned()));
        }
        Ok(TagUri {
            prefix: format!("tag:{authority},{date}:"),
        })
    }

    /// The id of the item numbered `number` (a stable store key, such as a
    /// story's row id).
    pub fn item(&self, number: i64) -> String {
        let mut id = self.prefix.clone();
        let _ = write!(id, "item/{number}");
        id
    }

    /// The id of digest number `number` (its row id).
    pub fn digest(&self, number: i64) -> String {
        let mut id = self.prefix.clone();
        let _ = write!(id, "digest/{number}");
        id
    }

    /// The id of the subscribed feed called `name` (its configured name),
    /// for an item's source when the feed's own URL may not be published.
    pub fn source(&self, name: &str) -> String {
        self.named("feed/", name)
    }

    /// The id of the channel called `name` (its stable configured name);
    /// characters a tag URI cannot hold are percent-encoded.
    pub fn channel(&self, name: &str) -> String {
        self.named("channel/", name)
    }

    fn named(&self, kind: &str, name: &str) -> String {
        let mut id = self.prefix.clone();
        id.push_str(kind);
        for &b in name.as_bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
                id.push(char::from(b));
            } else {
                let _ = write!(id, "%{b:02X}");
            }
        }
        id
    }
}

/// RFC 4151 `authorityName`: a DNS name, or `local@DNSname` with a local
/// part of alphanumerics, `-`, `.` and `_`.
fn is_authority(authority: &str) -> bool {
    match authority.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
                && is_dns_name(domain)
        }
        None => is_dns_name(authority),
    }
}

/// Dot-separated labels of alphanumerics and inner hyphens.
fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= 63
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes[0] != b'-'
                && bytes[bytes.len() - 1] != b'-'
        })
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with a real month and day range.
fn is_date(date: &str) -> bool {
    let parts: Vec<&str> = date.split('-').collect();
    let number = |part: &str, width: usize, range: std::ops::RangeInclusive<u32>| {
        part.len() == width
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse().is_ok_and(|n| range.contains(&n))
    };
    match parts.as_slice() {
        [y] => number(y, 4, 0..=9999),
        [y, m] => number(y, 4, 0..=9999) && number(m, 2, 1..=12),
        [y, m, d] => number(y, 4, 0..=9999) && number(m, 2, 1..=12) && number(d, 2, 1..=31),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mints_item_and_channel_ids() {
        let tag = TagUri::new("Example.org", "2026").unwrap();
        assert_eq!(tag.item(123), "tag:example.org,2026:item/123");
        assert_eq!(tag.channel("tech"), "tag:example.org,2026:channel/tech");
        assert_eq!(
            tag.channel("a b/é"),
            "tag:example.org,2026:channel/a%20b/%C3%A9"
        );
        let tag = TagUri::new("ann@example.org", "2026-01-15").unwrap();
        assert_eq!(tag.item(-1), "tag:ann@example.org,2026-01-15:item/-1");
    }

    #[test]
    fn refuses_bad_entities() {
        for authority in [
            "",
            "exa mple.org",
            "-bad.org",
            "a..b",
            "@example.org",
            "http://x",
        ] {
            assert!(
                matches!(
                    TagUri::new(authority, "2026"),
                    Err(InvalidTag::Authority(_))
                ),
                "{authority:?}"
            );
        }
        for date in [
            "",
            "26",
            "2026-13",
            "2026-1",
            "2026-01-32",
            "2026/01",
            "2026-01-01-01",
        ] {
            assert!(
                matches!(TagUri::new("example.org", date), Err(InvalidTag::Date(_))),
                "{date:?}"
            );
        }
    }
}
