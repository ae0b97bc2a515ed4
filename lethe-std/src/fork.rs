//! Whether this process is a `fork(2)` child of the one that opened a writer or built a
//! logger, in one relaxed load.
//!
//! A `Writer`'s consumer thread, a logger destination's delivery thread and the worker
//! pool do not exist in a forked child: `fork` copies only the calling thread. A child
//! that used its parent's writer would put records into its copy of the ring that
//! nobody drains (lost when it exits), and its `flush` or `close` would wait for a
//! thread that is not there, for ever. So the writer and the logger note their
//! [`Owner`] when they start, and refuse to work in a forked child (docs/GUARANTEES.md,
//! section 7).
//!
//! The generation is counted by a `pthread_atfork` child handler, registered on first
//! use: glibc's and musl's `fork()` (and so `nix::unistd::fork`, daemonizing crates and
//! pre-fork servers) run it; a raw `clone(2)` system call would not, and `vfork` or
//! `posix_spawn` children only `exec`, which starts afresh anyway.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// `fork`s between the first process and this one (0 in a process that never forked).
static FORKS: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

/// Runs in the child right after `fork`, on its only thread: one atomic add (no lock, no
/// allocation, async-signal-safe, as a handler must be).
extern "C" fn in_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// The process a writer, logger or worker pool was started in: its fork generation and
/// id. Made with [`Owner::here`] at start; [`Owner::forked`] is the per-record check.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Owner {
    forks: u64,
    pid: u32,
}

impl Owner {
    /// This process, registering the handler that counts forks (once per process; later
    /// calls are one load).
    pub(crate) fn here() -> Owner {
        REGISTER.call_once(|| {
            // If registration fails (ENOMEM), children go undetected, as without this
            // module.
            #[allow(unsafe_code)]
            // SAFETY: `pthread_atfork` only records the three function pointers; the two
            // `None`s are allowed, and `in_child` is an `extern "C" fn()` with no
            // arguments that lives as long as the program, does one atomic add and cannot
            // unwind.
            let _ = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        });
        Owner {
            forks: FORKS.load(Ordering::Relaxed),
            pid: std::process::id(),
        }
    }

    /// Whether this is a forked child of the owner: one relaxed load of a line nobody
    /// writes (except a forked child, once).
    #[inline(always)]
    pub(crate) fn forked(&self) -> bool {
        FORKS.load(Ordering::Relaxed) != self.forks
    }

    /// The error a `what` ("log writer", "logger") gives in a forked child:
    /// `Unsupported`, naming the process that owns it.
    #[cold]
    pub(crate) fn refused(&self, what: &str) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "this {what} belongs to process {}, which forked this one ({}): its \
                 threads do not exist here; open a new one in the child, or use shared mode",
                self.pid,
                std::process::id()
            ),
        )
    }
}
