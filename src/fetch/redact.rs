//! Scrubbing a feed's secrets from text a server may have echoed them
//! into (a redirect URL, an error), before it is stored or logged.

use std::borrow::Cow;

use url::Url;

use crate::config::FeedHttp;

/// Secret values shorter than this are not scrubbed: too short to be a
/// credential worth the name, and too likely to turn up by chance.
const MIN_SECRET_LEN: usize = 6;

/// `text` with every secret of `http` replaced by `***`: the password,
/// header values, the proxy URL and its password, and the encodings in
/// which a server may echo them back (percent-encoded in a URL, base64 in
/// an `Authorization` header). For errors and URLs a careless server may
/// have filled with what it was sent.
pub fn redact<'t>(text: &'t str, http: &FeedHttp) -> Cow<'t, str> {
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
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map_or_else(String::new, |(_, v)| v.into_owned())
                };
                let (user, pw) = (decode(u.username()), decode(pw));
                secrets
                    .push(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}")));
                secrets.push(pw);
            }
        }
    }
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
    // Longest first, so that a secret inside another is not half-replaced.
    variants.sort_by_key(|v| std::cmp::Reverse(v.len()));
    variants.dedup();
    let mut out = Cow::Borrowed(text);
    for v in &variants {
        if out.contains(v.as_str()) {
            out = Cow::Owned(out.replace(v.as_str(), "***"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_in_every_encoding() {
        use crate::config::Secret;
        let http = FeedHttp {
            username: Some("reader".into()),
            password: Some(Secret("hunter2 secret".into())),
            headers: vec![
                ("X-Api-Key".into(), Secret("key/secret+42".into())),
                ("Accept".into(), Secret("x".into())),
            ],
            proxy: Some(Secret("http://pu:proxy-pass@127.0.0.1:3128/".into())),
        };
        let echoed = "redirect loop at http://h/x?seen=hunter2+secret&k=key%2Fsecret%2B42&a=Basic%20cmVhZGVyOmh1bnRlcjIgc2VjcmV0 \
                      (hunter2 secret, key/secret+42, Basic cmVhZGVyOmh1bnRlcjIgc2VjcmV0, proxy-pass) x";
        let clean = redact(echoed, &http);
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
        assert!(matches!(redact("nothing here", &http), Cow::Borrowed(_)));
    }
}
