//! The command line: one function per command, on top of the library.
//!
//! Exit codes: 0 success (including a fetch round in which some feeds
//! failed: they are reported), 1 the store or runtime failed, 2 the
//! configuration is invalid or the command line is wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::store::Store;

mod add;
mod backup;
mod completions;
mod digest;
mod doctor;
mod explain;
mod extract;
mod feeds;
mod fetch;
mod man;
mod notify;
mod opml;
mod prune;
mod publish;
mod remove;
mod rules;
mod search;

/// Tributary: many feeds in, one clean river out.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about)]
pub struct Cli {
    /// Config file [default: $TRIBUTARY_CONFIG, ./config/tributary.toml, /etc/tributary/tributary.toml]
    #[arg(long, short, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: poll every feed on its schedule until stopped
    /// (SIGTERM/SIGINT; SIGHUP reloads the config).
    Run,
    /// Poll the configured feeds once, store what is new, print one line per feed.
    Fetch {
        /// Only this feed (repeatable).
        #[arg(long = "feed", value_name = "NAME")]
        feeds: Vec<String>,
        /// One JSON object per feed per line, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Validate the config and print what it resolved to.
    Check,
    /// The operator's rules: `rules test FEED` shows what they would do.
    #[command(subcommand)]
    Rules(rules::Args),
    /// Notification targets (`[[notify]]`): their queues, a test message,
    /// sending what is due now.
    #[command(subcommand)]
    Notify(notify::Args),
    /// Make a digest now (recorded, like a scheduled one), print or send it,
    /// or list past digests.
    Digest(digest::Args),
    /// Show why an article is what it is: the entries that point at it (and
    /// which key joined them), and the story it belongs to with similarities.
    Explain {
        /// An article's id (`articles.id`), or an entry's link, guid or
        /// key (also of an entry a rule dropped: says which rule, when).
        what: String,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the feeds with their state.
    Feeds {
        /// One JSON object per feed per line.
        #[arg(long)]
        json: bool,
    },
    /// Render every output (Atom, RSS, JSON Feed) and the index page into a folder.
    Publish {
        /// Folder to write into [default: `[server] out_dir` of the config]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Explain what is wrong with failing feeds and what to do about it.
    Doctor {
        /// Only this feed.
        feed: Option<String>,
        /// Judge from the store alone: no live request.
        #[arg(long)]
        offline: bool,
    },
    /// Add a feed to the config (a web page is searched for its feed).
    Add {
        /// The feed's URL, or a web page that announces it.
        url: String,
        /// Its name [default: derived from the feed's title].
        #[arg(long)]
        name: Option<String>,
        /// Its tags, comma-separated.
        #[arg(long, value_delimiter = ',', value_name = "TAG,…")]
        tags: Vec<String>,
    },
    /// Remove a feed from the config (its articles stay in the store).
    Remove {
        /// The feed's name.
        name: String,
    },
    /// Add the feeds of an OPML subscription list to the config.
    ImportOpml {
        /// The OPML file.
        file: PathBuf,
    },
    /// Print the configured feeds as an OPML 2.0 subscription list.
    ExportOpml,
    /// Full-text search over stored articles.
    Search {
        /// What to look for (FTS5 syntax works: `bridge OR ferry`, `"exact phrase"`, `harb*`). At most 4,096 bytes, 256 words and 64 prefix terms; a search stops after 60 s.
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// How many results.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        /// One JSON object per result per line.
        #[arg(long)]
        json: bool,
    },
    /// Print what full-text extraction takes from one page (for choosing
    /// `full_text` selectors): fetched like a feed, extracted, cleaned.
    Extract {
        /// The article page.
        url: String,
        /// Take the elements matching this CSS selector instead of running Readability.
        #[arg(long, value_name = "CSS")]
        selector: Option<String>,
        /// Remove the elements matching this CSS selector first (repeatable).
        #[arg(long, value_name = "CSS")]
        remove: Vec<String>,
        /// Print the cleaned HTML instead of its text.
        #[arg(long)]
        html: bool,
    },
    /// Apply the `[retention]` settings now, then give free space back.
    Prune,
    /// Write a consistent copy of the database (safe while the daemon runs).
    Backup {
        /// Where to write the copy.
        path: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script.
    #[command(hide = true)]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    #[command(hide = true)]
    Man,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    crate::allocator::tune();
    let cli = Cli::parse();
    // A progress bar replaces the per-feed warnings (the command prints
    // each failure itself); log lines would break the bar.
    let quiet = matches!(cli.command, Command::Fetch { json: false, .. }) && fetch::shows_bar();
    init_logging(matches!(cli.command, Command::Run), quiet);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ce) = e.downcast_ref::<ConfigError>() {
                eprintln!("error: {ce}");
                return ExitCode::from(2);
            }
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Logs to stderr. Tributary's own messages: the daemon's at `info` by
/// default, commands' at `warn` (`error` when `quiet`). Libraries' at
/// `error` only: their warnings are notes about their own internals
/// (html5ever's "foster parenting not implemented" for every odd table in
/// an article), which an operator can neither act on nor silence.
/// `RUST_LOG` overrides. Under systemd (`JOURNAL_STREAM` set) the journal
/// adds timestamps, so lines carry none and no colours.
fn init_logging(daemon: bool, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (daemon, quiet) {
        (true, _) => "error,tributary=info",
        (false, true) => "error",
        (false, false) => "error,tributary=warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!journald && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if journald {
        builder.without_time().init();
    } else {
        builder.init();
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let path = Config::locate(cli.config.as_deref())?;
    Ok(Config::load(&path)?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // These describe the program itself and need no config.
    match cli.command {
        Command::Completions { shell } => return completions::run(shell),
        Command::Man => return man::run(),
        _ => {}
    }
    let config = load_config(&cli)?;
    match cli.command {
        Command::Run => {
            let path = config.path.clone();
            let runtime = crate::jobs::threads::runtime()?;
            let store = runtime.block_on(crate::daemon::run_until_signalled(path, config))?;
            // Ends every task and waits for the blocking threads: after
            // this no connection but the writer's is open.
            drop(runtime);
            crate::daemon::close_store(store);
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            print!("{config}");
            println!("ok");
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch { feeds, json } => fetch::run(config, &feeds, json),
        Command::Feeds { json } => feeds::run(&config, json),
        Command::Explain { what, json } => explain::run(&config, &what, json),
        Command::Rules(args) => rules::run(&config, args),
        Command::Digest(args) => digest::run(&config, args),
        Command::Notify(args) => notify::run(&config, args),
        Command::Publish { out } => publish::run(&config, out),
        Command::Doctor { feed, offline } => doctor::run(&config, feed.as_deref(), offline),
        Command::Add { url, name, tags } => add::run(&config, &url, name, &tags),
        Command::Remove { name } => remove::run(&config, &name),
        Command::ImportOpml { file } => opml::import(&config, &file),
        Command::ExportOpml => opml::export(&config),
        Command::Search { query, limit, json } => {
            search::run(&config, &query.join(" "), limit, json)
        }
        Command::Extract {
            url,
            selector,
            remove,
            html,
        } => extract::run(&config, &url, selector, remove, html),
        Command::Prune => prune::run(&config),
        Command::Backup { path, force } => backup::run(&config, &path, force),
        Command::Completions { .. } | Command::Man => {
            unreachable!("handled before loading the config")
        }
    }
}

/// Opens (and migrates) the configured store.
pub(crate) fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open_with(&config.store.path, config.store.access)
        .with_context(|| format!("opening the store {}", config.store.path.display()))
}
