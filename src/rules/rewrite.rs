//! The `rewrite` action's steps, each bounded: a regex replacement on the
//! title or the text, removing elements by CSS selector, and stripping a
//! link's query parameters. Rewritten HTML is cleaned again (sanitized,
//! capped) exactly like feed content.

use std::borrow::Cow;

use regex::Regex;
use scraper::{Html, Node, Selector};

use crate::clean::{self, Cleaner, MAX_TITLE_CHARS};
use crate::model::Entry;

/// A rewrite's output is at most this many times its input...
pub const MAX_GROWTH: usize = 4;
/// ...plus this many bytes (so that short fields may grow at all).
pub const GROWTH_SLACK: usize = 1024;
/// Most `$` group references in a replacement: one match's expansion is
/// at most this many times the match, so the work done before the bound
/// is checked stays linear in the input.
pub const MAX_REFERENCES: usize = 8;

/// One change a `rewrite` rule makes.
#[derive(Debug)]
pub enum Rewrite {
    /// Replace matches in the title (`$1`, `${name}` refer to groups).
    Title {
        /// What to find.
        find: Regex,
        /// What to put instead.
        replace: String,
    },
    /// Replace matches in the text of the content and summary (text
    /// only: tags and attributes are left alone).
    Text {
        /// What to find.
        find: Regex,
        /// What to put instead.
        replace: String,
    },
    /// Remove the elements a selector matches from content and summary.
    Remove(Remove),
    /// Remove query parameters from the link.
    StripQuery(StripQuery),
}

/// A CSS selector, with the text it was written as.
#[derive(Debug)]
pub struct Remove {
    /// The compiled selector.
    pub selector: Selector,
    /// As written in the config.
    pub source: String,
}

/// Which query parameters `strip_query` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripQuery {
    /// The whole query.
    All,
    /// These parameters (exact names).
    Params(Vec<String>),
}

/// The most bytes a rewrite of `len` input bytes may produce.
pub fn growth_limit(len: usize) -> usize {
    len.saturating_mul(MAX_GROWTH).saturating_add(GROWTH_SLACK)
}

impl Rewrite {
    /// Applies the step to `e`: whether it changed anything, or the name
    /// of the field whose rewrite was refused for exceeding the bound.
    pub fn apply(&self, e: &mut Entry, cleaner: &Cleaner) -> Result<bool, &'static str> {
        match self {
            Rewrite::Title { find, replace } => {
                let mut budget = growth_limit(e.title.len());
                let Some(new) = replace_bounded(find, replace, &e.title, &mut budget) else {
                    return Err("title");
                };
                let new = clean::truncate_chars(&clean::one_line(&new), MAX_TITLE_CHARS);
                Ok(set(&mut e.title, new))
            }
            Rewrite::Text { find, replace } => {
                let edit = |doc: &mut Html, budget: &mut usize| -> Option<bool> {
                    let mut changed = false;
                    for node in doc.tree.values_mut() {
                        if let Node::Text(t) = node {
                            if let Cow::Owned(new) =
                                replace_bounded(find, replace, &t.text, budget)?
                            {
                                t.text = new.as_str().into();
                                changed = true;
                            }
                        }
                    }
                    Some(changed)
                };
                if e.content_html.is_none() {
                    let mut budget = growth_limit(e.content_text.len());
                    let new = replace_bounded(find, replace, &e.content_text, &mut budget)
                        .ok_or("text")?
                        .into_owned();
                    return Ok(set(&mut e.content_text, new));
                }
                edit_html(e, cleaner, edit).ok_or("text")
            }
            Rewrite::Remove(r) => {
                let edit = |doc: &mut Html, _: &mut usize| -> Option<bool> {
                    let ids: Vec<_> = doc.select(&r.selector).map(|el| el.id()).collect();
                    for id in &ids {
                        if let Some(mut node) = doc.tree.get_mut(*id) {
                            node.detach();
                        }
                    }
                    Some(!ids.is_empty())
                };
                edit_html(e, cleaner, edit).ok_or("content")
            }
            Rewrite::StripQuery(which) => Ok(strip_query(e, which)),
        }
    }
}

/// Replaces `*field` with `new` when they differ; whether they did.
fn set(field: &mut String, new: String) -> bool {
    if *field == new {
        return false;
    }
    *field = new;
    true
}

/// `s` with every match of `find` replaced, or `None` when the output
/// would pass `budget` bytes (which it spends). Borrowed when nothing
/// matched.
pub fn replace_bounded<'s>(
    find: &Regex,
    replace: &str,
    s: &'s str,
    budget: &mut usize,
) -> Option<Cow<'s, str>> {
    let mut out = String::new();
    let mut last = 0;
    for caps in find.captures_iter(s) {
        let m = caps.get(0).expect("group 0 is the match");
        out.push_str(&s[last..m.start()]);
        caps.expand(replace, &mut out);
        last = m.end();
        if out.len() > *budget {
            return None;
        }
    }
    if last == 0 && out.is_empty() {
        *budget = budget.checked_sub(s.len())?;
        return Some(Cow::Borrowed(s));
    }
    out.push_str(&s[last..]);
    *budget = budget.checked_sub(out.len())?;
    Some(Cow::Owned(out))
}

/// Runs `edit` on the content and the summary as HTML trees (with one
/// budget for both); what changed is serialized, cleaned again and its
/// plain text taken anew. `None` when `edit` refused.
fn edit_html(
    e: &mut Entry,
    cleaner: &Cleaner,
    edit: impl Fn(&mut Html, &mut usize) -> Option<bool>,
) -> Option<bool> {
    let total = e.content_html.as_ref().map_or(0, String::len)
        + e.summary_html.as_ref().map_or(0, String::len);
    let mut budget = growth_limit(total);
    let mut out = [None, None];
    for (slot, field) in out.iter_mut().zip([&e.content_html, &e.summary_html]) {
        let Some(html) = field else { continue };
        let mut doc = Html::parse_fragment(html);
        if edit(&mut doc, &mut budget)? {
            *slot = Some(cleaner.html(&doc.root_element().inner_html(), None));
        }
    }
    let [content, summary] = out;
    let changed = content.is_some() || summary.is_some();
    if let Some(c) = content {
        e.content_text = clean::html_to_text(&c);
        e.content_html = Some(c);
    }
    if let Some(s) = summary {
        e.summary_html = Some(s);
    }
    Some(changed)
}

/// Removes the chosen query parameters from the link (and its canonical
/// form); whether the link changed.
fn strip_query(e: &mut Entry, which: &StripQuery) -> bool {
    let Some(mut url) = e.url.as_deref().and_then(|u| url::Url::parse(u).ok()) else {
        return false;
    };
    if url.query().is_none() {
        return false;
    }
    let kept: Vec<(String, String)> = match which {
        StripQuery::All => Vec::new(),
        StripQuery::Params(names) => url
            .query_pairs()
            .filter(|(k, _)| !names.iter().any(|n| n == k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    };
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let new = String::from(url);
    if e.url.as_deref() == Some(new.as_str()) {
        return false;
    }
    e.canonical_url = url::Url::parse(&new)
        .ok()
        .as_ref()
        .and_then(clean::canonical_url);
    e.url = Some(new);
    true
}

/// After a rewrite: the content hash and the story fingerprint of the
/// entry as it now is.
pub(super) fn rehash(e: &mut Entry) {
    use crate::dedup::story;
    e.content_hash = clean::content_hash(&e.title, &e.content_text);
    let print = story::fingerprint(&e.title, &e.content_text).dated(e.published);
    e.story_print = (print.words() >= story::MIN_WORDS).then(|| print.to_bytes().to_vec());
}
