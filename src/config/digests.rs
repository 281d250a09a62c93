//! `[[digests]]`: periodic summaries of what arrived, and how they are
//! delivered.

use serde::Deserialize;
use toml::Spanned;

use super::polling::{cron, resolve, RawValue, Secret};
use super::{count, non_empty, ConfigError, Locator};
use crate::schedule::CronSchedule;

/// Default number of items in one digest.
pub const DEFAULT_DIGEST_ITEMS: usize = 100;

/// How a digest groups its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One section per tag (an article appears under its first tag).
    Tag,
    /// One section per feed.
    Feed,
    /// No sections: one item per story, newest first.
    Story,
}

impl GroupBy {
    /// The config word.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Tag => "tag",
            GroupBy::Feed => "feed",
            GroupBy::Story => "story",
        }
    }
}

/// Which articles a digest (or an output) takes.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Articles from feeds with any of these tags (empty: any).
    pub tags: Vec<String>,
    /// Articles from any of these feeds (empty: any).
    pub feeds: Vec<String>,
    /// Keep only articles whose title or text matches.
    pub include: Option<regex::Regex>,
    /// Drop articles whose title or text matches.
    pub exclude: Option<regex::Regex>,
    /// Only articles a rule tagged with any of these (empty: any).
    pub rule_tags: Vec<String>,
    /// Only articles a rule marked with any of these (empty: any).
    pub marks: Vec<String>,
}

impl Selection {
    /// Whether an article from `feeds` (with their `tags`), titled `title`
    /// with `text`, is selected.
    pub fn accepts(&self, feeds: &[String], tags: &[String], title: &str, text: &str) -> bool {
        (self.tags.is_empty() || tags.iter().any(|t| self.tags.contains(t)))
            && (self.feeds.is_empty() || feeds.iter().any(|f| self.feeds.contains(f)))
            && self
                .include
                .as_ref()
                .is_none_or(|r| r.is_match(title) || r.is_match(text))
            && !self
                .exclude
                .as_ref()
                .is_some_and(|r| r.is_match(title) || r.is_match(text))
    }

    /// Whether an article with these rule tags and marks is selected.
    pub fn accepts_labels(&self, rule_tags: &[String], marks: &[String]) -> bool {
        let any = |want: &[String], have: &[String]| {
            want.is_empty() || have.iter().any(|h| want.contains(h))
        };
        any(&self.rule_tags, rule_tags) && any(&self.marks, marks)
    }
}

impl PartialEq for Selection {
    fn eq(&self, other: &Self) -> bool {
        let re = |r: &Option<regex::Regex>| r.as_ref().map(|r| r.as_str().to_string());
        self.tags == other.tags
            && self.feeds == other.feeds
            && self.rule_tags == other.rule_tags
            && self.marks == other.marks
            && re(&self.include) == re(&other.include)
            && re(&self.exclude) == re(&other.exclude)
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 587); refused without it.
    Starttls,
    /// No encryption: only for a relay on the same machine.
    None,
}

/// `[digests.email]`
#[derive(Debug, Clone, PartialEq)]
pub struct EmailConfig {
    /// Recipients.
    pub to: Vec<String>,
    /// Sender address.
    pub from: String,
    /// SMTP server.
    pub smtp_host: String,
    /// SMTP port (default by `tls`: 465, 587 or 25).
    pub smtp_port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// SMTP user name.
    pub username: Option<String>,
    /// SMTP password (from env or file; never printed).
    pub password: Option<Secret>,
}

/// One `[[digests]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestConfig {
    /// Unique name (URL-safe).
    pub name: String,
    /// Heading of every digest.
    pub title: String,
    /// When digests are made.
    pub schedule: CronSchedule,
    /// Which articles.
    pub selection: Selection,
    /// At most this many items (stories) per digest.
    pub max_items: usize,
    /// Sections.
    pub group_by: GroupBy,
    /// Make a digest even when nothing arrived.
    pub send_empty: bool,
    /// Email delivery, when configured.
    pub email: Option<EmailConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    name: Spanned<String>,
    title: Option<String>,
    schedule: Spanned<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    feeds: Vec<String>,
    include: Option<Spanned<String>>,
    exclude: Option<Spanned<String>>,
    #[serde(default)]
    rule_tags: Vec<Spanned<String>>,
    #[serde(default)]
    marks: Vec<Spanned<String>>,
    max_items: Option<Spanned<i64>>,
    group_by: Option<Spanned<String>>,
    send_empty: Option<bool>,
    email: Option<RawEmail>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    to: Vec<Spanned<String>>,
    from: Spanned<String>,
    smtp_host: Spanned<String>,
    smtp_port: Option<Spanned<i64>>,
    tls: Option<Spanned<String>>,
    username: Option<String>,
    password: Option<Spanned<RawValue>>,
}

