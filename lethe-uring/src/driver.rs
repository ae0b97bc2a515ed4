//! [`Driver`]: submits log writes, fsyncs and linked rename chains through one io_uring.
//!
//! The driver is synchronous at its edges: every method submits its operations, waits for
//! all of their completions, and only then returns. No operation is ever in flight when a
//! method returns, which is what makes the borrowed buffers, iovecs and path strings safe
//! to hand to the kernel (see the `SAFETY` comments at each submission). The gain over
//! plain syscalls is in what one `io_uring_enter` carries: a run of writes and the
//! `fsync`s linked between them, a whole rotation (`FSYNC → RENAMEAT → OPENAT → FSYNC(dir)`), or one write
//! to each of several files.

use std::ffi::CStr;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd as _, BorrowedFd, FromRawFd as _, OwnedFd, RawFd};

use io_uring::{IoUring, Probe, opcode, squeue, types};

use crate::{Faults, Unavailable};

/// `user_data` tags: the low 8 bits say which operation of a submission completed.
const TAG_BITS: u32 = 8;

/// The most operations one submission carries (a chain, or the writes of
/// [`Driver::write_many`]); also the cap on operations in flight.
pub const MAX_IN_FLIGHT: usize = 32;

/// The submission queue size. The completion queue is twice as large (`setup_cqsize`), and
/// at most [`MAX_IN_FLIGHT`] operations are ever in flight, so the CQ cannot overflow.
const SQ_ENTRIES: u32 = 64;

/// The `user_data` of [`Driver::write_observed`]'s NOP (the driver's own tags are small).
const OBSERVE_TAG: u64 = u64::MAX;

/// The `user_data` of a deferred `fsync` ([`Driver::write_synced_deferred`]).
const DEFERRED_TAG: u64 = u64::MAX - 1;

/// What [`Driver::submit_all`] does besides waiting for the submission's entries.
#[derive(Copy, Clone, Debug, Default)]
struct Submit {
    /// Put a NOP behind the entries, and tell whether the first entry completed inline
    /// ([`Driver::write_observed`]).
    observe: bool,
    /// The last entry is a deferred `fsync` (tagged [`DEFERRED_TAG`]): not waited for;
    /// the one deferred before it is.
    defer_last: bool,
    /// Wait for every deferred `fsync` still running.
    drain: bool,
}

/// With SQPOLL, how long a submission watches the CQ before it waits in `io_uring_enter`.
const SQPOLL_SPIN: std::time::Duration = std::time::Duration::from_micros(200);

/// Offset `-1`: "the file's current position", which for an `O_APPEND` file means its end,
/// and which is also what pipes and sockets require.
const CURRENT_POSITION: u64 = u64::MAX;

