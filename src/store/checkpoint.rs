//! Checkpoints off the writer's thread.
//!
//! A checkpoint copies the pages the WAL holds into the database file and
//! then waits for the disk (`fsync`). Run by SQLite itself
//! (`wal_autocheckpoint`), it runs inside the commit that crosses the
//! limit, on the one thread that writes, which then waits for the disk
//! with nothing else to do: in the benchmark's cold phase the writer
//! thread sat about a fifth of the phase's wall time in those waits (with
//! `synchronous = OFF`, which skips them, the phase took 20 % less wall
//! time for the same CPU).
//!
//! So the writer counts the pages its commits wrote to the WAL, and every
//! [`WAL_SIZE_LIMIT`](super::WAL_SIZE_LIMIT) bytes' worth it asks a
//! thread of its own, with a connection of its own, for a `PASSIVE`
//! checkpoint, which never blocks the writer. Durability does not change:
//! a commit is durable as before (`synchronous = NORMAL` in WAL mode), and
//! what a checkpoint copies is synced before the WAL is reused.
//!
//! A passive checkpoint copies what was committed when it started; while
//! commits keep coming, SQLite cannot start the WAL over, so it grows. The
//! writer's own `wal_autocheckpoint`, at four times the limit, bounds it:
//! then the writer checkpoints what the thread has not copied yet (little),
//! and the WAL starts over.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

/// When the writer asks for a checkpoint, and the thread that runs it.
pub(super) struct Checkpoints {
    /// The thread, started by the first request.
    pub(super) thread: Option<Checkpointer>,
    /// Pages written to the WAL since the last request.
    pages: i64,
    /// Pages between two requests ([`WAL_SIZE_LIMIT`](super::WAL_SIZE_LIMIT);
    /// tests use less).
    pub(super) every: i64,
}

impl Default for Checkpoints {
    fn default() -> Self {
        Checkpoints {
            thread: None,
            pages: 0,
            every: super::WAL_SIZE_LIMIT / 4096,
        }
    }
}

impl Checkpoints {
    /// After a commit through `conn` (to the database at `path`): asks the
    /// thread for a checkpoint once `every` pages have been written since
    /// the last request.
    pub(super) fn after_commit(&mut self, conn: &Connection, path: &Path) {
        self.pages += pages_written(conn);
        if self.pages < self.every {
            return;
        }
        self.pages = 0;
        if self.thread.is_none() {
            match Checkpointer::start(path) {
                Ok(c) => self.thread = Some(c),
                // The writer's own checkpoint still bounds the WAL.
                Err(e) => {
                    tracing::warn!(error = %e, "no checkpoint thread");
                    return;
                }
            }
        }
        if let Some(c) = &self.thread {
            c.request();
        }
    }
}

/// The checkpoint thread and how to wake it.
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// A checkpoint was asked for and has not started.
    due: bool,
    /// The store is closing.
    stop: bool,
    /// Checkpoints run so far.
    done: u64,
}

impl Checkpointer {
    /// Opens a connection to `path` and starts the thread.
    pub(super) fn start(path: &Path) -> super::Result<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        // Its pages go straight from the WAL to the file: no cache to speak of.
        conn.pragma_update(None, "cache_size", -64)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || run(&conn, &theirs))
            .map_err(|e| {
                super::StoreError::Group(format!("starting the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint; returns at once. Requests made while one is
    /// waiting to start are one request.
    pub(super) fn request(&self) {
        lock(&self.shared.state).due = true;
        self.shared.wake.notify_one();
    }

    /// Checkpoints run so far.
    #[cfg(test)]
    pub(super) fn done(&self) -> u64 {
        lock(&self.shared.state).done
    }
}

impl Drop for Checkpointer {
    /// Stops the thread after the checkpoint it may be running.
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(conn: &Connection, shared: &Shared) {
    loop {
        {
            let mut state = lock(&shared.state);
            while !state.due && !state.stop {
                state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.stop {
                return;
            }
            state.due = false;
        }
        let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match result {
            Ok((log, copied)) => tracing::debug!(log, copied, "checkpoint"),
            // The writer's own checkpoint is still there to bound the WAL.
            Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
        }
        lock(&shared.state).done += 1;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Pages this connection has written to the WAL since the last call.
fn pages_written(conn: &Connection) -> i64 {
    let (mut current, mut high) = (0, 0);
    // SAFETY: `conn.handle()` is a live connection for the duration of the
    // call, and `sqlite3_db_status` only reads its counters (resetting
    // this one) and writes the two integers passed.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_db_status(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBSTATUS_CACHE_WRITE,
            &mut current,
            &mut high,
            1,
        )
    };
    if rc == rusqlite::ffi::SQLITE_OK {
        i64::from(current)
    } else {
        0
    }
}
