//! WebSub (the W3C recommendation): pushed feeds.
//!
//! The subscriber: a feed whose document (`<link rel="hub">`) or response
//! (`Link: <…>; rel="hub"`) names a hub is subscribed to it
//! ([`subscriber`]), with a callback under `[server] base_url` at
//! `/websub/{token}`, where `token` is 128 random bits, and a `hub.secret`
//! of 256 random bits. The hub verifies the intent (a GET with
//! `hub.challenge`, answered only for the request pending on that token,
//! with its mode and topic); pushed documents must carry a valid
//! `X-Hub-Signature` (`sha1`, `sha256`, `sha384` or `sha512` HMAC of the
//! body, compared in constant time) and then go through the same pipeline
//! as a polled document. The routes are in `server::websub`; the daemon's
//! part (renewals, retries, unsubscribing removed feeds, one document per
//! feed at a time) in `daemon::websub`.
//!
//! The river as a publisher: the outputs advertise a hub and it is pinged
//! when they change ([`river`]); Tributary can be that hub itself
//! ([`hub`]), delivering changed documents, signed, to readers' callbacks.
//!
//! This module holds the pure parts: reading `Link` headers, signatures,
//! random tokens, when to renew and retry.
//!
//! # Bounds
//! A hub or topic URL longer than [`MAX_URL`] bytes is ignored; a
//! challenge longer than [`MAX_CHALLENGE`] is refused; a pushed body is
//! capped like a fetch of its feed (`max_body`); at most
//! [`MAX_PUSHES_READING`] pushed bodies are read at once; a feed has at
//! most one pushed document waiting while it is being refreshed (another
//! gets `503` with `Retry-After`, and the hub retries); requests to hubs
//! and callbacks answer within [`REQUEST_TIMEOUT`] and their answers are
//! read up to `fetch::MAX_ANSWER` bytes.

pub mod hub;
pub mod river;
pub mod subscriber;

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Longest hub or topic URL taken from a feed.
pub const MAX_URL: usize = 2048;
/// Longest `hub.challenge` answered.
pub const MAX_CHALLENGE: usize = 1024;
/// Random bytes in a callback token (128 bits).
pub const TOKEN_BYTES: usize = 16;
/// Random bytes in a `hub.secret` (256 bits; 64 hex characters, under
/// the recommendation's limit of 200 bytes).
pub const SECRET_BYTES: usize = 32;
/// Pushed bodies read at once (each up to its feed's `max_body`).
pub const MAX_PUSHES_READING: usize = 4;
/// Limit on one request to a hub or a callback.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a hub has to verify a request before it is sent again.
pub const VERIFY_WAIT: Duration = Duration::from_secs(10 * 60);
/// Failed requests in a row before a subscription is marked `failed`
/// (an unsubscription is then forgotten).
pub const GIVE_UP: u32 = 8;
/// How long after a denial a subscription is asked again.
pub const AFTER_DENIAL: Duration = Duration::from_secs(24 * 3600);

/// The hub and self links of a `Link` header (RFC 8288).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// `rel="hub"`.
    pub hub: Option<String>,
    /// `rel="self"`.
    pub self_url: Option<String>,
}

/// Reads the `hub` and `self` links of a `Link` header value (absolute
/// http(s) URLs only; the first of each).
pub fn parse_link_header(value: &str) -> Links {
    let mut links = Links::default();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let target = rest[open + 1..open + close].trim();
        let after = &rest[open + close + 1..];
        // Parameters run to the next link (a `<` outside quotes is rare
        // enough that a `,` followed by `<` ends them).
        let end = after
            .find(",<")
            .or_else(|| after.find(", <"))
            .unwrap_or(after.len());
        let params = after[..end].trim_end().trim_end_matches(',');
        rest = &after[end..];
        let usable = target.len() <= MAX_URL
            && (target.starts_with("http://") || target.starts_with("https://"));
        if !usable {
            continue;
        }
        for rel in rels(params) {
            let slot = match rel.as_str() {
                "hub" => &mut links.hub,
                "self" => &mut links.self_url,
                _ => continue,
            };
            slot.get_or_insert_with(|| target.to_string());
        }
    }
    links
}

/// The hub and self links of every `Link` header of a response (bounded:
/// the first 8 KiB of them).
pub fn links_in_headers(headers: &reqwest::header::HeaderMap) -> Links {
    let mut all = String::new();
    for value in headers.get_all(reqwest::header::LINK) {
        if let Ok(v) = value.to_str() {
            if all.len() + v.len() > 8192 {
                break;
            }
            all.push_str(v);
            all.push_str(", ");
        }
    }
    parse_link_header(&all)
}

