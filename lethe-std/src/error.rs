//! The error type of file operations: which operation, on which path, and the OS error.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What Lethe was doing when an I/O error happened.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Validating the configured path.
    CheckPath,
    /// Creating the log directory.
    CreateDir,
    /// Opening (or creating) the active file.
    Open,
    /// Reading the active file's metadata.
    Stat,
    /// Appending a record.
    Write,
    /// `fsync` of a file or directory.
    Sync,
    /// Renaming the active file to its backup name.
    Rename,
    /// Listing the log directory for backups.
    ScanDir,
    /// Deleting a file (a backup that retention selected, a finished segment after its
    /// compression, or a leftover temporary).
    Remove,
    /// Reading a finished segment to compress or hash it.
    Read,
    /// Checking that a `.gz` decompresses (CRC and length).
    Verify,
    /// Starting a background worker thread.
    Spawn,
    /// Taking or releasing a shared-mode lock (`flock` on `<file>.lock`), or checking
    /// that the file system supports it.
    Lock,
    /// Setting up io_uring ([`Options::io_uring`](crate::Options::io_uring)): with
    /// [`Uring::On`](crate::Uring::On) this is reported and the file falls back to
    /// blocking syscalls; with [`Uring::Strict`](crate::Uring::Strict) opening fails.
    SetupUring,
}

impl Op {
    /// A short lowercase name of the operation, as used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::CheckPath => "check path",
            Op::CreateDir => "create directory",
            Op::Open => "open",
            Op::Stat => "stat",
            Op::Write => "write",
            Op::Sync => "fsync",
            Op::Rename => "rename",
            Op::ScanDir => "scan directory",
            Op::Remove => "remove",
            Op::Read => "read",
            Op::Verify => "verify",
            Op::Spawn => "start worker for",
            Op::Lock => "lock",
            Op::SetupUring => "set up io_uring for",
        }
    }
}

impl Op {
    /// Every operation, in declaration order (the order of [`ErrorCounts::iter`]).
    pub const ALL: [Op; 14] = [
        Op::CheckPath,
        Op::CreateDir,
        Op::Open,
        Op::Stat,
        Op::Write,
        Op::Sync,
        Op::Rename,
        Op::ScanDir,
        Op::Remove,
        Op::Read,
        Op::Verify,
        Op::Spawn,
        Op::Lock,
        Op::SetupUring,
    ];

    /// This operation's position in [`Op::ALL`].
    fn index(self) -> usize {
        match self {
            Op::CheckPath => 0,
            Op::CreateDir => 1,
            Op::Open => 2,
            Op::Stat => 3,
            Op::Write => 4,
            Op::Sync => 5,
            Op::Rename => 6,
            Op::ScanDir => 7,
            Op::Remove => 8,
            Op::Read => 9,
            Op::Verify => 10,
            Op::Spawn => 11,
            Op::Lock => 12,
            Op::SetupUring => 13,
        }
    }
}

/// Errors counted by the operation that failed (a field of [`Stats`](crate::Stats)).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    counts: [u64; Op::ALL.len()],
}

impl ErrorCounts {
    /// Errors of operation `op`.
    pub fn get(&self, op: Op) -> u64 {
        self.counts[op.index()]
    }

    /// Errors of every operation together.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(operation, count)` for every operation, including those with no error.
    pub fn iter(&self) -> impl Iterator<Item = (Op, u64)> + '_ {
        Op::ALL.iter().map(|&op| (op, self.get(op)))
    }
}

/// The lock-free counters behind [`ErrorCounts`].
#[derive(Debug, Default)]
pub(crate) struct AtomicErrorCounts([AtomicU64; Op::ALL.len()]);

impl AtomicErrorCounts {
    pub(crate) fn count(&self, op: Op) {
        self.0[op.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn load(&self) -> ErrorCounts {
        ErrorCounts {
            counts: std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed)),
        }
    }
}

/// An I/O error with the operation and path it happened on.
#[derive(Debug)]
pub struct Error {
    op: Op,
    path: PathBuf,
    source: io::Error,
}

impl Error {
    pub(crate) fn new(op: Op, path: &Path, source: io::Error) -> Error {
        Error {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The operation that failed.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The path it failed on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying OS error.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.op.as_str(),
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<Error> for io::Error {
    /// Keeps the OS error's kind; the message names the operation and path.
    fn from(e: Error) -> io::Error {
        io::Error::new(e.source.kind(), e)
    }
}
