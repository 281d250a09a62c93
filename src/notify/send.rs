//! Sending one message to one target (the I/O shell of `notify`): an HTTP
//! POST with reqwest (rustls) for webhooks and ntfy, or a program run with
//! the message on its standard input.
//!
//! Bounds: each attempt ends after the target's `timeout` (a command's
//! whole process group is killed then, or when the daemon stops); at most [`MAX_RESPONSE`] bytes
//! of an answer or of a command's standard error are kept, the rest is
//! read and thrown away (HTTP: not read at all); redirects are not
//! followed (a receiver's address is the operator's to fix).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

use super::message::Message;
use super::MAX_RESPONSE;
use crate::config::{NotifyConfig, NotifyKind};

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What went wrong, in one line.
    pub message: String,
    /// How long the receiver asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl SendError {
    fn new(message: impl Into<String>) -> SendError {
        SendError {
            message: message.into(),
            retry_after: None,
        }
    }
}

/// Sends messages; cheap to clone.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    /// Set when the program stops: a command still running is killed.
    stopping: Arc<AtomicBool>,
}

impl Sender {
    /// A sender whose requests say `user_agent`.
    pub fn new(user_agent: &str, connect_timeout: Duration) -> Result<Sender, String> {
        crate::fetch::client_builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .no_proxy()
            .build()
            .map(|client| Sender {
                client,
                stopping: Arc::default(),
            })
            .map_err(|e| format!("building the HTTP client: {e}"))
    }

    /// The same sender, whose commands are killed once `stopping` is set.
    pub fn stopping_on(self, stopping: Arc<AtomicBool>) -> Sender {
        Sender { stopping, ..self }
    }

    /// Sends `msg` to `target`: `Ok` once the target accepted it.
    pub async fn send(&self, target: &NotifyConfig, msg: &Message) -> Result<(), SendError> {
        let timeout = target.delivery.timeout;
        match &target.kind {
            NotifyKind::Webhook { url, headers, .. } | NotifyKind::Ntfy { url, headers, .. } => {
                let mut map = HeaderMap::new();
                let own = headers.iter().map(|(k, v)| (k.as_str(), v.expose()));
                let ours = msg.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                for (k, v) in ours.chain(own) {
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(v),
                    ) {
                        map.insert(k, v);
                    }
                }
                if let Ok(v) = HeaderValue::from_str(&msg.content_type) {
                    map.insert(CONTENT_TYPE, v);
                }
                let request = self
                    .client
                    .post(url.clone())
                    .headers(map)
                    .body(msg.body.clone())
                    .send();
                tokio::time::timeout(timeout, post(request))
                    .await
                    .unwrap_or_else(|_| {
                        Err(SendError::new(format!(
                            "no answer within {}",
                            humantime::format_duration(timeout)
                        )))
                    })
            }
            NotifyKind::Command { argv } => {
                let argv = argv.clone();
                let body = msg.body.clone();
                let env = [
                    ("TRIBUTARY_NOTIFY_TARGET", target.name.clone()),
                    ("TRIBUTARY_NOTIFY_KEY", msg.key.clone()),
                    ("TRIBUTARY_NOTIFY_COUNT", msg.count.to_string()),
                ];
                let stopping = Arc::clone(&self.stopping);
                tokio::task::spawn_blocking(move || run(&argv, &body, &env, timeout, &stopping))
                    .await
                    .unwrap_or_else(|e| Err(SendError::new(format!("command task failed: {e}"))))
            }
        }
    }
}

async fn post(
    request: impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
) -> Result<(), SendError> {
    let response = request.await.map_err(|e| {
        let mut m = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            m = format!("{m}: {s}");
            source = s.source();
        }
        SendError::new(m)
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(24 * 3600)));
    // A short excerpt of the answer says why; the rest is not read.
    let mut said = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        said.extend_from_slice(&chunk[..chunk.len().min(MAX_RESPONSE - said.len())]);
        if said.len() >= MAX_RESPONSE {
            break;
        }
    }
    let said = String::from_utf8_lossy(&said);
    let said: String = said.split_whitespace().collect::<Vec<_>>().join(" ");
    let said: String = said.chars().take(200).collect();
    Err(SendError {
        message: if said.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {said}")
        },
        retry_after,
    })
}

/// Runs `argv` with `input` on its standard input: `Ok` on exit status 0.
fn run(
    argv: &[String],
    input: &[u8],
    env: &[(&str, String)],
    timeout: Duration,
    stopping: &AtomicBool,
) -> Result<(), SendError> {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout ends what it started.
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| SendError::new(format!("cannot run `{}`: {e}", argv[0])))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // A program that does not read its input must not block us: the
    // writer gets a broken pipe when the program ends.
    // Not joined: a program that left a child holding its input open
    // must not hold us either.
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let (said_tx, said_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = MAX_RESPONSE.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        let _ = said_tx.send(kept);
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout || stopping.load(Ordering::Relaxed) => {
                let pid = child.id() as libc::pid_t;
                // SAFETY: kill(2) with a negative pid signals the process
                // group the child leads (created above); no memory is touched.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(SendError::new(format!("waiting for `{}`: {e}", argv[0]))),
        }
    };
    // Its standard error, unless something it left running still holds it.
    let said = said_rx
        .recv_timeout(Duration::from_secs(1))
        .unwrap_or_default();
    let said = String::from_utf8_lossy(&said);
    let said: String = said.split_whitespace().collect::<Vec<_>>().join(" ");
    let said: String = said.chars().take(200).collect();
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(SendError::new(format!(
            "`{}` ended with {s}{}{said}",
            argv[0],
            if said.is_empty() { "" } else { ": " }
        ))),
        None => Err(SendError::new(format!(
            "`{}` still running after {}: killed",
            argv[0],
            humantime::format_duration(timeout)
        ))),
    }
}
