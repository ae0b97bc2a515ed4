//! Counters of the logger and its destinations, and their snapshots
//! ([`LoggerMetrics`], [`DestinationMetrics`]).
//!
//! Hot-path counters take no locked instruction: each thread that logs leases one of
//! [`OWNED`] cells of every counter (cache-line padded, so threads logging at once do not
//! share a line) and is the only thread that writes it, with a plain relaxed load and
//! store. A thread gives its lease back when it exits (the next thread to lease the cell
//! adds on to what it holds: the lease is handed over with release/acquire, so nothing is
//! lost); threads beyond [`OWNED`], or running their thread-local destructors, add to one
//! shared cell with an atomic read-modify-write. Reading sums the cells: a snapshot taken
//! after the threads' records are known to be done (a join, a flush, a shutdown) is exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::level::Level;
use super::sample::SamplerStats;

/// Cells a thread can own; the cell after them is the shared one.
const OWNED: usize = 31;
/// The shared cell's index.
const SHARED: usize = OWNED;

#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

/// A counter added to from many threads (see the module's documentation).
#[derive(Default)]
pub(crate) struct Counter([Padded; OWNED + 1]);

/// Bit `i` is set while a thread owns cell `i` of every counter.
static LEASED: AtomicU32 = AtomicU32::new(0);

/// A thread's lease of one cell index (or [`SHARED`] when none was free).
struct Lease(usize);

impl Lease {
    fn take() -> Lease {
        let all = (1u32 << OWNED) - 1;
        let mut current = LEASED.load(Ordering::Relaxed);
        loop {
            let free = !current & all;
            if free == 0 {
                return Lease(SHARED);
            }
            let i = free.trailing_zeros();
            // Acquire: the previous owner's last stores to cell `i` happen before ours.
            match LEASED.compare_exchange_weak(
                current,
                current | (1 << i),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Lease(i as usize),
                Err(now) => current = now,
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.0 < OWNED {
            // Release: our stores to cell `self.0` happen before the next owner's.
            LEASED.fetch_and(!(1u32 << self.0), Ordering::Release);
        }
    }
}

thread_local! {
    static LEASE: Lease = Lease::take();
}

/// This thread's cell index: its own, or [`SHARED`] (no cell free, or the thread's
/// thread-local storage is being torn down).
#[inline]
fn cell() -> usize {
    LEASE.try_with(|l| l.0).unwrap_or(SHARED)
}

impl Counter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        let i = cell();
        let c = &self.0[i].0;
        if i < OWNED {
            // Only this thread writes cell `i` (see `Lease`): no read-modify-write needed.
            c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
        } else {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |sum, c| sum.wrapping_add(c.0.load(Ordering::Relaxed)))
    }
}

/// The logger's own counters.
#[derive(Default)]
pub(crate) struct LoggerCounters {
    pub(crate) per_level: [Counter; 6],
    pub(crate) filtered: Counter,
    pub(crate) sampled_out: Counter,
    pub(crate) after_shutdown: Counter,
    pub(crate) in_forked_child: Counter,
    /// Shared with every destination (see [`LoggerMetrics::after_close`]).
    pub(crate) after_close: Arc<Counter>,
    pub(crate) panicked: Counter,
}

/// One destination's counters.
#[derive(Default)]
pub(crate) struct DestCounters {
    pub(crate) records: Counter,
    pub(crate) bytes: Counter,
    pub(crate) filtered: Counter,
    pub(crate) dropped: Counter,
    pub(crate) errors: Counter,
    pub(crate) fallback: Counter,
    pub(crate) lost: Counter,
    pub(crate) oversized: Counter,
    pub(crate) panicked: Counter,
    /// The backend's [`Backend::truncated`](super::Backend::truncated), copied by the
    /// delivery thread (its only writer) after each batch.
    pub(crate) truncated: std::sync::atomic::AtomicU64,
}

impl DestCounters {
    pub(crate) fn snapshot(&self, name: &str, enabled: bool) -> DestinationMetrics {
        DestinationMetrics {
            name: name.to_owned(),
            enabled,
            records: self.records.get(),
            bytes: self.bytes.get(),
            filtered: self.filtered.get(),
            dropped: self.dropped.get(),
            errors: self.errors.get(),
            fallback: self.fallback.get(),
            lost: self.lost.get(),
            oversized: self.oversized.get(),
            panicked: self.panicked.get(),
            truncated: self.truncated.load(std::sync::atomic::Ordering::Relaxed),
            writer: None,
        }
    }
}

