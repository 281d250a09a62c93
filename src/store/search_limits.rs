//! What a search may cost: bounds on a query's shape, checked before
//! SQLite sees it, and on its running time, enforced while SQLite runs it.
//!
//! FTS5 does the matching of a query inside one step that cannot be
//! interrupted: each term's list of articles is read and merged, and a
//! prefix term (`harb*`) reads the lists of every word that starts with it
//! (`a*` reads a sizeable part of the index). That work grows with the
//! number of terms, and with how short the prefixes are, so the shape is
//! bounded first; after the matching, scoring and snippets run row by row,
//! and there the time limit interrupts SQLite (`sqlite3_interrupt`, from a
//! watch thread that wakes at the deadline).
//!
//! Pure: the query's text in, its shape or the reason it is refused out.

use std::time::Duration;

/// What a search may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimits {
    /// Longest query, in bytes.
    pub max_bytes: usize,
    /// Most terms (words, quoted or not, column names included; `AND`,
    /// `OR`, `NOT` and `NEAR` are operators and not counted).
    pub max_terms: usize,
    /// Most prefix terms (`harb*`).
    pub max_prefixes: usize,
    /// Shortest prefix, in characters, before a `*`.
    pub min_prefix_chars: usize,
    /// Longest time a search runs before SQLite is interrupted.
    pub time_limit: Duration,
}

impl SearchLimits {
    /// The server's `/search`: anyone who reaches the server may ask.
    pub const SERVER: SearchLimits = SearchLimits {
        max_bytes: 256,
        max_terms: 16,
        max_prefixes: 4,
        min_prefix_chars: 3,
        time_limit: Duration::from_secs(1),
    };

    /// `tributary search`: the operator's own command, bounded generously
    /// (and Ctrl-C stops it anyway).
    pub const COMMAND_LINE: SearchLimits = SearchLimits {
        max_bytes: 4_096,
        max_terms: 256,
        max_prefixes: 64,
        min_prefix_chars: 1,
        time_limit: Duration::from_secs(60),
    };
}

/// Why a query is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryRefused {
    /// Over [`SearchLimits::max_bytes`].
    #[error("the query is longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// Over [`SearchLimits::max_terms`].
    #[error("the query has {found} words; at most {limit} are searched")]
    TooManyTerms {
        /// Words in the query.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// Over [`SearchLimits::max_prefixes`].
    #[error("the query has {found} prefix searches (word*); at most {limit} are allowed")]
    TooManyPrefixes {
        /// Prefix terms in the query.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// A prefix shorter than [`SearchLimits::min_prefix_chars`].
    #[error("a prefix search (word*) needs at least {limit} letters before the *")]
    ShortPrefix {
        /// The limit.
        limit: usize,
    },
}

/// How a query is built: what the limits are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryShape {
    /// Terms (see [`SearchLimits::max_terms`]).
    pub terms: usize,
    /// Prefix terms.
    pub prefixes: usize,
    /// Characters of the shortest prefix, when there is one.
    pub shortest_prefix: Option<usize>,
}

impl SearchLimits {
    /// Whether `query` is within these limits.
    pub fn check(&self, query: &str) -> Result<QueryShape, QueryRefused> {
        if query.len() > self.max_bytes {
            return Err(QueryRefused::TooLong {
                limit: self.max_bytes,
            });
        }
        let shape = QueryShape::of(query);
        if shape.terms > self.max_terms {
            return Err(QueryRefused::TooManyTerms {
                found: shape.terms,
                limit: self.max_terms,
            });
        }
        if shape.prefixes > self.max_prefixes {
            return Err(QueryRefused::TooManyPrefixes {
                found: shape.prefixes,
                limit: self.max_prefixes,
            });
        }
        if shape
            .shortest_prefix
            .is_some_and(|n| n < self.min_prefix_chars)
        {
            return Err(QueryRefused::ShortPrefix {
                limit: self.min_prefix_chars,
            });
        }
        Ok(shape)
    }
}

