//! The I/O seam of [`RotatingFile`](crate::RotatingFile): a batch's `write` and a
//! rotation's `fsync → rename → open → fsync(dir)` go either through plain syscalls or,
//! with the `uring` feature, through lethe-uring's io_uring [`Driver`](lethe_uring::Driver).
//!
//! io_uring is chosen at open ([`Options::io_uring`](crate::Options::io_uring)). If it
//! cannot be used (the kernel lacks it, `kernel.io_uring_disabled` or seccomp forbids it,
//! the memlock limit is too low, an opcode is missing, or the crate was built without the
//! feature), the file falls back to the blocking path, reports why to the error handler
//! ([`Op::SetupUring`]) and in [`Stats::io`](crate::Stats::io); in
//! [`Uring::Strict`] mode the open fails instead.

use std::fs::File;
use std::io;
use std::path::Path;

use lethe_core::civil::{UnixTime, UtcOffset};
use lethe_core::naming::BackupName;

use crate::error::{Error, Op};
use crate::rotating_file::{Fsync, Options, retire_active};
use crate::workers::Shared;

/// Whether a [`RotatingFile`](crate::RotatingFile) (and so the [`Writer`](crate::Writer)'s
/// consumer) writes through io_uring.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Uring {
    /// Plain blocking syscalls. The default without the `uring` feature.
    Off,
    /// io_uring if this process may use it, otherwise the blocking path with the reason
    /// reported ([`IoStatus::Fallback`] and the error handler). The default with the
    /// `uring` feature.
    On,
    /// io_uring or nothing: opening fails ([`Op::SetupUring`]) if it cannot be used.
    Strict,
}

impl Default for Uring {
    fn default() -> Uring {
        if cfg!(feature = "uring") {
            Uring::On
        } else {
            Uring::Off
        }
    }
}

/// io_uring settings of a [`RotatingFile`](crate::RotatingFile)
/// ([`Options::io_uring`](crate::Options::io_uring)).
///
/// | setting | default |
/// |---|---|
/// | [`mode`](UringOptions::mode) | [`Uring::On`] with the `uring` feature, else [`Uring::Off`] |
/// | [`sqpoll`](UringOptions::sqpoll) | off |
/// | [`fixed_buffer`](UringOptions::fixed_buffer) | off |
/// | [`appends`](UringOptions::appends) | [`UringAppends::Auto`] |
#[derive(Clone, Debug, Default)]
pub struct UringOptions {
    mode: Uring,
    sqpoll: Option<u32>,
    fixed_buffer: Option<usize>,
    appends: UringAppends,
    #[cfg(all(feature = "uring", target_os = "linux"))]
    faults: lethe_uring::Faults,
}

impl UringOptions {
    /// Off, on (with fallback) or strict.
    #[must_use]
    pub fn mode(mut self, mode: Uring) -> UringOptions {
        self.mode = mode;
        self
    }

    /// Opt-in: a kernel thread polls the submission queue (idling out after `idle_ms`),
    /// which saves the submission syscalls at the price of a busy CPU while logging.
    #[must_use]
    pub fn sqpoll(mut self, idle_ms: Option<u32>) -> UringOptions {
        self.sqpoll = idle_ms;
        self
    }

    /// Opt-in: write batches from one registered buffer of `bytes` (`WRITE_FIXED`). It
    /// counts against `RLIMIT_MEMLOCK`; if registering fails, writes stay `WRITEV`.
    #[must_use]
    pub fn fixed_buffer(mut self, bytes: Option<usize>) -> UringOptions {
        self.fixed_buffer = bytes;
        self
    }

    /// How runs that carry no `fsync` are written ([`UringAppends`]).
    #[must_use]
    pub fn appends(mut self, appends: UringAppends) -> UringOptions {
        self.appends = appends;
        self
    }

    /// Test hook: faults to inject into the driver.
    #[cfg(all(feature = "uring", target_os = "linux"))]
    #[doc(hidden)]
    #[must_use]
    pub fn faults(mut self, faults: lethe_uring::Faults) -> UringOptions {
        self.faults = faults;
        self
    }

    /// The configured mode.
    pub fn get_mode(&self) -> Uring {
        self.mode
    }
}

