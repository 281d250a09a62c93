//! The synthetic corpus: which feeds exist, what each lists, and the ground
//! truth to check the store against.
//!
//! A Rust port of the plan in the shared `bench/feedgen.py`, with its
//! defaults: 55 % RSS 2.0, 35 % Atom 1.0, 10 % JSON Feed 1.1; 10 % of all
//! entry slots are cross-feed copies of an article another feed published
//! first (40 % with `utm_*` tracking parameters on the link and that link as
//! guid, 40 % with the same link under a feed-specific guid, 20 % with the
//! same guid and link); 5 % of entries carry no guid at all. Copies are
//! drawn from a "popular" pool of half as many originals as there are
//! copies, so many articles appear in three or more feeds. An update round
//! prepends fresh entries to a deterministic sample of the feeds.
//!
//! The random streams differ from Python's, so the documents are not the
//! same bytes as `feedgen.py`'s, but the proportions, sizes and kinds of
//! sameness are, and [`Truth`] counts the same things as its manifest.

use super::prose::{self, FeedTraits, GuidStyle};
use super::rng::Rng;

/// 2024-06-01T00:00:00Z: every date in the corpus is relative to it.
pub const BASE_EPOCH: i64 = 1_717_200_000;

/// What to generate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Params {
    /// Everything derives from it.
    pub seed: u64,
    /// Number of feeds.
    pub feeds: usize,
    /// Entries per feed.
    pub entries: usize,
    /// Fraction of entry slots that are cross-feed copies.
    pub dup_frac: f64,
    /// Fraction of entries without a guid.
    pub noguid_frac: f64,
    /// Fraction of feeds in Atom.
    pub atom_frac: f64,
    /// Fraction of feeds in JSON Feed.
    pub json_frac: f64,
}

impl Params {
    /// The shared generator's defaults for `feeds` × `entries`.
    pub fn new(seed: u64, feeds: usize, entries: usize) -> Params {
        Params {
            seed,
            feeds,
            entries,
            dup_frac: 0.10,
            noguid_frac: 0.05,
            atom_frac: 0.35,
            json_frac: 0.10,
        }
    }
}

/// The format of a synthetic feed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0.
    Atom,
    /// JSON Feed 1.1.
    Json,
}

impl SourceFormat {
    /// File name extension, as the Python generator names files.
    pub fn extension(self) -> &'static str {
        match self {
            SourceFormat::Rss => "xml",
            SourceFormat::Atom => "atom",
            SourceFormat::Json => "json",
        }
    }

    /// The `Content-Type` the server sends.
    pub fn content_type(self) -> &'static str {
        match self {
            SourceFormat::Rss => "application/rss+xml; charset=utf-8",
            SourceFormat::Atom => "application/atom+xml; charset=utf-8",
            SourceFormat::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// How an entry relates to the article it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The first publication.
    Original,
    /// A copy whose link (and guid) carry `utm_*` parameters.
    Utm,
    /// A copy with the same link under a feed-specific guid.
    Reguid,
    /// A copy with the same guid and link.
    Exact,
}

/// One entry of one feed.
#[derive(Debug, Clone)]
pub struct PlannedEntry {
    /// The article it carries (the ground-truth identity).
    pub aid: u64,
    /// Original or which kind of copy.
    pub kind: Kind,
    /// Its link.
    pub link: String,
    /// Its guid, unless it has none.
    pub guid: Option<String>,
    /// Publication time, Unix seconds.
    pub date: i64,
}

/// One feed and what it lists, newest first.
#[derive(Debug, Clone)]
pub struct PlannedFeed {
    /// 1-based number; `f00001`.
    pub idx: u64,
    /// Document format.
    pub format: SourceFormat,
    /// Title, site, guid habits.
    pub traits: FeedTraits,
    /// Entries, newest first.
    pub entries: Vec<PlannedEntry>,
}

impl PlannedFeed {
    /// `f00001`.
    pub fn id(&self) -> String {
        format!("f{:05}", self.idx)
    }

    /// The URL path it is served at: `/feeds/f00001.xml`.
    pub fn path(&self) -> String {
        format!("/feeds/{}.{}", self.id(), self.format.extension())
    }
}

/// What a correct aggregator stores for the corpus as it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Truth {
    /// Entries over all feeds (the rows `entries` must hold).
    pub entries: u64,
    /// Distinct articles (the rows `articles` must hold with dedup on).
    pub distinct_articles: u64,
    /// Copies with `utm_*` links.
    pub utm_copies: u64,
    /// Copies under a new guid.
    pub reguid_copies: u64,
    /// Copies under the same guid.
    pub exact_copies: u64,
    /// Entries without a guid.
    pub no_guid: u64,
    /// Feeds per format: RSS, Atom, JSON Feed.
    pub feeds_by_format: [u64; 3],
}

