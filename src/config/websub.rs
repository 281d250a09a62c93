//! `[websub]`: pushed feeds (subscribing to the hubs feeds name) and the
//! hub the outputs advertise and ping.
//!
//! Subscribing is on by default only when `[server] base_url` is set: a
//! hub must reach the callback, and the address Tributary guesses from
//! `listen` is rarely one a hub can reach.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{duration, ConfigError, Locator};

/// How often a pushed feed is still polled, as a safety net, unless
/// `poll_every` says otherwise.
pub const DEFAULT_PUSHED_POLL: Duration = Duration::from_secs(6 * 3600);
/// The lease asked of hubs unless `lease` says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(7 * 24 * 3600);
/// The shortest lease that may be asked.
pub const MIN_LEASE: Duration = Duration::from_secs(60);
/// The longest lease that may be asked (hubs cap leases themselves).
pub const MAX_LEASE: Duration = Duration::from_secs(365 * 24 * 3600);

/// `[websub]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSubConfig {
    /// Whether feeds that name a hub are subscribed to it.
    pub subscribe: bool,
    /// How often a feed with a live subscription is polled all the same.
    pub poll_every: Duration,
    /// The lease asked of hubs (a hub may grant another).
    pub lease: Duration,
    /// A hub the outputs advertise (`rel="hub"`) and that is pinged
    /// (`hub.mode=publish`) when an output changes.
    pub hub: Option<Url>,
    /// Whether Tributary is a hub for its own outputs (at
    /// `{base_url}websub/hub`, advertised by them).
    pub serve_hub: bool,
    /// Whether the hub calls back subscribers on loopback and private
    /// addresses (a reader on the same machine or network); off, only
    /// public addresses are called.
    pub private_callbacks: bool,
}

impl Default for WebSubConfig {
    fn default() -> Self {
        WebSubConfig {
            subscribe: false,
            poll_every: DEFAULT_PUSHED_POLL,
            lease: DEFAULT_LEASE,
            hub: None,
            serve_hub: false,
            private_callbacks: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebSub {
    subscribe: Option<Spanned<bool>>,
    poll_every: Option<Spanned<String>>,
    lease: Option<Spanned<String>>,
    hub: Option<Spanned<String>>,
    serve_hub: Option<Spanned<bool>>,
    private_callbacks: Option<bool>,
}

/// Validates `[websub]`. `base_url_set`: whether `[server] base_url` was
/// written (the default of `subscribe`); `serving`: `[server] enabled`.
pub(super) fn from_raw(
    raw: Option<RawWebSub>,
    base_url_set: bool,
    serving: bool,
    at: &Locator<'_>,
) -> Result<WebSubConfig, ConfigError> {
    let mut config = WebSubConfig {
        subscribe: base_url_set && serving,
        ..WebSubConfig::default()
    };
    let Some(raw) = raw else {
        return Ok(config);
    };
    if let Some(s) = &raw.subscribe {
        if *s.get_ref() && !serving {
            return Err(at.error(
                s.span(),
                "subscribe = true needs the server ([server] enabled = true): hubs call it back",
            ));
        }
        config.subscribe = *s.get_ref();
    }
    if let Some(p) = &raw.poll_every {
        config.poll_every = duration(at, p)?;
    }
    if let Some(l) = &raw.lease {
        let lease = duration(at, l)?;
        if !(MIN_LEASE..=MAX_LEASE).contains(&lease) {
            return Err(at.error(l.span(), "lease must be between 1 minute and 365 days"));
        }
        config.lease = lease;
    }
    if let Some(h) = &raw.hub {
        let url = Url::parse(h.get_ref().trim())
            .map_err(|e| at.error(h.span(), &format!("invalid hub url `{}`: {e}", h.get_ref())))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(at.error(h.span(), "hub must be an http or https URL with a host"));
        }
        config.hub = Some(url);
    }
    if let Some(s) = &raw.serve_hub {
        if *s.get_ref() && !serving {
            return Err(at.error(
                s.span(),
                "serve_hub = true needs the server ([server] enabled = true)",
            ));
        }
        config.serve_hub = *s.get_ref();
    }
    config.private_callbacks = raw.private_callbacks.unwrap_or(false);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/etc/t/tributary.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn subscribing_follows_base_url_unless_told() {
        let guessed = parse("").unwrap();
        assert!(!guessed.websub.subscribe);
        assert_eq!(guessed.schedule.pushed_poll, None);
        let public = parse("[server]\nbase_url = \"https://river.example/\"\n").unwrap();
        assert!(public.websub.subscribe);
        assert_eq!(
            public.schedule.pushed_poll,
            Some(super::DEFAULT_PUSHED_POLL)
        );
        let off =
            parse("[server]\nbase_url = \"https://r.example/\"\n[websub]\nsubscribe = false\n")
                .unwrap();
        assert!(!off.websub.subscribe);
        let on =
            parse("[websub]\nsubscribe = true\npoll_every = \"2h\"\nlease = \"1d\"\n").unwrap();
        assert!(on.websub.subscribe);
        assert_eq!(
            on.schedule.pushed_poll,
            Some(std::time::Duration::from_secs(7200))
        );
        assert_eq!(on.websub.lease, std::time::Duration::from_secs(86400));
        let shown = on.to_string();
        assert!(
            shown.contains("websub:      subscribe on, pushed feeds polled every 2h"),
            "{shown}"
        );
    }

    #[test]
    fn bad_websub_settings_are_located() {
        for (text, why) in [
            (
                "[server]\nenabled = false\n[websub]\nsubscribe = true\n",
                "needs the server",
            ),
            (
                "[server]\nenabled = false\n[websub]\nserve_hub = true\n",
                "needs the server",
            ),
            (
                "[websub]\nlease = \"10s\"\n",
                "between 1 minute and 365 days",
            ),
            ("[websub]\nhub = \"ftp://hub.example/\"\n", "http or https"),
            ("[websub]\nhub = \"not a url\"\n", "invalid hub url"),
            ("[websub]\nhubs = \"x\"\n", "unknown field"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(
                e.contains(why) && e.starts_with("/etc/t/tributary.toml:"),
                "{text}: {e}"
            );
        }
        let served = parse("[websub]\nserve_hub = true\nhub = \"https://hub.example/\"\n").unwrap();
        assert_eq!(
            crate::websub::river::hubs(&served),
            ["https://hub.example/", "http://127.0.0.1:8080/websub/hub"]
        );
    }
}
