//! Samplers: keep a share of the records that passed the filters. Each sampler counts
//! what it saw and what it kept ([`SamplerStats`]); the logger counts what samplers
//! dropped in [`LoggerMetrics::sampled_out`](crate::logger::LoggerMetrics::sampled_out).
//!
//! | sampler | keeps |
//! |---|---|
//! | [`EveryNth`] | the 1st, (n+1)th, (2n+1)th... record |
//! | [`Ratio`] | each record with probability `p`, from a seedable generator |
//! | [`RateLimit`] | up to `burst` records at once, refilled at `per_second` (GCRA) |
//! | [`FirstThen`] | per key (the message, or a field): the first `first` records of each period, then 1 in `then` |

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::record::Record;

/// What a sampler saw and kept. `dropped == seen - kept`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SamplerStats {
    /// Records the sampler was asked about.
    pub seen: u64,
    /// Records it kept.
    pub kept: u64,
    /// Records it dropped.
    pub dropped: u64,
}

/// Decides, per record, whether to keep it. Runs on the caller's thread after the
/// filters; must be cheap.
pub trait Sampler: Send + Sync {
    /// `true` to keep the record.
    fn sample(&self, record: &Record<'_>) -> bool;
    /// The counters.
    fn stats(&self) -> SamplerStats;
}

#[derive(Debug, Default)]
struct Counts {
    seen: AtomicU64,
    kept: AtomicU64,
}

impl Counts {
    fn note(&self, keep: bool) -> bool {
        self.seen.fetch_add(1, Ordering::Relaxed);
        if keep {
            self.kept.fetch_add(1, Ordering::Relaxed);
        }
        keep
    }

    fn stats(&self) -> SamplerStats {
        // `kept` first: it never exceeds `seen` as read afterwards.
        let kept = self.kept.load(Ordering::Relaxed);
        let seen = self.seen.load(Ordering::Relaxed);
        SamplerStats {
            seen,
            kept,
            dropped: seen - kept.min(seen),
        }
    }
}

/// Keeps one record in `n`: the 1st, the (n+1)th, ... `n` of 0 or 1 keeps everything.
#[derive(Debug)]
pub struct EveryNth {
    n: u64,
    next: AtomicU64,
    counts: Counts,
}

impl EveryNth {
    /// Keeps one record in `n`.
    pub fn new(n: u64) -> EveryNth {
        EveryNth {
            n: n.max(1),
            next: AtomicU64::new(0),
            counts: Counts::default(),
        }
    }
}

impl Sampler for EveryNth {
    fn sample(&self, _: &Record<'_>) -> bool {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.counts.note(i.is_multiple_of(self.n))
    }

    fn stats(&self) -> SamplerStats {
        self.counts.stats()
    }
}

/// SplitMix64: a statistically good 64-bit mix (Steele, Lea, Flood 2014).
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Keeps each record with probability `p`. The decision for the k-th record asked is
/// `splitmix64(seed + k·φ)`: lock-free, and the same sequence for the same seed (with
/// one thread; with many, which record gets which draw depends on the interleaving).
#[derive(Debug)]
pub struct Ratio {
    /// Keep when the draw's top 53 bits are below this.
    threshold: u64,
    seed: u64,
    next: AtomicU64,
    counts: Counts,
}

impl Ratio {
    /// Keeps each record with probability `p` (clamped to 0..=1), seeded from the time.
    pub fn new(p: f64) -> Ratio {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Ratio::seeded(p, seed)
    }

    /// Keeps each record with probability `p`, from a fixed seed (reproducible runs).
    pub fn seeded(p: f64, seed: u64) -> Ratio {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        Ratio {
            threshold: (p * (1u64 << 53) as f64) as u64,
            seed,
            next: AtomicU64::new(0),
            counts: Counts::default(),
        }
    }
}

impl Sampler for Ratio {
    fn sample(&self, _: &Record<'_>) -> bool {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        let draw = splitmix64(
            self.seed
                .wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        );
        self.counts.note(draw >> 11 < self.threshold)
    }

    fn stats(&self) -> SamplerStats {
        self.counts.stats()
    }
}

/// A monotonic time source in nanoseconds, for samplers that measure time. Tests pass a
/// manual one.
pub type Ticker = Arc<dyn Fn() -> u64 + Send + Sync>;

fn monotonic() -> Ticker {
    let start = Instant::now();
    Arc::new(move || start.elapsed().as_nanos() as u64)
}

