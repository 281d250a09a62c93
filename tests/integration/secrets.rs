//! Secrets never leave the request that needs them: a password from a
//! file, an API key from the environment and a proxy's password are sent
//! to a careless server that echoes them back (in a redirect URL that
//! loops, so the error names it; in a header; in the body), and none of
//! them appears in the daemon's log at `RUST_LOG=trace`, in `tributary
//! fetch` and `tributary check` output, in `tributary feeds`, or anywhere
//! in the database file.

use std::process::Command;
use std::time::Duration;

use crate::child::{wait_for, Daemon};
use crate::faults::rogue::{Act, Rogue};
use crate::util::*;

const PASSWORD: &str = "hunter2-secret";
const API_KEY: &str = "key-secret-42";
const PROXY_PASSWORD: &str = "proxy-pass-77";

#[test]
fn secrets_echoed_by_a_server_never_reach_logs_errors_or_the_store() {
    let echo = Rogue::start();
    echo.set("/echo", Act::Echo);
    echo.set("/via-proxy", Act::Echo);
    let s = Scratch::new();
    std::fs::write(s.dir.path().join("pw"), format!("{PASSWORD}\n")).unwrap();
    let cfg = format!(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\nbackoff_base = \"1s\"\nbackoff_max = \"1s\"\n\
         [fetch]\nhost_gap = \"0s\"\n\
         [[feeds]]\nname = \"private\"\nurl = \"{}\"\nusername = \"reader\"\npassword = {{ file = \"pw\" }}\n\
         headers = {{ \"X-Api-Key\" = {{ env = \"TRIBUTARY_IT_SECRET\" }} }}\n\n\
         [[feeds]]\nname = \"proxied\"\nurl = \"http://feeds.invalid/via-proxy\"\nproxy = \"http://puser:{PROXY_PASSWORD}@{}\"\n",
        echo.url("/echo"),
        echo.addr,
    );
    s.write_config(&cfg, &[]);
    let env = [("TRIBUTARY_IT_SECRET", API_KEY)];

    let fetch = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .args(["fetch", "--json"])
        .env("TRIBUTARY_IT_SECRET", API_KEY)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(fetch.status.success(), "{}", stderr(&fetch));
    let check = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("check")
        .env("TRIBUTARY_IT_SECRET", API_KEY)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));

    let mut daemon = Daemon::start(&s, "trace", &env);
    assert!(wait_for(Duration::from_secs(20), || {
        assert!(daemon.alive());
        s.count_opt("SELECT count(*) FROM fetch_log").unwrap_or(0) >= 6
    }));
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0));
    let feeds = s.tributary(&["feeds", "--json"]);

    // The server did get them (so there was something to leak)...
    assert!(echo.hits("/echo").len() >= 2 && echo.hits("/via-proxy").len() >= 2);
    let errors: Vec<String> = {
        let db = s.db();
        let mut st = db
            .prepare("SELECT coalesce(error, '') FROM fetch_log")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(
        errors.iter().all(|e| e.starts_with("redirect loop at")),
        "{errors:?}"
    );
    // ...and it went nowhere else.
    let mut everything = format!(
        "{}{}{}{}{}{log}{}",
        stdout(&fetch),
        stderr(&fetch),
        stdout(&check),
        stderr(&check),
        stdout(&feeds),
        errors.join("\n"),
    );
    everything.push_str(&String::from_utf8_lossy(
        &std::fs::read(s.db_path()).unwrap(),
    ));
    everything.push_str(&String::from_utf8_lossy(
        &std::fs::read(s.dir.path().join("tributary.db-wal")).unwrap_or_default(),
    ));
    // "reader:hunter2-secret" and "puser:proxy-pass-77" in base64.
    for secret in [
        PASSWORD,
        API_KEY,
        PROXY_PASSWORD,
        "cmVhZGVyOmh1bnRlcjItc2VjcmV0",
        "cHVzZXI6cHJveHktcGFzcy03Nw",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    assert!(
        errors
            .iter()
            .all(|e| e.contains("seen=") && e.contains("***")),
        "the echo is scrubbed, not dropped: {errors:?}"
    );
}

const TOKEN: &str = "TOKSECRET-123";
const SIGNATURE: &str = "SIGSECRET-789";
const USER_PASSWORD: &str = "USERPASS-456";

/// Secrets carried by URLs themselves (a `token` query parameter, a
/// signature a server adds on redirect, a password in the user info),
/// echoed by servers into redirect targets and error messages: none of them
/// is kept or shown anywhere (fetch log, `final_url`, redirect targets,
/// errors, logs, `check`, `feeds`, `doctor`, the published pages and
/// feeds, the database file), though each reached its server.
#[test]
fn secrets_in_feed_urls_are_redacted_wherever_a_url_is_kept() {
    let home = FeedServer::start();
    let port = home.addr.port();
    home.set(
        "/t",
        Route::feed("").status(301).header(
            "location",
            &format!("/t2?token={TOKEN}&sig={SIGNATURE}&page=1"),
        ),
    );
    home.set("/t2", Route::feed(rss("T", &[(Some("t"), None, "T")])));
    let with_userinfo = format!("http://bob:{USER_PASSWORD}@127.0.0.1:{port}/u");
    home.set(
        "/u",
        Route::feed("")
            .status(302)
            .header("location", &with_userinfo),
    );
    let s = Scratch::new();
    let out_dir = s.dir.path().join("public");
    s.write_config(
        "[fetch]\nhost_gap = \"0s\"\n",
        &[
            ("tokened", &home.url(&format!("/t?token={TOKEN}&page=1"))),
            ("userinfo", &with_userinfo),
        ],
    );
    let mut everything = String::new();
    let mut keep = |o: &std::process::Output| {
        everything.push_str(&stdout(o));
        everything.push_str(&stderr(o));
    };
    for _ in 0..3 {
        keep(&s.tributary(&["fetch", "--json"]));
    }
    let traced = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("fetch")
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    keep(&traced);
    for args in [
        &["check"][..],
        &["feeds"],
        &["feeds", "--json"],
        &["doctor"],
        &["publish", "--out", out_dir.to_str().unwrap()],
    ] {
        keep(&s.tributary(args));
    }
    // The servers did get them.
    assert!(home.hits("/t").len() >= 4 && home.hits("/t2").len() >= 4);
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("bob:{USER_PASSWORD}"));
    assert!(home
        .hits("/u")
        .iter()
        .any(|h| h.authorization.as_deref() == Some(&format!("Basic {basic}"))));

    let kept: Vec<(String, String, String, String)> = {
        let db = s.db();
        let mut st = db
            .prepare(
                "SELECT f.name, l.url, coalesce(l.final_url, ''), coalesce(l.error, '')
                 FROM fetch_log l JOIN feeds f ON f.id = l.feed_id",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for (name, url, final_url, error) in &kept {
        everything.push_str(&format!("{url} {final_url} {error}\n"));
        if name == "tokened" {
            // Masked, not dropped: what is not secret stays readable.
            assert!(url.ends_with("/t?token=***&page=1"), "{url}");
            assert!(
                final_url.ends_with("/t2?token=***&sig=***&page=1"),
                "{final_url}"
            );
            assert!(error.contains("not followed"), "{error}");
        } else {
            assert!(url.starts_with("http://***@127.0.0.1"), "{url}");
            assert!(
                error.starts_with("redirect loop at http://***@127.0.0.1"),
                "{error}"
            );
        }
    }
    assert!(kept.len() >= 8, "{kept:?}");
    let row: (Option<String>, Option<String>, String) = s
        .db()
        .query_row(
            "SELECT moved_to, redirect_target, url FROM feeds WHERE name = 'tokened'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row.0, None, "a target carrying a secret is not adopted");
    assert!(
        row.1.as_deref().is_some_and(|t| t.contains("sig=***")),
        "{row:?}"
    );
    assert!(row.2.contains("token=***"), "{row:?}");
    assert!(
        out_dir.join("index.html").is_file(),
        "the index page was published"
    );
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            everything.push_str(&String::from_utf8_lossy(&std::fs::read(path).unwrap()));
        }
    }
    everything.push_str(&String::from_utf8_lossy(
        &std::fs::read(s.db_path()).unwrap(),
    ));
    everything.push_str(&String::from_utf8_lossy(
        &std::fs::read(s.dir.path().join("tributary.db-wal")).unwrap_or_default(),
    ));
    for secret in [TOKEN, SIGNATURE, USER_PASSWORD, basic.as_str()] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}
