//! The background worker pool that compresses and checksums finished segments, and sweeps
//! retention after each job, so a writer never waits for either.
//!
//! The queue is bounded. A job is never skipped: when the queue is full (or the pool is
//! shutting down) the submitting thread runs the job itself, and [`Stats::inline_jobs`]
//! counts it. Dropping the pool waits for every queued job.
//!
//! [`Stats::inline_jobs`]: crate::Stats::inline_jobs

use std::collections::HashSet;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use lethe_core::retention::RetentionPolicy;

use crate::archive::{self, Job, Settings, Step};
use crate::backups::Naming;
use crate::clock::Clock;
use crate::config::ConfigError;
use crate::error::{AtomicErrorCounts, Error, Op};
use crate::events::{RotateEvent, RotateHook};
use crate::io_backend::{FallbackReason, IoStatus};
use crate::lock_file::{MaintenanceGuard, MaintenanceLock};
use crate::rotating_file::Stats;

pub(crate) type ErrorHandler = Box<dyn FnMut(&Error) + Send>;

/// Counters shared by the writer and the workers.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) backups_removed: AtomicU64,
    pub(crate) freed_for_space: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) compressions: AtomicU64,
    pub(crate) checksums: AtomicU64,
    pub(crate) jobs_failed: AtomicU64,
    pub(crate) jobs_retried: AtomicU64,
    pub(crate) inline_jobs: AtomicU64,
    pub(crate) plain_appends: AtomicU64,
    pub(crate) compressions_failed: AtomicU64,
    pub(crate) checksums_failed: AtomicU64,
    /// Every counted error (reported to the handler or returned to a caller), by `Op`.
    pub(crate) errors_by_op: AtomicErrorCounts,
    /// The writing side's counters, published by the rotating file as it goes, so that
    /// a snapshot never takes the lock the writing thread holds.
    pub(crate) records: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) rotations: AtomicU64,
    pub(crate) syncs: AtomicU64,
    pub(crate) size: AtomicU64,
}

/// Everything a job needs, shared by the writer and the workers.
pub(crate) struct Shared {
    pub(crate) dir: PathBuf,
    pub(crate) naming: Naming,
    pub(crate) settings: Settings,
    pub(crate) retention: RetentionPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) counters: Counters,
    in_flight: Mutex<HashSet<u64>>,
    /// Jobs that failed because the directory was read-only, to queue again after the
    /// next rotation ([`Shared::take_read_only_failures`]).
    read_only_failures: Mutex<Vec<Job>>,
    on_error: Mutex<Reporting>,
    on_rotate: Mutex<Option<RotateHook>>,
    /// Shared mode: serialises jobs, sweeps and cleanup with other processes.
    maintenance: Option<MaintenanceLock>,
    /// Whether the file's writes go through io_uring, or why not (as opened).
    io: IoStatus,
    /// Set once if io_uring broke while in use ([`FallbackReason::Broken`]): the file
    /// went on with blocking syscalls.
    io_broken: std::sync::OnceLock<i32>,
}

/// Where errors go: the handler, or a bounded backlog until one is set.
#[derive(Default)]
struct Reporting {
    handler: Option<ErrorHandler>,
    backlog: Vec<Error>,
}

/// Errors kept for a handler that is not set yet; more are only counted.
const BACKLOG: usize = 1000;

impl Shared {
    pub(crate) fn new(
        dir: PathBuf,
        naming: Naming,
        settings: Settings,
        retention: RetentionPolicy,
        clock: Arc<dyn Clock>,
    ) -> Shared {
        Shared {
            dir,
            naming,
            settings,
            retention,
            clock,
            counters: Counters::default(),
            in_flight: Mutex::new(HashSet::new()),
            read_only_failures: Mutex::new(Vec::new()),
            on_error: Mutex::new(Reporting::default()),
            on_rotate: Mutex::new(None),
            maintenance: None,
            io: IoStatus::default(),
            io_broken: std::sync::OnceLock::new(),
        }
    }

    /// Records that io_uring broke while in use, with `errno` ([`FallbackReason::Broken`]).
    pub(crate) fn uring_broke(&self, errno: i32) {
        let _ = self.io_broken.set(errno);
    }

    /// Records whether the file's writes go through io_uring ([`Stats::io`]).
    pub(crate) fn with_io_status(mut self, io: IoStatus) -> Shared {
        self.io = io;
        self
    }

    /// Shared mode: every job, sweep and disk-full cleanup holds `lock`.
    pub(crate) fn with_maintenance_lock(mut self, lock: Option<MaintenanceLock>) -> Shared {
        self.maintenance = lock;
        self
    }

