//! Story sameness: near-duplicate fingerprints, index keys and the decision.
//!
//! One story, one item: the same news carried by several feeds (other
//! navigation and captions, another headline, a syndicated copy, a light
//! update) should become one story. This module is the pure core of that
//! decision: text in, [`Fingerprint`] out; two fingerprints in, a
//! [`Verdict`] out. It does no I/O and keeps no state; the store keeps the
//! fingerprints and the band keys and asks these functions.
//!
//! Two signals: the **wording** (MinHash over word shingles, steps 1–4
//! below) finds copies; the **facts** (step 5) find the same event told by
//! another newsroom in its own words.
//!
//! # Method
//!
//! 1. **Words** (`words`): prose paragraphs only (navigation, captions,
//!    date lines, bylines and link lists carry no final full stop, or open
//!    with a marker like "Read more"), lowercased, diacritics folded,
//!    English stopwords dropped, numbers kept. Title words, then at most
//!    [`MAX_BODY_WORDS`] body words.
//! 2. **Shingles**: every word, and every pair of consecutive words, hashed
//!    with xxh3. Pairs keep wording; single words keep re-worded sentences
//!    close. On the evaluation set this mix gave the widest gap between the
//!    least similar copy and the most similar different story (pairs alone:
//!    0.45 against 0.23; words alone: 0.66 against 0.39; triples: 0.42
//!    against 0.28; both: 0.63 against 0.33) and puts copies high on the
//!    scale, where banding is sharp.
//! 3. **MinHash**, one permutation: each shingle lands in one of 60 slots and
//!    only the slot's minimum is kept; slots left empty are filled by
//!    optimal densification. Cost is linear in the shingles (a hash function
//!    per slot made fingerprinting several times slower). The share of equal
//!    slots estimates the Jaccard similarity of the shingle sets
//!    ([`similarity`]), within about ±0.06 near the threshold. Each slot
//!    keeps the low 16 bits of its minimum (b-bit MinHash): two different
//!    minima agree by chance once in 65,536, which moves an estimate by a
//!    sixtieth for one pair in about a thousand, far inside its own error,
//!    and halves the stored MinHash (version 2; version 1 kept 32 bits, and
//!    reads back as exactly the version 2 print of the same text).
//! 4. **Bands** for the index: 20 bands of 3 slots; a band key is a hash of
//!    its three slots (48 bits) cut to 27 bits, tagged with the band number
//!    in 5 more: 32 bits ([`index_key`]). Two items share a key with
//!    probability `1 - (1 - J³)²⁰`: 0.42 at J = 0.3, 0.73 at 0.4, 0.93 at 0.5,
//!    0.99 at 0.6, 1.00 from 0.7. Unrelated articles (J near 0.01) almost
//!    never do, so a lookup among millions returns a handful of candidates.
//! 5. **Facts** ([`facts`]): the figures (as values: `1,250` = `1250`,
//!    `£6m` = `6 million`; small counts and years left out) and the names
//!    (capitalised words inside sentences, cut to six letters) of title
//!    and prose, kept as fixed-size bottom-k sketches, with a language tag
//!    and the publication hour ([`Fingerprint::dated`]). A re-telling keeps
//!    an event's names and figures while every sentence changes. The
//!    [`FACT_KEYS`] smallest figure hashes are index keys, beside the bands
//!    ([`fact_keys`], band number [`FACT_BAND`]).
//!
//! **Why not SimHash.** Over the same shingles, a 64-bit SimHash put copies
//! up to 20 bits apart (95% within 10) and different stories from 10 bits
//! apart. Exact candidate lookup by pigeonhole would then need 11 or more
//! bands of 5 or 6 bits, each shared by a 32nd to a 64th of all articles: no
//! index. Four usable 16-bit bands (3 bits) would have found 72% of copies.
//!
//! # Decision
//!
//! [`verdict`] checks, in order: both items have [`MIN_WORDS`] words (a
//! headline alone never merges); similarity reaches the threshold; the
//! numbers agree ([`MIN_NUMBER_OVERLAP`]: release notes, results, forecasts
//! and draws differ mostly in their numbers); and the two share a band key.
//! The last rule makes lookup and decision agree exactly: every pair that
//! [`same_story`] accepts is found by [`band_keys`], so clustering through
//! the index gives the same stories in any arrival order.
//!
//! When the wording does not merge them (and not because their numbers
//! differ), the facts may ([`facts_verdict`], [`Verdict::SameFacts`]):
//! same language; published within [`FACT_WINDOW_HOURS`] of each other
//! (when both times are known: a report days later with the same facts is
//! a follow-up); at least [`MIN_SHARED_FIGURES`] figures and
//! [`MIN_SHARED_NAMES`] names in common; [`MIN_FIGURE_AGREEMENT`] of the
//! figures of the one with more in common (a report with other figures is
//! another report, whatever names it shares: the war, the country, the
//! company, the team never carry a match on their own); a facts score of
//! [`FACT_THRESHOLD`] (shared facts over the facts of the one with fewer, a
//! figure counting twice); and a fact key in common, so that lookup and
//! decision agree here too. Two items in different languages that share
//! their wording merge only if their facts match as well.
//!
//! Why no store-wide rarity weights (IDF): a document frequency kept in
//! the store changes as articles arrive, so the same pair would be judged
//! differently depending on what came before, and stories would depend on
//! arrival order. The rules above use only the two articles: names alone
//! never merge (figures must agree), and figures are rare by nature (a
//! toll, an amount, an attendance), so common topic words need no weight.
//!
//! # Evaluation
//!
//! `tests/dedup_eval.rs` runs every pair of a labelled set: written stories
//! in several topics, generated republications (navigation, captions, date
//! lines, headline styles), updates, and hard negatives (follow-ups reusing
//! background paragraphs, template items, title-only items). Copies score
//! 0.65 and up; different stories that pass the word and number guards
//! score at most 0.40; templates that score higher share at most 0.26 of
//! their numbers, copies at least 0.5. [`DEFAULT_THRESHOLD`] 0.5 sits 0.10
//! above the former and 0.15 below the latter, and merges every labelled
//! copy with no false merge.
//!
//! `tests/dedup_eval/retold.rs` adds re-told stories (20 events, two to four
//! versions each, the shared news article among them) and 43 hard
//! negatives beside them (the same topic with other facts, follow-ups days
//! later). Re-told pairs share at least 3 figures and 4 names with a facts
//! score of 0.81 or more; wording alone finds none of them. At the chosen
//! rules the combination merges all re-told pairs and all copies with no
//! false merge; facts alone merge no different stories but miss copies too
//! short in facts (83 % of copies). Without the time rule, 60 different-story
//! pairs (follow-ups that repeat the first report's figures in a background
//! paragraph) would match by facts.
//!
//! # For the store
//!
//! Keep [`Fingerprint::to_bytes`] with the article and a row per
//! [`band_keys`] key (as `i64`, sign-extended: 4 bytes in SQLite) in an
//! indexed table. For a new
//! article, look up `WHERE band_key IN (…)`, decode the candidates and ask
//! [`same_story`]; if it matches articles of several stories, merge those
//! stories, or the result depends on arrival order. Band rows are only
//! needed for as long as copies still arrive (weeks), which bounds the
//! index at 20 rows per recent article, plus [`FACT_KEYS`] for articles
//! with enough facts ([`index_keys`] gives both). When
//! [`FINGERPRINT_VERSION`] changes, recompute both (from version 1 to 2
//! the prints convert without their text, the band keys do not). The
//! layout of the bytes and of the keys may change within a version when
//! the old bytes still read as the same print (schema 22 made the facts
//! compact and the keys 32 bits): re-encode the prints and recompute the
//! keys then too.
//! Fingerprints stored before facts existed (the lexical part alone,
//! [`Fingerprint::LEXICAL_LEN`] bytes in this version) still read, with no
//! facts: they merge by wording only.
//!
//! # Limits
//!
//! Shingles measure shared wording: two outlets writing the same news in
//! their own words, or a feed carrying only the first paragraph of an
//! article another carries whole, stay apart. A story whose one or two
//! numbers change (a toll revised in a short item) is refused, like a
//! template. Merging is transitive, so chains of copies join one story.
//!
//! Facts need figures: a re-told story without three figures beyond small
//! counts and years (a quote, a profile, an obituary) is not found by
//! them. A follow-up published within the window that repeats the first
//! report's figures and names joins its story. Names come from capital
//! letters: scripts without them (Chinese, Japanese, Korean, Arabic, …)
//! never merge by facts (numbers alone are too weak), only by wording.

