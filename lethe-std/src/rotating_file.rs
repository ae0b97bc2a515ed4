//! [`RotatingFile`]: a synchronous rotating log file.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{
    DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::sync::atomic::Ordering;

use lethe_core::civil::{UnixTime, UtcOffset};
use lethe_core::naming::{BackupName, Form};
use lethe_core::retention::RetentionPolicy;
use lethe_core::rotation::{Decision, Reason, RotationPolicy, Rotator, Schedule};

use crate::archive::{self, Job, Settings};
use crate::backups;
use crate::clock::{Clock, SystemClock, system_time_to_unix};
use crate::config::ConfigError;
use crate::error::{Error, ErrorCounts, Op};
use crate::events::RotateEvent;
use crate::io_backend::{self, IoBackend, IoStatus, UringOptions};
use crate::workers::{self, Pool, Shared};

mod prealloc;
pub(crate) mod shared;

use prealloc::Prealloc;
pub(crate) use prealloc::check_preallocate;

/// The parts of an opened [`RotatingFile`], for the [`SyncWriter`](crate::SyncWriter).
pub(crate) struct Parts<C: Clock + 'static> {
    pub(crate) path: PathBuf,
    pub(crate) file: File,
    pub(crate) size: u64,
    pub(crate) period_end: i64,
    pub(crate) max_size: Option<u64>,
    pub(crate) schedule: Option<Schedule>,
    pub(crate) next_sequence: u64,
    pub(crate) clock: Arc<C>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) pool: Pool,
}

/// Configuration of a [`RotatingFile`].
///
/// | setting | default | meaning |
/// |---|---|---|
/// | [`max_size`](Options::max_size) | `Some(100 MB)` (100 000 000 bytes) | rotate before a record would push a non-empty file past this |
/// | [`schedule`](Options::schedule) | `None` | also rotate on calendar boundaries |
/// | [`utc_offset`](Options::utc_offset) | UTC | offset for boundaries and backup names |
/// | [`time_zone`](Options::time_zone) / [`local_time`](Options::local_time) | none (the fixed offset above) | a time zone whose offset is looked up at each batch and rotation (DST-safe) |
/// | [`confine_to`](Options::confine_to) | none | refuse a path that resolves outside this directory |
/// | [`retention`](Options::retention) | keep 7 backups | which backups to delete after a rotation |
/// | [`file_mode`](Options::file_mode) | `0o640` | exact mode of the log files Lethe creates (not reduced by the umask) |
/// | [`dir_mode`](Options::dir_mode) | `0o750` | mode of created directories (before the umask) |
/// | [`sync_on_rotate`](Options::sync_on_rotate) | `true` | fsync a finished file, and the directory after renaming it |
/// | [`fsync`](Options::fsync) | [`Fsync::Never`] | when to `fsync` the active file while writing |
/// | [`free_space_on_full`](Options::free_space_on_full) | `false` | on a full disk, delete the oldest backups Lethe produced to make room |
/// | [`sweep_every`](Options::sweep_every) | 1 hour | also apply retention periodically (age limits expire without rotations) |
/// | [`compress`](Options::compress) | `None` | gzip level (0–9) for finished segments, in the background |
/// | [`checksum`](Options::checksum) | `false` | write a `sha256sum` sidecar for each backup, in the background |
/// | [`workers`](Options::workers) | 1 | background threads for compression and checksums (1 to 64) |
/// | [`worker_nice`](Options::worker_nice) | `Some(10)` | scheduling niceness of those threads (Linux), so they yield the CPU to the application's |
/// | [`queue`](Options::queue) | 64 | jobs that may wait for a worker; beyond that the rotating thread runs the job itself |
/// | [`shared`](Options::shared) | `false` | coordinate with other processes writing the same file (`flock`) |
/// | [`shared_strict`](Options::shared_strict) | `false` | in shared mode, refuse a network file system instead of warning |
/// | [`io_uring`](Options::io_uring) | [`UringOptions::default`] (on with the `uring` feature, else off) | write batches and rotations through io_uring |
/// | [`preallocate`](Options::preallocate) | `Some(8 MiB)` | reserve disk space up to this far past the end of a busy file (runs of 64 KiB or more), given back when the file stops being the active one; never on XFS |
#[derive(Clone, Debug)]
pub struct Options {
    compress: Option<u32>,
    checksum: bool,
    workers: usize,
    worker_nice: Option<i32>,
    queue: usize,
    max_size: Option<u64>,
    schedule: Option<Schedule>,
    offset: UtcOffset,
    time_zone: Option<jiff::tz::TimeZone>,
    confine_to: Option<PathBuf>,
    sweep_every: Option<std::time::Duration>,
    free_space_on_full: bool,
    retention: RetentionPolicy,
    pub(crate) file_mode: u32,
    dir_mode: u32,
    pub(crate) sync_on_rotate: bool,
    fsync: Fsync,
    shared: bool,
    shared_strict: bool,
    uring: UringOptions,
    preallocate: Option<u64>,
}

/// When a [`RotatingFile`] `fsync`s its active file, besides rotation
/// ([`Options::sync_on_rotate`]) and explicit [`RotatingFile::sync`] calls.
///
/// A failed `fsync` is reported (error handler, [`Stats::errors`]) and never retried as if
/// it could succeed: after such an error Linux may have dropped the dirty pages.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fsync {
    /// Leave write-back to the kernel.
    #[default]
    Never,
    /// Once `n` bytes are written since the last `fsync` point: the record that reaches
    /// `n` is a point, and its `fsync` runs once the run that holds it (the records
    /// written in the same call) is in the file, so it covers the rest of that run too.
    /// The next point is `n` bytes after this one, as if the `fsync` had run right at
    /// it. So each record is on disk once the `fsync` of the first point at or after it
    /// has completed, and points are at most `n` bytes plus one record apart.
    EveryBytes(u64),
    /// When this much time has passed since the last `fsync` (checked after each batch and
    /// by [`RotatingFile::tick`], which the [`Writer`](crate::Writer)'s consumer calls when
    /// idle).
    Every(std::time::Duration),
}

impl Default for Options {
    fn default() -> Options {
        Options {
            compress: None,
            checksum: false,
            workers: 1,
            worker_nice: Some(10),
            queue: 64,
            max_size: Some(100_000_000),
            schedule: None,
            offset: UtcOffset::UTC,
            time_zone: None,
            confine_to: None,
            sweep_every: Some(std::time::Duration::from_secs(3600)),
            free_space_on_full: false,
            retention: RetentionPolicy::new().max_count(7),
            file_mode: 0o640,
            dir_mode: 0o750,
            sync_on_rotate: true,
            fsync: Fsync::Never,
            shared: false,
            shared_strict: false,
            uring: UringOptions::default(),
            preallocate: Some(8 << 20),
        }
    }
}

impl Options {
    /// Size limit in bytes (`None`: no size rotation). `Some(0)` is rejected by
    /// [`RotatingFile::open`].
    #[must_use]
    pub fn max_size(mut self, bytes: Option<u64>) -> Options {
        self.max_size = bytes;
        self
    }

    /// Calendar-aligned time rotation (`None`: none).
    #[must_use]
    pub fn schedule(mut self, schedule: Option<Schedule>) -> Options {
        self.schedule = schedule;
        self
    }

    /// A fixed UTC offset for schedule boundaries and backup names (replaces any
    /// [`time_zone`](Options::time_zone)).
    #[must_use]
    pub fn utc_offset(mut self, offset: UtcOffset) -> Options {
        self.offset = offset;
        self.time_zone = None;
        self
    }

    /// A time zone (from jiff's time zone database) for schedule boundaries and backup
    /// names: the offset in force is looked up at every batch and rotation, so a daily
    /// schedule rotates at each local midnight across DST changes, and each backup name
    /// carries the offset of its own time (`+0100`, `+0200`), which keeps names
    /// unambiguous when the wall clock repeats an hour.
    #[must_use]
    pub fn time_zone(mut self, tz: jiff::tz::TimeZone) -> Options {
        self.time_zone = Some(tz);
        self
    }

