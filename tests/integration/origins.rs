//! Credentials stay on the origin of the configured URL, on the wire:
//! two loopback servers (two ports, so two origins) record every request's
//! headers while feeds are moved by 301s over several fetches.
//!
//! - a credentialed feed redirected for good to the other origin never
//!   sends its password or header there, keeps being polled at its
//!   configured URL, and `feeds` and `doctor` say what to change;
//! - a move recorded by an older version (`moved_to` on another origin)
//!   is ignored the same way;
//! - a credentialed feed moved within its origin moves, credentials along;
//! - a feed without credentials moves to the other origin as before.

use crate::util::*;

const PASSWORD: &str = "pw-origin-secret";
const API_KEY: &str = "key-origin-secret";

fn feed(title: &str) -> Route {
    Route::feed(rss(title, &[(Some(title), None, title)]))
}

fn moved(to: String) -> Route {
    Route::feed("").status(301).header("location", &to)
}

#[test]
fn credentials_never_reach_another_origin_across_moves() {
    let home = FeedServer::start();
    let other = FeedServer::start();
    home.set("/private", moved(other.url("/private")));
    other.set("/private", feed("P"));
    home.set("/same", moved(home.url("/same-new")));
    home.set("/same-new", feed("S"));
    home.set("/open", moved(other.url("/open")));
    other.set("/open", feed("O"));
    home.set("/legacy", feed("L"));
    other.set("/legacy", feed("L2"));
    home.set("/locked", moved(other.url("/locked")));
    other.set("/locked", Route::feed("").status(401));

    let s = Scratch::new();
    let creds = format!(
        "username = \"reader\"\npassword = \"{PASSWORD}\"\nheaders = {{ \"X-Api-Key\" = \"{API_KEY}\" }}\n"
    );
    let cfg = format!(
        "[fetch]\nhost_gap = \"0s\"\n\
         [[feeds]]\nname = \"private\"\nurl = \"{}\"\n{creds}\n\
         [[feeds]]\nname = \"same\"\nurl = \"{}\"\n{creds}\n\
         [[feeds]]\nname = \"open\"\nurl = \"{}\"\n\n\
         [[feeds]]\nname = \"legacy\"\nurl = \"{}\"\n{creds}\n\
         [[feeds]]\nname = \"locked\"\nurl = \"{}\"\n{creds}\n",
        home.url("/private"),
        home.url("/same"),
        home.url("/open"),
        home.url("/legacy"),
        home.url("/locked"),
    );
    s.write_config(&cfg, &[]);
    let fetches = 5;
    for i in 0..fetches {
        let out = s.tributary(&["fetch"]);
        assert!(out.status.success(), "{}", stderr(&out));
        if i == 0 {
            // A move an older version recorded, to the other origin.
            s.db()
                .execute(
                    "UPDATE feeds SET moved_to = ?1 WHERE name = 'legacy'",
                    [other.url("/legacy")],
                )
                .unwrap();
        }
    }

    // Nothing credentialed ever reached the other origin.
    for path in ["/private", "/open", "/legacy", "/locked"] {
        for hit in other.hits(path) {
            assert_eq!(hit.authorization, None, "{path}: {hit:?}");
            assert_eq!(hit.api_key, None, "{path}: {hit:?}");
        }
    }
    // The credentialed feed is still polled at home, with its credentials,
    // on every fetch; its redirect was followed within each fetch (without
    // them) but never adopted.
    let at_home = home.hits("/private");
    assert_eq!(at_home.len(), fetches, "{at_home:?}");
    assert!(at_home.iter().all(|h| h.api_key.as_deref() == Some(API_KEY)
        && h.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))));
    assert_eq!(other.hits("/private").len(), fetches);
    let legacy = home.hits("/legacy");
    assert_eq!(legacy.len(), fetches, "the recorded move is ignored");
    assert!(other.hits("/legacy").is_empty());
    let (moved_to, streak): (Option<String>, i64) = s
        .db()
        .query_row(
            "SELECT moved_to, redirect_streak FROM feeds WHERE name = 'private'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((moved_to, streak), (None, fetches as i64));

    // Within its origin the feed moves after three, credentials along.
    assert_eq!(home.hits("/same").len(), 3);
    let same_new = home.hits("/same-new");
    assert_eq!(same_new.len(), fetches);
    assert!(same_new
        .iter()
        .all(|h| h.api_key.as_deref() == Some(API_KEY)));
    // Without credentials a feed moves anywhere.
    assert_eq!(home.hits("/open").len(), 3);
    assert_eq!(other.hits("/open").len(), fetches);

    // `feeds` and `doctor` say what to change.
    let feeds = stdout(&s.tributary(&["feeds", "--json"]));
    let private: serde_json::Value = feeds
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["name"] == "private")
        .unwrap();
    let note = private["last_error"].as_str().unwrap_or_default();
    assert!(
        note.contains(&other.url("/private"))
            && note.contains("not followed")
            && note.contains("change its url in the config"),
        "{private}"
    );
    assert_eq!(private["moved_to"], serde_json::Value::Null);
    // Where the other origin refuses for want of credentials, the error
    // says why.
    let locked: serde_json::Value = feeds
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["name"] == "locked")
        .unwrap();
    let error = locked["last_error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("HTTP 401 Unauthorized at ")
            && error.contains(&other.url("/locked"))
            && error.contains("credentials are not sent"),
        "{locked}"
    );
    assert_eq!(other.hits("/locked").len(), fetches);
    let doctor = stdout(&s.tributary(&["doctor", "--offline", "private"]));
    assert!(
        doctor.contains("does not follow it: its credentials")
            && doctor.contains(&format!("url = \"{}\"", other.url("/private"))),
        "{doctor}"
    );
}
