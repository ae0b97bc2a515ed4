//! A lock-free many-producer, single-consumer ring of variable-length byte records.
//!
//! The design follows Agrona's `ManyToOneRingBuffer` (see `docs/ARCHITECTURE.md`):
//!
//! - The buffer is a power-of-two number of bytes, stored as 8-byte [`Slot`]s. It can be a
//!   `static` ([`StaticRing`]), a borrowed slice ([`Ring::from_slots`]) or, with the `alloc`
//!   feature, owned ([`Ring::with_capacity`]).
//! - Positions (`head`, `tail`) are byte counters that only grow (wrapping at `usize::MAX`,
//!   which every comparison tolerates); the index into the buffer is `pos & mask`. Positions
//!   never repeat within a wrap of `usize`, so there is no ABA hazard, and the fill level is
//!   `tail - head`.
//! - Every record is a *frame*: an 8-byte header followed by the payload, padded to a
//!   multiple of 8 bytes. The header is `[state: u32 | len: u32]`. `state == 0` means "not
//!   committed yet"; otherwise it holds the frame length (a multiple of 8) with the record
//!   kind (data or padding) in its low bits. `len` is the payload length of a data record.
//! - A producer claims a frame with one CAS on `tail`. If the frame does not fit before the
//!   physical end of the buffer, the same CAS also claims the rest of the buffer as a padding
//!   frame and the record starts at index 0, so every record is contiguous.
//! - A producer publishes by writing its payload and `len`, then storing `state` with
//!   `Release`. The consumer loads `state` with `Acquire`, hands out the committed frames as
//!   slices without copying, zeroes the bytes it consumed (so every future header position
//!   reads 0 until it is committed) and publishes `head` with `Release`.
//! - A reservation ([`WriteGrant`]) that is dropped without being committed (including by a
//!   panic unwinding through it) turns itself into padding, so it can never wedge the
//!   consumer.
//!
//! The ring makes no syscalls (but `with_capacity_huge`'s one `madvise`, with the
//! `huge-pages` feature, when the ring is made) and never blocks: a full ring is reported
//! to the producer
//! ([`WriteError::Full`]), and what to do then (block, drop, grow, write synchronously) is
//! the caller's policy.

use core::fmt;
use core::ptr;

use crate::sync::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

/// Bytes of header in front of every record.
pub const HEADER_LEN: usize = 8;
/// Every frame starts at a multiple of this many bytes.
pub const ALIGN: usize = 8;
/// The largest supported ring capacity in bytes (2 GiB).
pub const MAX_CAPACITY: usize = 1 << 31;
/// The smallest supported ring capacity in bytes (room for two 8-byte records).
pub const MIN_CAPACITY: usize = 32;

/// Low bits of a header `state` word: the kind of frame.
const KIND_MASK: u32 = 0b111;
/// A frame holding a record.
const KIND_DATA: u32 = 0b001;
/// A frame the consumer skips: the end of the buffer before a wrap, or an abandoned claim.
const KIND_PAD: u32 = 0b010;
/// The bit of `tail` that [`Ring::seal`] sets. Positions are multiples of [`ALIGN`], so
/// bit 0 of a position is otherwise always clear.
const SEALED: usize = 1;

/// Rounds `n` up to a multiple of [`ALIGN`], or `None` on overflow.
#[inline]
const fn align_up(n: usize) -> Option<usize> {
    match n.checked_add(ALIGN - 1) {
        Some(v) => Some(v & !(ALIGN - 1)),
        None => None,
    }
}

/// Eight bytes of ring storage.
///
/// A `Slot` is opaque: it is only ever read or written by the [`Ring`] that owns the slice
/// of slots, following the ring's publication protocol. A zeroed slot is the only valid
/// initial state, which [`Slot::new`] and [`Slot::ZERO`] give.
#[repr(C, align(8))]
pub struct Slot(core::cell::UnsafeCell<[u8; 8]>);

// SAFETY: a `Slot` exposes no API of its own. Its bytes are accessed only by the `Ring` it
// belongs to, which orders every access by the claim/commit/release protocol described in
// the module docs (producers own claimed frames exclusively until they commit with Release;
// the consumer owns committed frames until it publishes `head` with Release). Sharing
// `&Slot` between threads is therefore sound.
unsafe impl Sync for Slot {}

impl Slot {
    /// A zeroed slot, as a constant for array repeat expressions (`[Slot::ZERO; N]`).
    ///
    /// Each use of the constant is a fresh slot, which is exactly what initializing
    /// storage needs; the slot is never shared through the constant.
    #[allow(clippy::declare_interior_mutable_const)]
    pub const ZERO: Slot = Slot::new();

    /// A zeroed slot, for building `static` storage.
    pub const fn new() -> Slot {
        Slot(core::cell::UnsafeCell::new([0; 8]))
    }
}

impl Default for Slot {
    fn default() -> Self {
        Slot::new()
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Slot")
    }
}

mod cursor;
pub use cursor::{Appender, GrantCursor, copy_short};

mod sealed {
    pub trait Sealed {}
}

/// Where a [`Ring`] keeps its bytes: an array, a borrowed slice or (with `alloc`) a box of
/// [`Slot`]s. Sealed: the ring relies on the slots never moving or changing length.
pub trait Storage: sealed::Sealed {
    /// The slots.
    fn slots(&self) -> &[Slot];
}

impl<const N: usize> sealed::Sealed for [Slot; N] {}
impl<const N: usize> Storage for [Slot; N] {
    #[inline]
    fn slots(&self) -> &[Slot] {
        self
    }
}

impl sealed::Sealed for &[Slot] {}
impl Storage for &[Slot] {
    #[inline]
    fn slots(&self) -> &[Slot] {
        self
    }
}

#[cfg(feature = "alloc")]
impl sealed::Sealed for alloc::boxed::Box<[Slot]> {}
#[cfg(feature = "alloc")]
impl Storage for alloc::boxed::Box<[Slot]> {
    #[inline]
    fn slots(&self) -> &[Slot] {
        self
    }
}

/// A value on its own cache line, so producers CAS-ing `tail` do not slow down the
/// consumer's stores to `head` (false sharing).
#[repr(align(128))]
struct CachePadded<T>(T);

/// Why a capacity was refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CapacityError {
    /// The rejected capacity in bytes.
    pub bytes: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ring capacity of {} bytes is invalid: it must be a power of two between {} and {} bytes",
            self.bytes, MIN_CAPACITY, MAX_CAPACITY
        )
    }
}

impl core::error::Error for CapacityError {}

/// Why a record could not be written or reserved.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// The ring has no room for the record right now; it may have after the consumer runs.
    Full {
        /// Bytes the record needs (its frame, plus padding to the end if it must wrap).
        needed: usize,
        /// Bytes free when the producer looked.
        free: usize,
    },
    /// The record can never fit in this ring.
    TooLarge {
        /// The record's payload length.
        len: usize,
        /// The largest payload this ring accepts ([`Ring::max_record_len`]).
        max: usize,
    },
    /// The ring was [sealed](Ring::seal): it accepts no more records.
    Sealed,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WriteError::Full { needed, free } => write!(
                f,
                "ring buffer full: the record needs {needed} bytes but {free} are free"
            ),
            WriteError::TooLarge { len, max } => write!(
                f,
                "record of {len} bytes is larger than the ring's maximum record size of {max} bytes"
            ),
            WriteError::Sealed => f.write_str("the ring is sealed and accepts no more records"),
        }
    }
}

impl core::error::Error for WriteError {}

