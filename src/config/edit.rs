//! Changing the config file from the command line (`tributary add`,
//! `remove`, `import-opml`): appending and removing `[[feeds]]` tables while
//! every other byte — comments, blank lines, key order, quoting — stays as
//! it was.
//!
//! Edits are splices of the original text: a new table is appended at the
//! end; a removed table is cut out at the place `toml_edit` says it spans
//! (its header up to the end of its last value's line, subtables included).
//! Comments above a table's header and after its last value are kept, since
//! they may speak of more than that one feed. Before the file is replaced
//! the new text is validated as a whole [`Config`], then written to a
//! temporary file beside the original and renamed over
//! it, so the file is never half-written and never invalid. The temporary
//! file is created readable by its owner only and given the original's
//! owner and mode before the text is written; a config that writes a
//! secret itself (a password or header value, a URL with a password) loses
//! the bits that let other users read it (see
//! [`crate::private_files::write_replacement`]).

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table};

use super::{Config, ConfigError};

/// A feed to append to the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    /// Its unique name.
    pub name: String,
    /// Its URL, as it should be written.
    pub url: String,
    /// Its tags (may be empty).
    pub tags: Vec<String>,
}

/// Why the config file could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file as it stands (or as it would be) does not validate.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// No `[[feeds]]` table has this name.
    #[error("no feed named `{0}` in the config")]
    NoSuchFeed(String),
    /// A feed of this name exists already.
    #[error("a feed named `{0}` is already in the config")]
    DuplicateName(String),
    /// A feed with this URL exists already.
    #[error("{url} is already in the config as `{name}`")]
    DuplicateUrl {
        /// The URL.
        url: String,
        /// The feed that has it.
        name: String,
    },
    /// The feeds are written in a shape these edits do not handle (an
    /// inline array `feeds = [...]`).
    #[error("{0}; edit the file by hand")]
    Unsupported(String),
}

/// The config file's text, to be edited and saved.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    text: String,
}