/// A snapshot of one destination's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DestinationMetrics {
    /// The destination's name.
    pub name: String,
    /// Whether it is enabled now (for a destination that was shut down: when it was).
    pub enabled: bool,
    /// Records formatted and handed to its buffer (the file's ring, or the backend's
    /// queue).
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// Records its filter turned away. Records below the destination's own level are not
    /// counted anywhere (that check is one load on the per-record path, like the logger's
    /// level).
    pub filtered: u64,
    /// Records dropped because its buffer was full (backpressure policy) and there was
    /// no fallback.
    pub dropped: u64,
    /// Errors: failed backend writes, the file writer's reported errors, a filter,
    /// formatter or backend that panicked.
    pub errors: u64,
    /// Records written to the fallback instead.
    pub fallback: u64,
    /// Records a failing backend could not write (and the fallback, if any, did not take),
    /// including records whose backend panicked.
    pub lost: u64,
    /// Records longer than the reservation, formatted again in a thread-local buffer
    /// (counted, and also in `records`).
    pub oversized: u64,
    /// Records not written because its filter or formatter (or an enricher or redaction
    /// running while it formatted) panicked on the logging thread; each is also one of
    /// the `errors`. The other destinations still take the record.
    pub panicked: u64,
    /// Records its backend delivered cut short, also counted in `records`: a syslog
    /// message longer than the sender's `max_len` keeps its beginning (see
    /// [`Backend::truncated`](super::Backend::truncated)). Always 0 for a file.
    pub truncated: u64,
    /// The file writer's own counters, for a file destination.
    pub writer: Option<crate::Metrics>,
}

/// A snapshot of a logger's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggerMetrics {
    /// Records that passed the level, filters and samplers, per level (index with
    /// [`Level::index`]).
    pub records: [u64; 6],
    /// Records the logger's filters rejected.
    pub filtered: u64,
    /// Records the samplers dropped.
    pub sampled_out: u64,
    /// Records dropped because one of the logger's filters or samplers panicked (not
    /// counted in `filtered` or `sampled_out`; no destination gets them).
    pub panicked: u64,
    /// Records logged after [`shutdown`](crate::logger::Logger::shutdown), not written.
    pub after_shutdown: u64,
    /// Records logged in a `fork(2)` child of the process that built the logger, not
    /// written: the destinations' threads do not exist in the child (build a new logger
    /// there). The child's own copy counts them; its `flush` and `shutdown` return the
    /// reason.
    pub in_forked_child: u64,
    /// Records that raced with [`remove`](crate::logger::Logger::remove) or
    /// [`shutdown`](crate::logger::Logger::shutdown): logged while the destination was
    /// being closed, they reached it after it had stopped taking records, and were not
    /// written to it (counted once for each such destination; they never wait for room,
    /// and the other destinations still take them).
    pub after_close: u64,
    /// Every destination's counters: the running ones, then the ones
    /// [`shutdown`](crate::logger::Logger::shutdown) closed, with their final counters
    /// (for a file destination, the writer's once it had drained; a destination that
    /// shutdown stopped waiting for keeps adding what it still writes or loses).
    /// Destinations taken out with [`remove`](crate::logger::Logger::remove) are not
    /// listed: `remove` returns their final counters.
    pub destinations: Vec<DestinationMetrics>,
    /// Each sampler's counters, in the order they were added.
    pub samplers: Vec<SamplerStats>,
}

impl LoggerMetrics {
    /// Records at `level` that passed the logger's level, filters and samplers.
    pub fn records_at(&self, level: Level) -> u64 {
        self.records[level.index()]
    }

    /// The destination called `name`.
    pub fn destination(&self, name: &str) -> Option<&DestinationMetrics> {
        self.destinations.iter().find(|d| d.name == name)
    }

    /// Records dropped by every destination together.
    pub fn dropped(&self) -> u64 {
        self.destinations.iter().map(|d| d.dropped).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    /// More threads at once than there are owned cells (so some add to the shared
    /// cell), in three waves (so cells are given back and leased again): every addition
    /// is in the sum.
    #[test]
    fn counter_sums_exactly_across_leases() {
        let counter = Arc::new(Counter::default());
        let threads = OWNED + 17;
        let mut expected = 0u64;
        for wave in 0..3u64 {
            let barrier = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let counter = Arc::clone(&counter);
                    let barrier = Arc::clone(&barrier);
                    std::thread::spawn(move || {
                        // All threads hold their lease at once.
                        counter.add(1);
                        barrier.wait();
                        for _ in 0..1000 {
                            counter.add(wave + t);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            expected += (0..threads as u64)
                .map(|t| 1 + 1000 * (wave + t))
                .sum::<u64>();
            assert_eq!(counter.get(), expected, "after wave {wave}");
        }
    }
}
