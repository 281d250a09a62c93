//! `[fetch] block_private_addresses`: with it on, feeds on loopback (as a
//! literal IP or through a name that resolves there) and `file://` feeds
//! are refused before any request; with it off (the default), the same
//! feeds are fetched. Only 127.0.0.1 is ever contacted.

use crate::util::*;

fn config(server: &FeedServer, file: &std::path::Path, guard: bool) -> String {
    let port = server.addr.port();
    format!(
        "[fetch]\nblock_private_addresses = {guard}\nhost_gap = \"0s\"\n\
         [[feeds]]\nname = \"literal\"\nurl = \"http://127.0.0.1:{port}/a.xml\"\n\
         [[feeds]]\nname = \"named\"\nurl = \"http://localhost:{port}/b.xml\"\n\
         [[feeds]]\nname = \"redirected\"\nurl = \"http://127.0.0.1:{port}/r\"\n\
         [[feeds]]\nname = \"file\"\nurl = \"{}\"\n",
        url::Url::from_file_path(file).unwrap()
    )
}

fn run(s: &Scratch) -> Vec<serde_json::Value> {
    let out = s.tributary(&["fetch", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn private_addresses_are_refused_only_when_asked() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss("A", &[(Some("a"), None, "A")])));
    server.set("/b.xml", Route::feed(rss("B", &[(Some("b"), None, "B")])));
    server.set(
        "/r",
        Route::feed("").status(302).header("location", "/a.xml"),
    );
    let s = Scratch::new();
    let file = s.dir.path().join("local.xml");
    std::fs::write(&file, rss("F", &[(Some("f"), None, "F")])).unwrap();

    s.write_config(&config(&server, &file, true), &[]);
    let check = stdout(&s.tributary(&["check"]));
    assert!(
        check.contains("private addresses and file:// refused"),
        "{check}"
    );
    for r in run(&s) {
        let error = r["error"].as_str().unwrap_or_default();
        assert_eq!(r["status"], "permanent", "{r}");
        assert!(
            error.starts_with("refused: ") && error.ends_with("(block_private_addresses)"),
            "{r}"
        );
    }
    let errors: Vec<String> = run(&s)
        .iter()
        .map(|r| r["error"].as_str().unwrap().to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("127.0.0.1 is a loopback address")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("localhost resolves to")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("file:// feeds are not allowed")),
        "{errors:?}"
    );
    assert!(
        server.hits("/a.xml").is_empty()
            && server.hits("/b.xml").is_empty()
            && server.hits("/r").is_empty()
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 0);

    // Off (the default): the same feeds are fetched.
    let s = Scratch::new();
    s.write_config(&config(&server, &file, false), &[]);
    for r in run(&s) {
        assert_eq!(r["status"], "ok", "{r}");
    }
    assert_eq!(s.count("SELECT count(*) FROM entries"), 4);
}
