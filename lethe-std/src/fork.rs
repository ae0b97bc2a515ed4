//! Whether this process is a `fork(2)` child of the one that opened a writer or built a
//! logger, in one relaxed load.
//!
//! A `Writer`'s consumer thread, a logger destination's delivery thread and the worker
//! pool do not exist in a forked child: `fork` copies only the calling thread. A child
//! that used its parent's writer would put records into its copy of the ring that
//! nobody drains (lost when it exits), and its `flush` or `close` would wait for a
//! thread that is not there, for ever. So the writer and the logger note the
//! [`generation`] when they start, and refuse to work in a later one (docs/GUARANTEES.md,
//! "Processes").
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

/// This process's fork generation, registering the handler that counts it (once per
/// process; later calls are one load). Call it when a writer or logger starts; the hot
/// paths compare with [`current`].
pub(crate) fn generation() -> u64 {
    REGISTER.call_once(|| {
        // If registration fails (ENOMEM), children go undetected, as without this module.
        #[allow(unsafe_code)]
        // SAFETY: `pthread_atfork` only records the three function pointers; the two
        // `None`s are allowed, and `in_child` is an `extern "C" fn()` with no arguments
        // that lives as long as the program, does one atomic add and cannot unwind.
        let _ = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
    });
    FORKS.load(Ordering::Relaxed)
}

/// The fork generation now, for a per-record check: one relaxed load of a line nobody
/// writes (except a forked child, once).
#[inline(always)]
pub(crate) fn current() -> u64 {
    FORKS.load(Ordering::Relaxed)
}

/// The error a writer or logger gives in a forked child: `Unsupported`, naming the
/// process that owns it.
pub(crate) fn refused(what: &str, owner: u32) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!(
            "this {what} belongs to process {owner}, which forked this one ({}): its \
             threads do not exist here; open a new one in the child, or use shared mode",
            std::process::id()
        ),
    )
}
