//! How [`Facts`] are stored in a fingerprint: compact, the facts kept and
//! no empty slot; and the fixed layout of earlier prints, which still
//! reads.

use super::{Facts, MAX_FIGURES, MAX_NAMES};

impl Facts {
    /// Bytes of the facts as fingerprints wrote them until schema 22: every
    /// slot, used or not (zeros). Also the longest compact encoding, both
    /// sketches full, where the two layouts are the same bytes.
    pub(in crate::dedup::story) const FIXED_LEN: usize = HEAD_LEN + 4 * (MAX_NAMES + MAX_FIGURES);

    /// Appends the facts, compact: language and the two counts (a byte
    /// each), the hour, then the names and the figures kept (each `u32`,
    /// little-endian): `7 + 4 × (names + figures)` bytes.
    pub(in crate::dedup::story) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.lang, self.n_names, self.n_figures]);
        for v in [self.hour].iter().chain(self.names()).chain(self.figures()) {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Reads [`Facts::write`], or the fixed layout of earlier prints
    /// ([`Facts::FIXED_LEN`] bytes, read as that whatever the counts: when
    /// both sketches are full the two layouts are the same bytes). `None`
    /// when the counts are out of range or the length is neither.
    pub(in crate::dedup::story) fn read(bytes: &[u8]) -> Option<Facts> {
        let [lang, n_names, n_figures, ..] = *bytes else {
            return None;
        };
        let (names, figures) = (usize::from(n_names), usize::from(n_figures));
        if names > MAX_NAMES || figures > MAX_FIGURES {
            return None;
        }
        // Where the figures start: after every name slot, or after the names kept.
        let figures_at = match bytes.len() {
            Self::FIXED_LEN => HEAD_LEN + 4 * MAX_NAMES,
            n if n == HEAD_LEN + 4 * (names + figures) => HEAD_LEN + 4 * names,
            _ => return None,
        };
        let values = |at: usize| {
            bytes[at..]
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        };
        let mut facts = Facts {
            lang,
            n_names,
            n_figures,
            hour: values(3).next()?,
            ..Facts::NONE
        };
        for (slot, v) in facts.names[..names].iter_mut().zip(values(HEAD_LEN)) {
            *slot = v;
        }
        for (slot, v) in facts.figures[..figures].iter_mut().zip(values(figures_at)) {
            *slot = v;
        }
        Some(facts)
    }
}

/// Bytes of the facts before the sketches: language, the two counts, the
/// hour.
const HEAD_LEN: usize = 3 + 4;
