//! The resolved configuration as `tributary check` prints it (secrets
//! redacted).

use std::fmt;

use super::{span, Config, ProxyMode};

impl fmt::Display for Config {
    /// The resolved configuration, as `tributary check` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "config:      {}", self.path.display())?;
        write!(f, "store:       {}", self.store.path.display())?;
        match self.store.access.gid() {
            Some(gid) => writeln!(f, " (mode 0640, group {gid})")?,
            None => writeln!(f, " (mode 0600)")?,
        }
        let fc = &self.fetch;
        writeln!(f, "user agent:  {}", fc.user_agent)?;
        writeln!(
            f,
            "limits:      timeout {}, connect {}, body {} bytes, {} feeds at once, {} per host, {} redirects",
            humantime::format_duration(fc.timeout),
            humantime::format_duration(fc.connect_timeout),
            fc.max_body,
            fc.concurrency,
            fc.per_host,
            fc.max_redirects
        )?;
        if fc.block_private_addresses {
            writeln!(
                f,
                "guard:       private addresses and file:// refused (block_private_addresses)"
            )?;
        }
        if fc.proxy == ProxyMode::Env {
            writeln!(
                f,
                "proxy:       from the environment (HTTP_PROXY, HTTPS_PROXY)"
            )?;
        }
        let sc = &self.schedule;
        writeln!(
            f,
            "schedule:    {} ({}), backoff {} up to {}{}",
            sc.default,
            sc.timezone,
            humantime::format_duration(sc.policy.backoff_base),
            humantime::format_duration(sc.policy.backoff_max),
            if sc.policy.adaptive.is_some() {
                ", adaptive"
            } else {
                ""
            }
        )?;
        for (tag, s) in &sc.tags {
            writeln!(f, "  tag {tag:<20} {s}")?;
        }
        if self.dedup.enabled {
            writeln!(
                f,
                "dedup:       articles and stories (similarity ≥ {}, within {})",
                self.dedup.story_threshold,
                humantime::format_duration(self.dedup.story_window)
            )?;
        } else {
            writeln!(f, "dedup:       off")?;
        }
        for d in &self.digests {
            let email = d
                .email
                .as_ref()
                .map(|e| format!(", email to {}", e.to.join(", ")))
                .unwrap_or_default();
            writeln!(
                f,
                "digest:      {} every `{}`, up to {} items by {}{email}",
                d.name,
                d.schedule,
                d.max_items,
                d.group_by.as_str()
            )?;
        }
        for n in &self.notify {
            // The host only: webhook paths often hold a secret.
            let to = match &n.kind {
                super::NotifyKind::Webhook { url, .. } | super::NotifyKind::Ntfy { url, .. } => {
                    url.host_str().unwrap_or_default().to_string()
                }
                super::NotifyKind::Command { argv } => argv[0].clone(),
            };
            let health = &n.health;
            let mut what = Vec::new();
            if n.select.articles {
                what.push(match n.select.min_story_feeds {
                    Some(k) => format!("stories of {k}+ feeds"),
                    None => "articles".to_string(),
                });
            }
            if let Some(d) = health.failing_for {
                what.push(format!("failing for {}", span(d)));
            }
            what.extend(health.moved.then(|| "moved".to_string()));
            what.extend(health.gone.then(|| "gone".to_string()));
            writeln!(
                f,
                "notify:      {} ({} to {to}): {}; batches of up to {} after {}",
                n.name,
                n.kind.as_str(),
                what.join(", "),
                n.delivery.max_batch,
                humantime::format_duration(n.delivery.batch_window),
            )?;
        }
        let r = &self.retention;
        let mut keep = Vec::new();
        if let Some(age) = r.max_age {
            keep.push(format!("entries first seen in the last {}", span(age)));
        }
        if let Some(n) = r.max_per_feed {
            keep.push(format!("the newest {n} of each feed"));
        }
        let log = format!(
            "{}; pruned entries' keys until unlisted for {}",
            span(r.fetch_log_max_age),
            span(r.tombstone_max_age)
        );
        if keep.is_empty() {
            writeln!(
                f,
                "retention:   every entry; the fetch log of the last {log}"
            )?;
        } else {
            writeln!(
                f,
                "retention:   keep {}; the fetch log of the last {log}",
                keep.join(" and ")
            )?;
        }
        writeln!(f, "feeds:       {}", self.feeds.len())?;
        for feed in &self.feeds {
            let tags = if feed.tags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", feed.tags.join(", "))
            };
            let dedup = if feed.dedup { "" } else { " (no dedup)" };
            let schedule = sc.for_feed(feed.schedule.as_deref(), &feed.tags);
            let mut extra = String::new();
            if feed.http.username.is_some() {
                extra.push_str(" (basic auth)");
            }
            if !feed.http.headers.is_empty() {
                let names: Vec<&str> = feed.http.headers.iter().map(|(n, _)| n.as_str()).collect();
                extra.push_str(&format!(" (headers: {})", names.join(", ")));
            }
            if feed.http.proxy.is_some() {
                extra.push_str(" (proxy)");
            }
            if feed.http.internal {
                extra.push_str(" (internal)");
            }
            if let Some(r) = &feed.full_text {
                let selectors = r.selector.is_some() || !r.remove.is_empty();
                extra.push_str(match (selectors, r.robots) {
                    (true, true) => " (full text, selectors)",
                    (true, false) => " (full text, selectors, robots.txt ignored)",
                    (false, true) => " (full text)",
                    (false, false) => " (full text, robots.txt ignored)",
                });
            }
            let url =
                crate::fetch::Redactor::new(&feed.http, &feed.url, &fc.url_secrets).url(&feed.url);
            writeln!(
                f,
                "  {:<24} {url}{tags}{dedup}  every `{schedule}`{extra}",
                feed.name
            )?;
        }
        for r in &self.rules {
            writeln!(f, "rule:        {} (line {}) {}", r.name, r.line, r.summary)?;
        }
        write!(f, "{}{}", self.server, self.publish)?;
        let w = &self.websub;
        if w.subscribe || w.hub.is_some() || w.serve_hub {
            let hubs = crate::websub::river::hubs(self);
            writeln!(
                f,
                "websub:      subscribe {}, pushed feeds polled every {}, lease {}; outputs advertise {}",
                if w.subscribe { "on" } else { "off" },
                super::span(w.poll_every),
                super::span(w.lease),
                if hubs.is_empty() { "no hub".to_string() } else { hubs.join(", ") },
            )?;
        }
        Ok(())
    }
}