    /// Shared mode: waits for the maintenance lock. `Err(())`: it could not be taken (the
    /// error is reported), so the work must be skipped.
    fn maintain(&self) -> Result<Option<MaintenanceGuard<'_>>, ()> {
        match &self.maintenance {
            None => Ok(None),
            Some(lock) => lock.hold().map(Some).map_err(|e| self.report(e)),
        }
    }

    /// Installs the error handler and hands it the errors reported so far.
    pub(crate) fn set_error_handler(&self, mut handler: ErrorHandler) {
        let mut r = self.on_error.lock().unwrap_or_else(PoisonError::into_inner);
        for e in r.backlog.drain(..) {
            handler(&e);
        }
        r.handler = Some(handler);
    }

    /// Installs the `on_rotate` hook (replacing any earlier one).
    pub(crate) fn set_rotate_hook(&self, hook: RotateHook) {
        *self
            .on_rotate
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(hook);
    }

    /// Calls the `on_rotate` hook, if one is set.
    pub(crate) fn rotated(&self, event: &RotateEvent<'_>) {
        if let Some(hook) = self
            .on_rotate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            hook(event);
        }
    }

    /// Counts an error returned to a caller (not reported to the handler).
    pub(crate) fn count_error(&self, op: Op) {
        self.counters.errors_by_op.count(op);
    }

    /// Hands `e`, already counted with [`Shared::count_error`], to the error handler.
    pub(crate) fn report_counted(&self, e: Error) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        self.deliver(e);
    }

    /// A lock-free snapshot of the counters.
    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            records: load(&c.records),
            bytes: load(&c.bytes),
            rotations: load(&c.rotations),
            syncs: load(&c.syncs),
            size: load(&c.size),
            backups_removed: load(&c.backups_removed),
            freed_for_space: load(&c.freed_for_space),
            compressions: load(&c.compressions),
            compressions_failed: load(&c.compressions_failed),
            checksums: load(&c.checksums),
            checksums_failed: load(&c.checksums_failed),
            jobs_failed: load(&c.jobs_failed),
            jobs_retried: load(&c.jobs_retried),
            inline_jobs: load(&c.inline_jobs),
            plain_appends: load(&c.plain_appends),
            errors: load(&c.errors),
            errors_by_op: c.errors_by_op.load(),
            io: self.io_broken.get().map_or(self.io, |&errno| {
                IoStatus::Fallback(FallbackReason::Broken(errno))
            }),
        }
    }

    /// Counts `e` and hands it to the error handler, or keeps it for one.
    pub(crate) fn report(&self, e: Error) {
        self.counters.errors_by_op.count(e.op());
        self.report_counted(e);
    }

    fn deliver(&self, e: Error) {
        let mut guard = self.on_error.lock().unwrap_or_else(PoisonError::into_inner);
        let r = &mut *guard;
        match r.handler.as_mut() {
            Some(handler) => handler(&e),
            None if r.backlog.len() < BACKLOG => r.backlog.push(e),
            None => {}
        }
    }

    fn is_busy(&self, sequence: u64) -> bool {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&sequence)
    }

    /// Applies retention, leaving alone the backups that a job is working on.
    pub(crate) fn sweep(&self) {
        if self.retention.is_keep_all() {
            return;
        }
        let Ok(_held) = self.maintain() else {
            return;
        };
        self.sweep_held();
    }

    /// [`sweep`](Shared::sweep), with the maintenance lock (if any) held.
    fn sweep_held(&self) {
        if self.retention.is_keep_all() {
            return;
        }
        let mut errors = Vec::new();
        let removed = self.naming.apply_retention(
            &self.dir,
            &self.retention,
            self.clock.now(),
            &|seq| self.is_busy(seq),
            &mut errors,
        );
        self.counters
            .backups_removed
            .fetch_add(removed, Ordering::Relaxed);
        for e in errors {
            self.report(e);
        }
    }

    /// After a write failed with `e`: with `free_space_on_full`, if the disk is full,
    /// deletes the oldest backup Lethe produced ([`Shared::delete_oldest_backup`]).
    /// Returns whether the write should be tried again (room was made).
    pub(crate) fn made_room(&self, e: &std::io::Error, free_space_on_full: bool) -> bool {
        free_space_on_full
            && e.kind() == std::io::ErrorKind::StorageFull
            && self.delete_oldest_backup()
    }

    /// Deletes the oldest backup Lethe produced (all its files) that no job is working on.
    /// Returns whether anything was deleted.
    pub(crate) fn delete_oldest_backup(&self) -> bool {
        let Ok(_held) = self.maintain() else {
            return false;
        };
        let entries = match self.naming.scan(&self.dir) {
            Ok(e) => e,
            Err(e) => {
                self.report(e);
                return false;
            }
        };
        let Some(oldest) = entries
            .iter()
            .filter(|e| e.name.form.is_backup() && !self.is_busy(e.name.sequence))
            .map(|e| e.name.sequence)
            .min()
        else {
            return false;
        };
        let mut deleted = false;
        for e in entries.iter().filter(|e| e.name.sequence == oldest) {
            match self.naming.remove(&self.dir, e.name) {
                Ok(removed) => deleted |= removed,
                Err(err) => self.report(err),
            }
        }
        if deleted {
            self.counters
                .freed_for_space
                .fetch_add(1, Ordering::Relaxed);
        }
        deleted
    }

    /// Runs `job`; if it fails with a transient error ([`transient`]: a full disk, an
    /// interrupted or busy call) before it changed anything, runs it again after an
    /// exponential backoff with jitter (about 50, 100, 200 ms), up to [`JOB_ATTEMPTS`]
    /// times, counting each retry in `Stats::jobs_retried`. A failure after part of the
    /// job was done (the `.gz` in place, its sidecar not) is not retried here: start-up
    /// recovery finishes it.
    fn run_with_retries(&self, job: Job) -> Result<archive::Done, archive::Failed> {
        let mut backoff = crate::backoff::Backoff::new(
            std::time::Duration::from_millis(50),
            std::time::Duration::from_millis(200),
        );
        let mut attempt = 1;
        loop {
            match archive::run(job, &self.dir, &self.naming, &self.settings) {
                Err(f)
                    if attempt < JOB_ATTEMPTS
                        && f.done == archive::Done::default()
                        && transient(f.error.io_error()) =>
                {
                    attempt += 1;
                    self.counters.jobs_retried.fetch_add(1, Ordering::Relaxed);
                    backoff.sleep();
                }
                other => return other,
            }
        }
    }

    /// The jobs that failed because the directory was read-only since the last call and
    /// whose input is still there (retention may have deleted it since), counted in
    /// `Stats::jobs_retried`: a rotation that just succeeded (so the directory is writable
    /// again) queues them again.
    pub(crate) fn take_read_only_failures(&self) -> Vec<Job> {
        let mut jobs = std::mem::take(
            &mut *self
                .read_only_failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        jobs.retain(|job| {
            self.naming
                .path_of(&self.dir, job.input())
                .is_ok_and(|p| p.exists())
        });
        self.counters
            .jobs_retried
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        jobs
    }

    /// Runs `job`, records the outcome, then sweeps retention.
    fn process(&self, job: Job) {
        let held = self.maintain();
        let (done, failed) = match &held {
            // Shared mode: another process may have done this job (its recovery found
            // the segment) or deleted the backup.
            Ok(Some(_))
                if !crate::rotating_file::shared::job_still_needed(
                    job,
                    &self.dir,
                    &self.naming,
                ) =>
            {
                (archive::Done::default(), None)
            }
            Ok(_) => match self.run_with_retries(job) {
                Ok(done) => (done, None),
                Err(f) => (f.done, Some((Some(f.step), f.error))),
            },
            Err(()) => (
                archive::Done::default(),
                Some((
                    None,
                    Error::new(
                        Op::Lock,
                        &self.dir,
                        std::io::Error::other(
                            "maintenance lock unavailable; job skipped until the next start",
                        ),
                    ),
                )),
            ),
        };
        let c = &self.counters;
        if done.compressed {
            c.compressions.fetch_add(1, Ordering::Relaxed);
        }
        c.checksums
            .fetch_add(u64::from(done.checksums), Ordering::Relaxed);
        if let Some((step, e)) = failed {
            c.jobs_failed.fetch_add(1, Ordering::Relaxed);
            if let Some(again) = read_only_retry(job, done, step, &e) {
                self.read_only_failures
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(again);
            }
            match step {
                Some(Step::Compress) => c.compressions_failed.fetch_add(1, Ordering::Relaxed),
                Some(Step::Checksum) => c.checksums_failed.fetch_add(1, Ordering::Relaxed),
                None => 0,
            };
            self.report(e);
        }
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&job.sequence());
        if held.is_ok() {
            self.sweep_held();
        }
    }
}