    /// Opt-in: when a write fails because the disk is full, delete the oldest backup that
    /// Lethe produced (with its sidecars) and retry, one backup at a time, until the write
    /// succeeds or no backup is left. Each deletion is counted in
    /// [`Stats::freed_for_space`]. Backups a background job is working on are kept.
    #[must_use]
    pub fn free_space_on_full(mut self, on: bool) -> Options {
        self.free_space_on_full = on;
        self
    }

    /// Apply retention this often even without rotations, so `max_age` also expires
    /// backups of a quiet log (`None`: only after rotations and background jobs).
    #[must_use]
    pub fn sweep_every(mut self, interval: Option<std::time::Duration>) -> Options {
        self.sweep_every = interval;
        self
    }

    /// Refuse to open a log file whose path resolves (following symbolic links, `..`
    /// and the current directory) outside `dir`. The check runs before any directory is
    /// created.
    #[must_use]
    pub fn confine_to(mut self, dir: impl Into<PathBuf>) -> Options {
        self.confine_to = Some(dir.into());
        self
    }

    /// [`time_zone`](Options::time_zone) with the system's local time zone
    /// (`TZ`, then `/etc/localtime`; UTC if neither is usable).
    #[must_use]
    pub fn local_time(self) -> Options {
        self.time_zone(jiff::tz::TimeZone::system())
    }

    /// Which backups to keep.
    #[must_use]
    pub fn retention(mut self, policy: RetentionPolicy) -> Options {
        self.retention = policy;
        self
    }

    /// Mode of the log files Lethe creates: the active file, compressed backups and
    /// checksum sidecars get exactly this mode (the umask does not reduce it); an existing
    /// file Lethe reopens keeps its own. Permission bits only, at most `0o777`:
    /// [`RotatingFile::open`] refuses a setuid, setgid or sticky bit.
    #[must_use]
    pub fn file_mode(mut self, mode: u32) -> Options {
        self.file_mode = mode;
        self
    }

    /// Mode of created directories (the process umask still applies), at most `0o7777`
    /// (a setgid directory passes its group on to the files created in it).
    #[must_use]
    pub fn dir_mode(mut self, mode: u32) -> Options {
        self.dir_mode = mode;
        self
    }

    /// The UTC offset in force at `now` under these options.
    pub(crate) fn offset_at(&self, now: UnixTime) -> UtcOffset {
        offset_at(self, now)
    }

    /// The post-processing a finished segment needs under these options.
    pub(crate) fn job_for(&self, name: BackupName) -> Option<Job> {
        if self.compress.is_some() {
            Some(Job::Compress(name))
        } else if self.checksum {
            Some(Job::ChecksumRaw(name))
        } else {
            None
        }
    }

    /// Compress each finished segment with gzip at `level` (0 to 9; 6 is zlib's default),
    /// in the background, crash-safely (see the crate docs). `None`: keep segments raw.
    #[must_use]
    pub fn compress(mut self, level: Option<u32>) -> Options {
        self.compress = level;
        self
    }

    /// Write a `sha256sum`-compatible sidecar for each backup (of the `.gz` when
    /// compressing), in the background.
    #[must_use]
    pub fn checksum(mut self, on: bool) -> Options {
        self.checksum = on;
        self
    }

    /// Number of background worker threads, from 1 to 64 ([`RotatingFile::open`] refuses
    /// others). They gzip and checksum finished segments and sweep retention; a second
    /// one helps only a file that rotates faster than one thread compresses, and more
    /// than the machine's CPUs only compete for them.
    #[must_use]
    pub fn workers(mut self, threads: usize) -> Options {
        self.workers = threads;
        self
    }

    /// The niceness (−20 to 19) the background worker threads run at, on Linux, so that
    /// compression, checksums and retention sweeps take CPU time the application's
    /// threads leave over rather than compete with them at equal weight: `Some(10)` (the
    /// default) gives a worker about a tenth of a contended CPU against a thread at nice
    /// 0. A worker never runs at a higher priority than the thread that opened the file:
    /// if that one is already at least as nice, the value is not applied. `None` leaves
    /// the workers at the opening thread's niceness. A job that runs inline because the
    /// queue is full ([`Options::queue`]) runs at its caller's priority. Failing to lower a
    /// worker's priority is reported ([`crate::Op::Spawn`]) and the worker runs anyway.
    /// On other systems the value is validated and not applied.
    #[must_use]
    pub fn worker_nice(mut self, nice: Option<i32>) -> Options {
        self.worker_nice = nice;
        self
    }

    /// How many jobs may wait for a worker. When the queue is full, the thread that
    /// rotated runs the job itself (counted in [`Stats::inline_jobs`]); a job is never
    /// dropped.
    #[must_use]
    pub fn queue(mut self, jobs: usize) -> Options {
        self.queue = jobs;
        self
    }

    /// When to `fsync` the active file while writing.
    #[must_use]
    pub fn fsync(mut self, policy: Fsync) -> Options {
        self.fsync = policy;
        self
    }

    /// Shared mode: several processes (and several `RotatingFile`s or
    /// [`Writer`](crate::Writer)s in one process) append to the same file and rotate it
    /// together, coordinated by `flock` on `<file>.lock`, which is never renamed. Each
    /// batch is written under a shared lock after checking that the path still names the
    /// file this writer holds (reopening it if another process rotated it); a rotation
    /// takes the lock exclusively, checks the trigger again against the file itself, and
    /// happens exactly once per threshold crossing however many processes see it;
    /// compression, checksums, retention and recovery are serialised by
    /// `<file>.maint.lock`. `max_size` becomes a soft limit (the file can exceed it by the
    /// batches other processes write meanwhile). Costs, guarantees and limits: see
    /// docs/ARCHITECTURE.md, "Many processes, one log".
    #[must_use]
    pub fn shared(mut self, on: bool) -> Options {
        self.shared = on;
        self
    }

    /// In shared mode, refuse to open a log on a network file system (NFS, SMB/CIFS, 9P),
    /// where `flock` and `O_APPEND` do not coordinate processes on different machines.
    /// Without it, such a log opens and the problem is reported to the error handler.
    #[must_use]
    pub fn shared_strict(mut self, strict: bool) -> Options {
        self.shared_strict = strict;
        self
    }

    /// Reserve disk space ahead of the appends, up to `bytes` past the end (`None`:
    /// never). The space is reserved with `fallocate(FALLOC_FL_KEEP_SIZE)`: the file's
    /// length is unchanged, so readers see exactly the bytes written, but an append into
    /// reserved space skips the file system's per-page allocation work, about a quarter of
    /// the kernel's time per append on ext4 (docs/BENCHMARKS.md). Only a run of at least
    /// 64 KiB reserves (a log busy enough to gain; a quiet log never holds extra space),
    /// and only once less than half of `bytes` is left past it; the reservation never
    /// reaches past [`max_size`](Options::max_size). It is given back (the file truncated
    /// to its own length) when the file is rotated, reopened, closed or dropped; after a
    /// crash, when it is next rotated. `du` shows it meanwhile. A reservation that fails
    /// (a file system without `fallocate`, a full disk) is not retried for that file and
    /// is not an error: the appends allocate as usual. Not used in
    /// [`shared`](Options::shared) mode, where other processes append to the file; with a
    /// periodic [`fsync`](Options::fsync) policy, where every `fsync` would convert the
    /// reserved space its bytes went into (a 17 % slower logger with an `fsync` every
    /// MiB); on XFS, which reserves past the end of a growing file by itself and whose
    /// give-back truncate writes the file's unwritten bytes out and waits for them (each
    /// rotation waited about 11 ms for it); nor by the [`SyncWriter`](crate::SyncWriter).
    /// `bytes` must be from 64 KiB to 1 GiB.
    #[must_use]
    pub fn preallocate(mut self, bytes: Option<u64>) -> Options {
        self.preallocate = bytes;
        self
    }