/// The whole corpus plan.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// How it was made.
    pub params: Params,
    /// Every feed.
    pub feeds: Vec<PlannedFeed>,
    next_aid: u64,
}

impl Corpus {
    /// Plans the corpus for `params` (documents are rendered separately).
    pub fn plan(params: Params) -> Corpus {
        let seed = params.seed;
        let mut r = Rng::keyed(seed, "corpus", 0);
        let n = params.feeds;
        let n_json = (n as f64 * params.json_frac).round() as usize;
        let n_atom = (n as f64 * params.atom_frac).round() as usize;
        let mut formats: Vec<SourceFormat> = std::iter::repeat_n(SourceFormat::Json, n_json)
            .chain(std::iter::repeat_n(SourceFormat::Atom, n_atom))
            .chain(std::iter::repeat_n(
                SourceFormat::Rss,
                n.saturating_sub(n_json + n_atom),
            ))
            .collect();
        r.shuffle(&mut formats);
        let mut next_aid = 1;
        // (aid, feed index, date, link, guid) of every original.
        let mut originals: Vec<(u64, usize, i64, String, Option<String>)> = Vec::new();
        let mut dup_slots: Vec<(usize, usize, i64)> = Vec::new();
        let mut feeds = Vec::with_capacity(n);
        for (i, format) in formats.into_iter().enumerate() {
            let idx = i as u64 + 1;
            let traits = prose::feed_traits(seed, idx);
            let mut fr = Rng::keyed(seed, "slots", idx);
            let newest = BASE_EPOCH - fr.range(0, 86_400);
            let mut entries = Vec::with_capacity(params.entries);
            for j in 0..params.entries {
                let date = newest - j as i64 * traits.interval - fr.range(0, traits.interval / 2);
                if fr.unit() < params.dup_frac {
                    dup_slots.push((i, j, date));
                    entries.push(None);
                    continue;
                }
                let aid = next_aid;
                next_aid += 1;
                let e = original(seed, &traits, idx, aid, date);
                originals.push((aid, i, date, e.link.clone(), e.guid.clone()));
                entries.push(Some(e));
            }
            feeds.push((idx, format, traits, entries));
        }
        // Copies come from a popular pool, so some articles get several.
        let pool_n = (dup_slots.len() / 2).max(1).min(originals.len());
        let mut order: Vec<usize> = (0..originals.len()).collect();
        r.shuffle(&mut order);
        let pool: Vec<usize> = order.into_iter().take(pool_n).collect();
        let mut used = std::collections::HashSet::new();
        for (i, j, date) in dup_slots {
            let (idx, _, traits, entries) = &mut feeds[i];
            let chosen = (0..20).find_map(|_| {
                if pool.is_empty() {
                    return None;
                }
                let c = *r.pick(&pool);
                (originals[c].1 != i && !used.contains(&(originals[c].0, i))).then_some(c)
            });
            let Some(c) = chosen else {
                // A tiny corpus: make it an original instead.
                let aid = next_aid;
                next_aid += 1;
                entries[j] = Some(original(seed, traits, *idx, aid, date));
                continue;
            };
            let (aid, _, odate, olink, oguid) = &originals[c];
            used.insert((*aid, i));
            let roll = r.unit();
            let kind = if roll < 0.4 {
                Kind::Utm
            } else if roll < 0.8 {
                Kind::Reguid
            } else {
                Kind::Exact
            };
            let (link, guid) = match kind {
                Kind::Utm => {
                    let l = format!(
                        "{olink}?utm_source=f{idx:05}&utm_medium=rss&utm_campaign=syndication"
                    );
                    (l.clone(), Some(l))
                }
                Kind::Reguid => (
                    olink.clone(),
                    Some(format!("tag:site{idx:05}.example.com,2024:repost/{aid}")),
                ),
                _ => (olink.clone(), oguid.clone()),
            };
            let date = odate + r.range(300, 36 * 3600);
            entries[j] = Some(PlannedEntry {
                aid: *aid,
                kind,
                link,
                guid,
                date,
            });
        }
        let feeds = feeds
            .into_iter()
            .map(|(idx, format, traits, entries)| {
                let mut fr = Rng::keyed(seed, "noguid", idx);
                let mut entries: Vec<PlannedEntry> = entries.into_iter().flatten().collect();
                for e in &mut entries {
                    if fr.unit() < params.noguid_frac {
                        e.guid = None;
                    }
                }
                entries.sort_by_key(|e| -e.date);
                PlannedFeed {
                    idx,
                    format,
                    traits,
                    entries,
                }
            })
            .collect();
        Corpus {
            params,
            feeds,
            next_aid,
        }
    }

