//! Scrubbing secrets from URLs and text before they are stored, logged
//! or shown: one [`Redactor`] per feed, used for every URL the daemon
//! keeps (the fetch log, `final_url`, redirect targets, `feeds.url`) and
//! every message that may quote one (errors, warnings, `check` output).
//!
//! A secret is: the feed's password, header values and proxy URL (and the
//! encodings in which a server may echo them back: percent-encoded in a
//! URL, base64 in an `Authorization` header); the user info of any URL;
//! and the value of any query parameter whose name looks secret (see
//! [`UrlSecrets`], which the operator may adjust with `[fetch]
//! public_params` and `secret_params`). Each is replaced by `***`.

use std::borrow::Cow;

use url::Url;

use crate::config::{FeedHttp, UrlSecrets};

/// Secret values shorter than this are not scrubbed from free text: too
/// short to be a credential worth the name, and too likely to turn up by
/// chance. (Secret query parameters and user info are redacted whatever
/// their length.)
const MIN_SECRET_LEN: usize = 6;

/// What stands in for a secret.
pub const MASK: &str = "***";

/// One feed's secrets, ready to be scrubbed from URLs and text.
#[derive(Debug, Clone)]
pub struct Redactor<'p> {
    /// Literal secrets and their encodings, longest first.
    variants: Vec<String>,
    params: &'p UrlSecrets,
}

impl<'p> Redactor<'p> {
    /// The redactor of a feed configured at `configured` with `http`.
    pub fn new(http: &FeedHttp, configured: &Url, params: &'p UrlSecrets) -> Redactor<'p> {
        let mut secrets = feed_secrets(http);
        // What the configured URL carries is secret wherever it turns up.
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        if let Some(pw) = configured.password() {
            secrets.push(decode(pw));
        }
        if !configured.username().is_empty() {
            secrets.push(decode(configured.username()));
        }
        for (name, value) in configured.query_pairs() {
            if params.is_secret(&name) {
                secrets.push(value.into_owned());
            }
        }
        Redactor {
            variants: variants(secrets),
            params,
        }
    }

    /// A redactor that knows no feed's secrets: user info and secret
    /// query parameters only.
    pub fn urls_only(params: &'p UrlSecrets) -> Redactor<'p> {
        Redactor {
            variants: Vec::new(),
            params,
        }
    }

    /// `url` as it may be kept or shown; unchanged (byte for byte) when
    /// it holds no secret.
    pub fn url(&self, url: &Url) -> String {
        let shown = redact_url(url, self.params);
        match self.scrub(&shown) {
            Cow::Borrowed(_) => shown.into_owned(),
            Cow::Owned(s) => s,
        }
    }

    /// `text` with every URL in it redacted as by [`Redactor::url`] and
    /// every known secret replaced.
    pub fn text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let urls = redact_urls_in(text, self.params);
        match (urls, self.scrub(text)) {
            (Cow::Borrowed(_), scrubbed) => scrubbed,
            (Cow::Owned(u), _) => Cow::Owned(self.scrub(&u).into_owned()),
        }
    }

    fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for v in &self.variants {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), MASK));
            }
        }
        out
    }
}

/// Whether `url` carries user info or a secret query parameter.
pub fn url_has_secret(url: &Url, params: &UrlSecrets) -> bool {
    matches!(redact_url(url, params), Cow::Owned(_))
}

/// `url` with its user info and secret query (and fragment) values masked.
fn redact_url<'u>(url: &'u Url, params: &UrlSecrets) -> Cow<'u, str> {
    if url.username().is_empty()
        && url.password().is_none()
        && !pairs_have_secret(url.query(), params)
        && !pairs_have_secret(url.fragment(), params)
    {
        return Cow::Borrowed(url.as_str());
    }
    let mut u = url.clone();
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_password(None);
        let _ = u.set_username(MASK);
    }
    if let Some(q) = url.query() {
        u.set_query(Some(&mask_pairs(q, params)));
    }
    if let Some(f) = url.fragment() {
        u.set_fragment(Some(&mask_pairs(f, params)));
    }
    Cow::Owned(u.to_string())
}

fn pair_name(pair: &str) -> String {
    let name = pair.split('=').next().unwrap_or("");
    url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(n, _)| n.into_owned())
        .unwrap_or_default()
}

fn pairs_have_secret(q: Option<&str>, params: &UrlSecrets) -> bool {
    q.is_some_and(|q| {
        q.split(['&', ';'])
            .any(|p| p.contains('=') && params.is_secret(&pair_name(p)))
    })
}

/// `a=1&token=x` → `a=1&token=***`, every other byte kept.
fn mask_pairs(q: &str, params: &UrlSecrets) -> String {
    let mut out = String::with_capacity(q.len());
    for (i, pair) in q.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if params.is_secret(&pair_name(pair)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// Every `http(s)://` URL in `text` redacted; a URL ends at white space or
/// a quote.
fn redact_urls_in<'t>(text: &'t str, params: &UrlSecrets) -> Cow<'t, str> {
    let lower = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut done = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find("http") {
        let start = from + found;
        let rest = &lower[start..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            from = start + 4;
            continue;
        }
        let len = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '<' | '>'))
            .unwrap_or(text.len() - start);
        let end = start + len;
        if let Ok(u) = Url::parse(&text[start..end]) {
            if let Cow::Owned(shown) = redact_url(&u, params) {
                out.push_str(&text[done..start]);
                out.push_str(&shown);
                done = end;
            }
        }
        from = end.max(start + 4);
    }
    if done == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// The password, header values and proxy secrets of `http`, with the
