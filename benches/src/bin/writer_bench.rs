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
//! Usage: `cargo run --release -p lethe-benches --bin writer-bench [-- DIR]`. DIR defaults
//! to a temporary directory under /tmp. `LETHE_BENCH_ONLY=latency` runs only the timer and
//! the steady latency, `LETHE_BENCH_ONLY=throughput` only the throughput;
//! `LETHE_BENCH_DETAIL=1` also prints where in the bursts the slow writes fall;
//! `LETHE_BENCH_NO_GZIP=1` runs the rotating phase without gzip and checksums.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use lethe_benches::{BURST, RECORD_LEN, percentile, record, time_bursts, time_bursts_of_nothing};
use lethe_core::retention::RetentionPolicy;
use lethe_std::{Options, Writer, WriterOptions};

const BURSTS: usize = 50_000;

/// The cost of reading the clock twice, which every per-call timing includes, measured
/// with the same bursts and pauses: (median, p99, p99.9).
fn timer_overhead() -> (u64, u64, u64) {
    let mut v = time_bursts_of_nothing(BURSTS);
    if std::env::var_os("LETHE_BENCH_DETAIL").is_some() {
        slow_by_position("timer", &v);
    }
    v.sort_unstable();
    (
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        percentile(&v, 0.999),
    )
}

fn latency(dir: &Path, label: &str, file: Options) -> (u64, u64, u64) {
    let buffer = std::env::var("LETHE_BENCH_BUFFER")
        .ok()
        .and_then(|b| lethe_core::size::parse_size(&b).ok())
        .map_or(1 << 20, |b| b as usize);
    let options = WriterOptions::default().file(file).buffer(buffer);
    let log = Writer::open(dir.join(format!("{label}.log")), options).expect("open");
    let line = record(7);
    // Warm up: fault the ring in, start the consumer.
    for _ in 0..100_000 {
        log.write_record(&line).unwrap();
    }
    log.flush().unwrap();
    let mut samples = time_bursts(BURSTS, || log.write_record(black_box(&line))).expect("write");
    let m = log.close().unwrap();
    assert_eq!(m.dropped, 0);
    if std::env::var_os("LETHE_BENCH_DETAIL").is_some() {
        slow_by_position(label, &samples);
    }
    samples.sort_unstable();
    let (p50, p99, p999) = (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 0.999),
    );
    println!(
        "{label:<18} median {p50:>5} ns   p99 {p99:>6} ns   p99.9 {p999:>6} ns   ({} writes, {} rotations, {} compressed)",
        samples.len(),
        m.file.rotations,
        m.file.compressions
    );
    (p50, p99, p999)
}

/// Where in the bursts the slow writes fall: for each position 0..20, the share of writes
/// slower than 150 and 300 ns (`LETHE_BENCH_DETAIL=1`).
fn slow_by_position(label: &str, samples: &[u32]) {
    let mut over = [[0u64; 2]; BURST];
    for (i, &ns) in samples.iter().enumerate() {
        over[i % BURST][0] += u64::from(ns > 150);
        over[i % BURST][1] += u64::from(ns > 300);
    }
    let n = (samples.len() / BURST) as f64;
    let row = |k: usize| {
        over.iter()
            .map(|o| format!("{:5.2}", o[k] as f64 * 100.0 / n))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "{label}: % of writes > 150 ns by position in the burst: {}",
        row(0)
    );
    println!(
        "{label}: % of writes > 300 ns by position in the burst: {}",
        row(1)
    );
}

/// The synchronous writer in the same bursts: every call is one `write` syscall.
fn sync_latency(dir: &Path) -> (u64, u64, u64) {
    let log = lethe_std::SyncWriter::open(
        dir.join("sync.log"),
        Options::default().max_size(Some(64 << 20)),
    )
    .expect("open");
    let line = record(7);
    let mut samples =
        time_bursts(BURSTS / 10, || log.write_record(black_box(&line))).expect("write");
    log.close().unwrap();
    samples.sort_unstable();
    let r = (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 0.999),
    );
    println!(
        "{:<18} median {:>5} ns   p99 {:>6} ns   p99.9 {:>6} ns   ({} writes)",
        "sync-writer",
        r.0,
        r.1,
        r.2,
        samples.len()
    );
    r
}

