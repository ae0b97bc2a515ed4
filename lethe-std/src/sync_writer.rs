//! [`SyncWriter`]: the synchronous mode. Each write is one `O_APPEND` `write` on the
//! caller's thread, with no lock on the hot path.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use arc_swap::ArcSwap;
use lethe_core::civil::UnixTime;
use lethe_core::rotation::{NO_BOUNDARY, Schedule, next_boundary};

use crate::archive::Job;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Op};
use crate::events::RotateEvent;
use crate::io_backend::fsync_due;
use crate::rotating_file::{Fsync, Options, ROTATE_RETRY_EVERY, RotatingFile, retire_active};
use crate::workers::{Pool, Shared};
use crate::writer::Metrics;

/// One active file. Writers hold an `Arc` of it while they write, so a rotation never
/// closes a file under a writer: the rotating thread swaps in a new segment and the old
/// one is closed, and its post-processing queued, when its last writer lets go.
struct Segment {
    file: File,
    /// Bytes claimed in this file (claimed before written, so it may run ahead).
    size: AtomicU64,
    /// End of this segment's time period, in seconds ([`NO_BOUNDARY`] without a schedule).
    period_end: i64,
    /// Set when the segment is retired: what to do once its last writer has left.
    retired: OnceLock<Retired>,
}

/// A retired segment's backup, its `on_rotate` event and its post-processing.
struct Retired {
    shared: Arc<Shared>,
    pool: Arc<Pool>,
    job: Option<Job>,
    previous: PathBuf,
    active: PathBuf,
    sequence: u64,
}

impl Drop for Segment {
    fn drop(&mut self) {
        // The last writer has left the segment: its size is final, compression may start.
        if let Some(r) = self.retired.take() {
            let bytes = self
                .file
                .metadata()
                .map_or_else(|_| self.size.load(Ordering::Relaxed), |m| m.len());
            r.shared.rotated(&RotateEvent {
                previous: &r.previous,
                active: &r.active,
                sequence: r.sequence,
                bytes,
            });
            if let Some(job) = r.job {
                r.pool.submit(job);
            }
        }
    }
}

/// The shared, synchronous rotating log writer: `Clone + Send + Sync`, `io::Write`.
///
/// Each `write` is one record, written with a single `O_APPEND` `write` call on the
/// caller's thread, so it is in the kernel when `write` returns, and records of
/// concurrent writers never interleave. There is no lock on the hot path: the active
/// file is an atomically swapped `Arc` (DESIGN-NOTES §3), and size accounting is one
/// atomic add.
///
/// Rotation: the writer whose record would push the file past `max_size` (or the first
/// to see the time boundary) takes the rotation flag, renames the file to its backup name
/// (`RENAME_NOREPLACE`), opens the new file and swaps it in; the others wait for the swap
/// (spinning, then yielding) and write into the new file. Writers still holding the old
/// file finish their record into it (now the backup): a record is never split and never
/// fails with "file closed". Compression and checksums of the backup start when its last
/// writer has left it.
///
/// The rotation protocol (claim, give back, flag, "still current" check, swap) is
/// model-checked with loom in `loom-tests/tests/sync_rotation.rs`, which restates it with
/// loom's atomics.
///
/// Compared with [`Writer`](crate::Writer): every record costs a syscall on the caller's
/// thread, but nothing is buffered in memory, so a crash of the process loses nothing that
/// was written. Each thread's records reach the file in its order.
///
/// ```
/// use std::io::Write as _;
/// use lethe_std::{Options, SyncWriter};
///
/// let dir = tempfile::tempdir()?;
/// let log = SyncWriter::open(dir.path().join("app.log"), Options::default())?;
/// writeln!(log.clone(), "hello")?;
/// log.close()?;
/// assert_eq!(std::fs::read_to_string(dir.path().join("app.log"))?, "hello\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SyncWriter<C: Clock + 'static = SystemClock> {
    core: Arc<SyncCore<C>>,
}

impl<C: Clock + 'static> Clone for SyncWriter<C> {
    fn clone(&self) -> Self {
        SyncWriter {
            core: Arc::clone(&self.core),
        }
    }
}

