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
