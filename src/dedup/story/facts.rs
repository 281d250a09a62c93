//! Facts of a story: the names and figures a report is built on, which a
//! re-telling keeps when it changes every sentence.
//!
//! - **Figures.** Every number of the title and the prose (the blocks that
//!   `words` reads), as a value: thousands separators dropped (`1,250` →
//!   1250), a decimal point kept, multipliers applied (`£6m`, `6 million`
//!   and `6,000,000` are one figure), ordinals read as numbers (`19th`).
//!   Whole numbers up to 10 (counts and scores everyone writes) and years
//!   (1900–2100, four digits) are left out: they tell nothing about which
//!   event a report is about.
//! - **Names.** Words with a capital letter inside a sentence (not its first
//!   word, nor the word after an opening quote), from the prose only (many
//!   headlines capitalise every word): people, places, organisations.
//!   Folded like `words` does and cut to their first [`NAME_PREFIX`]
//!   letters, so that `Ukraine` and `Ukrainian`, `Zelensky` and `Zelenskyy`
//!   are one name. Stopwords, days, months and titles (`Mr`, `President`)
//!   are left out.
//! - **Language.** A tag for the text: the language whose commonest words
//!   occur most (English, French, German, Spanish, Italian, Portuguese,
//!   Dutch), else the script its letters are written in. Facts only match
//!   within one tag. Scripts without capital letters (Han, kana, Hangul,
//!   Arabic, …) yield no names, so their facts never match on their own.
//!
//! Each kind is kept as a bottom-k sketch: the hashes of its distinct
//! facts, the [`MAX_NAMES`] or [`MAX_FIGURES`] smallest, sorted. Two
//! sketches are compared on the facts both would keep.
//!
//! Cost and bounds: one pass over at most [`MAX_TOKENS`] tokens of the
//! title and prose, whatever the input's size; a few small buffers per
//! article; the sketch is fixed-size in memory, and stored with the
//! facts it holds only (`7 + 4 × (names + figures)` bytes, at most 151).

use xxhash_rust::xxh3::xxh3_64;

use super::words::{self, for_each_block};

mod encoding;

/// Names kept in a sketch.
pub const MAX_NAMES: usize = 24;
/// Figures kept in a sketch.
pub const MAX_FIGURES: usize = 12;
/// Tokens read from title and text together; the rest is ignored.
pub const MAX_TOKENS: usize = 1_200;
/// Letters of a name that identify it.
pub const NAME_PREFIX: usize = 6;

/// A language or script tag; 0 for "unknown" (no letters).
pub type Lang = u8;

/// The facts of one article: a fixed-size sketch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// Smallest hashes of distinct names, ascending; `names[..n_names]`.
    pub(super) names: [u32; MAX_NAMES],
    /// Smallest hashes of distinct figures, ascending; `figures[..n_figures]`.
    pub(super) figures: [u32; MAX_FIGURES],
    pub(super) n_names: u8,
    pub(super) n_figures: u8,
    /// Language or script tag.
    pub(super) lang: Lang,
    /// When the article was published, in hours since 1970; 0 if unknown.
    pub(super) hour: u32,
}

impl Facts {
    /// No facts at all (what fingerprints stored before facts existed read as).
    pub const NONE: Facts = Facts {
        names: [0; MAX_NAMES],
        figures: [0; MAX_FIGURES],
        n_names: 0,
        n_figures: 0,
        lang: 0,
        hour: 0,
    };

    /// The names' hashes, ascending.
    pub fn names(&self) -> &[u32] {
        &self.names[..usize::from(self.n_names)]
    }

    /// The figures' hashes, ascending.
    pub fn figures(&self) -> &[u32] {
        &self.figures[..usize::from(self.n_figures)]
    }

    /// The language or script tag.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// When the article was published, in hours since 1970; 0 if unknown.
    pub fn hour(&self) -> u32 {
        self.hour
    }
}