impl QueryShape {
    /// The shape of `query`, read as FTS5's tokenizer reads words: runs of
    /// letters and digits (any script), inside quotes or not. A word
    /// followed by `*` (after a closing quote or spaces, too) is a prefix;
    /// a `*` after
    /// anything else reads no index and is not counted. Bare `AND`, `OR`,
    /// `NOT`, `NEAR` are operators. Counting errs on the side of more
    /// terms (a column name before `:` counts), never fewer.
    pub fn of(query: &str) -> QueryShape {
        let mut shape = QueryShape::default();
        let mut quoted = false;
        // The word just ended (its length in characters), while nothing
        // but a closing quote has followed it.
        let mut last_word: Option<usize> = None;
        let mut chars = query.chars().peekable();
        while let Some(c) = chars.next() {
            if is_word_char(c) {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek().filter(|n| is_word_char(**n)) {
                    word.push(next);
                    chars.next();
                }
                let operator = !quoted && matches!(word.as_str(), "AND" | "OR" | "NOT" | "NEAR");
                if !operator {
                    shape.terms += 1;
                    last_word = Some(word.chars().count());
                } else {
                    last_word = None;
                }
                continue;
            }
            match c {
                '"' => {
                    quoted = !quoted;
                    // A closing quote keeps the word before it for a `*`.
                    if quoted {
                        last_word = None;
                    }
                }
                '*' if !quoted => {
                    if let Some(n) = last_word.take() {
                        shape.prefixes += 1;
                        shape.shortest_prefix = Some(shape.shortest_prefix.map_or(n, |s| s.min(n)));
                    }
                }
                // FTS5 reads `harb *` as `harb*`.
                c if c.is_whitespace() => {}
                _ => last_word = None,
            }
        }
        shape
    }
}

/// Characters the `unicode61` tokenizer keeps in words (letters, digits,
/// and everything outside ASCII, which it splits only on Unicode spaces
/// and punctuation): counting every non-ASCII character as a word
/// character over-counts nothing and never merges two of its words.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || (!c.is_ascii() && !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(q: &str) -> (usize, usize, Option<usize>) {
        let s = QueryShape::of(q);
        (s.terms, s.prefixes, s.shortest_prefix)
    }

    #[test]
    fn terms_prefixes_and_operators() {
        assert_eq!(shape("bridge"), (1, 0, None));
        assert_eq!(shape("bridge OR ferry"), (2, 0, None));
        assert_eq!(shape("harb* AND fer*"), (2, 2, Some(3)));
        assert_eq!(shape("\"exact phrase\" title:bridge"), (4, 0, None));
        assert_eq!(shape("\"harb\"*"), (1, 1, Some(4)));
        assert_eq!(
            shape("\"harb*\""),
            (1, 0, None),
            "a star inside quotes is text"
        );
        assert_eq!(
            shape("\"or and\""),
            (2, 0, None),
            "quoted operators are words"
        );
        assert_eq!(shape("NEAR(a b, 10)"), (3, 0, None));
        assert_eq!(shape("* ** ^*"), (0, 0, None));
        assert_eq!(
            shape("harb * \"fe\" *"),
            (2, 2, Some(2)),
            "spaces before a star"
        );
        assert_eq!(shape("ab_c*"), (2, 1, Some(1)), "the tokenizer splits at _");
        assert_eq!(shape("a* OR b* OR cd*"), (3, 3, Some(1)));
        assert_eq!(shape("ひらがな* über*"), (2, 2, Some(4)));
        assert_eq!(shape("C++ covid-19"), (3, 0, None));
        assert_eq!(shape(""), (0, 0, None));
    }

    #[test]
    fn limits_refuse_each_expensive_shape() {
        let l = SearchLimits::SERVER;
        assert!(l.check("harbour bridge OR ferr*").is_ok());
        let many_prefixes = "a* OR b* OR c* OR d* OR e* OR f* OR g*";
        assert!(matches!(
            l.check(many_prefixes),
            Err(QueryRefused::TooManyPrefixes { found: 7, .. })
        ));
        assert_eq!(
            l.check("ab* OR bridge"),
            Err(QueryRefused::ShortPrefix { limit: 3 })
        );
        let words = vec!["w"; 17].join(" ");
        assert!(matches!(
            l.check(&words),
            Err(QueryRefused::TooManyTerms { found: 17, .. })
        ));
        assert_eq!(
            l.check(&"x".repeat(257)),
            Err(QueryRefused::TooLong { limit: 256 })
        );
        // The command line is more generous but bounded too.
        assert!(SearchLimits::COMMAND_LINE.check(many_prefixes).is_ok());
        assert!(SearchLimits::COMMAND_LINE.check(&"a* ".repeat(65)).is_err());
    }
}
