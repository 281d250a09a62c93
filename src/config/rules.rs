//! `[[rules]]`: the operator's filter and rewrite rules, read and compiled
//! once (regexes with size caps, selectors parsed), every mistake located.
//! What the rules do is `crate::rules`; the shape is in `docs/rules.md`.

use std::collections::HashMap;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::{duration, ConfigError, FeedConfig, Locator};
use crate::rules::{Action, Conditions, Remove, Rewrite, Rule, Rules, StripQuery, MAX_REFERENCES};

/// Cap on a rule regex's compiled program, in bytes (the `regex` crate's
/// `size_limit`): a pattern such as `\w{1000}{1000}` is refused at load.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Cap on the lazy DFA's cache of one rule regex, in bytes.
pub const REGEX_DFA_LIMIT: usize = 2 << 20;
/// Longest pattern, replacement or selector accepted, in bytes.
pub const MAX_RULE_TEXT: usize = 4096;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    name: Option<Spanned<String>>,
    #[serde(default)]
    feeds: Vec<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(rename = "if")]
    when: Option<RawIf>,
    then: Spanned<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIf {
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    host: Option<Spanned<OneOrMany>>,
    author: Option<Spanned<String>>,
    category: Option<Spanned<String>>,
    text: Option<Spanned<String>>,
    language: Option<Spanned<OneOrMany>>,
    older_than: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    tag: Option<OneOrMany>,
    mark: Option<OneOrMany>,
    rewrite: Option<RawRewrite>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRewrite {
    title: Option<RawReplace>,
    text: Option<RawReplace>,
    remove: Option<OneOrMany>,
    strip_query: Option<RawStrip>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplace {
    find: String,
    replace: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStrip {
    All(bool),
    Names(Vec<String>),
}

/// Compiles every rule; `feeds` are the configured feeds (scopes must name
/// real feeds and tags).
pub(super) fn rules(
    at: &Locator<'_>,
    raw: Vec<Spanned<RawRule>>,
    feeds: &[FeedConfig],
) -> Result<Vec<Arc<Rule>>, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut names: HashMap<String, usize> = HashMap::new();
    for spanned in raw {
        let (line, _) = at.line_col(spanned.span().start);
        let r = spanned.into_inner();
        let name = match &r.name {
            Some(n) => {
                let name = n.get_ref().trim().to_string();
                if name.is_empty() || name.len() > 200 {
                    return Err(at.error(n.span(), "rule name must be 1 to 200 bytes"));
                }
                if let Some(first) = names.get(&name) {
                    return Err(at.error(
                        n.span(),
                        &format!("duplicate rule name `{name}` (first used on line {first})"),
                    ));
                }
                names.insert(name.clone(), line);
                name
            }
            None => format!("line {line}"),
        };
        let mut scope_feeds = Vec::new();
        for f in &r.feeds {
            let feed = f.get_ref().trim();
            if !feeds.iter().any(|c| c.name == feed) {
                return Err(at.error(f.span(), &format!("no feed named `{feed}`")));
            }
            scope_feeds.push(feed.to_string());
        }
        let mut scope_tags = Vec::new();
        for t in &r.tags {
            let tag = t.get_ref().trim().to_lowercase();
            if !feeds.iter().any(|c| c.tags.contains(&tag)) {
                return Err(at.error(t.span(), &format!("no feed has the tag `{tag}`")));
            }
            scope_tags.push(tag);
        }
        let mut said = Vec::new();
        let when = match &r.when {
            Some(w) => conditions(at, w, &mut said)?,
            None => Conditions::default(),
        };
        let action = action(at, &r.then, &mut said)?;
        let scope = match (scope_feeds.is_empty(), scope_tags.is_empty()) {
            (true, true) => "every feed".to_string(),
            _ => [
                (!scope_feeds.is_empty()).then(|| format!("feeds {}", scope_feeds.join(", "))),
                (!scope_tags.is_empty()).then(|| format!("tags {}", scope_tags.join(", "))),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        };
        out.push(Arc::new(Rule {
            name,
            line,
            feeds: scope_feeds,
            tags: scope_tags,
            when,
            summary: format!("{scope}: {}", said.join(" ")),
            action,
        }));
    }
    Ok(out)
}

/// The rules that apply to `feed`, in order.
pub(super) fn for_feed(all: &[Arc<Rule>], name: &str, tags: &[String]) -> Rules {
    all.iter()
        .filter(|r| r.applies_to(name, tags))
        .cloned()
        .collect()
}

pub(super) fn conditions(
    at: &Locator<'_>,
    w: &RawIf,
    said: &mut Vec<String>,
) -> Result<Conditions, ConfigError> {
    let mut re = |key: &str, v: &Option<Spanned<String>>| -> Result<Option<Regex>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        said.push(format!("if {key} ~ /{}/", v.get_ref()));
        regex(v.get_ref())
            .map(Some)
            .map_err(|e| at.error(v.span(), &e))
    };
    let mut c = Conditions {
        title: re("title", &w.title)?,
        link: re("link", &w.link)?,
        author: re("author", &w.author)?,
        category: re("category", &w.category)?,
        text: re("text", &w.text)?,
        ..Conditions::default()
    };
    if let Some(h) = &w.host {
        for host in h.get_ref().list() {
            let host = host.trim().trim_start_matches("*.").trim_matches('.');
            if host.is_empty() || host.contains(['/', ':', ' ']) {
                return Err(at.error(
                    h.span(),
                    &format!("`{host}` is not a host name (write e.g. \"example.com\")"),
                ));
            }
            c.host.push(host.to_ascii_lowercase());
        }
        said.push(format!("if host in {}", c.host.join(", ")));
    }
    if let Some(l) = &w.language {
        for lang in l.get_ref().list() {
            let lang = lang.trim().replace('_', "-").to_ascii_lowercase();
            if lang.is_empty() || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(at.error(
                    l.span(),
                    &format!("`{lang}` is not a language tag (write e.g. \"en\" or \"pt-BR\")"),
                ));
            }
            c.language.push(lang);
        }
        said.push(format!("if language in {}", c.language.join(", ")));
    }
    if let Some(age) = &w.older_than {
        c.older_than = Some(duration(at, age)?);
        said.push(format!("if older than {}", age.get_ref()));
    }
    Ok(c)
}

fn action(
    at: &Locator<'_>,
    then: &Spanned<toml::Value>,
    said: &mut Vec<String>,
) -> Result<Action, ConfigError> {
    let bad = |why: &str| at.error(then.span(), why);
    let raw: RawAction = match then.get_ref() {
        toml::Value::String(word) => {
            said.push(format!("then {word}"));
            return match word.as_str() {
                "drop" => Ok(Action::Drop),
                "keep" => Ok(Action::Keep),
                other => Err(bad(&format!(
                    "unknown action `{other}`: write then = \"drop\", then = \"keep\", or a table with one of tag, mark, rewrite"
                ))),
            };
        }
        value => value
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| bad(&format!("in then: {}", e.message().trim())))?,
    };
    let given = [raw.tag.is_some(), raw.mark.is_some(), raw.rewrite.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(bad(
            "then must hold exactly one of tag, mark, rewrite (write two rules for two actions)",
        ));
    }
    if let Some(t) = raw.tag {
        let tags = labels(&t, &bad)?;
        said.push(format!("then tag {}", tags.join(", ")));
        return Ok(Action::Tag(tags));
    }
    if let Some(m) = raw.mark {
        let marks = labels(&m, &bad)?;
        said.push(format!("then mark {}", marks.join(", ")));
        return Ok(Action::Mark(marks));
    }
    let rw = raw.rewrite.expect("one of the three is given");
    let mut steps = Vec::new();
    for (field, r) in [("title", &rw.title), ("text", &rw.text)] {
        let Some(r) = r else { continue };
        let find = regex(&r.find).map_err(|e| bad(&format!("rewrite.{field}.find: {e}")))?;
        replacement(&r.replace).map_err(|e| bad(&format!("rewrite.{field}.replace: {e}")))?;
        said.push(format!(
            "then rewrite {field} /{}/ → \"{}\"",
            r.find, r.replace
        ));
        let replace = r.replace.clone();
        steps.push(match field {
            "title" => Rewrite::Title { find, replace },
            _ => Rewrite::Text { find, replace },
        });
    }
    for source in rw.remove.iter().flat_map(OneOrMany::list) {
        steps.push(Rewrite::Remove(selector(&source).map_err(|e| bad(&e))?));
        said.push(format!("then remove `{source}`"));
    }
    match rw.strip_query {
        Some(RawStrip::All(true)) => {
            steps.push(Rewrite::StripQuery(StripQuery::All));
            said.push("then strip the query".into());
        }
        Some(RawStrip::Names(names)) if !names.is_empty() => {
            said.push(format!("then strip {}", names.join(", ")));
            steps.push(Rewrite::StripQuery(StripQuery::Params(names)));
        }
        Some(_) => return Err(bad("strip_query is true or a list of parameter names")),
        None => {}
    }
    if steps.is_empty() {
        return Err(bad("rewrite needs one of title, text, remove, strip_query"));
    }
    Ok(Action::Rewrite(steps))
}