/// How many times a background job runs before its transient failure is reported.
const JOB_ATTEMPTS: u32 = 4;

/// The job to run again once the directory is writable, if `job` failed at `step` with
/// a read-only file system (or no permission: a directory whose write bit was taken
/// away) after doing `done`: the job itself if it had changed nothing, the `.gz`'s
/// sidecar if only that was missing; otherwise (the raw copy not yet removed after its
/// `.gz` is in place) `None`, and start-up recovery finishes it.
fn read_only_retry(job: Job, done: archive::Done, step: Option<Step>, e: &Error) -> Option<Job> {
    use std::io::ErrorKind as K;
    if !matches!(
        e.io_error().kind(),
        K::ReadOnlyFilesystem | K::PermissionDenied
    ) {
        return None;
    }
    match (job, done.compressed, step) {
        (_, false, Some(_)) if done == archive::Done::default() => Some(job),
        (Job::Compress(name), true, Some(Step::Checksum)) => Some(Job::ChecksumGz(name)),
        _ => None,
    }
}

/// Whether `e` may go away by itself: a full disk or quota (space can come back), an
/// interrupted, would-block or busy call, or the kernel short of memory.
fn transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::StorageFull
            | K::QuotaExceeded
            | K::Interrupted
            | K::WouldBlock
            | K::ResourceBusy
            | K::OutOfMemory
            | K::TimedOut
    )
}

