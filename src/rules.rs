//! The operator's rules: drop, keep, tag, mark or rewrite entries as they
//! arrive, before they are stored (see `docs/rules.md`).
//!
//! Owns the compiled rules ([`Rule`]) and their evaluation on one cleaned
//! entry ([`apply`]). Pure: takes the entry, the feed's language and `now`,
//! and returns what happened ([`Verdict`]); reading the config is
//! `config::rules`, remembering drops and labels is `store`.
//!
//! # Order and decisions
//! The rules that apply to a feed (global ones, those of its tags and its
//! own, in file order) are tried in order; each sees the entry as earlier
//! rewrites left it. All of a rule's conditions must match. Then:
//! - `drop` ends evaluation: the entry is not stored;
//! - `keep` ends the search for a decision: later `drop` rules no longer
//!   apply (later tags, marks and rewrites still do). When any `keep`
//!   rule applies to the feed, an entry no `keep` rule matched is dropped;
//! - `tag`, `mark` and `rewrite` change the entry and evaluation goes on.
//!
//! # Bounds
//! Evaluation is linear in the entry's size: regexes are compiled with
//! size caps at load and match in linear time (the `regex` crate's
//! guarantee); a selector is matched once per element, at a cost bounded by
//! the selector's length times the nesting depth, which cleaning caps
//! (`clean::MAX_HTML_DEPTH`). A rewrite's output is at most
//! [`MAX_GROWTH`] times its input plus [`GROWTH_SLACK`] bytes; a rewrite
//! that would exceed that is not applied, and the verdict says so.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::model::Entry;

mod rewrite;

pub use rewrite::{
    growth_limit, Remove, Rewrite, StripQuery, GROWTH_SLACK, MAX_GROWTH, MAX_REFERENCES,
};

/// One rule, compiled and validated.
#[derive(Debug)]
pub struct Rule {
    /// The name given in the config, or `line N`.
    pub name: String,
    /// Where the rule starts in the config file (1-based).
    pub line: usize,
    /// Feeds it applies to by name (empty with `tags`: every feed).
    pub feeds: Vec<String>,
    /// Feeds it applies to by tag.
    pub tags: Vec<String>,
    /// What an entry must look like (all of them).
    pub when: Conditions,
    /// What happens to a matching entry.
    pub action: Action,
    /// One line saying what the rule does, for `tributary check` and for
    /// telling two versions of a rule apart on reload.
    pub summary: String,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.line == other.line && self.summary == other.summary
    }
}

impl Rule {
    /// Whether the rule applies to a feed with this name and these tags.
    pub fn applies_to(&self, feed: &str, tags: &[String]) -> bool {
        (self.feeds.is_empty() && self.tags.is_empty())
            || self.feeds.iter().any(|f| f == feed)
            || self.tags.iter().any(|t| tags.contains(t))
    }
}

/// The rules of one feed, in order; shared between the feeds (cheap to
/// clone).
pub type Rules = Vec<Arc<Rule>>;

/// Conditions on an entry; absent ones match everything.
#[derive(Debug, Default)]
pub struct Conditions {
    /// On the title.
    pub title: Option<Regex>,
    /// On the link.
    pub link: Option<Regex>,
    /// The link's host is one of these domains or below one.
    pub host: Vec<String>,
    /// On any author.
    pub author: Option<Regex>,
    /// On any category.
    pub category: Option<Regex>,
    /// On the plain text of the content.
    pub text: Option<Regex>,
    /// The feed's language is one of these (`en` matches `en-GB`).
    pub language: Vec<String>,
    /// Published longer ago than this.
    pub older_than: Option<Duration>,
}

/// What a matching rule does.
#[derive(Debug)]
pub enum Action {
    /// The entry is not stored.
    Drop,
    /// The entry is stored even if a later `drop` matches; with any `keep`
    /// rule in scope, entries no `keep` rule matched are dropped.
    Keep,
    /// Labels the outputs and digests can select on (`rule_tags`).
    Tag(Vec<String>),
    /// Flags the outputs and digests can select on (`marks`).
    Mark(Vec<String>),
    /// Changes the entry.
    Rewrite(Vec<Rewrite>),
}

impl Action {
    /// The action's word in the config.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Keep => "keep",
            Action::Tag(_) => "tag",
            Action::Mark(_) => "mark",
            Action::Rewrite(_) => "rewrite",
        }
    }
}

/// What an entry carries besides itself during evaluation.
pub struct Context<'a> {
    /// The feed document's declared language.
    pub language: Option<&'a str>,
    /// The time ages count from.
    pub now: DateTime<Utc>,
    /// Cleans rewritten HTML again.
    pub cleaner: &'a crate::clean::Cleaner,
}

