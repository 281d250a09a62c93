//! `tributary run` as a child process for the robustness tests: its log
//! goes to a file (a pipe nobody reads would fill up and stall a chatty
//! daemon), its memory is read from `/proc`, and it is killed when the
//! test ends, passing or not.

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::Scratch;

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    log: std::path::PathBuf,
}

impl Daemon {
    /// Starts `tributary run` on the scratch config, logging at `rust_log`
    /// (the daemon's default levels when empty) into a fresh file in the
    /// scratch folder.
    pub fn start(s: &Scratch, rust_log: &str, envs: &[(&str, &str)]) -> Daemon {
        let n = std::fs::read_dir(s.dir.path())
            .map(|d| d.count())
            .unwrap_or(0);
        let log = s.dir.path().join(format!("daemon-{n}.log"));
        let file = File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
        cmd.arg("--config")
            .arg(s.config_path())
            .arg("run")
            .env("RUST_LOG", rust_log)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .stdout(Stdio::null())
            .stderr(Stdio::from(file));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        if rust_log.is_empty() {
            cmd.env_remove("RUST_LOG");
        }
        Daemon {
            child: Some(cmd.spawn().expect("start tributary run")),
            log,
        }
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("daemon still owned")
    }

    /// Its process id (for sending it signals).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon still owned").id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child().try_wait().unwrap().is_none()
    }

    /// (peak, current) resident memory in KiB: `VmHWM` and `VmRSS`.
    pub fn memory_kib(&mut self) -> (u64, u64) {
        let pid = self.child().id();
        // An unreadable `/proc` must not read as "no memory used".
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"));
        let field = |name: &str| -> u64 {
            let kib = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status:\n{status}"));
            assert!(kib > 0, "{name} 0 kB in /proc/{pid}/status");
            kib
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`, as a crash would; returns the log.
    pub fn kill9(mut self) -> String {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        self.log()
    }

    /// SIGTERM, then waits (15 s at most); returns the exit code and log.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
        let started = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if started.elapsed() > Duration::from_secs(15) {
                child.kill().unwrap();
                panic!("daemon did not stop within 15 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status.code(), self.log())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `cond` every 50 ms for up to `limit`.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// `PRAGMA integrity_check` of the scratch store.
pub fn integrity(s: &Scratch) -> String {
    s.db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}