/// How two sketches of one kind compare, on the facts both would keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// Facts in both.
    pub shared: usize,
    /// Facts in the first.
    pub left: usize,
    /// Facts in the second.
    pub right: usize,
}

/// Compares two sketches of at most `cap` facts each. When one is full, only
/// the facts below its largest count (the others might have been dropped
/// from it).
pub fn overlap(a: &[u32], b: &[u32], cap: usize) -> Overlap {
    let full = |s: &[u32]| (s.len() >= cap).then(|| s[s.len() - 1]);
    let limit = match (full(a), full(b)) {
        (Some(x), Some(y)) => x.min(y),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => u32::MAX,
    };
    let a = &a[..a.partition_point(|v| *v <= limit)];
    let b = &b[..b.partition_point(|v| *v <= limit)];
    Overlap {
        shared: a.iter().filter(|v| b.binary_search(v).is_ok()).count(),
        left: a.len(),
        right: b.len(),
    }
}

/// Whether two language tags may be the same language: equal, or one
/// unknown, or a language written in Latin letters and the Latin-script tag
/// (a text with too few common words to be told).
pub fn same_language(a: Lang, b: Lang) -> bool {
    let latin = |x: Lang, y: Lang| (1..=LANGS.len() as Lang).contains(&x) && y == 100;
    a == b || a == 0 || b == 0 || latin(a, b) || latin(b, a)
}

/// What kind of fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A name of a person, place or organisation.
    Name,
    /// A figure.
    Figure,
}

/// The facts of an article's title and plain text.
pub fn facts(title: &str, text: &str) -> Facts {
    let mut names = Vec::new();
    let mut figures = Vec::new();
    let lang = each_fact(title, text, |kind, hash, _| match kind {
        Kind::Name => names.push(hash),
        Kind::Figure => figures.push(hash),
    });
    let mut out = Facts {
        lang,
        ..Facts::NONE
    };
    out.n_names = bottom(&mut names, &mut out.names);
    out.n_figures = bottom(&mut figures, &mut out.figures);
    out
}

/// Keeps the smallest distinct values of `all` in `into`, ascending; how many.
fn bottom<const N: usize>(all: &mut Vec<u32>, into: &mut [u32; N]) -> u8 {
    all.sort_unstable();
    all.dedup();
    all.truncate(N);
    into[..all.len()].copy_from_slice(all);
    all.len() as u8
}

/// The facts two texts share, as the first text writes them (for
/// `tributary explain`): figures first, then names, each once, in the
/// first text's order.
pub fn shared(a: (&str, &str), b: (&str, &str)) -> Vec<(Kind, String)> {
    let mut theirs = std::collections::HashSet::new();
    each_fact(b.0, b.1, |kind, hash, _| {
        theirs.insert((kind, hash));
    });
    let mut out: Vec<(Kind, u32, String)> = Vec::new();
    each_fact(a.0, a.1, |kind, hash, shown| {
        if theirs.contains(&(kind, hash)) && !out.iter().any(|(k, h, _)| (*k, *h) == (kind, hash)) {
            out.push((kind, hash, shown.to_owned()));
        }
    });
    out.sort_by_key(|(kind, ..)| *kind == Kind::Name);
    out.into_iter().map(|(k, _, s)| (k, s)).collect()
}

/// Calls `f(kind, hash, as written)` for every fact of title and text, in
/// order (repeats included); returns the language tag.
fn each_fact(title: &str, text: &str, mut f: impl FnMut(Kind, u32, &str)) -> Lang {
    let mut tokens = Vec::new();
    let mut budget = MAX_TOKENS;
    let mut votes = Votes::default();
    tokenize(title, &mut tokens, &mut budget);
    figures_of(title, &tokens, &mut f);
    // The text's blocks, found once (slices of `text`): whether any is
    // prose decides which are read.
    let mut blocks: Vec<(&str, bool)> = Vec::new();
    for_each_block(text, |block, is_prose| blocks.push((block, is_prose)));
    let prose = blocks.iter().any(|(_, is_prose)| *is_prose);
    for (block, is_prose) in blocks {
        if budget == 0 {
            break;
        }
        if prose && !is_prose {
            continue;
        }
        tokenize(block, &mut tokens, &mut budget);
        votes.count(block, &tokens);
        figures_of(block, &tokens, &mut f);
        names_of(block, &tokens, &mut f);
    }
    votes.tag()
}