impl ConfigFile {
    /// Reads the file at `path`.
    pub fn read(path: &Path) -> Result<ConfigFile, EditError> {
        let text = std::fs::read_to_string(path).map_err(|source| EditError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
        })
    }

    /// Wraps `text` as if read from `path` (for tests and previews).
    pub fn from_text(path: &Path, text: &str) -> ConfigFile {
        ConfigFile {
            path: path.to_path_buf(),
            text: text.to_string(),
        }
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The current text as a validated config.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::parse(&self.text, &self.path)
    }

    /// Appends one `[[feeds]]` table per feed at the end of the file,
    /// after a blank line. Refuses a name or URL the config already has
    /// (URLs compare after parsing, so `HTTP://Example.com:80/f` equals
    /// `http://example.com/f`), and any result that does not validate.
    pub fn append_feeds(&mut self, feeds: &[NewFeed]) -> Result<(), EditError> {
        let current = self.config()?;
        let mut names: Vec<&str> = current.feeds.iter().map(|f| f.name.as_str()).collect();
        let mut urls: Vec<(url::Url, &str)> = current
            .feeds
            .iter()
            .map(|f| (f.url.clone(), f.name.as_str()))
            .collect();
        for f in feeds {
            if names.contains(&f.name.as_str()) {
                return Err(EditError::DuplicateName(f.name.clone()));
            }
            if let Ok(u) = url::Url::parse(&f.url) {
                if let Some((_, name)) = urls.iter().find(|(have, _)| *have == u) {
                    return Err(EditError::DuplicateUrl {
                        url: f.url.clone(),
                        name: name.to_string(),
                    });
                }
                urls.push((u, &f.name));
            }
            names.push(&f.name);
        }
        let mut text = self.text.clone();
        for f in feeds {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            if !text.is_empty() && !text.ends_with("\n\n") {
                text.push('\n');
            }
            text.push_str(&feed_table(f));
        }
        Config::parse(&text, &self.path)?;
        self.text = text;
        Ok(())
    }

    /// Cuts out the `[[feeds]]` table named `name` (and one blank line
    /// that separated it), leaving every other byte as it was.
    pub fn remove_feed(&mut self, name: &str) -> Result<(), EditError> {
        let (start, end) = self.feed_extent(name)?;
        let text = &self.text;
        let before = &text[..start];
        let after = &text[end..];
        let blank_before = before.is_empty() || before.ends_with("\n\n");
        let mut out = String::with_capacity(text.len());
        if let (true, Some(rest)) = (blank_before, after.strip_prefix('\n')) {
            out.push_str(before);
            out.push_str(rest);
        } else if after.is_empty() && before.ends_with("\n\n") {
            out.push_str(&before[..before.len() - 1]);
        } else {
            out.push_str(before);
            out.push_str(after);
        }
        Config::parse(&out, &self.path)?;
        self.text = out;
        Ok(())
    }

    /// Byte range of the named feed's table: from the start of its header
    /// line to the end of the line holding its last key or value.
    fn feed_extent(&self, name: &str) -> Result<(usize, usize), EditError> {
        let doc = toml_edit::Document::parse(self.text.as_str()).map_err(|e| {
            EditError::Unsupported(format!("the config is not valid TOML: {}", e.message()))
        })?;
        let Some(feeds) = doc.as_table().get("feeds") else {
            return Err(EditError::NoSuchFeed(name.to_string()));
        };
        let Some(tables) = feeds.as_array_of_tables() else {
            return Err(EditError::Unsupported(
                "the feeds are not written as [[feeds]] tables".into(),
            ));
        };
        let table = tables
            .iter()
            .find(|t| t.get("name").and_then(Item::as_str).map(str::trim) == Some(name))
            .ok_or_else(|| EditError::NoSuchFeed(name.to_string()))?;
        let header = table
            .span()
            .ok_or_else(|| EditError::Unsupported("the table has no position".into()))?;
        let text = &self.text;
        let start = text[..header.start].rfind('\n').map_or(0, |i| i + 1);
        let last = last_byte(table).unwrap_or(header.end).max(header.end);
        let end = text[last..].find('\n').map_or(text.len(), |i| last + i + 1);
        Ok((start, end))
    }

    /// Validates the text and replaces the file with it.
    pub fn save(&self) -> Result<(), EditError> {
        self.config()?;
        // Write beside the real file when the config is a symlink.
        let target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let io = |source| EditError::Io {
            path: target.clone(),
            source,
        };
        let file_name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tributary.toml".into());
        let tmp = target.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
        let original = std::fs::metadata(&target).ok();
        let secret = holds_inline_secrets(&self.text);
        let result = crate::private_files::write_replacement(
            &tmp,
            original.as_ref(),
            secret,
            self.text.as_bytes(),
        )
        .and_then(|_| std::fs::rename(&tmp, &target));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }
}

/// Whether `text` writes a secret itself rather than naming where to read
/// it (`{ env = … }`, `{ file = … }`): a feed's `password` or a header
/// value given as a string, a feed URL with a user name or password, a
/// digest's SMTP `password` given as a string.
fn holds_inline_secrets(text: &str) -> bool {
    let Ok(doc) = toml_edit::Document::parse(text) else {
        // Unreadable as TOML (never saved: it does not validate): assume so.
        return true;
    };
    let tables = |key: &str| -> Vec<&Table> {
        doc.as_table()
            .get(key)
            .and_then(Item::as_array_of_tables)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    let is_str = |i: Option<&Item>| i.is_some_and(|i| i.as_str().is_some());
    let feeds = tables("feeds").into_iter().any(|f| {
        let userinfo = f
            .get("url")
            .and_then(Item::as_str)
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| !u.username().is_empty() || u.password().is_some());
        let headers = f
            .get("headers")
            .and_then(Item::as_table_like)
            .is_some_and(|h| h.iter().any(|(_, v)| v.as_str().is_some()));
        userinfo || headers || is_str(f.get("password"))
    });
    let mail = tables("digests").into_iter().any(|d| {
        d.get("email")
            .and_then(Item::as_table_like)
            .is_some_and(|e| is_str(e.get("password")))
    });
    feeds || mail
}