/// What the rules made of one entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// The rule that dropped it, if one did: a `drop` rule's name, or
    /// [`NOT_KEPT`] with the `keep` rules' names.
    pub dropped_by: Option<String>,
    /// Tags added, in order, without repeats, each with the rule that
    /// added it first.
    pub tags: Vec<(String, String)>,
    /// Marks added, likewise.
    pub marks: Vec<(String, String)>,
    /// Each rule that matched, with its action, in order.
    pub matched: Vec<(String, &'static str)>,
    /// Rewrites not applied because their output would have exceeded the
    /// bound, as `rule: field`.
    pub refused: Vec<String>,
    /// Whether a rewrite changed the entry (its hash and fingerprint are
    /// then computed again).
    pub changed: bool,
}

/// The start of [`Verdict::dropped_by`] when no `keep` rule matched.
pub const NOT_KEPT: &str = "not kept";

/// Runs `rules` on `entry` (see the module docs), rewriting it in place.
pub fn apply(rules: &[Arc<Rule>], entry: &mut Entry, cx: &Context<'_>) -> Verdict {
    let mut v = Verdict::default();
    let mut kept = false;
    for rule in rules {
        if !matches(&rule.when, entry, cx) {
            continue;
        }
        match &rule.action {
            Action::Drop if kept => continue,
            Action::Drop => {
                v.matched.push((rule.name.clone(), "drop"));
                v.dropped_by = Some(rule.name.clone());
                return v;
            }
            Action::Keep => kept = true,
            Action::Tag(tags) => add_all(&mut v.tags, tags, &rule.name),
            Action::Mark(marks) => add_all(&mut v.marks, marks, &rule.name),
            Action::Rewrite(steps) => {
                for step in steps {
                    match step.apply(entry, cx.cleaner) {
                        Ok(changed) => v.changed |= changed,
                        Err(field) => v.refused.push(format!("{}: {field}", rule.name)),
                    }
                }
            }
        }
        v.matched.push((rule.name.clone(), rule.action.as_str()));
    }
    let keepers: Vec<&str> = rules
        .iter()
        .filter(|r| matches!(r.action, Action::Keep))
        .map(|r| r.name.as_str())
        .collect();
    if !kept && !keepers.is_empty() {
        v.dropped_by = Some(format!("{NOT_KEPT} by {}", keepers.join(", ")));
    }
    if v.changed {
        rewrite::rehash(entry);
    }
    v
}

/// What cleaning must keep for `rules` to see: `class` and `id` when a
/// `remove` selector may match on them (the sanitizing policy drops them;
/// `refresh::judge` takes them out again after the rules).
pub fn attributes_needed(rules: &[Arc<Rule>]) -> crate::clean::Attributes {
    let removes = rules.iter().any(|r| match &r.action {
        Action::Rewrite(steps) => steps.iter().any(|s| matches!(s, Rewrite::Remove(_))),
        _ => false,
    });
    if removes {
        crate::clean::Attributes::WithClassAndId
    } else {
        crate::clean::Attributes::Policy
    }
}

fn add_all(to: &mut Vec<(String, String)>, labels: &[String], rule: &str) {
    for l in labels {
        if !to.iter().any(|(have, _)| have == l) {
            to.push((l.clone(), rule.to_string()));
        }
    }
}

/// Whether every condition given holds for `e`.
pub fn matches(c: &Conditions, e: &Entry, cx: &Context<'_>) -> bool {
    holds(c, e, cx.language, cx.now)
}

/// [`matches()`] without a cleaner: `language` is the feed's, ages count
/// from `now` (the notification targets use the matchers this way).
pub fn holds(c: &Conditions, e: &Entry, language: Option<&str>, now: DateTime<Utc>) -> bool {
    let re = |r: &Option<Regex>, s: &str| r.as_ref().is_none_or(|r| r.is_match(s));
    let any = |r: &Option<Regex>, list: &[String]| {
        r.as_ref()
            .is_none_or(|r| list.iter().any(|s| r.is_match(s)))
    };
    re(&c.title, &e.title)
        && c.link
            .as_ref()
            .is_none_or(|r| e.url.as_deref().is_some_and(|u| r.is_match(u)))
        && (c.host.is_empty()
            || e.url
                .as_deref()
                .and_then(host_of)
                .is_some_and(|h| c.host.iter().any(|d| in_domain(&h, d))))
        && any(&c.author, &e.authors)
        && any(&c.category, &e.categories)
        && re(&c.text, &e.content_text)
        && (c.language.is_empty()
            || language.is_some_and(|l| c.language.iter().any(|want| language_is(l, want))))
        && c.older_than.is_none_or(|age| {
            chrono::Duration::from_std(age).is_ok_and(|age| e.published < now - age)
        })
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

/// Whether `host` is `domain` or a name below it.
fn in_domain(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// Whether language tag `tag` is `want` or a variant of it (`en-GB` of
/// `en`), ignoring case and reading `_` as `-`.
fn language_is(tag: &str, want: &str) -> bool {
    let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
    tag == want
        || tag
            .strip_prefix(want)
            .is_some_and(|rest| rest.starts_with('-'))
}

#[cfg(test)]
mod tests;