/// A lock-free many-producer, single-consumer ring of byte records.
///
/// Producers call [`try_write`](Ring::try_write) or [`reserve`](Ring::reserve) through a
/// shared reference from any number of threads. One consumer at a time, obtained with
/// [`consumer`](Ring::consumer), reads committed records in place.
///
/// Guarantees:
/// - a record is never split, torn or duplicated;
/// - records from one producer are read in the order that producer wrote them (claims are
///   totally ordered by the CAS on `tail`, and the consumer reads in position order);
/// - no operation blocks or allocates; a full ring is an error the caller handles.
///
/// # Examples
///
/// ```
/// use lethe_core::ring::Ring;
///
/// let ring = Ring::with_capacity(1024).unwrap();
/// std::thread::scope(|s| {
///     for t in 0..2 {
///         let ring = &ring;
///         s.spawn(move || {
///             for i in 0..10 {
///                 let line = format!("thread {t} line {i}\n");
///                 while ring.try_write(line.as_bytes()).is_err() {
///                     std::thread::yield_now();
///                 }
///             }
///         });
///     }
/// });
/// let mut consumer = ring.consumer().unwrap();
/// let mut lines = 0;
/// while let Some(batch) = consumer.read() {
///     lines += batch.record_count();
///     batch.release();
/// }
/// assert_eq!(lines, 20);
/// ```
pub struct Ring<S: Storage> {
    /// Next position to claim. Producers CAS it forward (AcqRel); a producer that is still
    /// the last claimant may CAS it back to return the unused end of a reservation.
    tail: CachePadded<AtomicUsize>,
    /// Next position to consume. Only the consumer stores it (Release, after zeroing the
    /// consumed bytes); producers load it with Acquire before writing into freed space.
    /// Invariant: `head <= tail` and `tail - head <= capacity` (modulo wrapping).
    head: CachePadded<AtomicUsize>,
    /// A recent value of `head`, shared by the producers (Agrona's head cache). Always at
    /// most the real `head`; a claim that does not fit by it reloads the real one.
    head_cache: CachePadded<AtomicUsize>,
    /// Records dropped by [`Ring::write_or_drop`] or reported with [`Ring::add_dropped`].
    dropped: AtomicUsize,
    /// Set while a [`Consumer`] exists.
    consumer_taken: AtomicBool,
    /// `capacity - 1`; capacity is a power of two in bytes.
    mask: usize,
    /// The slot where the ring's bytes start inside `storage`: 0, except for a ring
    /// placed on a huge-page boundary inside a larger allocation
    /// ([`Ring::with_capacity_huge`]).
    base: usize,
    storage: S,
    /// Under loom, header words and per-slot access tracking live beside the raw bytes,
    /// because loom's atomics and cells cannot be overlaid on plain memory.
    #[cfg(lethe_loom)]
    model: loom_model::Model,
}

impl<S: Storage> fmt::Debug for Ring<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.capacity())
            .field("used", &self.used())
            .field("dropped", &self.dropped())
            .finish()
    }
}

/// A ring over a `static` array of `SLOTS` slots (`8 * SLOTS` bytes), with no allocator.
///
/// `SLOTS` must be a power of two of at least 4 (32 bytes, [`MIN_CAPACITY`]); this is
/// checked at compile time.
///
/// ```
/// use lethe_core::ring::StaticRing;
/// static LOG: StaticRing<128> = StaticRing::new(); // 1 KiB
/// assert_eq!(LOG.capacity(), 1024);
/// ```
pub type StaticRing<const SLOTS: usize> = Ring<[Slot; SLOTS]>;

#[cfg(not(lethe_loom))]
impl<const SLOTS: usize> Ring<[Slot; SLOTS]> {
    /// An empty ring over an inline array of `SLOTS` zeroed slots; usable in a `static`.
    pub const fn new() -> Self {
        const {
            assert!(
                SLOTS.is_power_of_two() && SLOTS * 8 >= MIN_CAPACITY && SLOTS <= MAX_CAPACITY / 8,
                "StaticRing<SLOTS>: SLOTS must be a power of two with 32 B <= 8*SLOTS <= 2 GiB"
            )
        };
        Ring {
            tail: CachePadded(AtomicUsize::new(0)),
            head: CachePadded(AtomicUsize::new(0)),
            head_cache: CachePadded(AtomicUsize::new(0)),
            dropped: AtomicUsize::new(0),
            consumer_taken: AtomicBool::new(false),
            mask: SLOTS * 8 - 1,
            base: 0,
            storage: [Slot::ZERO; SLOTS],
        }
    }
}

#[cfg(not(lethe_loom))]
impl<const SLOTS: usize> Default for Ring<[Slot; SLOTS]> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Ring<&'a [Slot]> {
    /// A ring over caller-provided slots, for example a local array or a leaked buffer
    /// (for a `static`, see [`StaticRing`]).
    ///
    /// The slots are borrowed exclusively for the ring's life, so no other ring (or
    /// anything else) can touch them meanwhile, and they are zeroed first: whatever an
    /// earlier ring left in them (committed records nobody consumed, headers) is gone.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] unless `8 * slots.len()` is a power of two between
    /// [`MIN_CAPACITY`] and [`MAX_CAPACITY`].
    pub fn from_slots(slots: &'a mut [Slot]) -> Result<Self, CapacityError> {
        for slot in slots.iter_mut() {
            *slot.0.get_mut() = [0; 8];
        }
        let slots: &'a [Slot] = slots;
        Self::from_storage(slots)
    }
}

#[cfg(feature = "alloc")]
impl Ring<alloc::boxed::Box<[Slot]>> {
    /// A ring owning a zeroed heap buffer of `bytes` bytes.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] unless `bytes` is a power of two between [`MIN_CAPACITY`] and
    /// [`MAX_CAPACITY`].
    pub fn with_capacity(bytes: usize) -> Result<Self, CapacityError> {
        check_capacity(bytes)?;
        let slots: alloc::boxed::Box<[Slot]> = (0..bytes / 8).map(|_| Slot::new()).collect();
        Self::from_storage(slots)
    }

    /// Like [`with_capacity`](Ring::with_capacity), but a ring of at least
    /// [`HUGE_PAGE_MIN`] bytes is placed on a 2 MiB boundary and, on Linux with the
    /// `huge-pages` feature, advised for transparent huge pages (`MADV_HUGEPAGE`) before
    /// anything touches it. One TLB entry then covers 2 MiB of the ring instead of 4 KiB,
    /// so writers moving through it do not take page walks (a walk costs a few hundred
    /// nanoseconds in a virtual machine, and a software prefetch into the next page
    /// waits for it).
    ///
    /// The allocation is 2 MiB larger than the ring (address space only: its pages are
    /// never touched). Once the kernel grants a huge page, a ring smaller than 2 MiB takes
    /// the whole page in resident memory. Whether it grants one depends on the system's
    /// setting (`/sys/kernel/mm/transparent_hugepage/enabled`: `always` or `madvise`)
    /// and on free memory; without one the ring works as any other. Smaller rings, other
    /// systems and builds without the feature get [`with_capacity`](Ring::with_capacity).
    ///
    /// # Errors
    ///
    /// As [`with_capacity`](Ring::with_capacity).
    pub fn with_capacity_huge(bytes: usize) -> Result<Self, CapacityError> {
        check_capacity(bytes)?;
        if bytes < HUGE_PAGE_MIN || cfg!(lethe_loom) {
            return Self::with_capacity(bytes);
        }
        // Room for the ring, or the whole huge page under a smaller one, wherever the
        // allocator puts the block.
        let span = bytes.max(HUGE_PAGE);
        let slots = (span + HUGE_PAGE) / 8;
        let layout =
            core::alloc::Layout::array::<Slot>(slots).map_err(|_| CapacityError { bytes })?;
        // SAFETY: `layout` has a non-zero size (at least 2 MiB).
        let block = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if block.is_null() {
            alloc::alloc::handle_alloc_error(layout);
        }
        // SAFETY: `block` was allocated by the global allocator with the layout of a
        // `[Slot; slots]` (so the box frees it with that same layout), and zeroed bytes
        // are a valid `Slot` (an `UnsafeCell<[u8; 8]>`).
        let storage: alloc::boxed::Box<[Slot]> = unsafe {
            alloc::boxed::Box::from_raw(ptr::slice_from_raw_parts_mut(block.cast::<Slot>(), slots))
        };
        // The block is at least 8-aligned, so the offset is a whole number of slots, and
        // the block is `HUGE_PAGE` longer than `span`, so the span fits after it.
        let offset = block.align_offset(HUGE_PAGE);
        debug_assert!(offset + span <= slots * 8 && offset.is_multiple_of(8));
        advise_huge(block.wrapping_add(offset), span);
        Self::from_parts(storage, offset / 8, bytes)
    }
}