/// How a [`RotatingFile`](crate::RotatingFile) on io_uring writes a run of records that
/// carries no `fsync` (a plain append; runs with `fsync` points always go out as one
/// linked chain, and rotations as one chain, whatever this says).
///
/// A plain append is one buffered write either way: one `write(2)`, or one
/// `io_uring_enter` that submits it and waits for it. io_uring carries such a write out
/// inline only on file systems that support non-blocking buffered writes (XFS since
/// Linux 6.0), and even there not always: when the write would block (on a lock, on a
/// page under writeback) the kernel hands it to an `io-wq` worker thread, which costs a
/// thread hop and two wake-ups that `write(2)` does not. On ext4 and tmpfs every such
/// write goes to a worker. Measured on this project's machine (docs/BENCHMARKS.md,
/// "io_uring on ext4 and XFS" and "Plain appends with `write(2)` on every file system"):
/// ring appends were 3–7 % slower than `write(2)` into ext4's page cache, 6 % slower with
/// eight files rotating on a RAM-backed XFS (a quarter of the writes went to workers), and
/// never faster.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UringAppends {
    /// Plain appends with `write(2)` (counted in
    /// [`Stats::plain_appends`](crate::Stats::plain_appends)), unless SQPOLL or a fixed
    /// buffer is on (both opt-in): then through the ring, where SQPOLL's submissions cost
    /// no syscall and a fixed buffer's writes need no page pinning. The default.
    #[default]
    Auto,
    /// Always through the ring.
    Ring,
}

/// Which path a [`RotatingFile`](crate::RotatingFile)'s I/O takes
/// ([`Stats::io`](crate::Stats::io)).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IoStatus {
    /// Blocking syscalls, as configured ([`Uring::Off`]).
    #[default]
    Blocking,
    /// io_uring.
    Uring,
    /// io_uring was asked for ([`Uring::On`]) but cannot be used; blocking syscalls. The
    /// full reason went to the error handler.
    Fallback(FallbackReason),
}

/// Why io_uring could not be used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FallbackReason {
    /// lethe-std was built without its `uring` feature, or not for Linux.
    NotBuilt,
    /// Setting up the ring failed with this errno: `EPERM` (`kernel.io_uring_disabled`,
    /// seccomp), `ENOSYS` (no io_uring), `ENOMEM` (memlock limit).
    Setup(i32),
    /// The kernel lacks an opcode the driver needs (`WRITEV`, `FSYNC`).
    MissingOpcode,
    /// io_uring worked, then `io_uring_enter` failed with this errno in a way no retry
    /// fixes (`lethe_uring::Driver::broken`); the file went on with blocking syscalls.
    /// Nothing was lost or written twice: the driver waited for what the kernel had
    /// taken and accounted for it.
    Broken(i32),
}

/// The most records one run gathers into one `write` on the blocking path: 4 096, about
/// 400 KiB of 100-byte lines, under half the default 1 MiB ring (so the producers refill
/// one half while the consumer writes the other). The kernel's page-cache cost per byte
/// falls with the write's size: in a 100-byte-line flood the consumer spent a median
/// 231 ms of CPU per 3 M lines with 1 024-record runs (≈ 100 KiB writes) and 188 ms with
/// 4 096 (docs/BENCHMARKS.md, "Run size on the blocking path").
pub(crate) const BLOCKING_BATCH: usize = 4 * crate::rotating_file::MAX_BATCH;

/// The most records one run gathers into one write on the io_uring path when the `fsync`
/// policy puts fsyncs inside runs (see [`IoBackend::max_run`]): 16 384, about 1.6 MiB of
/// 100-byte lines, so that one `io_uring_enter` carries the writes and linked `fsync`s of
/// more than one `fsync` interval of 1 MiB. The batch's ring space is still released only
/// after its completion, so a batch is also bounded by the ring (8 MiB by default through
/// io_uring). Runs without fsyncs stay at [`BLOCKING_BATCH`] on both paths, whether plain
/// appends go out with `write(2)` or through the ring ([`UringAppends`]): each run costs
/// one call either way, and with eight files at once 16 384-record runs were 3–7 % slower
/// on ext4 and 14–16 % slower on XFS with appends on the ring (1.6 MB gathered per run,
/// by each of eight consumers, no longer stays in cache; docs/BENCHMARKS.md, "io_uring on
/// XFS: run size and reservations").
#[cfg(all(feature = "uring", target_os = "linux"))]
pub(crate) const URING_BATCH: usize = 16 * crate::rotating_file::MAX_BATCH;

