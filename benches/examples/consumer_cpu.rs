//! How much CPU the async `Writer`'s consumer thread spends per line in a flood of
//! 100-byte lines (compare's W1 shape: one producer, page cache, no rotation), read from
//! `/proc/self/task/*/schedstat` (Linux): time on a CPU and time waiting for one, per
//! thread. CPU time per line is steadier than wall time on a shared machine, so it is what
//! "Run size on the blocking path" in docs/BENCHMARKS.md compares.
//!
//! ```sh
//! cargo run --release -p lethe-benches --example consumer_cpu
//! LINES=3000000 BUF=4194304 cargo run --release -p lethe-benches --example consumer_cpu
//! ```

use std::time::{Duration, Instant};

use lethe_std::{Options, Writer, WriterOptions};

/// (thread name, ns on a CPU, ns runnable but waiting) for each thread of the process.
fn threads() -> Vec<(String, u64, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let p = e.ok()?.path();
        let name = std::fs::read_to_string(p.join("comm")).ok()?;
        let stat = std::fs::read_to_string(p.join("schedstat")).ok()?;
        let mut f = stat.split_whitespace().map(|x| x.parse::<u64>().ok());
        Some((name.trim().to_string(), f.next()??, f.next()??))
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
            }
        })
        .expect("spawn the producer");
    // The producer's figures are read while it lives (its task entry goes when it ends).
    let mut last = Vec::new();
    while !producer.is_finished() {
        last = threads();
        std::thread::sleep(Duration::from_millis(20));
    }
    producer.join().expect("producer");
    let elapsed = started.elapsed();
    let after = threads();
    let producer_last = last.into_iter().filter(|t| t.0 == "producer");
    for (name, cpu, waiting) in after.into_iter().chain(producer_last) {
        let (cpu0, waiting0) = before
            .iter()
            .find(|b| b.0 == name)
            .map_or((0, 0), |b| (b.1, b.2));
        println!(
            "{name:16} cpu {:7.1} ms ({:5.1} ns/line)  waiting for a CPU {:6.1} ms",
            (cpu - cpu0) as f64 / 1e6,
            (cpu - cpu0) as f64 / lines as f64,
            (waiting - waiting0) as f64 / 1e6
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
