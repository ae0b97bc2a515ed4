//! How much CPU the async `Writer`'s consumer thread spends per line in a flood of
//! 100-byte lines (compare's W1 shape: one producer, page cache, no rotation), read from
//! `/proc/self/task/*/schedstat` (Linux): time on a CPU and time waiting for one, per
//! thread. CPU time per line is steadier than wall time on a shared machine, so it is what
//! "Run size on the blocking path" in docs/BENCHMARKS.md compares. Per thread it prints
//! the CPU time (split into user and kernel time, in 10 ms ticks), the time it was
//! runnable but waiting for a CPU, the time it was asleep (the rest of the wall time) and
//! how often it went to sleep; the wall time runs from the first line to the end of the
//! producer's `flush`.
//!
//! `BURSTS=n` first writes `n` bursts of 20 lines with a 20 µs pause after each, flushes
//! and waits 100 ms, as `compare`'s child does before its timed phase (`compare --quick`:
//! 2 500 bursts, then 200 000 timed lines); the figures cover the flood after it.
//!
//! ```sh
//! cargo run --release -p lethe-benches --example consumer_cpu
//! LINES=3000000 BUF=4194304 cargo run --release -p lethe-benches --example consumer_cpu
//! BURSTS=2500 LINES=200000 cargo run --release -p lethe-benches --example consumer_cpu
//! ```

use std::time::{Duration, Instant};

use lethe_std::{Options, Writer, WriterOptions};

/// One thread's figures, cumulative since it started.
struct Task {
    name: String,
    /// ns on a CPU.
    cpu: u64,
    /// ns runnable but waiting for a CPU.
    waiting: u64,
    /// Voluntary context switches: how often it slept.
    sleeps: u64,
    /// ms in user space and in the kernel (`/proc/.../stat` `utime`, `stime`: 10 ms
    /// ticks, `USER_HZ` being 100 on Linux).
    user_ms: u64,
    system_ms: u64,
}

/// Every thread of this process.
fn threads() -> Vec<Task> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let p = e.ok()?.path();
        let name = std::fs::read_to_string(p.join("comm")).ok()?;
        let stat = std::fs::read_to_string(p.join("schedstat")).ok()?;
        let mut f = stat.split_whitespace().map(|x| x.parse::<u64>().ok());
        let status = std::fs::read_to_string(p.join("status")).ok()?;
        let sleeps = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))?
            .trim()
            .parse()
            .ok()?;
        let stat = std::fs::read_to_string(p.join("stat")).ok()?;
        // The fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let mut rest = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
        let user_ms = rest.next()?.parse::<u64>().ok()? * 10;
        let system_ms = rest.next()?.parse::<u64>().ok()? * 10;
        Some(Task {
            name: name.trim().to_string(),
            cpu: f.next()??,
            waiting: f.next()??,
            sleeps,
            user_ms,
            system_ms,
        })
    })
    .collect()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let lines = env("LINES", 2_000_000);
    let buffer = usize::try_from(env("BUF", 1 << 20)).unwrap_or(1 << 20);
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = Writer::open(
        dir.path().join("a.log"),
        WriterOptions::default()
            .buffer(buffer)
            .file(Options::default().max_size(None)),
    )
    .expect("open the writer");
    let line = lethe_benches::record(7);
    for _ in 0..env("BURSTS", 0) {
        for _ in 0..20 {
            log.write_record(&line).expect("write");
        }
        let until = Instant::now() + Duration::from_micros(20);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    log.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(100));
    let before = threads();
    let started = Instant::now();
    let producer = std::thread::Builder::new()
        .name("producer".into())
        .spawn({
            let log = log.clone();
            move || {
                for _ in 0..lines {
                    log.write_record(&line).expect("write");
                }
                log.flush().expect("flush");
                started.elapsed()
            }
        })
        .expect("spawn the producer");
    // The producer's figures are read while it lives (its task entry goes when it ends).
    let mut last = Vec::new();
    while !producer.is_finished() {
        last = threads();
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = producer.join().expect("producer");
    let after = threads();
    let producer_last = last.into_iter().filter(|t| t.name == "producer");
    for t in after.into_iter().chain(producer_last) {
        let zero = Task {
            name: String::new(),
            cpu: 0,
            waiting: 0,
            sleeps: 0,
            user_ms: 0,
            system_ms: 0,
        };
        let t0 = before.iter().find(|b| b.name == t.name).unwrap_or(&zero);
        let cpu = t.cpu - t0.cpu;
        let waiting = t.waiting - t0.waiting;
        println!(
            "{:16} cpu {:7.1} ms ({:5.1} ns/line: user {:5.1}, kernel {:5.1})  \
             waiting for a CPU {:6.1} ms  asleep {:6.1} ms  slept {:5} times",
            t.name,
            cpu as f64 / 1e6,
            cpu as f64 / lines as f64,
            (t.user_ms - t0.user_ms) as f64 * 1e6 / lines as f64,
            (t.system_ms - t0.system_ms) as f64 * 1e6 / lines as f64,
            waiting as f64 / 1e6,
            (elapsed.as_nanos() as f64 - cpu as f64 - waiting as f64).max(0.0) / 1e6,
            t.sleeps - t0.sleeps
        );
    }
    let m = log.close().expect("close");
    println!(
        "{lines} lines in {:.1} ms = {:.2} M lines/s; the producer blocked {} times",
        elapsed.as_secs_f64() * 1e3,
        lines as f64 / elapsed.as_secs_f64() / 1e6,
        m.blocked
    );
}
