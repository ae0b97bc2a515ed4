//! Counters of the logger and its destinations, and their snapshots
//! ([`LoggerMetrics`], [`DestinationMetrics`]).
//!
//! Hot-path counters are sharded: each thread adds to one of several cache-line-padded
//! cells, so threads logging at once do not fight over one line. Reading sums the cells.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::level::Level;
use super::sample::SamplerStats;

const SHARDS: usize = 8;

#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

/// A counter added to from many threads.
#[derive(Default)]
pub(crate) struct Counter([Padded; SHARDS]);

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn shard() -> usize {
    SHARD
        .try_with(|s| {
            let v = s.get();
            if v != usize::MAX {
                return v;
            }
            let v = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
            s.set(v);
            v
        })
        .unwrap_or(0)
}

impl Counter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0[shard()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.iter().map(|c| c.0.load(Ordering::Relaxed)).sum()
    }
}

/// The logger's own counters.
#[derive(Default)]
pub(crate) struct LoggerCounters {
    pub(crate) per_level: [Counter; 6],
    pub(crate) filtered: Counter,
    pub(crate) sampled_out: Counter,
    pub(crate) after_shutdown: Counter,
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
    /// Whether it is enabled now.
    pub enabled: bool,
    /// Records formatted and handed to its buffer (the file's ring, or the backend's
    /// queue).
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// Records its level or filter turned away (the level check is not counted when the
    /// logger's own level already rejected the record).
    pub filtered: u64,
    /// Records dropped because its buffer was full (backpressure policy) and there was
    /// no fallback.
    pub dropped: u64,
    /// Errors: failed backend writes, the file writer's reported errors, a formatter or
    /// backend that panicked.
    pub errors: u64,
    /// Records written to the fallback instead.
    pub fallback: u64,
    /// Records a failing backend could not write (and the fallback, if any, did not take).
    pub lost: u64,
    /// Records longer than the reservation, formatted again in a thread-local buffer
    /// (counted, and also in `records`).
    pub oversized: u64,
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
    /// Records logged after [`shutdown`](crate::logger::Logger::shutdown), not written.
    pub after_shutdown: u64,
    /// Every destination's counters.
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