/// Rings of at least this many bytes are placed for huge pages by
/// [`Ring::with_capacity_huge`] (1 MiB).
#[cfg(feature = "alloc")]
pub const HUGE_PAGE_MIN: usize = 1 << 20;

/// A transparent huge page on x86_64 and aarch64 with 4 KiB pages.
#[cfg(feature = "alloc")]
const HUGE_PAGE: usize = 2 << 20;

/// Asks the kernel to back `[start, start + len)` with transparent huge pages. A hint: a
/// kernel without them, or that has them disabled, leaves the range as it is.
#[cfg(feature = "alloc")]
fn advise_huge(start: *mut u8, len: usize) {
    #[cfg(all(
        feature = "huge-pages",
        any(target_os = "linux", target_os = "android")
    ))]
    {
        // SAFETY: the range lies inside one live allocation that nothing else uses yet.
        // MADV_HUGEPAGE changes neither the contents nor the protection of the range,
        // only how the kernel backs it, so no reference into it can observe a change.
        let advised =
            unsafe { rustix::mm::madvise(start.cast(), len, rustix::mm::Advice::LinuxHugepage) };
        // EINVAL without transparent huge page support: the ring keeps 4 KiB pages.
        let _ = advised;
    }
    #[cfg(not(all(
        feature = "huge-pages",
        any(target_os = "linux", target_os = "android")
    )))]
    let _ = (start, len);
}

fn check_capacity(bytes: usize) -> Result<(), CapacityError> {
    if bytes.is_power_of_two() && (MIN_CAPACITY..=MAX_CAPACITY).contains(&bytes) {
        Ok(())
    } else {
        Err(CapacityError { bytes })
    }
}

impl<S: Storage> Ring<S> {
    fn from_storage(storage: S) -> Result<Self, CapacityError> {
        let n = storage.slots().len();
        let bytes = n
            .checked_mul(8)
            .ok_or(CapacityError { bytes: usize::MAX })?;
        Self::from_parts(storage, 0, bytes)
    }

    /// A ring over `bytes` bytes of `storage`, starting at slot `base`.
    fn from_parts(storage: S, base: usize, bytes: usize) -> Result<Self, CapacityError> {
        check_capacity(bytes)?;
        let n = bytes / 8;
        assert!(
            base.checked_add(n)
                .is_some_and(|end| end <= storage.slots().len()),
            "the ring's slots lie inside its storage"
        );
        Ok(Ring {
            tail: CachePadded(AtomicUsize::new(0)),
            head: CachePadded(AtomicUsize::new(0)),
            head_cache: CachePadded(AtomicUsize::new(0)),
            dropped: AtomicUsize::new(0),
            consumer_taken: AtomicBool::new(false),
            mask: bytes - 1,
            base,
            #[cfg(lethe_loom)]
            model: loom_model::Model::new(n),
            storage,
        })
    }

    /// Touches every 4 KiB page of the buffer for writing, so that the operating system
    /// maps it now rather than on the producers' first pass (a freshly allocated buffer is
    /// usually untouched zero pages, and the first write into each page then takes a page
    /// fault of a microsecond or more). The contents do not change: each touched byte is
    /// read and written back. Takes `&mut self`, so no producer or consumer is active.
    pub fn prefault(&mut self) {
        let cap = self.capacity();
        let mut idx = 0;
        while idx < cap {
            let p = self.byte_ptr(idx);
            // SAFETY: `idx < capacity`, so `p` points into the buffer; `&mut self` means no
            // other thread accesses the ring, so this plain read and write of one byte
            // (volatile, so neither is elided) races with nothing and stores the value read.
            unsafe { p.write_volatile(p.read_volatile()) };
            idx += 4096;
        }
    }

    /// Capacity in bytes (headers and padding included).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The largest payload a single record may have: half the capacity minus one header.
    ///
    /// Records are contiguous, so a record that does not fit before the physical end of the
    /// buffer needs padding in front of it. Capping frames at half the capacity guarantees
    /// that an *empty* ring accepts any record up to this length wherever its positions
    /// stand, so [`WriteError::Full`] always means "wait for the consumer", never "this
    /// record can only be written at some other position".
    #[inline]
    pub fn max_record_len(&self) -> usize {
        self.capacity() / 2 - HEADER_LEN
    }

    /// Bytes claimed and not yet consumed (headers and padding included).
    ///
    /// A snapshot: producers and the consumer may change it at any moment.
    #[inline]
    pub fn used(&self) -> usize {
        let head = self.head.0.load(Ordering::Relaxed);
        let tail = self.tail.0.load(Ordering::Relaxed) & !SEALED;
        tail.wrapping_sub(head).min(self.capacity())
    }

    /// [`used`](Ring::used), counted from the consumer's current `head`, which this also
    /// publishes to the producers' cached copy of it.
    ///
    /// A producer's claim counts its fill ([`Ring::try_write_fill`], [`WriteGrant::fill`])
    /// from that cached copy, which otherwise moves only when a claim does not fit, so it
    /// can lag the consumer by up to the whole ring. A producer that finds its fill high
    /// and calls this pays one read of the line the consumer writes, and its later claims
    /// count from the fresh value: it reads that line again only once the ring has filled
    /// by as much again, not after every batch the consumer releases.
    #[inline]
    pub fn refresh_used(&self) -> usize {
        let head = self.refresh_head();
        let tail = self.tail.0.load(Ordering::Relaxed) & !SEALED;
        tail.wrapping_sub(head).min(self.capacity())
    }