struct SyncCore<C: Clock + 'static> {
    path: PathBuf,
    current: ArcSwap<Segment>,
    /// Held by the one thread that is rotating.
    rotating: AtomicBool,
    /// Next backup sequence; only the rotating thread touches it.
    next_sequence: Mutex<u64>,
    max_size: Option<u64>,
    schedule: Option<Schedule>,
    options: Options,
    clock: Arc<C>,
    /// Whether a write reads the clock: a time schedule, an interval `fsync` policy or a
    /// periodic sweep.
    needs_clock: bool,
    shared: Arc<Shared>,
    pool: Arc<Pool>,
    rotations: AtomicU64,
    writes: AtomicU64,
    bytes: AtomicU64,
    /// Bytes written since the last `fsync` (the [`Fsync`] policy's count).
    unsynced: AtomicU64,
    /// When the last `fsync` (or the open) was, in ns since the epoch.
    synced_at: AtomicI64,
    /// Held by the one thread running the policy's `fsync`.
    syncing: AtomicBool,
    /// When retention was last swept (or the writer opened), in seconds since the epoch.
    swept_at: AtomicI64,
    /// After an automatic rotation failed: until this time (seconds since the epoch, by
    /// the clock) records go into the active file past the trigger instead of trying
    /// again; `i64::MIN` while rotations succeed.
    rotate_retry_at: AtomicI64,
}

impl SyncWriter<SystemClock> {
    /// Opens the log file at `path` (validating, recovering and resuming it exactly as
    /// [`RotatingFile::open`] does).
    ///
    /// # Errors
    ///
    /// As [`RotatingFile::open`], and [`Op::CheckPath`] for options it cannot honour:
    /// [`shared`](Options::shared) mode, and [`Uring::Strict`](crate::Uring::Strict)
    /// (the SyncWriter writes with plain syscalls; `Uring::On` is accepted and not used).
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<SyncWriter, Error> {
        SyncWriter::open_with_clock(path, options, SystemClock)
    }
}

