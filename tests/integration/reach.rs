//! A feed configured at a public address stays on public addresses, by
//! default (without `block_private_addresses`): no redirect, discovered
//! link or recorded move takes it into loopback. The "public" address is
//! 198.20.0.1 on the loopback interface of a network namespace the test
//! creates (with `ip netns`, as root), where the feed server listens on
//! every address and the daemon runs: no packet leaves that namespace.
//! Names resolve through the namespace's own hosts file.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::util::*;

const PUBLIC: &str = "198.20.0.1";

/// A network namespace with its loopback up, [`PUBLIC`] on it, and a hosts
/// file; deleted when dropped.
struct Netns {
    name: String,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Netns {
    fn create(hosts: &str) -> Option<Netns> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tributary-it-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        if !ip(&["netns", "add", &name]) {
            return None;
        }
        let ns = Netns { name };
        let dir = ns.etc();
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(dir.join("hosts"), hosts).ok()?;
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", ns.name.as_str(), "ip"];
            all.extend_from_slice(args);
            ip(&all)
        };
        let ready = inside(&["link", "set", "lo", "up"])
            && inside(&["addr", "add", &format!("{PUBLIC}/32"), "dev", "lo"]);
        ready.then_some(ns)
    }

    fn etc(&self) -> PathBuf {
        PathBuf::from("/etc/netns").join(&self.name)
    }

    fn path(&self) -> PathBuf {
        PathBuf::from("/var/run/netns").join(&self.name)
    }

    /// The real binary, run inside the namespace.
    fn tributary(&self, s: &Scratch, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_tributary")])
            .arg("--config")
            .arg(s.config_path())
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["netns", "delete", &self.name]);
        let _ = std::fs::remove_dir_all(self.etc());
    }
}

fn by_name(out: &Output) -> std::collections::HashMap<String, serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["name"].as_str().unwrap().to_string(), v))
        .collect()
}

#[test]
fn public_feeds_are_never_taken_into_loopback() {
    let hosts =
        format!("127.0.0.1 localhost\n{PUBLIC} public.test\n127.0.0.1 inside.test rebound.test\n");
    let Some(ns) = Netns::create(&hosts) else {
        if std::env::var_os("TRIBUTARY_REQUIRE_NETNS").is_some() {
            panic!("cannot create a network namespace (needs root and iproute2)");
        }
        skip("public_feeds_are_never_taken_into_loopback: no network namespace (needs root and iproute2)");
        return;
    };
    let server = FeedServer::start_in(Some(&ns.path()));
    let port = server.addr.port();
    let at = |host: &str, path: &str| format!("http://{host}:{port}{path}");
    let item = |t: &str| Route::feed(rss(t, &[(Some(t), None, t)]));
    let to = |url: String, status: u16| Route::feed("").status(status).header("location", &url);
    server.set("/ok", item("public"));
    server.set("/direct", item("loopback"));
    server.set("/inside-ok", item("marked"));
    server.set("/secret", item("secret"));
    server.set("/r-literal", to(at("127.0.0.1", "/secret"), 302));
    server.set("/r-name", to(at("inside.test", "/secret"), 301));
    server.set("/r-mapped", to(at("[::ffff:127.0.0.1]", "/secret"), 307));
    server.set("/r-marked", to(at("127.0.0.1", "/inside-ok"), 302));
    let mut page = Route::feed(format!(
        "<!doctype html><html><head><title>Blog</title>\
         <link rel=\"alternate\" type=\"application/rss+xml\" href=\"{}\"></head><body>hi</body></html>",
        at("127.0.0.1", "/secret")
    ));
    page.content_type = "text/html; charset=utf-8".into();
    server.set("/page", page);

    let s = Scratch::new();
    s.write_config(
        &format!(
            "[fetch]\nhost_gap = \"0s\"\n\
             [[feeds]]\nname = \"marked\"\nurl = \"{}\"\ninternal = true\n",
            at("public.test", "/r-marked")
        ),
        &[
            ("public", &at(PUBLIC, "/ok")),
            ("loopback", &at("127.0.0.1", "/direct")),
            ("redirect-literal", &at(PUBLIC, "/r-literal")),
            ("redirect-name", &at("public.test", "/r-name")),
            ("redirect-mapped", &at(PUBLIC, "/r-mapped")),
            ("name-to-loopback", &at("rebound.test", "/secret")),
        ],
    );
    let first = by_name(&ns.tributary(&s, &["fetch", "--json"]));
    for ok in ["public", "loopback", "marked"] {
        assert_eq!(first[ok]["status"], "ok", "{}", first[ok]);
    }
    for refused in [
        "redirect-literal",
        "redirect-name",
        "redirect-mapped",
        "name-to-loopback",
    ] {
        let r = &first[refused];
        let error = r["error"].as_str().unwrap_or_default();
        assert!(
            r["status"] == "permanent"
                && error.starts_with("refused: ")
                && error.contains("internal = true"),
            "{r}"
        );
    }
    assert_eq!(server.hits("/inside-ok").len(), 1);

    // A move recorded into loopback (by an older version) is refused too.
    s.db()
        .execute(
            "UPDATE feeds SET moved_to = ?1 WHERE name = 'public'",
            [at("127.0.0.1", "/secret")],
        )
        .unwrap();
    let second = by_name(&ns.tributary(&s, &["fetch", "--json", "--feed", "public"]));
    assert_eq!(
        second["public"]["status"], "permanent",
        "{}",
        second["public"]
    );

    // A page on a public address announcing a feed on loopback: not added.
    let add = ns.tributary(&s, &["add", &at(PUBLIC, "/page"), "--name", "found"]);
    assert!(!add.status.success(), "{}", stdout(&add));
    assert!(stderr(&add).contains("refused"), "{}", stderr(&add));
    assert!(!std::fs::read_to_string(s.config_path())
        .unwrap()
        .contains("found"));

    assert!(
        server.hits("/secret").is_empty(),
        "{:?}",
        server.hits("/secret")
    );
    assert_eq!(server.hits("/page").len(), 1);
    assert_eq!(server.hits("/ok").len(), 1);
}
