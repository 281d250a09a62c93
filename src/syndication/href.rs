//! URLs as published: only absolute `http`/`https` URLs, in strict RFC 3986
//! syntax (what the JSON Feed schema's `uri` format and Atom's IRIs
//! accept), without credentials, and of a sane length.
//!
//! A URL already in that form is passed through untouched (the store holds
//! canonical URLs, so this is the common case and costs one scan). Anything
//! else goes through the WHATWG parser of the `url` crate, then has its
//! path, query and fragment percent-encoded where that parser leaves
//! characters RFC 3986 forbids (`|`, `^`, a stray `%`, …). What still is
//! not a web URL is dropped.

use std::borrow::Cow;
use std::fmt::Write as _;

use url::Url;

/// Longest URL published, in bytes. Real page URLs are far shorter; a
/// longer one is junk or an attack on the consumer's parser.
pub(crate) const MAX_URL_LEN: usize = 8 * 1024;

/// RFC 3986 `pchar` minus `pct-encoded`: unreserved, sub-delims, `:`, `@`.
fn is_pchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

/// RFC 3986 `reg-name` characters minus `pct-encoded`.
fn is_reg_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
}

/// Whether `bytes[i]` starts a valid `%XX` escape.
fn is_escape_at(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'%'
        && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
}

/// Whether `s` is already a publishable URL: `http(s)://host[:port]`, then
/// a path, query and fragment in RFC 3986 syntax; no userinfo.
pub(crate) fn is_web_url(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    s.len() <= MAX_URL_LEN
        && is_authority(authority)
        && is_tail(tail)
        && (authority.starts_with('[') || is_real_host(authority_host(authority)))
}

/// The host of a `host[:port]` authority without brackets.
fn authority_host(authority: &str) -> &str {
    authority
        .split_once(':')
        .map_or(authority, |(host, _)| host)
}

/// Whether `host` (a name or an IPv4 address, not bracketed) could name a
/// machine: `localhost`, or dot-separated labels of letters, digits, `-`
/// and `_`, none empty, the last not all digits unless the whole is an
/// IPv4 address. `http://purl/org/…` (a typo for `purl.org`) or
/// `http://$$/` is not a link anyone can follow.
pub(crate) fn is_real_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// `host[:port]` where host is a non-empty reg-name (which covers IPv4) or
/// a bracketed IPv6 address, and port is 1 to 5 digits.
fn is_authority(authority: &str) -> bool {
    let (host_ok, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((address, after)) = inner.split_once(']') else {
            return false;
        };
        let address_ok = !address.is_empty()
            && address
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        (
            address_ok,
            after.strip_prefix(':').or(after.is_empty().then_some("")),
        )
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, Some("")),
        };
        (!host.is_empty() && host.bytes().all(is_reg_name_char), port)
    };
    let port_ok = port.is_some_and(|p| p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    // `host:` with an empty port is valid RFC 3986 but pointless: normalize it.
    host_ok && port_ok && !authority.ends_with(':')
}

/// Path, query and fragment: `pchar`, `/`, `?`, `%XX`, and one `#`.
fn is_tail(tail: &str) -> bool {
    let bytes = tail.as_bytes();
    let mut fragment = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if is_escape_at(bytes, i) => i += 2,
            b'#' if !fragment => fragment = true,
            b'/' | b'?' => {}
            b if is_pchar(b) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// `raw` as a publishable URL (see the module docs), or `None`.
pub(crate) fn web_url(raw: &str) -> Option<Cow<'_, str>> {
    if is_web_url(raw) {
        return Some(Cow::Borrowed(raw));
    }
    if raw.len() > MAX_URL_LEN {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    if let Some(url::Host::Domain(name)) = url.host() {
        if !is_real_host(name) {
            return None;
        }
    }
    let mut out = String::with_capacity(raw.len() + 16);
    out.push_str(url.scheme());
    out.push_str("://");
    out.push_str(host);
    if let Some(port) = url.port() {
        // Writing to a String cannot fail.
        let _ = write!(out, ":{port}");
    }
    encode_into(&mut out, url.path());
    if let Some(query) = url.query() {
        out.push('?');
        encode_into(&mut out, query);
    }
    if let Some(fragment) = url.fragment() {
        out.push('#');
        encode_into(&mut out, fragment);
    }
    // The WHATWG parser allows a few host characters RFC 3986 does not
    // (`{`, `|`, …); such a URL is dropped, as is one that grew too long.
    is_web_url(&out).then_some(Cow::Owned(out))
}

/// Appends `part` with every byte RFC 3986 forbids in a path, query or
/// fragment percent-encoded, keeping valid `%XX` escapes as they are.
fn encode_into(out: &mut String, part: &str) {
    let bytes = part.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if is_pchar(b) || b == b'/' || b == b'?' || (b == b'%' && is_escape_at(bytes, i)) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_urls_pass_through_borrowed() {
        for url in [
            "https://example.org/",
            "http://example.org",
            "https://example.org:8443/a/b;c=d?e=f&g=h/i?j#k/l?m",
            "http://127.0.0.1/x",
            "http://[::1]:8080/x",
            "https://example.org:443/x",
            "https://example.org/%E2%9C%93",
            "https://example.org/it's(fine)!*+,;=:@~",
        ] {
            assert!(
                matches!(web_url(url), Some(Cow::Borrowed(u)) if u == url),
                "{url}"
            );
        }
    }

    #[test]
    fn repairable_urls_are_normalized() {
        for (raw, want) in [
            ("HTTP://Example.ORG", "http://example.org/"),
            ("  https://example.org/x  ", "https://example.org/x"),
            ("https://user:secret@example.org/x", "https://example.org/x"),
            (
                "https://example.org/a b|c^`{}",
                "https://example.org/a%20b%7Cc%5E%60%7B%7D",
            ),
            (
                "https://example.org/q?a=[1]&b=\"2\"",
                "https://example.org/q?a=%5B1%5D&b=%222%22",
            ),
            ("https://example.org/%zz%4", "https://example.org/%25zz%254"),
            ("https://example.org/#x#y", "https://example.org/#x%23y"),
            (
                "https://bücher.example/straße",
                "https://xn--bcher-kva.example/stra%C3%9Fe",
            ),
            ("https://example.org:/x", "https://example.org/x"),
        ] {
            assert_eq!(web_url(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn non_web_urls_are_dropped() {
        for raw in [
            "",
            "not a url",
            "/relative/path",
            "//example.org/x",
            "javascript:alert(1)",
            "mailto:ann@example.org",
            "data:text/html,<script>",
            "ftp://example.org/file",
            "http://",
            "http://[::1/x",
            "http://exa mple.org/",
            "http://purl/org/rss/2.0/",
            "https://$$$/",
            "http://example..org/",
            "http://-bad.example/",
            "https://a.example%2Fb/",
        ] {
            assert_eq!(web_url(raw), None, "{raw:?}");
        }
        for real in [
            "http://localhost:8080/x",
            "http://127.0.0.1/",
            "https://[::1]/",
            "https://my_host.example.org./a",
            "https://xn--caf-dma.example/",
        ] {
            assert!(web_url(real).is_some(), "{real:?}");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(web_url(&long), None);
    }
}
