//! Files that stay private: the database, its `-wal` and `-shm`, backups
//! and rewritten configs are readable by their owner only (or the group
//! `[store] group` names) under a permissive umask; a clean stop leaves no
//! WAL; the daemon's threads stay within their budget.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::child::wait_for;
use crate::util::*;

/// The real binary with `args`, run by a shell under umask 0002 (group
/// and world may read what it creates with default modes).
fn permissive(args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 0002 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC");
    cmd
}

fn run_permissive(config: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    permissive(&all).output().unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

fn threads(child: &Child) -> usize {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_database_and_its_wal_are_private_and_a_clean_stop_leaves_no_wal() {
    let server = FeedServer::start();
    let s = Scratch::new();
    let mut feeds = Vec::new();
    for i in 0..24 {
        let items: Vec<(Option<String>, Option<String>, String)> = (0..20)
            .map(|j| (Some(format!("g{i}-{j}")), None, format!("Item {i} {j}")))
            .collect();
        let items: Vec<(Option<&str>, Option<&str>, &str)> = items
            .iter()
            .map(|(g, l, t)| (g.as_deref(), l.as_deref(), t.as_str()))
            .collect();
        // Slow answers keep many fetches (and their processing) in flight.
        server.set(
            &format!("/f{i}"),
            Route::feed(rss("f", &items)).delay(Duration::from_millis(300)),
        );
        feeds.push((format!("f{i}"), server.url(&format!("/f{i}"))));
    }
    let feeds: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .collect();
    s.write_config(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\nshutdown_grace = \"2s\"\n\
         [fetch]\nhost_gap = \"0s\"\nper_host = 24\nconcurrency = 24\n",
        &feeds,
    );
    let log = std::fs::File::create(s.dir.path().join("daemon.log")).unwrap();
    let mut child = permissive(&["--config", s.config_path().to_str().unwrap(), "run"])
        .env("RUST_LOG", "tributary=info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let db = s.db_path();
    let (wal, shm) = (sidecar(&db, "-wal"), sidecar(&db, "-shm"));
    let mut peak = 0;
    let stored = wait_for(Duration::from_secs(60), || {
        peak = peak.max(threads(&child));
        wal.exists() && s.count_opt("SELECT count(*) FROM entries") >= Some(24 * 20)
    });
    assert!(stored, "the daemon did not store the feeds");
    for _ in 0..40 {
        peak = peak.max(threads(&child));
        std::thread::sleep(Duration::from_millis(50));
    }
    for f in [&db, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert!(
        peak > 2 && peak <= tributary::jobs::threads::MAX_THREADS,
        "peak threads {peak}, budget {}",
        tributary::jobs::threads::MAX_THREADS
    );
    println!(
        "peak threads {peak} (budget {})",
        tributary::jobs::threads::MAX_THREADS
    );

    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert!(
        wait_for(Duration::from_secs(20), || child
            .try_wait()
            .unwrap()
            .is_some()),
        "did not stop"
    );
    let log = std::fs::read_to_string(s.dir.path().join("daemon.log")).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{log}");
    assert!(log.contains("store closed"), "{log}");
    assert!(!wal.exists() && !shm.exists(), "a WAL was left:\n{log}");
    assert_eq!(mode(&db), 0o600);
    assert_eq!(s.count("SELECT count(*) FROM entries"), 24 * 20);
}

#[test]
fn backups_and_an_existing_database_are_made_private() {
    let s = Scratch::new();
    let feed = s.dir.path().join("feed.xml");
    std::fs::write(&feed, rss("f", &[(Some("a"), None, "A")])).unwrap();
    s.write_config("", &[("f", feed.to_str().unwrap())]);
    // A database made by an older Tributary, readable by everyone.
    drop(s.db());
    std::fs::set_permissions(s.db_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_permissive(&s.config_path(), &["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&s.db_path()), 0o600);

    let dest = s.dir.path().join("backup.db");
    let out = run_permissive(&s.config_path(), &["backup", dest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&dest), 0o600);

    // A group named in the config may read both.
    let gid = std::fs::metadata(s.dir.path()).unwrap().gid();
    // (`write_config` puts `extra` right under `[store]`.)
    s.write_config(
        &format!("group = \"{gid}\"\n"),
        &[("f", feed.to_str().unwrap())],
    );
    let out = run_permissive(&s.config_path(), &["check"]);
    assert!(
        stdout(&out).contains("(mode 0640, group"),
        "{}",
        stdout(&out)
    );
    let out = run_permissive(&s.config_path(), &["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&s.db_path()), 0o640);
    let dest = s.dir.path().join("backup2.db");
    let out = run_permissive(&s.config_path(), &["backup", dest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&dest), 0o640);
    assert_eq!(std::fs::metadata(&dest).unwrap().gid(), gid);

    let bad = s.dir.path().join("bad.toml");
    std::fs::write(&bad, "[store]\ngroup = \"no-such-group-tributary\"\n").unwrap();
    let out = run_permissive(&bad, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no group named `no-such-group-tributary`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_rewritten_config_keeps_its_mode_and_hides_secrets_from_others() {
    let s = Scratch::new();
    let plain =
        "[store]\npath = \"t.db\"\n\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\n\n\
                 [[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\n";
    let secret = "[store]\npath = \"t.db\"\n\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\n\
                  headers = { \"X-Api-Key\" = \"k3y\" }\n\n[[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\n";
    for (text, had, want) in [
        (plain, 0o644, 0o644),
        (secret, 0o644, 0o640),
        (secret, 0o600, 0o600),
        (plain, 0o600, 0o600),
    ] {
        let cfg = s.dir.path().join("edit.toml");
        std::fs::write(&cfg, text).unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(had)).unwrap();
        let out = run_permissive(&cfg, &["remove", "b"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let now = std::fs::read_to_string(&cfg).unwrap();
        assert!(!now.contains("name = \"b\""), "{now}");
        assert_eq!(
            mode(&cfg),
            want,
            "had {had:o}, secret {}",
            text.contains("k3y")
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