/// The most `fsync`s one run links behind its writes ([`IoBackend::write`]); a run that
/// would need more ends at the last one (`fsync` policies that ask for one every few KiB).
pub(crate) const MAX_RUN_SYNCS: usize = 8;

/// What [`IoBackend::write`] did.
#[derive(Debug, Default)]
pub(crate) struct Wrote {
    /// Bytes written, from the start of the buffer.
    pub(crate) n: usize,
    /// How many of the requested `fsync` points were fsynced (the first `syncs`, in
    /// order; a failed one counts, since it is never retried).
    pub(crate) syncs: usize,
    /// The first failed `fsync`'s error.
    pub(crate) sync_error: Option<io::Error>,
    /// How many of the `syncs` failed.
    pub(crate) sync_failures: usize,
    /// A plain append written with `write(2)` on the uring path ([`UringAppends::Auto`]).
    pub(crate) plain: bool,
    /// The last of `syncs` is still running (uring path): it covers every byte of the
    /// `n`, and its result comes from [`IoBackend::settle`].
    pub(crate) deferred: bool,
}

/// The blocking path of [`IoBackend::write`]: `write(2)` up to the first fsync point,
/// then `fsync`.
fn write_blocking(file: &File, buf: &[u8], sync_at: &[usize]) -> io::Result<Wrote> {
    let end = sync_at.first().map_or(buf.len(), |&p| p.min(buf.len()));
    let n = io::Write::write(&mut &*file, &buf[..end])?;
    let synced = n == end && !sync_at.is_empty();
    let sync_error = if synced { file.sync_all().err() } else { None };
    Ok(Wrote {
        n,
        syncs: usize::from(synced),
        sync_failures: usize::from(sync_error.is_some()),
        sync_error,
        plain: false,
        deferred: false,
    })
}

/// Deferred `fsync`s that completed (uring path; see [`Wrote::deferred`]).
#[derive(Debug, Default)]
pub(crate) struct Settled {
    pub(crate) done: usize,
    pub(crate) failures: usize,
    pub(crate) error: Option<io::Error>,
}

/// The I/O path of one rotating file.
pub(crate) enum IoBackend {
    Blocking,
    #[cfg(all(feature = "uring", target_os = "linux"))]
    Uring(Box<uring::State>),
}

impl IoBackend {
    /// The backend `options` ask for, its status, and the reason to report if it fell
    /// back.
    ///
    /// # Errors
    ///
    /// [`Op::SetupUring`] in [`Uring::Strict`] mode when io_uring cannot be used.
    pub(crate) fn open(
        options: &UringOptions,
        path: &Path,
    ) -> Result<(IoBackend, IoStatus, Option<Error>), Error> {
        if options.mode == Uring::Off {
            return Ok((IoBackend::Blocking, IoStatus::Blocking, None));
        }
        let (reason, error) = match uring::open(options) {
            Ok(state) => return Ok((IoBackend::from_uring(state), IoStatus::Uring, None)),
            Err(e) => e,
        };
        let error = Error::new(Op::SetupUring, path, error);
        if options.mode == Uring::Strict {
            return Err(error);
        }
        Ok((IoBackend::Blocking, IoStatus::Fallback(reason), Some(error)))
    }

    /// Writes (a prefix of) `buf` to the end of `file`, like `write(2)`: `Ok` with
    /// [`Wrote::n`] `> 0` is progress, an error comes back only when nothing could be
    /// written. `file` is fsynced once the first `sync_at[i]` bytes are written
    /// (ascending points in `1..=buf.len()`, at most [`MAX_RUN_SYNCS`]): the uring path
    /// links every fsync behind the writes in one submission; the blocking path writes up
    /// to the first point, fsyncs, and returns (the caller calls again for the rest).
    ///
    /// With `defer` (the [`Writer`](crate::Writer)'s consumer), the uring path leaves the
    /// run's last fsync running when it returns ([`Wrote::deferred`]).
    pub(crate) fn write(
        &mut self,
        file: &File,
        buf: &[u8],
        sync_at: &[usize],
        defer: bool,
    ) -> io::Result<Wrote> {
        #[cfg(not(all(feature = "uring", target_os = "linux")))]
        let _ = defer; // only the uring path defers
        match self {
            IoBackend::Blocking => write_blocking(file, buf, sync_at),
            #[cfg(all(feature = "uring", target_os = "linux"))]
            IoBackend::Uring(state) => state.write(file, buf, sync_at, defer),
        }
    }

