//! The one place lethe-core takes its atomics and cells from.
//!
//! - `cfg(lethe_loom)`: loom's model-checked atomics and cells;
//! - feature `portable-atomic`: the `portable-atomic` crate;
//! - otherwise `core::sync::atomic`.
//!
//! The ring's bytes are plain memory with atomic header words overlaid on them, which loom
//! cannot model; under loom the ring keeps its headers and per-slot access-tracking cells
//! in a side table instead (see `ring::loom_model`).

#[cfg(lethe_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

#[cfg(all(not(lethe_loom), feature = "portable-atomic"))]
pub(crate) use portable_atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

#[cfg(all(not(lethe_loom), not(feature = "portable-atomic")))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

/// Hint to the CPU (or to loom's scheduler) that this thread is waiting on another.
#[inline]
pub(crate) fn spin_loop() {
    #[cfg(lethe_loom)]
    loom::thread::yield_now();
    #[cfg(not(lethe_loom))]
    core::hint::spin_loop();
}