/// The last byte any key, value or subtable header of `table` covers.
fn last_byte(table: &Table) -> Option<usize> {
    let mut end = table.span().map(|s| s.end);
    for (key, item) in table.iter() {
        let key_end = table
            .get_key_value(key)
            .and_then(|(k, _)| k.span())
            .map(|s| s.end);
        let item_end = match item {
            Item::Table(t) => last_byte(t),
            Item::ArrayOfTables(a) => a.iter().filter_map(last_byte).max(),
            Item::Value(v) => v.span().map(|s| s.end),
            Item::None => None,
        };
        end = end.max(key_end).max(item_end);
    }
    end
}

/// Whether `name` may be a feed name as it is (the rule `Config` checks).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A feed name made from a title: lower-cased, every run of characters
/// other than letters, digits, `_` and `.` turned into one `-` (`"Ars
/// Technica: All"` → `ars-technica-all`), at most 48 characters. `None`
/// when nothing usable is left.
pub fn name_from(title: &str) -> Option<String> {
    let title = title.trim();
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || matches!(c, '_' | '.') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches(['-', '.']).chars().take(48).collect();
    let out = out.trim_end_matches(['-', '.']).to_string();
    (!out.is_empty()).then_some(out)
}

/// A feed name made from a URL's host (`www.` dropped), for feeds without
/// a usable title.
pub fn name_from_url(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let base = if host.is_empty() {
        url.path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("")
            .to_string()
    } else {
        host.to_string()
    };
    name_from(&base).unwrap_or_else(|| "feed".to_string())
}

/// `base`, or `base-2`, `base-3`, … : the first that `taken` says is free.
pub fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