impl<C: Clock + 'static> SyncWriter<C> {
    /// Like [`SyncWriter::open`], with the given clock.
    ///
    /// # Errors
    ///
    /// As [`SyncWriter::open`].
    pub fn open_with_clock(
        path: impl AsRef<Path>,
        options: Options,
        clock: C,
    ) -> Result<SyncWriter<C>, Error> {
        // Validation, directory creation, recovery and the resume state come from the
        // rotating file; the writer then takes its parts. It writes on its callers'
        // threads with plain syscalls, so it sets up no io_uring.
        if options.is_shared() {
            let e = io::Error::new(
                io::ErrorKind::InvalidInput,
                "shared mode is not supported by SyncWriter (it writes without a per-batch \
                 lock); use Writer or RotatingFile",
            );
            return Err(Error::new(Op::CheckPath, path.as_ref(), e));
        }
        if options.uring_mode() == crate::Uring::Strict {
            let e = io::Error::new(
                io::ErrorKind::InvalidInput,
                "io_uring mode strict (io_uring or fail) cannot be met: SyncWriter writes \
                 with plain syscalls on its callers' threads; use Uring::Off, or a Writer",
            );
            return Err(Error::new(Op::CheckPath, path.as_ref(), e));
        }
        let blocking = options
            .clone()
            .io_uring(crate::UringOptions::default().mode(crate::Uring::Off));
        let file = RotatingFile::open_with_clock(path, blocking, clock)?;
        let parts = file.into_parts();
        let opened = parts.clock.now();
        let needs_clock = parts.schedule.is_some()
            || matches!(options.fsync_policy(), Fsync::Every(_))
            || options.sweep_interval().is_some();
        let segment = Segment {
            file: parts.file,
            size: AtomicU64::new(parts.size),
            // The rotator's view: the end of the resumed file's period (`i64::MIN` when a
            // time rotation is already due, `NO_BOUNDARY` without a schedule).
            period_end: parts.period_end,
            retired: OnceLock::new(),
        };
        Ok(SyncWriter {
            core: Arc::new(SyncCore {
                path: parts.path,
                current: ArcSwap::from_pointee(segment),
                rotating: AtomicBool::new(false),
                next_sequence: Mutex::new(parts.next_sequence),
                max_size: parts.max_size,
                schedule: parts.schedule,
                options,
                needs_clock,
                clock: parts.clock,
                shared: parts.shared,
                pool: Arc::new(parts.pool),
                rotations: AtomicU64::new(0),
                writes: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                unsynced: AtomicU64::new(0),
                synced_at: AtomicI64::new(nanos(opened)),
                syncing: AtomicBool::new(false),
                swept_at: AtomicI64::new(opened.secs()),
                rotate_retry_at: AtomicI64::new(i64::MIN),
            }),
        })
    }

    /// Writes `record` as one record.
    ///
    /// A due size or time rotation that fails (a read-only or removed directory) does not
    /// fail the write: the error goes to the error handler (counted in
    /// [`Stats::errors`](crate::Stats::errors)), the record is appended to the active file,
    /// past the trigger, and the rotation is tried again by the first writer that finds it
    /// due a second later (by the clock), until it succeeds.
    ///
    /// # Errors
    ///
    /// The write's error. With a full disk a prefix of the record may have reached the
    /// file, and it stays there: threads append without a lock, so another thread's record
    /// may already follow it (a `Writer` or a `RotatingFile` takes such a prefix back;
    /// docs/GUARANTEES.md, section 1).
    pub fn write_record(&self, record: &[u8]) -> Result<(), Error> {
        let core = &*self.core;
        let len = record.len() as u64;
        let mut spins = 0u32;
        loop {
            // A guard, not a clone: no shared reference count is touched per write.
            let segment = core.current.load();
            // One clock read per record, for whatever needs it (the schedule, the fsync
            // interval, the sweep interval), and none if nothing does.
            let now = core.needs_clock.then(|| core.clock.now());
            let due_by_time =
                core.schedule.is_some() && now.is_some_and(|t| t.secs() >= segment.period_end);
            let start = segment.size.fetch_add(len, Ordering::Relaxed);
            let due_by_size = core
                .max_size
                .is_some_and(|max| start > 0 && start.saturating_add(len) > max);
            if !(due_by_time || due_by_size) || core.rotation_put_off(now) {
                if let Err((reached, e)) = core.append(&segment.file, record) {
                    // Only the bytes that reached the file (a full disk's prefix) count
                    // toward the size limit: a failed write must not bring the next
                    // rotation closer.
                    segment.size.fetch_sub(len - reached, Ordering::Relaxed);
                    return Err(e);
                }
                core.writes.fetch_add(1, Ordering::Relaxed);
                core.bytes.fetch_add(len, Ordering::Relaxed);
                core.after_write(&segment.file, len, now);
                return Ok(());
            }
            // This record belongs to the next file: give the bytes back and rotate, or
            // wait for whoever is rotating.
            segment.size.fetch_sub(len, Ordering::Relaxed);
            if core
                .rotating
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                // Someone else rotated meanwhile, or found that it cannot be done now.
                let result = if !Arc::ptr_eq(&segment, &*core.current.load())
                    || core.rotation_put_off(now)
                {
                    Ok(())
                } else {
                    core.rotate(&segment)
                };
                if let Err(e) = result {
                    // The active file is still current and writable: this record and the
                    // next ones go there (past the trigger) until the retry is due.
                    core.rotate_retry_at.store(
                        core.clock.now().secs().saturating_add(ROTATE_RETRY_EVERY),
                        Ordering::Relaxed,
                    );
                    core.shared.report(e);
                }
                core.rotating.store(false, Ordering::Release);
            } else {
                spins += 1;
                if spins < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// Rotates now.
    ///
    /// # Errors
    ///
    /// The rotation's error.
    pub fn rotate(&self) -> Result<(), Error> {
        let core = &*self.core;
        loop {
            if core
                .rotating
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                let segment = core.current.load_full();
                let result = core.rotate(&segment);
                core.rotating.store(false, Ordering::Release);
                return result.inspect_err(|e| core.shared.count_error(e.op()));
            }
            std::thread::yield_now();
        }
    }

    /// `fsync`s the active file.
    ///
    /// # Errors
    ///
    /// The `fsync` error.
    pub fn sync(&self) -> Result<(), Error> {
        let c = &self.core;
        // Counted when issued, as every writer counts them (`Stats::syncs`).
        c.shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
        c.current.load().file.sync_all().map_err(|e| {
            c.shared.count_error(Op::Sync);
            Error::new(Op::Sync, &c.path, e)
        })
    }

    /// Calls `hook` after every rotation (see [`RotateEvent`]). The hook runs when the
    /// last writer has left the finished file, so the event's size is final; that is
    /// usually the rotating writer itself, right after the swap. A writer still finishing
    /// a record in an older file can delay that file's event past a later rotation's, so
    /// events may arrive out of sequence order. Replaces any earlier hook.
    pub fn set_on_rotate(&self, hook: impl FnMut(&RotateEvent<'_>) + Send + 'static) {
        self.core.shared.set_rotate_hook(Box::new(hook));
    }

    /// A lock-free snapshot of the counters: records, bytes and rotations of this writer,
    /// the active file's size, and the background work and errors in
    /// [`Metrics::file`]. Nothing is buffered (`buffer_used` is 0) and every record is
    /// written directly (`direct_mode`).
    pub fn metrics(&self) -> Metrics {
        let c = &self.core;
        let (writes, bytes, rotations) = self.counts();
        let mut file = c.shared.stats();
        file.records = writes;
        file.bytes = bytes;
        file.rotations = rotations;
        file.size = c.current.load().size.load(Ordering::Relaxed);
        Metrics {
            writes,
            bytes,
            direct_writes: writes,
            direct_mode: true,
            file,
            ..Metrics::default()
        }
    }

    /// Receives errors of background work (compression, checksums, retention, recovery)
    /// and of size or time rotations that failed (see
    /// [`write_record`](SyncWriter::write_record)).
    pub fn set_error_handler(&self, handler: impl FnMut(&Error) + Send + 'static) {
        self.core.shared.set_error_handler(Box::new(handler));
    }

    /// Records written, bytes written, rotations done.
    pub fn counts(&self) -> (u64, u64, u64) {
        let c = &self.core;
        (
            c.writes.load(Ordering::Relaxed),
            c.bytes.load(Ordering::Relaxed),
            c.rotations.load(Ordering::Relaxed),
        )
    }

    /// Closes this handle. The last one `fsync`s the file and waits for background work.
    ///
    /// # Errors
    ///
    /// The final `fsync`'s error.
    pub fn close(self) -> Result<(), Error> {
        let synced = self.sync();
        if let Ok(core) = Arc::try_unwrap(self.core) {
            let SyncCore { current, pool, .. } = core;
            drop(current); // queues the last retired segment's job, if any is pending
            match Arc::try_unwrap(pool) {
                Ok(mut pool) => pool.finish(),
                Err(pool) => drop(pool), // a segment still holds it; its drop finishes it
            }
        }
        synced
    }
}

impl<C: Clock + 'static> io::Write for SyncWriter<C> {
    /// Writes all of `buf` as one record.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_record(buf)?;
        Ok(buf.len())
    }

    /// Nothing is buffered.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Formats the whole of `args` into one record (see
    /// [`Writer`](crate::Writer)'s `write_fmt`).
    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> io::Result<()> {
        crate::writer::with_formatted(args, |record| {
            self.write_record(record).map_err(io::Error::from)
        })
    }
}

