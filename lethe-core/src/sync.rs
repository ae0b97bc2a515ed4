//! The one place lethe-core takes its atomics and cells from.
//!
//! - `cfg(lethe_loom)`: loom's model-checked atomics and cells;
//! - feature `portable-atomic`: the `portable-atomic` crate;
//! - otherwise `core::sync::atomic`.
//!
//! The non-loom [`UnsafeCell`] mirrors loom's `with`/`with_mut` API (as tokio's
//! `loom/std/unsafe_cell.rs` does), so the ring is written once for both.

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

#[cfg(lethe_loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `core::cell::UnsafeCell` with loom's closure-based access API.
#[cfg(not(lethe_loom))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(lethe_loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }
}

#[cfg(not(lethe_loom))]
impl<T: ?Sized> UnsafeCell<T> {
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