    /// Whether shared mode is on.
    pub(crate) fn is_shared(&self) -> bool {
        self.shared
    }

    /// Whether batches and rotations go through io_uring (see [`UringOptions`]; the
    /// `uring` feature makes [`Uring::On`](crate::Uring::On) the default). The
    /// [`SyncWriter`](crate::SyncWriter), which writes on its callers' threads, always
    /// uses plain syscalls.
    #[must_use]
    pub fn io_uring(mut self, uring: UringOptions) -> Options {
        self.uring = uring;
        self
    }

    /// Whether a rotation fsyncs the finished file before renaming it and the directory
    /// after.
    #[must_use]
    pub fn sync_on_rotate(mut self, sync: bool) -> Options {
        self.sync_on_rotate = sync;
        self
    }
}

/// The unit of [`RotatingFile::write_batch`]'s runs: a run (one `write` of the records
/// gathered into one buffer) holds at most 4 × `MAX_BATCH` records, 16 × through io_uring
/// with an [`Fsync`] policy other than `Never`, and `MAX_BATCH` in shared mode (where a
/// run holds the shared lock).
pub const MAX_BATCH: usize = 1024;

/// How far a failed [`RotatingFile::write_batch`] got.
#[derive(Debug)]
pub struct BatchError {
    /// Records written completely.
    pub written: usize,
    /// Bytes of the next record that reached the file. Pass them as `resume` when
    /// retrying from that record, so nothing is written twice.
    pub partial: usize,
    /// What failed.
    pub error: Error,
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (after {} records and {} bytes of the next)",
            self.error, self.written, self.partial
        )
    }
}

impl std::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Counters of what a [`RotatingFile`] did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Rotations done.
    pub rotations: u64,
    /// Bytes in the active file now.
    pub size: u64,
    /// `fsync`s of the active file issued: explicit, by the [`Fsync`] policy, before each
    /// rotation (with [`Options::sync_on_rotate`]), and at close. One that failed is
    /// counted here too, and in `errors_by_op` under [`Op::Sync`].
    pub syncs: u64,
    /// Backup files deleted by retention.
    pub backups_removed: u64,
    /// Backups deleted to make room on a full disk ([`Options::free_space_on_full`]).
    pub freed_for_space: u64,
    /// Segments compressed.
    pub compressions: u64,
    /// Compressions that failed (the raw segment is kept); each is also in `errors`.
    pub compressions_failed: u64,
    /// Checksum sidecars written.
    pub checksums: u64,
    /// Checksum sidecars that could not be written; each is also in `errors`.
    pub checksums_failed: u64,
    /// Background jobs (compression, checksum) that failed; each is also in `errors`.
    pub jobs_failed: u64,
    /// Background jobs run again after a transient failure (a full disk, a busy or
    /// interrupted call) that had changed nothing yet: up to 3 retries per job, about 50,
    /// 100 and 200 ms apart (with jitter). Only a job's last failure is reported. Also
    /// jobs that failed because the directory was read-only (reported, and counted in
    /// `jobs_failed`), queued again after the next rotation, which shows the directory is
    /// writable again.
    pub jobs_retried: u64,
    /// Background jobs run on the rotating thread because the queue was full.
    pub inline_jobs: u64,
    /// Plain appends (runs without an `fsync` point) that the io_uring path wrote with
    /// `write(2)` ([`UringAppends::Auto`](crate::UringAppends::Auto)); 0 on the blocking
    /// path.
    pub plain_appends: u64,
    /// Errors in work that does not fail a write (retention, background jobs, recovery, a
    /// size or time rotation that failed), reported to the error handler.
    pub errors: u64,
    /// Every error by the operation that failed: those reported to the error handler and
    /// those returned to a caller (a failed write, rotation or `fsync`). A
    /// [`Writer`](crate::Writer)'s consumer reports its write failures, so each counts once.
    pub errors_by_op: ErrorCounts,
    /// Whether writes and rotations go through io_uring, or why they do not.
    pub io: IoStatus,
}

/// A log file that rotates by size and/or time and keeps a bounded set of backups.
///
/// Each [`write_record`](RotatingFile::write_record) is one record: it is appended whole to
/// the active file, after a rotation if the record would push a non-empty file past the
/// size limit or its timestamp reached the next boundary. A record is never split across
/// files. Rotation renames the active file to
/// `<stem>.<sequence>.<time><ext>` (see [`lethe_core::naming`]) with `RENAME_NOREPLACE`, so
/// a backup is never overwritten, then opens a new active file and applies the retention
/// policy to the files Lethe named.
///
/// Opening an existing file appends to it and resumes its size and period.
///
/// This is the synchronous, single-owner writer (`&mut self`); it does no buffering of its
/// own, so a record is in the kernel when `write_record` returns Ok.
pub struct RotatingFile<C: Clock + 'static = SystemClock> {
    /// Blocking syscalls or io_uring. Declared (so dropped) before `file`: dropping the
    /// io_uring driver waits for a deferred `fsync` of `file` still running.
    io: IoBackend,
    path: PathBuf,
    file: File,
    rotator: Rotator,
    options: Options,
    clock: Arc<C>,
    next_sequence: u64,
    /// Reused buffer that a run of records is gathered into before its `write`.
    stage: Vec<u8>,
    /// The UTC offset in force (fixed, or looked up in the time zone).
    offset: UtcOffset,
    /// Bytes written since the last `fsync`.
    unsynced: u64,
    /// When the last `fsync` (or the open) happened, by the clock, in seconds.
    synced_at: UnixTime,
    /// When retention last ran from [`RotatingFile::tick`] (or the open).
    swept_at: UnixTime,
    /// When [`follow_path`](RotatingFile::follow_path) last checked that the path still
    /// names the active file.
    followed_at: UnixTime,
    /// After an automatic rotation failed (a read-only directory, say): until this time
    /// (seconds, by the clock) records go into the active file past the trigger instead of
    /// trying again ([`ROTATE_RETRY_EVERY`]).
    rotate_retry_at: Option<i64>,
    shared: Arc<Shared>,
    pool: Pool,
    /// Shared mode's state ([`Options::shared`]); `None` for a single-process file.
    coord: Option<shared::Coordinator>,
    /// Through io_uring, leave each run's last fsync running while the caller goes on
    /// (the [`Writer`](crate::Writer)'s consumer; see `set_defer_syncs`).
    defer_syncs: bool,
    /// Space reserved past the active file's end ([`Options::preallocate`]).
    prealloc: Prealloc,
}

impl RotatingFile<SystemClock> {
    /// Opens (creating if needed) the active file at `path`, with the system clock.
    ///
    /// # Errors
    ///
    /// [`Op::CheckPath`] for an empty path, a path without a usable file name, a directory,
    /// a device, FIFO or socket (anything but a regular file or nothing), or invalid
    /// options (`max_size` of 0, a `file_mode` above `0o777`, ...); otherwise the
    /// operation that failed.
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<RotatingFile, Error> {
        RotatingFile::open_with_clock(path, options, SystemClock)
    }
}

