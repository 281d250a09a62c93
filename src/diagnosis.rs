//! Why a feed is not working, in words, and what to do about it: the
//! judgement behind `tributary doctor` (pure: stored facts and `now` in,
//! findings out; the command adds one live look where it helps).
//!
//! The evidence is the feed's row (status, HTTP status, last error, the
//! permanent-redirect streak, `moved_to`, `retry_after_until`) and its
//! recent fetch-log rows. Connection failures are told apart by the words
//! of the stored error (the HTTP client's own: "dns error", "certificate",
//! "Connection refused"), since the fetch log keeps the error as text.

use chrono::{DateTime, Utc};

use crate::store::{FeedRow, FetchLogRow, RedirectStreak};

/// The kind of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Never fetched yet.
    NotFetched,
    /// No longer in the config.
    Removed,
    /// A permanent redirect seen or confirmed.
    Moved,
    /// 410 Gone.
    Gone,
    /// 429, or a Retry-After in force.
    RateLimited,
    /// 403 or a bot-check page.
    Blocked,
    /// The request took too long.
    Timeout,
    /// The host name does not resolve.
    Dns,
    /// The TLS handshake or certificate failed.
    Tls,
    /// The connection was refused.
    Refused,
    /// Another connection failure.
    Connect,
    /// 404.
    NotFound,
    /// 401: credentials needed or wrong.
    Unauthorized,
    /// 5xx.
    ServerError,
    /// Another HTTP error status.
    HttpError,
    /// A web page (or another document) instead of a feed.
    NotAFeed,
    /// A broken document.
    ParseError,
    /// An empty body.
    Empty,
    /// A body over the cap.
    TooLarge,
    /// A redirect loop or chain too long.
    Redirects,
    /// A local file could not be read.
    File,
    /// A parser crashed.
    Crash,
    /// Anything else.
    Other,
}

/// One thing wrong with a feed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Its kind.
    pub kind: Kind,
    /// What is wrong, in a sentence.
    pub what: String,
    /// What to do about it, when anything.
    pub todo: Option<String>,
}

/// What a live request to the feed (or its site) would add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Nothing (healthy, or asking again would be impolite: 410, 429).
    None,
    /// Fetch the URL again: see whether the failure persists, and look
    /// inside what comes back (a page's feed links, a bot check, where a
    /// document breaks).
    Url,
    /// Fetch the site's home page, for the feeds it announces (after 404).
    Site,
}

/// Everything found about one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// Empty when the feed is healthy.
    pub findings: Vec<Finding>,
    /// How long it has been failing, when it is.
    pub history: Option<String>,
    /// The live look that would help.
    pub probe: Probe,
}

impl Diagnosis {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }
}

fn finding(kind: Kind, what: impl Into<String>, todo: Option<&str>) -> Finding {
    Finding {
        kind,
        what: what.into(),
        todo: todo.map(str::to_string),
    }
}