    /// Is nothing claimed and unconsumed? A snapshot, like [`Ring::used`].
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.used() == 0
    }

    /// Total bytes ever claimed (the `tail` position), wrapping at `usize::MAX`.
    #[inline]
    pub fn claimed_position(&self) -> usize {
        self.tail.0.load(Ordering::Relaxed) & !SEALED
    }

    /// Seals the ring: every claim that has not happened yet fails with
    /// [`WriteError::Sealed`], while producers that already claimed space still commit
    /// into it. Returns the final claimed position; the consumer has read everything once
    /// its position reaches it ([`Consumer::is_finished`]). Sealing twice is harmless.
    ///
    /// This is how a writer replaces a ring by a larger one without losing or reordering
    /// records: publish the new ring, seal the old one, drain the old one completely, then
    /// read the new one. A producer that gets `Sealed` moves to the new ring, and its
    /// records there come after all of its records in the old one. A refused producer
    /// sees everything the sealing thread did before `seal` (the refusal synchronizes
    /// with it), so it always finds the new ring.
    ///
    /// ```
    /// use lethe_core::ring::{Ring, WriteError};
    ///
    /// let ring = Ring::with_capacity(64).unwrap();
    /// ring.try_write(b"before").unwrap();
    /// ring.seal();
    /// assert_eq!(ring.try_write(b"after"), Err(WriteError::Sealed));
    /// let mut consumer = ring.consumer().unwrap();
    /// assert!(!consumer.is_finished());
    /// consumer.read().unwrap().release();
    /// assert!(consumer.is_finished());
    /// ```
    pub fn seal(&self) -> usize {
        // AcqRel: ordered after every successful claim in `tail`'s modification order, and
        // a claim that loads the sealed value cannot succeed (its CAS expects a clear bit).
        self.tail.0.fetch_or(SEALED, Ordering::AcqRel) & !SEALED
    }

    /// Has [`seal`](Ring::seal) been called?
    #[inline]
    pub fn is_sealed(&self) -> bool {
        self.tail.0.load(Ordering::Acquire) & SEALED != 0
    }

    /// Total bytes ever consumed (the `head` position), wrapping at `usize::MAX`.
    #[inline]
    pub fn consumed_position(&self) -> usize {
        self.head.0.load(Ordering::Relaxed)
    }

    /// Records counted as dropped: by [`Ring::write_or_drop`] (a full or sealed ring, or a
    /// record too large) and by callers through [`Ring::add_dropped`].
    #[inline]
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Adds `n` to the dropped-record counter, for callers that drop records under their
    /// own policy.
    #[inline]
    pub fn add_dropped(&self, n: usize) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Writes `data` as one record.
    ///
    /// # Errors
    ///
    /// [`WriteError::Full`] if there is no room now; [`WriteError::TooLarge`] if `data` is
    /// longer than [`Ring::max_record_len`]; [`WriteError::Sealed`] after [`Ring::seal`].
    /// No record is written in any case (with `Full`, a claim that found the space before
    /// the end of the buffer too short may have turned it into padding first, which the
    /// consumer skips: the next claim starts at the buffer's start).
    #[inline]
    pub fn try_write(&self, data: &[u8]) -> Result<(), WriteError> {
        self.try_write_fill(data).map(|_| ())
    }

    /// [`try_write`](Ring::try_write), returning how many bytes of the ring were in use
    /// right after this record's claim, as the claim saw them: an upper bound (the
    /// consumer may have freed more meanwhile) that costs no extra memory access. A
    /// producer can use it to decide whether to wake a sleeping consumer without reading
    /// any line the consumer writes.
    ///
    /// # Errors
    ///
    /// As [`Ring::try_write`].
    #[inline]
    pub fn try_write_fill(&self, data: &[u8]) -> Result<usize, WriteError> {
        let claim = self.claim(data.len())?;
        // SAFETY: `claim` gives this producer exclusive ownership of the frame at
        // `claim.idx` (header + `data.len()` payload bytes, within the buffer) until it
        // commits below.
        unsafe {
            self.copy_in(claim.idx + HEADER_LEN, data);
            self.publish(claim.idx, claim.frame, KIND_DATA, data.len());
        }
        self.prefetch_next(claim.idx + claim.frame);
        Ok(claim.used)
    }

    /// Asks the CPU to fetch, for reading, the cache line at `idx` (wrapped), which the
    /// consumer's scan will reach soon. A hint: it never faults and changes no memory.
    #[inline]
    fn prefetch_read(&self, idx: usize) {
        #[cfg(all(target_arch = "x86_64", not(lethe_loom)))]
        {
            let p = self
                .byte_ptr(idx & (self.capacity() - 1))
                .cast::<i8>()
                .cast_const();
            // SAFETY: as in `prefetch_next`: SSE is baseline on x86_64, and a prefetch is a
            // hint that never faults and accesses no memory.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p);
            }
        }
        #[cfg(not(all(target_arch = "x86_64", not(lethe_loom))))]
        let _ = idx;
    }

    /// Asks the CPU to fetch, for writing, the cache lines the next record will probably
    /// use, so that a producer following the consumer around the ring does not stall on
    /// lines last written by the consumer's core. A hint: it never faults and changes no
    /// memory.
    #[inline]
    fn prefetch_next(&self, idx: usize) {
        #[cfg(all(target_arch = "x86_64", not(lethe_loom)))]
        {
            let cap = self.capacity();
            for line in [128usize, 192, 256, 320] {
                let at = (idx + line) & (cap - 1);
                let p = self.byte_ptr(at).cast::<i8>().cast_const();
                // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has (it is in the
                // target's baseline). A prefetch is a hint: it never faults, whatever the
                // address, and reads or writes no memory, so it cannot race with anything.
                unsafe {
                    core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_ET0 }>(p);
                }
            }
        }
        #[cfg(not(all(target_arch = "x86_64", not(lethe_loom))))]
        let _ = idx;
    }

    /// Writes `data` as one record, or counts it as dropped if the ring is full or sealed
    /// or the record too large. Returns whether it was written.
    #[inline]
    pub fn write_or_drop(&self, data: &[u8]) -> bool {
        match self.try_write(data) {
            Ok(()) => true,
            Err(_) => {
                self.add_dropped(1);
                false
            }
        }
    }

    /// Reserves room for a record of up to `len` bytes, to be written in place and then
    /// committed with [`WriteGrant::commit`] (possibly shorter than `len`).
    ///
    /// Dropping the grant without committing it turns it into padding the consumer skips.
    ///
    /// # Errors
    ///
    /// As [`Ring::try_write`].
    ///
    /// # Examples
    ///
    /// ```
    /// use core::fmt::Write as _;
    /// use lethe_core::ring::StaticRing;
    ///
    /// static RING: StaticRing<64> = StaticRing::new();
    /// let mut grant = RING.reserve(64).unwrap();
    /// write!(grant, "level={} msg={}", "info", "started").unwrap();
    /// grant.commit_written();
    ///
    /// let mut consumer = RING.consumer().unwrap();
    /// let batch = consumer.read().unwrap();
    /// assert_eq!(batch.records().next(), Some(&b"level=info msg=started"[..]));
    /// ```
    #[inline]
    pub fn reserve(&self, len: usize) -> Result<WriteGrant<'_, S>, WriteError> {
        let claim = self.claim(len)?;
        Ok(WriteGrant {
            ring: self,
            idx: claim.idx,
            frame: claim.frame,
            end: claim.end,
            len,
            written: 0,
            dirty: 0,
            fill: claim.used,
        })
    }

    /// Takes the consumer role. Returns `None` while another [`Consumer`] exists.
    pub fn consumer(&self) -> Option<Consumer<'_, S>> {
        // Acquire pairs with the Release in `Consumer::drop`: the previous consumer's
        // zeroing and head store happen-before anything this consumer does.
        if self
            .consumer_taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        Some(Consumer {
            ring: self,
            head: self.head.0.load(Ordering::Relaxed),
        })
    }

    /// Claims a frame for a `len`-byte payload: one CAS on `tail`, which may also claim the
    /// rest of the buffer as padding so that the frame is contiguous.
    #[inline]
    fn claim(&self, len: usize) -> Result<Claim, WriteError> {
        let cap = self.capacity();
        let max = self.max_record_len();
        let frame = match align_up(len) {
            Some(p) if len <= max => p + HEADER_LEN,
            _ => return Err(WriteError::TooLarge { len, max }),
        };
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        // Start from the producers' cached copy of `head`, so an uncontended claim does not
        // touch the cache line the consumer writes on every release. Acquire pairs with the
        // Release store in `refresh_head`, which carries the consumer's zeroing along.
        let mut head = self.head_cache.0.load(Ordering::Acquire);
        let mut fresh = false;
        loop {
            if tail & SEALED != 0 {
                // Acquire: `tail` never changes after the seal, so this load reads the
                // sealing RMW and synchronizes with it. Whatever the sealer did before
                // `seal` (publishing a new ring) is visible to the refused producer.
                let _ = self.tail.0.load(Ordering::Acquire);
                return Err(WriteError::Sealed);
            }
            let used = tail.wrapping_sub(head);
            if used > cap {
                if !fresh {
                    head = self.refresh_head();
                    fresh = true;
                    continue;
                }
                // `tail` is stale (the consumer passed it); reload and retry.
                tail = self.tail.0.load(Ordering::Relaxed);
                head = self.refresh_head();
                crate::sync::spin_loop();
                continue;
            }
            let free = cap - used;
            let idx = tail & self.mask;
            let to_end = cap - idx;
            let (claim, pad) = if frame <= to_end {
                (frame, 0)
            } else {
                (to_end + frame, to_end)
            };
            if claim > free && !fresh {
                // The cached head may be behind: look at the real one before giving up.
                head = self.refresh_head();
                fresh = true;
                continue;
            }
            if claim > free {
                if pad == 0 || pad > free {
                    return Err(WriteError::Full {
                        needed: claim,
                        free,
                    });
                }
                // The record cannot wrap now, but the padding to the end fits: claim the
                // padding alone, so the record can start at index 0 once the consumer has
                // caught up. Without this, a record larger than the space before the end
                // could never be written into an empty ring whose head sits mid-buffer.
                match self.tail.0.compare_exchange(
                    tail,
                    tail.wrapping_add(pad),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS gave us [idx, cap) exclusively; it is committed
                        // as one padding frame and never touched again by this producer.
                        unsafe { self.publish(idx, pad, KIND_PAD, 0) };
                        tail = tail.wrapping_add(pad);
                    }
                    Err(actual) => tail = actual,
                }
                continue;
            }
            // AcqRel on success: Acquire sees the zeroes a producer wrote before returning
            // space with `WriteGrant::commit` (its Release CAS); Release is its mirror.
            match self.tail.0.compare_exchange(
                tail,
                tail.wrapping_add(claim),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if pad != 0 {
                        // SAFETY: the CAS gave us [idx, cap) as well as [0, frame).
                        unsafe { self.publish(idx, pad, KIND_PAD, 0) };
                    }
                    let rec_idx = if pad != 0 { 0 } else { idx };
                    debug_assert!(rec_idx + frame <= cap);
                    return Ok(Claim {
                        idx: rec_idx,
                        frame,
                        end: tail.wrapping_add(claim),
                        used: used + claim,
                    });
                }
                Err(actual) => {
                    tail = actual;
                    crate::sync::spin_loop();
                }
            }
        }
    }

    /// Loads the consumer's `head` and publishes it to the other producers' cache.
    #[inline]
    fn refresh_head(&self) -> usize {
        // Acquire: the consumer zeroed the bytes below `head` before publishing it, and
        // this producer is about to reuse them.
        let head = self.head.0.load(Ordering::Acquire);
        // Release: a producer that Acquires this cached value sees the zeroing too. The
        // cache may briefly go backwards when two producers race here; any value is at
        // most the real head, which only makes a claim check the real head again.
        self.head_cache.0.store(head, Ordering::Release);
        head
    }

    /// Pointer to byte `idx` of the buffer.
    #[inline]
    fn byte_ptr(&self, idx: usize) -> *mut u8 {
        debug_assert!(idx <= self.capacity());
        // `Slot` is `repr(C)` around `UnsafeCell<[u8; 8]>` with no padding, so the slots
        // form one contiguous, interior-mutable byte array; the ring's `capacity` bytes of
        // it start at slot `base` (checked to lie inside the storage at construction).
        self.storage
            .slots()
            .as_ptr()
            .wrapping_add(self.base)
            .cast::<u8>()
            .cast_mut()
            .wrapping_add(idx)
    }

    /// The header state word at `idx` (a multiple of 8).
    #[cfg(not(lethe_loom))]
    #[inline]
    fn state(&self, idx: usize) -> &AtomicU32 {
        debug_assert!(idx.is_multiple_of(ALIGN) && idx < self.capacity());
        // SAFETY: `idx` is 8-aligned and inside the buffer, so the pointer is valid and
        // aligned for `u32` for the lifetime of `&self`. Header words are only ever
        // accessed atomically while other threads may access them; the only non-atomic
        // accesses (zeroing in the consumer's `release`) happen while the consumer owns the
        // frame, ordered by Release/Acquire on `head` and the state word itself.
        unsafe { AtomicU32::from_ptr(self.byte_ptr(idx).cast::<u32>()) }
    }

    #[cfg(lethe_loom)]
    #[inline]
    fn state(&self, idx: usize) -> &AtomicU32 {
        &self.model.headers[idx / 8]
    }

    /// Copies `data` into the buffer at `idx`.
    ///
    /// # Safety
    ///
    /// The caller owns `[idx, idx + data.len())` exclusively (a claimed, uncommitted frame).
    #[inline]
    unsafe fn copy_in(&self, idx: usize, data: &[u8]) {
        debug_assert!(idx + data.len() <= self.capacity());
        #[cfg(lethe_loom)]
        self.model.touch_mut(idx, data.len());
        // SAFETY: in bounds (claim checked it) and exclusively ours per the contract; `data`
        // is a different allocation or a different region, so they do not overlap.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), self.byte_ptr(idx), data.len()) };
    }

    /// Commits the frame at `idx`: writes the payload length, then publishes the state word
    /// with Release so the consumer's Acquire load sees the payload.
    ///
    /// # Safety
    ///
    /// The caller owns the frame `[idx, idx + frame)` and has finished writing its payload.
    #[inline]
    unsafe fn publish(&self, idx: usize, frame: usize, kind: u32, len: usize) {
        debug_assert!(
            frame.is_multiple_of(ALIGN) && frame >= HEADER_LEN && idx + frame <= self.capacity()
        );
        debug_assert!(len + HEADER_LEN <= frame);
        if kind == KIND_DATA {
            #[cfg(lethe_loom)]
            self.model.touch_mut(idx + 4, 4);
            // SAFETY: the len word is inside our frame (4-aligned, in bounds) and nobody
            // else reads it before the Release store below.
            unsafe { self.byte_ptr(idx + 4).cast::<u32>().write(len as u32) };
        }
        // Release: everything written into the frame happens-before the consumer's
        // Acquire load that observes this value.
        self.state(idx)
            .store(frame as u32 | kind, Ordering::Release);
    }

    /// Zeroes `[from, to)` so every header position in it reads 0 until committed again.
    ///
    /// # Safety
    ///
    /// The caller (the consumer, or a producer returning the unused end of its frame) owns
    /// the range exclusively.
    #[inline]
    unsafe fn zero(&self, from: usize, to: usize) {
        debug_assert!(from <= to && to <= self.capacity() && from.is_multiple_of(ALIGN));
        #[cfg(lethe_loom)]
        self.model.zero(from, to);
        // SAFETY: in bounds and exclusively owned per the contract.
        unsafe { ptr::write_bytes(self.byte_ptr(from), 0, to - from) };
    }
}

