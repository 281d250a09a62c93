use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/tributary/t.toml"))
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn minimal_config_gets_defaults_and_resolves_paths() {
    let c =
        parse("[[feeds]]\nname = \"a\"\nurl = \"samples/a.xml\"\ntags = [\"News\", \"news\"]\n")
            .unwrap();
    assert_eq!(c.store.path, Path::new("/etc/tributary/tributary.db"));
    assert_eq!(c.fetch.timeout, DEFAULT_TIMEOUT);
    assert_eq!(
        c.feeds[0].url.as_str(),
        "file:///etc/tributary/samples/a.xml"
    );
    assert_eq!(c.feeds[0].tags, vec!["news"]);
    assert!(c.feeds[0].dedup);
}

#[test]
fn unknown_key_names_line_and_column() {
    let e = err("[fetch]\ntimeout = \"5s\"\ntimeuot = \"5s\"\n");
    assert!(e.starts_with("/etc/tributary/t.toml:3:1: "), "{e}");
    assert!(e.contains("timeuot"), "{e}");
}

#[test]
fn duplicate_names_point_at_second_and_first() {
    let e = err("[[feeds]]\nname = \"a\"\nurl = \"https://x.example/f\"\n[[feeds]]\nname = \"a\"\nurl = \"https://y.example/f\"\n");
    assert!(
        e.starts_with("/etc/tributary/t.toml:5:8: duplicate feed name `a` (first used on line 2)"),
        "{e}"
    );
}

#[test]
fn bad_url_and_scheme_are_refused() {
    let e = err("[[feeds]]\nname = \"a\"\nurl = \"https://\"\n");
    assert!(
        e.starts_with("/etc/tributary/t.toml:3:7: invalid feed url"),
        "{e}"
    );
    let e = err("[[feeds]]\nname = \"a\"\nurl = \"ftp://x.example/f\"\n");
    assert!(e.contains("unsupported url scheme `ftp`"), "{e}");
}

#[test]
fn wrong_type_is_located() {
    let e = err("[fetch]\nconcurrency = \"many\"\n");
    assert!(e.starts_with("/etc/tributary/t.toml:2:15: "), "{e}");
    assert!(!e.contains('\n'));
}

#[test]
fn sizes_and_durations() {
    let c = parse("[fetch]\nmax_body = \"2 MiB\"\ntimeout = \"1m 30s\"\n").unwrap();
    assert_eq!(c.fetch.max_body, 2 * 1024 * 1024);
    assert_eq!(c.fetch.timeout, Duration::from_secs(90));
    assert!(err("[fetch]\nmax_body = \"lots\"\n").contains("invalid size `lots`"));
    assert!(err("[fetch]\ntimeout = \"soon\"\n").contains("invalid duration `soon`"));
    assert_eq!(parse_size("500KB"), Some(500_000));
    assert_eq!(parse_size("12"), Some(12));
    assert_eq!(parse_size("0"), None);
}

#[test]
fn schedules_resolve_feed_then_tag_then_default() {
    let c = parse(
        "[schedule]\ndefault = \"@hourly\"\ntimezone = \"Europe/Berlin\"\n[schedule.tags]\nnews = \"*/10 * * * *\"\n\
         [[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\ntags = [\"news\"]\n\
         [[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\ntags = [\"news\"]\nschedule = \"0 6 * * MON-FRI\"\n\
         [[feeds]]\nname = \"c\"\nurl = \"https://c.example/f\"\n",
    )
    .unwrap();
    let s = &c.schedule;
    assert_eq!(s.timezone, chrono_tz::Europe::Berlin);
    let of = |n: &str| {
        let f = c.feed(n).unwrap();
        s.for_feed(f.schedule.as_deref(), &f.tags).to_string()
    };
    assert_eq!(of("a"), "*/10 * * * *");
    assert_eq!(of("b"), "0 6 * * MON-FRI");
    assert_eq!(of("c"), "@hourly");
    let e =
        err("[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\nschedule = \"0 0 * * 8\"\n");
    assert!(
        e.starts_with("/etc/tributary/t.toml:4:12: invalid schedule `0 0 * * 8`"),
        "{e}"
    );
    assert!(err("[schedule]\ntimezone = \"Mars/Olympus\"\n").contains("unknown time zone"));
}

