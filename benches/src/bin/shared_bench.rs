//! Shared mode's speed goal (docs/BENCHMARKS.md, "Shared mode"): lines per second of
//! 100-byte lines written through the async [`Writer`] as fast as the writing thread can,
//! until everything is in the file (`close`), rotating every 64 MiB, in four setups
//! measured alternately in one run:
//!
//! - `async 1p`: one process, single-process mode (the baseline);
//! - `shared 1p`: one process, shared mode;
//! - `shared 4p`: four processes, shared mode, one file (aggregate lines per second);
//! - `async 4p`: four processes, single-process mode, four files (what the disk and
//!   machine give four writers without any coordination).
//!
//! Each setup runs 5 times; the medians are printed with the ratios to `async 1p` and, for
//! four processes, to `async 4p`. Every process is a real OS process (this binary run
//! again as a child); the aggregate is total lines / (last end - first start), from the
//! children's own clocks.
//!
//! Usage: `cargo run --release -p lethe-benches --bin shared-bench [-- DIR]`. DIR defaults
//! to a temporary directory under /tmp. `LETHE_BENCH_LINES` sets lines per process
//! (default 1 000 000).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use lethe_benches::record;
use lethe_core::retention::RetentionPolicy;
use lethe_std::{Options, Writer, WriterOptions};

const RUNS: usize = 5;

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos()
}

/// Child: writes `lines` records to `path`; prints `start_ns end_ns rotations`.
fn child(path: &Path, shared: bool, lines: u64) {
    let options = WriterOptions::default().file(
        Options::default()
            .shared(shared)
            .max_size(Some(64 << 20))
            .retention(RetentionPolicy::new().max_count(2)),
    );
    let log = Writer::open(path, options).expect("open");
    let start = now_ns();
    for seq in 0..lines {
        log.write_record(&record(seq)).expect("write");
    }
    let metrics = log.close().expect("close");
    let end = now_ns();
    println!("{start} {end} {}", metrics.file.rotations);
}

/// Runs `procs` children (shared: one file; otherwise one file each). Returns the
/// aggregate lines per second.
fn run(dir: &Path, procs: usize, shared: bool, lines: u64) -> f64 {
    clear(dir);
    let exe = std::env::current_exe().expect("own path");
    let children: Vec<_> = (0..procs)
        .map(|i| {
            let file = if shared {
                dir.join("app.log")
            } else {
                dir.join(format!("app{i}.log"))
            };
            Command::new(&exe)
                .env(
                    "LETHE_SHARED_BENCH_CHILD",
                    if shared { "shared" } else { "async" },
                )
                .env("LETHE_BENCH_LINES", lines.to_string())
                .arg(file)
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    let (mut first, mut last) = (u128::MAX, 0u128);
    for c in children {
        let out = c.wait_with_output().expect("child");
        assert!(out.status.success(), "child failed");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let mut f = text
            .split_whitespace()
            .map(|w| w.parse::<u128>().expect("number"));
        let (s, e) = (f.next().expect("start"), f.next().expect("end"));
        first = first.min(s);
        last = last.max(e);
    }
    let secs = (last - first) as f64 / 1e9;
    (procs as u64 * lines) as f64 / secs
}

fn clear(dir: &Path) {
    for e in std::fs::read_dir(dir).expect("bench dir").flatten() {
        let _ = std::fs::remove_file(e.path());
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let lines = std::env::var("LETHE_BENCH_LINES")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(1_000_000u64);
    if let Ok(mode) = std::env::var("LETHE_SHARED_BENCH_CHILD") {
        let path = std::env::args().nth(1).expect("child: path");
        child(Path::new(&path), mode == "shared", lines);
        return;
    }
    let tmp;
    let dir = match std::env::args().nth(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().expect("temp dir");
            tmp.path().to_path_buf()
        }
    };
    let setups = [
        ("async 1p", 1, false),
        ("shared 1p", 1, true),
        ("async 4p", 4, false),
        ("shared 4p", 4, true),
    ];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    for _ in 0..RUNS {
        for (i, (_, procs, shared)) in setups.iter().enumerate() {
            results[i].push(run(&dir, *procs, *shared, lines));
        }
    }
    clear(&dir);
    let medians: Vec<f64> = results.iter_mut().map(|v| median(v)).collect();
    let base = medians[0];
    println!("{lines} lines of 100 bytes per process, medians of {RUNS} alternating runs");
    for ((name, procs, _), m) in setups.iter().zip(&medians) {
        let vs4 = if *procs == 4 {
            format!("   vs async 4p {:.2}", m / medians[2])
        } else {
            String::new()
        };
        println!(
            "{name:<10} {:>6.2} M lines/s   vs async 1p {:.2}{vs4}",
            m / 1e6,
            m / base
        );
    }
}
