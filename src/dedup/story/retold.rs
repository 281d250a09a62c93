//! The facts rule: when two articles that share little wording tell the
//! same story in other words (a re-telling), judged by their facts
//! ([`super::facts`]) and the time between them. See the parent module's
//! docs for the method and its evaluation.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::facts::{self, Facts};
use super::{index_key, Fingerprint, FACT_BAND, MIN_WORDS};

/// Most hours between the publication of two re-tellings (when both are
/// known): a report days later with the same facts is a follow-up.
pub const FACT_WINDOW_HOURS: u32 = 30;
/// Fewest figures two re-tellings must share.
pub const MIN_SHARED_FIGURES: usize = 3;
/// Fewest names two re-tellings must share.
pub const MIN_SHARED_NAMES: usize = 2;
/// Least share of the figures of the one with fewer that the other must
/// have too: a re-telling may leave figures out, but one report with other
/// figures is another report.
pub const MIN_FIGURE_AGREEMENT: f64 = 0.6;
/// Least facts score ([`FactMatch::score`]) of a re-telling.
pub const FACT_THRESHOLD: f64 = 0.5;
/// Figures of an article that are index keys: the smallest hashes.
pub const FACT_KEYS: usize = 5;
/// Weight of a figure in the facts score; a name weighs 1.
const FIGURE_WEIGHT: usize = 2;

/// What two articles' facts have in common.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FactMatch {
    /// Figures both have.
    pub figures: usize,
    /// Names both have.
    pub names: usize,
    /// Shared figures over the figures of the one with more.
    pub figure_agreement: f64,
    /// Shared facts over the facts of the one with fewer, a figure counting
    /// twice as much as a name, in `0.0..=1.0`.
    pub score: f64,
    /// Whether they share one of their [`fact_keys`], so an index lookup finds
    /// the pair.
    pub keyed: bool,
}

/// Compares the facts of two articles: the [`FactMatch`] when they may be
/// the same story told in other words, `None` when the rules refuse it (at
/// least [`MIN_SHARED_FIGURES`] figures and [`MIN_SHARED_NAMES`] names in
/// common, [`MIN_FIGURE_AGREEMENT`] of the figures, a score of
/// [`FACT_THRESHOLD`]). Language is not checked here.
pub fn fact_match(a: &Fingerprint, b: &Fingerprint) -> Option<FactMatch> {
    let m = fact_overlap(a, b);
    (m.figures >= MIN_SHARED_FIGURES
        && m.names >= MIN_SHARED_NAMES
        && m.figure_agreement >= MIN_FIGURE_AGREEMENT
        && m.score >= FACT_THRESHOLD)
        .then_some(m)
}

/// The overlap of two articles' facts, whatever it is.
pub fn fact_overlap(a: &Fingerprint, b: &Fingerprint) -> FactMatch {
    let (fa, fb) = (&a.facts, &b.facts);
    let figures = facts::overlap(fa.figures(), fb.figures(), facts::MAX_FIGURES);
    let names = facts::overlap(fa.names(), fb.names(), facts::MAX_NAMES);
    let weight = |o: &facts::Overlap, w| (o.shared * w, o.left.max(o.right) * w);
    let (fig_shared, fig_least) = weight(&figures, FIGURE_WEIGHT);
    let least_total = (figures.left * FIGURE_WEIGHT + names.left)
        .min(figures.right * FIGURE_WEIGHT + names.right);
    let ratio = |x: usize, y: usize| if y == 0 { 0.0 } else { x as f64 / y as f64 };
    let keys = |f: &Facts| -> [u32; FACT_KEYS] {
        let mut k = [0; FACT_KEYS];
        let n = f.figures().len().min(FACT_KEYS);
        k[..n].copy_from_slice(&f.figures()[..n]);
        k
    };
    let (ka, kb) = (keys(fa), keys(fb));
    FactMatch {
        figures: figures.shared,
        names: names.shared,
        figure_agreement: ratio(fig_shared, fig_least),
        score: ratio(fig_shared + names.shared, least_total),
        keyed: has_fact_keys(a) && has_fact_keys(b) && ka.iter().any(|k| *k != 0 && kb.contains(k)),
    }
}

/// Whether an article has enough facts to match by them, and so index keys
/// for them.
fn has_fact_keys(print: &Fingerprint) -> bool {
    print.words >= MIN_WORDS
        && print.facts.figures().len() >= MIN_SHARED_FIGURES
        && print.facts.names().len() >= MIN_SHARED_NAMES
}

/// Index keys for facts: the [`FACT_KEYS`] smallest figure hashes, under
/// band number [`FACT_BAND`] (lexical bands are 0–19). Empty for articles
/// that cannot match by facts.
pub fn fact_keys(print: &Fingerprint) -> impl Iterator<Item = i32> + '_ {
    let n = if has_fact_keys(print) { FACT_KEYS } else { 0 };
    print
        .facts
        .figures()
        .iter()
        .take(n)
        .map(|figure| index_key(FACT_BAND, xxh3_64_with_seed(&figure.to_le_bytes(), 63)))
}

/// The facts rule alone: the [`FactMatch`] when two articles of one
/// language, long enough to merge, are the same story by their facts and
/// share a fact key ([`fact_keys`]). [`verdict`](super::verdict) asks it when their wording
/// differs.
pub fn facts_verdict(a: &Fingerprint, b: &Fingerprint) -> Option<FactMatch> {
    let (ha, hb) = (a.facts.hour(), b.facts.hour());
    if a.words < MIN_WORDS
        || b.words < MIN_WORDS
        || !facts::same_language(a.facts.lang(), b.facts.lang())
        || (ha != 0 && hb != 0 && ha.abs_diff(hb) > FACT_WINDOW_HOURS)
    {
        return None;
    }
    fact_match(a, b).filter(|m| m.keyed)
}