/// One token of a block: its byte range, and whether it opens a sentence.
#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
    opens: bool,
}

/// Splits `block` into tokens (runs of letters and digits, with an
/// apostrophe inside a word, and `,` or `.` between digits), at most
/// `budget` of them.
fn tokenize(block: &str, out: &mut Vec<Token>, budget: &mut usize) {
    out.clear();
    let bytes = block.as_bytes();
    let mut opens = true;
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        // Runs of ASCII letters and digits, the bulk of most text, join
        // without decoding a character or asking the Unicode tables.
        if bytes[i].is_ascii_alphanumeric() {
            start.get_or_insert(i);
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                i += 1;
            }
            continue;
        }
        let c = block[i..].chars().next().expect("a character starts here");
        let after = i + c.len_utf8();
        let next = || block[after..].chars().next();
        let joins = (!c.is_ascii() && c.is_alphanumeric() && !words::is_ideograph(c))
            || (start.is_some()
                && matches!(c, '\'' | '’')
                && next().is_some_and(char::is_alphabetic))
            || (matches!(c, ',' | '.')
                && start.is_some_and(|s| bytes[s].is_ascii_digit())
                && next().is_some_and(|n| n.is_ascii_digit()));
        if joins {
            start.get_or_insert(i);
            i = after;
            continue;
        }
        if let Some(s) = start.take() {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            out.push(Token {
                start: s,
                end: i,
                opens,
            });
            opens = false;
        }
        if matches!(
            c,
            '.' | '!' | '?' | ':' | ';' | '"' | '“' | '‘' | '«' | '(' | '—'
        ) || words::is_ideograph(c)
        {
            opens = true;
        }
        i = after;
    }
    if let Some(s) = start {
        if *budget > 0 {
            *budget -= 1;
            out.push(Token {
                start: s,
                end: block.len(),
                opens,
            });
        }
    }
}

/// Calls `f` with each figure among `tokens` of `block`.
fn figures_of(block: &str, tokens: &[Token], f: &mut impl FnMut(Kind, u32, &str)) {
    for (n, t) in tokens.iter().enumerate() {
        let word = &block[t.start..t.end];
        if !word.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let digits = word
            .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
            .unwrap_or(word.len());
        let (number, suffix) = word.split_at(digits);
        let grouped = number.contains(',');
        let Ok(mut value) = number.replace(',', "").parse::<f64>() else {
            continue;
        };
        let next = tokens.get(n + 1).map(|t| &block[t.start..t.end]);
        let multiplier = scale(&suffix.to_ascii_lowercase()).or_else(|| {
            suffix
                .is_empty()
                .then(|| next.and_then(scale_word))
                .flatten()
        });
        let whole = value.fract() == 0.0 && !number.contains('.');
        let year = whole && !grouped && number.len() == 4 && (1900.0..=2100.0).contains(&value);
        if let Some(m) = multiplier {
            value *= m;
        } else if year || (whole && value <= 10.0) {
            continue;
        }
        // Shown with the word after it when that is a unit or a noun
        // ("90 settlements", "6 million"), not a name or a stopword.
        let shown = match tokens.get(n + 1) {
            Some(u)
                if suffix.is_empty()
                    && block[t.end..u.start].trim().is_empty()
                    && block[u.start..u.end].starts_with(char::is_lowercase)
                    && !words::is_stopword(words::fnv(&block.as_bytes()[u.start..u.end])) =>
            {
                &block[t.start..u.end]
            }
            _ => word,
        };
        let canonical = format!("{}", (value * 1000.0).round() / 1000.0);
        f(Kind::Figure, hash32(b'#', &canonical), shown);
    }
}