impl<C: Clock + 'static> RotatingFile<C> {
    /// Like [`RotatingFile::open`], with the given clock.
    ///
    /// # Errors
    ///
    /// As [`RotatingFile::open`].
    pub fn open_with_clock(
        path: impl AsRef<Path>,
        options: Options,
        clock: C,
    ) -> Result<RotatingFile<C>, Error> {
        let path = path.as_ref();
        let invalid = |msg: String| {
            Error::new(
                Op::CheckPath,
                path,
                io::Error::new(io::ErrorKind::InvalidInput, msg),
            )
        };
        if path.as_os_str().is_empty() {
            return Err(invalid("the log file path is empty".into()));
        }
        let raw = path.as_os_str().as_encoded_bytes();
        if raw.contains(&0) {
            return Err(invalid("the path contains a NUL byte".into()));
        }
        if raw.len() > MAX_PATH_LEN {
            return Err(invalid(format!(
                "the path is {} bytes long, the limit is {MAX_PATH_LEN} bytes",
                raw.len()
            )));
        }
        if raw.ends_with(b"/") {
            // `Path::file_name` ignores the slash, but `open` would not: refused before a
            // directory is created for it.
            return Err(invalid(
                "the path ends in '/', so it names a directory, not a file".into(),
            ));
        }
        let policy = RotationPolicy::new(options.max_size, options.schedule)
            .map_err(|e| invalid(e.to_string()))?;
        if let Some(level) = options.compress {
            archive::check_compress_level(level).map_err(|e| {
                invalid(format!(
                    "compress level {} is invalid: {}",
                    e.value(),
                    e.rule()
                ))
            })?;
        }
        let broken_rule = |e: ConfigError| {
            invalid(format!(
                "{} {} is invalid: {}",
                e.field(),
                e.value(),
                e.rule()
            ))
        };
        workers::check_workers(options.workers).map_err(broken_rule)?;
        if options.file_mode > 0o777 {
            return Err(invalid(format!(
                "file_mode {:#o} is invalid: a log file's mode is at most 0o777 (permission \
                 bits only: no setuid, setgid, sticky or file type bits)",
                options.file_mode
            )));
        }
        if options.dir_mode > 0o7777 {
            return Err(invalid(format!(
                "dir_mode {:#o} is invalid: a directory's mode is at most 0o7777",
                options.dir_mode
            )));
        }
        if let Some(bytes) = options.preallocate {
            check_preallocate(bytes).map_err(broken_rule)?;
        }
        if let Some(nice) = options.worker_nice {
            workers::check_worker_nice(nice).map_err(broken_rule)?;
        }
        let file_name = path
            .file_name()
            .ok_or_else(|| invalid("the path does not end in a file name".into()))?;
        let file_name = file_name
            .to_str()
            .ok_or_else(|| invalid("the file name is not valid UTF-8".into()))?;
        let naming = backups::Naming::new(file_name).map_err(invalid)?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Some(root) = &options.confine_to {
            check_confined(path, root).map_err(&invalid)?;
        }
        match fs::metadata(&dir) {
            Ok(m) if !m.is_dir() => {
                let e = io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "it exists and is not a directory",
                );
                return Err(Error::new(Op::CreateDir, &dir, e));
            }
            _ => {}
        }
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(options.dir_mode)
                .create(&dir)
                .map_err(|e| Error::new(Op::CreateDir, &dir, e))?;
        }
        if path.is_dir() {
            return Err(invalid("the path is a directory".into()));
        }
        // Rotation renames the file and recreates it, retention deletes backups, and the
        // fsync policy syncs it: a device, FIFO or socket here would be renamed away (as
        // root, `/dev/null` itself) and replaced by a regular file. Only a regular file,
        // or no file yet, is a log file.
        if let Ok(m) = fs::metadata(path)
            && !m.is_file()
        {
            return Err(invalid(format!(
                "the path is {}, not a regular file (a log file is renamed at rotation \
                 and recreated)",
                file_kind(&m.file_type())
            )));
        }
        let (io, io_status, io_fallback) = IoBackend::open(&options.uring, path)?;
        let now = clock.now();
        let offset = offset_at(&options, now);
        let mut errors = Vec::new();
        let (file, rotator, coord, maintenance) = if options.shared {
            let (lock, gate, maintenance) = shared::open_locks(path, &options, &mut errors)?;
            let (coord, file, rotator) = shared::join((lock, gate), path, &options, policy, now)?;
            (file, rotator, Some(coord), Some(maintenance))
        } else {
            let file = open_append(path, options.file_mode)?;
            let meta = file.metadata().map_err(|e| Error::new(Op::Stat, path, e))?;
            let mtime = meta.modified().ok().map(system_time_to_unix);
            let rotator = Rotator::resume(policy, now, offset, meta.len(), mtime);
            (file, rotator, None, None)
        };
        let next_sequence = naming.next_sequence(&dir)?;
        let clock = Arc::new(clock);
        let settings = Settings {
            compress: options.compress,
            checksum: options.checksum,
            file_mode: options.file_mode,
        };
        let recovery = {
            // In shared mode, no other process compresses or deletes meanwhile.
            let _held = maintenance.as_ref().map(|m| m.hold()).transpose()?;
            archive::recover(&dir, &naming, &settings, &mut errors)?
        };
        let shared = Arc::new(
            Shared::new(
                dir,
                naming,
                settings,
                options.retention,
                Arc::clone(&clock) as Arc<dyn Clock>,
            )
            .with_maintenance_lock(maintenance)
            .with_io_status(io_status),
        );
        for e in errors.into_iter().chain(io_fallback) {
            shared.report(e);
        }
        shared
            .counters
            .size
            .store(rotator.size(), Ordering::Relaxed);
        let pool = Pool::start(
            Arc::clone(&shared),
            options.workers,
            options.worker_nice,
            options.queue,
        )?;
        for job in recovery.jobs {
            pool.submit(job);
        }
        // Shared mode: other processes append to the file, so its end is not this
        // writer's to reserve past (nor to truncate back). A periodic fsync: each one
        // would have to convert the reserved space its bytes went into, which costs more
        // than the reservation saves (docs/BENCHMARKS.md, "Appends into reserved space").
        let prealloc = Prealloc::new(
            options
                .preallocate
                .filter(|_| coord.is_none() && options.fsync == Fsync::Never),
        );
        Ok(RotatingFile {
            prealloc,
            path: path.to_path_buf(),
            file,
            rotator,
            options,
            clock,
            next_sequence,
            stage: Vec::with_capacity(64 * 1024),
            offset,
            unsynced: 0,
            synced_at: now,
            swept_at: now,
            followed_at: now,
            rotate_retry_at: None,
            shared,
            pool,
            coord,
            defer_syncs: false,
            io,
        })
    }

    /// Receives errors of work that does not fail a write: recovery at open, background
    /// compression and checksums, retention, size and time rotations that failed (see
    /// [`write_record`](RotatingFile::write_record)). Errors that happened before a
    /// handler was set (up to 1 000) are delivered to it first; all are counted in
    /// [`Stats::errors`].
    pub fn set_error_handler(&mut self, handler: impl FnMut(&Error) + Send + 'static) {
        self.shared.set_error_handler(Box::new(handler));
    }

    /// Calls `hook` after every rotation, with the backup's path, the active path, the
    /// sequence number and the finished file's size (see [`RotateEvent`]). Replaces any
    /// earlier hook.
    pub fn set_on_rotate(&mut self, hook: impl FnMut(&RotateEvent<'_>) + Send + 'static) {
        self.shared.set_rotate_hook(Box::new(hook));
    }

    /// The counters shared with the background workers (for lock-free snapshots).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Follows the time zone: tells the rotator when the offset in force changed (DST).
    fn refresh_offset(&mut self, now: UnixTime) {
        let offset = offset_at(&self.options, now);
        if offset != self.offset {
            self.offset = offset;
            self.rotator.offset_changed(now, offset);
        }
    }

    /// Takes the opened file apart (for the synchronous writer).
    pub(crate) fn into_parts(self) -> Parts<C> {
        Parts {
            path: self.path,
            file: self.file,
            size: self.rotator.size(),
            period_end: self.rotator.period_end_secs(),
            max_size: self.options.max_size,
            schedule: self.options.schedule,
            next_sequence: self.next_sequence,
            clock: self.clock,
            shared: self.shared,
            pool: self.pool,
        }
    }

    /// Counts `e` and hands it to the error handler (or keeps it for one).
    pub(crate) fn report_error(&self, e: Error) {
        self.shared.report(e);
    }

    /// Hands `e`, which a write already counted in `Stats::errors_by_op`, to the error
    /// handler.
    pub(crate) fn report_counted_error(&self, e: Error) {
        self.shared.report_counted(e);
    }

    /// The active file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What this writer has done so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Syncs the active file, waits for every background job (compression, checksums,
    /// retention) to finish, and returns the final counters.
    ///
    /// Dropping a `RotatingFile` also waits for the background jobs, but does not `fsync`
    /// the active file (call `close` or [`sync`](RotatingFile::sync) for that).
    ///
    /// # Errors
    ///
    /// [`Op::Sync`] if the final `fsync` failed; the background jobs were still waited
    /// for.
    pub fn close(mut self) -> Result<Stats, Error> {
        self.prealloc.release();
        let synced = self.sync();
        self.pool.finish();
        synced.map(|()| self.stats())
    }

    /// Bytes in the active file.
    pub fn size(&self) -> u64 {
        self.rotator.size()
    }

    /// Appends `record` as one record, rotating first if the policy says so.
    ///
    /// A due size or time rotation that fails (a read-only or removed directory: the
    /// rename or the new file's creation fails) does not fail the write: the error goes to
    /// the error handler (counted in [`Stats::errors`]), the record is appended to the
    /// active file, which this writer still holds, past the trigger, and the rotation is
    /// tried again before the first record a second later (by the file's clock), until it
    /// succeeds. In [`shared`](Options::shared) mode the record is appended under the
    /// shared lock, which the failed rotation takes back first; if even that fails, the
    /// write fails (below).
    ///
    /// # Errors
    ///
    /// In shared mode, the rotation's error ([`Op::Rename`], [`Op::Open`], [`Op::Sync`]) or
    /// [`Op::Lock`] if a due rotation failed and the shared lock could not be taken back
    /// (nothing was written; the next write retries the rotation);
    /// [`Op::Write`] if the append failed. A record that reached the file only in part (a
    /// full disk) is cut off it again before this returns, so the file never holds a torn
    /// record and the caller may simply retry; only if that truncation fails too does the
    /// prefix stay (the error handler hears of both).
    pub fn write_record(&mut self, record: &[u8]) -> Result<(), Error> {
        let result = self.write_locked(&[record], 0, true);
        self.count_batch(&result);
        result.map_err(|e| e.error)
    }

    /// Writes `records` in order, each as one record (never split across files), with
    /// one `write` per run of records between rotations (at most 4 × [`MAX_BATCH`]
    /// records, 16 × through io_uring with an `fsync` policy, 1 × in shared mode, gathered into one buffer; through io_uring the
    /// fsyncs the [`Fsync`] policy wants inside a run are linked between its writes, one
    /// submission per run). `resume` bytes of `records[0]` were already written by an earlier call
    /// that failed part-way ([`BatchError::partial`]); they are not written again. A failed
    /// size or time rotation is reported and the records go on into the active file, as
    /// in [`write_record`](RotatingFile::write_record).
    ///
    /// # Errors
    ///
    /// [`BatchError`]: how far the batch got, and the error (a failed write, or in shared
    /// mode a failed rotation that could not take the shared lock back).
    pub fn write_batch(&mut self, records: &[&[u8]], resume: usize) -> Result<(), BatchError> {
        let result = self.write_locked(records, resume, false);
        self.count_batch(&result);
        result
    }

    /// Updates the counters after a batch.
    fn count_batch(&self, result: &Result<(), BatchError>) {
        let c = &self.shared.counters;
        c.size.store(self.rotator.size(), Ordering::Relaxed);
        if let Err(e) = result {
            c.errors_by_op.count(e.error.op());
        }
    }

    /// [`write_batch`](RotatingFile::write_batch) without the counters: in shared mode,
    /// inside the batch's lock. `whole`: a record that failed part-way is taken back
    /// ([`RotatingFile::take_back`]) rather than left for the caller to resume.
    fn write_locked(
        &mut self,
        records: &[&[u8]],
        resume: usize,
        whole: bool,
    ) -> Result<(), BatchError> {
        let now = self.clock.now();
        self.refresh_offset(now);
        // Shared mode: one lock per batch, whatever its length.
        if let Err(error) = self.shared_enter(now) {
            self.shared_leave();
            return Err(BatchError {
                written: 0,
                partial: 0,
                error,
            });
        }
        if self.coord.is_none() {
            // Shared mode follows the path on every batch already.
            self.follow_path(now);
        }
        let mut written = self.write_runs(records, resume, now);
        self.check_io();
        if whole && let Err(e) = &mut written {
            // Still inside shared mode's lock: no other process appended after the prefix.
            self.take_back(e);
        }
        self.shared_leave();
        if written.is_ok() {
            self.tick();
        }
        written
    }

    /// [`write_batch`](RotatingFile::write_batch) without the periodic work (and, in shared
    /// mode, inside the batch's lock).
    fn write_runs(
        &mut self,
        records: &[&[u8]],
        resume: usize,
        now: UnixTime,
    ) -> Result<(), BatchError> {
        self.settle_syncs(false);
        let mut done = 0usize; // records fully written
        let mut partial = resume.min(records.first().map_or(0, |r| r.len()));
        while done < records.len() {
            // Plan a run on a copy of the rotator; commit it as bytes reach the file.
            let mut plan = self.rotator;
            let mut end = done;
            let max_run = self.max_run();
            // The fsyncs the policy will want during the run: `sync_at` holds their byte
            // offsets (after the record that makes one due), and the backend fsyncs at
            // each but the last, which runs at the run's end (`exec_at` below; through
            // io_uring linked behind the writes, in one submission; on the blocking path
            // by writing up to the point, then `fsync`). A run that would need more than
            // MAX_RUN_SYNCS ends at the last one.
            let mut sync_at = [0usize; io_backend::MAX_RUN_SYNCS];
            let mut syncs = 0usize;
            let mut run_bytes = 0u64;
            let mut synced_bytes = 0u64; // run bytes before the last planned fsync
            // The common case in one step: when the whole run fits the size limit inside
            // the current period with no rotation requested, and no fsync falls due within
            // it, every per-record decision below would be "write, no fsync point"
            // (`fsync_due` only grows with the bytes, `Rotator::fits` is conservative).
            if partial == 0 {
                let n = (records.len() - done).min(max_run);
                let bytes: u64 = records[done..done + n].iter().map(|r| r.len() as u64).sum();
                if plan.fits(bytes, now)
                    && !io_backend::fsync_due(
                        self.options.fsync,
                        self.unsynced,
                        bytes,
                        self.synced_at,
                        now,
                    )
                {
                    plan.wrote(bytes);
                    end = done + n;
                    run_bytes = bytes;
                }
            }
            while end < records.len() && end - done < max_run {
                let len = records[end].len() as u64;
                let continuing = end == done && partial > 0;
                let decision = if continuing {
                    Decision::Write
                } else {
                    plan.before_write(len, now)
                };
                if let Decision::Rotate(reason) = decision
                    && !self.size_deferred(reason)
                    && !self.rotation_put_off(reason, now)
                {
                    if end > done {
                        break; // write the run first, rotate on the next pass
                    }
                    match self.rotate_at(now, reason, len) {
                        Ok(()) => {}
                        // The active file is still the one this writer holds (in shared
                        // mode, the one the path names, under the shared lock again), and
                        // still writable: the record goes there (past the trigger) rather
                        // than fail, and the rotation is tried again a second later.
                        Err(error) if reason != Reason::Manual && self.may_append() => {
                            self.shared.report(error);
                            self.rotate_retry_at =
                                Some(now.secs().saturating_add(ROTATE_RETRY_EVERY));
                        }
                        Err(error) => {
                            return Err(BatchError {
                                written: done,
                                partial: 0,
                                error,
                            });
                        }
                    }
                    plan = self.rotator;
                }
                let run_len = len - if continuing { partial as u64 } else { 0 };
                plan.wrote(run_len);
                end += 1;
                run_bytes += run_len;
                let (unsynced, synced_at) = if syncs == 0 {
                    (self.unsynced, self.synced_at)
                } else {
                    (0, now)
                };
                if io_backend::fsync_due(
                    self.options.fsync,
                    unsynced,
                    run_bytes - synced_bytes,
                    synced_at,
                    now,
                ) {
                    sync_at[syncs] = run_bytes as usize;
                    syncs += 1;
                    synced_bytes = run_bytes;
                    if syncs == io_backend::MAX_RUN_SYNCS {
                        break;
                    }
                }
            }
            // The run's last fsync runs after the whole run, not at its record: one
            // write and one fsync instead of write, fsync, write (through io_uring, one
            // submission instead of two). Under `EveryBytes` it is accounted at its
            // point (`sync_at`), so the policy's next point, and so the number of fsyncs,
            // are the same as if it ran there; it only covers more: at every moment at
            // least the bytes an fsync at the point would have made durable are durable.
            // Under `Every` nothing is left unsynced after it.
            let mut exec_at = sync_at;
            if syncs > 0 {
                exec_at[syncs - 1] = run_bytes as usize;
            }
            // Gather the run into one contiguous buffer: one plain `write` of a large
            // buffer costs the kernel far less than a `writev` of many 100-byte pieces.
            let mut stage = std::mem::take(&mut self.stage);
            stage.clear();
            stage.extend_from_slice(&records[done][partial..]);
            for r in &records[done + 1..end] {
                stage.extend_from_slice(r);
            }
            self.prealloc.before_append(
                &self.file,
                self.rotator.size(),
                stage.len() as u64,
                self.options.max_size,
            );
            let mut written_total = 0usize;
            let mut synced_to = None; // where the last fsync that ran counts as synced
            let mut sync_count = 0u64;
            let mut sync_failures = 0usize;
            let mut sync_error = None;
            while written_total < stage.len() {
                // Points not yet passed, relative to the rest (a point that a failed
                // call passed without its fsync is left to `tick`).
                let first = exec_at[..syncs].partition_point(|&p| p <= written_total);
                let mut rest_at = [0usize; io_backend::MAX_RUN_SYNCS];
                for (r, p) in rest_at.iter_mut().zip(&exec_at[first..syncs]) {
                    *r = p - written_total;
                }
                let rest_at = &rest_at[..syncs - first];
                let defer = self.defer_syncs;
                match self
                    .io
                    .write(&self.file, &stage[written_total..], rest_at, defer)
                {
                    Ok(w) if w.n == 0 => {
                        self.stage = stage;
                        let e = io::Error::new(io::ErrorKind::WriteZero, "write returned 0");
                        return Err(self.batch_failed(records, done, partial, written_total, e));
                    }
                    Ok(w) => {
                        if w.plain {
                            self.shared
                                .counters
                                .plain_appends
                                .fetch_add(1, Ordering::Relaxed);
                        }
                        if w.syncs > 0 {
                            // `EveryBytes` counts its next point from the policy's point,
                            // which may lie before the fsync's; `Every` only asks whether
                            // anything is unsynced, and after the fsync nothing is.
                            let last = first + w.syncs - 1;
                            synced_to = Some(match self.options.fsync {
                                Fsync::Every(_) => exec_at[last],
                                _ => sync_at[last],
                            });
                            // A deferred one (the call's last, still running) is
                            // counted when it completes (`settle_syncs`).
                            sync_count += (w.syncs - usize::from(w.deferred)) as u64;
                        }
                        sync_failures += w.sync_failures;
                        if sync_error.is_none() {
                            sync_error = w.sync_error;
                        }
                        written_total += w.n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if self.shared.made_room(&e, self.options.free_space_on_full) => {}
                    Err(e) => {
                        self.stage = stage;
                        self.unsynced += written_total as u64;
                        let after = synced_to.map(|s| written_total - s);
                        self.account_syncs(after, sync_count, now);
                        self.report_sync_failures(sync_failures, sync_error);
                        return Err(self.batch_failed(records, done, partial, written_total, e));
                    }
                }
            }
            let stage_len = stage.len();
            self.stage = stage;
            self.rotator = plan;
            let c = &self.shared.counters;
            c.records.fetch_add((end - done) as u64, Ordering::Relaxed);
            c.bytes.fetch_add(stage_len as u64, Ordering::Relaxed);
            self.unsynced += stage_len as u64;
            self.account_syncs(synced_to.map(|s| stage_len - s), sync_count, now);
            self.report_sync_failures(sync_failures, sync_error);
            done = end;
            partial = 0;
        }
        Ok(())
    }

    /// Through io_uring, lets each run's last `fsync` (of the [`Fsync`] policy, linked
    /// behind the whole run) run while the caller goes on, instead of waiting for it: the
    /// next runs are written meanwhile. It is counted in [`Stats::syncs`] (or
    /// reported, if it failed) once it completes, which the next write, `tick`, `sync`, a
    /// rotation or `close` looks at.
    /// For the [`Writer`](crate::Writer)'s consumer, whose next batch then overlaps with
    /// the disk's work. No effect on the blocking path.
    pub(crate) fn set_defer_syncs(&mut self, on: bool) {
        self.defer_syncs = on;
    }

    /// Counts the deferred `fsync`s (io_uring: a run's last one runs while the consumer
    /// goes on) that completed, and reports those that failed; with `wait`, first waits
    /// for one still running, as before the file is replaced or closed.
    fn settle_syncs(&mut self, wait: bool) {
        let settled = self.io.settle(wait);
        self.check_io();
        if settled.done > 0 {
            self.shared
                .counters
                .syncs
                .fetch_add(settled.done as u64, Ordering::Relaxed);
        }
        if settled.failures > 0 {
            self.report_sync_failures(settled.failures, settled.error);
        }
    }

    /// Accounts for the `count` fsyncs linked behind a run's writes (uring path): after
    /// them, `unsynced_after` bytes are still unsynced.
    fn account_syncs(&mut self, unsynced_after: Option<usize>, count: u64, now: UnixTime) {
        if let Some(after) = unsynced_after {
            self.shared
                .counters
                .syncs
                .fetch_add(count, Ordering::Relaxed);
            self.unsynced = after as u64;
            self.synced_at = now;
        }
    }

    /// Reports each of the `failed` linked fsyncs of a run that failed (the first with
    /// `error`); they are never retried (see `Fsync`), as `tick` does with its own.
    fn report_sync_failures(&mut self, failed: usize, error: Option<io::Error>) {
        let raw = error.as_ref().and_then(io::Error::raw_os_error);
        let mut first = error;
        for _ in 0..failed {
            let e = first.take().unwrap_or_else(|| match raw {
                Some(errno) => io::Error::from_raw_os_error(errno),
                None => io::Error::other("fsync failed"),
            });
            self.shared.report(Error::new(Op::Sync, &self.path, e));
        }
    }

    /// If io_uring broke while in use: goes on with blocking syscalls, reports it
    /// ([`Op::SetupUring`]) and shows it in [`Stats::io`]
    /// ([`FallbackReason::Broken`](crate::FallbackReason::Broken)).
    fn check_io(&mut self) {
        if let Some(e) = self.io.fall_back_if_broken() {
            self.shared.uring_broke(
                e.raw_os_error()
                    .unwrap_or(rustix::io::Errno::IO.raw_os_error()),
            );
            self.shared.report(Error::new(
                Op::SetupUring,
                &self.path,
                io::Error::new(
                    e.kind(),
                    format!(
                        "io_uring failed while in use ({e}); writing with blocking \
                         syscalls from now on"
                    ),
                ),
            ));
        }
    }

    /// Cuts the `e.partial` bytes of a record that failed part-way off the end of the
    /// active file (`ftruncate`), takes them back from the size and byte counts, and sets
    /// `e.partial` to 0. The caller holds the file alone (exclusive mode, or shared mode's
    /// lock), so those bytes are the file's last. If the truncation fails, the prefix
    /// stays (and is still counted) and the failure goes to the error handler.
    fn take_back(&mut self, e: &mut BatchError) {
        if e.partial == 0 {
            return;
        }
        let n = e.partial as u64;
        let cut = self
            .file
            .metadata()
            .and_then(|m| self.file.set_len(m.len().saturating_sub(n)));
        match cut {
            Ok(()) => {
                self.rotator.took_back(n);
                self.shared.counters.bytes.fetch_sub(n, Ordering::Relaxed);
                e.partial = 0;
            }
            Err(t) => self.shared.report(Error::new(Op::Write, &self.path, t)),
        }
    }

    /// Accounts for the `written` bytes of a failed run that starts at record `done`
    /// (`partial` bytes of which were written before) and describes the progress.
    fn batch_failed(
        &mut self,
        records: &[&[u8]],
        mut done: usize,
        mut partial: usize,
        mut written: usize,
        e: io::Error,
    ) -> BatchError {
        while written > 0 && done < records.len() {
            let left = records[done].len() - partial;
            let n = written.min(left);
            self.rotator.wrote(n as u64);
            let c = &self.shared.counters;
            c.bytes.fetch_add(n as u64, Ordering::Relaxed);
            written -= n;
            if n == left {
                c.records.fetch_add(1, Ordering::Relaxed);
                done += 1;
                partial = 0;
            } else {
                partial += n;
            }
        }
        BatchError {
            written: done,
            partial,
            error: Error::new(Op::Write, &self.path, e),
        }
    }

    /// The most records one batch should hold to be written as one run (see
    /// `IoBackend::max_run`): what the [`Writer`](crate::Writer)'s consumer reads per batch.
    /// In shared mode it stays [`MAX_BATCH`]: a batch is written under the shared lock,
    /// and another process's rotation waits for it, so larger batches would hold the lock
    /// longer and let the file overshoot `max_size` further.
    pub(crate) fn max_run(&self) -> usize {
        if self.coord.is_some() {
            MAX_BATCH
        } else {
            self.io.max_run(self.options.fsync)
        }
    }

    /// Rotates now, even if no trigger is due (an empty active file is rotated too).
    ///
    /// # Errors
    ///
    /// As the rotation in [`write_record`](RotatingFile::write_record).
    pub fn rotate(&mut self) -> Result<(), Error> {
        let now = self.clock.now();
        self.refresh_offset(now);
        let rotated = self
            .shared_enter(now)
            .and_then(|()| self.rotate_at(now, Reason::Manual, 0));
        self.shared_leave();
        rotated.inspect_err(|e| self.shared.count_error(e.op()))
    }

    /// Opens the file at the path again (creating it if needed) and writes there from now
    /// on: for use after another program moved the active file away (`mv app.log
    /// app.log.old`, then `SIGHUP` to the `lethe` command). Records written before stay in
    /// the moved file; nothing is written twice. With [`Options::sync_on_rotate`] the old
    /// file is `fsync`ed first. The size limit then counts the reopened file's length, and
    /// the time period continues from now. The moved file is not a backup: it is not
    /// compressed, checksummed or counted by retention.
    ///
    /// # Errors
    ///
    /// [`Op::Open`] or [`Op::Stat`]: the old file stays the active one. [`Op::Sync`]: the
    /// old file's `fsync` failed, and the new file is active nonetheless.
    pub fn reopen(&mut self) -> Result<(), Error> {
        let synced = if self.options.sync_on_rotate {
            self.sync()
        } else {
            Ok(())
        };
        let file = open_append(&self.path, self.options.file_mode)?;
        let len = file
            .metadata()
            .map_err(|e| Error::new(Op::Stat, &self.path, e))?
            .len();
        self.settle_syncs(true);
        self.prealloc.release();
        self.file = file;
        let now = self.clock.now();
        self.refresh_offset(now);
        self.rotator = Rotator::resume(self.rotator.policy(), now, self.offset, len, None);
        synced
    }

    /// Flushes the active file's data and metadata to disk (`fsync`).
    ///
    /// # Errors
    ///
    /// [`Op::Sync`] with the OS error.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.settle_syncs(true);
        self.shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
        self.unsynced = 0;
        self.synced_at = self.clock.now();
        self.file.sync_all().map_err(|e| {
            self.shared.count_error(Op::Sync);
            Error::new(Op::Sync, &self.path, e)
        })
    }

    /// Periodic work: `fsync`s if the [`Fsync`] policy says it is due, and sweeps
    /// retention every [`Options::sweep_every`]. Failures go to the error handler. Call it
    /// when idle so both also cover quiet periods (the [`Writer`](crate::Writer) does).
    pub fn tick(&mut self) {
        self.settle_syncs(false);
        if self.coord.is_none() {
            self.follow_path(self.clock.now());
        }
        if let Some(every) = self.options.sweep_every {
            let now = self.clock.now();
            let elapsed = now.secs().saturating_sub(self.swept_at.secs());
            if elapsed >= i64::try_from(every.as_secs()).unwrap_or(i64::MAX) {
                self.swept_at = now;
                self.shared.sweep();
            }
        }
        let due = io_backend::fsync_due(
            self.options.fsync,
            self.unsynced,
            0,
            self.synced_at,
            self.clock.now(),
        );
        if due && let Err(e) = self.sync() {
            self.shared.report_counted(e);
        }
    }

    /// At most once per [`FOLLOW_EVERY`]: if the path no longer names the active file
    /// (another program deleted or replaced it, or removed the whole directory), reports it
    /// and opens a new file at the path, recreating the directory. Records written to the
    /// deleted file before the check are gone with it; the error says so.
    fn follow_path(&mut self, now: UnixTime) {
        if now.secs().saturating_sub(self.followed_at.secs()) < FOLLOW_EVERY {
            return;
        }
        self.followed_at = now;
        let Ok(ours) = self.file.metadata() else {
            return; // cannot tell (an I/O error): keep writing where we are
        };
        let reason = match fs::metadata(&self.path) {
            Ok(named) if (named.dev(), named.ino()) == (ours.dev(), ours.ino()) => return,
            Ok(_) => {
                "the active log file was replaced by another program (records written since \
                 are in the file it moved away); opening the file now at the path"
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && ours.nlink() == 0 => {
                "the active log file (or its directory) was deleted by another program; \
                 records written to it since are lost with it; opening a new file"
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                "the active log file was moved away by another program (records written \
                 since are in the moved file); opening a new file at the path"
            }
            // Cannot tell (a permission change, an I/O error): keep writing where we are.
            Err(_) => return,
        };
        self.shared.report(Error::new(
            Op::Stat,
            &self.path,
            io::Error::new(io::ErrorKind::NotFound, reason),
        ));
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = fs::DirBuilder::new()
                .recursive(true)
                .mode(self.options.dir_mode)
                .create(dir)
        {
            self.shared.report(Error::new(Op::CreateDir, dir, e));
            return;
        }
        if let Err(e) = self.reopen() {
            self.shared.report(e);
        }
    }

    /// Whether a due rotation for `reason` waits, because an automatic one failed less
    /// than [`ROTATE_RETRY_EVERY`] ago (by the clock).
    fn rotation_put_off(&self, reason: Reason, now: UnixTime) -> bool {
        reason != Reason::Manual && self.rotate_retry_at.is_some_and(|at| now.secs() < at)
    }

    /// Rotates before a record of `len` bytes because of `reason`.
    fn rotate_at(&mut self, now: UnixTime, reason: Reason, len: u64) -> Result<(), Error> {
        if self.coord.is_some() {
            return self.shared_rotate(now, reason, len);
        }
        // Before the rotation's fsync, so the backup's final length and allocation are
        // made durable together.
        self.prealloc.release();
        let retired = self.io.retire(
            &self.path,
            &self.file,
            &self.shared,
            &self.options,
            self.next_sequence,
            now,
            self.offset,
        );
        self.check_io();
        let (name, file) = retired?;
        self.rotate_retry_at = None;
        // The rename and the new file show the directory writable: jobs that failed
        // because it was read-only run again (taken before this rotation's own job).
        let failed_before = self.shared.take_read_only_failures();
        self.next_sequence += 1;
        self.after_retire(name, file, now);
        if let Some(job) = self.options.job_for(name) {
            self.pool.submit(job);
        }
        for job in failed_before {
            self.pool.submit(job);
        }
        self.shared.sweep();
        Ok(())
    }

    /// The in-process half of a rotation, after [`retire_active`] renamed the old file to
    /// backup `name` and opened `file`: counters, the rotator, and the `on_rotate` hook.
    fn after_retire(&mut self, name: BackupName, file: File, now: UnixTime) {
        // (Through io_uring the rotation's chain already waited for it.)
        self.settle_syncs(true);
        let bytes = self.rotator.size();
        let c = &self.shared.counters;
        if self.options.sync_on_rotate {
            c.syncs.fetch_add(1, Ordering::Relaxed);
        }
        // The old descriptor refers to the backup now; replacing it closes it before any
        // background job reads the backup.
        self.file = file;
        self.rotator.rotated(now, self.offset);
        c.rotations.fetch_add(1, Ordering::Relaxed);
        c.size.store(0, Ordering::Relaxed);
        self.unsynced = 0;
        self.synced_at = now;
        if let Ok(previous) = self.shared.naming.path_of(&self.shared.dir, name) {
            self.shared.rotated(&RotateEvent {
                previous: &previous,
                active: &self.path,
                sequence: name.sequence,
                bytes,
            });
        }
    }
}

/// The file-system half of a rotation, shared by [`RotatingFile`] and
/// [`SyncWriter`](crate::SyncWriter): `fsync` the finished file (with `sync_on_rotate`),
/// rename it to backup `sequence` without ever replacing a file, open a fresh active file,
/// and `fsync` the directory. Returns the backup's name and the new file.
pub(crate) fn retire_active(
    path: &Path,
    old: &File,
    shared: &Shared,
    options: &Options,
    sequence: u64,
    now: UnixTime,
    offset: UtcOffset,
) -> Result<(BackupName, File), Error> {
    // A failed fsync of the finished file is reported, and the rotation goes on, as on
    // the io_uring path: Linux reports a write-back error once, so retrying the rotation
    // would only see a second fsync "succeed" (docs/GUARANTEES.md, "A failed fsync").
    if options.sync_on_rotate
        && let Err(e) = old.sync_all()
    {
        shared.report(Error::new(Op::Sync, path, e));
    }
    let name = BackupName {
        sequence,
        time: UnixTime::from_secs_clamped(now.secs()),
        offset,
        form: Form::Raw,
    };
    let backup = shared.naming.path_of(&shared.dir, name)?;
    archive::rename_noreplace(path, &backup)?;
    let file = match open_append(path, options.file_mode) {
        Ok(file) => file,
        Err(e) => {
            // Put the old file back, so the path still names the file this writer holds
            // and the rotation can simply be retried; if even that fails, the writer keeps
            // appending to the renamed file (nothing is lost) and both errors are reported.
            if let Err(undo) = archive::rename_noreplace(&backup, path) {
                shared.report(undo);
            }
            return Err(e);
        }
    };
    // The rotation has happened (renamed, new file open): a failed directory fsync only
    // leaves the rename's durability in doubt. Report it rather than fail the rotation,
    // which would retry into a second backup of the same sequence.
    if options.sync_on_rotate
        && let Err(e) = archive::sync_dir(&shared.dir)
    {
        shared.report(e);
    }
    Ok((name, file))
}

impl<C: Clock + 'static> io::Write for RotatingFile<C> {
    /// Writes all of `buf` as one record (see [`RotatingFile::write_record`]).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_record(buf)?;
        Ok(buf.len())
    }

    /// Nothing to do: records are not buffered. Use [`RotatingFile::sync`] for durability.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How often, in seconds, the writer checks that its path still names the active file