#[test]
fn secrets_come_from_env_or_file_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "s3cret-file\n").unwrap();
    // SAFETY: the variable name is unique to this test.
    unsafe { std::env::set_var("TRIBUTARY_TEST_TOKEN_7", "s3cret-env") };
    let text = "[[feeds]]\nname = \"p\"\nurl = \"https://p.example/f\"\nusername = \"me\"\n\
                password = { file = \"pw\" }\nheaders = { \"X-Token\" = { env = \"TRIBUTARY_TEST_TOKEN_7\" }, \"Accept-Language\" = \"en\" }\n\
                proxy = \"http://user:pw@proxy.example:3128\"\n";
    let c = Config::parse(text, &dir.path().join("t.toml")).unwrap();
    let http = &c.feeds[0].http;
    assert_eq!(http.password.as_ref().unwrap().expose(), "s3cret-file");
    assert_eq!(http.headers[1].1.expose(), "s3cret-env");
    for shown in [c.to_string(), format!("{c:?}")] {
        assert!(
            !shown.contains("s3cret") && !shown.contains("user:pw"),
            "{shown}"
        );
    }
    let missing = text.replace("TRIBUTARY_TEST_TOKEN_7", "TRIBUTARY_TEST_UNSET_7");
    let e = Config::parse(&missing, &dir.path().join("t.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(":6:") && e.contains("`TRIBUTARY_TEST_UNSET_7` is not set"),
        "{e}"
    );
}

#[test]
fn host_groups_match_domains() {
    let c = parse("[fetch]\nhost_gap = \"1s\"\n[[fetch.host_groups]]\nhosts = [\"*.tumblr.com\"]\nlimit = 1\n").unwrap();
    let g = &c.fetch.host_groups[0];
    assert!(
        g.matches("staff.tumblr.com") && g.matches("tumblr.com") && !g.matches("nottumblr.com")
    );
    assert_eq!(g.limit, 1);
    assert_eq!(c.fetch.host_gap, Duration::from_secs(1));
}

#[test]
fn bad_name_is_refused() {
    let e = err("[[feeds]]\nname = \"a b\"\nurl = \"https://x.example/f\"\n");
    assert!(e.contains("may hold only letters"), "{e}");
}

#[test]
fn errors_around_feed_tables_name_their_line() {
    // Feeds are deserialized one table at a time and the rest without
    // them: every error still names its place in the file.
    let feeds = "[[feeds]]\nname = \"a\"\nurl = \"https://x.example/a\"\n[feeds.headers]\nX-A = \"1\"\n\n[[feeds]]\nname = \"b\"\nurl = \"https://x.example/b\"\n";
    let after = |tail: &str| err(&format!("[store]\npath = \"t.db\"\n\n{feeds}{tail}"));
    // In the rest, after two feed tables (lines 13 and 14).
    let e = after("\n[fetch]\ntimeout = \"5s\"\ntimeuot = \"5s\"\n");
    assert!(e.starts_with("/etc/tributary/t.toml:16:1: "), "{e}");
    let e = after("\n[fetch]\nconcurrency = \"many\"\n");
    assert!(e.starts_with("/etc/tributary/t.toml:15:15: "), "{e}");
    // In a feed table: syntax, unknown key, a value.
    let e = after("\n[[feeds]]\nname = \"c\"\nurl = \"https://x.example/c\"\nx = = 1\n");
    assert!(e.starts_with("/etc/tributary/t.toml:17:"), "{e}");
    let e = after("\n[[feeds]]\nname = \"c\"\nurl = \"https://x.example/c\"\nurll = 1\n");
    assert!(e.starts_with("/etc/tributary/t.toml:17:1: "), "{e}");
    let e = after("\n[[feeds]]\nname = \"c\"\nurl = \"https://\"\n");
    assert!(
        e.starts_with("/etc/tributary/t.toml:16:7: invalid feed url"),
        "{e}"
    );
    let e = after("\n[[feeds]]\nname = \"a\"\nurl = \"https://x.example/c\"\n");
    assert!(
        e.starts_with("/etc/tributary/t.toml:15:8: duplicate feed name `a` (first used on line 5)"),
        "{e}"
    );
    // A sub-table belongs to the feed before it; both forms of a list of
    // feeds at once are refused, as toml refuses them.
    let c = parse(&format!("{feeds}[server]\nenabled = false\n")).unwrap();
    assert_eq!(c.feeds.len(), 2);
    assert_eq!(c.feeds[0].http.headers.len(), 1);
    assert!(c.feeds[1].http.headers.is_empty());
    let e = err(&format!("feeds = []\n{feeds}"));
    assert!(e.starts_with("/etc/tributary/t.toml:2:1: "), "{e}");
}
