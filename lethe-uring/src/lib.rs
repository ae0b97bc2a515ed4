//! io_uring support for Lethe.
//!
//! Lethe's std writer turns this crate on with its `uring` feature. The driver that submits
//! log writes, fsyncs and renames through io_uring is built on top of what is here today:
//! [`probe`], which answers whether the running kernel (and any seccomp or container policy
//! in front of it) lets this process use io_uring at all, so callers can fall back to
//! ordinary syscalls with a clear reason instead of failing later.
//!
//! ```
//! match lethe_uring::probe() {
//!     Ok(()) => println!("io_uring is available"),
//!     Err(e) => println!("falling back to synchronous writes: {e}"),
//! }
//! ```
#![cfg_attr(not(target_os = "linux"), allow(unused))]

use std::fmt;
use std::io;

/// Why io_uring cannot be used by this process.
#[derive(Debug)]
pub struct Unavailable {
    step: &'static str,
    source: io::Error,
}

impl Unavailable {
    /// The step that failed: `"io_uring_setup"`, `"submit"` or `"completion"`.
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