pub mod facts;
mod retold;
mod words;

use facts::Facts;
pub use retold::{
    fact_keys, fact_match, fact_overlap, facts_verdict, FactMatch, FACT_KEYS, FACT_THRESHOLD,
    FACT_WINDOW_HOURS, MIN_FIGURE_AGREEMENT, MIN_SHARED_FIGURES, MIN_SHARED_NAMES,
};
use words::Word;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Bumped whenever normalization, shingling or hashing changes: fingerprints
/// and band keys of different versions cannot be compared, so the store must
/// recompute the ones it holds. Version 2 keeps 16 bits per MinHash slot
/// (version 1 kept 32): a version 1 print reads back as the version 2 print
/// of the same text ([`Fingerprint::from_bytes`]), but its band keys differ.
pub const FINGERPRINT_VERSION: u8 = 2;

/// Index keys per fingerprint.
pub const BANDS: usize = 20;
/// Slots per band: a band key matches only when all of its slots agree.
const ROWS: usize = 3;
/// MinHash slots in a fingerprint.
const SLOTS: usize = BANDS * ROWS;

/// A slot no shingle fell into (a real shingle value of all ones is as good as absent).
const EMPTY: u32 = u32::MAX;

/// Bytes of a MinHash slot as stored (version 2).
const SLOT_BYTES: usize = 2;

