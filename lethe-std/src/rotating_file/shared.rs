//! Shared mode ([`Options::shared`]): many processes append to one rotating log, following
//! DESIGN-NOTES §5. See docs/ARCHITECTURE.md ("Many processes, one log") for the protocol,
//! its guarantees, costs and limits; the short form:
//!
//! - `<file>.lock`, never renamed, carries a `flock`. Every batch is written under a
//!   shared lock, after checking that the path still names the inode this process writes
//!   to (another process may have rotated it); the size a rotation decision sees comes
//!   from that `stat`, so it counts every process's bytes.
//! - Rotation takes the lock exclusively, checks the inode and the trigger again against the file itself, and only then renames with
//!   `RENAME_NOREPLACE`, creates the new file and `fsync`s the directory. A writer's check
//!   and write happen under the shared lock and the rename under the exclusive one, so
//!   once the rename is done no process can write into the renamed segment any more: the
//!   rotating process alone queues its post-processing, straight away.
//! - `<file>.gate.lock` gives a rotation priority over new batches: Linux grants a shared
//!   `flock` even while an exclusive request waits, so under steady load from several
//!   processes an exclusive request could wait (and the file grow) for a long time. A
//!   writer takes the gate shared for the instant it takes the main lock; a rotating
//!   process takes the gate exclusively (without waiting, for a size trigger: a busy gate
//!   means another process is rotating, so it re-checks at its next batch), then waits
//!   only for the batches already in flight.
//! - The lock file's first bytes record which inode is the active file and when it was
//!   started (by the rotating process's clock), so every process derives the same period
//!   for time rotation, and a time boundary is crossed by exactly one rotation.
//! - `<file>.maint.lock` serialises maintenance (compression, checksums, retention,
//!   disk-full cleanup, start-up recovery) across processes; a job whose work another
//!   process already did is skipped.

use std::io;
use std::path::{Path, PathBuf};

use lethe_core::civil::UnixTime;
use lethe_core::naming::{BackupName, Form};
use lethe_core::rotation::{Decision, Reason, RotationPolicy, Rotator};

use super::{Options, RotatingFile, offset_at, open_append, retire_active};
use crate::archive::Job;
use crate::backups::Naming;
use crate::clock::{Clock, system_time_to_unix};
use crate::error::{Error, Op};
use crate::lock_file::{Kind, LockFile, MaintenanceLock};

/// How often a size rotation tries the exclusive lock before it gives up for this batch.
const TRY_EXCLUSIVE: u32 = 4;

/// Magic of the active-file record at the start of `<file>.lock`.
const MAGIC: &[u8; 8] = b"LETHEAF2";
/// Length of the record: magic, dev, ino, start (seconds), start (nanoseconds), next
/// backup sequence, check.
const RECORD_LEN: usize = 7 * 8;

/// A file's identity: (device, inode).
type Ident = (u64, u64);

/// The shared-mode state of a [`RotatingFile`].
pub(super) struct Coordinator {
    lock: LockFile,
    gate: LockFile,
    /// The identity of the file this process's descriptor refers to.
    ident: Ident,
    /// When the active file was started (from the record, or estimated).
    file_start: UnixTime,
    /// Whether this process holds the shared lock (within a batch).
    held: bool,
    /// A size rotation found the lock busy in this batch: size triggers wait for the next.
    defer_size: bool,
    /// Post-processing and a retention sweep to start once the lock is released (a batch
    /// can rotate more than once when other processes fill the new file quickly).
    pending_jobs: Vec<Job>,
    sweep_due: bool,
}

/// The record at the start of `<file>.lock`, written only under the exclusive lock.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Record {
    /// The active file.
    ident: Ident,
    /// When it was started, by the clock of the process that created it.
    start: UnixTime,
    /// The sequence the next backup takes. A directory listing alone can miss the newest
    /// backup while another process's compression renames and unlinks its files, so the
    /// rotating process takes the larger of this and the listing.
    next_sequence: u64,
}