/// A claimed, uncommitted frame.
struct Claim {
    /// Buffer index of the frame's header.
    idx: usize,
    /// Frame length in bytes: header + payload rounded up to [`ALIGN`].
    frame: usize,
    /// The `tail` position just past this claim (used to return unused space).
    end: usize,
    /// Bytes in use once this claim is counted, as the claim saw them (an upper bound:
    /// the producers' cached `head` may be behind the consumer's).
    used: usize,
}

/// Room for one record, claimed in the ring and written in place.
///
/// Write through [`as_mut_slice`](WriteGrant::as_mut_slice), [`push`](WriteGrant::push) or
/// [`core::fmt::Write`], then [`commit`](WriteGrant::commit) or
/// [`commit_written`](WriteGrant::commit_written). Dropping an uncommitted grant (for
/// example while a panic unwinds) turns it into padding: nothing is published and the
/// consumer is never blocked by it.
#[must_use = "a grant that is not committed is discarded"]
pub struct WriteGrant<'a, S: Storage> {
    ring: &'a Ring<S>,
    /// Buffer index of the frame header.
    idx: usize,
    /// Frame length claimed.
    frame: usize,
    /// The `tail` position just past the frame.
    end: usize,
    /// Payload capacity requested.
    len: usize,
    /// Bytes appended through `push`/`fmt::Write`.
    written: usize,
    /// Upper bound of payload bytes possibly made non-zero (for returning space).
    dirty: usize,
    /// Bytes in use once this claim was counted, as the claim saw them.
    fill: usize,
}

