//! `tributary digest`: make a digest now, print it, send it, or list past ones.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::open_store;
use crate::config::Config;
use crate::digest::{self, render, Digest};
use crate::jobs::digests;
use crate::store::SharedStore;

/// The renderings `--print` can show.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Rendering {
    /// A complete HTML document.
    Html,
    /// Plain text.
    Text,
    /// Markdown.
    Markdown,
}

/// What `tributary digest` was asked.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The digest's name (a `[[digests]]` entry).
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// Print the digest in this format.
    #[arg(long, value_enum)]
    pub print: Option<Rendering>,
    /// Send it by email now (as configured for the digest).
    #[arg(long)]
    pub send: bool,
    /// A one-off digest of what arrived since TIME (RFC 3339, or a duration
    /// such as "24h" meaning that long ago). Not recorded: the next
    /// scheduled digest is unaffected.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// List the digests made so far.
    #[arg(long, conflicts_with_all = ["print", "send", "since"])]
    pub list: bool,
}

fn parse_since(s: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = humantime::parse_duration(s).with_context(|| {
        format!("--since `{s}`: not an RFC 3339 time or a duration such as \"24h\"")
    })?;
    Ok(now - chrono::Duration::from_std(d)?)
}

fn print(d: &Digest, format: Rendering) {
    let out = match format {
        Rendering::Html => render::html(d),
        Rendering::Text => render::text(d),
        Rendering::Markdown => render::markdown(d),
    };
    print!("{out}");
}

/// Runs the command.
pub(super) fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let mut store = open_store(config)?;
    if args.list {
        let rows = store.digests(args.name.as_deref(), 200)?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{:>6}  {:<16} {:<20} {:>7}  email",
            "ID", "NAME", "MADE", "STORIES"
        )?;
        for r in rows {
            let email = match r.email_status.as_deref() {
                None => "-".to_string(),
                Some("sent") => "sent".to_string(),
                Some(s) => format!(
                    "{s} ({} attempts{})",
                    r.email_attempts,
                    r.email_error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
            };
            writeln!(
                out,
                "{:>6}  {:<16} {:<20} {:>7}  {email}",
                r.id, r.name, r.made_at, r.items
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = args.name.expect("clap requires a name without --list");
    let Some(cfg) = config.digests.iter().find(|d| d.name == name).cloned() else {
        eprintln!(
            "error: no digest named `{name}` in {}",
            config.path.display()
        );
        return Ok(ExitCode::from(2));
    };
    if args.send && cfg.email.is_none() {
        eprintln!("error: digest `{name}` has no [digests.email] section");
        return Ok(ExitCode::from(2));
    }
    let now = Utc::now();
    if let Some(since) = &args.since {
        let since = parse_since(since, now)?;
        let articles = store.articles_since(since)?;
        let upto = articles.last().map_or(0, |a| a.id);
        let d = digest::build(&cfg, &articles, Some(since), now, upto);
        print(&d, args.print.unwrap_or(Rendering::Text));
        if args.send {
            let mail = cfg.email.as_ref().expect("checked above");
            let (text, html) = (render::text(&d), render::html(&d));
            let content = digest::email::Content {
                title: &cfg.title,
                subject: &cfg.title,
                text: &text,
                html: &html,
            };
            let m = digest::email::message(mail, 0, &name, &content)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(digest::email::send(mail, m))?;
            eprintln!("sent to {}", mail.to.join(", "));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let made = digests::make(&mut store, &cfg, &config.schedule, now)?;
    match &made {
        Some((id, d)) => match args.print {
            Some(f) => print(d, f),
            None => println!("digest {id} ({name}): {} stories", d.stories()),
        },
        None => eprintln!("nothing new since the last `{name}` digest: none made"),
    }
    if args.send && made.is_some() {
        let shared = SharedStore::new(store);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let sent = rt.block_on(digests::deliver_pending(&shared, config))?;
        if sent == 0 {
            eprintln!("sending failed; the digest stays pending and the daemon will retry (see `tributary digest --list`)");
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
