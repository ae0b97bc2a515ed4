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
//!
//! Any failure (the directory, a child's spawn, open, write or close, its report) ends the
//! run with a message naming what failed and exit status 1, never with a panic.

use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use lethe_benches::{median, record};
use lethe_core::retention::RetentionPolicy;
use lethe_std::{Options, Writer, WriterOptions};

const RUNS: usize = 5;

/// Runs the benchmark (or one child's part), or returns what went wrong.
type Run<T> = Result<T, String>;

fn now_ns() -> Run<u128> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .map_err(|e| format!("reading the clock: {e}"))
}

/// Child: writes `lines` records to `path`; prints `start_ns end_ns rotations`.
fn child(path: &Path, shared: bool, lines: u64) -> Run<()> {
    let options = WriterOptions::default().file(
        Options::default()
            .shared(shared)
            .max_size(Some(64 << 20))
            .retention(RetentionPolicy::new().max_count(2)),
    );
    let log =
        Writer::open(path, options).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let start = now_ns()?;
    for seq in 0..lines {
        log.write_record(&record(seq))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let metrics = log
        .close()
        .map_err(|e| format!("closing {}: {e}", path.display()))?;
    let end = now_ns()?;
    println!("{start} {end} {}", metrics.file.rotations);
    Ok(())
}

/// Starts one child writing `lines` records to `file`.
fn spawn(exe: &Path, file: &Path, shared: bool, lines: u64) -> Run<Child> {
    Command::new(exe)
        .env(
            "LETHE_SHARED_BENCH_CHILD",
            if shared { "shared" } else { "async" },
        )
        .env("LETHE_BENCH_LINES", lines.to_string())
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning a child {} {}: {e}", exe.display(), file.display()))
}

/// Waits for a child writing to `file`; returns the (start, end) it reports.
fn finish(child: Child, file: &Path) -> Run<(u128, u128)> {
    let what = format!("the child writing {}", file.display());
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.split_whitespace().map(str::parse::<u128>);
    match (f.next(), f.next()) {
        (Some(Ok(s)), Some(Ok(e))) => Ok((s, e)),
        _ => Err(format!(
            "{what} printed {:?}, not `start_ns end_ns rotations`",
            text.trim_end()
        )),
    }
}

/// Runs `procs` children (shared: one file; otherwise one file each). Returns the
/// aggregate lines per second. Every child started is waited for, even when another
/// failed, so that none outlives the run.
fn run_setup(dir: &Path, procs: usize, shared: bool, lines: u64) -> Run<f64> {
    clear(dir)?;
    let exe =
        std::env::current_exe().map_err(|e| format!("finding this program's own path: {e}"))?;
    let mut children = Vec::with_capacity(procs);
    for i in 0..procs {
        let file = if shared {
            dir.join("app.log")
        } else {
            dir.join(format!("app{i}.log"))
        };
        match spawn(&exe, &file, shared, lines) {
            Ok(c) => children.push((c, file)),
            Err(e) => {
                for (mut c, _) in children {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                return Err(e);
            }
        }
    }
    let results: Vec<_> = children
        .into_iter()
        .map(|(c, file)| finish(c, &file))
        .collect();
    let (mut first, mut last) = (u128::MAX, 0u128);
    for r in results {
        let (s, e) = r?;
        first = first.min(s);
        last = last.max(e);
    }
    let secs = last.saturating_sub(first) as f64 / 1e9;
    Ok((procs as u64 * lines) as f64 / secs)
}

/// Removes the files in `dir`.
fn clear(dir: &Path) -> Run<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let _ = std::fs::remove_file(e.path());
    }
    Ok(())
}

/// Lines per process: `LETHE_BENCH_LINES`, else 1 000 000.
fn lines() -> Run<u64> {
    match std::env::var("LETHE_BENCH_LINES") {
        Err(_) => Ok(1_000_000),
        Ok(v) => v.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(|| {
            format!("LETHE_BENCH_LINES={v:?}: expected a whole number of lines, at least 1")
        }),
    }
}

fn run() -> Run<()> {
    let lines = lines()?;
    if let Ok(mode) = std::env::var("LETHE_SHARED_BENCH_CHILD") {
        let path = std::env::args().nth(1).ok_or("no file path given")?;
        return child(Path::new(&path), mode == "shared", lines);
    }
    let (dir, _tmp) = lethe_benches::bench_dir()?;
    let setups = [
        ("async 1p", 1, false),
        ("shared 1p", 1, true),
        ("async 4p", 4, false),
        ("shared 4p", 4, true),
    ];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    for _ in 0..RUNS {
        for (i, (_, procs, shared)) in setups.iter().enumerate() {
            results[i].push(run_setup(&dir, *procs, *shared, lines)?);
        }
    }
    clear(&dir)?;
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
    Ok(())
}

fn main() -> ExitCode {
    let who = if std::env::var_os("LETHE_SHARED_BENCH_CHILD").is_some() {
        "shared-bench child"
    } else {
        "shared-bench"
    };
    lethe_benches::exit_code(who, run())
}