/// Judges one feed from its stored state and recent fetches (newest first).
pub fn diagnose(
    row: &FeedRow,
    redirect: &RedirectStreak,
    log: &[FetchLogRow],
    now: DateTime<Utc>,
) -> Diagnosis {
    let mut findings = Vec::new();
    let mut probe = Probe::None;
    if !row.active {
        findings.push(finding(
            Kind::Removed,
            "no longer in the config; its articles are kept",
            Some("nothing (add it again with `tributary add` to resume it)"),
        ));
        return Diagnosis {
            findings,
            history: None,
            probe,
        };
    }
    if let Some(to) = &row.moved_to {
        findings.push(finding(
            Kind::Moved,
            format!("moved permanently to {to}; Tributary polls the new URL"),
            Some(&format!("update its url in the config: url = \"{to}\"")),
        ));
    } else if let (Some(to), n @ 1.., Some(why)) = (&redirect.target, redirect.count, redirect.held)
    {
        findings.push(finding(
            Kind::Moved,
            format!(
                "answers with a permanent redirect (301/308) to {to}, {n} time{} in a row; Tributary does not follow it: {why}",
                if n == 1 { "" } else { "s" }
            ),
            Some(&format!(
                "if you trust the new address, update its url (and credentials) in the config: url = \"{to}\""
            )),
        ));
    } else if let (Some(to), n @ 1..) = (&redirect.target, redirect.count) {
        findings.push(finding(
            Kind::Moved,
            format!(
                "answers with a permanent redirect (301/308) to {to}, {n} time{} in a row (Tributary follows it from the third)",
                if n == 1 { "" } else { "s" }
            ),
            Some(&format!("update its url in the config: url = \"{to}\"")),
        ));
    }
    let failing = matches!(row.status.as_str(), "transient" | "permanent" | "gone");
    if row.last_fetch_at.is_none() && row.status == "new" {
        findings.push(finding(
            Kind::NotFetched,
            "not fetched yet",
            Some(&format!(
                "run `tributary fetch --feed {}`, or wait for the daemon",
                row.name
            )),
        ));
    } else if row.status == "gone" {
        findings.push(finding(
            Kind::Gone,
            format!(
                "gone: the server says the feed was removed for good (HTTP 410){}; it is no longer polled",
                row.last_fetch_at.map(|t| format!(", last asked {}", ago(t, now))).unwrap_or_default()
            ),
            Some(&format!(
                "remove it (`tributary remove {}`) or give it a new url (which resumes polling)",
                row.name
            )),
        ));
    } else if let Some(until) = row.retry_after_until.filter(|u| *u > now) {
        let why = match row.last_http_status {
            Some(429) | None => "rate-limited (HTTP 429)".to_string(),
            Some(s) => format!("unavailable (HTTP {s})"),
        };
        findings.push(finding(
            Kind::RateLimited,
            format!(
                "{why}: the server asked to wait until {} ({}); Tributary waits",
                until.format("%Y-%m-%d %H:%M UTC"),
                ahead(until, now)
            ),
            Some("nothing; if it keeps happening, poll this feed less often (its own `schedule`)"),
        ));
    } else if failing {
        let error = row.last_error.as_deref().unwrap_or("");
        let kind = classify(error, row.last_http_status);
        probe = match kind {
            Kind::RateLimited | Kind::Gone => Probe::None,
            Kind::NotFound => Probe::Site,
            _ => Probe::Url,
        };
        findings.push(explain(kind, error, row));
    }
    let history = failing.then(|| history(row, log, now)).flatten();
    Diagnosis {
        findings,
        history,
        probe,
    }
}

/// What kind of failure a stored error is.
pub fn classify(error: &str, http: Option<u16>) -> Kind {
    let e = error.to_ascii_lowercase();
    match http {
        Some(401) => return Kind::Unauthorized,
        Some(403) => return Kind::Blocked,
        Some(404) => return Kind::NotFound,
        Some(410) => return Kind::Gone,
        Some(429) => return Kind::RateLimited,
        Some(500..=599) if e.starts_with("http ") => return Kind::ServerError,
        Some(400..=499) if e.starts_with("http ") => return Kind::HttpError,
        _ => {}
    }
    let has = |words: &[&str]| words.iter().any(|w| e.contains(w));
    if e.starts_with("timed out") || has(&["operation timed out", "deadline has elapsed"]) {
        Kind::Timeout
    } else if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no address associated",
        "nodename nor servname",
    ]) {
        Kind::Dns
    } else if has(&[
        "certificate",
        "tls",
        "ssl",
        "handshake",
        "unknownissuer",
        "notvalidforname",
        "corrupt message",
        "fatal alert",
        "peer misbehaved",
    ]) {
        Kind::Tls
    } else if has(&["connection refused"]) {
        Kind::Refused
    } else if e.starts_with("cannot connect")
        || has(&[
            "connection reset",
            "network is unreachable",
            "reading the body failed",
        ])
    {
        Kind::Connect
    } else if e.starts_with("not a feed") {
        Kind::NotAFeed
    } else if e.starts_with("malformed") {
        Kind::ParseError
    } else if e.starts_with("empty document") {
        Kind::Empty
    } else if e.starts_with("body larger than") {
        Kind::TooLarge
    } else if has(&[
        "redirect loop",
        "redirects (last",
        "without a usable location",
        "redirect to unsupported",
    ]) {
        Kind::Redirects
    } else if e.starts_with("cannot read") {
        Kind::File
    } else if e.starts_with("parser crashed") {
        Kind::Crash
    } else {
        Kind::Other
    }
}