    /// What the deferred `fsync`s (uring path) that completed did; with `wait`, after
    /// waiting for one still running, so that the file may then be closed.
    pub(crate) fn settle(&mut self, wait: bool) -> Settled {
        #[cfg(not(all(feature = "uring", target_os = "linux")))]
        let _ = wait; // only the uring path defers
        match self {
            IoBackend::Blocking => Settled::default(),
            #[cfg(all(feature = "uring", target_os = "linux"))]
            IoBackend::Uring(state) => state.settle(wait),
        }
    }

    /// The most records one run (one `write`, or one `io_uring_enter` with its linked
    /// `fsync`s) gathers, and so the most the [`Writer`](crate::Writer)'s consumer reads
    /// from its ring per batch: `URING_BATCH` through io_uring when the `fsync` policy
    /// puts fsyncs inside runs, otherwise `BLOCKING_BATCH`.
    pub(crate) fn max_run(&self, fsync: Fsync) -> usize {
        #[cfg(not(all(feature = "uring", target_os = "linux")))]
        let _ = fsync; // only the uring path takes larger runs
        match self {
            #[cfg(all(feature = "uring", target_os = "linux"))]
            IoBackend::Uring(_) if fsync != Fsync::Never => URING_BATCH,
            _ => BLOCKING_BATCH,
        }
    }

    /// If io_uring broke while in use (see [`FallbackReason::Broken`]): switches to
    /// blocking syscalls for good and returns the error, once.
    pub(crate) fn fall_back_if_broken(&mut self) -> Option<io::Error> {
        #[cfg(all(feature = "uring", target_os = "linux"))]
        if let IoBackend::Uring(state) = self
            && let Some(e) = state.broken()
        {
            *self = IoBackend::Blocking;
            return Some(e);
        }
        None
    }

    /// The file-system half of a rotation (see [`retire_active`]); on the uring path one
    /// linked chain `FSYNC(file) → RENAMEAT(NOREPLACE) → OPENAT → FSYNC(dir)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn retire(
        &mut self,
        path: &Path,
        old: &File,
        shared: &Shared,
        options: &Options,
        sequence: u64,
        now: UnixTime,
        offset: UtcOffset,
    ) -> Result<(BackupName, File), Error> {
        match self {
            IoBackend::Blocking => retire_active(path, old, shared, options, sequence, now, offset),
            #[cfg(all(feature = "uring", target_os = "linux"))]
            IoBackend::Uring(state) => {
                state.retire(path, old, shared, options, sequence, now, offset)
            }
        }
    }

    #[cfg(all(feature = "uring", target_os = "linux"))]
    fn from_uring(state: uring::State) -> IoBackend {
        IoBackend::Uring(Box::new(state))
    }

    #[cfg(not(all(feature = "uring", target_os = "linux")))]
    fn from_uring(state: uring::State) -> IoBackend {
        match state {}
    }
}

/// Whether the [`Fsync`] policy wants an `fsync` once `more` bytes are written on top of
/// `unsynced`, at `now` (the last `fsync` was at `synced_at`). The same rule as
/// [`RotatingFile::tick`](crate::RotatingFile::tick), looked at before the write so the
/// uring path can link the `fsync` behind it.
pub(crate) fn fsync_due(
    policy: Fsync,
    unsynced: u64,
    more: u64,
    synced_at: UnixTime,
    now: UnixTime,
) -> bool {
    match policy {
        Fsync::Never => false,
        Fsync::EveryBytes(n) => unsynced + more >= n.max(1),
        Fsync::Every(d) => unsynced + more > 0 && elapsed_nanos(synced_at, now) >= d.as_nanos(),
    }
}

/// Nanoseconds from `since` to `now` (0 if the clock stepped back).
fn elapsed_nanos(since: UnixTime, now: UnixTime) -> u128 {
    let nanos = (i128::from(now.secs()) - i128::from(since.secs())) * 1_000_000_000
        + i128::from(now.subsec_nanos())
        - i128::from(since.subsec_nanos());
    u128::try_from(nanos).unwrap_or(0)
}

#[cfg(all(feature = "uring", target_os = "linux"))]
mod uring {
    use std::ffi::CString;
    use std::fs::File;
    use std::io;
    use std::os::fd::AsFd as _;
    use std::os::unix::ffi::OsStrExt as _;
    use std::path::Path;

