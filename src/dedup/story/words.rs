//! Words of a story: plain text in, normalized word hashes out.
//!
//! This is the normalization every fingerprint is built on, so any change
//! here changes fingerprints and must bump `FINGERPRINT_VERSION`.
//!
//! - **Blocks.** Each line is a block, except that a line without final
//!   punctuation joins the next when that one opens in lowercase (prose
//!   wrapped at a fixed width). A line that opens with a boilerplate marker ("Advertisement",
//!   "Read more", "Image caption", "Share this", …) is dropped with whatever
//!   follows it on that line.
//! - **Prose.** Only blocks that end a sentence and hold at least
//!   [`MIN_PROSE_WORDS`] words count: navigation, date lines, bylines,
//!   headings, related-link lists and most captions carry no final full stop,
//!   so they weigh nothing. A text with no prose block at all (a bare summary)
//!   is read whole instead.
//! - **Words.** Maximal runs of letters and digits, lowercased, with Latin
//!   diacritics folded (`é` → `e`, `ß` → `ss`); a possessive `'s` is dropped
//!   and other apostrophes join (`won't` → `wont`). Digit groups keep their
//!   decimal point and lose thousands commas (`1,250` → `1250`, `1.2.3` stays).
//!   Han and kana characters are one word each, since those scripts put no
//!   spaces between words. English stopwords and single letters are dropped;
//!   any word holding a digit is kept and flagged, because numbers tell
//!   template-made items apart.
//!
//! Words are hashed as they are read (FNV-1a over the folded UTF-8 bytes), so
//! nothing is allocated per word.

/// A word as a fingerprint sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Word {
    /// FNV-1a of the normalized word; stable across runs and platforms.
    pub hash: u64,
    /// Whether the word holds a digit (years, scores, versions, amounts).
    pub numeric: bool,
}

/// Blocks with fewer words than this are not prose (headings, link titles).
pub(super) const MIN_PROSE_WORDS: usize = 6;

/// Calls `f` with every word of a title, in order.
pub(super) fn title_words(title: &str, f: impl FnMut(Word)) {
    let mut reader = Reader::new(f);
    reader.read(title);
}

/// Calls `f` with the words of the prose of `text`, in order, stopping after
/// `max` words.
pub(super) fn body_words(text: &str, max: usize, f: impl FnMut(Word)) {
    let mut reader = Reader::new(f);
    reader.max = max;
    let mut any_prose = false;
    for_each_block(text, |block, prose| {
        if prose {
            any_prose = true;
            reader.read(block);
        }
    });
    if !any_prose {
        for_each_block(text, |block, _| reader.read(block));
    }
}

/// Calls `f(block, is_prose)` for each block of `text`, boilerplate lines left out.
///
/// A block is one line, or several when a line without final punctuation is
/// followed by one that opens in lowercase (prose wrapped at a fixed width).
pub(super) fn for_each_block<'t>(text: &'t str, mut f: impl FnMut(&'t str, bool)) {
    let mut start: Option<usize> = None;
    let mut offset = 0;
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let line_start = offset;
        offset += line.len() + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || is_boilerplate(trimmed) {
            continue;
        }
        let block_start = *start.get_or_insert(line_start);
        let continues = !ends_sentence(trimmed)
            && lines
                .peek()
                .and_then(|next| next.trim_start().chars().next())
                .is_some_and(char::is_lowercase);
        if !continues {
            let block = &text[block_start..line_start + line.len()];
            let prose =
                ends_sentence(block) && block.split_whitespace().nth(MIN_PROSE_WORDS - 1).is_some();
            f(block, prose);
            start = None;
        }
    }
}

/// Whether a line ends a sentence, looking past closing quotes and brackets.
fn ends_sentence(line: &str) -> bool {
    let last = line
        .trim_end()
        .chars()
        .rev()
        .find(|c| !matches!(c, '"' | '\'' | '’' | '”' | '»' | ')' | ']' | '*'));
    matches!(last, Some('.' | '!' | '?' | '…' | '。' | '！' | '？'))
}

/// Line openings that mark page furniture rather than story text.
const BOILERPLATE: &[&str] = &[
    "advertisement",
    "advertising",
    "all rights reserved",
    "caption:",
    "click here",
    "copyright",
    "first published",
    "follow us",
    "image caption",
    "image source",
    "image:",
    "images:",
    "last updated",
    "listen:",
    "more on this story",
    "photo:",
    "pic:",
    "picture:",
    "posted:",
    "published:",
    "read more",
    "read next",
    "related:",
    "share on",
    "share this",
    "share:",
    "sign up",
    "skip to",
    "subscribe",
    "this article was",
    "updated:",
    "video:",
    "watch:",
    "©",
];

