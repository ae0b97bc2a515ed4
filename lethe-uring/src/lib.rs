//! io_uring support for Lethe: a driver that submits log writes, fsyncs and rotation's
//! rename chain through io_uring, and [`probe`], which answers whether this process may use
//! io_uring at all.
//!
//! The [`Driver`] (Linux) keeps one coalesced write in flight per file, resubmits short
//! writes itself, links an `fsync` behind a write when the caller's fsync policy wants one,
//! and runs rotation as one linked chain `FSYNC(file) → RENAMEAT → OPENAT → FSYNC(dir)`
//! (`IO_LINK`; a failed step cancels the rest with `-ECANCELED`, which the driver reports).
//! It sets the completion queue to twice the submission queue and never has more than
//! [`MAX_IN_FLIGHT`] operations in flight, so the CQ cannot overflow. It probes the opcodes
//! (`register_probe`) and runs a step whose opcode the kernel lacks as a plain syscall.
//! Opportunistic setup flags are retried without on `EINVAL`; SQPOLL and a registered
//! (fixed) buffer are opt-in.
//!
//! Every method waits for all the completions of what it submitted before it returns, so
//! no operation that touches memory is ever in flight across calls: borrowed buffers and
//! paths are safe to pass, and dropping the driver never leaves the kernel writing from
//! freed memory. The one exception is opt-in and references no memory: the trailing
//! `fsync` of [`Driver::write_synced_deferred`], left running so the caller's next writes
//! overlap with it (at most one; settled before the descriptor may be closed, and on
//! drop). [`Driver::write_observed`] tells whether the kernel completed a buffered write
//! inline or handed it to an `io-wq` worker thread.
//!
//! ```
//! # #[cfg(target_os = "linux")] {
//! use std::os::fd::AsFd as _;
//! use lethe_uring::{Driver, DriverOptions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = std::fs::OpenOptions::new()
//!     .append(true)
//!     .create(true)
//!     .open(dir.path().join("app.log"))
//!     .unwrap();
//! match Driver::new(DriverOptions::default()) {
//!     Ok(mut driver) => {
//!         // One submission: the write, and an fsync linked behind it.
//!         let out = driver.write(file.as_fd(), b"hello\n", true);
//!         assert_eq!(out.written, 6);
//!         assert!(out.error.is_none());
//!         assert!(matches!(out.synced, Some(Ok(()))));
//!     }
//!     Err(e) => println!("SKIP: falling back to blocking writes: {e}"),
//! }
//! # }
//! ```
#![cfg_attr(not(target_os = "linux"), allow(unused))]

use std::fmt;
use std::io;

#[cfg(target_os = "linux")]
mod driver;

#[cfg(target_os = "linux")]
pub use driver::{
    ChainError, ChainOutcome, DeferredSyncs, Driver, DriverOptions, DriverStats, FileWrite,
    MAX_IN_FLIGHT, Ops, Setup, Step, SyncedWriteOutcome, WriteOutcome,
};

/// Faults to inject into a [`Driver`], for tests of the paths that a healthy kernel never
/// takes. Not part of the stable API.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Submit at most this many bytes per write, so every larger write completes short and
    /// exercises the driver's resubmission.
    pub max_write: Option<usize>,
    /// Make `io_uring_setup` fail with this errno (see `setup_error_with_flags_only`).
    pub setup_errno: Option<i32>,
    /// Fail only the first setup attempt, the one with the opportunistic flags, to
    /// exercise the retry without them.
    pub setup_error_with_flags_only: bool,
    /// Make `register_probe` fail with this errno (the driver then assumes a 5.1 kernel).
    pub probe_errno: Option<i32>,
    /// Opcodes to treat as unsupported, as if the probe had not listed them.
    pub unsupported: Vec<u8>,
    /// Report this errno for every `FSYNC` that completed successfully (the fsync did run;
    /// only its result is replaced), to exercise the handling of a failed fsync, including
    /// linked steps that the kernel ran anyway.
    pub fsync_errno: Option<i32>,
    /// Make the first `io_uring_enter` that waits fail with this errno, after the entries
    /// were submitted (so some are in flight), as a broken ring would: the driver then
    /// waits for them by polling and stops using the ring ([`Driver::broken`]).
    pub enter_errno: Option<i32>,
}

