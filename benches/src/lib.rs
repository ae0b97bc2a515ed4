//! Shared pieces of Lethe's benchmarks: the records they write and the consumers they run.
//!
//! The benchmarks themselves are in `benches/` (run `cargo bench -p lethe-benches`), and
//! `summarize.py` turns criterion's output into the tables in `docs/BENCHMARKS.md`. They
//! live in their own crate so that the comparison crates (crossbeam-channel) never enter
//! the library's dependency tree.

use std::hint::black_box;
use std::sync::atomic::{Ordering, compiler_fence};
use std::time::{Duration, Instant};

use lethe_core::ring::{Consumer, Storage};

pub mod compare;

/// Payload length of one benchmark record: a typical short log line.
pub const RECORD_LEN: usize = 100;

/// A deterministic `RECORD_LEN`-byte log line (`seq` makes each one different).
pub fn record(seq: u64) -> [u8; RECORD_LEN] {
    let mut r = [b' '; RECORD_LEN];
    let head = b"2026-11-23T00:41:07.123456Z INFO lethe::bench: request served seq=";
    r[..head.len()].copy_from_slice(head);
    let mut n = seq;
    let mut i = RECORD_LEN - 2;
    loop {
        r[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == head.len() {
            break;
        }
        i -= 1;
    }
    r[RECORD_LEN - 1] = b'\n';
    r
}

/// Calls per burst in the caller-side latency measurements (Quill's method: bursts of 20
/// calls, a pause between bursts, percentiles over every call's time).
pub const BURST: usize = 20;

/// The pause between bursts: a spin, so the timing thread keeps its CPU.
pub const PAUSE: Duration = Duration::from_micros(20);

/// How the latency harness reads time around each call.
///
/// Quill's benchmark, which the issues ask to measure as, reads the CPU's time-stamp
/// counter at both ends of the call and converts the ticks to nanoseconds. Where the
/// counter is a clock (the logger's own test,
/// [`Timestamp::tsc_is_clock`](lethe_std::logger::Timestamp::tsc_is_clock)), so does this
/// harness: a read costs about 5 ns here, against 15 ns for
/// `Instant::now` through the vDSO (30 ns per timed call on this VM). Elsewhere it uses
/// `Instant`. [`time_bursts_of_nothing`] shows what the timing itself adds either way.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Stopwatch {
    /// The time-stamp counter, at this many nanoseconds per tick (measured against
    /// `Instant` over 100 ms).
    Tsc {
        /// Nanoseconds per tick.
        ns_per_tick: f64,
    },
    /// `std::time::Instant`.
    Instant,
}

impl Stopwatch {
    /// The stopwatch of this machine (calibrated once per process).
    pub fn get() -> Stopwatch {
        static ONCE: std::sync::OnceLock<Stopwatch> = std::sync::OnceLock::new();
        *ONCE.get_or_init(|| {
            if !lethe_std::logger::Timestamp::tsc_is_clock() {
                return Stopwatch::Instant;
            }
            let (Some(t0), i0) = (lethe_core::tsc::read_tsc(), Instant::now()) else {
                return Stopwatch::Instant;
            };
            std::thread::sleep(Duration::from_millis(100));
            let (t1, ns) = (lethe_core::tsc::read_tsc(), i0.elapsed().as_nanos() as f64);
            match t1.map(|t1| t1.saturating_sub(t0)) {
                Some(ticks) if ticks > 0 => Stopwatch::Tsc {
                    ns_per_tick: ns / ticks as f64,
                },
                _ => Stopwatch::Instant,
            }
        })
    }

    /// What it reads: `"TSC (2.445 ticks/ns)"` or `"Instant"`.
    pub fn describe(&self) -> String {
        match self {
            Stopwatch::Tsc { ns_per_tick } => format!("TSC ({:.3} ticks/ns)", 1.0 / ns_per_tick),
            Stopwatch::Instant => "Instant".to_owned(),
        }
    }
}

