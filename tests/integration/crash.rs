//! Crash safety: `tributary run` ingesting a corpus of 200 feeds is killed
//! with SIGKILL at random moments, several times, and restarted.
//!
//! After every kill the database is intact and every feed holds the
//! entries of one whole document or none (a fetch commits all or
//! nothing). After the last run every article of the corpus is stored
//! exactly once, and every feed whose stored ETag is the one served holds
//! all the entries that ETag stands for: validators are committed with the
//! entries they vouch for, never before, so a crash cannot make the daemon
//! skip entries behind a 304.
//!
//! The kill moments come from a seeded generator; the seed is printed, and
//! `TRIBUTARY_CRASH_SEED=<n>` replays a run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::child::{integrity, wait_for, Daemon};
use crate::util::*;

const FEEDS: usize = 200;
const ENTRIES: usize = 50;
const KILLS: usize = 7;

/// splitmix64: small, seedable, good enough to pick moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The served corpus: per feed, how many entries its document has now.
struct Corpus {
    sizes: Vec<usize>,
}

impl Corpus {
    fn etag(&self, feed: usize) -> String {
        format!("\"f{feed}-n{}\"", self.sizes[feed])
    }

    fn publish(&self, server: &FeedServer, feed: usize) {
        let items: Vec<(String, String, String)> = (0..self.sizes[feed])
            .map(|j| {
                (
                    format!("f{feed}-e{j}"),
                    format!("https://corpus.example/{feed}/{j}"),
                    format!("Feed {feed} entry {j}"),
                )
            })
            .collect();
        let refs: Vec<(Option<&str>, Option<&str>, &str)> = items
            .iter()
            .map(|(g, l, t)| (Some(g.as_str()), Some(l.as_str()), t.as_str()))
            .collect();
        server.set(
            &format!("/f{feed}.xml"),
            Route::feed(rss(&format!("Feed {feed}"), &refs)).etag(&self.etag(feed)),
        );
    }

    fn total(&self) -> usize {
        self.sizes.iter().sum()
    }
}

/// Entries stored per feed, by feed number.
fn stored(s: &Scratch) -> HashMap<usize, (usize, Option<String>)> {
    let db = s.db();
    let mut st = db
        .prepare(
            "SELECT f.name, f.etag, (SELECT count(*) FROM entries e WHERE e.feed_id = f.id) FROM feeds f",
        )
        .unwrap();
    st.query_map([], |r| {
        let name: String = r.get(0)?;
        Ok((
            name[1..].parse::<usize>().unwrap(),
            (r.get::<_, i64>(2)? as usize, r.get(1)?),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Fetches recorded in the fetch log (each committed with its entries).
fn fetches_logged(s: &Scratch) -> usize {
    s.count_opt("SELECT count(*) FROM fetch_log").unwrap_or(0) as usize
}

#[test]
fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let seed = std::env::var("TRIBUTARY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash loop: seed {seed} (TRIBUTARY_CRASH_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let started = Instant::now();

    let server = FeedServer::start();
    let mut corpus = Corpus {
        sizes: vec![ENTRIES; FEEDS],
    };
    let mut cfg = String::from(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"1s\"\nshutdown_grace = \"2s\"\n\
         [fetch]\nhost_gap = \"0s\"\nper_host = 16\nconcurrency = 16\n",
    );
    for f in 0..FEEDS {
        corpus.publish(&server, f);
        cfg.push_str(&format!(
            "[[feeds]]\nname = \"f{f}\"\nurl = \"{}\"\n",
            server.url(&format!("/f{f}.xml"))
        ));
    }
    let s = Scratch::new();
    s.write_config(&cfg, &[]);

    // Every version a feed has served so far, by size.
    let mut versions: Vec<Vec<usize>> = vec![vec![ENTRIES]; FEEDS];
    // Kills that landed while fetches were under way: requests had
    // arrived at the server that no committed fetch accounts for.
    let mut mid_write = 0;
    for round in 0..KILLS {
        let (requested, logged) = (server.arrivals_total(), fetches_logged(&s));
        let daemon = Daemon::start(&s, "tributary=warn", &[]);
        let after = Duration::from_millis(300 + rng.below(2700));
        std::thread::sleep(after);
        let log = daemon.kill9();
        assert_eq!(integrity(&s), "ok", "after kill {round}:\n{log}");
        let started = server.arrivals_total() - requested;
        let committed = fetches_logged(&s) - logged;
        assert!(
            committed <= started,
            "{committed} fetches logged of {started} made"
        );
        let in_flight = started - committed;
        if committed > 0 && in_flight > 0 {
            mid_write += 1;
        }
        let now = stored(&s);
        let total: usize = now.values().map(|(n, _)| n).sum();
        for (f, (n, _)) in &now {
            assert!(
                *n == 0 || versions[*f].contains(n),
                "after kill {round}: feed f{f} holds {n} entries, a part of a document"
            );
        }
        eprintln!(
            "crash loop: kill {} after {} ms: {total} entries stored; {started} fetches started, \
             {committed} committed, {in_flight} cut off",
            round + 1,
            after.as_millis()
        );
        // Some feeds publish more before the next start.
        for _ in 0..FEEDS / 10 {
            let f = rng.below(FEEDS as u64) as usize;
            corpus.sizes[f] += 5;
            versions[f].push(corpus.sizes[f]);
            corpus.publish(&server, f);
        }
    }

    // At least one kill landed in the middle of the ingest: after some
    // fetches were committed and while others were still on their way.
    assert!(
        mid_write > 0,
        "no kill landed while fetches were being written"
    );
    let daemon = Daemon::start(&s, "tributary=warn", &[]);
    let expected = corpus.total();
    let done = wait_for(Duration::from_secs(90), || {
        s.count_opt("SELECT count(*) FROM entries").unwrap_or(0) as usize == expected
    });
    let (code, log) = daemon.stop();
    assert!(
        done,
        "final run: {} of {expected} entries\n{log}",
        s.count("SELECT count(*) FROM entries")
    );
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(integrity(&s), "ok");

    // Every article of the corpus exactly once, each with its one entry.
    assert_eq!(s.count("SELECT count(*) FROM articles") as usize, expected);
    assert_eq!(
        s.count("SELECT count(DISTINCT canonical_url) FROM articles") as usize,
        expected
    );
    assert_eq!(
        s.count("SELECT count(*) FROM articles a WHERE (SELECT count(*) FROM entries e WHERE e.article_id = a.id) != 1"),
        0
    );
    // A feed whose stored ETag is the served one holds everything behind it.
    let now = stored(&s);
    let mut current = 0;
    for (f, (n, etag)) in &now {
        if etag.as_deref() == Some(corpus.etag(*f).as_str()) {
            current += 1;
            assert_eq!(
                *n, corpus.sizes[*f],
                "f{f}: ETag stored without its entries"
            );
        }
    }
    assert_eq!(current, FEEDS, "every feed ends on the served ETag");
    eprintln!(
        "crash loop: {KILLS} kills, then {expected} entries of {FEEDS} feeds stored exactly once; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
