//! Which credentials a request carries, and whether a feed may move.
//!
//! A feed's credentials (basic-auth user and password, the user info of
//! its URL, its extra headers) belong to the origin (scheme, host, port) of
//! the URL in the config. They go to that origin only: not along a
//! redirect to another host or port, not over plain HTTP when the feed was
//! configured for HTTPS (the scheme is part of the origin), and not to the
//! new address of a feed that moved. A feed that carries credentials is
//! therefore never moved to another origin by a permanent redirect: the
//! operator changes its URL, and with it where the credentials go.

use url::Url;

use crate::config::{FeedHttp, UrlSecrets};

/// What one hop of a fetch may send.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HopCredentials<'a> {
    /// Basic-auth user and password.
    pub basic: Option<(String, Option<String>)>,
    /// Extra request headers.
    pub headers: Vec<(&'a str, &'a str)>,
}

/// Whether `a` and `b` share scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    matches!(a.origin(), url::Origin::Tuple(..)) && a.origin() == b.origin()
}

/// `url` without its user info, which is sent (when at all) as an
/// `Authorization` header.
pub fn without_userinfo(url: &Url) -> Url {
    let mut u = url.clone();
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("");
        let _ = u.set_password(None);
    }
    u
}

/// The credentials a request to `hop` carries, for a feed configured at
/// `configured` with `http`: all of them on the configured origin, none
/// elsewhere.
pub fn for_hop<'a>(configured: &Url, hop: &Url, http: &'a FeedHttp) -> HopCredentials<'a> {
    if !same_origin(configured, hop) {
        return HopCredentials::default();
    }
    let basic = match &http.username {
        Some(user) => Some((
            user.clone(),
            http.password.as_ref().map(|p| p.expose().to_string()),
        )),
        None => userinfo(configured),
    };
    HopCredentials {
        basic,
        headers: http
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose()))
            .collect(),
    }
}

/// The user name and password written in a URL, decoded.
fn userinfo(url: &Url) -> Option<(String, Option<String>)> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((decode(url.username()), url.password().map(decode)))
}

/// Whether a feed sends anything only its own origin may see.
pub fn has_credentials(configured: &Url, http: &FeedHttp) -> bool {
    http.username.is_some() || !http.headers.is_empty() || userinfo(configured).is_some()
}

/// Why a feed configured at `configured` does not move to `target` on its
/// own, or `None` when it may: a feed with credentials stays on its
/// origin, and a new URL that itself carries a secret (user info, a
/// secret-looking query parameter) is not kept anywhere.
pub fn move_held(
    configured: &Url,
    http: &FeedHttp,
    target: &Url,
    secrets: &UrlSecrets,
) -> Option<&'static str> {
    if has_credentials(configured, http) && !same_origin(configured, target) {
        Some("its credentials belong to the configured origin and are not sent elsewhere")
    } else if super::redact::url_has_secret(target, secrets) {
        Some("the new URL carries a secret, which is not stored")
    } else {
        None
    }
}

/// Where a redirect took a credentialed feed configured at `configured`
/// that then failed with an HTTP error, when that was another origin (so
/// the error is likely the missing credentials).
pub fn stranded<'e>(
    configured: &Url,
    http: &FeedHttp,
    e: &'e super::FetchError,
) -> Option<&'e Url> {
    let super::FetchError::Status { redirects, .. } = e else {
        return None;
    };
    let last = &redirects.last()?.to;
    (has_credentials(configured, http) && !same_origin(configured, last)).then_some(last)
}

/// The URL a feed configured at `configured` is polled at: where it moved
/// permanently (`moved_to`, as the store recorded it) when it may move
/// there, else the configured URL. A move recorded before the rules held
/// it back is ignored the same way.
pub fn polled_url(
    configured: &Url,
    http: &FeedHttp,
    moved_to: Option<&str>,
    secrets: &UrlSecrets,
) -> Url {
    moved_to
        .and_then(|m| Url::parse(m).ok())
        .filter(|to| matches!(to.scheme(), "http" | "https"))
        .filter(|to| move_held(configured, http, to, secrets).is_none())
        .unwrap_or_else(|| configured.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn credentialed() -> FeedHttp {
        FeedHttp {
            username: Some("reader".into()),
            password: Some(Secret("pw-123456".into())),
            headers: vec![("X-Api-Key".into(), Secret("k-123456".into()))],
            ..FeedHttp::default()
        }
    }

    #[test]
    fn credentials_stay_on_the_configured_origin() {
        let http = credentialed();
        let home = u("https://feeds.example/a");
        let all = for_hop(&home, &u("https://feeds.example/b?x=1"), &http);
        assert_eq!(all.basic, Some(("reader".into(), Some("pw-123456".into()))));
        assert_eq!(all.headers, vec![("X-Api-Key", "k-123456")]);
        // Explicit default port: the same origin.
        assert_eq!(
            for_hop(&home, &u("https://feeds.example:443/c"), &http),
            all
        );
        for other in [
            "http://feeds.example/a",
            "https://feeds.example:8443/a",
            "https://cdn.feeds.example/a",
            "https://feeds.example.evil/a",
            "https://other.example/a",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                for_hop(&home, &u(other), &http),
                HopCredentials::default(),
                "{other}"
            );
        }
        // Configured for plain HTTP: never sent to HTTPS on another port
        // either (the operator chose the origin).
        let plain = u("http://127.0.0.1:8080/f");
        assert!(for_hop(&plain, &u("http://127.0.0.1:8081/f"), &http)
            .basic
            .is_none());
    }

    #[test]
    fn user_info_in_the_url_is_a_credential_of_its_origin() {
        let home = u("https://us%40er:p%3Ass@feeds.example/a");
        let none = FeedHttp::default();
        assert!(has_credentials(&home, &none));
        assert_eq!(
            for_hop(&home, &u("https://feeds.example/b"), &none).basic,
            Some(("us@er".into(), Some("p:ss".into())))
        );
        assert!(for_hop(&home, &u("https://else.example/b"), &none)
            .basic
            .is_none());
        assert_eq!(without_userinfo(&home).as_str(), "https://feeds.example/a");
    }

    #[test]
    fn moves_are_held_for_credentials_and_secrets() {
        let s = UrlSecrets::default();
        let home = u("https://feeds.example/a");
        let http = credentialed();
        assert!(move_held(&home, &http, &u("https://feeds.example/new"), &s).is_none());
        assert!(move_held(&home, &http, &u("https://other.example/a"), &s).is_some());
        assert!(move_held(&home, &http, &u("http://feeds.example/a"), &s).is_some());
        let open = FeedHttp::default();
        assert!(move_held(&home, &open, &u("https://other.example/a"), &s).is_none());
        assert!(move_held(&home, &open, &u("https://other.example/a?token=t"), &s).is_some());
        assert!(move_held(&home, &open, &u("https://u:p@other.example/a"), &s).is_some());
    }
}