/// Times `op` in `bursts` bursts of [`BURST`] calls with a spinning [`PAUSE`] after each
/// burst, and returns every call's time in nanoseconds (saturating at `u32::MAX`), in
/// call order, read with [`Stopwatch::get`]. Stops at the first error.
///
/// The result's memory is written before the first timed call, so that no page fault
/// (whose kernel entry evicts the measured code's cache lines and branch history) falls
/// into the measurement, and a burst's timings go to an array on the stack that is
/// copied out after the burst, between the timed calls. Storing each timing straight
/// into the result, as the harness first did, charged the harness's own cache misses to
/// the measured calls: every eighth timing starts a new cache line of the result, that
/// store waits for the line, and the next timed call waits for the store as soon as it
/// executes a locked instruction (a ring claim's CAS drains the store buffer). In
/// `writer-bench` the calls at those positions were slow 3–5 times as often as the
/// others.
///
/// # Errors
///
/// The first error `op` returns.
pub fn time_bursts<E>(bursts: usize, op: impl FnMut() -> Result<(), E>) -> Result<Vec<u32>, E> {
    match Stopwatch::get() {
        Stopwatch::Tsc { ns_per_tick } => bursts_with(
            bursts,
            op,
            || lethe_core::tsc::read_tsc().unwrap_or(0),
            ns_per_tick,
        ),
        Stopwatch::Instant => {
            let base = Instant::now();
            bursts_with(bursts, op, || base.elapsed().as_nanos() as u64, 1.0)
        }
    }
}