/// Body words read after the title; the rest of a long article is ignored.
pub const MAX_BODY_WORDS: usize = 300;

/// Fewer words than this (title and body together, stopwords left out) never
/// merge by similarity: a headline or a one-line note says too little, and
/// alike ones are often different items (episodes, briefings). About two
/// sentences; on the evaluation set short items reach 17 words and the
/// shortest article with copies has 50.
pub const MIN_WORDS: u32 = 25;

/// Least share of numbers two items must have in common to merge, unless
/// they differ by a single number.
pub const MIN_NUMBER_OVERLAP: f64 = 0.4;

/// Default similarity from which two fingerprints tell the same story,
/// chosen on the evaluation set (see the module docs).
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// What an article's title and text look like to story matching.
///
/// Small and `Copy`; store it with [`Fingerprint::to_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// Minimum shingle value in each slot, after densification: its low
    /// 16 bits.
    minhash: [u16; SLOTS],
    /// One bit per number in title and body (a 128-bit Bloom filter).
    numbers: u128,
    /// Words read, stopwords left out.
    words: u32,
    /// Names and figures, for re-told versions (see [`facts`]).
    facts: Facts,
}

/// Why stored fingerprint bytes could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes come from another fingerprint version: recompute them.
    #[error("fingerprint version {found}, expected {FINGERPRINT_VERSION}")]
    Version {
        /// The version byte found.
        found: u8,
    },
    /// The bytes are cut short or too long, or their facts are out of range.
    #[error(
        "fingerprint of {found} bytes, not what its facts take (at most {}; {} without facts)",
        Fingerprint::MAX_ENCODED_LEN,
        Fingerprint::LEXICAL_LEN
    )]
    Length {
        /// The length found.
        found: usize,
    },
}

impl Fingerprint {
    /// Length of the lexical part: all that fingerprints stored before
    /// facts existed hold (they read back with no facts).
    pub const LEXICAL_LEN: usize = 1 + 4 + 16 + SLOT_BYTES * SLOTS;
    /// The longest [`Fingerprint::to_bytes`]: the lexical part, then the
    /// facts with both sketches full. A print holds the facts it has only
    /// (7 bytes and 4 per name or figure); prints stored until schema 22
    /// are this long whatever their facts (every slot, zeros for the
    /// unused), and still read.
    pub const MAX_ENCODED_LEN: usize = Self::LEXICAL_LEN + Facts::FIXED_LEN;
    /// The lexical part of a version 1 print (32-bit slots).
    const V1_LEXICAL_LEN: usize = 1 + 4 + 16 + 4 * SLOTS;

    /// Words the fingerprint was built from, stopwords left out.
    pub fn words(&self) -> u32 {
        self.words
    }