/// A token bucket: up to `burst` records at once, refilled at `per_second`. Implemented
/// as GCRA (one atomic "theoretical arrival time", updated with a CAS), so it is exact
/// and lock-free.
pub struct RateLimit {
    /// Nanoseconds one record costs.
    interval: u64,
    /// How far ahead of now the arrival time may run: `(burst - 1) · interval`.
    tolerance: u64,
    tat: AtomicU64,
    now: Ticker,
    counts: Counts,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("interval_ns", &self.interval)
            .field("tolerance_ns", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl RateLimit {
    /// `per_second` records a second on average, bursts of up to `burst` (at least 1).
    ///
    /// The time one record costs is at least 1 ns and at most 2^63 ns / `burst` (so that
    /// a full bucket spans at most 292 years, which the nanosecond clock can hold): a
    /// rate slower than that (including 0, NaN or a negative rate) is that slowest rate,
    /// which is "`burst` records, then practically none" (at `burst` 100, one record
    /// every 2.9 years).
    pub fn new(per_second: f64, burst: u32) -> RateLimit {
        RateLimit::with_ticker(per_second, burst, monotonic())
    }

    /// Like [`RateLimit::new`], timed by `now`.
    pub fn with_ticker(per_second: f64, burst: u32, now: Ticker) -> RateLimit {
        let burst = u64::from(burst.max(1));
        // The slowest interval keeps `now + burst · interval` (how far the arrival time can
        // run ahead) within `u64` for the first 292 years of the ticker.
        let slowest = (1u64 << 63) / burst;
        let interval = if per_second > 0.0 {
            // `as` saturates: a tiny rate gives u64::MAX, cut to `slowest` below.
            ((1e9 / per_second) as u64).clamp(1, slowest)
        } else {
            slowest
        };
        let t0 = now();
        RateLimit {
            interval,
            tolerance: interval * (burst - 1),
            tat: AtomicU64::new(t0),
            now,
            counts: Counts::default(),
        }
    }
}

impl Sampler for RateLimit {
    fn sample(&self, _: &Record<'_>) -> bool {
        let now = (self.now)();
        let mut tat = self.tat.load(Ordering::Relaxed);
        let keep = loop {
            let start = tat.max(now);
            if start - now > self.tolerance {
                break false;
            }
            match self.tat.compare_exchange_weak(
                tat,
                // Saturating: a ticker past 292 years must not panic the caller.
                start.saturating_add(self.interval),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break true,
                Err(t) => tat = t,
            }
        };
        self.counts.note(keep)
    }

    fn stats(&self) -> SamplerStats {
        self.counts.stats()
    }
}

/// What [`FirstThen`] counts by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleKey {
    /// The level and the message text (the default, as zap does).
    #[default]
    Message,
    /// The level and the value of this field (records without it share one key).
    Field(String),
}

struct Bucket {
    count: AtomicU64,
    period: AtomicU64,
}

/// Per key: keeps the first `first` records of each period, then one in `then` (the
/// `first + then`-th, `first + 2·then`-th, ...). Keys are hashed into a fixed table of
/// counters (4 096 by default); keys that share a slot share a count, as in zap's
/// sampler.
pub struct FirstThen {
    first: u64,
    then: u64,
    period: Option<u64>,
    key: SampleKey,
    buckets: Box<[Bucket]>,
    now: Ticker,
    counts: Counts,
}

impl std::fmt::Debug for FirstThen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstThen")
            .field("first", &self.first)
            .field("then", &self.then)
            .field("period_ns", &self.period)
            .field("key", &self.key)
            .field("slots", &self.buckets.len())
            .finish_non_exhaustive()
    }
}

impl FirstThen {
    /// The first `first` records of each key, then one in `then` (0 is taken as 1), never
    /// reset.
    pub fn new(first: u64, then: u64) -> FirstThen {
        FirstThen {
            first,
            then: then.max(1),
            period: None,
            key: SampleKey::Message,
            buckets: (0..4096)
                .map(|_| Bucket {
                    count: AtomicU64::new(0),
                    period: AtomicU64::new(0),
                })
                .collect(),
            now: monotonic(),
            counts: Counts::default(),
        }
    }

    /// Starts counting again every `period` (zap's "tick").
    #[must_use]
    pub fn per(mut self, period: Duration) -> FirstThen {
        self.period = Some((period.as_nanos() as u64).max(1));
        self
    }

    /// Counts by this key.
    #[must_use]
    pub fn key(mut self, key: SampleKey) -> FirstThen {
        self.key = key;
        self
    }

    /// Uses `now` as the time source for periods.
    #[must_use]
    pub fn ticker(mut self, now: Ticker) -> FirstThen {
        self.now = now;
        self
    }

    fn slot(&self, record: &Record<'_>) -> &Bucket {
        // The key is the caller's data: redaction is for the output only (a redacted
        // `user` would put every user in one slot).
        let record = &record.unredacted();
        let mut h = std::hash::DefaultHasher::new();
        record.level().hash(&mut h);
        match &self.key {
            SampleKey::Message => match record.message_str() {
                Some(s) => h.write(s.as_bytes()),
                None => record.message_text(&mut |s| h.write(s.as_bytes())),
            },
            SampleKey::Field(key) => {
                record.for_each_field(&mut |k, v| {
                    if k == key {
                        record.value_text(v, &mut |s| h.write(s.as_bytes()));
                    }
                });
            }
        }
        let i = (h.finish() as usize) % self.buckets.len();
        &self.buckets[i]
    }
}

