//! Evaluation of story matching on a labelled set.
//!
//! The set is `tests/fixtures/dedup/*.toml` plus copies generated here:
//! each story's first article republished with other navigation, captions,
//! date lines and headline styles, and variants of the shared news article
//! (`../shared/fixtures/news-article.txt`, read at test time so the package
//! does not carry it; skipped with a message when absent). Pairs inside a
//! story must merge; pairs across stories must not; and the real store,
//! given the articles in any order, makes the same stories of them.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::Deserialize;
use tributary::dedup::story::{self, Fingerprint, Verdict, DEFAULT_THRESHOLD};

#[path = "dedup_eval/retold.rs"]
mod retold;
#[path = "dedup_eval/variants.rs"]
mod variants;

use variants::{news_variants, republished, NEWS_ARTICLE};

/// One file of the set; the set is all files together.
#[derive(Deserialize, Default)]
struct Set {
    #[serde(default)]
    story: Vec<Story>,
    #[serde(default)]
    hard_negative: Vec<HardNegative>,
}

#[derive(Deserialize)]
struct Story {
    name: String,
    topic: String,
    /// Its articles are one event told in other words (not copies).
    #[serde(default)]
    retold: bool,
    article: Vec<Article>,
}

#[derive(Deserialize, Clone)]
struct Article {
    id: String,
    title: String,
    text: String,
    /// When it was published, where the time matters (follow-ups).
    #[serde(default)]
    published: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
pub(crate) struct HardNegative {
    pub(crate) a: String,
    pub(crate) b: String,
    pub(crate) why: String,
}

/// One article of the evaluation, fingerprinted.
pub(crate) struct Item {
    id: String,
    story: String,
    title: String,
    text: String,
    print: Fingerprint,
    /// Whether its story is told in other words by its articles.
    retold: bool,
    /// When it was published, if the set says.
    published: Option<chrono::DateTime<chrono::Utc>>,
}

pub(crate) fn load() -> (Vec<Item>, Vec<HardNegative>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(dir.join("tests/fixtures/dedup"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut set = Set::default();
    for path in files {
        let raw = std::fs::read_to_string(&path).unwrap();
        let file: Set = toml::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        set.story.extend(file.story);
        set.hard_negative.extend(file.hard_negative);
    }
    let retold: BTreeSet<String> = set
        .story
        .iter()
        .filter(|s| s.retold)
        .map(|s| s.name.clone())
        .collect();
    let mut items = Vec::new();
    let mut push = |story: &str, article: Article| {
        let mut print = story::fingerprint(&article.title, &article.text);
        if let Some(at) = article.published {
            print = print.dated(at);
        }
        items.push(Item {
            id: article.id,
            story: story.to_owned(),
            title: article.title,
            text: article.text,
            print,
            retold: retold.contains(story),
            published: article.published,
        });
    };
    for story in &set.story {
        for article in &story.article {
            push(&story.name, article.clone());
        }
        if story.topic != "short" {
            for variant in republished(&story.article[0]) {
                push(&story.name, variant);
            }
        }
    }
    let news = dir.join("../shared/fixtures/news-article.txt");
    match std::fs::read_to_string(&news) {
        Ok(page) => news_variants(&page)
            .into_iter()
            .for_each(|a| push(NEWS_ARTICLE, a)),
        Err(_) => crate::util::skip(&format!(
            "news article variants ({} not found); evaluating the written set only",
            news.display()
        )),
    }
    (items, set.hard_negative)
}

/// Every pair of items, with whether they are labelled the same story.
pub(crate) fn pairs(items: &[Item]) -> impl Iterator<Item = (&Item, &Item, bool)> {
    items.iter().enumerate().flat_map(move |(i, a)| {
        items[i + 1..]
            .iter()
            .map(move |b| (a, b, a.story == b.story))
    })
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The similarity of a pair that passes the word and number guards, if it does.
fn guarded_similarity(a: &Item, b: &Item) -> Option<f64> {
    match story::verdict(&a.print, &b.print, 0.0) {
        Verdict::Same(s) | Verdict::NoSharedBand(s) => Some(s),
        _ => None,
    }
}

#[test]
fn evaluation_has_no_false_merges_and_high_recall() {
    let (items, hard_negatives) = load();
    let index: HashMap<&str, &Item> = items.iter().map(|i| (i.id.as_str(), i)).collect();
    let stories = items
        .iter()
        .map(|i| &i.story)
        .collect::<BTreeSet<_>>()
        .len();

    let mut positive = Vec::new();
    let mut negative = Vec::new();
    let mut negative_guarded = Vec::new();
    let mut weakest = Vec::new();
    let mut numbers_same = Vec::new();
    let mut numbers_different = Vec::new();
    let (mut merged, mut false_merges, mut missed) = (0, Vec::new(), Vec::new());
    for (a, b, same) in pairs(&items) {
        let similarity = story::similarity(&a.print, &b.print);
        let verdict = story::verdict(&a.print, &b.print, DEFAULT_THRESHOLD);
        let name = format!("{} ~ {}", a.id, b.id);
        if same {
            positive.push(similarity);
            weakest.push((similarity, name.clone()));
            numbers_same.push((story::number_overlap(&a.print, &b.print), name.clone()));
            match verdict.accepted() {
                Some(_) => merged += 1,
                None => missed.push(format!("{name}: {verdict:?}")),
            }
        } else {
            negative.push(similarity);
            if let Some(s) = guarded_similarity(a, b) {
                negative_guarded.push((s, name.clone()));
            }
            if similarity >= DEFAULT_THRESHOLD
                && a.print.words().min(b.print.words()) >= story::MIN_WORDS
            {
                numbers_different.push((story::number_overlap(&a.print, &b.print), name.clone()));
            }
            if let Some(s) = verdict.accepted() {
                false_merges.push(format!("{name} ({s:.3})"));
            }
        }
    }
    positive.sort_by(f64::total_cmp);
    negative.sort_by(f64::total_cmp);
    negative_guarded.sort_by(|x, y| y.0.total_cmp(&x.0));
    weakest.sort_by(|x, y| x.0.total_cmp(&y.0));
    numbers_same.sort_by(|x, y| x.0.total_cmp(&y.0));
    numbers_different.sort_by(|x, y| y.0.total_cmp(&x.0));
    let recall = merged as f64 / positive.len() as f64;
    let precision = merged as f64 / (merged + false_merges.len()).max(1) as f64;

    println!(
        "\nstory evaluation: {} articles in {stories} stories",
        items.len()
    );
    println!(
        "  {} same-story pairs, {} different-story pairs",
        positive.len(),
        negative.len()
    );
    println!("\n  hard negatives: similarity, verdict at {DEFAULT_THRESHOLD}");
    for hard in &hard_negatives {
        let (Some(a), Some(b)) = (index.get(hard.a.as_str()), index.get(hard.b.as_str())) else {
            assert!(
                hard.a == NEWS_ARTICLE || hard.b == NEWS_ARTICLE,
                "unknown id: {}",
                hard.why
            );
            println!("    skipped, article absent: {} ~ {}", hard.a, hard.b);
            continue;
        };
        let verdict = story::verdict(&a.print, &b.print, DEFAULT_THRESHOLD);
        let similarity = story::similarity(&a.print, &b.print);
        println!(
            "    {similarity:.3} {:<26} {} ~ {} ({})",
            format!("{verdict:?}"),
            hard.a,
            hard.b,
            hard.why
        );
    }
    let spread = |v: &[f64]| {
        format!(
            "min {:.3}  5% {:.3}  median {:.3}  95% {:.3}  max {:.3}",
            v[0],
            quantile(v, 0.05),
            quantile(v, 0.5),
            quantile(v, 0.95),
            v[v.len() - 1]
        )
    };
    println!("\n  similarity, same story:      {}", spread(&positive));
    println!("  similarity, different story: {}", spread(&negative));
    println!("  least similar same-story pairs:");
    for (similarity, name) in weakest.iter().take(3) {
        println!("    {similarity:.3}  {name}");
    }
    println!(
        "  most similar different-story pairs past the word and number guards ({} in all):",
        negative_guarded.len()
    );
    for (similarity, name) in negative_guarded.iter().take(3) {
        println!("    {similarity:.3}  {name}");
    }
    let story_sizes = items
        .iter()
        .fold(HashMap::<&str, usize>::new(), |mut m, i| {
            *m.entry(i.story.as_str()).or_default() += 1;
            m
        });
    let (merged_words, single_words): (Vec<_>, Vec<_>) = items
        .iter()
        .partition(|i| story_sizes[i.story.as_str()] > 1);
    println!(
        "\n  words: fewest in an article with copies {}, most in a short item {} (MIN_WORDS {})",
        merged_words
            .iter()
            .map(|i| i.print.words())
            .min()
            .unwrap_or(0),
        single_words
            .iter()
            .filter(|i| i.id.ends_with("/headline") || i.id.ends_with("/podcast"))
            .map(|i| i.print.words())
            .max()
            .unwrap_or(0),
        story::MIN_WORDS
    );
    println!("\n  number overlap, least among same-story pairs:");
    for (overlap, name) in numbers_same.iter().take(2) {
        println!("    {overlap:.3}  {name}");
    }
    println!(
        "  number overlap, most among different-story pairs at similarity >= {DEFAULT_THRESHOLD}:"
    );
    for (overlap, name) in numbers_different.iter().take(2) {
        println!("    {overlap:.3}  {name}");
    }
    println!("\n  threshold  different-story pairs  false merges  recall");
    println!("             past guards, >= it");
    for step in 1..=19 {
        let threshold = f64::from(step) * 0.05;
        let (mut hits, mut wrong) = (0, 0);
        for (a, b, same) in pairs(&items) {
            if story::same_story(&a.print, &b.print, threshold).is_some() {
                if same {
                    hits += 1
                } else {
                    wrong += 1
                }
            }
        }
        let near = negative_guarded.iter().filter(|n| n.0 >= threshold).count();
        let recall = 100.0 * f64::from(hits) / positive.len() as f64;
        println!("  {threshold:9.2}  {near:21}  {wrong:12}  {recall:5.1}%");
    }
    let highest_negative = negative_guarded.first().map_or(0.0, |n| n.0);
    println!(
        "\n  default threshold {DEFAULT_THRESHOLD}: precision {:.1}%, recall {:.1}% ({merged}/{})",
        100.0 * precision,
        100.0 * recall,
        positive.len()
    );
    println!(
        "  margin: {:.3} above the most similar different-story pair past the guards ({highest_negative:.3})",
        DEFAULT_THRESHOLD - highest_negative
    );
    for miss in &missed {
        println!("  missed: {miss}");
    }

    // Every pair of a story merges, no pair across stories (README: 100 %
    // precision and 100 % recall at the default threshold).
    assert_eq!(false_merges, Vec::<String>::new(), "false merges");
    assert_eq!(
        missed,
        Vec::<String>::new(),
        "missed merges (recall {recall:.3})"
    );
}

/// What the store does with index keys (bands and facts), in memory: key →
/// articles holding it.
#[derive(Default)]
struct BandIndex {
    articles: HashMap<i32, Vec<usize>>,
}

impl BandIndex {
    fn insert(&mut self, article: usize, print: &Fingerprint) {
        for key in story::index_keys(print) {
            self.articles.entry(key).or_default().push(article);
        }
    }

    /// `SELECT article FROM band WHERE key IN (…)`.
    fn candidates(&self, print: &Fingerprint) -> BTreeSet<usize> {
        story::index_keys(print)
            .filter_map(|key| self.articles.get(&key))
            .flatten()
            .copied()
            .collect()
    }
}

#[test]
fn band_keys_find_every_accepted_pair() {
    let (items, _) = load();
    let mut index = BandIndex::default();
    for (i, item) in items.iter().enumerate() {
        index.insert(i, &item.print);
    }
    let (mut accepted, mut candidates) = (0, 0);
    for (i, a) in items.iter().enumerate() {
        let found = index.candidates(&a.print);
        candidates += found.iter().filter(|&&j| j > i).count();
        for (j, b) in items.iter().enumerate().skip(i + 1) {
            // Threshold 0: whatever the configured threshold, no accepted pair is missed.
            if story::same_story(&a.print, &b.print, 0.0).is_some() {
                accepted += 1;
                assert!(found.contains(&j), "index misses {} ~ {}", a.id, b.id);
            }
        }
    }
    let all = items.len() * (items.len() - 1) / 2;
    println!("band keys: {candidates} candidate pairs of {all}; {accepted} accepted, none missed");
}

/// The stories the real store makes of the items arriving in `order`:
/// each item is its own feed's document, processed by `refresh::process`
/// and stored by `Store::record_fetch` with the default story policy (band
/// lookups, the hot-key cap, the window), one second after the previous.
fn stories_in_store(items: &[Item], order: &[usize]) -> BTreeSet<BTreeSet<String>> {
    use tributary::model::FeedSpec;
    use tributary::store::{Store, StoryPolicy};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("stories.db")).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let specs: Vec<FeedSpec> = (0..items.len())
        .map(|i| FeedSpec {
            name: format!("f{i}"),
            url: format!("https://outlet{i}.example/feed"),
            tags: vec![],
            dedup: true,
        })
        .collect();
    store.reconcile(&specs, start).unwrap();
    let feeds: HashMap<String, tributary::model::FeedId> = store
        .feeds()
        .unwrap()
        .into_iter()
        .map(|f| (f.name.clone(), f.id))
        .collect();
    for (n, &i) in order.iter().enumerate() {
        let item = &items[i];
        let now = start + chrono::Duration::seconds(n as i64);
        let body: String = item
            .text
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", html_escape::encode_text(p)))
            .collect();
        let date = item
            .published
            .map(|at| format!("<pubDate>{}</pubDate>", at.to_rfc2822()))
            .unwrap_or_default();
        let doc = format!(
            "<rss version=\"2.0\"><channel><title>Outlet {i}</title><item><guid isPermaLink=\"false\">{}</guid>\
             {date}<title>{}</title><description>{}</description></item></channel></rss>",
            html_escape::encode_text(&item.id),
            html_escape::encode_text(&item.title),
            html_escape::encode_text(&body),
        );
        let record = tributary::store::FetchRecord {
            story: Some(StoryPolicy {
                threshold: DEFAULT_THRESHOLD,
                window: std::time::Duration::from_secs(7 * 86_400),
            }),
            ..crate::util::fetch_record_of(
                feeds[&format!("f{i}")],
                &format!("outlet{i}"),
                &doc,
                now,
            )
        };
        let applied = store.record_fetch(&record).unwrap();
        assert_eq!(applied.new, 1, "{}", item.id);
    }
    let db = rusqlite::Connection::open(dir.path().join("stories.db")).unwrap();
    let mut st = db
        .prepare("SELECT e.guid, a.story_id FROM entries e JOIN articles a ON a.id = e.article_id")
        .unwrap();
    let mut stories: HashMap<i64, BTreeSet<String>> = HashMap::new();
    for row in st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (guid, story) = row.unwrap();
        stories.entry(story).or_default().insert(guid);
    }
    stories.into_values().collect()
}

#[test]
fn stories_do_not_depend_on_arrival_order() {
    let (items, _) = load();
    let forward: Vec<usize> = (0..items.len()).collect();
    let backward: Vec<usize> = forward.iter().rev().copied().collect();
    // A fixed shuffle: stepping by a stride coprime to the length visits all.
    let stride = (items.len() / 2..)
        .find(|s| gcd(*s, items.len()) == 1)
        .unwrap();
    let shuffled: Vec<usize> = (0..items.len()).map(|i| i * stride % items.len()).collect();

    let expected = stories_in_store(&items, &forward);
    assert_eq!(stories_in_store(&items, &backward), expected, "backward");
    assert_eq!(stories_in_store(&items, &shuffled), expected, "shuffled");

    // Identical copies (same title and text) are one article whatever
    // their labels (two days' identical briefings): they count as the
    // story of the first of them.
    let mut first_of: HashMap<(&str, &str), &str> = HashMap::new();
    let story_of: HashMap<&str, &str> = items
        .iter()
        .map(|i| {
            let story = *first_of
                .entry((i.title.as_str(), i.text.as_str()))
                .or_insert(i.story.as_str());
            (i.id.as_str(), story)
        })
        .collect();
    for members in &expected {
        let stories: BTreeSet<_> = members.iter().map(|id| story_of[id.as_str()]).collect();
        assert_eq!(
            stories.len(),
            1,
            "a stored story spans labelled stories: {members:?}"
        );
    }
    let stories = story_of.values().collect::<BTreeSet<_>>().len();
    println!(
        "{} stored stories for {stories} labelled stories, in all three orders",
        expected.len()
    );
    // Every labelled story is one stored story.
    if expected.len() != stories {
        let mut seen = HashMap::new();
        for members in &expected {
            let first = members.iter().next().unwrap();
            if let Some(other) = seen.insert(story_of[first.as_str()], members) {
                println!("split: {other:?} and {members:?}");
            }
        }
    }
    assert_eq!(expected.len(), stories);

    // The evaluation set's stories match pair by pair, so the store never
    // has to merge two stories there. A bridge does: B is the same story
    // as A and as C, which are not the same story as each other. When B
    // comes last it matches two stories, which must become one; in every
    // order the three are one story.
    let bridge = bridge();
    let same = |a: usize, b: usize| {
        story::same_story(&bridge[a].print, &bridge[b].print, DEFAULT_THRESHOLD).is_some()
    };
    assert!(same(0, 1) && same(1, 2) && !same(0, 2), "not a bridge");
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let stored = stories_in_store(&bridge, &order);
        assert_eq!(
            stored.len(),
            1,
            "a bridge arriving as {order:?}: {stored:?}"
        );
    }
}

/// Three articles of one story: each shares three of its four paragraphs
/// with the next, so A and B, and B and C, are the same story (about 0.6
/// similar) while A and C (two paragraphs of six) are not.
fn bridge() -> Vec<Item> {
    // Six paragraphs of 25 made-up words each, no word in two of them.
    let word = |n: usize| -> String {
        let letters = b"bcdfghjklmnprstvz";
        let mut w = String::from("q");
        let mut n = n + letters.len();
        while n > 0 {
            w.push(letters[n % letters.len()] as char);
            n /= letters.len();
        }
        w + "a"
    };
    let paragraph = |p: usize| -> String {
        (0..25)
            .map(|i| word(p * 25 + i))
            .collect::<Vec<_>>()
            .join(" ")
            + "."
    };
    ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let title = format!("Bridge {}", word(1_000 + k));
            let text = (k..k + 4).map(paragraph).collect::<Vec<_>>().join("\n\n");
            Item {
                id: format!("bridge-{id}"),
                story: "bridge".into(),
                print: story::fingerprint(&title, &text),
                title,
                text,
                retold: false,
                published: None,
            }
        })
        .collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