    /// The names and figures it was built from.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The fingerprint of an article published at `at`: re-tellings are
    /// only looked for within [`FACT_WINDOW_HOURS`] of it.
    pub fn dated(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.facts.hour = u32::try_from(at.timestamp().div_euclid(3600)).unwrap_or(0);
        self
    }

    /// Encodes the fingerprint for storage, version first, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0; Self::LEXICAL_LEN];
        out[0] = FINGERPRINT_VERSION;
        out[1..5].copy_from_slice(&self.words.to_le_bytes());
        out[5..21].copy_from_slice(&self.numbers.to_le_bytes());
        for (chunk, slot) in out[21..].chunks_exact_mut(SLOT_BYTES).zip(&self.minhash) {
            chunk.copy_from_slice(&slot.to_le_bytes());
        }
        self.facts.write(&mut out);
        out
    }

    /// Decodes [`Fingerprint::to_bytes`], and version 1 prints (32-bit
    /// slots, of which the low 16 bits are kept: exactly what this version
    /// makes of the same text); other versions are refused. The lexical
    /// part alone (stored before facts existed) reads with no facts; the
    /// facts read compact or in the fixed layout of earlier prints
    /// ([`Fingerprint::MAX_ENCODED_LEN`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let version = bytes.first().copied().unwrap_or(0);
        let lexical = match version {
            1 => Self::V1_LEXICAL_LEN,
            _ => Self::LEXICAL_LEN,
        };
        let facts = match bytes.len() {
            n if n == lexical => Some(Facts::NONE),
            n if n > lexical => Facts::read(&bytes[lexical..]),
            _ => None,
        };
        let Some(facts) = facts else {
            return Err(DecodeError::Length { found: bytes.len() });
        };
        if version != FINGERPRINT_VERSION && version != 1 {
            return Err(DecodeError::Version { found: version });
        }
        let slot_bytes = (lexical - 21) / SLOTS;
        let mut minhash = [0; SLOTS];
        for (slot, chunk) in minhash
            .iter_mut()
            .zip(bytes[21..lexical].chunks_exact(slot_bytes))
        {
            *slot = u16::from_le_bytes([chunk[0], chunk[1]]);
        }
        let mut words = [0; 4];
        words.copy_from_slice(&bytes[1..5]);
        let mut numbers = [0; 16];
        numbers.copy_from_slice(&bytes[5..21]);
        Ok(Fingerprint {
            minhash,
            numbers: u128::from_le_bytes(numbers),
            words: u32::from_le_bytes(words),
            facts,
        })
    }
}

/// Fingerprints an article from its title and plain text.
pub fn fingerprint(title: &str, text: &str) -> Fingerprint {
    let (minima, numbers, words) = minhash(title, text);
    Fingerprint {
        // b-bit MinHash: the low 16 bits of each minimum (see the module docs).
        minhash: minima.map(|m| m as u16),
        numbers,
        words,
        facts: facts::facts(title, text),
    }
}

/// The 32-bit MinHash minima of title and text, densified, with the
/// numbers' filter and the word count.
fn minhash(title: &str, text: &str) -> ([u32; SLOTS], u128, u32) {
    let mut minima = [EMPTY; SLOTS];
    let (mut numbers, mut words) = (0u128, 0u32);
    for_each_shingle(title, text, |shingle, word| {
        if let Some(word) = word {
            words += 1;
            if word.numeric {
                numbers |= 1 << (mix(word.hash) % 128);
            }
        }
        // One permutation: the high half picks the slot, the low half competes in it.
        let slot = (((shingle >> 32) * SLOTS as u64) >> 32) as usize;
        minima[slot] = minima[slot].min(shingle as u32);
    });
    densify(&mut minima);
    (minima, numbers, words)
}

/// Fills each empty slot from a filled one, chosen by a probe sequence that
/// depends only on the slot (optimal densification), so that two items agree
/// on a filled-in slot with the same probability as on any other.
fn densify(minhash: &mut [u32; SLOTS]) {
    let filled = *minhash;
    if filled.iter().all(|&v| v == EMPTY) {
        return;
    }
    for (slot, value) in minhash.iter_mut().enumerate() {
        if *value != EMPTY {
            continue;
        }
        *value = (0u64..)
            .map(|attempt| filled[(mix((slot as u64) << 32 | attempt) % SLOTS as u64) as usize])
            .find(|&v| v != EMPTY)
            .unwrap_or(EMPTY);
    }
}

