//! The std writer's speed goals, measured in one run (see docs/BENCHMARKS.md):
//!
//! 1. `latency`: one thread writes 100-byte lines through [`Writer`] in bursts of 20 with
//!    a pause between bursts (as Quill's benchmark does), timing every call; percentiles
//!    over the caller's timings. Rotation off.
//! 2. `latency-rotating`: the same while the file rotates every 1 MiB with gzip and
//!    checksums running in the background.
//! 3. `throughput`: 100-byte lines as fast as one thread can write them, rotating every
//!    64 MiB, until everything is written out (`close`), against `dd bs=64k` writing the
//!    same number of bytes to the same directory.
//!
//! Each latency phase opens a fresh writer after a `sync` (no earlier writeback pending)
//! and closes it (background compression included) before the next phase starts.
//!
//! Usage: `cargo run --release -p lethe-benches --bin writer-bench [-- DIR]`. DIR defaults
//! to a temporary directory under /tmp. Environment:
//! - `LETHE_BENCH_ONLY=latency`: only the timer and the steady latency;
//!   `LETHE_BENCH_ONLY=rotating`: the timer and both latency phases;
//!   `LETHE_BENCH_ONLY=throughput`: only the throughput;
//! - `LETHE_BENCH_DETAIL=1`: also where in the bursts the slow writes fall;
//! - `LETHE_BENCH_NO_GZIP=1`: the rotating phase without gzip and checksums;
//! - `LETHE_BENCH_BUFFER=SIZE`: the ring's size (default 1 MiB).
//!
//! Any failure (a write, the directory, `dd`) ends the run with a message and exit
//! status 1, never with a panic.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use lethe_benches::{
    RECORD_LEN, bench_buffer, median, percentiles, record, slow_by_position, time_bursts,
    time_bursts_of_nothing,
};
use lethe_core::retention::RetentionPolicy;
use lethe_std::{Options, Writer, WriterOptions};

/// Timed bursts per latency phase.
const BURSTS: usize = 50_000;

/// Runs the benchmark, or returns what went wrong.
type Run<T> = Result<T, String>;

/// The cost of reading the clock twice, which every per-call timing includes, measured
/// with the same bursts and pauses: (median, p99, p99.9).
fn timer_overhead() -> (u64, u64, u64) {
    let mut v = time_bursts_of_nothing(BURSTS);
    if detail() {
        slow_by_position("timer", "writes", &v, SLOW);
    }
    percentiles(&mut v)
}

/// `LETHE_BENCH_DETAIL=1`: also print where in the bursts the slow writes fall.
fn detail() -> bool {
    std::env::var_os("LETHE_BENCH_DETAIL").is_some()
}

/// The limits of [`slow_by_position`]'s rows, in ns.
const SLOW: [u32; 2] = [150, 300];

/// One latency phase: `sync`, so that no earlier phase's writeback is pending, then a
/// fresh writer on `file` (ring size from `LETHE_BENCH_BUFFER`, else the default), warmed up,
/// [`BURSTS`] timed bursts, then closed (which waits for its background compression).
/// Prints the figures; returns (median, p99, p99.9).
fn latency(dir: &Path, label: &str, file: Options) -> Run<(u64, u64, u64)> {
    sync_all();
    let mut options = WriterOptions::default().file(file);
    if let Some(bytes) = bench_buffer()? {
        options = options.buffer(bytes);
    }
    let path = dir.join(format!("{label}.log"));
    let log =
        Writer::open(&path, options).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let line = record(7);
    // Warm up: fault the ring in, start the consumer.
    for _ in 0..100_000 {
        log.write_record(&line)
            .map_err(|e| format!("{label}: write: {e}"))?;
    }
    log.flush().map_err(|e| format!("{label}: flush: {e}"))?;
    let mut samples = time_bursts(BURSTS, || log.write_record(black_box(&line)))
        .map_err(|e| format!("{label}: write: {e}"))?;
    let m = log.close().map_err(|e| format!("{label}: close: {e}"))?;
    if m.dropped != 0 {
        return Err(format!("{label}: {} records dropped", m.dropped));
    }
    if detail() {
        slow_by_position(label, "writes", &samples, SLOW);
    }
    let (p50, p99, p999) = percentiles(&mut samples);
    println!(
        "{label:<18} median {p50:>5} ns   p99 {p99:>6} ns   p99.9 {p999:>6} ns   ({} writes, {} rotations, {} compressed)",
        samples.len(),
        m.file.rotations,
        m.file.compressions
    );
    Ok((p50, p99, p999))
}

/// The synchronous writer in the same bursts: every call is one `write` syscall.
fn sync_latency(dir: &Path) -> Run<(u64, u64, u64)> {
    let path = dir.join("sync.log");
    let log = lethe_std::SyncWriter::open(&path, Options::default().max_size(Some(64 << 20)))
        .map_err(|e| format!("opening {}: {e}", path.display()))?;
    let line = record(7);
    let mut samples = time_bursts(BURSTS / 10, || log.write_record(black_box(&line)))
        .map_err(|e| format!("sync-writer: write: {e}"))?;
    log.close()
        .map_err(|e| format!("sync-writer: close: {e}"))?;
    let r = percentiles(&mut samples);
    println!(
        "{:<18} median {:>5} ns   p99 {:>6} ns   p99.9 {:>6} ns   ({} writes)",
        "sync-writer",
        r.0,
        r.1,
        r.2,
        samples.len()
    );
    Ok(r)
}