/// `[[feeds]]` with the feed's keys, formatted and quoted by `toml_edit`.
fn feed_table(f: &NewFeed) -> String {
    let mut t = Table::new();
    t.insert("name", toml_edit::value(f.name.as_str()));
    t.insert("url", toml_edit::value(f.url.as_str()));
    if !f.tags.is_empty() {
        t.insert(
            "tags",
            toml_edit::value(f.tags.iter().map(String::as_str).collect::<Array>()),
        );
    }
    let mut aot = ArrayOfTables::new();
    aot.push(t);
    let mut doc = DocumentMut::new();
    doc.insert("feeds", Item::ArrayOfTables(aot));
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# My feeds.\n[store]\npath = \"t.db\" # beside this file\n\n\
        # --- news ---\n\n[[feeds]]\nname = \"a\"   # first\nurl = \"https://a.example/f\"\n\
        tags = [\n  \"news\",\n  \"world\",\n]\n\n[[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\n\
        headers = { \"X-Key\" = \"k\" }\n# about c:\n[[feeds]]\nname = \"c\"\nurl = \"https://c.example/f\"\n\
        [feeds.headers]\nX-Other = \"o\"\n\n# end of file\n";

    fn file(text: &str) -> ConfigFile {
        ConfigFile::from_text(Path::new("/etc/tributary/t.toml"), text)
    }

    fn new(name: &str, url: &str, tags: &[&str]) -> NewFeed {
        NewFeed {
            name: name.into(),
            url: url.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn append_then_remove_gives_back_the_same_bytes() {
        let mut f = file(FILE);
        f.append_feeds(&[new("d", "https://d.example/a \"q\"", &["x", "y"])])
            .unwrap();
        assert!(f.text().starts_with(FILE), "{}", f.text());
        assert!(f.text().ends_with(
            "# end of file\n\n[[feeds]]\nname = \"d\"\nurl = 'https://d.example/a \"q\"'\ntags = [\"x\", \"y\"]\n"
        ), "{}", f.text());
        let c = f.config().unwrap();
        assert_eq!(c.feed("d").unwrap().tags, vec!["x", "y"]);
        f.remove_feed("d").unwrap();
        assert_eq!(f.text(), FILE);
    }

    #[test]
    fn removing_cuts_only_the_table() {
        let mut f = file(FILE);
        f.remove_feed("a").unwrap();
        assert_eq!(f.text(), FILE.replace("[[feeds]]\nname = \"a\"   # first\nurl = \"https://a.example/f\"\ntags = [\n  \"news\",\n  \"world\",\n]\n\n", ""));
        let mut f = file(FILE);
        f.remove_feed("b").unwrap();
        assert_eq!(
            f.text(),
            FILE.replace(
                "[[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\nheaders = { \"X-Key\" = \"k\" }\n",
                ""
            )
        );
        let mut f = file(FILE);
        f.remove_feed("c").unwrap();
        assert_eq!(
            f.text(),
            FILE.replace(
                "[[feeds]]\nname = \"c\"\nurl = \"https://c.example/f\"\n[feeds.headers]\nX-Other = \"o\"\n",
                ""
            )
        );
        assert!(matches!(f.remove_feed("zz"), Err(EditError::NoSuchFeed(_))));
    }

    #[test]
    fn duplicates_are_refused() {
        let mut f = file(FILE);
        assert!(matches!(
            f.append_feeds(&[new("a", "https://new.example/f", &[])]),
            Err(EditError::DuplicateName(n)) if n == "a"
        ));
        assert!(matches!(
            f.append_feeds(&[new("z", "HTTPS://B.example:443/f", &[])]),
            Err(EditError::DuplicateUrl { name, .. }) if name == "b"
        ));
        assert!(matches!(
            f.append_feeds(&[
                new("z", "https://z.example/1", &[]),
                new("z", "https://z.example/2", &[])
            ]),
            Err(EditError::DuplicateName(_))
        ));
        assert_eq!(f.text(), FILE);
    }

    #[test]
    fn appends_to_files_without_feeds_or_final_newline() {
        let mut f = file("[store]\npath = \"t.db\"");
        f.append_feeds(&[new("a", "https://a.example/f", &[])])
            .unwrap();
        assert_eq!(
            f.text(),
            "[store]\npath = \"t.db\"\n\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\n"
        );
        let mut f = file("");
        f.append_feeds(&[new("a", "https://a.example/f", &[])])
            .unwrap();
        f.remove_feed("a").unwrap();
        assert_eq!(f.text(), "");
    }

    #[test]
    fn inline_feed_arrays_are_left_alone() {
        let mut f = file("feeds = [{ name = \"a\", url = \"https://a.example/f\" }]\n");
        assert!(matches!(
            f.append_feeds(&[new("b", "https://b.example/f", &[])]),
            Err(EditError::Invalid(_))
        ));
        assert!(matches!(f.remove_feed("a"), Err(EditError::Unsupported(_))));
    }

    #[test]
    fn names_from_titles_and_urls() {
        assert_eq!(name_from("World_News.1").as_deref(), Some("world_news.1"));
        assert_eq!(
            name_from("Ars Technica: All content").as_deref(),
            Some("ars-technica-all-content")
        );
        assert_eq!(
            name_from("  Café — Zürich!  ").as_deref(),
            Some("café-zürich")
        );
        assert_eq!(name_from("???"), None);
        assert_eq!(name_from(&"x ".repeat(40)).unwrap().len(), 47);
        let u = url::Url::parse("https://www.example.com/feed.xml").unwrap();
        assert_eq!(name_from_url(&u), "example.com");
        assert_eq!(unique_name("a", |n| n == "a" || n == "a-2"), "a-3");
        assert_eq!(unique_name("b", |_| false), "b");
    }

    #[test]
    fn save_replaces_the_file_keeping_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.toml");
        std::fs::write(&p, "[store]\npath = \"t.db\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut f = ConfigFile::read(&p).unwrap();
        f.append_feeds(&[new("a", "https://a.example/f", &[])])
            .unwrap();
        f.save().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), f.text());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
