//! What the configuration says about where fetches may go and what in a
//! URL is a secret: `[fetch] proxy` (environment proxies only when asked),
//! `[fetch] public_params` / `secret_params` (which query parameters are
//! redacted), and the per-feed `internal` mark (see `fetch::guard`).

use toml::Spanned;

use super::{ConfigError, Locator};

/// Query parameter names (compared in lower case, word by word) that hold
/// secrets in feed URLs: API keys, tokens, signatures, passwords.
pub const SECRET_PARAM_WORDS: &[&str] = &[
    "token",
    "key",
    "apikey",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "auth",
    "authorization",
    "sig",
    "signature",
    "credential",
    "credentials",
    "session",
    "sessionid",
    "sid",
    "jwt",
    "accesstoken",
    "authtoken",
    "privatetoken",
    "hash",
];

/// `[fetch] proxy`: whether requests may go through the proxies named by
/// `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyMode {
    /// The environment is ignored (the default): a proxy would resolve
    /// names itself, out of reach of the address checks.
    #[default]
    None,
    /// `proxy = "env"`: the environment's proxies are used.
    Env,
}

/// Which query parameters of a URL are secrets, for redaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlSecrets {
    /// Names the operator declared public although they look secret.
    pub public: Vec<String>,
    /// Names the operator declared secret although they do not look it.
    pub secret: Vec<String>,
}

impl UrlSecrets {
    /// Whether a query parameter called `name` holds a secret: declared
    /// so, or one of its words (split at `_`, `-`, `.`, and the whole
    /// name) is in [`SECRET_PARAM_WORDS`], unless declared public.
    pub fn is_secret(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        if self.secret.contains(&name) {
            return true;
        }
        if self.public.contains(&name) {
            return false;
        }
        let looks = |w: &str| SECRET_PARAM_WORDS.contains(&w);
        looks(&name.replace(['_', '-', '.'], ""))
            || name.split(['_', '-', '.', '[', ']']).any(looks)
    }
}

pub(super) fn proxy_mode(at: &Locator<'_>, v: &Spanned<String>) -> Result<ProxyMode, ConfigError> {
    match v.get_ref().trim() {
        "env" => Ok(ProxyMode::Env),
        "none" => Ok(ProxyMode::None),
        other => Err(at.error(
            v.span(),
            &format!("proxy = \"{other}\": write \"env\" (use HTTP_PROXY/HTTPS_PROXY) or \"none\""),
        )),
    }
}

pub(super) fn url_secrets(public: &[String], secret: &[String]) -> UrlSecrets {
    let lower = |v: &[String]| v.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
    UrlSecrets {
        public: lower(public),
        secret: lower(secret),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_parameters() {
        let d = UrlSecrets::default();
        for n in [
            "token",
            "api_key",
            "apiKey",
            "API-KEY",
            "access_token",
            "accessToken",
            "key",
            "sig",
            "X-Amz-Signature",
            "client_secret",
            "password",
            "auth",
            "private.token",
        ] {
            assert!(d.is_secret(n), "{n}");
        }
        for n in ["page", "monkey", "keyword", "category", "format", "q", "id"] {
            assert!(!d.is_secret(n), "{n}");
        }
        let marked = UrlSecrets {
            public: vec!["key".into()],
            secret: vec!["user".into()],
        };
        assert!(!marked.is_secret("Key"));
        assert!(marked.is_secret("user"));
        assert!(marked.is_secret("token"));
    }
}
