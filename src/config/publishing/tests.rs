use std::path::Path;

use super::*;
use crate::config::Config;

const FEEDS: &str = "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\ntags = [\"Tech\"]\n\
                     [[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\n";

fn parse(extra: &str) -> Result<Config, ConfigError> {
    Config::parse(
        &format!("{FEEDS}{extra}"),
        Path::new("/etc/tributary/t.toml"),
    )
}

fn err(extra: &str) -> String {
    parse(extra).unwrap_err().to_string()
}

#[test]
fn defaults_serve_localhost_and_an_all_output() {
    let c = parse("").unwrap();
    assert_eq!(c.server.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.server.base_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(c.server.out_dir, None);
    assert_eq!(c.publish.outputs.len(), 1);
    let all = &c.publish.outputs[0];
    assert_eq!(all.name, DEFAULT_OUTPUT);
    assert_eq!(all.title, DEFAULT_TITLE);
    assert_eq!(all.limit, DEFAULT_LIMIT);
    assert_eq!(all.order, OutputOrder::FirstSeen);
    assert!(all.feeds.is_empty() && all.tags.is_empty() && !all.has_filter());
    assert_eq!(c.publish.ids.item(7), "tag:127.0.0.1,2026:item/7");
}

#[test]
fn a_full_setup_resolves() {
    let c = parse(
        "[server]\nlisten = \"[::]:9000\"\nbase_url = \"https://river.example.org/news\"\nout_dir = \"../public\"\n\
         [river]\ntitle = \"River\"\ndescription = \"All of it\"\nlimit = 20\norder = \"published\"\n\
         [[outputs]]\nname = \"tech-only\"\ntitle = \"Tech\"\ntags = [\"tech\"]\nfeeds = [\"b\"]\n\
         include = [\"(?i)rust\"]\nexclude = [\"sponsored\"]\nlimit = 5\n",
    )
    .unwrap();
    assert_eq!(c.server.listen.to_string(), "[::]:9000");
    assert_eq!(
        c.server.base_url.as_str(),
        "https://river.example.org/news/"
    );
    assert_eq!(c.server.out_dir.as_deref(), Some(Path::new("/etc/public")));
    assert_eq!(c.publish.ids.item(1), "tag:river.example.org,2026:item/1");
    let all = c.publish.output("all").unwrap();
    assert_eq!((all.title.as_str(), all.limit), ("River", 20));
    assert_eq!(all.order, OutputOrder::Published);
    let tech = c.publish.output("tech-only").unwrap();
    assert_eq!(tech.tags, ["tech"]);
    assert_eq!(tech.feeds, ["b"]);
    assert_eq!(tech.limit, 5);
    assert!(tech.keeps("Learning RUST", ""));
    assert!(tech.keeps("Weekly", "notes on rust"));
    assert!(!tech.keeps("Rust, sponsored", ""));
    assert!(!tech.keeps("Go news", "nothing here"));
    let printed = c.to_string();
    assert!(printed.contains("tech-only"), "{printed}");
}

#[test]
fn the_river_table_is_also_read_under_its_earlier_name() {
    let c = parse("[publish]\ntitle = \"Old name\"\nlimit = 7\n").unwrap();
    let all = c.publish.output("all").unwrap();
    assert_eq!((all.title.as_str(), all.limit), ("Old name", 7));
    let e = err("[river]\ntitle = \"A\"\n[publish]\ntitle = \"B\"\n");
    assert!(e.contains("duplicate field `river`"), "{e}");
}

#[test]
fn id_authority_and_date_can_be_pinned() {
    let c = parse("[river]\nid_authority = \"me@example.net\"\nid_date = \"2025-06\"\n").unwrap();
    assert_eq!(c.publish.ids.item(3), "tag:me@example.net,2025-06:item/3");
    let e = err("[river]\nid_date = \"June\"\n");
    assert!(
        e.starts_with("/etc/tributary/t.toml:9:11: item ids: tag date"),
        "{e}"
    );
    let e = err("[server]\nlisten = \"[::1]:8080\"\n");
    assert!(e.contains("set [river] id_authority"), "{e}");
}

#[test]
fn mistakes_name_line_and_column() {
    let cases = [
        ("[server]\nlisten = \"localhost\"\n", "9:10: listen must be"),
        (
            "[server]\nlisten = \"0.0.0.0:80\"\n",
            "9:10: [server] listen = \"0.0.0.0:80\" accepts every interface",
        ),
        (
            "[server]\nbase_url = \"ftp://x.example/\"\n",
            "9:12: base_url must be an http",
        ),
        (
            "[server]\nbase_url = \"https://x.example/?a=1\"\n",
            "9:12: base_url may not hold",
        ),
        ("[server]\nport = 1\n", "9:1: unknown field `port`"),
        (
            "[[outputs]]\nname = \"a b\"\n",
            "9:8: output name `a b` must be",
        ),
        (
            "[[outputs]]\nname = \"all\"\n",
            "9:8: the output `all` always exists",
        ),
        (
            "[[outputs]]\nname = \"x\"\n[[outputs]]\nname = \"x\"\n",
            "11:8: duplicate output name `x` (first used on line 9)",
        ),
        (
            "[[outputs]]\nname = \"x\"\nfeeds = [\"nope\"]\n",
            "10:10: no feed named `nope`",
        ),
        (
            "[[outputs]]\nname = \"x\"\ntags = [\"nope\"]\n",
            "10:9: no feed has the tag `nope`",
        ),
        (
            "[[outputs]]\nname = \"x\"\ninclude = [\"(unclosed\"]\n",
            "10:12: invalid regular expression `(unclosed`: ",
        ),
        (
            "[[outputs]]\nname = \"x\"\nexclude = \"one\"\n",
            "10:11: invalid type",
        ),
        (
            "[[outputs]]\nname = \"x\"\nlimit = 0\n",
            "10:9: 0 is out of range 1..=1000",
        ),
        (
            "[[outputs]]\nname = \"x\"\norder = \"newest\"\n",
            "10:9: order must be \"first_seen\" or \"published\"",
        ),
    ];
    for (text, want) in cases {
        let e = err(text);
        assert!(
            e.starts_with(&format!("/etc/tributary/t.toml:{want}")),
            "{text:?}\n  got: {e}\n want: {want}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
}