/// The relation types of a link's parameters (`rel="a b"`, `rel=a`).
fn rels(params: &str) -> Vec<String> {
    params
        .split(';')
        .filter_map(|p| {
            let (name, value) = p.split_once('=')?;
            (name.trim().eq_ignore_ascii_case("rel")).then(|| value.trim().trim_matches('"'))
        })
        .flat_map(|v| {
            v.split_ascii_whitespace()
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Why a pushed body's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature` header.
    #[error("unsigned (no X-Hub-Signature)")]
    Missing,
    /// Not `method=hex` with a known method.
    #[error("unreadable X-Hub-Signature")]
    Malformed,
    /// The HMAC does not match.
    #[error("bad signature")]
    Mismatch,
}

/// Checks an `X-Hub-Signature` value (`sha256=hex`, also `sha1`, `sha384`,
/// `sha512`) against the HMAC of `body` under `secret`, in constant time.
pub fn verify_signature(
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (method, hex) = header
        .trim()
        .split_once('=')
        .ok_or(SignatureError::Malformed)?;
    let algorithm = match method.trim().to_ascii_lowercase().as_str() {
        "sha1" => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        "sha256" => ring::hmac::HMAC_SHA256,
        "sha384" => ring::hmac::HMAC_SHA384,
        "sha512" => ring::hmac::HMAC_SHA512,
        _ => return Err(SignatureError::Malformed),
    };
    let tag = from_hex(hex.trim()).ok_or(SignatureError::Malformed)?;
    let key = ring::hmac::Key::new(algorithm, secret);
    ring::hmac::verify(&key, body, &tag).map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature` value for `body` under `secret`: `sha256=hex`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    format!("sha256={}", to_hex(ring::hmac::sign(&key, body).as_ref()))
}

/// `bytes` random bytes from the system's generator, as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .expect("the system random generator works");
    to_hex(&buf)
}

/// Whether `token` is shaped like the tokens [`random_hex`] makes for
/// callbacks (so that other paths are refused before the store is asked).
pub fn is_token(token: &str) -> bool {
    token.len() == TOKEN_BYTES * 2
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 256 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// When a lease of `lease_seconds` verified at `verified` is renewed: once
/// four fifths of it have passed (a week's lease a day and a half before
/// it ends; a short lease still with a fifth to spare).
pub fn renew_at(verified: DateTime<Utc>, lease_seconds: i64) -> DateTime<Utc> {
    verified + chrono::Duration::seconds(lease_seconds.max(1) * 4 / 5)
}

/// How long to wait after `attempts` failed requests in a row: a minute,
/// doubling, at most six hours.
pub fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs((60u64 << attempts.min(9)).min(6 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_hub_and_self() {
        let links = parse_link_header(
            r#"<https://hub.example/>; rel="hub", <https://a.example/feed>; rel="self""#,
        );
        assert_eq!(links.hub.as_deref(), Some("https://hub.example/"));
        assert_eq!(links.self_url.as_deref(), Some("https://a.example/feed"));
        let links = parse_link_header(r#"<https://x/>; rel="alternate hub"; title="a, b""#);
        assert_eq!(links.hub.as_deref(), Some("https://x/"));
        assert_eq!(links.self_url, None);
        // Relative and non-http targets are not hubs.
        assert_eq!(parse_link_header("</hub>; rel=hub").hub, None);
        assert_eq!(parse_link_header("<javascript:x>; rel=hub").hub, None);
        assert_eq!(parse_link_header("garbage <").hub, None);
        let long = format!("<https://h/{}>; rel=hub", "a".repeat(MAX_URL));
        assert_eq!(parse_link_header(&long).hub, None);
    }

    #[test]
    fn every_link_header_of_a_response_is_read() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.append(
            "link",
            "<https://a.example/feed>; rel=self".parse().unwrap(),
        );
        headers.append(
            "link",
            r#"<https://hub.example/>; rel="hub""#.parse().unwrap(),
        );
        let links = links_in_headers(&headers);
        assert_eq!(links.hub.as_deref(), Some("https://hub.example/"));
        assert_eq!(links.self_url.as_deref(), Some("https://a.example/feed"));
        // Past 8 KiB of Link headers, the rest is not read.
        let mut big = reqwest::header::HeaderMap::new();
        let filler = format!("<https://x.example/{}>; rel=alternate", "a".repeat(8200));
        big.append("link", filler.parse().unwrap());
        big.append("link", "<https://hub.example/>; rel=hub".parse().unwrap());
        assert_eq!(links_in_headers(&big).hub, None);
    }

    #[test]
    fn signatures_of_every_method_verify_and_others_do_not() {
        let secret = b"s3cret";
        let body = b"<feed/>";
        let signed = sign(secret, body);
        assert!(signed.starts_with("sha256="));
        assert_eq!(verify_signature(Some(&signed), secret, body), Ok(()));
        for (method, algorithm) in [
            ("sha1", ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
            ("sha384", ring::hmac::HMAC_SHA384),
            ("SHA512", ring::hmac::HMAC_SHA512),
        ] {
            let key = ring::hmac::Key::new(algorithm, secret);
            let header = format!("{method}={}", to_hex(ring::hmac::sign(&key, body).as_ref()));
            assert_eq!(
                verify_signature(Some(&header), secret, body),
                Ok(()),
                "{method}"
            );
        }
        assert_eq!(
            verify_signature(None, secret, body),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(Some(&signed), b"other", body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(Some(&signed), secret, b"<feed>changed</feed>"),
            Err(SignatureError::Mismatch)
        );
        for bad in ["sha256", "md5=00", "sha256=zz", "sha256=abc", ""] {
            assert_eq!(
                verify_signature(Some(bad), secret, body),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn tokens_are_random_and_shaped() {
        let a = random_hex(TOKEN_BYTES);
        let b = random_hex(TOKEN_BYTES);
        assert_ne!(a, b);
        assert!(is_token(&a) && is_token(&b));
        assert!(!is_token("../etc"));
        assert!(!is_token(&a.to_uppercase()));
        assert_eq!(random_hex(SECRET_BYTES).len(), 64);
    }

    #[test]
    fn renewal_and_retry_times() {
        let t = Utc::now();
        assert_eq!(renew_at(t, 100), t + chrono::Duration::seconds(80));
        assert_eq!(retry_delay(0), Duration::from_secs(60));
        assert_eq!(retry_delay(1), Duration::from_secs(120));
        assert_eq!(retry_delay(30), Duration::from_secs(6 * 3600));
    }
}