/// A fixed set of worker threads fed through a bounded queue.
pub(crate) struct Pool {
    tx: Option<SyncSender<Task>>,
    handles: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
    /// The process the workers were started in: in a forked child they do not exist, so
    /// jobs run on the submitting thread and nothing is joined ([`crate::fork`]).
    owner: crate::fork::Owner,
}

impl Pool {
    /// Starts `threads` workers (in [`WORKERS`], checked by [`check_workers`]) at niceness `nice` (see
    /// [`Options::worker_nice`](crate::Options::worker_nice)) with room for `queue` waiting
    /// jobs.
    pub(crate) fn start(
        shared: Arc<Shared>,
        threads: usize,
        nice: Option<i32>,
        queue: usize,
    ) -> Result<Pool, Error> {
        let (tx, rx) = mpsc::sync_channel::<Task>(queue);
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let dir = shared.dir.clone();
            let (rx, shared) = (Arc::clone(&rx), Arc::clone(&shared));
            let handle = std::thread::Builder::new()
                .name(format!("lethe-worker-{i}"))
                .spawn(move || {
                    if let Some(nice) = nice
                        && let Err(e) = lower_priority(nice)
                    {
                        shared.report(Error::new(
                            crate::Op::Spawn,
                            &shared.dir,
                            std::io::Error::other(format!(
                                "could not lower the worker's priority to nice {nice} \
                                 (it runs at the opening thread's): {e}"
                            )),
                        ));
                    }
                    work(&rx, &shared)
                })
                .map_err(|e| Error::new(crate::Op::Spawn, &dir, e))?;
            handles.push(handle);
        }
        Ok(Pool {
            tx: Some(tx),
            handles,
            shared,
            owner: crate::fork::Owner::here(),
        })
    }

    /// Whether this is a forked child of the process that started the workers.
    fn forked(&self) -> bool {
        self.owner.forked()
    }

    /// Queues `job`, or runs it on this thread if the queue is full (or in a forked child,
    /// where the workers do not exist).
    pub(crate) fn submit(&self, job: Job) {
        self.shared
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job.sequence());
        let rejected = match &self.tx {
            Some(_) if self.forked() => Some(job),
            Some(tx) => match tx.try_send(Task::Job(job)) {
                Ok(()) => None,
                Err(TrySendError::Full(task) | TrySendError::Disconnected(task)) => match task {
                    Task::Job(job) => Some(job),
                    Task::Sweep => None, // not what was sent
                },
            },
            None => Some(job),
        };
        if let Some(job) = rejected {
            self.shared
                .counters
                .inline_jobs
                .fetch_add(1, Ordering::Relaxed);
            self.shared.process(job);
        }
    }

    /// Has a worker sweep retention ([`Shared::sweep`]) soon, off the calling thread. If the
    /// queue is full, nothing is queued: every queued job sweeps when it finishes, so a
    /// sweep comes anyway. Without workers (the pool is finishing), sweeps here.
    pub(crate) fn sweep(&self) {
        match &self.tx {
            Some(_) if self.forked() => self.shared.sweep(),
            Some(tx) => match tx.try_send(Task::Sweep) {
                Ok(()) | Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => self.shared.sweep(),
            },
            None => self.shared.sweep(),
        }
    }

    /// Waits for every queued job to finish.
    pub(crate) fn finish(&mut self) {
        drop(self.tx.take());
        if self.forked() {
            // The parent's threads: joining them here would wait for ever.
            std::mem::forget(std::mem::take(&mut self.handles));
            return;
        }
        for h in self.handles.drain(..) {
            // A worker that panicked has already lost its job; there is nothing to add.
            let _ = h.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.finish();
    }
}

