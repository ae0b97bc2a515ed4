//! Lethe's file side: log files that rotate by size and time and keep a bounded set of
//! backups, built on [`lethe_core`]'s rotation state machine, backup naming and retention
//! planner.
//!
//! Today this crate provides [`RotatingFile`], a synchronous, single-owner rotating file:
//! each [`RotatingFile::write_record`] appends one record with `O_APPEND`, rotating first
//! when the core's [`Rotator`](lethe_core::rotation::Rotator) says so. Rotation renames the
//! active file to a unique backup name (never overwriting), opens a fresh file, and applies
//! retention to the files Lethe named, and only to those.
//!
//! ```
//! use lethe_std::{Options, RotatingFile};
//! use lethe_core::retention::RetentionPolicy;
//!
//! let dir = tempfile::tempdir()?;
//! let options = Options::default()
//!     .max_size(Some(1024))
//!     .retention(RetentionPolicy::new().max_count(2));
//! let mut log = RotatingFile::open(dir.path().join("app.log"), options)?;
//! for i in 0..1000 {
//!     log.write_record(format!("line {i}\n").as_bytes())?;
//! }
//! log.sync()?;
//! assert!(log.stats().rotations >= 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Most programs log through [`logger::Logger`], the structured logger: levels, fields,
//! JSON/logfmt/text formatting straight into the writer's ring, filters, samplers,
//! redaction, and many destinations (rotating files, stdout, stderr, custom backends,
//! URIs), with `log` and `tracing` integrations behind the features of those names.
// No unsafe code in the library but one call with no safe wrapper, `pthread_atfork` in
// `fork` (allowed there, with its SAFETY argument); unit tests may allow it likewise
// (fork in `lock_file`'s fork test).
#![deny(unsafe_code)]

mod archive;
mod backoff;
mod backups;
pub mod clock;
mod config;
mod decimal;
mod error;
mod events;
mod fork;
mod io_backend;
mod lock_file;
pub mod logger;
mod rings;
mod rotating_file;
mod sync_writer;
pub mod syslog;
mod workers;
mod writer;

/// io_uring availability (feature `uring`): [`probe`](uring::probe) tells whether this
/// process may use io_uring, and why not. Whether a file writes through io_uring is set
/// with [`Options::io_uring`] and reported in [`Stats::io`].
#[cfg(feature = "uring")]
pub mod uring {
    pub use lethe_uring::{Unavailable, probe};
}

pub use config::{Config, ConfigError};
pub use error::{Error, ErrorCounts, Op};
pub use events::RotateEvent;
pub use io_backend::{FallbackReason, IoStatus, Uring, UringAppends, UringOptions};
pub use rotating_file::{BatchError, Fsync, MAX_BATCH, MAX_PATH_LEN, Options, RotatingFile, Stats};
pub use sync_writer::SyncWriter;
pub use writer::{Backpressure, Metrics, Mode, Writer, WriterOptions};
