//! The operator's rules, run on a processed document before it is stored
//! (see `crate::rules`): what they drop leaves the document and is
//! recorded, what they tag or mark is labelled.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tracing::warn;

use super::Document;
use crate::clean::Cleaner;
use crate::rules::{self, Context, Rule};
use crate::store::{Dropped, Judged, Labels};

/// Runs `rules` on the entries of `doc` new to the store. Entries a rule
/// dropped before (`dropped_before`, by key) leave the document unjudged;
/// entries the store holds unchanged (their cleaning was skipped) are not
/// judged again either.
pub fn judge(
    doc: &mut Document,
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
    let cleaner = Cleaner::new();
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