/// Whether a trimmed line opens with a boilerplate marker as a whole word.
fn is_boilerplate(line: &str) -> bool {
    let first = line.as_bytes().first().map(u8::to_ascii_lowercase);
    BOILERPLATE.iter().any(|marker| {
        first == marker.as_bytes().first().copied()
            && line
                .get(..marker.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(marker))
            && line[marker.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, usable in constants so the stopword table is built at compile time.
pub(super) const fn fnv(bytes: &[u8]) -> u64 {
    let mut hash = FNV_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// English words too common to tell stories apart, in their normalized form
/// (apostrophes joined: `don't` → `dont`; possessive `'s` already dropped).
const STOPWORDS: [&str; 141] = [
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "arent",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "cant",
    "could",
    "couldnt",
    "did",
    "didnt",
    "do",
    "does",
    "doesnt",
    "doing",
    "dont",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "hadnt",
    "has",
    "hasnt",
    "have",
    "havent",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "if",
    "in",
    "into",
    "is",
    "isnt",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "mr",
    "mrs",
    "ms",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "said",
    "same",
    "say",
    "says",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "wasnt",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "wont",
    "would",
    "you",
    "your",
];

/// Slots in [`STOPWORD_TABLE`]: a power of two, about four times the words,
/// so that a lookup mostly probes one slot.
const STOPWORD_SLOTS: usize = 512;

/// Hashes of [`STOPWORDS`] in an open-addressing table (0 marks a free slot),
/// built at compile time.
const STOPWORD_TABLE: [u64; STOPWORD_SLOTS] = {
    let mut table = [0; STOPWORD_SLOTS];
    let mut i = 0;
    while i < STOPWORDS.len() {
        let hash = fnv(STOPWORDS[i].as_bytes());
        let mut slot = hash as usize % STOPWORD_SLOTS;
        while table[slot] != 0 {
            slot = (slot + 1) % STOPWORD_SLOTS;
        }
        table[slot] = hash;
        i += 1;
    }
    table
};

/// Whether a word hash is a stopword's.
pub(super) fn is_stopword(hash: u64) -> bool {
    let mut slot = hash as usize % STOPWORD_SLOTS;
    loop {
        match STOPWORD_TABLE[slot] {
            0 => return false,
            found if found == hash => return true,
            _ => slot = (slot + 1) % STOPWORD_SLOTS,
        }
    }
}

/// Streams words out of text, one character at a time.
struct Reader<F> {
    emit: F,
    /// Words emitted so far, and the most this reader may emit.
    count: usize,
    max: usize,
    /// The word being read: running hash, character count, digit flag.
    hash: u64,
    chars: usize,
    numeric: bool,
    /// The hash before an apostrophe, and the characters read after it.
    apostrophe: Option<(u64, usize)>,
}

impl<F: FnMut(Word)> Reader<F> {
    fn new(emit: F) -> Self {
        Reader {
            emit,
            count: 0,
            max: usize::MAX,
            hash: FNV_OFFSET,
            chars: 0,
            numeric: false,
            apostrophe: None,
        }
    }

    fn read(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.count < self.max {
            let byte = bytes[i];
            let next_is_digit = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
            if byte.is_ascii_alphanumeric() {
                self.numeric |= byte.is_ascii_digit();
                self.push_byte(byte.to_ascii_lowercase());
                self.letter();
            } else if byte == b'\'' {
                self.apostrophe();
            } else if byte == b',' && self.numeric && next_is_digit(i + 1) {
                // A thousands separator: 1,250 reads as 1250.
            } else if byte == b'.' && self.numeric && next_is_digit(i + 1) {
                self.push_byte(b'.');
            } else if byte.is_ascii() {
                self.finish();
            } else {
                let c = text[i..].chars().next().unwrap_or_default();
                self.read_char(c);
                i += c.len_utf8();
                continue;
            }
            i += 1;
        }
        self.finish();
    }

    /// Reads a character outside ASCII.
    fn read_char(&mut self, c: char) {
        if is_ideograph(c) {
            self.finish();
            self.push(c);
            self.chars = 2; // a whole word, though one character
            self.finish();
        } else if c.is_alphanumeric() {
            self.numeric |= c.is_numeric();
            for lower in c.to_lowercase() {
                match fold(lower) {
                    Some(plain) => plain.bytes().for_each(|b| self.push_byte(b)),
                    None => self.push(lower),
                }
            }
            self.letter();
        } else if c == '’' {
            self.apostrophe();
        } else {
            self.finish();
        }
    }

    /// Counts a letter or digit just hashed.
    fn letter(&mut self) {
        self.chars += 1;
        if let Some((_, after)) = &mut self.apostrophe {
            *after += 1;
        }
    }

    /// An apostrophe inside a word joins it, or ends it if it is the second.
    fn apostrophe(&mut self) {
        if self.chars > 0 && self.apostrophe.is_none() {
            self.apostrophe = Some((self.hash, 0));
        } else {
            self.finish();
        }
    }

    fn push(&mut self, c: char) {
        let mut buf = [0; 4];
        c.encode_utf8(&mut buf)
            .bytes()
            .for_each(|b| self.push_byte(b));
    }

    fn push_byte(&mut self, b: u8) {
        self.hash = (self.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }

    fn finish(&mut self) {
        let mut hash = self.hash;
        let mut chars = self.chars;
        if let Some((before, after)) = self.apostrophe {
            // "Ukraine's" is "Ukraine"; the 's' was hashed after the mark.
            if after == 1 && hash == (before ^ u64::from(b's')).wrapping_mul(FNV_PRIME) {
                hash = before;
                chars -= 1;
            }
        }
        let keep = self.numeric || (chars > 1 && (chars > 10 || !is_stopword(hash)));
        if chars > 0 && keep && self.count < self.max {
            self.count += 1;
            (self.emit)(Word {
                hash,
                numeric: self.numeric,
            });
        }
        self.hash = FNV_OFFSET;
        self.chars = 0;
        self.numeric = false;
        self.apostrophe = None;
    }
}

/// Han ideographs and kana: scripts written without spaces between words.
pub(super) fn is_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0x20000..=0x2ffff)
}

/// The plain Latin spelling of a lowercase letter with a diacritic, if known.
pub(super) fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