impl<S: Storage> fmt::Debug for WriteGrant<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteGrant")
            .field("len", &self.len)
            .field("written", &self.written)
            .finish()
    }
}

/// The error from [`WriteGrant::push`] when the grant has no room left.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GrantFull {
    /// Bytes the push needed.
    pub needed: usize,
    /// Bytes left in the grant.
    pub remaining: usize,
}

impl fmt::Display for GrantFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reservation full: {} bytes do not fit in the {} bytes left",
            self.needed, self.remaining
        )
    }
}

impl core::error::Error for GrantFull {}

impl<'a, S: Storage> WriteGrant<'a, S> {
    /// The reserved payload length.
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// Bytes appended so far with [`push`](WriteGrant::push) or `fmt::Write`.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Bytes in use in the ring right after this grant's claim, as the claim saw them:
    /// the same upper bound [`Ring::try_write_fill`] returns, at no extra memory access,
    /// so a producer can decide whether to wake a sleeping consumer without reading a
    /// line the consumer writes.
    pub fn fill(&self) -> usize {
        self.fill
    }

    /// The whole reserved payload, to write at will. Bytes not yet written are zero.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.dirty = self.len;
        #[cfg(lethe_loom)]
        self.ring.model.touch_mut(self.idx + HEADER_LEN, self.len);
        // SAFETY: the grant owns the claimed frame exclusively until commit or drop; the
        // payload is `len` initialized bytes right after the header; the returned borrow is
        // tied to `&mut self`, so it cannot outlive the grant or alias another access.
        unsafe {
            core::slice::from_raw_parts_mut(self.ring.byte_ptr(self.idx + HEADER_LEN), self.len)
        }
    }

    /// Appends `bytes` after what was already appended.
    ///
    /// # Errors
    ///
    /// [`GrantFull`] if they do not fit; nothing is appended then.
    #[inline]
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), GrantFull> {
        let remaining = self.len - self.written;
        if bytes.len() > remaining {
            return Err(GrantFull {
                needed: bytes.len(),
                remaining,
            });
        }
        // SAFETY: the grant owns its frame; `written + bytes.len() <= len` keeps the copy
        // inside the payload.
        unsafe {
            self.ring
                .copy_in(self.idx + HEADER_LEN + self.written, bytes)
        };
        self.written += bytes.len();
        self.dirty = self.dirty.max(self.written);
        Ok(())
    }

    /// Commits the bytes appended with [`push`](WriteGrant::push) / `fmt::Write`.
    #[inline]
    pub fn commit_written(self) {
        let n = self.written;
        self.commit(n);
    }

    /// Commits the first `len` payload bytes as one record (`len` is clamped to the
    /// reserved length).
    ///
    /// If this producer is still the last claimant, the unused end of the frame is given
    /// back to the ring.
    #[inline]
    pub fn commit(self, len: usize) {
        let this = core::mem::ManuallyDrop::new(self);
        let len = len.min(this.len);
        let needed = HEADER_LEN + align_up(len).unwrap_or(this.frame);
        let frame = if this.give_back(needed) {
            needed
        } else {
            this.frame
        };
        // SAFETY: the grant owns the frame [idx, idx + frame) and its payload is written.
        unsafe { this.ring.publish(this.idx, frame, KIND_DATA, len) };
    }

    /// Tries to return `[idx + keep, idx + frame)` to the ring. Succeeds only while this
    /// grant is the last claim (`tail` is still our end position).
    fn give_back(&self, keep: usize) -> bool {
        debug_assert!(keep.is_multiple_of(ALIGN) && keep <= self.frame);
        if keep == self.frame || self.ring.tail.0.load(Ordering::Relaxed) != self.end {
            return false;
        }
        // Every header position in the returned range must read 0 for the next claimant:
        // zero what this grant may have dirtied there, before the Release CAS below that
        // the next claimant's AcqRel CAS acquires.
        // The frame's header word is never dirtied (a grant writes only its payload; the
        // header is stored at publish) and is the one word the consumer may be reading
        // (atomically) while it waits for this frame: never zeroed here, even when the
        // whole frame is given back (`keep == 0`).
        let dirty_end = align_up(HEADER_LEN + self.dirty).map_or(self.frame, |d| d.min(self.frame));
        let from = keep.max(HEADER_LEN);
        if dirty_end > from {
            // SAFETY: [idx + from, idx + dirty_end) lies inside this grant's own payload,
            // which only this grant accesses until it publishes or gives it back.
            unsafe { self.ring.zero(self.idx + from, self.idx + dirty_end) };
        }
        self.ring
            .tail
            .0
            .compare_exchange(
                self.end,
                self.end.wrapping_sub(self.frame - keep),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok()
    }
}

impl<S: Storage> Drop for WriteGrant<'_, S> {
    /// Abandons the reservation: gives the space back if possible, otherwise commits it as
    /// padding so the consumer skips it.
    fn drop(&mut self) {
        if !self.give_back(0) {
            // SAFETY: the grant owns its frame; a padding frame has no payload to publish.
            unsafe { self.ring.publish(self.idx, self.frame, KIND_PAD, 0) };
        }
    }
}

impl<S: Storage> fmt::Write for WriteGrant<'_, S> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes()).map_err(|_| fmt::Error)
    }

    /// One character: `core::fmt` writes padding (`{:>8}`, `{:08}`) one `write_char` at a
    /// time, so an ASCII character is stored directly rather than through a `write_str`
    /// of a one-byte string (a call to `memcpy` per character).
    #[inline]
    fn write_char(&mut self, c: char) -> fmt::Result {
        if c.is_ascii() {
            self.push(&[c as u8]).map_err(|_| fmt::Error)
        } else {
            self.write_str(c.encode_utf8(&mut [0; 4]))
        }
    }
}

/// The single consumer of a [`Ring`]. Obtained with [`Ring::consumer`].
pub struct Consumer<'a, S: Storage> {
    ring: &'a Ring<S>,
    /// Private copy of `ring.head` (only the consumer writes it).
    head: usize,
}

impl<S: Storage> fmt::Debug for Consumer<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("head", &self.head)
            .finish()
    }
}