/// Tag and mark names: lower case, letters, digits, `-`, `_`, `.`.
fn labels(raw: &OneOrMany, bad: &dyn Fn(&str) -> ConfigError) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for l in raw.list() {
        let l = l.trim().to_lowercase();
        if l.is_empty()
            || l.len() > 64
            || !l
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(bad(&format!(
                "`{l}` is not a label: 1 to 64 letters, digits, `-`, `_` or `.`"
            )));
        }
        if !out.contains(&l) {
            out.push(l);
        }
    }
    if out.is_empty() {
        return Err(bad("no label given"));
    }
    Ok(out)
}

/// A rule regex, with the compiled size capped.
pub(super) fn regex(pattern: &str) -> Result<Regex, String> {
    if pattern.len() > MAX_RULE_TEXT {
        return Err(format!("pattern longer than {MAX_RULE_TEXT} bytes"));
    }
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .build()
        .map_err(|e| {
            let why = match e {
                regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().trim().to_owned(),
                regex::Error::CompiledTooBig(n) => {
                    format!("compiles to more than {n} bytes (simplify it)")
                }
                other => other.to_string(),
            };
            format!("invalid regular expression `{pattern}`: {why}")
        })
}

/// Checks a replacement: bounded length and group references.
fn replacement(s: &str) -> Result<(), String> {
    if s.len() > MAX_RULE_TEXT {
        return Err(format!("longer than {MAX_RULE_TEXT} bytes"));
    }
    let refs = s.replace("$$", "").matches('$').count();
    if refs > MAX_REFERENCES {
        return Err(format!(
            "{refs} group references; at most {MAX_REFERENCES} (each copies the match)"
        ));
    }
    Ok(())
}