    use lethe_core::civil::{UnixTime, UtcOffset};
    use lethe_core::naming::{BackupName, Form};
    use lethe_uring::{Driver, DriverOptions, Step};
    use rustix::fs::OFlags;

    use super::{FallbackReason, Settled, UringAppends, UringOptions, Wrote, write_blocking};
    use crate::error::{Error, Op};
    use crate::rotating_file::{Options, open_append, set_exact_mode};
    use crate::workers::Shared;

    /// `RENAME_NOREPLACE`.
    const NOREPLACE: u32 = 1;

    pub(crate) struct State {
        driver: Driver,
        appends: Appends,
    }

    /// Where plain appends go ([`UringAppends`]).
    #[derive(Copy, Clone, Debug, PartialEq, Eq)]
    enum Appends {
        Ring,
        Plain,
    }

    pub(super) fn open(options: &UringOptions) -> Result<State, (FallbackReason, io::Error)> {
        let driver = Driver::new(
            DriverOptions::default()
                .sqpoll(options.sqpoll)
                .fixed_buffer(options.fixed_buffer)
                .faults(options.faults.clone()),
        )
        .map_err(|e| {
            let reason = match e.step() {
                "register_probe" => FallbackReason::MissingOpcode,
                _ => FallbackReason::Setup(e.io_error().raw_os_error().unwrap_or(0)),
            };
            let kind = e.io_error().kind();
            (
                reason,
                io::Error::new(kind, format!("{e}; writing with blocking syscalls instead")),
            )
        })?;
        let plain = options.appends == UringAppends::Auto
            && options.sqpoll.is_none()
            && options.fixed_buffer.is_none();
        let appends = if plain { Appends::Plain } else { Appends::Ring };
        Ok(State { driver, appends })
    }

    impl State {
        pub(super) fn broken(&self) -> Option<io::Error> {
            self.driver.broken()
        }

        pub(super) fn settle(&mut self, wait: bool) -> Settled {
            let d = if wait {
                self.driver.settle()
            } else {
                self.driver.take_deferred()
            };
            Settled {
                done: d.done,
                failures: d.failures,
                error: d.error,
            }
        }

        pub(super) fn write(
            &mut self,
            file: &File,
            buf: &[u8],
            sync_at: &[usize],
            defer: bool,
        ) -> io::Result<Wrote> {
            if sync_at.is_empty() && self.appends == Appends::Plain {
                let w = write_blocking(file, buf, sync_at)?;
                return Ok(Wrote { plain: true, ..w });
            }
            // Deferred, the run's last fsync runs while the consumer gathers and writes
            // its next batch (`RotatingFile` settles it before the file is closed or
            // replaced).
            let fd = file.as_fd();
            let out = if defer {
                self.driver.write_synced_deferred(fd, buf, sync_at)
            } else {
                self.driver.write_synced(fd, buf, sync_at)
            };
            match (out.written, out.error) {
                (0, Some(e)) if out.syncs == 0 => Err(e),
                (n, _) => Ok(Wrote {
                    n,
                    syncs: out.syncs,
                    sync_error: out.sync_error,
                    sync_failures: out.sync_failures,
                    plain: false,
                    deferred: out.deferred,
                }),
            }
        }