fn sync_all() {
    let _ = Command::new("sync").status();
}

fn clear(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let _ = std::fs::remove_file(e.unwrap().path());
    }
    sync_all();
}

/// One timed run of Lethe: `LINES` 100-byte lines, rotating every 64 MiB, until `flush`
/// returns (every line in the page cache, like dd's last `write`). Rotation does not
/// `fsync` here (`sync_on_rotate(false)`), as dd does not. Returns MB/s.
fn lethe_run(dir: &Path) -> (f64, u64) {
    let options = WriterOptions::default().file(
        Options::default()
            .max_size(Some(64 << 20))
            .sync_on_rotate(false)
            .retention(RetentionPolicy::new()),
    );
    let log = Writer::open(dir.join("tp.log"), options).expect("open");
    let line = record(9);
    let t = Instant::now();
    for _ in 0..LINES {
        log.write_record(&line).unwrap();
    }
    log.flush().unwrap();
    let elapsed = t.elapsed();
    let m = log.close().unwrap();
    assert_eq!(m.writes, LINES);
    (BYTES as f64 / elapsed.as_secs_f64() / 1e6, m.file.rotations)
}

/// One timed run of `dd bs=64k` writing the same number of bytes. Returns MB/s.
fn dd_run(dir: &Path) -> f64 {
    let t = Instant::now();
    let status = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "status=none"])
        .arg(format!("count={}", BYTES / 65536))
        .arg(format!("of={}", dir.join("dd.out").display()))
        .status()
        .expect("run dd");
    assert!(status.success());
    BYTES as f64 / t.elapsed().as_secs_f64() / 1e6
}

const LINES: u64 = 2_000_000;
const BYTES: u64 = LINES * RECORD_LEN as u64; // 200 MB

/// Alternates Lethe and dd five times, each from a clean, synced directory, and reports the
/// medians and their ratio.
fn throughput(dir: &Path) {
    let (mut lethe, mut dd) = (Vec::new(), Vec::new());
    let mut rotations = 0;
    for _ in 0..5 {
        clear(dir);
        let (mbps, r) = lethe_run(dir);
        lethe.push(mbps);
        rotations = r;
        clear(dir);
        dd.push(dd_run(dir));
    }
    clear(dir);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (l, d) = (median(&mut lethe), median(&mut dd));
    println!(
        "throughput         lethe {l:>7.0} MB/s ({rotations} rotations)   dd bs=64k {d:>7.0} MB/s   ratio {:.2}   (medians of 5 alternating runs)",
        l / d
    );
}

fn main() {
    let tmp;
    let dir = match std::env::args().nth(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().expect("temp dir");
            tmp.path().to_path_buf()
        }
    };
    if std::env::var("LETHE_BENCH_ONLY").as_deref() == Ok("throughput") {
        throughput(&dir);
        return;
    }
    let (t50, t99, t999) = timer_overhead();
    println!(
        "{:<18} median {t50:>5} ns   p99 {t99:>6} ns   p99.9 {t999:>6} ns   (two reads of the stopwatch, {}, nothing between)",
        "timer alone",
        lethe_benches::Stopwatch::get().describe()
    );
    let steady = latency(&dir, "latency", Options::default().max_size(None));
    if std::env::var("LETHE_BENCH_ONLY").as_deref() == Ok("latency") {
        return;
    }
    // `LETHE_BENCH_NO_GZIP=1`: rotate without compression and checksums, to see what the
    // background work adds to the rotating phase's tail.
    let gzip = std::env::var_os("LETHE_BENCH_NO_GZIP").is_none();
    let rotating = latency(
        &dir,
        "latency-rotating",
        Options::default()
            .max_size(Some(1 << 20))
            .compress(gzip.then_some(6))
            .checksum(gzip)
            .retention(RetentionPolicy::new().max_count(5)),
    );
    sync_latency(&dir);
    println!(
        "p99.9 during rotation + gzip / steady state: {:.2}",
        rotating.2 as f64 / steady.2 as f64
    );
    throughput(&dir);
}
