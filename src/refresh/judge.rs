//! The operator's rules, run on a processed document before it is stored
//! (see `crate::rules`): what they drop leaves the document and is
//! recorded, what they tag or mark is labelled.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tracing::warn;

use super::Processed;
use crate::clean::{Attributes, Cleaner};
use crate::rules::{self, Context, Rule};
use crate::store::{Dropped, Judged, Labels};

/// Runs `rules` on the entries of `doc` new to the store. Entries a rule
/// dropped before (`dropped_before`, by key) leave the document unjudged;
/// entries the store holds unchanged (their cleaning was skipped) are not
/// judged again either. HTML cleaned with `class` and `id` for the
/// rules' selectors (see [`rules::attributes_needed`]) leaves without
/// them, as the sanitizing policy has it.
pub fn judge(
    doc: &mut Processed,
    rules: &[std::sync::Arc<Rule>],
    dropped_before: &HashSet<String>,
    now: DateTime<Utc>,
) -> Judged {
    let judged = run_rules(doc, rules, dropped_before, now);
    if doc.attributes != Attributes::Policy {
        to_policy(doc);
    }
    judged
}

/// Cleans the HTML of `doc`'s entries again with the policy's attributes
/// only.
fn to_policy(doc: &mut Processed) {
    let cleaner = Cleaner::new();
    for e in doc.entries.iter_mut().filter(|e| !e.content_elided) {
        for field in [&mut e.content_html, &mut e.summary_html] {
            if let Some(html) = field.as_deref() {
                *field = Some(cleaner.html(html, None));
            }
        }
    }
    doc.attributes = Attributes::Policy;
}

fn run_rules(
    doc: &mut Processed,
    rules: &[std::sync::Arc<Rule>],
    dropped_before: &HashSet<String>,
    now: DateTime<Utc>,
) -> Judged {
    let mut judged = Judged::default();
    if !dropped_before.is_empty() {
        doc.kept.retain(|k| !dropped_before.contains(k));
        doc.entries.retain(|e| !dropped_before.contains(&e.key));
    }
    if rules.is_empty() || doc.entries.iter().all(|e| e.content_elided) {
        return judged;
    }
    // Rewritten HTML keeps what the document's cleaning kept, so that
    // each later selector sees `class` and `id` too.
    let cleaner = Cleaner::keeping(doc.attributes);
    let cx = Context {
        language: doc.meta.language.as_deref(),
        now,
        cleaner: &cleaner,
    };
    let mut kept = Vec::with_capacity(doc.entries.len());
    for mut e in std::mem::take(&mut doc.entries) {
        if e.content_elided {
            kept.push(e);
            continue;
        }
        // A dropped entry is remembered as the feed published it.
        let (url, title) = (e.url.clone(), e.title.clone());
        let v = rules::apply(rules, &mut e, &cx);
        if !v.refused.is_empty() {
            warn!(
                entry = %e.key,
                refused = %v.refused.join("; "),
                "a rewrite was not applied: its output would exceed {}x its input",
                rules::MAX_GROWTH
            );
        }
        match v.dropped_by {
            Some(rule) => judged.dropped.push(Dropped {
                key: e.key,
                guid: e.guid,
                url,
                title,
                rule,
                content_hash: e.content_hash,
                raw_hash: e.raw_hash,
                item_hash: e.item_hash,
            }),
            None => {
                if !v.tags.is_empty() || !v.marks.is_empty() {
                    judged.labels.push(Labels {
                        key: e.key.clone(),
                        tags: v.tags,
                        marks: v.marks,
                    });
                }
                kept.push(e);
            }
        }
    }
    doc.entries = kept;
    judged
}