/// The multiplier a suffix written onto a number stands for (`6m`, `2bn`,
/// `40k`); ordinals and units multiply by one.
fn scale(suffix: &str) -> Option<f64> {
    match suffix {
        "k" => Some(1e3),
        "m" | "mn" => Some(1e6),
        "b" | "bn" => Some(1e9),
        "tn" => Some(1e12),
        _ => None,
    }
}

/// The multiplier a word after a number stands for (`6 million`).
fn scale_word(word: &str) -> Option<f64> {
    match word.to_ascii_lowercase().as_str() {
        "thousand" => Some(1e3),
        "million" | "millions" | "mn" | "m" => Some(1e6),
        "billion" | "billions" | "bn" => Some(1e9),
        "trillion" | "trillions" | "tn" => Some(1e12),
        _ => None,
    }
}

/// Calls `f` with each name among `tokens` of `block`.
fn names_of(block: &str, tokens: &[Token], f: &mut impl FnMut(Kind, u32, &str)) {
    let mut folded = String::new();
    for t in tokens.iter().filter(|t| !t.opens) {
        let word = &block[t.start..t.end];
        let word = word
            .strip_suffix("'s")
            .or_else(|| word.strip_suffix("’s"))
            .unwrap_or(word);
        if !word.starts_with(char::is_uppercase) || !word.chars().all(char::is_alphabetic) {
            continue;
        }
        folded.clear();
        for c in word.chars().flat_map(char::to_lowercase) {
            match words::fold(c) {
                Some(plain) => folded.push_str(plain),
                None => folded.push(c),
            }
        }
        if folded.chars().count() < 2
            || words::is_stopword(words::fnv(folded.as_bytes()))
            || NOT_NAMES.contains(&folded.as_str())
        {
            continue;
        }
        let key: String = folded.chars().take(NAME_PREFIX).collect();
        f(Kind::Name, hash32(b'@', &key), word);
    }
}

/// Capitalised words that name no one in particular.
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
    "president", "minister", "prime", "chief", "secretary", "general", "professor", "dr",
    "sir", "dame", "lord", "lady", "st", "mt", "gmt", "bst", "utc", "am", "pm", "i",
];

/// A 32-bit hash of a fact, its kind's tag first; never 0.
fn hash32(tag: u8, s: &str) -> u32 {
    let mut bytes = Vec::with_capacity(s.len() + 1);
    bytes.push(tag);
    bytes.extend_from_slice(s.as_bytes());
    (xxh3_64(&bytes) as u32).max(1)
}

/// Language guesses from each language's commonest words, and script counts.
#[derive(Default)]
struct Votes {
    langs: [u32; LANGS.len()],
    scripts: [u32; SCRIPTS],
}

/// Commonest words of the languages told apart by name, in tag order (1…).
const LANGS: [&[&str]; 7] = [
    &[
        "the", "and", "of", "to", "was", "with", "that", "for", "is", "has",
    ],
    &[
        "le", "les", "des", "et", "est", "une", "dans", "pour", "sur", "au",
    ],
    &[
        "der", "die", "und", "das", "ist", "nicht", "mit", "den", "von", "sich",
    ],
    &[
        "el", "los", "las", "y", "del", "una", "por", "con", "para", "se",
    ],
    &[
        "il", "di", "che", "della", "gli", "sono", "per", "nel", "non", "alla",
    ],
    &[
        "os", "da", "do", "em", "uma", "não", "com", "dos", "para", "foi",
    ],
    &[
        "het", "een", "van", "en", "niet", "zijn", "met", "op", "voor", "werd",
    ],
];