/// How the ring was set up and which opcodes it uses; see [`Driver::setup`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Setup {
    /// `IORING_SETUP_COOP_TASKRUN` was accepted (kernel 5.19+).
    pub coop_taskrun: bool,
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` were accepted (6.1+);
    /// only requested with [`DriverOptions::single_issuer`].
    pub single_issuer: bool,
    /// A kernel thread polls the submission queue ([`DriverOptions::sqpoll`]).
    pub sqpoll: bool,
    /// The setup was retried without the opportunistic flags after `EINVAL`.
    pub retried_without_flags: bool,
    /// Writes copy into a registered buffer and go out as `WRITE_FIXED`
    /// ([`DriverOptions::fixed_buffer`]).
    pub fixed_buffer: bool,
    /// Which operations go through the ring (the others fall back to plain syscalls).
    pub ops: Ops,
}

/// Which of the optional opcodes the running kernel supports (`register_probe`).
/// `WRITEV` and `FSYNC` are required; without them [`Driver::new`] fails.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Ops {
    /// `IORING_OP_RENAMEAT` (5.11).
    pub renameat: bool,
    /// `IORING_OP_UNLINKAT` (5.11).
    pub unlinkat: bool,
    /// `IORING_OP_OPENAT` (5.6).
    pub openat: bool,
    /// `IORING_OP_WRITE_FIXED` (5.1).
    pub write_fixed: bool,
    /// `IORING_OP_POLL_ADD` (5.1), used to wait for a non-blocking descriptor that
    /// answered `EAGAIN`.
    pub poll_add: bool,
}

/// Counters of what a [`Driver`] did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// `io_uring_enter` calls (submissions and waits).
    pub enters: u64,
    /// Write operations submitted (including resubmissions).
    pub writes: u64,
    /// Writes the kernel completed short, whose rest the driver resubmitted.
    pub short_writes: u64,
    /// Fsync operations that completed successfully.
    pub fsyncs: u64,
    /// Linked chains submitted ([`Driver::run_chain`] and write + fsync pairs).
    pub chains: u64,
    /// Operations the kernel cancelled (`-ECANCELED`) because an earlier link failed or
    /// was short.
    pub cancelled: u64,
    /// Operations run as plain syscalls because the kernel lacks their opcode.
    pub fallbacks: u64,
}

/// Configuration of a [`Driver`].
///
/// | setting | default |
/// |---|---|
/// | [`sqpoll`](DriverOptions::sqpoll) | off |
/// | [`fixed_buffer`](DriverOptions::fixed_buffer) | off (writes go out as `WRITEV`) |
/// | [`single_issuer`](DriverOptions::single_issuer) | off |
#[derive(Clone, Debug, Default)]
pub struct DriverOptions {
    sqpoll: Option<u32>,
    fixed_buffer: Option<usize>,
    single_issuer: bool,
    faults: Faults,
}

impl DriverOptions {
    /// Opt-in: a kernel thread polls the submission queue, idling out after `idle_ms`
    /// milliseconds without work. It saves the submission syscalls but keeps a CPU busy
    /// while there is work, and needs privileges on kernels before 5.11.
    #[must_use]
    pub fn sqpoll(mut self, idle_ms: Option<u32>) -> DriverOptions {
        self.sqpoll = idle_ms;
        self
    }

    /// Opt-in: register one buffer of `bytes` and send writes as `WRITE_FIXED` from it
    /// (each write is copied into it). The buffer counts against `RLIMIT_MEMLOCK`; if
    /// registering fails, or the kernel lacks the opcode, writes stay `WRITEV`
    /// ([`Setup::fixed_buffer`] says which).
    #[must_use]
    pub fn fixed_buffer(mut self, bytes: Option<usize>) -> DriverOptions {
        self.fixed_buffer = bytes;
        self
    }

    /// Opt-in: promise that only one thread ever calls this driver, so the ring may be set
    /// up with `SINGLE_ISSUER | DEFER_TASKRUN` (retried without on `EINVAL`). Breaking the
    /// promise makes submissions fail with `EEXIST`.
    #[must_use]
    pub fn single_issuer(mut self, on: bool) -> DriverOptions {
        self.single_issuer = on;
        self
    }

    /// Test hook: faults to inject (see [`Faults`]).
    #[doc(hidden)]
    #[must_use]
    pub fn faults(mut self, faults: Faults) -> DriverOptions {
        self.faults = faults;
        self
    }
}

/// What a write achieved: how many bytes reached the file, the error that stopped it
/// (if any), and the outcome of the `fsync` linked behind it (if one was asked for).
#[derive(Debug)]
pub struct WriteOutcome {
    /// Bytes written, in order, from the start of the buffers.
    pub written: usize,
    /// Why the write stopped before the end (`None`: everything was written).
    pub error: Option<io::Error>,
    /// The linked `fsync`'s result when `sync` was asked for and every byte was written;
    /// `None` otherwise.
    pub synced: Option<io::Result<()>>,
}

/// What [`Driver::write_synced`] achieved.
#[derive(Debug, Default)]
pub struct SyncedWriteOutcome {
    /// Bytes written, in order, from the start of the buffer.
    pub written: usize,
    /// Why the write stopped before the end (`None`: everything was written).
    pub error: Option<io::Error>,
    /// How many of the requested `fsync`s ran to completion, successfully or not (each
    /// ran after every byte before its point was written). They ran in order, so these
    /// are the first `syncs` points.
    pub syncs: usize,
    /// The error of the first `fsync` that failed (it is not retried, and the ones after
    /// it still ran).
    pub sync_error: Option<io::Error>,
    /// How many of the `syncs` failed (each one is for its caller to report;
    /// `sync_error` is the first one's error).
    pub sync_failures: usize,
    /// The last of the `syncs` is still running ([`Driver::write_synced_deferred`]): its
    /// result comes from [`Driver::take_deferred`] or [`Driver::settle`].
    pub deferred: bool,
}

/// What the deferred `fsync`s that completed since the last look did
/// ([`Driver::take_deferred`], [`Driver::settle`]).
#[derive(Debug, Default)]
pub struct DeferredSyncs {
    /// How many completed, successfully or not (cancelled ones are not counted: they
    /// did not run, and the write they followed was resubmitted with its own).
    pub done: usize,
    /// How many of those failed.
    pub failures: usize,
    /// The first failure's error.
    pub error: Option<io::Error>,
}

/// One file's part of [`Driver::write_many`].
#[derive(Debug)]
pub struct FileWrite<'a> {
    /// The file (or pipe) to write to.
    pub fd: BorrowedFd<'a>,
    /// The bytes, in order.
    pub buf: &'a [u8],
    /// Filled in by [`Driver::write_many`]: how far this file's write got.
    pub written: usize,
    /// Filled in by [`Driver::write_many`]: the error that stopped this file's write.
    pub error: Option<io::Error>,
}

impl<'a> FileWrite<'a> {
    /// A write of `buf` to `fd`.
    pub fn new(fd: BorrowedFd<'a>, buf: &'a [u8]) -> FileWrite<'a> {
        FileWrite {
            fd,
            buf,
            written: 0,
            error: None,
        }
    }
}

/// One step of a linked chain ([`Driver::run_chain`]).
#[derive(Copy, Clone, Debug)]
pub enum Step<'a> {
    /// `fsync` a file or directory.
    Fsync(BorrowedFd<'a>),
    /// `renameat2(AT_FDCWD, from, AT_FDCWD, to, flags)`; `flags` as for `renameat2`
    /// (`RENAME_NOREPLACE` is 1).
    Rename {
        /// The current path.
        from: &'a CStr,
        /// The new path.
        to: &'a CStr,
        /// `renameat2` flags.
        flags: u32,
    },
    /// `openat(AT_FDCWD, path, flags, mode)`; the descriptor is returned in
    /// [`ChainOutcome::opened`].
    Open {
        /// The path.
        path: &'a CStr,
        /// `open` flags (`O_CLOEXEC` is always added).
        flags: i32,
        /// Mode of a created file.
        mode: u32,
    },
    /// `unlinkat(AT_FDCWD, path, 0)`.
    Unlink(&'a CStr),
}

impl Step<'_> {
    fn name(&self) -> &'static str {
        match self {
            Step::Fsync(_) => "fsync",
            Step::Rename { .. } => "renameat",
            Step::Open { .. } => "openat",
            Step::Unlink(_) => "unlinkat",
        }
    }
}

/// What a successful chain produced.
#[derive(Debug, Default)]
pub struct ChainOutcome {
    /// The descriptor of the chain's (last) [`Step::Open`].
    pub opened: Option<OwnedFd>,
}

/// Where a chain stopped.
#[derive(Debug)]
pub struct ChainError {
    /// Index of the step that failed (steps before it succeeded).
    pub step: usize,
    /// Its name: `"fsync"`, `"renameat"`, `"openat"` or `"unlinkat"`.
    pub op: &'static str,
    /// The error.
    pub error: io::Error,
    /// Steps after it that the kernel cancelled (`-ECANCELED`) and that therefore did not
    /// run.
    pub cancelled: usize,
    /// Steps after it (indexes) that the kernel ran anyway, successfully. The kernel
    /// breaks a link only when the failing opcode marks its request failed: a failed or
    /// short read/write and a failed `OPENAT` do, while a failed `FSYNC`, `RENAMEAT` or
    /// `UNLINKAT` does not (observed on Linux 6.18), so what follows them still runs.
    pub ran_anyway: Vec<usize>,
    /// The descriptor of an [`Step::Open`] that ran (before the failure, or anyway after
    /// it); the caller decides whether to use or drop it.
    pub opened: Option<OwnedFd>,
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} ({}) failed: {}; {} linked steps after it were cancelled",
            self.step, self.op, self.error, self.cancelled
        )
    }
}

impl std::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// An io_uring driver for log files: coalesced writes with a linked `fsync`, linked
/// rename/open/unlink chains, per-opcode fallback to plain syscalls.
///
/// See the [crate docs](crate) for an example.
pub struct Driver {
    ring: IoUring,
    setup: Setup,
    stats: DriverStats,
    /// Reused iovec array. It holds [`MAX_IN_FLIGHT`] entries from the start, so a write of
    /// one buffer (`write_synced`, `write_many`) never allocates, even the first time; a
    /// vectored write grows it once to its largest batch.
    iov: Vec<libc::iovec>,
    /// The registered buffer for `WRITE_FIXED` (its address was registered as index 0).
    fixed: Option<Box<[u8]>>,
    /// Completions of the current submission: `(user_data, result)`.
    results: Vec<(u64, i32)>,
    /// Deferred `fsync`s submitted whose completion has not been reaped (at most one once
    /// a call returns).
    deferred_in_flight: u32,
    /// Deferred `fsync`s completed since [`Driver::take_deferred`] last looked.
    deferred: DeferredSyncs,
    faults: Faults,
    /// The errno of an `io_uring_enter` failure no retry fixes: every call since fails
    /// with it (see [`Driver::broken`]).
    broken: Option<i32>,
    /// Whether [`Faults::enter_errno`] has fired.
    enter_fault_fired: bool,
}

// SAFETY: `libc::iovec` holds raw pointers, which makes `Driver` `!Send` by default. The
// iovecs in `iov` are scratch space: they point into caller buffers only for the duration
// of one method call, which waits for every completion before returning, so nothing they
// point to is ever used from another thread after the call. The ring itself is `Send`.
unsafe impl Send for Driver {}

impl Drop for Driver {
    fn drop(&mut self) {
        // A deferred fsync may still be running; its caller may close the descriptor
        // right after dropping the driver (see `write_synced_deferred`).
        if self.deferred_in_flight > 0 {
            let _ = self.settle();
        }
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("setup", &self.setup)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// Sets up a ring (retrying without the opportunistic flags on `EINVAL`), probes the
    /// opcodes, and registers the fixed buffer if asked to.
    ///
    /// # Errors
    ///
    /// [`Unavailable`] when io_uring cannot be used: `io_uring_setup` failed (`EPERM` from
    /// `kernel.io_uring_disabled` or seccomp, `ENOSYS`, `ENOMEM` from the memlock limit),
    /// or the kernel lacks `WRITEV` or `FSYNC`.
    pub fn new(options: DriverOptions) -> Result<Driver, Unavailable> {
        let faults = options.faults.clone();
        let (ring, mut setup) = setup_ring(&options)?;
        setup.ops = probe_ops(&ring, &faults)?;
        let mut driver = Driver {
            ring,
            setup,
            stats: DriverStats::default(),
            iov: Vec::with_capacity(MAX_IN_FLIGHT),
            fixed: None,
            results: Vec::with_capacity(MAX_IN_FLIGHT),
            deferred_in_flight: 0,
            deferred: DeferredSyncs::default(),
            faults,
            broken: None,
            enter_fault_fired: false,
        };
        if let Some(bytes) = options.fixed_buffer
            && driver.setup.ops.write_fixed
            && bytes > 0
        {
            let bytes = bytes.min(u32::MAX as usize);
            let mut buf = vec![0u8; bytes].into_boxed_slice();
            let iov = [libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            }];
            // SAFETY: the registered memory is `buf`, which the driver owns in `fixed`
            // until it is dropped; `Drop for Driver` drops the ring (which unregisters
            // the buffer) before the box, since `ring` is declared before `fixed`.
            if unsafe { driver.ring.submitter().register_buffers(&iov) }.is_ok() {
                driver.fixed = Some(buf);
                driver.setup.fixed_buffer = true;
            }
        }
        Ok(driver)
    }

    /// How the ring was set up and which opcodes it uses.
    pub fn setup(&self) -> Setup {
        self.setup
    }

    /// What the driver did so far.
    pub fn stats(&self) -> DriverStats {
        self.stats
    }

    /// The error that broke the ring, if one did: `io_uring_enter` failed with something
    /// no retry fixes (not `EINTR`, `EAGAIN`, `EBUSY` or `ENOMEM`; a valid ring never does).
    /// The driver then waited, by polling the completion queue, until everything the
    /// kernel had taken completed, and from then on every call fails with this error
    /// without touching the ring: the caller should go on with blocking syscalls.
    pub fn broken(&self) -> Option<io::Error> {
        self.broken.map(io::Error::from_raw_os_error)
    }

    /// Writes all of `buf` to `fd` (see [`Driver::write_vectored`]).
    pub fn write(&mut self, fd: BorrowedFd<'_>, buf: &[u8], sync: bool) -> WriteOutcome {
        self.write_vectored(fd, &[IoSlice::new(buf)], sync)
    }

    /// [`Driver::write`] without an `fsync`, which also tells whether the kernel
    /// completed the (first) write inline, during the `io_uring_enter` that submitted it
    /// (`true`), or handed it to one of its `io-wq` worker threads (`false`).
    ///
    /// Buffered writes to a regular file complete inline only on file systems that
    /// support non-blocking buffered writes (XFS since Linux 6.0); others, ext4 among
    /// them, have every such write carried out by a worker thread, which costs a thread
    /// hop and a wake-up per write that a plain `write(2)` does not. Finding out costs a
    /// `NOP` submitted behind the write, not a syscall: the write was inline if its
    /// completion came before the NOP's. With SQPOLL the kernel's poller submits, so the
    /// answer is always `false`.
    pub fn write_observed(&mut self, fd: BorrowedFd<'_>, buf: &[u8]) -> (WriteOutcome, bool) {
        let observe = !self.setup.sqpoll && !buf.is_empty();
        let mut inline = false;
        let out =
            self.write_vectored_observed(fd, &[IoSlice::new(buf)], false, observe, &mut inline);
        (out, inline)
    }

    /// Writes all of `bufs` to `fd` at its current position (the end, for an `O_APPEND`
    /// file) with one `WRITEV` (or `WRITE_FIXED`) in flight, resubmitting the rest after a
    /// short write and after `EINTR`; a non-blocking descriptor that answers `EAGAIN` is
    /// waited for with `POLL_ADD`. With `sync`, an `fsync` is linked behind the write
    /// (`IO_LINK`) so both go out in one submission; if the kernel cancels it because the
    /// write was short (`-ECANCELED`), it is resubmitted behind the rest.
    ///
    /// Never returns with an operation of its own in flight (a deferred `fsync` of an
    /// earlier [`Driver::write_synced_deferred`] may still be running).
    pub fn write_vectored(
        &mut self,
        fd: BorrowedFd<'_>,
        bufs: &[IoSlice<'_>],
        sync: bool,
    ) -> WriteOutcome {
        self.write_vectored_observed(fd, bufs, sync, false, &mut false)
    }

    /// [`Driver::write_vectored`]; with `observe`, its first submission also sets
    /// `inline` if the kernel completed the write inline.
    fn write_vectored_observed(
        &mut self,
        fd: BorrowedFd<'_>,
        bufs: &[IoSlice<'_>],
        sync: bool,
        mut observe: bool,
        inline: &mut bool,
    ) -> WriteOutcome {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let mut done = 0usize;
        let mut sync_pending = sync;
        let mut synced = None;
        let raw = fd.as_raw_fd();
        while done < total || sync_pending {
            if done == total {
                // Everything is written; only the fsync is left (it was cancelled, or the
                // buffers were empty).
                synced = Some(self.fsync(fd));
                break;
            }
            let link_sync = sync_pending;
            let (write, len) = self.prepare_write(raw, bufs, done);
            let write = write.user_data(0);
            let ops = if link_sync {
                let fsync = opcode::Fsync::new(types::Fd(raw)).build().user_data(1);
                [write.flags(squeue::Flags::IO_LINK), fsync]
            } else {
                [write, opcode::Nop::new().build()]
            };
            let n = if link_sync { 2 } else { 1 };
            if link_sync {
                self.stats.chains += 1;
            }
            let how = Submit {
                observe: std::mem::take(&mut observe),
                ..Submit::default()
            };
            // SAFETY: the write entry points either into `self.iov`, whose iovecs point
            // into `bufs` (borrowed for this whole call), or into the registered buffer
            // `self.fixed`; `submit_all` waits for every completion of these entries
            // before returning, and neither `self.iov`, `self.fixed` nor `bufs` is
            // touched until then. The fsync entry references only `fd`, borrowed for
            // this call.
            match unsafe { self.submit_all(&ops[..n], how) } {
                Ok(seen) => *inline |= seen,
                Err(e) => {
                    return WriteOutcome {
                        written: done,
                        error: Some(e),
                        synced,
                    };
                }
            }
            self.stats.writes += 1;
            let mut write_res = 0;
            let mut sync_res = None;
            for &(tag, res) in &self.results {
                match tag & ((1 << TAG_BITS) - 1) {
                    0 => write_res = res,
                    _ => sync_res = Some(self.faults.fsync_result(res)),
                }
            }
            match write_res {
                r if r > 0 => {
                    let r = r as usize;
                    done += r;
                    if r < len {
                        self.stats.short_writes += 1;
                    }
                }
                0 => {
                    return WriteOutcome {
                        written: done,
                        error: Some(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the write completed with 0 bytes",
                        )),
                        synced,
                    };
                }
                r if -r == libc::EINTR => {}
                r if -r == libc::EAGAIN => {
                    if let Err(e) = self.wait_writable(fd) {
                        return WriteOutcome {
                            written: done,
                            error: Some(e),
                            synced,
                        };
                    }
                }
                r => {
                    if sync_res == Some(-libc::ECANCELED) {
                        self.stats.cancelled += 1;
                    }
                    return WriteOutcome {
                        written: done,
                        error: Some(io::Error::from_raw_os_error(-r)),
                        synced,
                    };
                }
            }
            match sync_res {
                None => {}
                Some(r) if r == -libc::ECANCELED => self.stats.cancelled += 1,
                Some(0) => {
                    self.stats.fsyncs += 1;
                    sync_pending = false;
                    synced = Some(Ok(()));
                }
                Some(r) => {
                    // Never retried: after a failed fsync the kernel may have dropped the
                    // dirty pages, so a later success would prove nothing.
                    sync_pending = false;
                    synced = Some(Err(io::Error::from_raw_os_error(-r)));
                }
            }
        }
        WriteOutcome {
            written: done,
            error: None,
            synced,
        }
    }

    /// Writes all of `buf` to `fd` at its current position (the end, for an `O_APPEND`
    /// file) with an `fsync` once the first `sync_at[i]` bytes are written, for each `i`,
    /// all as one linked chain in one submission: `WRITE(buf[..p0]) → FSYNC → WRITE(buf[p0..
    /// p1]) → FSYNC → … → WRITE(rest)`. `IO_LINK` starts each step only after the one
    /// before it completed, so one write is in flight at a time and each `fsync` covers
    /// the bytes before its point. `sync_at` is meant to be ascending, each point in
    /// `1..=buf.len()`; a point at `buf.len()` puts the `fsync` last. A point past the end
    /// counts as the end, and one behind the point before it as that point (its `fsync`
    /// follows the previous one directly).
    ///
    /// A short write breaks the link: the kernel cancels the rest (`-ECANCELED`), and the
    /// driver resubmits the rest of the chain from where the write stopped. A failed
    /// `fsync` is reported in [`SyncedWriteOutcome::sync_error`] and never retried; the
    /// kernel runs the steps after it anyway. A chain longer than [`MAX_IN_FLIGHT`] entries
    /// goes out in several submissions. With a registered buffer
    /// ([`DriverOptions::fixed_buffer`]), each segment is one [`Driver::write_vectored`].
    ///
    /// Never returns with an operation of its own in flight (a deferred `fsync` of an
    /// earlier [`Driver::write_synced_deferred`] may still be running).
    pub fn write_synced(
        &mut self,
        fd: BorrowedFd<'_>,
        buf: &[u8],
        sync_at: &[usize],
    ) -> SyncedWriteOutcome {
        self.write_synced_inner(fd, buf, sync_at, false)
    }

    /// [`Driver::write_synced`] up to the last `fsync` point, without waiting for that
    /// `fsync`: the chain ends with it, and the call returns once the writes before it
    /// completed ([`SyncedWriteOutcome::written`] is then that point, and
    /// [`SyncedWriteOutcome::deferred`] is set), with the `fsync` still running. The
    /// caller writes the rest of `buf` with its next call, which runs while the disk works
    /// on the `fsync`; on the blocking path, or without deferral, the writer would sit in
    /// `fsync` meanwhile. Each `fsync` still runs exactly at its point, behind exactly the
    /// bytes before it. Without points this is [`Driver::write_synced`].
    ///
    /// At most one deferred `fsync` is in flight: a call that defers one also waits for
    /// the one before it, in the same `io_uring_enter`; other writes do not wait for it.
    /// Its result is counted in [`Driver::take_deferred`] once reaped; [`Driver::settle`]
    /// waits for it, and so do [`Driver::run_chain`] (a rotation), [`Driver::fsync`] and
    /// dropping the driver.
    ///
    /// The kernel resolves a linked operation's descriptor when it starts it, so the
    /// caller must not close `fd` (or let its number be reused) until the deferred `fsync`
    /// is settled: call [`Driver::settle`] (or [`Driver::run_chain`]) first. It references
    /// no memory.
    pub fn write_synced_deferred(
        &mut self,
        fd: BorrowedFd<'_>,
        buf: &[u8],
        sync_at: &[usize],
    ) -> SyncedWriteOutcome {
        self.write_synced_inner(fd, buf, sync_at, !sync_at.is_empty())
    }

    /// Completed deferred `fsync`s since the last call (without waiting for one still
    /// running).
    pub fn take_deferred(&mut self) -> DeferredSyncs {
        if self.deferred_in_flight > 0 {
            // Its completion may be in the CQ already (no syscall to look).
            self.reap();
        }
        std::mem::take(&mut self.deferred)
    }

    /// Waits for the deferred `fsync` still running, if any, then returns
    /// [`Driver::take_deferred`]. Afterwards nothing of this driver's is in flight.
    pub fn settle(&mut self) -> DeferredSyncs {
        self.wait_deferred();
        self.take_deferred()
    }

    /// Waits until no deferred `fsync` is in flight (its result stays for
    /// [`Driver::take_deferred`]).
    fn wait_deferred(&mut self) {
        if self.deferred_in_flight > 0 {
            let how = Submit {
                drain: true,
                ..Submit::default()
            };
            // SAFETY: no entries: only waits for the deferred fsync, which references
            // no memory.
            let _ = unsafe { self.submit_all(&[], how) };
        }
    }

    fn write_synced_inner(
        &mut self,
        fd: BorrowedFd<'_>,
        buf: &[u8],
        sync_at: &[usize],
        defer: bool,
    ) -> SyncedWriteOutcome {
        let mut out = SyncedWriteOutcome::default();
        if self.fixed.is_some() {
            // The registered buffer holds one write at a time: one submission per segment.
            let mut from = 0;
            for (i, &p) in sync_at
                .iter()
                .chain(std::iter::once(&buf.len()))
                .enumerate()
            {
                let sync = i < sync_at.len();
                let p = p.clamp(from, buf.len()); // as in the ring path below
                let w = self.write(fd, &buf[from..p], sync);
                out.written = from + w.written;
                if let Some(r) = w.synced {
                    out.syncs += 1;
                    if let Err(e) = r {
                        out.sync_failures += 1;
                        out.sync_error.get_or_insert(e);
                    }
                }
                if w.error.is_some() {
                    out.error = w.error;
                    return out;
                }
                from = p;
            }
            return out;
        }
        let raw = fd.as_raw_fd();
        // What each entry of a submission is: a write of `len` bytes, or an fsync.
        #[derive(Copy, Clone)]
        enum Entry {
            Write(usize),
            Sync,
        }
        loop {
            let next_sync = out.syncs;
            if out.written == buf.len() && next_sync == sync_at.len() {
                return out;
            }
            let mut ops: [squeue::Entry; MAX_IN_FLIGHT] =
                std::array::from_fn(|_| opcode::Nop::new().build());
            let mut kinds = [Entry::Sync; MAX_IN_FLIGHT];
            let mut n = 0;
            let mut pos = out.written;
            let mut k = next_sync;
            // One iovec per write; reserved first, so the pointers taken below stay valid.
            self.iov.clear();
            self.iov.reserve(MAX_IN_FLIGHT);
            let iov_base = self.iov.as_mut_ptr();
            loop {
                // Clamped to the buffer: a point past its end is its end (never a write
                // past `buf`), and a point behind an earlier one adds just the fsync.
                let target = sync_at.get(k).copied().unwrap_or(buf.len()).min(buf.len());
                if target > pos {
                    if n == MAX_IN_FLIGHT {
                        break;
                    }
                    let want = target - pos;
                    let len = self.faults.cap(want);
                    let i = self.iov.len();
                    self.iov.push(libc::iovec {
                        iov_base: buf[pos..].as_ptr() as *mut libc::c_void,
                        iov_len: len,
                    });
                    // SAFETY: `i < MAX_IN_FLIGHT <= capacity`: the vector did not
                    // reallocate, so `iov_base + i` is the element just pushed.
                    let iov = unsafe { iov_base.add(i) };
                    ops[n] = opcode::Writev::new(types::Fd(raw), iov, 1)
                        .offset(CURRENT_POSITION)
                        .build()
                        .user_data(n as u64);
                    kinds[n] = Entry::Write(len);
                    n += 1;
                    pos += len;
                    if len < want {
                        // Capped by the fault hook: nothing may run behind a partial
                        // segment, so the submission ends here.
                        break;
                    }
                }
                if k == sync_at.len() || n == MAX_IN_FLIGHT {
                    break;
                }
                ops[n] = opcode::Fsync::new(types::Fd(raw))
                    .build()
                    .user_data(n as u64);
                n += 1;
                k += 1;
                if defer && k == sync_at.len() {
                    // The last fsync ends the chain; the rest of `buf` is the caller's
                    // next call, which runs while this fsync does.
                    break;
                }
            }
            // Link every entry to the next one.
            for e in ops.iter_mut().take(n.saturating_sub(1)) {
                *e = e.clone().flags(squeue::Flags::IO_LINK);
            }
            if n > 1 {
                self.stats.chains += 1;
            }
            // The chain's last entry is the last fsync, behind every write: defer it.
            let deferred =
                defer && k == sync_at.len() && matches!(kinds[n.saturating_sub(1)], Entry::Sync);
            if deferred {
                ops[n - 1] = ops[n - 1].clone().user_data(DEFERRED_TAG);
            }
            let how = Submit {
                defer_last: deferred,
                ..Submit::default()
            };
            // SAFETY: each write entry points at one iovec in `self.iov` (reserved above,
            // not touched until `submit_all` returns), which points into `buf`, borrowed
            // for this whole call; the fsyncs reference only `fd`, borrowed for this
            // call; `submit_all` waits for every completion but a deferred fsync's,
            // which points at nothing.
            if let Err(e) = unsafe { self.submit_all(&ops[..n], how) } {
                out.error = Some(e);
                return out;
            }
            let mut results = [None::<i32>; MAX_IN_FLIGHT];
            for &(tag, res) in &self.results {
                results[tag as usize] = Some(res);
            }
            for (i, kind) in kinds.iter().enumerate().take(n) {
                if deferred && i == n - 1 {
                    // Every write before it completed in full (else the loop ended
                    // there, and the kernel cancels it): it is running. The rest of
                    // `buf` is for the caller's next call.
                    out.syncs += 1;
                    out.deferred = true;
                    return out;
                }
                let res = results[i].unwrap_or(-libc::ECANCELED);
                match *kind {
                    Entry::Write(len) => {
                        self.stats.writes += 1;
                        match res {
                            r if r > 0 => {
                                out.written += r as usize;
                                if (r as usize) < len {
                                    // The kernel cancelled the rest; resubmit from here.
                                    self.stats.short_writes += 1;
                                    self.count_cancelled(&results[i + 1..n]);
                                    break;
                                }
                            }
                            0 => {
                                out.error = Some(io::Error::new(
                                    io::ErrorKind::WriteZero,
                                    "the write completed with 0 bytes",
                                ));
                                self.count_cancelled(&results[i + 1..n]);
                                return out;
                            }
                            r if r == -libc::ECANCELED => {
                                self.stats.cancelled += 1;
                            }
                            r if -r == libc::EINTR => {
                                self.count_cancelled(&results[i + 1..n]);
                                break;
                            }
                            r if -r == libc::EAGAIN => {
                                self.count_cancelled(&results[i + 1..n]);
                                if let Err(e) = self.wait_writable(fd) {
                                    out.error = Some(e);
                                    return out;
                                }
                                break;
                            }
                            r => {
                                out.error = Some(io::Error::from_raw_os_error(-r));
                                self.count_cancelled(&results[i + 1..n]);
                                return out;
                            }
                        }
                    }
                    Entry::Sync => match self.faults.fsync_result(res) {
                        r if r == -libc::ECANCELED => {
                            // Only after a short or failed write, handled above.
                            self.stats.cancelled += 1;
                            break;
                        }
                        0 => {
                            self.stats.fsyncs += 1;
                            out.syncs += 1;
                        }
                        r => {
                            // Never retried: after a failed fsync the kernel may have
                            // dropped the dirty pages, so a later success would prove
                            // nothing.
                            out.syncs += 1;
                            out.sync_failures += 1;
                            out.sync_error
                                .get_or_insert(io::Error::from_raw_os_error(-r));
                        }
                    },
                }
            }
        }
    }

    /// Counts the `-ECANCELED` results among `rest`.
    fn count_cancelled(&mut self, rest: &[Option<i32>]) {
        let n = rest
            .iter()
            .filter(|r| matches!(r, Some(r) if *r == -libc::ECANCELED))
            .count();
        self.stats.cancelled += n as u64;
    }

    /// Writes to several files at once: one write per file in flight, all submitted in one
    /// `io_uring_enter`; short writes are resubmitted, files that fail drop out with their
    /// error in [`FileWrite::error`]. At most [`MAX_IN_FLIGHT`] files per submission; more
    /// go out in further rounds.
    ///
    /// Descriptors must be distinct; the data of each file is written in order.
    pub fn write_many(&mut self, files: &mut [FileWrite<'_>]) {
        for chunk in files.chunks_mut(MAX_IN_FLIGHT) {
            loop {
                let mut entries = [const { None::<squeue::Entry> }; MAX_IN_FLIGHT];
                // One contiguous iovec per file, kept in `self.iov` (index = file).
                self.iov.clear();
                for f in chunk.iter() {
                    let rest = &f.buf[f.written.min(f.buf.len())..];
                    let len = self.faults.cap(rest.len());
                    self.iov.push(libc::iovec {
                        iov_base: rest.as_ptr() as *mut libc::c_void,
                        iov_len: len,
                    });
                }
                let mut n = 0;
                for (i, f) in chunk.iter().enumerate() {
                    if f.error.is_some() || f.written >= f.buf.len() {
                        continue;
                    }
                    entries[n] = Some(
                        opcode::Writev::new(
                            types::Fd(f.fd.as_raw_fd()),
                            &self.iov[i] as *const libc::iovec,
                            1,
                        )
                        .offset(CURRENT_POSITION)
                        .build()
                        .user_data(i as u64),
                    );
                    n += 1;
                }
                if n == 0 {
                    break;
                }
                let ops: Vec<squeue::Entry> = entries.into_iter().flatten().collect();
                // SAFETY: each entry points at one iovec in `self.iov` (not touched until
                // `submit_all` returns), which points into a `FileWrite::buf` borrowed for
                // this whole call; `submit_all` waits for every completion.
                let submitted = unsafe { self.submit_all(&ops, Submit::default()) };
                self.stats.writes += n as u64;
                if let Err(e) = submitted {
                    for f in chunk.iter_mut() {
                        if f.error.is_none() && f.written < f.buf.len() {
                            f.error = Some(io::Error::new(e.kind(), e.to_string()));
                        }
                    }
                    break;
                }
                for &(tag, res) in &self.results {
                    let f = &mut chunk[tag as usize];
                    let wanted = self.iov[tag as usize].iov_len;
                    match res {
                        r if r > 0 => {
                            f.written += r as usize;
                            if (r as usize) < wanted {
                                self.stats.short_writes += 1;
                            }
                        }
                        0 => {
                            f.error = Some(io::Error::new(
                                io::ErrorKind::WriteZero,
                                "the write completed with 0 bytes",
                            ));
                        }
                        r if -r == libc::EINTR || -r == libc::EAGAIN => {}
                        r => f.error = Some(io::Error::from_raw_os_error(-r)),
                    }
                }
            }
        }
    }

    /// `fsync`s `fd` through the ring.
    ///
    /// # Errors
    ///
    /// The `fsync`'s error. It is never retried (see the crate docs).
    pub fn fsync(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        match self.run_chain(&[Step::Fsync(fd)]) {
            Ok(_) => Ok(()),
            Err(e) => Err(e.error),
        }
    }

    /// Runs `steps` in order as one linked chain (`IO_LINK`, submitted together): each
    /// step starts only after the one before it completed. If a step fails, the kernel
    /// cancels the rest (`-ECANCELED`) for the opcodes that break links on failure (see
    /// [`ChainError::ran_anyway`] for those that do not), and the error says which step
    /// failed, which were cancelled and which ran anyway. Steps whose opcode the kernel lacks run as
    /// plain syscalls at their place in the order, splitting the chain around them.
    ///
    /// # Errors
    ///
    /// [`ChainError`] for the first step that failed, with the steps after it that were
    /// cancelled or ran anyway, and any descriptor a step opened.
    pub fn run_chain(&mut self, steps: &[Step<'_>]) -> Result<ChainOutcome, ChainError> {
        // A rotation closes the descriptor after its chain: nothing deferred may still
        // refer to it.
        self.wait_deferred();
        let mut outcome = ChainOutcome::default();
        let mut start = 0;
        while start < steps.len() {
            if !self.supports(&steps[start]) {
                self.stats.fallbacks += 1;
                if let Err(error) = blocking_step(&steps[start], &mut outcome) {
                    return Err(ChainError {
                        step: start,
                        op: steps[start].name(),
                        error,
                        cancelled: 0,
                        ran_anyway: Vec::new(),
                        opened: outcome.opened.take(),
                    });
                }
                start += 1;
                continue;
            }
            let mut end = start;
            while end < steps.len() && end - start < MAX_IN_FLIGHT && self.supports(&steps[end]) {
                end += 1;
            }
            self.run_linked(&steps[start..end], start, &mut outcome)
                .map_err(|mut e| {
                    e.opened = e.opened.take().or(outcome.opened.take());
                    e
                })?;
            start = end;
        }
        Ok(outcome)
    }

    fn supports(&self, step: &Step<'_>) -> bool {
        if self.faults.is_unsupported(step_opcode(step)) {
            return false;
        }
        match step {
            Step::Fsync(_) => true,
            Step::Rename { .. } => self.setup.ops.renameat,
            Step::Open { .. } => self.setup.ops.openat,
            Step::Unlink(_) => self.setup.ops.unlinkat,
        }
    }

    /// Submits `steps` (all supported) as one linked chain and waits for all of them.
    fn run_linked(
        &mut self,
        steps: &[Step<'_>],
        first_index: usize,
        outcome: &mut ChainOutcome,
    ) -> Result<(), ChainError> {
        let mut ops = [const { None::<squeue::Entry> }; MAX_IN_FLIGHT];
        for (i, step) in steps.iter().enumerate() {
            let entry = match *step {
                Step::Fsync(fd) => opcode::Fsync::new(types::Fd(fd.as_raw_fd())).build(),
                Step::Rename { from, to, flags } => opcode::RenameAt::new(
                    types::Fd(libc::AT_FDCWD),
                    from.as_ptr(),
                    types::Fd(libc::AT_FDCWD),
                    to.as_ptr(),
                )
                .flags(flags)
                .build(),
                Step::Open { path, flags, mode } => {
                    opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                        .flags(flags | libc::O_CLOEXEC)
                        .mode(mode)
                        .build()
                }
                Step::Unlink(path) => {
                    opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr()).build()
                }
            };
            let entry = entry.user_data(i as u64);
            ops[i] = Some(if i + 1 < steps.len() {
                entry.flags(squeue::Flags::IO_LINK)
            } else {
                entry
            });
        }
        let ops: Vec<squeue::Entry> = ops.into_iter().flatten().collect();
        if steps.len() > 1 {
            self.stats.chains += 1;
        }
        // SAFETY: the entries reference path strings (`&CStr`) and descriptors borrowed
        // from `steps` for this whole call; `submit_all` waits for every completion.
        if let Err(error) = unsafe { self.submit_all(&ops, Submit::default()) } {
            return Err(ChainError {
                step: first_index,
                op: steps[0].name(),
                error,
                cancelled: 0,
                ran_anyway: Vec::new(),
                opened: None,
            });
        }
        // A step without a completion (none is possible: `submit_all` returns only once
        // every entry completed, or was failed by a broken ring) counts as failed with
        // EIO, never as 0, which for an OPENAT would mean descriptor 0.
        let mut results = [-libc::EIO; MAX_IN_FLIGHT];
        for &(tag, res) in &self.results {
            results[tag as usize] = res;
        }
        let mut failed: Option<ChainError> = None;
        for (i, (step, &res)) in steps.iter().zip(&results).enumerate() {
            let res = match step {
                Step::Fsync(_) => self.faults.fsync_result(res),
                _ => res,
            };
            if res == -libc::ECANCELED {
                self.stats.cancelled += 1;
                if let Some(f) = failed.as_mut() {
                    f.cancelled += 1;
                    continue;
                }
            }
            if res < 0 {
                if failed.is_none() {
                    failed = Some(ChainError {
                        step: first_index + i,
                        op: step.name(),
                        error: io::Error::from_raw_os_error(-res),
                        cancelled: 0,
                        ran_anyway: Vec::new(),
                        opened: outcome.opened.take(),
                    });
                }
                continue;
            }
            if let Some(f) = failed.as_mut() {
                f.ran_anyway.push(first_index + i);
            }
            match step {
                Step::Open { .. } => {
                    // SAFETY: a successful OPENAT completion's result is a new descriptor
                    // that nothing else owns.
                    let fd = unsafe { OwnedFd::from_raw_fd(res as RawFd) };
                    match failed.as_mut() {
                        Some(f) => f.opened = Some(fd),
                        None => outcome.opened = Some(fd),
                    }
                }
                Step::Fsync(_) => self.stats.fsyncs += 1,
                _ => {}
            }
        }
        match failed {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// Builds the write entry for the bytes of `bufs` after the first `done`, and returns
    /// it with its length.
    fn prepare_write(
        &mut self,
        fd: RawFd,
        bufs: &[IoSlice<'_>],
        mut done: usize,
    ) -> (squeue::Entry, usize) {
        if let Some(fixed) = self.fixed.as_mut() {
            // Copy as much of the rest as fits into the registered buffer.
            let mut len = 0;
            let cap = self.faults.cap(fixed.len());
            for b in bufs {
                if done >= b.len() {
                    done -= b.len();
                    continue;
                }
                let part = &b[done..];
                done = 0;
                let n = part.len().min(cap - len);
                fixed[len..len + n].copy_from_slice(&part[..n]);
                len += n;
                if len == cap {
                    break;
                }
            }
            let entry = opcode::WriteFixed::new(types::Fd(fd), fixed.as_ptr(), len as u32, 0)
                .offset(CURRENT_POSITION)
                .build();
            return (entry, len);
        }
        self.iov.clear();
        let mut budget = self.faults.cap(usize::MAX);
        for b in bufs {
            if done >= b.len() {
                done -= b.len();
                continue;
            }
            let part = &b[done..];
            done = 0;
            let n = part.len().min(budget);
            self.iov.push(libc::iovec {
                iov_base: part.as_ptr() as *mut libc::c_void,
                iov_len: n,
            });
            budget -= n;
            if budget == 0 || self.iov.len() == libc::UIO_MAXIOV as usize {
                break;
            }
        }
        let len = self.iov.iter().map(|v| v.iov_len).sum();
        let entry = opcode::Writev::new(types::Fd(fd), self.iov.as_ptr(), self.iov.len() as u32)
            .offset(CURRENT_POSITION)
            .build();
        (entry, len)
    }

    /// Waits until a non-blocking `fd` is writable (after `EAGAIN`).
    fn wait_writable(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        if !self.setup.ops.poll_add {
            std::thread::yield_now();
            return Ok(());
        }
        let poll = opcode::PollAdd::new(types::Fd(fd.as_raw_fd()), libc::POLLOUT as u32)
            .build()
            .user_data(0);
        // SAFETY: the entry references only `fd`, borrowed for this call; `submit_all`
        // waits for its completion.
        unsafe { self.submit_all(&[poll], Submit::default()) }?;
        match self.results.first() {
            Some(&(_, r)) if r < 0 && -r != libc::EINTR => Err(io::Error::from_raw_os_error(-r)),
            _ => Ok(()),
        }
    }

    /// Pushes `ops`, submits them, and waits for all of their completions, which it leaves
    /// in `self.results` (see [`Submit`] for a deferred last `fsync`, for waiting on an
    /// earlier one, and for observing inline completion, which the `Ok` value reports).
    /// Retries `EINTR`; on `EBUSY`/`EAGAIN` (the kernel is short of resources or the CQ
    /// is backed up) reaps what has completed and tries again.
    ///
    /// # Safety
    ///
    /// Everything the entries point to (buffers, iovecs, paths, descriptors) must stay
    /// valid and unmodified until this function returns. It returns only once every
    /// pushed entry has completed (but a deferred `fsync`, which must point at nothing).
    /// If the ring itself breaks, it first waits by polling for every entry the kernel
    /// took ([`Driver::break_down`]; the others never run and complete here with the
    /// error), and aborts the process only if they never complete (which would otherwise
    /// leave the kernel holding pointers into memory about to be freed).
    unsafe fn submit_all(&mut self, ops: &[squeue::Entry], how: Submit) -> io::Result<bool> {
        debug_assert!(ops.len() <= MAX_IN_FLIGHT);
        debug_assert!(!how.observe || ops.len() < MAX_IN_FLIGHT);
        if let Some(errno) = self.broken {
            return Err(io::Error::from_raw_os_error(errno));
        }
        self.results.clear();
        {
            let mut sq = self.ring.submission();
            for op in ops {
                // SAFETY: the caller guarantees that what `op` points to outlives its
                // completion, which this function waits for.
                if unsafe { sq.push(op) }.is_err() {
                    // Unreachable: the SQ (64 entries) is empty between calls and a
                    // submission carries at most MAX_IN_FLIGHT (32) entries.
                    drop(sq);
                    std::process::abort();
                }
            }
        }
        let mut want = ops.len();
        // A deferred fsync (the last entry) is not waited for; one submitted earlier is.
        if how.defer_last {
            want -= 1;
            self.deferred_in_flight += 1;
        }
        // How many deferred fsyncs may still be running when this returns: the new one
        // (if any); none when draining; else whatever is running (plain writes do not
        // wait for them).
        let keep = if how.defer_last {
            1
        } else if how.drain {
            0
        } else {
            u32::MAX
        };
        if how.observe {
            // A NOP behind the entries, not linked: it always completes inline, so its
            // completion is posted when the submission's inline completions are, in
            // submission order. The first entry's completion comes before it if the
            // kernel carried that entry out inline; one handed to an io-wq worker comes
            // after (the worker has to wake up first, which takes far longer than the
            // rest of the submission).
            let nop = opcode::Nop::new().build().user_data(OBSERVE_TAG);
            // SAFETY: a NOP points at nothing.
            if unsafe { self.ring.submission().push(&nop) }.is_err() {
                std::process::abort(); // unreachable, as above
            }
            want += 1;
        }
        if self.setup.sqpoll {
            // The kernel's poller thread picks the entries up without a syscall (unless it
            // went to sleep, when `submit` wakes it); buffered writes usually complete
            // within microseconds, so look at the CQ for a while before sleeping in
            // `io_uring_enter`.
            let sleeping = self.ring.submission().need_wakeup();
            match self.ring.submit() {
                Ok(_) => self.stats.enters += u64::from(sleeping),
                // Anything else is retried by the waiting loop below.
                Err(_) => self.stats.enters += 1,
            }
            let started = std::time::Instant::now();
            while self.results.len() < want && started.elapsed() < SQPOLL_SPIN {
                self.reap();
                std::hint::spin_loop();
            }
        }
        let mut spins = 0u32;
        while self.results.len() < want || self.deferred_in_flight > keep {
            let left = want.saturating_sub(self.results.len())
                + self.deferred_in_flight.saturating_sub(keep) as usize;
            self.stats.enters += 1;
            let entered = match self.faults.enter_errno {
                Some(errno) if !self.enter_fault_fired && !self.setup.sqpoll => {
                    self.enter_fault_fired = true;
                    // Submit for real, so that entries are in flight, then fail.
                    let _ = self.ring.submit();
                    Err(io::Error::from_raw_os_error(errno))
                }
                _ => self.ring.submit_and_wait(left),
            };
            match entered {
                Ok(_) => {}
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINTR) => {}
                    Some(libc::EBUSY | libc::EAGAIN | libc::ENOMEM) => {
                        spins += 1;
                        if spins > 64 {
                            std::thread::sleep(std::time::Duration::from_micros(100));
                        } else {
                            std::thread::yield_now();
                        }
                    }
                    _ => {
                        // The ring is broken. Entries that point into the caller's memory
                        // may still be in flight: wait for them without the ring's
                        // syscall before returning, then never use the ring again.
                        let pushed = ops.len() + usize::from(how.observe);
                        let deferred_at = how.defer_last.then(|| ops.len() - 1);
                        let taken = self.break_down(&e, pushed, deferred_at);
                        // The entries the kernel never took did not run: each gets the
                        // error as its result, so the caller accounts for what did run
                        // (a write that completed is not written again) and sees the
                        // rest fail. Later calls fail at once (`broken`).
                        let errno = e.raw_os_error().unwrap_or(libc::EIO);
                        for (i, op) in ops.iter().enumerate().skip(taken) {
                            if Some(i) == deferred_at {
                                self.deferred.done += 1;
                                self.deferred.failures += 1;
                                self.deferred
                                    .error
                                    .get_or_insert_with(|| io::Error::from_raw_os_error(errno));
                            } else {
                                self.results.push((op.get_user_data(), -errno));
                            }
                        }
                        break;
                    }
                },
            }
            self.reap();
        }
        let mut inline = false;
        if how.observe {
            let at = |tag| self.results.iter().position(|&(t, _)| t == tag);
            inline = matches!((at(0), at(OBSERVE_TAG)), (Some(w), Some(n)) if w < n);
            self.results.retain(|&(t, _)| t != OBSERVE_TAG);
        }
        Ok(inline)
    }

    /// After `io_uring_enter` failed for good (see [`Driver::broken`]) during a submission
    /// of `pushed` entries (the one at `deferred_at`, if any, a deferred `fsync`): works
    /// out which of them the kernel took (an entry still in the submission queue was never
    /// read, and nothing will submit it now), polls the completion queue until each of
    /// those and every earlier deferred `fsync` has completed (the sleeps between looks
    /// also run the task work that posts completions), and marks the driver broken. With
    /// SQPOLL it also waits until the kernel's poller has taken every queued entry. If
    /// that has not happened after 30 s it never will, and returning would let the caller
    /// free memory the kernel may still read: then, and only then, the process aborts,
    /// after saying why on stderr.
    fn break_down(&mut self, e: &io::Error, pushed: usize, deferred_at: Option<usize>) -> usize {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            self.reap();
            // The submission queue is FIFO: the kernel took the first `taken` entries.
            let unconsumed = self.ring.submission().len();
            let taken = pushed.saturating_sub(unconsumed);
            let deferred_taken = deferred_at.is_some_and(|at| at < taken);
            // A deferred fsync never taken will never complete.
            let untaken = u32::from(deferred_at.is_some() && !deferred_taken);
            let expected = taken - usize::from(deferred_taken);
            // With SQPOLL the poller may still take queued entries: wait for it.
            let queue_final = !self.setup.sqpoll || unconsumed == 0;
            if queue_final && self.results.len() >= expected && self.deferred_in_flight == untaken {
                self.deferred_in_flight = 0;
                self.broken = Some(e.raw_os_error().unwrap_or(libc::EIO));
                return taken;
            }
            if std::time::Instant::now() >= deadline {
                eprintln!(
                    "lethe-uring: io_uring_enter failed with {e} while operations that point \
                     into the caller's memory are in flight; aborting"
                );
                std::process::abort();
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Moves the available completions into `self.results`.
    fn reap(&mut self) {
        let mut cq = self.ring.completion();
        if cq.overflow() > 0 {
            // Cannot happen (CQ = 2 × SQ, at most MAX_IN_FLIGHT in flight); if it did,
            // completions were lost and the in-flight count is unknowable.
            eprintln!("lethe-uring: completion queue overflowed; aborting");
            std::process::abort();
        }
        for cqe in &mut cq {
            if cqe.user_data() == DEFERRED_TAG {
                self.deferred_in_flight -= 1;
                match self.faults.fsync_result(cqe.result()) {
                    // The write before it was short or failed; resubmitted with its own.
                    r if r == -libc::ECANCELED => self.stats.cancelled += 1,
                    0 => {
                        self.stats.fsyncs += 1;
                        self.deferred.done += 1;
                    }
                    r => {
                        self.deferred.done += 1;
                        self.deferred.failures += 1;
                        self.deferred
                            .error
                            .get_or_insert(io::Error::from_raw_os_error(-r));
                    }
                }
                continue;
            }
            self.results.push((cqe.user_data(), cqe.result()));
        }
    }
}

fn step_opcode(step: &Step<'_>) -> u8 {
    match step {
        Step::Fsync(_) => opcode::Fsync::CODE,
        Step::Rename { .. } => opcode::RenameAt::CODE,
        Step::Open { .. } => opcode::OpenAt::CODE,
        Step::Unlink(_) => opcode::UnlinkAt::CODE,
    }
}

/// Runs one step as a plain syscall (the kernel lacks its opcode).
fn blocking_step(step: &Step<'_>, outcome: &mut ChainOutcome) -> io::Result<()> {
    use rustix::fs;
    match *step {
        Step::Fsync(fd) => fs::fsync(fd)?,
        Step::Rename { from, to, flags } => fs::renameat_with(
            fs::CWD,
            from,
            fs::CWD,
            to,
            fs::RenameFlags::from_bits_retain(flags),
        )?,
        Step::Open { path, flags, mode } => {
            let flags = fs::OFlags::from_bits_retain(flags as u32) | fs::OFlags::CLOEXEC;
            outcome.opened = Some(fs::openat(
                fs::CWD,
                path,
                flags,
                fs::Mode::from_raw_mode(mode),
            )?);
        }
        Step::Unlink(path) => fs::unlinkat(fs::CWD, path, fs::AtFlags::empty())?,
    }
    Ok(())
}

/// Sets up the ring with the opportunistic flags, and again without them on `EINVAL`.
fn setup_ring(options: &DriverOptions) -> Result<(IoUring, Setup), Unavailable> {
    let fail = |source| Unavailable::new("io_uring_setup", source);
    let mut last = None;
    for opportunistic in [true, false] {
        let mut setup = Setup {
            retried_without_flags: !opportunistic,
            ..Setup::default()
        };
        let mut builder = IoUring::builder();
        builder.setup_cqsize(SQ_ENTRIES * 2);
        if opportunistic {
            builder.setup_coop_taskrun();
            setup.coop_taskrun = true;
            if options.single_issuer {
                builder.setup_single_issuer().setup_defer_taskrun();
                setup.single_issuer = true;
            }
        }
        if let Some(idle) = options.sqpoll {
            builder.setup_sqpoll(idle);
            setup.sqpoll = true;
        }
        let result = match options.faults.setup_error(opportunistic) {
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
            None => builder.build(SQ_ENTRIES),
        };
        match result {
            Ok(ring) => return Ok((ring, setup)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && opportunistic => last = Some(e),
            Err(e) => return Err(fail(e)),
        }
    }
    Err(fail(last.unwrap_or_else(|| {
        io::Error::from_raw_os_error(libc::EINVAL)
    })))
}

/// Asks the kernel which opcodes it supports; `WRITEV` and `FSYNC` are required.
fn probe_ops(ring: &IoUring, faults: &Faults) -> Result<Ops, Unavailable> {
    let mut probe = Probe::new();
    let probed = match faults.probe_error() {
        Some(errno) => Err(io::Error::from_raw_os_error(errno)),
        None => ring.submitter().register_probe(&mut probe),
    };
    let has = |code: u8| -> bool {
        if faults.is_unsupported(code) {
            return false;
        }
        match &probed {
            Ok(()) => probe.is_supported(code),
            // Before 5.6 there is no probe; those kernels have WRITEV, FSYNC, WRITE_FIXED
            // and POLL_ADD (5.1), and none of the later opcodes.
            Err(_) => matches!(
                code,
                opcode::Writev::CODE
                    | opcode::Fsync::CODE
                    | opcode::WriteFixed::CODE
                    | opcode::PollAdd::CODE
            ),
        }
    };
    for (code, name) in [
        (opcode::Writev::CODE, "WRITEV"),
        (opcode::Fsync::CODE, "FSYNC"),
    ] {
        if !has(code) {
            return Err(Unavailable::new(
                "register_probe",
                io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("the kernel does not support IORING_OP_{name}"),
                ),
            ));
        }
    }
    Ok(Ops {
        renameat: has(opcode::RenameAt::CODE),
        unlinkat: has(opcode::UnlinkAt::CODE),
        openat: has(opcode::OpenAt::CODE),
        write_fixed: has(opcode::WriteFixed::CODE),
        poll_add: has(opcode::PollAdd::CODE),
    })
}