    /// Update round `round`: `new` fresh entries at the top of
    /// `round(frac × feeds)` feeds (at least one), chosen from `(seed,
    /// round)`. Returns the indices (into [`Corpus::feeds`]) of the feeds
    /// that changed.
    pub fn update(&mut self, round: u64, frac: f64, new: usize) -> Vec<usize> {
        let seed = self.params.seed;
        let n = self.feeds.len();
        let k = ((n as f64 * frac).round() as usize).clamp(1, n.max(1));
        let mut r = Rng::keyed(seed, "update", round);
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + r.below((n - i) as u64) as usize;
            all.swap(i, j);
        }
        let mut chosen: Vec<usize> = all.into_iter().take(k).collect();
        chosen.sort_unstable();
        let stamp = BASE_EPOCH + round as i64 * 3600;
        for &i in &chosen {
            let feed = &mut self.feeds[i];
            let mut fresh: Vec<PlannedEntry> = (0..new)
                .map(|m| {
                    let aid = self.next_aid;
                    self.next_aid += 1;
                    let date = stamp + m as i64 * 60 + i as i64;
                    original(seed, &feed.traits, feed.idx, aid, date)
                })
                .collect();
            fresh.sort_by_key(|e| -e.date);
            fresh.append(&mut feed.entries);
            feed.entries = fresh;
        }
        chosen
    }

    /// Counts what a correct store holds for the corpus as it stands.
    pub fn truth(&self) -> Truth {
        let mut t = Truth::default();
        let mut aids = std::collections::HashSet::new();
        for f in &self.feeds {
            t.feeds_by_format[f.format as usize] += 1;
            for e in &f.entries {
                t.entries += 1;
                t.no_guid += u64::from(e.guid.is_none());
                match e.kind {
                    Kind::Original => {}
                    Kind::Utm => t.utm_copies += 1,
                    Kind::Reguid => t.reguid_copies += 1,
                    Kind::Exact => t.exact_copies += 1,
                }
                aids.insert(e.aid);
            }
        }
        t.distinct_articles = aids.len() as u64;
        t
    }
}

fn original(seed: u64, traits: &FeedTraits, idx: u64, aid: u64, date: i64) -> PlannedEntry {
    let link = link(seed, &traits.site, date, aid);
    let guid = match traits.guid_style {
        GuidStyle::Permalink => link.clone(),
        GuidStyle::Opaque => format!("site{idx:05}-post-{aid}"),
        GuidStyle::Tag => format!("tag:site{idx:05}.example.com,2024:post/{aid}"),
        GuidStyle::Uuid => {
            let h = xxhash_rust::xxh3::xxh3_128(format!("uuid\x1f{idx}\x1f{aid}").as_bytes());
            format!("urn:uuid:{h:032x}")
        }
    };
    PlannedEntry {
        aid,
        kind: Kind::Original,
        link,
        guid: Some(guid),
        date,
    }
}

fn link(seed: u64, site: &str, date: i64, aid: u64) -> String {
    let d = chrono::DateTime::from_timestamp(date, 0).unwrap_or_default();
    let slug = prose::slug(&prose::title(seed, aid));
    format!("{site}/{}/{}/{slug}-{aid}", d.format("%Y"), d.format("%m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_has_the_shared_generators_proportions() {
        let c = Corpus::plan(Params::new(42, 200, 50));
        let t = c.truth();
        assert_eq!(t.entries, 10_000);
        assert_eq!(t.feeds_by_format, [110, 70, 20]);
        let copies = t.utm_copies + t.reguid_copies + t.exact_copies;
        assert!((800..1200).contains(&copies), "copies {copies}");
        assert_eq!(t.distinct_articles, t.entries - copies);
        assert!((350..650).contains(&t.no_guid), "no guid {}", t.no_guid);
        // A copy never lands in the feed that published the original, nor
        // twice in one feed.
        for f in &c.feeds {
            let mut seen = std::collections::HashSet::new();
            assert!(f.entries.iter().all(|e| seen.insert(e.aid)));
            assert!(f.entries.windows(2).all(|w| w[0].date >= w[1].date));
        }
    }

    #[test]
    fn update_prepends_fresh_entries_to_five_percent() {
        let mut c = Corpus::plan(Params::new(7, 100, 10));
        let before = c.truth();
        let changed = c.update(1, 0.05, 3);
        assert_eq!(changed.len(), 5);
        let after = c.truth();
        assert_eq!(after.entries, before.entries + 15);
        assert_eq!(after.distinct_articles, before.distinct_articles + 15);
        assert_eq!(c.feeds[changed[0]].entries[0].kind, Kind::Original);
        let again = Corpus::plan(Params::new(7, 100, 10)).update(1, 0.05, 3);
        assert_eq!(again, changed);
    }
}