/// (see [`RotatingFile::tick`]).
const FOLLOW_EVERY: i64 = 1;

/// How long, in seconds by the file's clock, records go on into the active file after an
/// automatic rotation failed, before the next attempt (each attempt that fails is
/// reported; with `sync_on_rotate` each one also `fsync`s the file).
pub(crate) const ROTATE_RETRY_EVERY: i64 = 1;

/// The longest log file path accepted, in bytes (Linux's `PATH_MAX` minus the NUL).
pub const MAX_PATH_LEN: usize = 4095;

/// Checks that `path` resolves inside `root`: canonicalizes `root` and the longest
/// existing ancestor of `path` (which follows symbolic links), and rejects `..` in the
/// part that does not exist yet.
fn check_confined(path: &Path, root: &Path) -> Result<(), String> {
    let root_real = fs::canonicalize(root).map_err(|e| {
        format!(
            "confine_to directory {} cannot be resolved: {e}",
            root.display()
        )
    })?;
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("the current directory cannot be resolved: {e}"))?
            .join(path)
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let resolved = loop {
        match fs::canonicalize(existing) {
            Ok(real) => break real,
            Err(_) => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(format!("{} cannot be resolved", path.display()));
                };
                rest.push(name.to_owned());
                existing = parent;
            }
        }
    };
    let mut full = resolved;
    for name in rest.iter().rev() {
        if name == ".." {
            return Err(format!(
                "{} uses \"..\" below a directory that does not exist yet",
                path.display()
            ));
        }
        if name != "." {
            full.push(name);
        }
    }
    if full.starts_with(&root_real) {
        Ok(())
    } else {
        Err(format!(
            "{} resolves to {}, outside {}",
            path.display(),
            full.display(),
            root_real.display()
        ))
    }
}