pub(super) fn regex(
    at: &Locator<'_>,
    v: &Option<Spanned<String>>,
) -> Result<Option<regex::Regex>, ConfigError> {
    v.as_ref()
        .map(|r| {
            regex::RegexBuilder::new(r.get_ref())
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    at.error(
                        r.span(),
                        &format!("invalid pattern: {}", e.to_string().replace('\n', " ")),
                    )
                })
        })
        .transpose()
}

fn address(at: &Locator<'_>, v: &Spanned<String>) -> Result<String, ConfigError> {
    let s = v.get_ref().trim();
    s.parse::<lettre::message::Mailbox>()
        .map(|_| s.to_string())
        .map_err(|e| at.error(v.span(), &format!("invalid email address `{s}`: {e}")))
}

pub(super) fn digests(
    at: &Locator<'_>,
    raw: Vec<RawDigest>,
    feed_names: &[String],
    base: &std::path::Path,
    rules: &[std::sync::Arc<crate::rules::Rule>],
) -> Result<Vec<DigestConfig>, ConfigError> {
    let mut out: Vec<DigestConfig> = Vec::new();
    for d in raw {
        let name = non_empty(at, &d.name, "digest name")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            return Err(at.error(
                d.name.span(),
                &format!("digest name `{name}` may hold only ASCII letters, digits, `-` and `_`"),
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(at.error(d.name.span(), &format!("duplicate digest name `{name}`")));
        }
        for f in &d.feeds {
            if !feed_names.contains(f) {
                return Err(at.error(
                    d.name.span(),
                    &format!("digest `{name}` names unknown feed `{f}`"),
                ));
            }
        }
        let group_by = match d.group_by.as_ref().map(|g| g.get_ref().as_str()) {
            None | Some("story") => GroupBy::Story,
            Some("feed") => GroupBy::Feed,
            Some("tag") => GroupBy::Tag,
            Some(other) => {
                let span = d.group_by.as_ref().map_or(0..0, |g| g.span());
                return Err(at.error(
                    span,
                    &format!("group_by `{other}`: use \"story\", \"feed\" or \"tag\""),
                ));
            }
        };
        let email = match d.email {
            None => None,
            Some(e) => {
                if e.to.is_empty() {
                    return Err(at.error(e.from.span(), "email needs at least one `to` address"));
                }
                let tls = match e.tls.as_ref().map(|t| t.get_ref().as_str()) {
                    None | Some("starttls") => SmtpTls::Starttls,
                    Some("tls") => SmtpTls::Tls,
                    Some("none") => SmtpTls::None,
                    Some(other) => {
                        let span = e.tls.as_ref().map_or(0..0, |t| t.span());
                        return Err(at.error(
                            span,
                            &format!("tls `{other}`: use \"starttls\", \"tls\" or \"none\""),
                        ));
                    }
                };
                let default_port = match tls {
                    SmtpTls::Tls => 465,
                    SmtpTls::Starttls => 587,
                    SmtpTls::None => 25,
                };
                let password = e
                    .password
                    .as_ref()
                    .map(|p| resolve(at, p, base, "password"))
                    .transpose()?;
                Some(EmailConfig {
                    to: e
                        .to
                        .iter()
                        .map(|t| address(at, t))
                        .collect::<Result<_, _>>()?,
                    from: address(at, &e.from)?,
                    smtp_host: non_empty(at, &e.smtp_host, "smtp_host")?,
                    smtp_port: match &e.smtp_port {
                        Some(p) => count(at, p, 1, 65535)? as u16,
                        None => default_port,
                    },
                    tls,
                    username: e.username,
                    password,
                })
            }
        };
        out.push(DigestConfig {
            title: d
                .title
                .unwrap_or_else(|| format!("Tributary digest: {name}")),
            schedule: cron(at, &d.schedule)?,
            selection: Selection {
                tags: d.tags.iter().map(|t| t.trim().to_lowercase()).collect(),
                feeds: d.feeds,
                include: regex(at, &d.include)?,
                exclude: regex(at, &d.exclude)?,
                rule_tags: super::rules::added(at, &d.rule_tags, rules, false)?,
                marks: super::rules::added(at, &d.marks, rules, true)?,
            },
            max_items: match &d.max_items {
                Some(n) => count(at, n, 1, 10_000)?,
                None => DEFAULT_DIGEST_ITEMS,
            },
            group_by,
            send_empty: d.send_empty.unwrap_or(false),
            email,
            name,
        });
    }
    Ok(out)
}
