//! `tributary notify`: the notification targets' queues (`status`), a test
//! message to one target (`test`), and sending what is due now (`send`).

use std::process::ExitCode;
use std::sync::Arc;

use super::open_store;
use crate::config::Config;
use crate::jobs::notify::{deliver, send_test, Delivering};
use crate::notify::send::Sender;
use crate::store::{SharedStore, TargetQueue};

/// What `tributary notify` was asked.
#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Each target: notifications waiting, delivered, failures, the next
    /// retry and the last error.
    Status {
        /// One JSON object per target per line.
        #[arg(long)]
        json: bool,
    },
    /// Send TARGET a test message now (the newest stored article), outside
    /// the queue; exit status 1 when it is refused.
    Test {
        /// The target's name (a `[[notify]]` entry).
        target: String,
    },
    /// Send what is waiting now, without waiting for batch windows (retry
    /// waits and rate limits still apply); the daemon does this by itself.
    Send,
}

/// Runs `tributary notify`.
pub(super) fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sender = || Sender::new(&config.fetch.user_agent, config.fetch.connect_timeout);
    match args {
        Args::Status { json } => {
            let queues = store.notify_queues()?;
            for t in &config.notify {
                let q = queues
                    .iter()
                    .find(|q| q.target == t.name)
                    .cloned()
                    .unwrap_or_else(|| TargetQueue {
                        target: t.name.clone(),
                        ..TargetQueue::default()
                    });
                print_queue(&q, t.kind.as_str(), json);
            }
            for q in queues
                .iter()
                .filter(|q| q.pending > 0 && !config.notify.iter().any(|t| t.name == q.target))
            {
                print_queue(q, "not configured", json);
            }
            Ok(ExitCode::SUCCESS)
        }
        Args::Test { target } => {
            let Some(t) = config.notify.iter().find(|t| t.name == target) else {
                eprintln!(
                    "error: no [[notify]] target named `{target}` in {}",
                    config.path.display()
                );
                return Ok(ExitCode::from(2));
            };
            let sender = sender().map_err(anyhow::Error::msg)?;
            let shared = SharedStore::new(store);
            match runtime.block_on(send_test(&shared, &sender, config, t)) {
                Ok(key) => {
                    println!("{target}: test message accepted (key {key})");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{target}: test message refused: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Args::Send => {
            let sender = sender().map_err(anyhow::Error::msg)?;
            let shared = SharedStore::new(store);
            let config = Arc::new(config.clone());
            let pass = runtime.block_on(deliver(&Delivering {
                store: &shared,
                sender: &sender,
                config: &config,
                metrics: None,
                now_or_never: true,
            }));
            println!(
                "{} message(s) sent with {} notification(s); {} attempt(s) failed",
                pass.messages, pass.delivered, pass.failed
            );
            Ok(if pass.failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn print_queue(q: &TargetQueue, kind: &str, json: bool) {
    if json {
        let mut v = serde_json::to_value(q).unwrap_or_default();
        v["kind"] = serde_json::json!(kind);
        println!("{v}");
        return;
    }
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_string(), |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    };
    println!(
        "{} ({kind}): {} waiting (oldest {}), {} delivered in {} message(s), {} failed attempt(s), last delivery {}{}{}",
        q.target,
        q.pending,
        time(q.oldest),
        q.delivered,
        q.messages_ok,
        q.messages_failed,
        time(q.last_ok_at),
        q.retry_at
            .filter(|_| q.pending > 0)
            .map_or(String::new(), |t| format!(", next try {}", time(Some(t)))),
        q.last_error
            .as_deref()
            .map_or(String::new(), |e| format!(", last error: {e}")),
    );
}