/// `t` in ns since the epoch (saturating), to keep in an atomic.
fn nanos(t: UnixTime) -> i64 {
    t.secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(t.subsec_nanos()))
}

/// The time [`nanos`] gave `n` for.
fn from_nanos(n: i64) -> UnixTime {
    UnixTime::new(
        n.div_euclid(1_000_000_000),
        n.rem_euclid(1_000_000_000) as u32,
    )
    .unwrap_or(UnixTime::EPOCH)
}

impl<C: Clock + 'static> SyncCore<C> {
    /// Appends `record` to `file` with `O_APPEND` writes. On a full disk with
    /// [`Options::free_space_on_full`], deletes the oldest backup Lethe produced and goes
    /// on with the rest of the record, as long as there is one to delete.
    ///
    /// # Errors
    ///
    /// The bytes of `record` that reached the file before the write failed, and the error.
    fn append(&self, file: &File, record: &[u8]) -> Result<(), (u64, Error)> {
        let mut rest = record;
        while !rest.is_empty() {
            let reached = (record.len() - rest.len()) as u64;
            match io::Write::write(&mut &*file, rest) {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "write returned 0");
                    return Err((reached, self.write_failed(e)));
                }
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if self
                        .shared
                        .made_room(&e, self.options.frees_space_on_full()) => {}
                Err(e) => return Err((reached, self.write_failed(e))),
            }
        }
        Ok(())
    }

    fn write_failed(&self, e: io::Error) -> Error {
        self.shared.count_error(Op::Write);
        Error::new(Op::Write, &self.path, e)
    }

    /// After a record of `len` bytes reached `file` at `now` (read if the policies need
    /// a time): the [`Fsync`] policy's `fsync` if it is due (run by the writer that finds
    /// it due, one at a time; a failure goes to the error handler, the write having
    /// succeeded), and every [`Options::sweep_every`] a retention sweep, which a worker
    /// runs.
    fn after_write(&self, file: &File, len: u64, now: Option<UnixTime>) {
        let policy = self.options.fsync_policy();
        if policy != Fsync::Never {
            let unsynced = self.unsynced.fetch_add(len, Ordering::Relaxed) + len;
            // `EveryBytes` alone reads no clock, and `fsync_due` then needs no time.
            let now = now.unwrap_or(UnixTime::EPOCH);
            let since = from_nanos(self.synced_at.load(Ordering::Relaxed));
            if fsync_due(policy, unsynced, 0, since, now)
                && self
                    .syncing
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                // A failed fsync is reported and not retried as if it could succeed: Linux
                // reports a write-back error once, so a second fsync of the same bytes
                // would only "succeed" (docs/GUARANTEES.md, "A failed fsync"). The next
                // one is due by the policy, as after a successful one.
                self.unsynced.store(0, Ordering::Relaxed);
                self.synced_at.store(nanos(now), Ordering::Relaxed);
                self.shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = file.sync_all() {
                    self.shared.report(Error::new(Op::Sync, &self.path, e));
                }
                self.syncing.store(false, Ordering::Release);
            }
        }
        if let (Some(every), Some(now)) = (self.options.sweep_interval(), now) {
            let last = self.swept_at.load(Ordering::Relaxed);
            let every = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
            if now.secs().saturating_sub(last) >= every
                && self
                    .swept_at
                    .compare_exchange(last, now.secs(), Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                self.pool.sweep();
            }
        }
    }

    /// Whether a due size or time rotation waits, because one failed less than
    /// [`ROTATE_RETRY_EVERY`] ago. Uses the record's clock reading, `now`; reads the clock
    /// itself only after such a failure and if the record did not.
    fn rotation_put_off(&self, now: Option<UnixTime>) -> bool {
        let at = self.rotate_retry_at.load(Ordering::Relaxed);
        at != i64::MIN && now.unwrap_or_else(|| self.clock.now()).secs() < at
    }

    /// Renames the active file to its backup name, opens a new one and swaps it in. The
    /// caller holds the rotation flag and has checked that `old` is still current.
    fn rotate(&self, old: &Arc<Segment>) -> Result<(), Error> {
        let now = self.clock.now();
        let offset = self.options.offset_at(now);
        let mut next = self
            .next_sequence
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (name, file) = retire_active(
            &self.path,
            &old.file,
            &self.shared,
            &self.options,
            *next,
            now,
            offset,
        )?;
        *next += 1;
        drop(next);
        self.rotate_retry_at.store(i64::MIN, Ordering::Relaxed);
        // The directory is writable: jobs that failed because it was read-only run again
        // (taken before this rotation's own job is queued).
        let failed_before = self.shared.take_read_only_failures();
        let period_end = match self.schedule {
            Some(s) => next_boundary(s, now, offset),
            None => NO_BOUNDARY,
        };
        let segment = Arc::new(Segment {
            file,
            size: AtomicU64::new(0),
            period_end,
            retired: OnceLock::new(),
        });
        let previous = self.shared.naming.path_of(&self.shared.dir, name)?;
        let retired = self.current.swap(segment);
        let _ = retired.retired.set(Retired {
            shared: Arc::clone(&self.shared),
            pool: Arc::clone(&self.pool),
            job: self.options.job_for(name),
            previous,
            active: self.path.clone(),
            sequence: name.sequence,
        });
        drop(retired); // if no writer holds it any more, its hook runs and job is queued now
        for job in failed_before {
            self.pool.submit(job);
        }
        self.rotations.fetch_add(1, Ordering::Relaxed);
        // The new file starts with nothing to fsync (the policy's count starts over).
        self.unsynced.store(0, Ordering::Relaxed);
        self.synced_at.store(nanos(now), Ordering::Relaxed);
        // Retention runs on a worker, not on this writer's thread.
        self.pool.sweep();
        Ok(())
    }
}
