//! What a request asks of a cached document: gzip or not (`Accept-Encoding`)
//! and whether the client's copy is still current (`If-None-Match`,
//! `If-Modified-Since`), following RFC 9110.

use axum::http::header::{ACCEPT_ENCODING, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

/// Whether the client accepts a gzip-encoded response: `gzip` (or its old
/// alias `x-gzip`) listed with a non-zero weight, or `*` with a non-zero
/// weight and gzip not refused by name.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut named = None;
    let mut any = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for coding in value.split(',') {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            match name.as_str() {
                "gzip" | "x-gzip" => named = Some(weight > 0.0),
                "*" => any = Some(weight > 0.0),
                _ => {}
            }
        }
    }
    named.or(any).unwrap_or(false)
}

/// Whether the client's copy is current, so a 304 answers: when
/// `If-None-Match` is present it alone decides (weak comparison, `*`
/// matches); otherwise `If-Modified-Since` at or after `last_modified`.
pub fn not_modified(headers: &HeaderMap, etag: &str, last_modified: DateTime<Utc>) -> bool {
    let mut tags = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .peekable();
    if tags.peek().is_some() {
        let ours = opaque(etag);
        return tags
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || opaque(tag) == ours);
    }
    headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .is_some_and(|since| last_modified <= since)
}

/// An entity tag without its weak marker, for the weak comparison.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) as the `Last-Modified`
/// header writes it.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Reads the preferred HTTP date form (RFC 2822 with `GMT`); the obsolete
/// forms are not worth a dependency, and failing to read one only costs
/// the client a full response.
fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use chrono::TimeZone;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn gzip_negotiation() {
        let yes = [
            "gzip",
            "deflate, gzip;q=0.5",
            "br;q=1.0, GZIP",
            "*",
            "x-gzip",
            "identity, *;q=0.1",
        ];
        for value in yes {
            assert!(
                accepts_gzip(&headers(&[("accept-encoding", value)])),
                "{value}"
            );
        }
        let no = [
            "",
            "identity",
            "br",
            "gzip;q=0",
            "*, gzip;q=0",
            "gzip;q=0.000",
            "*;q=0",
        ];
        for value in no {
            assert!(
                !accepts_gzip(&headers(&[("accept-encoding", value)])),
                "{value}"
            );
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn conditional_requests() {
        let lm = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
        let etag = "\"abc\"";
        let check =
            |pairs: &[(&'static str, &'static str)]| not_modified(&headers(pairs), etag, lm);
        assert!(check(&[("if-none-match", "\"abc\"")]));
        assert!(check(&[("if-none-match", "\"x\", W/\"abc\"")]));
        assert!(check(&[("if-none-match", "*")]));
        assert!(!check(&[("if-none-match", "\"abd\"")]));
        assert!(!check(&[]));
        assert!(check(&[(
            "if-modified-since",
            "Fri, 20 Nov 2026 09:00:00 GMT"
        )]));
        assert!(check(&[(
            "if-modified-since",
            "Sat, 21 Nov 2026 00:00:00 GMT"
        )]));
        assert!(!check(&[(
            "if-modified-since",
            "Fri, 20 Nov 2026 08:59:59 GMT"
        )]));
        assert!(!check(&[("if-modified-since", "yesterday")]));
        // If-None-Match wins over If-Modified-Since.
        assert!(!check(&[
            ("if-none-match", "\"old\""),
            ("if-modified-since", "Sat, 21 Nov 2026 00:00:00 GMT")
        ]));
        assert_eq!(http_date(lm), "Fri, 20 Nov 2026 09:00:00 GMT");
    }
}