impl Faults {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn cap(&self, len: usize) -> usize {
        self.max_write.map_or(len, |m| len.min(m.max(1)))
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn setup_error(&self, with_flags: bool) -> Option<i32> {
        self.setup_errno
            .filter(|_| with_flags || !self.setup_error_with_flags_only)
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn fsync_result(&self, res: i32) -> i32 {
        match self.fsync_errno {
            Some(errno) if res == 0 => -errno,
            _ => res,
        }
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn probe_error(&self) -> Option<i32> {
        self.probe_errno
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn is_unsupported(&self, opcode: u8) -> bool {
        self.unsupported.contains(&opcode)
    }
}

/// Opcode numbers for `Faults::unsupported`.
#[doc(hidden)]
pub mod opcodes {
    /// `IORING_OP_WRITEV`.
    pub const WRITEV: u8 = 2;
    /// `IORING_OP_FSYNC`.
    pub const FSYNC: u8 = 3;
    /// `IORING_OP_WRITE_FIXED`.
    pub const WRITE_FIXED: u8 = 5;
    /// `IORING_OP_OPENAT`.
    pub const OPENAT: u8 = 18;
    /// `IORING_OP_RENAMEAT`.
    pub const RENAMEAT: u8 = 35;
    /// `IORING_OP_UNLINKAT`.
    pub const UNLINKAT: u8 = 36;
}

/// Why io_uring cannot be used by this process.
#[derive(Debug)]
pub struct Unavailable {
    step: &'static str,
    source: io::Error,
}

impl Unavailable {
    pub(crate) fn new(step: &'static str, source: io::Error) -> Unavailable {
        Unavailable { step, source }
    }

    /// The step that failed: `"io_uring_setup"`, `"register_probe"`, `"submit"` or
    /// `"completion"`.
    pub fn step(&self) -> &'static str {
        self.step
    }

    /// The operating system's error.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "io_uring unavailable: {} failed: {}",
            self.step, self.source
        )?;
        if matches!(
            self.source.raw_os_error(),
            Some(libc_errno::ENOSYS | libc_errno::EPERM)
        ) {
            f.write_str(
                " (the kernel lacks io_uring, or a seccomp/container policy or \
                 kernel.io_uring_disabled forbids it)",
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Unavailable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The two errno values [`Unavailable`]'s message explains.
mod libc_errno {
    pub const EPERM: i32 = 1;
    pub const ENOSYS: i32 = 38;
}

/// Checks that io_uring works here: sets up a small ring, submits a no-op and reaps its
/// completion.
///
/// # Errors
///
/// [`Unavailable`], naming the step that failed and the OS error, when the kernel does not
/// support io_uring, a policy forbids it, or (on non-Linux targets) always.
pub fn probe() -> Result<(), Unavailable> {
    imp::probe()
}

#[cfg(target_os = "linux")]
mod imp {
    use super::Unavailable;
    use io_uring::{IoUring, opcode};
    use std::io;

    const PROBE_USER_DATA: u64 = 0x004c_4554_4845; // "LETHE"

    pub(super) fn probe() -> Result<(), Unavailable> {
        let fail = |step, source| Unavailable { step, source };
        let mut ring = IoUring::new(2).map_err(|e| fail("io_uring_setup", e))?;
        let nop = opcode::Nop::new().build().user_data(PROBE_USER_DATA);
        // SAFETY: a NOP entry references no buffers or file descriptors, so nothing has to
        // outlive the submission.
        unsafe { ring.submission().push(&nop) }.map_err(|_| {
            fail(
                "submit",
                io::Error::other("a fresh 2-entry submission queue is full"),
            )
        })?;
        ring.submit_and_wait(1).map_err(|e| fail("submit", e))?;
        let cqe = ring.completion().next().ok_or_else(|| {
            fail(
                "completion",
                io::Error::other("no completion after submit_and_wait(1)"),
            )
        })?;
        if cqe.user_data() != PROBE_USER_DATA {
            return Err(fail(
                "completion",
                io::Error::other(format!("unexpected user_data {:#x}", cqe.user_data())),
            ));
        }
        if cqe.result() < 0 {
            return Err(fail(
                "completion",
                io::Error::from_raw_os_error(-cqe.result()),
            ));
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Unavailable;
    use std::io;

    pub(super) fn probe() -> Result<(), Unavailable> {
        Err(Unavailable {
            step: "io_uring_setup",
            source: io::Error::from(io::ErrorKind::Unsupported),
        })
    }
}