        #[allow(clippy::too_many_arguments)]
        pub(super) fn retire(
            &mut self,
            path: &Path,
            old: &File,
            shared: &Shared,
            options: &Options,
            sequence: u64,
            now: UnixTime,
            offset: UtcOffset,
        ) -> Result<(BackupName, File), Error> {
            let name = BackupName {
                sequence,
                time: UnixTime::from_secs_clamped(now.secs()),
                offset,
                form: Form::Raw,
            };
            let backup = shared.naming.path_of(&shared.dir, name)?;
            let c = |p: &Path, op| {
                CString::new(p.as_os_str().as_bytes()).map_err(|_| {
                    Error::new(
                        op,
                        p,
                        io::Error::new(io::ErrorKind::InvalidInput, "the path contains a NUL"),
                    )
                })
            };
            let (from, to) = (c(path, Op::Rename)?, c(&backup, Op::Rename)?);
            let sync = options.sync_on_rotate;
            let dir = if sync {
                Some(File::open(&shared.dir).map_err(|e| Error::new(Op::Sync, &shared.dir, e))?)
            } else {
                None
            };
            let open = Step::Open {
                path: &from,
                flags: (OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE).bits() as i32,
                mode: options.file_mode,
            };
            let rename = Step::Rename {
                from: &from,
                to: &to,
                flags: NOREPLACE,
            };
            let steps_sync;
            let steps_plain;
            let steps: &[Step<'_>] = match &dir {
                Some(dir) => {
                    steps_sync = [
                        Step::Fsync(old.as_fd()),
                        rename,
                        open,
                        Step::Fsync(dir.as_fd()),
                    ];
                    &steps_sync
                }
                None => {
                    steps_plain = [rename, open];
                    &steps_plain
                }
            };
            let rename_at = usize::from(sync); // index of the rename step
            let op_of = |step: usize| match step {
                s if s == rename_at => (Op::Rename, backup.as_path()),
                s if s == rename_at + 1 => (Op::Open, path),
                s if s == rename_at + 2 => (Op::Sync, shared.dir.as_path()),
                _ => (Op::Sync, path),
            };
            // The chain's OPENAT created the new file with the umask applied: give it the
            // exact mode. The rotation has happened by then, so a failed chmod is only
            // reported.
            let adopt = |fd| {
                let file = File::from(fd);
                if let Err(mode_error) = set_exact_mode(&file, path, options.file_mode) {
                    shared.report(mode_error);
                }
                file
            };
            match self.driver.run_chain(steps) {
                Ok(out) => match out.opened {
                    Some(fd) => Ok((name, adopt(fd))),
                    // Unreachable: the chain's open succeeded.
                    None => Ok((name, open_append(path, options.file_mode)?)),
                },
                Err(e) => {
                    let renamed = e.step > rename_at || e.ran_anyway.contains(&rename_at);
                    let (op, at) = op_of(e.step);
                    let error = Error::new(op, at, e.error);
                    if !renamed {
                        // Nothing moved: the rotation failed and is retried, as on the
                        // blocking path. A descriptor the kernel opened anyway (it reopened
                        // the active file) is dropped.
                        return Err(error);
                    }
                    // The active file is the backup now (the kernel ran the rename even
                    // though an earlier fsync failed, or a later step failed): the
                    // rotation happened. Report the failure, and finish it.
                    let file = match e.opened {
                        Some(fd) => adopt(fd),
                        None => match open_append(path, options.file_mode) {
                            Ok(f) => f,
                            Err(open_error) => {
                                shared.report(error);
                                return Err(open_error);
                            }
                        },
                    };
                    shared.report(error);
                    Ok((name, file))
                }
            }
        }
    }
}

/// Without the `uring` feature: io_uring was asked for, but is not built in.
#[cfg(not(all(feature = "uring", target_os = "linux")))]
mod uring {
    use std::io;

    use super::{FallbackReason, UringOptions};

    pub(crate) enum State {}

    pub(super) fn open(_: &UringOptions) -> Result<State, (FallbackReason, io::Error)> {
        Err((
            FallbackReason::NotBuilt,
            io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring was asked for, but lethe-std was built without its `uring` feature \
                 (or not for Linux); writing with blocking syscalls instead",
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use lethe_core::civil::UnixTime;

    use super::fsync_due;
    use crate::Fsync;

    fn at(secs: i64, millis: u32) -> UnixTime {
        UnixTime::new(secs, millis * 1_000_000).unwrap()
    }

    #[test]
    fn an_interval_below_a_second_is_honoured_to_the_nanosecond() {
        let every = Fsync::Every(Duration::from_millis(500));
        let synced = at(10, 900);
        assert!(!fsync_due(every, 1, 0, synced, at(11, 300)));
        assert!(fsync_due(every, 1, 0, synced, at(11, 400)));
        // Nothing written: nothing to sync, however long ago.
        assert!(!fsync_due(every, 0, 0, synced, at(20, 0)));
        // A clock that stepped back is not an elapsed interval.
        assert!(!fsync_due(every, 1, 0, synced, at(9, 0)));
    }

    #[test]
    fn byte_and_never_policies() {
        let t = at(0, 0);
        assert!(!fsync_due(Fsync::Never, u64::MAX, 0, t, t));
        assert!(!fsync_due(Fsync::EveryBytes(100), 60, 39, t, t));
        assert!(fsync_due(Fsync::EveryBytes(100), 60, 40, t, t));
    }
}