fn explain(kind: Kind, error: &str, row: &FeedRow) -> Finding {
    let host = url::Url::parse(row.fetch_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| row.fetch_url().to_string());
    let (what, todo): (String, &str) = match kind {
        Kind::Unauthorized => ("needs credentials, or they are wrong (HTTP 401)".into(), "set or check `username` and `password` for this feed"),
        Kind::Blocked => ("blocked: the server refuses Tributary (HTTP 403 Forbidden)".into(), "open the URL in a browser; sites that block non-browser clients sometimes accept another `user_agent` for this feed, else ask the publisher"),
        Kind::NotFound => ("not found (HTTP 404): the feed is no longer at this URL".into(), "find its new address (the site may announce it) and update its url, or remove it"),
        Kind::RateLimited => ("rate-limited (HTTP 429); Tributary backs off".into(), "nothing; if it keeps happening, poll this feed less often (its own `schedule`)"),
        Kind::ServerError => (format!("the server fails ({error})"), "nothing on this side: Tributary retries with growing pauses; if it lasts for days, tell the publisher"),
        Kind::HttpError => (format!("the server refuses the request ({error})"), "open the URL in a browser; the address may be wrong"),
        Kind::Timeout => (format!("timeouts: {host} does not answer in time ({error})"), "usually passes; if it persists, raise `timeout` for this feed"),
        Kind::Dns => (format!("DNS: the host name {host} does not resolve"), "check the URL for typos; the domain may have lapsed or moved"),
        Kind::Tls => (format!("TLS: the secure connection to {host} fails ({error})"), "the certificate may be expired, self-signed or for another name: open the URL in a browser, and tell the publisher"),
        Kind::Refused => (format!("{host} refuses connections"), "the server is down or the port is wrong; usually passes"),
        Kind::Connect => (format!("cannot connect to {host} ({error})"), "usually passes; if it persists, check the URL and this machine's network"),
        Kind::NotAFeed if error.contains("HTML") => ("not a feed: the URL serves a web page".into(), "use the feed URL the page announces (`tributary add PAGE_URL` finds it)"),
        Kind::NotAFeed => (error.to_string(), "check the URL: it does not lead to an RSS, Atom or JSON feed"),
        Kind::ParseError => (format!("the document is broken: {error}"), "tell the publisher (with the line and column below); Tributary reads it again on every fetch"),
        Kind::Empty => ("the server sends an empty document".into(), "usually a publisher's bug; tell them"),
        Kind::TooLarge => (format!("the document is too large: {error}"), "raise `max_body` for this feed if it is legitimately that large"),
        Kind::Redirects => (format!("redirects lead nowhere: {error}"), "open the URL in a browser to see where it leads, and use the final address"),
        Kind::File => (error.to_string(), "check the path and its permissions"),
        Kind::Crash => (format!("a parser crashed on this document: {error}"), "this is a bug in Tributary: please report it with the document"),
        _ => (error.to_string(), "see the fetch log: SELECT * FROM fetch_log ORDER BY id DESC"),
    };
    finding(kind, what, Some(todo))
}