/// A selector for `remove`; `:has()` (whose cost grows with the nesting
/// of what it searches) is refused.
fn selector(source: &str) -> Result<Remove, String> {
    if source.len() > MAX_RULE_TEXT {
        return Err(format!("selector longer than {MAX_RULE_TEXT} bytes"));
    }
    if source.to_ascii_lowercase().contains(":has(") {
        return Err(format!(
            "selector `{source}`: :has() is not supported (its cost grows with the page's nesting)"
        ));
    }
    let selector = scraper::Selector::parse(source)
        .map_err(|e| format!("invalid selector `{source}`: {e}"))?;
    Ok(Remove {
        selector,
        source: source.to_string(),
    })
}

/// The rule tags (or, with `marks`, the marks) an output or digest selects
/// on: each must be one a rule adds, so a typo is an error, not an empty
/// feed.
pub(super) fn added(
    at: &Locator<'_>,
    raw: &[Spanned<String>],
    rules: &[Arc<Rule>],
    marks: bool,
) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for l in raw {
        let label = l.get_ref().trim().to_lowercase();
        let known = rules.iter().any(|r| match &r.action {
            Action::Tag(t) if !marks => t.contains(&label),
            Action::Mark(m) if marks => m.contains(&label),
            _ => false,
        });
        if !known {
            let what = if marks { "mark" } else { "tag" };
            return Err(at.error(
                l.span(),
                &format!("no rule adds the {what} `{label}` (see [[rules]] with then.{what})"),
            ));
        }
        if !out.contains(&label) {
            out.push(label);
        }
    }
    Ok(out)
}