/// Calls `f(shingle, word)` for every shingle of title and body: each word
/// alone (passing the word along), then with the word before it, if any.
/// Title and body are shingled apart.
fn for_each_shingle(title: &str, text: &str, mut f: impl FnMut(u64, Option<Word>)) {
    let mut previous: Option<u64> = None;
    let mut step = |word: Word, previous: &mut Option<u64>| {
        let hash = word.hash.to_le_bytes();
        f(xxh3_64(&hash), Some(word));
        if let Some(p) = previous.replace(word.hash) {
            let mut pair = [0; 16];
            pair[..8].copy_from_slice(&p.to_le_bytes());
            pair[8..].copy_from_slice(&hash);
            f(xxh3_64(&pair), None);
        }
    };
    words::title_words(title, |w| step(w, &mut previous));
    previous = None;
    words::body_words(text, MAX_BODY_WORDS, |w| step(w, &mut previous));
}

/// Estimated Jaccard similarity of the two items' shingle sets, in `0.0..=1.0`.
///
/// Items without words have no shingles and score `0.0`.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    if a.words == 0 || b.words == 0 {
        return 0.0;
    }
    let equal = a
        .minhash
        .iter()
        .zip(&b.minhash)
        .filter(|(x, y)| x == y)
        .count();
    equal as f64 / SLOTS as f64
}

/// Index keys of a fingerprint: two items can be the same story only if they
/// share one. Empty for items too short to merge ([`MIN_WORDS`]).
///
/// Each key carries its band number in its top five bits, so keys of
/// different bands never collide (see [`index_key`]).
pub fn band_keys(print: &Fingerprint) -> impl Iterator<Item = i32> + '_ {
    let bands = if print.words >= MIN_WORDS { BANDS } else { 0 };
    print
        .minhash
        .chunks_exact(ROWS)
        .take(bands)
        .enumerate()
        .map(|(band, rows)| {
            let mut bytes = [0; SLOT_BYTES * ROWS];
            for (chunk, row) in bytes.chunks_exact_mut(SLOT_BYTES).zip(rows) {
                chunk.copy_from_slice(&row.to_le_bytes());
            }
            index_key(band as u32, xxh3_64_with_seed(&bytes, band as u64))
        })
}

/// Bits of an index key below its band number: the top bits of a hash.
const KEY_HASH_BITS: u32 = 27;
/// The band number of fact keys ([`fact_keys`]); lexical bands are
/// `0..BANDS`.
pub const FACT_BAND: u32 = 31;
const _: () = assert!(BANDS as u32 <= FACT_BAND && FACT_BAND < 1 << (32 - KEY_HASH_BITS));

/// The index key of `band` for `hash`: 32 bits, the band number in the top
/// five and the top 27 bits of the hash below, read as an `i32`.
///
/// Stored as an `i64` (`i64::from`, sign-extended), every key is in
/// `-2³¹..2³¹` and SQLite keeps it in 4 bytes; bands 16–19 and
/// [`FACT_BAND`] are negative. In SQL, a key's band is
/// `(band_key >> 27) & 31` (SQLite shifts a negative number
/// arithmetically), so `(band_key >> 27) & 31 = 31` tells a fact key.
///
/// Two different slot triples (or figures) of one band share a key by
/// chance once in 2²⁷ (134 million): a new article's 20 bands then find
/// about one unrelated candidate per 6.7 million articles of the window
/// (0.7 % of lookups at 45,000). That changes no decision: [`verdict`]
/// accepts by wording only when the two share a band's slots
/// (`share_band` compares the slots, not the key), and by facts only when they share one of their smallest
/// figures ([`FactMatch::keyed`], the figures' hashes themselves), so a
/// candidate found by a collision is compared and refused. What a
/// collision can do is add a posting to a key: a key with exactly as many
/// postings of its own as the store's limit for a useful key (`HOT_BAND`,
/// 32) would then count one more and stop finding candidates, as a key of
/// a few more articles would.
pub fn index_key(band: u32, hash: u64) -> i32 {
    (band << KEY_HASH_BITS | (hash >> (64 - KEY_HASH_BITS)) as u32) as i32
}