impl<'a, S: Storage> Consumer<'a, S> {
    /// The ring this consumer reads.
    pub fn ring(&self) -> &'a Ring<S> {
        self.ring
    }

    /// Is the ring sealed and everything claimed in it read and released? Then no record
    /// can ever appear in it again.
    #[inline]
    pub fn is_finished(&self) -> bool {
        // Acquire: pairs with `seal`'s AcqRel; after it, `tail` never changes again.
        let tail = self.ring.tail.0.load(Ordering::Acquire);
        tail & SEALED != 0 && tail & !SEALED == self.head
    }

    /// Is a committed frame waiting at the head? Cheap: one Acquire load.
    #[inline]
    pub fn has_committed(&self) -> bool {
        self.ring
            .state(self.head & self.ring.mask)
            .load(Ordering::Acquire)
            != 0
    }

    /// The committed records from the head up to the first uncommitted frame or the
    /// physical end of the buffer, whichever comes first. `None` if there are none.
    #[inline]
    pub fn read(&mut self) -> Option<ReadGrant<'_, S>> {
        self.read_up_to(usize::MAX, usize::MAX)
    }

    /// Like [`read`](Consumer::read), but stops after `max_records` records or before the
    /// payload total would exceed `max_bytes` (a batch always holds at least one record).
    ///
    /// A batch ends at the physical end of the buffer, so draining a ring whose records
    /// wrap takes two batches; [`read_wrapping_up_to`](Consumer::read_wrapping_up_to)
    /// takes one.
    pub fn read_up_to(&mut self, max_records: usize, max_bytes: usize) -> Option<ReadGrant<'_, S>> {
        self.scan(max_records, max_bytes, false)
    }

    /// Like [`read_up_to`](Consumer::read_up_to), but a batch that reaches the physical end
    /// of the buffer with room left under the limits goes on from index 0, up to the first
    /// uncommitted frame, the limits, or the batch's own start (a full ring). The batch is
    /// then two spans of the buffer; [`ReadGrant::records`] yields both in commit order,
    /// and [`release`](ReadGrant::release) / [`release_records`](ReadGrant::release_records)
    /// free them as one.
    ///
    /// For a consumer that pays per batch (one `write` or `io_uring_enter` each): draining
    /// everything committed takes one batch, wherever the head sits.
    ///
    /// ```
    /// use lethe_core::ring::Ring;
    /// let ring = Ring::with_capacity(64).unwrap();
    /// let mut consumer = ring.consumer().unwrap();
    /// ring.try_write(b"0123456789abcdef").unwrap(); // a 24-byte frame at [0, 24)
    /// consumer.read().unwrap().release();
    /// ring.try_write(b"first").unwrap(); // [24, 40)
    /// ring.try_write(b"second").unwrap(); // [40, 56)
    /// ring.try_write(b"third").unwrap(); // padding at [56, 64), then [0, 16)
    /// let batch = consumer.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    /// let records: Vec<&[u8]> = batch.records().collect();
    /// assert_eq!(records, [&b"first"[..], b"second", b"third"]);
    /// batch.release();
    /// assert!(ring.is_empty());
    /// ```
    pub fn read_wrapping_up_to(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Option<ReadGrant<'_, S>> {
        self.scan(max_records, max_bytes, true)
    }

    /// The committed frames from the head, within the limits; with `wrap`, on past the
    /// physical end from index 0.
    #[inline]
    fn scan(
        &mut self,
        max_records: usize,
        max_bytes: usize,
        wrap: bool,
    ) -> Option<ReadGrant<'_, S>> {
        let ring = self.ring;
        let cap = ring.capacity();
        if max_records == 0 {
            return None;
        }
        loop {
            let start = self.head & ring.mask;
            let mut idx = start;
            let mut records = 0usize;
            let mut bytes = 0usize;
            // Did the batch stop at a frame not committed yet (rather than at a limit, the
            // physical end, or a full ring)?
            let mut at_frontier = false;
            while idx < cap {
                ring.prefetch_read(idx + 1024);
                // Acquire pairs with the producer's Release in `publish`: the payload and
                // the len word are visible once the state is.
                let state = ring.state(idx).load(Ordering::Acquire);
                if state == 0 {
                    at_frontier = true;
                    break;
                }
                let frame = (state & !KIND_MASK) as usize;
                debug_assert!(frame >= HEADER_LEN && idx + frame <= cap);
                if state & KIND_MASK == KIND_DATA {
                    // SAFETY: the frame is committed, so its len word is written and owned
                    // by the consumer until release.
                    let len = unsafe { ring.read_len(idx) };
                    if records == max_records || (records > 0 && bytes + len > max_bytes) {
                        break;
                    }
                    records += 1;
                    bytes += len;
                }
                idx += frame;
            }
            // The second span, [0, wrap_end): only if the first reached the physical end
            // with room left. It stops at `start` at the latest: `tail - head <= capacity`,
            // so the frames in [0, start) are the ones claimed after those in [start, cap),
            // and the frame at `start` is this batch's own first one.
            let mut wrap_end = 0usize;
            if wrap && idx == cap && records < max_records {
                while wrap_end < start {
                    ring.prefetch_read(wrap_end + 1024);
                    // Acquire: as above.
                    let state = ring.state(wrap_end).load(Ordering::Acquire);
                    if state == 0 {
                        at_frontier = true;
                        break;
                    }
                    let frame = (state & !KIND_MASK) as usize;
                    debug_assert!(frame >= HEADER_LEN && wrap_end + frame <= start);
                    if state & KIND_MASK == KIND_DATA {
                        // SAFETY: as above.
                        let len = unsafe { ring.read_len(wrap_end) };
                        if records == max_records || (records > 0 && bytes + len > max_bytes) {
                            break;
                        }
                        records += 1;
                        bytes += len;
                    }
                    wrap_end += frame;
                }
            }
            if idx == start {
                return None;
            }
            let span = Span {
                start,
                end: idx,
                wrap_end,
            };
            if records == 0 {
                // Only padding: consume it and look again from the new head.
                release(ring, &mut self.head, span);
                continue;
            }
            return Some(ReadGrant {
                ring,
                head: &mut self.head,
                span,
                records,
                bytes,
                at_frontier,
            });
        }
    }
}

/// The buffer indices of a batch's frames: `[start, end)`, then `[0, wrap_end)` when
/// `wrap_end > 0` (and then `end` is the capacity).
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
    wrap_end: usize,
}

/// Zeroes the consumed frames of `span` (which starts at the head) and publishes `head`
/// past them.
fn release<S: Storage>(ring: &Ring<S>, head: &mut usize, span: Span) {
    debug_assert_eq!(*head & ring.mask, span.start);
    debug_assert!(span.wrap_end == 0 || span.end == ring.capacity());
    debug_assert!(span.wrap_end <= span.start);
    // SAFETY: the caller (a consumer) owns the committed frames of the span, [start, end)
    // and [0, wrap_end): producers cannot claim them until `head` moves past them below
    // (the second range lies behind the first in position order, and `wrap_end <= start`
    // keeps it from overlapping the first).
    unsafe {
        ring.zero(span.start, span.end);
        ring.zero(0, span.wrap_end);
    }
    *head = head.wrapping_add(span.end - span.start + span.wrap_end);
    // Release: the zeroing above happens-before any producer that Acquires this head and
    // reuses the space.
    ring.head.0.store(*head, Ordering::Release);
}

impl<S: Storage> Drop for Consumer<'_, S> {
    fn drop(&mut self) {
        // Release pairs with the Acquire in `Ring::consumer`.
        self.ring.consumer_taken.store(false, Ordering::Release);
    }
}

/// A batch of committed records, readable in place until released.
///
/// [`release`](ReadGrant::release) frees their space for producers. Dropping the grant
/// without releasing leaves the records in the ring, to be read again (for example after a
/// failed write).
#[must_use = "records stay in the ring until the grant is released"]
pub struct ReadGrant<'c, S: Storage> {
    ring: &'c Ring<S>,
    head: &'c mut usize,
    /// Buffer indices of the frames.
    span: Span,
    records: usize,
    bytes: usize,
    /// The read stopped at a frame not committed yet.
    at_frontier: bool,
}