/// The languages whose commonest words include `lower` (a lowercase
/// word, in UTF-8), as bits in [`LANGS`]' order.
fn common_in(lower: &[u8]) -> u8 {
    /// A word of at most 8 bytes as a number.
    fn key(word: &[u8]) -> Option<u64> {
        let mut b = [0u8; 8];
        b.get_mut(..word.len())?.copy_from_slice(word);
        Some(u64::from_le_bytes(b))
    }
    /// Every common word's key and languages, sorted by key.
    static TABLE: std::sync::LazyLock<Vec<(u64, u8)>> = std::sync::LazyLock::new(|| {
        let mut table: Vec<(u64, u8)> = Vec::new();
        for (lang, common) in LANGS.iter().enumerate() {
            for word in *common {
                let k = key(word.as_bytes()).expect("common words are short");
                match table.iter_mut().find(|(w, _)| *w == k) {
                    Some((_, langs)) => *langs |= 1 << lang,
                    None => table.push((k, 1 << lang)),
                }
            }
        }
        table.sort_unstable();
        table
    });
    key(lower)
        .and_then(|k| TABLE.binary_search_by_key(&k, |(w, _)| *w).ok())
        .map_or(0, |i| TABLE[i].1)
}

/// Scripts told apart (tags from 100): Latin, Cyrillic, Greek, Arabic,
/// Hebrew, Han and kana, Hangul, Devanagari, Thai, other.
const SCRIPTS: usize = 10;

impl Votes {
    fn count(&mut self, block: &str, tokens: &[Token]) {
        for t in tokens {
            let word = &block[t.start..t.end];
            if word.len() <= 5 {
                // Short ASCII words are lowered on the stack: no allocation
                // per word.
                let mut buf = [0u8; 5];
                let owned;
                let lower: &[u8] = if word.is_ascii() {
                    buf[..word.len()].copy_from_slice(word.as_bytes());
                    buf[..word.len()].make_ascii_lowercase();
                    &buf[..word.len()]
                } else {
                    owned = word.to_lowercase();
                    owned.as_bytes()
                };
                let mask = common_in(lower);
                for (lang, votes) in self.langs.iter_mut().enumerate() {
                    *votes += u32::from(mask >> lang & 1);
                }
            }
            if let Some(c) = word.chars().next().filter(|c| c.is_alphabetic()) {
                self.scripts[script(c)] += 1;
            }
        }
        // Ideographs are never ASCII.
        let wide = if block.is_ascii() { "" } else { block };
        for c in wide.chars().filter(|&c| words::is_ideograph(c)) {
            self.scripts[script(c)] += 1;
        }
    }

    /// The tag: a language with enough votes, else the commonest script.
    fn tag(&self) -> Lang {
        let (best, votes) = self
            .langs
            .iter()
            .enumerate()
            .max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)))
            .expect("languages");
        let letters: u32 = self.scripts.iter().sum();
        if *votes >= 3 && self.scripts[0] * 2 > letters {
            return best as Lang + 1;
        }
        match self.scripts.iter().enumerate().max_by_key(|(_, v)| **v) {
            Some((s, v)) if *v > 0 => 100 + s as Lang,
            _ => 0,
        }
    }
}

/// The script of a letter, as an index into [`Votes::scripts`].
fn script(c: char) -> usize {
    match c as u32 {
        0..=0x24f | 0x1e00..=0x1eff => 0,
        0x400..=0x52f => 1,
        0x370..=0x3ff | 0x1f00..=0x1fff => 2,
        0x600..=0x6ff | 0x750..=0x77f => 3,
        0x590..=0x5ff => 4,
        0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0x20000.. => 5,
        0xac00..=0xd7af | 0x1100..=0x11ff => 6,
        0x900..=0x97f => 7,
        0xe00..=0xe7f => 8,
        _ => 9,
    }
}

#[cfg(test)]
mod tests;