/// How many worker threads a file's pool may have ([`Options::workers`](crate::Options::workers),
/// the config key `workers`).
///
/// At least one runs the jobs. The ceiling, 64, is far above what can help: the workers
/// gzip and checksum finished segments (one job of each per rotation) and sweep
/// retention, so a file needs a second worker only when it rotates faster than one thread
/// compresses, and workers beyond the machine's CPUs only compete with each other and with
/// the application's threads. It stops a slip such as `workers = 1000000` from spawning
/// threads until the system refuses.
pub(crate) const WORKERS: RangeInclusive<usize> = 1..=64;

/// Checks a worker count ([`Options::workers`](crate::Options::workers), the config key
/// `workers`): the one place that holds the rule, for both
/// [`RotatingFile::open`](crate::RotatingFile::open) and
/// [`Config::build`](crate::Config::build).
///
/// # Errors
///
/// A count outside [`WORKERS`]: the error names the field (`workers`), the value and the
/// rule.
pub(crate) fn check_workers(threads: usize) -> Result<usize, ConfigError> {
    ConfigError::in_range(
        "workers",
        threads,
        &WORKERS,
        format_args!(
            "a file has from {} to {} worker threads",
            WORKERS.start(),
            WORKERS.end()
        ),
    )
}

/// The niceness a worker may be given: Linux's range, from -20 (most favoured) to 19.
pub(crate) const NICE: RangeInclusive<i32> = -20..=19;

/// Checks a worker niceness ([`Options::worker_nice`](crate::Options::worker_nice), the
/// config key `worker_nice`): the one place that holds the rule, for both
/// [`RotatingFile::open`](crate::RotatingFile::open) and
/// [`Config::build`](crate::Config::build).
///
/// # Errors
///
/// A `nice` outside [`NICE`]: the error names the field (`worker_nice`), the value and
/// the rule.
pub(crate) fn check_worker_nice(nice: i32) -> Result<i32, ConfigError> {
    ConfigError::in_range(
        "worker_nice",
        nice,
        &NICE,
        format_args!("a niceness is from {} to {}", NICE.start(), NICE.end()),
    )
}

/// Sets the calling thread's niceness to `nice`, unless it is already at least that nice
/// (a thread never gains priority here, which would need a privilege anyway).
#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) -> std::io::Result<()> {
    // On Linux, PRIO_PROCESS with id 0 names the calling thread, not the whole process.
    let current = rustix::process::getpriority_process(None)?;
    if current < nice {
        rustix::process::setpriority_process(None, nice)?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) -> std::io::Result<()> {
    // Elsewhere the priority call applies to the whole process, which is not ours to
    // change: the option is documented as Linux-only.
    Ok(())
}

/// What a worker is asked to do.
enum Task {
    /// A backup's compression or checksum, then a retention sweep.
    Job(Job),
    /// A retention sweep alone ([`Pool::sweep`]).
    Sweep,
}

fn work(rx: &Mutex<Receiver<Task>>, shared: &Shared) {
    loop {
        let task = match rx.lock().unwrap_or_else(PoisonError::into_inner).recv() {
            Ok(task) => task,
            Err(_) => return, // the pool is finishing and the queue is empty
        };
        match task {
            Task::Job(job) => shared.process(job),
            Task::Sweep => shared.sweep(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::{Debug, Display};

    use super::{ConfigError, check_worker_nice, check_workers};

    /// `check` keeps each of `good` and refuses each of `bad` naming `field`, the value
    /// and `rule`.
    fn holds<T: Copy + PartialEq + Debug + Display>(
        check: fn(T) -> Result<T, ConfigError>,
        (good, bad): (&[T], &[T]),
        field: &str,
        rule: &str,
    ) {
        for &v in good {
            assert_eq!(check(v).unwrap(), v);
        }
        for &v in bad {
            let e = check(v).unwrap_err();
            let value = v.to_string();
            assert_eq!(
                (e.field(), e.value(), e.rule()),
                (field, value.as_str(), rule)
            );
        }
    }

    #[test]
    fn workers_are_checked_against_one_to_sixty_four() {
        holds(
            check_workers,
            (&[1, 2, 64], &[0, 65, 1_000_000, usize::MAX]),
            "workers",
            "a file has from 1 to 64 worker threads",
        );
    }

    #[test]
    fn worker_nice_is_checked_against_linux_range() {
        holds(
            check_worker_nice,
            (&[-20, 0, 10, 19], &[-21, 20, i32::MIN, i32::MAX]),
            "worker_nice",
            "a niceness is from -20 to 19",
        );
    }
}