/// base64 forms a server may echo in an `Authorization` header.
fn feed_secrets(http: &FeedHttp) -> Vec<String> {
    use base64::Engine as _;
    let mut secrets: Vec<String> = Vec::new();
    if let Some(p) = &http.password {
        secrets.push(p.expose().to_string());
        let pair = format!("{}:{}", http.username.as_deref().unwrap_or(""), p.expose());
        secrets.push(base64::engine::general_purpose::STANDARD.encode(pair));
    }
    secrets.extend(http.headers.iter().map(|(_, v)| v.expose().to_string()));
    if let Some(proxy) = &http.proxy {
        secrets.push(proxy.expose().to_string());
        if let Ok(u) = Url::parse(proxy.expose()) {
            if let Some(pw) = u.password() {
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned()
                };
                let (user, pw) = (decode(u.username()), decode(pw));
                secrets
                    .push(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}")));
                secrets.push(pw);
            }
        }
    }
    secrets
}

/// Each secret as written, form-encoded and percent-encoded, longest
/// first (so that a secret inside another is not half-replaced).
fn variants(secrets: Vec<String>) -> Vec<String> {
    let mut variants: Vec<String> = Vec::new();
    for s in secrets.into_iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
        let form: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        let path = s
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>();
        variants.extend([s, form, path]);
    }
    variants.sort_by_key(|v| std::cmp::Reverse(v.len()));
    variants.dedup();
    variants
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn http() -> FeedHttp {
        FeedHttp {
            username: Some("reader".into()),
            password: Some(Secret("hunter2 secret".into())),
            headers: vec![
                ("X-Api-Key".into(), Secret("key/secret+42".into())),
                ("Accept".into(), Secret("x".into())),
            ],
            proxy: Some(Secret("http://pu:proxy-pass@127.0.0.1:3128/".into())),
            ..FeedHttp::default()
        }
    }

    #[test]
    fn secrets_are_scrubbed_in_every_encoding() {
        let params = UrlSecrets::default();
        let home = Url::parse("https://feeds.example/f").unwrap();
        let r = Redactor::new(&http(), &home, &params);
        let echoed = "redirect loop at http://h/x?seen=hunter2+secret&k=key%2Fsecret%2B42&a=Basic%20cmVhZGVyOmh1bnRlcjIgc2VjcmV0 \
                      (hunter2 secret, key/secret+42, Basic cmVhZGVyOmh1bnRlcjIgc2VjcmV0, proxy-pass) x";
        let clean = r.text(echoed);
        for leak in [
            "hunter2",
            "key/secret",
            "key%2Fsecret",
            "cmVhZGVy",
            "proxy-pass",
        ] {
            assert!(!clean.contains(leak), "{leak} in {clean}");
        }
        assert!(
            clean.ends_with(" x"),
            "short values are left alone: {clean}"
        );
        assert!(matches!(r.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn user_info_and_secret_parameters_are_masked_in_urls_and_text() {
        let params = UrlSecrets::default();
        let home =
            Url::parse("https://bob:pa55word@feeds.example/f?api_key=abc&page=2&token=t0k3n-9f2")
                .unwrap();
        let r = Redactor::new(&FeedHttp::default(), &home, &params);
        assert_eq!(
            r.url(&home),
            "https://***@feeds.example/f?api_key=***&page=2&token=***"
        );
        let plain = Url::parse("https://feeds.example/f?page=2&q=a%20b+c").unwrap();
        assert_eq!(r.url(&plain), plain.as_str(), "nothing to hide: unchanged");
        let moved = Url::parse("https://new.example/f?sig=zz#access_token=qq&x=1").unwrap();
        assert_eq!(
            r.url(&moved),
            "https://new.example/f?sig=***#access_token=***&x=1"
        );
        // In text: every URL, and the configured URL's secrets anywhere.
        let text = "HTTP 404 at `https://u:pw@else.example/p?Signature=s1&a=1`, \
                    then http://x.example/?token=zz and t0k3n-9f2 again: pa55word";
        let clean = r.text(text);
        for leak in ["u:pw", "s1&", "zz", "t0k3n", "pa55word"] {
            assert!(!clean.contains(leak), "{leak} in {clean}");
        }
        assert!(
            clean.contains("https://***@else.example/p?Signature=***&a=1`"),
            "{clean}"
        );
        // The operator's word wins.
        let marked = UrlSecrets {
            public: vec!["api_key".into()],
            secret: vec!["page".into()],
        };
        let r = Redactor::urls_only(&marked);
        assert_eq!(
            r.url(&Url::parse("https://a.example/?api_key=k&page=3").unwrap()),
            "https://a.example/?api_key=k&page=***"
        );
        assert!(url_has_secret(
            &Url::parse("https://a.example/?page=3").unwrap(),
            &marked
        ));
        assert!(!url_has_secret(
            &Url::parse("https://a.example/?q=3").unwrap(),
            &marked
        ));
    }
}