impl<S: Storage> fmt::Debug for ReadGrant<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadGrant")
            .field("records", &self.records)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl<'c, S: Storage> ReadGrant<'c, S> {
    /// Number of records in the batch (at least 1).
    pub fn record_count(&self) -> usize {
        self.records
    }

    /// Sum of the records' payload lengths.
    pub fn payload_bytes(&self) -> usize {
        self.bytes
    }

    /// Did the read that made this batch stop because the next frame was not committed
    /// yet (it took everything committed at the time), rather than at its record or byte
    /// limit, at the physical end of the buffer (a non-wrapping read), or at a full ring?
    ///
    /// A consumer that pays per batch can use it to tell a caught-up read (park) from a
    /// limited one (read again at once) without looking at the head again, which would
    /// take the cache line the producers write next.
    ///
    /// ```
    /// use lethe_core::ring::Ring;
    /// let ring = Ring::with_capacity(64).unwrap();
    /// let mut consumer = ring.consumer().unwrap();
    /// ring.try_write(b"one").unwrap();
    /// ring.try_write(b"two").unwrap();
    /// let batch = consumer.read_up_to(1, usize::MAX).unwrap();
    /// assert!(!batch.reached_frontier()); // stopped at the record limit
    /// batch.release();
    /// let batch = consumer.read().unwrap();
    /// assert!(batch.reached_frontier()); // took everything committed
    /// batch.release();
    /// ```
    pub fn reached_frontier(&self) -> bool {
        self.at_frontier
    }

    /// The records, in commit-position order, as slices into the ring.
    pub fn records(&self) -> Records<'_, S> {
        Records {
            ring: self.ring,
            idx: self.span.start,
            end: self.span.end,
            wrap_end: self.span.wrap_end,
            left: self.records,
        }
    }

    /// Frees the batch's space for producers.
    pub fn release(self) {
        release(self.ring, self.head, self.span);
    }

    /// Frees the space of the first `n` records (and of any padding between them) and
    /// keeps the rest in the ring, to be read again. `n` is clamped to
    /// [`record_count`](ReadGrant::record_count); `release_records(0)` keeps everything.
    ///
    /// For a consumer whose output accepted only part of a batch (a short write).
    pub fn release_records(self, n: usize) {
        let n = n.min(self.records);
        if n == self.records {
            return self.release();
        }
        let Span {
            start,
            end,
            wrap_end,
        } = self.span;
        let mut idx = start;
        let mut wrapped = false;
        let mut left = n;
        while left > 0 {
            if idx == end && !wrapped {
                // The rest of the batch is the second span, from index 0.
                debug_assert!(wrap_end > 0);
                idx = 0;
                wrapped = true;
            }
            // The states of this batch's frames were loaded with Acquire by the read;
            // coherence makes this later load return the same committed value.
            let state = self.ring.state(idx).load(Ordering::Relaxed);
            if state & KIND_MASK == KIND_DATA {
                left -= 1;
            }
            idx += (state & !KIND_MASK) as usize;
        }
        let span = if wrapped {
            Span {
                start,
                end,
                wrap_end: idx,
            }
        } else {
            Span {
                start,
                end: idx,
                wrap_end: 0,
            }
        };
        if idx != start || wrapped {
            release(self.ring, self.head, span);
        }
    }
}

/// Iterator over the records of a [`ReadGrant`].
pub struct Records<'g, S: Storage> {
    ring: &'g Ring<S>,
    idx: usize,
    end: usize,
    /// The end of the second span, `[0, wrap_end)`, still to come; 0 if none.
    wrap_end: usize,
    left: usize,
}

impl<S: Storage> fmt::Debug for Records<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records").field("left", &self.left).finish()
    }
}

impl<'g, S: Storage> Iterator for Records<'g, S> {
    type Item = &'g [u8];

    #[inline]
    fn next(&mut self) -> Option<&'g [u8]> {
        while self.left > 0 {
            if self.idx >= self.end {
                if self.wrap_end == 0 {
                    break;
                }
                // On to the second span.
                self.idx = 0;
                self.end = core::mem::take(&mut self.wrap_end);
                continue;
            }
            // The consumer already loaded these states with Acquire; coherence makes this
            // later load return the same committed value.
            let state = self.ring.state(self.idx).load(Ordering::Relaxed);
            let frame = (state & !KIND_MASK) as usize;
            let idx = self.idx;
            self.idx += frame;
            if state & KIND_MASK == KIND_DATA {
                self.left -= 1;
                // SAFETY: the frame is committed and owned by the consumer until the grant
                // (which this iterator borrows) is released; len <= frame - HEADER_LEN.
                return Some(unsafe { self.ring.payload(idx) });
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<S: Storage> ExactSizeIterator for Records<'_, S> {}

impl<S: Storage> Ring<S> {
    /// The payload length of the committed data frame at `idx`.
    ///
    /// # Safety
    ///
    /// The frame at `idx` is a committed data frame owned by the consumer.
    #[inline]
    unsafe fn read_len(&self, idx: usize) -> usize {
        #[cfg(lethe_loom)]
        self.model.touch(idx + 4, 4);
        // SAFETY: per the contract the len word was written before the Release store the
        // caller acquired, and nobody writes it until the consumer releases the frame.
        unsafe { self.byte_ptr(idx + 4).cast::<u32>().read() as usize }
    }

    /// The payload of the committed data frame at `idx`.
    ///
    /// # Safety
    ///
    /// As [`Ring::read_len`], and the returned slice must not outlive the consumer's
    /// ownership of the frame.
    #[inline]
    unsafe fn payload(&self, idx: usize) -> &[u8] {
        // SAFETY: forwarded contract.
        let len = unsafe { self.read_len(idx) };
        #[cfg(lethe_loom)]
        self.model.touch(idx + HEADER_LEN, len);
        // SAFETY: the payload lies inside the committed frame, is initialized, and is not
        // written by anyone until the consumer releases it.
        unsafe { core::slice::from_raw_parts(self.byte_ptr(idx + HEADER_LEN), len) }
    }
}

#[cfg(lethe_loom)]
mod loom_model {
    //! Loom cannot overlay its atomics on plain memory, so under `cfg(lethe_loom)` the
    //! header words live in their own array, and every byte access is reported to a
    //! tracking cell per 8-byte slot so loom detects unordered (racy) accesses.
    use alloc::boxed::Box;
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicU32, Ordering};

    pub(super) struct Model {
        pub(super) headers: Box<[AtomicU32]>,
        cells: Box<[UnsafeCell<()>]>,
    }

    impl Model {
        pub(super) fn new(slots: usize) -> Model {
            Model {
                headers: (0..slots).map(|_| AtomicU32::new(0)).collect(),
                cells: (0..slots).map(|_| UnsafeCell::new(())).collect(),
            }
        }

        fn slots(idx: usize, len: usize) -> core::ops::Range<usize> {
            idx / 8..(idx + len).div_ceil(8)
        }

        pub(super) fn touch_mut(&self, idx: usize, len: usize) {
            for i in Self::slots(idx, len) {
                self.cells[i].with_mut(|_| ());
            }
        }

        pub(super) fn touch(&self, idx: usize, len: usize) {
            for i in Self::slots(idx, len) {
                self.cells[i].with(|_| ());
            }
        }

        pub(super) fn zero(&self, from: usize, to: usize) {
            for i in Self::slots(from, to - from) {
                self.cells[i].with_mut(|_| ());
                self.headers[i].store(0, Ordering::Relaxed);
            }
        }
    }
}