/// [`time_bursts`] with the clock `now` (in units of `ns_per_unit` nanoseconds).
#[inline(always)]
fn bursts_with<E>(
    bursts: usize,
    mut op: impl FnMut() -> Result<(), E>,
    now: impl Fn() -> u64,
    ns_per_unit: f64,
) -> Result<Vec<u32>, E> {
    // Written once before the first timed call: no page fault during the measurement.
    let mut samples = vec![u32::MAX; bursts * BURST];
    for out in samples.chunks_exact_mut(BURST) {
        let mut burst = [0u64; BURST];
        for slot in &mut burst {
            compiler_fence(Ordering::SeqCst);
            let t = now();
            compiler_fence(Ordering::SeqCst);
            op()?;
            compiler_fence(Ordering::SeqCst);
            *slot = now().saturating_sub(t);
            compiler_fence(Ordering::SeqCst);
        }
        for (o, &units) in out.iter_mut().zip(black_box(&burst)) {
            *o = (units as f64 * ns_per_unit)
                .round()
                .min(f64::from(u32::MAX)) as u32;
        }
        let until = Instant::now() + PAUSE;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    Ok(samples)
}

/// The cost of the timing itself: [`time_bursts`] around nothing.
pub fn time_bursts_of_nothing(bursts: usize) -> Vec<u32> {
    let r: Result<_, std::convert::Infallible> = time_bursts(bursts, || {
        black_box(());
        Ok(())
    });
    match r {
        Ok(v) => v,
        Err(e) => match e {},
    }
}

/// The value at quantile `q` (0 to 1) of sorted `samples` (nearest rank); 0 if empty.
pub fn percentile(sorted: &[u32], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    u64::from(sorted[i.min(sorted.len() - 1)])
}

/// The median, p99 and p99.9 of `samples` (nearest rank), which it sorts; zeros if empty.
pub fn percentiles(samples: &mut [u32]) -> (u64, u64, u64) {
    samples.sort_unstable();
    (
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        percentile(samples, 0.999),
    )
}

/// Prints, for each position in a burst of [`BURST`] timed calls, the share (in %) of
/// `samples` (in [`time_bursts`] order) slower than each of `limits` ns: whether the slow
/// calls sit after the pause or anywhere. One line per limit, labelled `label` and
/// naming the calls `what` (`writes`, `calls`).
pub fn slow_by_position(label: &str, what: &str, samples: &[u32], limits: [u32; 2]) {
    let bursts = (samples.len() / BURST).max(1) as f64;
    for limit in limits {
        let mut over = [0u64; BURST];
        for (i, &ns) in samples.iter().enumerate() {
            over[i % BURST] += u64::from(ns > limit);
        }
        let row: Vec<String> = over
            .iter()
            .map(|&n| format!("{:5.2}", n as f64 * 100.0 / bursts))
            .collect();
        println!(
            "{label}: % of {what} > {limit} ns by position in the burst: {}",
            row.join(" ")
        );
    }
}

/// The ring size a benchmark asks for in `LETHE_BENCH_BUFFER` (any size string, such as
/// `4MiB`), or `None` when the variable is not set (the writer's default).
///
/// # Errors
///
/// The value is not a size, or does not fit in memory; the message names it.
pub fn bench_buffer() -> Result<Option<usize>, String> {
    let Ok(v) = std::env::var("LETHE_BENCH_BUFFER") else {
        return Ok(None);
    };
    let bytes =
        lethe_core::size::parse_size(&v).map_err(|e| format!("LETHE_BENCH_BUFFER={v:?}: {e}"))?;
    usize::try_from(bytes)
        .map(Some)
        .map_err(|_| format!("LETHE_BENCH_BUFFER={v:?}: too large"))
}

/// Where a benchmark binary writes: the directory named by its first argument, else a new
/// temporary directory under /tmp. Keep the second value for the whole run: it removes
/// the temporary directory when dropped.
///
/// # Errors
///
/// The temporary directory could not be created; the message says so.
pub fn bench_dir() -> Result<(std::path::PathBuf, Option<tempfile::TempDir>), String> {
    dir_or_temp(std::env::args().nth(1).map(Into::into))
}

/// `dir`, else a new temporary directory under /tmp (for a benchmark that names its
/// directory with an option). Keep the second value for the whole run: it removes the
/// temporary directory when dropped.
///
/// # Errors
///
/// The temporary directory could not be created; the message says so.
pub fn dir_or_temp(
    dir: Option<std::path::PathBuf>,
) -> Result<(std::path::PathBuf, Option<tempfile::TempDir>), String> {
    match dir {
        Some(d) => Ok((d, None)),
        None => {
            let tmp =
                tempfile::tempdir().map_err(|e| format!("creating a temporary directory: {e}"))?;
            Ok((tmp.path().to_path_buf(), Some(tmp)))
        }
    }
}

/// How a benchmark binary ends: status 0, or `who: message` on stderr and status 1 (a
/// failure is reported, never a panic).
pub fn exit_code(who: &str, outcome: Result<(), String>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{who}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The median of `v` (the upper median for an even count), which it sorts.
///
/// # Panics
///
/// If `v` is empty.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What a consumer saw.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Records read.
    pub records: u64,
    /// Payload bytes read.
    pub bytes: u64,
}

/// Records per consumer batch: what one `writev` would take (well under `IOV_MAX`).
pub const CONSUMER_BATCH: usize = 64;

/// Reads and releases every committed record in batches of up to [`CONSUMER_BATCH`],
/// touching each one's length (as a writer handing the slices to `writev` would). Returns
/// what it read.
pub fn drain<S: Storage>(consumer: &mut Consumer<'_, S>) -> Drained {
    let mut d = Drained::default();
    while let Some(batch) = consumer.read_up_to(CONSUMER_BATCH, usize::MAX) {
        for r in batch.records() {
            d.records += 1;
            d.bytes += r.len() as u64;
        }
        batch.release();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use lethe_core::ring::Ring;

    #[test]
    fn time_bursts_times_every_call_and_stops_at_the_first_error() {
        let mut calls = 0;
        let v = time_bursts(3, || -> Result<(), ()> {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((calls, v.len()), (3 * BURST, 3 * BURST));
        assert!(v.iter().all(|&ns| ns != u32::MAX));
        let mut calls = 0;
        let r = time_bursts(3, || {
            calls += 1;
            if calls == BURST + 5 {
                Err(calls)
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err(BURST + 5));
        assert_eq!(calls, BURST + 5);
        let mut sorted = time_bursts_of_nothing(2);
        sorted.sort_unstable();
        assert_eq!(sorted.len(), 2 * BURST);
        assert!(percentile(&sorted, 0.5) <= percentile(&sorted, 0.999));
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn median_is_the_middle_value_or_the_upper_of_two() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(median(&mut [7.5]), 7.5);
    }

    #[test]
    fn records_are_distinct_lines_of_the_stated_length() {
        let a = record(1);
        let b = record(123_456);
        assert_eq!(a.len(), RECORD_LEN);
        assert_ne!(a, b);
        assert!(a.starts_with(b"2026-11-23T00:41:07.123456Z INFO"));
        assert!(a.ends_with(b" 1\n"));
        assert!(b.ends_with(b"123456\n"));
    }

    #[test]
    fn drain_counts_what_was_written() {
        let ring = Ring::with_capacity(4096).unwrap();
        for i in 0..10 {
            ring.try_write(&record(i)).unwrap();
        }
        let mut c = ring.consumer().unwrap();
        assert_eq!(
            drain(&mut c),
            Drained {
                records: 10,
                bytes: 10 * RECORD_LEN as u64
            }
        );
        assert!(ring.is_empty());
    }
}