/// The UTC offset in force at `now`: the time zone's, or the fixed one.
fn offset_at(options: &Options, now: UnixTime) -> UtcOffset {
    let Some(tz) = &options.time_zone else {
        return options.offset;
    };
    jiff::Timestamp::from_second(now.secs())
        .ok()
        .and_then(|t| UtcOffset::from_seconds(tz.to_offset(t).seconds()).ok())
        .unwrap_or(options.offset)
}

impl Options {
    /// The [`Fsync`] policy.
    pub(crate) fn fsync_policy(&self) -> Fsync {
        self.fsync
    }

    /// [`Options::io_uring`]'s mode.
    pub(crate) fn uring_mode(&self) -> crate::Uring {
        self.uring.get_mode()
    }

    /// [`Options::sweep_every`]'s interval.
    pub(crate) fn sweep_interval(&self) -> Option<std::time::Duration> {
        self.sweep_every
    }

    /// [`Options::free_space_on_full`].
    pub(crate) fn frees_space_on_full(&self) -> bool {
        self.free_space_on_full
    }
}

/// What a non-regular file is, for an error message.
fn file_kind(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Opens `path` for appending. A file this call creates gets exactly `mode` (not reduced
/// by the umask), as compressed files and sidecars do; an existing file keeps its mode.
pub(crate) fn open_append(path: &Path, mode: u32) -> Result<File, Error> {
    // `create_new` wins over `create`: with it the call fails on an existing file.
    let open = |create_new: bool| {
        OpenOptions::new()
            .append(true)
            .create(true)
            .create_new(create_new)
            .mode(mode)
            .open(path)
    };
    match open(true) {
        Ok(file) => set_exact_mode(&file, path, mode).map(|()| file),
        // Not created here: an existing file (a restart, or another process's), or
        // one removed between the two calls, which the second call creates with the
        // umask applied (a race with someone deleting Lethe's active file).
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            open(false).map_err(|e| Error::new(Op::Open, path, e))
        }
        Err(e) => Err(Error::new(Op::Open, path, e)),
    }
}

/// Gives a log file Lethe just created exactly `mode` (`fchmod`), which `open` reduced by
/// the umask.
pub(crate) fn set_exact_mode(file: &File, path: &Path, mode: u32) -> Result<(), Error> {
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::new(Op::Open, path, e))
}