fn history(row: &FeedRow, log: &[FetchLogRow], now: DateTime<Utc>) -> Option<String> {
    let streak: Vec<&FetchLogRow> = log.iter().take_while(|r| !r.succeeded()).collect();
    let since = streak.last().and_then(|r| r.started_at)?;
    let n = row.consecutive_errors.max(streak.len() as u32);
    // More failures than the log rows read: it began earlier still.
    let all = streak.len() == log.len() && n as usize > streak.len();
    let last_ok = row
        .last_success_at
        .map_or("never".to_string(), |t| ago(t, now));
    Some(format!(
        "failing {} {} ({n} fetch{} in a row); last success: {last_ok}",
        if all { "since before" } else { "since" },
        ago(since, now),
        if n == 1 { "" } else { "es" }
    ))
}

/// `3h ago`, `2d ago`.
pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ago", span((now - t).num_seconds().max(0)))
}

/// `in 3h`.
pub fn ahead(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("in {}", span((t - now).num_seconds().max(0)))
}

/// A length of time in its largest sensible unit: `45s`, `12m`, `3h`, `5d`.
pub fn span(secs: i64) -> String {
    match secs {
        ..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=172_799 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// The anti-bot service whose check page `page` is, if it is one.
pub fn bot_wall(page: &str) -> Option<&'static str> {
    let p = page.to_ascii_lowercase();
    const WALLS: &[(&str, &str)] = &[
        ("cf-browser-verification", "Cloudflare"),
        ("challenge-platform", "Cloudflare"),
        ("cf_chl_", "Cloudflare"),
        ("attention required! | cloudflare", "Cloudflare"),
        ("<title>just a moment...</title>", "a browser check"),
        ("_incapsula_resource", "Imperva Incapsula"),
        ("sucuri website firewall", "Sucuri"),
        ("captcha-delivery.com", "DataDome"),
        ("px-captcha", "PerimeterX"),
        ("ddos-guard", "DDoS-Guard"),
        ("g-recaptcha", "a CAPTCHA"),
        ("h-captcha", "a CAPTCHA"),
    ];
    WALLS
        .iter()
        .find(|(m, _)| p.contains(m))
        .map(|(_, who)| *who)
}

/// Where a document that failed to parse breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong there.
    pub message: String,
    /// That line, cut to about 80 characters around the column.
    pub excerpt: String,
}

/// Finds where `text` (a feed document, already decoded) stops being
/// well-formed XML or JSON; `None` when no error is found.
pub fn error_position(text: &str) -> Option<Position> {
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let (offset, message) = if trimmed.starts_with('{') {
        let e = serde_json::from_str::<serde::de::IgnoredAny>(text).err()?;
        let line_start: usize = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum();
        let col_bytes: usize = text[line_start..]
            .chars()
            .take(e.column().saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        (line_start + col_bytes, e.to_string())
    } else {
        xml_error(text)?
    };
    let offset = (0..=offset.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let line_text: Vec<char> = text[line_start..]
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end()
        .chars()
        .collect();
    let from = (column - 1).saturating_sub(40);
    let excerpt: String = line_text.iter().skip(from).take(80).collect();
    Some(Position {
        line,
        column,
        message,
        excerpt,
    })
}

fn xml_error(text: &str) -> Option<(usize, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::GeneralRef(r)) => {
                let name = r.to_string();
                let known = matches!(name.as_str(), "lt" | "gt" | "amp" | "apos" | "quot")
                    || name.starts_with('#');
                if !known {
                    let at = (reader.buffer_position() as usize).saturating_sub(name.len() + 2);
                    return Some((at, format!("undefined entity `&{name};`")));
                }
            }
            Ok(Event::Eof) if depth > 0 => {
                return Some((
                    text.len(),
                    "the document ends before its elements are closed".into(),
                ));
            }
            Ok(Event::Eof) => return None,
            Ok(_) => {}
            Err(e) => return Some((reader.error_position() as usize, e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests;
