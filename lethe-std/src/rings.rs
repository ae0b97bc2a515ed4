//! The [`Writer`](crate::Writer)'s rings: one, or a chain of ever larger ones under
//! [`Backpressure::Grow`](crate::Backpressure::Grow).
//!
//! Growing never loses or reorders a record:
//!
//! 1. one grower at a time (a mutex, taken only on the cold path of a full ring) checks
//!    that the ring it found full is still the current one, allocates one twice as large,
//!    stores it in the next slot, publishes its index in `current`, and then seals the old
//!    ring ([`Ring::seal`]);
//! 2. a producer that still holds the old ring either claimed space before the seal (its
//!    record commits into the old ring) or gets [`WriteError::Sealed`](lethe_core::ring::WriteError::Sealed)
//!    and moves to the ring `current` names;
//! 3. the consumer reads the old ring until it is sealed *and* everything claimed in it
//!    was committed and read ([`Consumer::is_finished`](lethe_core::ring::Consumer::is_finished)),
//!    and only then moves on to the next ring.
//!
//! A thread's records in the old ring were claimed before its records in the new one, and
//! the consumer reads the whole old ring first, so each thread's order is kept. Old rings
//! are kept until the writer is dropped, so a producer holding a reference to one is always
//! safe; the memory they take is less than the largest ring (a geometric series), so all
//! rings together stay below twice the cap.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use lethe_core::ring::{MAX_CAPACITY, MIN_CAPACITY, Ring, Slot};

pub(crate) type OwnedRing = Ring<Box<[Slot]>>;

/// Growths possible from the smallest to the largest ring.
const MAX_GROWTHS: usize = (MAX_CAPACITY / MIN_CAPACITY).trailing_zeros() as usize;

/// Keeps a value on its own cache line.
#[repr(align(128))]
struct Padded<T>(T);

pub(crate) struct Rings {
    first: OwnedRing,
    grown: [OnceLock<OwnedRing>; MAX_GROWTHS],
    /// The ring producers write to. Only grows, and only after the ring is stored.
    current: Padded<AtomicUsize>,
    /// The ring the consumer reads. Every ring before it is finished.
    consuming: AtomicUsize,
    /// The largest capacity a ring may grow to (the first ring's capacity: no growth).
    max: usize,
    growing: Mutex<()>,
    growths: AtomicU64,
}

impl Rings {
    /// A first ring of `first` bytes that may grow up to `max` bytes.
    pub(crate) fn new(first: OwnedRing, max: usize) -> Rings {
        Rings {
            max: max.max(first.capacity()),
            first,
            grown: std::array::from_fn(|_| OnceLock::new()),
            current: Padded(AtomicUsize::new(0)),
            consuming: AtomicUsize::new(0),
            growing: Mutex::new(()),
            growths: AtomicU64::new(0),
        }
    }

    /// The ring producers write to, and its index.
    #[inline]
    pub(crate) fn current(&self) -> (usize, &OwnedRing) {
        // Acquire: pairs with the Release in `grow`, so the new ring is initialized.
        let i = self.current.0.load(Ordering::Acquire);
        (i, self.at(i))
    }

    /// Ring `i` (at most the current index).
    #[inline]
    pub(crate) fn at(&self, i: usize) -> &OwnedRing {
        if i == 0 {
            return &self.first;
        }
        // `current` and `consuming` only name rings already stored (published with
        // Release after the store), so the slot is set.
        self.grown[i - 1]
            .get()
            .expect("a published ring index names a stored ring")
    }

    /// The first ring: the drop counter lives there.
    pub(crate) fn first(&self) -> &OwnedRing {
        &self.first
    }

    /// The index of the ring the consumer reads.
    pub(crate) fn consuming(&self) -> usize {
        self.consuming.load(Ordering::Acquire)
    }

    /// The consumer moved on to ring `i` (every ring before it is finished).
    pub(crate) fn set_consuming(&self, i: usize) {
        self.consuming.store(i, Ordering::Release);
    }

    /// Is nothing claimed and unconsumed in any ring? A snapshot.
    pub(crate) fn is_empty(&self) -> bool {
        let (c, cur) = (self.consuming(), self.current.0.load(Ordering::Acquire));
        (c..=cur).all(|i| self.at(i).is_empty())
    }

    /// Bytes claimed and not consumed in all rings. A snapshot.
    pub(crate) fn used(&self) -> usize {
        let (c, cur) = (self.consuming(), self.current.0.load(Ordering::Acquire));
        (c..=cur).map(|i| self.at(i).used()).sum()
    }

    /// Times a ring was replaced by a larger one.
    pub(crate) fn growths(&self) -> u64 {
        self.growths.load(Ordering::Relaxed)
    }

    /// Replaces ring `full` (found full by the caller) with one twice as large, unless
    /// that would exceed the cap. Returns whether a larger ring than `full` is current
    /// now (grown here or by another thread meanwhile); `false` means the cap is reached.
    pub(crate) fn grow(&self, full: usize) -> bool {
        let _one_at_a_time = self.growing.lock().unwrap_or_else(PoisonError::into_inner);
        let cur = self.current.0.load(Ordering::Acquire);
        if cur != full {
            return true;
        }
        let old = self.at(cur);
        let Some(capacity) = old.capacity().checked_mul(2) else {
            return false;
        };
        if capacity > self.max || cur >= MAX_GROWTHS {
            return false;
        }
        let Ok(ring) = Ring::with_capacity_huge(capacity) else {
            return false; // above MAX_CAPACITY: the cap is reached
        };
        if self.grown[cur].set(ring).is_err() {
            return true; // unreachable: slots are filled in order under the lock
        }
        // Publish first, then seal: a producer refused by the seal finds the new ring.
        self.current.0.store(cur + 1, Ordering::Release);
        old.seal();
        self.growths.fetch_add(1, Ordering::Relaxed);
        true
    }
}
