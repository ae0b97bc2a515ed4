//! The contenders: each set up as its documentation recommends for production, behind
//! one small trait so the child runs them all alike.
//!
//! Every contender is configured **lossless** (blocking when its queue is full), as
//! Lethe's default is, so that line counts compare like with like: tracing-appender's
//! `non_blocking` (`lossy(false)`) and ftlog (`bounded(100_000, true)`) drop by default
//! otherwise. The harness still checks every run for loss.
//!
//! Adding a contender is: a [`Kind`] variant, its row in [`Kind::support`], and a
//! `Target` in one of the submodules.

mod lethe;
mod peers;
mod plain;

use std::io;
use std::path::Path;

use crate::compare::workload::Workload;

/// Every contender the harness knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `lethe_std::SyncWriter`: one `O_APPEND` `write` per record on the caller's thread.
    LetheSync,
    /// `lethe_std::Writer`: the lock-free ring and its consumer thread, on plain blocking
    /// syscalls (`Uring::Off`); W2–W5 through `lethe_std::logger`.
    LetheAsync,
    /// `lethe_std::Writer` whose consumer writes through io_uring (`Uring::Strict`: the
    /// run fails rather than fall back); W2–W5 through `lethe_std::logger`. Needs the
    /// benches crate's `uring` feature.
    LetheUring,
    /// tracing-subscriber's `fmt` layer over tracing-appender's `non_blocking` writer and
    /// a daily `RollingFileAppender`.
    TracingAppender,
    /// spdlog-rs: an `AsyncPoolSink` (own thread pool) over a `RotatingFileSink`.
    Spdlog,
    /// ftlog with a daily-rotating `FileAppender`.
    Ftlog,
    /// fast_log with a size-split file appender.
    FastLog,
    /// flexi_logger in `WriteMode::Async`, rotating by size.
    FlexiLogger,
    /// log4rs: a rolling file appender with a size trigger and a fixed-window roller.
    Log4rs,
    /// file-rotate's `FileRotate` (synchronous), shared behind a `Mutex`.
    FileRotate,
    /// The baseline: `Mutex<BufWriter<File>>` with a 64 KiB buffer, no rotation.
    BufWriter,
}

impl Kind {
    /// All contenders, in table order.
    pub const ALL: [Kind; 11] = [
        Kind::LetheSync,
        Kind::LetheAsync,
        Kind::LetheUring,
        Kind::TracingAppender,
        Kind::Spdlog,
        Kind::Ftlog,
        Kind::FastLog,
        Kind::FlexiLogger,
        Kind::Log4rs,
        Kind::FileRotate,
        Kind::BufWriter,
    ];

    /// The name used on the command line and in the table.
    pub fn name(self) -> &'static str {
        match self {
            Kind::LetheSync => "lethe-sync",
            Kind::LetheAsync => "lethe-async",
            Kind::LetheUring => "lethe-uring",
            Kind::TracingAppender => "tracing-appender",
            Kind::Spdlog => "spdlog-rs",
            Kind::Ftlog => "ftlog",
            Kind::FastLog => "fast_log",
            Kind::FlexiLogger => "flexi_logger",
            Kind::Log4rs => "log4rs",
            Kind::FileRotate => "file-rotate",
            Kind::BufWriter => "BufWriter baseline",
        }
    }

    /// Parses a [`Kind::name`].
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether this contender can run `workload` as specified, and if not, why
    /// (`Err(reason)`, shown as N/A in the table). `Ok(Some(note))` runs with a note.
    pub fn support(self, workload: Workload) -> Result<Option<&'static str>, &'static str> {
        use Kind::*;
        use Workload::*;
        match (self, workload) {
            (LetheUring, _) if !cfg!(feature = "uring") => Err(
                "built without the `uring` feature (on by default; drop `--no-default-features`)",
            ),
            (LetheSync, W2 | W3 | W4) => Ok(Some(
                "one writeln! per record: the logger has no synchronous file destination",
            )),
            (LetheSync, W5) => Ok(Some(
                "one writeln! per record (no synchronous logger); caller calls SyncWriter::sync every 1 MiB",
            )),
            (LetheUring, _) => Ok(None),
            (LetheSync | LetheAsync | FileRotate | BufWriter, W1 | W2 | W3) => Ok(None),
            (TracingAppender, W1 | W2 | W3) => Ok(None),
            (Spdlog | Ftlog | FastLog | FlexiLogger | Log4rs, W2 | W3) => Ok(None),
            (Spdlog | Ftlog | FastLog | FlexiLogger | Log4rs, W1) => {
                Err("no io::Write; records go through the log API only")
            }
            (LetheAsync | FastLog | FlexiLogger | Log4rs | FileRotate, W4) => Ok(None),
            (TracingAppender | Ftlog, W4) => Err("rotates by time only, no gzip"),
            (Spdlog, W4) => Err("no compression of rotated files"),
            (BufWriter, W4) => Err("no rotation"),
            (LetheAsync, W5) => Ok(None),
            (BufWriter, W5) => Ok(Some("caller flushes and fdatasyncs every 1 MiB")),
            (_, W5) => Err("no fsync policy"),
        }
    }
}

/// A contender set up for one workload in this process.
pub trait Target: Sync {
    /// A handle for one writing thread.
    fn handle(&self) -> Box<dyn Handle + '_>;

    /// Between the latency phase and the timed phase: push out what the API allows.
    fn settle(&self) {}

    /// Timed end of the run: the contender's own flush or guard drop, until every record
    /// is in the file (the kernel's page cache).
    ///
    /// # Errors
    ///
    /// The contender's flush error.
    fn finish(&mut self) -> io::Result<()>;

    /// Untimed teardown after [`finish`](Target::finish) (for Lethe: `close`, which also
    /// waits for background compression). Returns the records the contender itself
    /// reports as dropped, if it counts them.
    ///
    /// # Errors
    ///
    /// The contender's close error.
    fn close(self: Box<Self>) -> io::Result<Option<u64>>;
}

/// One writing thread's handle.
pub trait Handle {
    /// Writes record `seq` of the workload: a raw line (W1) or a formatted record.
    ///
    /// # Errors
    ///
    /// The contender's write error, for the contenders that return one.
    fn record(&mut self, seq: u64) -> io::Result<()>;
}

/// Sets `kind` up for `workload`, writing into the empty directory `dir`.
///
/// # Errors
///
/// The contender's setup error, or `Unsupported` for a workload it cannot run.
pub fn open(kind: Kind, workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    if let Err(reason) = kind.support(workload) {
        return Err(io::Error::new(io::ErrorKind::Unsupported, reason));
    }
    match kind {
        Kind::LetheSync => lethe::sync(workload, dir),
        Kind::LetheAsync => lethe::async_writer(workload, dir, lethe::Io::Blocking),
        Kind::LetheUring => lethe::async_writer(workload, dir, lethe::Io::Uring),
        Kind::TracingAppender => peers::tracing_appender(workload, dir),
        Kind::Spdlog => peers::spdlog(workload, dir),
        Kind::Ftlog => peers::ftlog(dir),
        Kind::FastLog => peers::fast_log(workload, dir),
        Kind::FlexiLogger => peers::flexi_logger(workload, dir),
        Kind::Log4rs => peers::log4rs(workload, dir),
        Kind::FileRotate => plain::file_rotate(workload, dir),
        Kind::BufWriter => plain::buf_writer(workload, dir),
    }
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}