impl Sampler for FirstThen {
    fn sample(&self, record: &Record<'_>) -> bool {
        let b = self.slot(record);
        if let Some(period) = self.period {
            // Periods are numbered from 1 so that 0 means "never used".
            let p = (self.now)() / period + 1;
            let seen = b.period.load(Ordering::Relaxed);
            if seen != p
                && b.period
                    .compare_exchange(seen, p, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                b.count.store(0, Ordering::Relaxed);
            }
        }
        let n = b.count.fetch_add(1, Ordering::Relaxed) + 1;
        let keep = n <= self.first || (n - self.first).is_multiple_of(self.then);
        self.counts.note(keep)
    }

    fn stats(&self) -> SamplerStats {
        self.counts.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::super::level::Level;
    use super::super::record::{Message, Timestamp};
    use super::*;

    fn rec(msg: &str) -> Record<'_> {
        Record::new(Level::Info, Timestamp::default(), "", Message::Str(msg))
    }

    #[test]
    fn every_nth_and_first_then_are_exact() {
        let s = EveryNth::new(10);
        let kept = (0..1000).filter(|_| s.sample(&rec("x"))).count();
        assert_eq!(kept, 100);
        assert_eq!(
            s.stats(),
            SamplerStats {
                seen: 1000,
                kept: 100,
                dropped: 900
            }
        );

        let s = FirstThen::new(10, 5);
        let a = (0..100).filter(|_| s.sample(&rec("a"))).count();
        let b = (0..7).filter(|_| s.sample(&rec("b"))).count();
        assert_eq!(a, 10 + 18);
        assert_eq!(b, 7);
        assert_eq!(s.stats().kept, 35);
        assert_eq!(s.stats().seen, 107);
    }

    /// A rate too slow for the nanosecond clock (here 0, and 1e-9 a second with a large
    /// burst) keeps its burst and then nothing, instead of overflowing the arrival time
    /// (a panic in a debug build, every record kept after a wrap-around in release).
    #[test]
    fn rate_limit_with_a_tiny_rate_keeps_its_burst_and_never_overflows() {
        let t = Arc::new(AtomicU64::new(0));
        let tick = {
            let t = Arc::clone(&t);
            Arc::new(move || t.load(Ordering::Relaxed)) as Ticker
        };
        for (rate, burst) in [(0.0, 100), (1e-9, 1000), (f64::NAN, 5), (-3.0, 2)] {
            let s = RateLimit::with_ticker(rate, burst, Arc::clone(&tick));
            let kept = (0..10_000).filter(|_| s.sample(&rec("x"))).count();
            assert_eq!(kept, burst as usize, "rate {rate}, burst {burst}");
            assert_eq!(
                s.stats(),
                SamplerStats {
                    seen: 10_000,
                    kept: u64::from(burst),
                    dropped: 10_000 - u64::from(burst),
                }
            );
        }
        // The largest burst: every record of a (short) run is kept, none panics.
        let s = RateLimit::with_ticker(1e-9, u32::MAX, Arc::clone(&tick));
        assert_eq!((0..10_000).filter(|_| s.sample(&rec("x"))).count(), 10_000);
        // A ticker at the end of its range (no real clock gets there) does not panic
        // the caller either; every record is counted.
        t.store(u64::MAX - 5, Ordering::Relaxed);
        let s = RateLimit::with_ticker(1.0, 3, Arc::clone(&tick));
        let kept = (0..100).filter(|_| s.sample(&rec("x"))).count() as u64;
        assert_eq!((s.stats().seen, s.stats().kept), (100, kept));
    }

    #[test]
    fn rate_limit_and_periods_follow_the_ticker() {
        let t = Arc::new(AtomicU64::new(0));
        let tick = {
            let t = Arc::clone(&t);
            Arc::new(move || t.load(Ordering::Relaxed)) as Ticker
        };
        let s = RateLimit::with_ticker(10.0, 5, Arc::clone(&tick));
        assert_eq!((0..20).filter(|_| s.sample(&rec("x"))).count(), 5);
        t.store(1_000_000_000, Ordering::Relaxed); // one second: 10 more tokens, burst 5
        assert_eq!((0..20).filter(|_| s.sample(&rec("x"))).count(), 5);
        t.store(1_100_000_000, Ordering::Relaxed); // 100 ms: one token
        assert_eq!((0..20).filter(|_| s.sample(&rec("x"))).count(), 1);
        assert_eq!(s.stats().seen, 60);

        let s = FirstThen::new(2, 100)
            .per(Duration::from_secs(1))
            .ticker(tick);
        assert_eq!((0..10).filter(|_| s.sample(&rec("k"))).count(), 2);
        t.store(5_000_000_000, Ordering::Relaxed);
        assert_eq!((0..10).filter(|_| s.sample(&rec("k"))).count(), 2);
    }
}