/// The band number of an index key (see [`index_key`]).
pub fn key_band(key: i32) -> u32 {
    key as u32 >> KEY_HASH_BITS
}

/// How two fingerprints compare, named by the rule that decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// The same story by their wording, with this similarity.
    Same(f64),
    /// The same story by their facts (a re-telling): text similarity and
    /// facts score.
    SameFacts(f64, f64),
    /// One of the two has fewer than [`MIN_WORDS`] words.
    TooShort,
    /// Similarity below the threshold, and facts that do not match.
    Dissimilar(f64),
    /// Similar text, but less than [`MIN_NUMBER_OVERLAP`] of their numbers in
    /// common (this overlap) and more than one number apart: another
    /// version, score, date or forecast. One number added or dropped (an
    /// "UPDATE 1" tag, a new paragraph) is tolerated; one changed is two apart.
    NumbersDiffer(f64),
    /// Similar enough, but without a band key in common, so an index lookup
    /// would not find the pair; refused so that lookup and decision agree.
    NoSharedBand(f64),
    /// Similar text in two languages (this similarity), without the facts
    /// to confirm it.
    OtherLanguage(f64),
}

impl Verdict {
    /// The score when the verdict is "same story" (text similarity, or
    /// facts score for a re-telling).
    pub fn accepted(&self) -> Option<f64> {
        match *self {
            Verdict::Same(score) | Verdict::SameFacts(_, score) => Some(score),
            _ => None,
        }
    }
}

/// Compares two fingerprints, checking the rules in the order listed in
/// [`Verdict`]: first by wording, then, when the wording differs, by facts
/// ([`fact_match`]).
pub fn verdict(a: &Fingerprint, b: &Fingerprint, threshold: f64) -> Verdict {
    if a.words < MIN_WORDS || b.words < MIN_WORDS {
        return Verdict::TooShort;
    }
    let score = similarity(a, b);
    let one_language = facts::same_language(a.facts.lang(), b.facts.lang());
    let lexical = if score < threshold {
        Verdict::Dissimilar(score)
    } else {
        let numbers = number_overlap(a, b);
        let differing = (a.numbers ^ b.numbers).count_ones();
        if numbers < MIN_NUMBER_OVERLAP && differing > 1 {
            return Verdict::NumbersDiffer(numbers);
        } else if !share_band(a, b) {
            Verdict::NoSharedBand(score)
        } else if one_language || fact_match(a, b).is_some() {
            return Verdict::Same(score);
        } else {
            return Verdict::OtherLanguage(score);
        }
    };
    match facts_verdict(a, b) {
        Some(m) => Verdict::SameFacts(score, m.score),
        None => lexical,
    }
}

/// Decides whether two items tell the same story; `Some(score)` if so.
///
/// See [`verdict`] for the rules and the reason when they do not.
pub fn same_story(a: &Fingerprint, b: &Fingerprint, threshold: f64) -> Option<f64> {
    verdict(a, b, threshold).accepted()
}

/// Every index key of a fingerprint: its [`band_keys`], then its
/// [`fact_keys`]. Two items can be the same story only if they share one.
pub fn index_keys(print: &Fingerprint) -> impl Iterator<Item = i32> + '_ {
    band_keys(print).chain(fact_keys(print))
}

/// Whether all slots of some band agree, which is when band keys are equal.
fn share_band(a: &Fingerprint, b: &Fingerprint) -> bool {
    a.minhash
        .chunks_exact(ROWS)
        .zip(b.minhash.chunks_exact(ROWS))
        .any(|(x, y)| x == y)
}

/// Share of numbers (words with a digit) that two items have in common, in
/// `0.0..=1.0`; `1.0` if neither has any.
///
/// Estimated from 128-bit filters, so it errs slightly high.
pub fn number_overlap(a: &Fingerprint, b: &Fingerprint) -> f64 {
    let union = (a.numbers | b.numbers).count_ones();
    if union == 0 {
        return 1.0;
    }
    f64::from((a.numbers & b.numbers).count_ones()) / f64::from(union)
}

/// SplitMix64's finalizer: spreads a hash's bits before taking a few of them.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
pub(crate) mod tests;