/// What is known of the active file when it is (re)opened.
struct Opened {
    ident: Ident,
    size: u64,
    file_start: UnixTime,
}

/// The lock file's path for the active file `path`: `<path>.lock`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    suffixed(path, ".lock")
}

/// The gate lock's path for the active file `path`: `<path>.gate.lock`.
pub(crate) fn gate_path(path: &Path) -> PathBuf {
    suffixed(path, ".gate.lock")
}

/// The maintenance lock's path for the active file `path`: `<path>.maint.lock`.
pub(crate) fn maintenance_lock_path(path: &Path) -> PathBuf {
    suffixed(path, ".maint.lock")
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Opens both lock files and checks the file system. On a network file system, `strict`
/// refuses; otherwise the warning is pushed to `warnings`.
pub(super) fn open_locks(
    path: &Path,
    options: &Options,
    warnings: &mut Vec<Error>,
) -> Result<(LockFile, LockFile, MaintenanceLock), Error> {
    let lock = LockFile::open(&lock_path(path), options.file_mode)?;
    if let Some(fs) = lock.network_fs()? {
        let message = format!(
            "shared mode: the log is on {fs}, where flock and O_APPEND do not coordinate \
             processes on different machines; lines may interleave or be lost and rotations \
             may repeat"
        );
        let kind = if options.shared_strict {
            io::ErrorKind::Unsupported
        } else {
            io::ErrorKind::Other
        };
        let e = Error::new(Op::Lock, lock.path(), io::Error::new(kind, message));
        if options.shared_strict {
            return Err(e);
        }
        warnings.push(e);
    }
    let gate = LockFile::open(&gate_path(path), options.file_mode)?;
    let maint = LockFile::open(&maintenance_lock_path(path), options.file_mode)?;
    Ok((lock, gate, MaintenanceLock::new(maint)))
}

/// Opens the active file for a process joining the shared log, under the exclusive lock:
/// creates it if needed, and records it in the lock file if no valid record describes it
/// (a log written before shared mode, or by another program). Returns the coordinator, the
/// descriptor and the rotator for it.
pub(super) fn join(
    (mut lock, mut gate): (LockFile, LockFile),
    path: &Path,
    options: &Options,
    policy: RotationPolicy,
    now: UnixTime,
) -> Result<(Coordinator, std::fs::File, Rotator), Error> {
    gate.lock(Kind::Exclusive)?;
    if let Err(e) = lock.lock(Kind::Exclusive) {
        let _ = gate.unlock();
        return Err(e);
    }
    let joined = (|| {
        let file = open_append(path, options.file_mode)?;
        let opened = describe(&lock, &file, path, now)?;
        let recorded = read_record(&lock)?;
        if recorded.is_none_or(|r| (r.ident, r.start) != (opened.ident, opened.file_start)) {
            let record = Record {
                ident: opened.ident,
                start: opened.file_start,
                next_sequence: recorded.map_or(0, |r| r.next_sequence),
            };
            write_record(&lock, &record)?;
        }
        Ok((file, opened))
    })();
    let unlocked = lock.unlock().and(gate.unlock());
    let (file, opened) = joined?;
    unlocked?;
    let rotator = rotator_for(policy, options, opened.file_start, opened.size, now);
    Ok((
        Coordinator {
            lock,
            gate,
            ident: opened.ident,
            file_start: opened.file_start,
            held: false,
            defer_size: false,
            pending_jobs: Vec::new(),
            sweep_due: false,
        },
        file,
        rotator,
    ))
}

/// The identity, size and start of the file behind `file`: the start from the lock
/// file's record if it describes this inode, else estimated from the file (its
/// modification time if it holds data, capped at `now`; `now` if empty).
fn describe(
    lock: &LockFile,
    file: &std::fs::File,
    path: &Path,
    now: UnixTime,
) -> Result<Opened, Error> {
    let st = rustix::fs::fstat(file).map_err(|e| Error::new(Op::Stat, path, e.into()))?;
    let ident = (st.st_dev, st.st_ino);
    let size = u64::try_from(st.st_size).unwrap_or(0);
    let file_start = match read_record(lock)? {
        Some(r) if r.ident == ident => r.start,
        _ if size > 0 => file
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .map(system_time_to_unix)
            .filter(|t| t.secs() < now.secs())
            .unwrap_or(now),
        _ => now,
    };
    Ok(Opened {
        ident,
        size,
        file_start,
    })
}

/// The rotator for an active file started at `file_start` that holds `size` bytes.
fn rotator_for(
    policy: RotationPolicy,
    options: &Options,
    file_start: UnixTime,
    size: u64,
    now: UnixTime,
) -> Rotator {
    let mut r = Rotator::new(policy, file_start, offset_at(options, file_start));
    r.wrote(size);
    r.offset_changed(now, offset_at(options, now));
    r
}

fn check(bytes: &[u8]) -> u64 {
    // FNV-1a: detects a torn or foreign record; not a security measure.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The active-file record, if the lock file holds a valid one.
fn read_record(lock: &LockFile) -> Result<Option<Record>, Error> {
    let mut buf = [0u8; RECORD_LEN];
    if lock.read_head(&mut buf)? < RECORD_LEN || &buf[..8] != MAGIC {
        return Ok(None);
    }
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&buf[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    if word(6) != check(&buf[..48]) {
        return Ok(None);
    }
    let secs = word(3) as i64;
    let nanos = u32::try_from(word(4)).unwrap_or(0);
    let start = UnixTime::new(secs, nanos).unwrap_or(UnixTime::from_secs_clamped(secs));
    Ok(Some(Record {
        ident: (word(1), word(2)),
        start,
        next_sequence: word(5),
    }))
}

fn write_record(lock: &LockFile, r: &Record) -> Result<(), Error> {
    let mut buf = [0u8; RECORD_LEN];
    buf[..8].copy_from_slice(MAGIC);
    let words = [
        r.ident.0,
        r.ident.1,
        r.start.secs() as u64,
        u64::from(r.start.subsec_nanos()),
        r.next_sequence,
    ];
    for (i, w) in words.iter().enumerate() {
        buf[8 + i * 8..16 + i * 8].copy_from_slice(&w.to_le_bytes());
    }
    let c = check(&buf[..48]);
    buf[48..].copy_from_slice(&c.to_le_bytes());
    lock.write_head(&buf)
}

/// Whether `job` still has work to do: another process may have done it (its recovery
/// queued the same segment) or retention may have deleted the backup. Called under the
/// maintenance lock, so the answer holds until the job has run.
pub(crate) fn job_still_needed(job: Job, dir: &Path, naming: &Naming) -> bool {
    let exists = |name: BackupName, form: Form| {
        naming
            .path_of(dir, BackupName { form, ..name })
            .map(|p| p.exists())
            .unwrap_or(true) // a name that cannot be formatted fails in the job, visibly
    };
    match job {
        Job::Compress(n) => exists(n, Form::Raw) && !exists(n, Form::Gzip),
        Job::ChecksumRaw(n) => exists(n, Form::Raw) && !exists(n, Form::Sha256),
        Job::ChecksumGz(n) => exists(n, Form::Gzip) && !exists(n, Form::GzipSha256),
    }
}

impl Coordinator {
    /// Takes the main lock shared, passing through the gate (so a waiting rotation goes
    /// first).
    fn enter(&mut self) -> Result<(), Error> {
        self.gate.lock(Kind::Shared)?;
        let locked = self.lock.lock(Kind::Shared);
        let opened = self.gate.unlock();
        locked?;
        self.held = true;
        opened
    }
}

/// Tries the exclusive lock a few times (yielding between tries, never sleeping). `false`:
/// another process holds the lock.
fn try_exclusive(lock: &mut LockFile) -> Result<bool, Error> {
    for attempt in 0..TRY_EXCLUSIVE {
        match lock.lock(Kind::TryExclusive) {
            Ok(()) => return Ok(true),
            Err(e) if e.io_error().kind() == io::ErrorKind::WouldBlock => {
                if attempt + 1 < TRY_EXCLUSIVE {
                    std::thread::yield_now();
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

impl<C: Clock + 'static> RotatingFile<C> {
    /// Shared mode, start of a batch: takes the shared lock and brings this process's view
    /// of the active file up to date.
    pub(super) fn shared_enter(&mut self, now: UnixTime) -> Result<(), Error> {
        let Some(c) = self.coord.as_mut() else {
            return Ok(());
        };
        c.defer_size = false;
        c.enter()?;
        self.shared_refresh(now)
    }

    /// Shared mode, end of a batch: releases the lock, then starts the post-processing and
    /// the retention sweep of a rotation done in the batch.
    pub(super) fn shared_leave(&mut self) {
        let Some(c) = self.coord.as_mut() else {
            return;
        };
        if c.held {
            c.held = false;
            if let Err(e) = c.lock.unlock() {
                self.shared.report(e);
            }
        }
        let sweep = std::mem::take(&mut c.sweep_due);
        for job in c.pending_jobs.drain(..) {
            self.pool.submit(job);
        }
        if sweep {
            self.shared.sweep();
        }
    }

    /// Whether this writer may append now: always outside shared mode; in shared mode,
    /// while it holds the shared lock (a failed rotation takes it back before it returns,
    /// unless even that failed).
    pub(super) fn may_append(&self) -> bool {
        self.coord.as_ref().is_none_or(|c| c.held)
    }

    /// Whether a rotation for `reason` is put off until the next batch (a size rotation
    /// that found the lock busy).
    pub(super) fn size_deferred(&self, reason: Reason) -> bool {
        reason == Reason::Size && self.coord.as_ref().is_some_and(|c| c.defer_size)
    }

    /// With a lock held: if the path no longer names the inode this process writes to (or
    /// is gone), reopens it; then takes the size from the file.
    fn shared_refresh(&mut self, now: UnixTime) -> Result<(), Error> {
        let Some(c) = self.coord.as_mut() else {
            return Ok(());
        };
        let current = match rustix::fs::stat(&self.path) {
            Ok(st) => Some((
                (st.st_dev, st.st_ino),
                u64::try_from(st.st_size).unwrap_or(0),
            )),
            Err(rustix::io::Errno::NOENT) => None,
            Err(e) => return Err(Error::new(Op::Stat, &self.path, e.into())),
        };
        match current {
            Some((ident, size)) if ident == c.ident => {
                let known = self.rotator.size();
                if size >= known {
                    self.rotator.wrote(size - known);
                } else {
                    // Truncated by someone else: same period, fewer bytes.
                    let policy = self.rotator.policy();
                    self.rotator = rotator_for(policy, &self.options, c.file_start, size, now);
                }
            }
            _ => {
                // Rotated by another process, or removed: follow the path. The old
                // descriptor is closed by the assignment.
                let file = open_append(&self.path, self.options.file_mode)?;
                let opened = describe(&c.lock, &file, &self.path, now)?;
                self.file = file;
                c.ident = opened.ident;
                c.file_start = opened.file_start;
                let policy = self.rotator.policy();
                self.rotator = rotator_for(policy, &self.options, c.file_start, opened.size, now);
                self.unsynced = 0;
            }
        }
        Ok(())
    }

    /// Shared mode's rotation before a record of `len` bytes, for `reason`. Called with
    /// the shared lock held; returns with it held again and the view refreshed, whether
    /// this process rotated, another one had, or (size only) the lock was busy.
    pub(super) fn shared_rotate(
        &mut self,
        now: UnixTime,
        reason: Reason,
        len: u64,
    ) -> Result<(), Error> {
        let Some(c) = self.coord.as_mut() else {
            return Ok(());
        };
        // Linux converts a flock by unlocking first; make that explicit.
        c.held = false;
        c.lock.unlock()?;
        let gate = if reason == Reason::Size {
            try_exclusive(&mut c.gate)
        } else {
            c.gate.lock(Kind::Exclusive).map(|()| true)
        };
        match gate {
            Ok(true) => {
                // New batches now wait at the gate; wait for those in flight.
                if let Err(e) = c.lock.lock(Kind::Exclusive) {
                    let _ = c.gate.unlock();
                    return Err(self.shared_reenter_after(e, now));
                }
                c.held = true;
                // Decide again from the file itself: if another process rotated meanwhile,
                // the refreshed view describes its new file, which is normally not due
                // (one crossing, one rotation); if it is (already full, or started
                // before a time boundary), that is a crossing of its own.
                let outcome = self.shared_refresh(now).and_then(|()| {
                    let mut probe = self.rotator;
                    let still_due = reason == Reason::Manual
                        || matches!(probe.before_write(len, now), Decision::Rotate(_));
                    if still_due {
                        self.shared_retire(now)
                    } else {
                        Ok(())
                    }
                });
                if let Some(c) = self.coord.as_mut() {
                    // Back to shared (the gate is still held, so nobody rotates between).
                    let converted = c.lock.lock(Kind::Shared);
                    let opened = c.gate.unlock();
                    if let Err(e) = outcome.and(converted).and(opened) {
                        return Err(self.shared_reenter_after(e, now));
                    }
                }
                self.shared_refresh(now)
            }
            Ok(false) => {
                // Another process is rotating: write this batch, re-check at the next.
                c.defer_size = true;
                c.enter()?;
                self.shared_refresh(now)
            }
            Err(e) => Err(self.shared_reenter_after(e, now)),
        }
    }

    /// After a failure inside a rotation: take the shared lock back (so the batch's
    /// caller finds the state it expects) and return the original error.
    fn shared_reenter_after(&mut self, e: Error, now: UnixTime) -> Error {
        if let Some(c) = self.coord.as_mut() {
            let _ = c.gate.unlock();
            c.held = false;
            if c.lock.lock(Kind::Shared).is_err() {
                return e;
            }
            c.held = true;
        }
        let _ = self.shared_refresh(now);
        e
    }

    /// Under the exclusive lock, with the trigger re-checked: renames the active file,
    /// creates the new one, records it in the lock file.
    fn shared_retire(&mut self, now: UnixTime) -> Result<(), Error> {
        // Other processes may have rotated since this one opened: continue from the
        // record (kept by every rotation) and the directory, whichever is further.
        let on_disk = self.shared.naming.next_sequence(&self.shared.dir)?;
        let recorded = match self.coord.as_ref() {
            Some(c) => read_record(&c.lock)?.map_or(0, |r| r.next_sequence),
            None => 0,
        };
        let sequence = self.next_sequence.max(on_disk).max(recorded);
        let (name, file) = retire_active(
            &self.path,
            &self.file,
            &self.shared,
            &self.options,
            sequence,
            now,
            self.offset,
        )?;
        let st =
            rustix::fs::fstat(&file).map_err(|e| Error::new(Op::Stat, &self.path, e.into()))?;
        let ident = (st.st_dev, st.st_ino);
        let Some(c) = self.coord.as_mut() else {
            return Ok(());
        };
        // Until this record is written, a process reopening the new file estimates its
        // start as `now` too (it is empty), so an error here loses nothing.
        let record = Record {
            ident,
            start: now,
            next_sequence: sequence + 1,
        };
        let recorded = write_record(&c.lock, &record);
        c.ident = ident;
        c.file_start = now;
        // The directory is writable: jobs that failed because it was read-only run again.
        c.pending_jobs.extend(self.shared.take_read_only_failures());
        c.pending_jobs.extend(self.options.job_for(name));
        c.sweep_due = true;
        self.next_sequence = sequence + 1;
        self.after_retire(name, file, now);
        if let Err(e) = recorded {
            self.shared.report(e);
        }
        Ok(())
    }
}