fn sync_all() {
    let _ = Command::new("sync").status();
}

/// Removes the files in `dir` and syncs, so that a run starts with no writeback pending.
fn clear(dir: &Path) -> Run<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let _ = std::fs::remove_file(e.path());
    }
    sync_all();
    Ok(())
}

/// One timed run of Lethe: `LINES` 100-byte lines, rotating every 64 MiB, until `flush`
/// returns (every line in the page cache, like dd's last `write`). Rotation does not
/// `fsync` here (`sync_on_rotate(false)`), as dd does not. Returns MB/s.
fn lethe_run(dir: &Path) -> Run<(f64, u64)> {
    let options = WriterOptions::default().file(
        Options::default()
            .max_size(Some(64 << 20))
            .sync_on_rotate(false)
            .retention(RetentionPolicy::new()),
    );
    let path = dir.join("tp.log");
    let log =
        Writer::open(&path, options).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let line = record(9);
    let t = Instant::now();
    for _ in 0..LINES {
        log.write_record(&line)
            .map_err(|e| format!("throughput: write: {e}"))?;
    }
    log.flush().map_err(|e| format!("throughput: flush: {e}"))?;
    let elapsed = t.elapsed();
    let m = log.close().map_err(|e| format!("throughput: close: {e}"))?;
    if m.writes != LINES {
        return Err(format!("throughput: {} of {LINES} lines written", m.writes));
    }
    Ok((BYTES as f64 / elapsed.as_secs_f64() / 1e6, m.file.rotations))
}

/// One timed run of `dd bs=64k` writing the same number of bytes. Returns MB/s.
fn dd_run(dir: &Path) -> Run<f64> {
    let t = Instant::now();
    let status = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "status=none"])
        .arg(format!("count={}", BYTES / 65536))
        .arg(format!("of={}", dir.join("dd.out").display()))
        .status()
        .map_err(|e| format!("running dd: {e}"))?;
    if !status.success() {
        return Err(format!("dd failed: {status}"));
    }
    Ok(BYTES as f64 / t.elapsed().as_secs_f64() / 1e6)
}

const LINES: u64 = 2_000_000;
const BYTES: u64 = LINES * RECORD_LEN as u64; // 200 MB

/// Alternates Lethe and dd five times, each from a clean, synced directory, and reports the
/// medians and their ratio.
fn throughput(dir: &Path) -> Run<()> {
    let (mut lethe, mut dd) = (Vec::new(), Vec::new());
    let mut rotations = 0;
    for _ in 0..5 {
        clear(dir)?;
        let (mbps, r) = lethe_run(dir)?;
        lethe.push(mbps);
        rotations = r;
        clear(dir)?;
        dd.push(dd_run(dir)?);
    }
    clear(dir)?;
    let (l, d) = (median(&mut lethe), median(&mut dd));
    println!(
        "throughput         lethe {l:>7.0} MB/s ({rotations} rotations)   dd bs=64k {d:>7.0} MB/s   ratio {:.2}   (medians of 5 alternating runs)",
        l / d
    );
    Ok(())
}

fn run() -> Run<()> {
    let (dir, _tmp) = lethe_benches::bench_dir()?;
    let only = std::env::var("LETHE_BENCH_ONLY").unwrap_or_default();
    if only == "throughput" {
        return throughput(&dir);
    }
    let (t50, t99, t999) = timer_overhead();
    println!(
        "{:<18} median {t50:>5} ns   p99 {t99:>6} ns   p99.9 {t999:>6} ns   (two reads of the stopwatch, {}, nothing between)",
        "timer alone",
        lethe_benches::Stopwatch::get().describe()
    );
    let steady_options = || Options::default().max_size(None);
    if only == "latency" {
        latency(&dir, "latency", steady_options())?;
        return Ok(());
    }
    // `LETHE_BENCH_NO_GZIP=1`: rotate without compression and checksums, to see what the
    // background work adds to the rotating phase's tail.
    let gzip = std::env::var_os("LETHE_BENCH_NO_GZIP").is_none();
    let rotating_options = Options::default()
        .max_size(Some(1 << 20))
        .compress(gzip.then_some(6))
        .checksum(gzip)
        .retention(RetentionPolicy::new().max_count(5));
    let s = latency(&dir, "latency", steady_options())?;
    let t = latency(&dir, "latency-rotating", rotating_options)?;
    println!(
        "p99.9 during rotation + gzip / steady state: {:.2}",
        t.2 as f64 / s.2.max(1) as f64
    );
    if only == "rotating" {
        return Ok(());
    }
    sync_latency(&dir)?;
    throughput(&dir)
}

fn main() -> ExitCode {
    lethe_benches::exit_code("writer-bench", run())
}
