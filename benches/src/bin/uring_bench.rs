//! io_uring against blocking syscalls for the async [`Writer`], in the same run (see
//! docs/BENCHMARKS.md, "The io_uring path"):
//!
//! 1. `cache`: one thread writes 100-byte lines into the page cache (no rotation).
//! 2. `fsync`: the same with `Fsync::EveryBytes(1 MiB)`; compared with
//!    `fio --ioengine=io_uring` writing the same bytes with an fsync every 1 MiB.
//! 3. `eight`: eight writers on eight threads, each file rotating every 4 MiB.
//!
//! Each workload runs in four modes: `blocking` (`Uring::Off`), `uring` (`Uring::Strict`,
//! so a fallback cannot pass for io_uring), `uring-ring` (the same with
//! `UringAppends::Ring`: plain appends through the ring instead of `write(2)`) and
//! `sqpoll` (`Uring::Strict` with SQPOLL).
//! Lines per second are medians over the repetitions, modes interleaved. Syscalls per MiB
//! come from separate runs of each case under `strace -c -f` (strace slows everything,
//! so no timing is taken there; medians of `--strace-runs`, default 3, because how a
//! flood splits into batches varies from run to run). Each figure is marginal: the case
//! runs with its line count and with twice as many, and the difference in calls is
//! divided by the difference in MiB, so that the process's fixed calls (loading,
//! start-up, exit) cancel out. They count every syscall (thread parking and wake-ups
//! included), and separately the I/O calls (`write`, `writev`, `fsync`,
//! `io_uring_enter`, `openat`, `renameat2`, `fallocate`, ...). "I/O ratio" is the
//! blocking mode's I/O calls per MiB divided by the mode's.
//!
//! Usage:
//! `cargo run --release -p lethe-benches --features uring --bin uring-bench [-- OPTIONS]`
//!
//! - `--dir DIR`: where the files go (default: a temporary directory under /tmp);
//! - `--reps N`: repetitions per case (default 5);
//! - `--scale F`: multiply the line counts (default 1.0: 1 000 000 lines for `cache`,
//!   300 000 for `fsync`, 8 × 150 000 for `eight`);
//! - `--modes LIST`: comma-separated subset of `blocking,uring,uring-ring,sqpoll`
//!   (blocking first; default all four);
//! - `--strace-runs N`: measurements under strace per case, two runs each (default 3; 0
//!   skips them);
//! - `--only WORKLOAD MODE`: run one case once and print its figures (what the strace runs
//!   use).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use lethe_benches::{RECORD_LEN, median, record};
use lethe_core::retention::RetentionPolicy;
use lethe_std::{
    Fsync, IoStatus, Options, Uring, UringAppends, UringOptions, Writer, WriterOptions,
};

const WORKLOADS: [&str; 3] = ["cache", "fsync", "eight"];
const MODES: [&str; 4] = ["blocking", "uring", "uring-ring", "sqpoll"];

/// What a failure says: a message naming what failed, for `main` to print.
type Run<T> = Result<T, String>;

fn options(workload: &str, mode: &str) -> Run<WriterOptions> {
    let uring = match mode {
        "blocking" => UringOptions::default().mode(Uring::Off),
        "uring" => UringOptions::default().mode(Uring::Strict),
        "uring-ring" => UringOptions::default()
            .mode(Uring::Strict)
            .appends(UringAppends::Ring),
        "sqpoll" => UringOptions::default()
            .mode(Uring::Strict)
            .sqpoll(Some(100)),
        other => return Err(unknown("mode", other, &MODES)),
    };
    let file = Options::default().io_uring(uring);
    let file = match workload {
        "cache" => file.max_size(None),
        "fsync" => file.max_size(None).fsync(Fsync::EveryBytes(1 << 20)),
        "eight" => file
            .max_size(Some(4 << 20))
            .retention(RetentionPolicy::new().max_count(3)),
        other => return Err(unknown("workload", other, &WORKLOADS)),
    };
    let options = WriterOptions::default().file(file);
    // The ring's size bounds a batch (and so the syscalls per MiB) on both paths. Unset,
    // each mode has its default (1 MiB; 8 MiB through io_uring with an fsync policy);
    // `LETHE_BENCH_BUFFER=4MiB` runs every mode with that ring.
    Ok(match lethe_benches::bench_buffer()? {
        Some(bytes) => options.buffer(bytes),
        None => options,
    })
}

/// `unknown mode "x"; known: blocking, uring, sqpoll`.
fn unknown(what: &str, name: &str, known: &[&str]) -> String {
    format!("unknown {what} {name:?}; known: {}", known.join(", "))
}

fn lines_for(workload: &str, scale: f64) -> usize {
    let base = match workload {
        "cache" => 1_000_000,
        "fsync" => 300_000,
        _ => 150_000, // per file
    };
    ((base as f64) * scale) as usize
}

/// Runs one case: returns (lines written, bytes, seconds, the writers' ring capacity).
fn run_case(dir: &Path, workload: &str, mode: &str, lines: usize) -> Run<(usize, u64, f64, u64)> {
    let case = dir.join(format!("{workload}-{mode}"));
    let _ = std::fs::remove_dir_all(&case);
    std::fs::create_dir_all(&case).map_err(|e| format!("creating {}: {e}", case.display()))?;
    let files = if workload == "eight" { 8 } else { 1 };
    let mut writers = Vec::with_capacity(files);
    for i in 0..files {
        let path = case.join(format!("app{i}.log"));
        let log = Writer::open(&path, options(workload, mode)?)
            .map_err(|e| format!("{workload}/{mode}: opening {}: {e}", path.display()))?;
        writers.push(log);
    }
    let started = Instant::now();
    std::thread::scope(|s| {
        let threads: Vec<_> = writers
            .iter()
            .enumerate()
            .map(|(t, log)| {
                s.spawn(move || {
                    let line = record(t as u64);
                    for _ in 0..lines {
                        log.write_record(&line)
                            .map_err(|e| format!("{workload}/{mode}: write: {e}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        threads.into_iter().try_for_each(|t| {
            t.join()
                .unwrap_or_else(|_| Err(format!("{workload}/{mode}: a writer thread panicked")))
        })
    })?;
    let mut bytes = 0;
    let mut capacity = 0;
    let want = if mode == "blocking" {
        IoStatus::Blocking
    } else {
        IoStatus::Uring
    };
    for log in writers {
        let m = log
            .close()
            .map_err(|e| format!("{workload}/{mode}: close: {e}"))?;
        if m.file.io != want {
            return Err(format!(
                "{workload}/{mode} took the wrong path: {:?}, not {want:?}",
                m.file.io
            ));
        }
        if m.writes != lines as u64 {
            return Err(format!(
                "{workload}/{mode}: {} writes counted, {lines} made",
                m.writes
            ));
        }
        bytes += m.bytes;
        capacity = m.buffer_capacity;
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&case);
    Ok((lines * files, bytes, secs, capacity))
}

/// Syscalls per MiB of one case, all and I/O only, as the medians of `runs` measurements.
/// Each measurement runs this binary with `--only` under `strace -c -f` twice, with
/// `lines` and with `2 × lines` lines, and divides the difference in calls by the
/// difference in MiB: the process's fixed calls (loading, start-up, the final `fsync`,
/// printing the figures) cancel out, and what is left is the cost per MiB written.
fn strace_median(
    dir: &Path,
    workload: &str,
    mode: &str,
    lines: usize,
    runs: usize,
) -> Option<(f64, f64)> {
    let mut all = Vec::new();
    let mut io = Vec::new();
    for _ in 0..runs {
        let (a1, i1, m1) = strace(dir, workload, mode, lines)?;
        let (a2, i2, m2) = strace(dir, workload, mode, 2 * lines)?;
        let mib = m2 - m1;
        all.push((a2 - a1) / mib);
        io.push((i2 - i1) / mib);
    }
    if runs == 0 {
        return None;
    }
    Some((median(&mut all), median(&mut io)))
}

/// Runs this binary with `--only` under `strace -c -f`: (all syscalls, I/O syscalls, MiB
/// written).
fn strace(dir: &Path, workload: &str, mode: &str, lines: usize) -> Option<(f64, f64, f64)> {
    let out = dir.join(format!("strace-{workload}-{mode}.txt"));
    let exe = std::env::current_exe().ok()?;
    let status = Command::new("strace")
        .args(["-c", "-f", "-o"])
        .arg(&out)
        .arg(&exe)
        .args(["--dir"])
        .arg(dir)
        .args(["--only", workload, mode, "--lines", &lines.to_string()])
        .output()
        .ok()?;
    if !status.status.success() {
        eprintln!(
            "strace run failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&status.stdout);
    let bytes: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bytes "))
        .and_then(|b| b.trim().parse().ok())?;
    let table = std::fs::read_to_string(&out).ok()?;
    let mut total = 0.0;
    let mut io = 0.0;
    for line in table.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(calls)) = (cols.last(), cols.get(3)) else {
            continue;
        };
        let Ok(calls) = calls.parse::<f64>() else {
            continue;
        };
        match *name {
            "total" => total = calls,
            "write" | "writev" | "pwrite64" | "pwritev" | "fsync" | "fdatasync"
            | "io_uring_enter" | "rename" | "renameat" | "renameat2" | "openat" | "fallocate"
            | "ftruncate" => io += calls,
            _ => {}
        }
    }
    Some((total, io, bytes / (1 << 20) as f64))
}

/// `fio --ioengine=io_uring` writing `bytes` with an fsync every 1 MiB, in `dir`: MiB/s.
fn fio(dir: &Path, bytes: u64) -> Option<f64> {
    let size = format!("{}k", bytes / 1024);
    let out = Command::new("fio")
        .args([
            "--name=lethe-w2",
            "--ioengine=io_uring",
            "--rw=write",
            "--bs=64k",
            "--fsync=16", // 16 × 64 KiB: an fsync every 1 MiB, like workload 2
            "--end_fsync=1",
            "--iodepth=1",
            "--direct=0",
            "--output-format=json",
        ])
        .arg(format!("--size={size}"))
        .arg(format!("--directory={}", dir.display()))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("fio failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let json = String::from_utf8_lossy(&out.stdout);
    let write = json.find("\"write\" : {")?;
    let rest = &json[write..];
    let at = rest.find("\"bw_bytes\"")?;
    let num: String = rest[at + 10..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let _ = std::fs::remove_file(dir.join("lethe-w2.0.0"));
    Some(num.parse::<f64>().ok()? / (1 << 20) as f64)
}

/// The command line (see the module documentation).
#[derive(clap::Parser)]
#[command(about = "io_uring against blocking syscalls for the async Writer")]
struct Args {
    /// Where the files go [default: a temporary directory under /tmp].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Repetitions per case.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Multiply the line counts.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Lines per writer (overrides the workload's count and --scale).
    #[arg(long)]
    lines: Option<usize>,
    /// Measurements under strace per case, two runs each (0 skips them).
    #[arg(long, default_value_t = 3)]
    strace_runs: usize,
    /// Comma-separated modes; blocking is the baseline and must be included.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(MODES))]
    modes: Vec<String>,
    /// Run one case once and print its figures (what the strace runs use).
    #[arg(long, num_args = 2, value_names = ["WORKLOAD", "MODE"])]
    only: Option<Vec<String>>,
}

fn run() -> Run<()> {
    let args = <Args as clap::Parser>::parse();
    let (reps, scale, strace_runs, lines_override) =
        (args.reps, args.scale, args.strace_runs, args.lines);
    let dir = args.dir;
    let modes: Vec<&str> = if args.modes.is_empty() {
        MODES.to_vec()
    } else {
        MODES
            .iter()
            .copied()
            .filter(|m| args.modes.iter().any(|x| x == m))
            .collect()
    };
    if modes.first() != Some(&"blocking") {
        return Err("--modes must include blocking (the baseline)".into());
    }
    if reps == 0 {
        return Err("--reps must be at least 1".into());
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!("--scale {scale} is invalid: it must be above 0"));
    }
    let only = match args.only.as_deref() {
        Some([w, m]) => {
            if !WORKLOADS.contains(&w.as_str()) {
                return Err(unknown("workload", w, &WORKLOADS));
            }
            if !MODES.contains(&m.as_str()) {
                return Err(unknown("mode", m, &MODES));
            }
            Some((w.clone(), m.clone()))
        }
        Some(other) => return Err(format!("--only takes WORKLOAD MODE, not {other:?}")),
        None => None,
    };
    let (dir, _tmp) = lethe_benches::dir_or_temp(dir)?;
    if let Some((w, m)) = only {
        let lines = lines_override.unwrap_or_else(|| lines_for(&w, scale));
        let (n, bytes, secs, _) = run_case(&dir, &w, &m, lines)?;
        println!("lines {n}");
        println!("bytes {bytes}");
        println!("secs {secs:.3}");
        return Ok(());
    }
    println!(
        "uring-bench: {RECORD_LEN}-byte lines, {reps} repetitions, modes interleaved, \
         directory {}",
        dir.display()
    );
    let mut fsync_bytes = 0;
    let mut fsync_uring_mib_s = 0.0;
    for w in WORKLOADS {
        let lines = lines_for(w, scale);
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
        let mut mib_s: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
        let mut buffers = vec![0u64; modes.len()];
        for _ in 0..reps {
            for (i, m) in modes.iter().enumerate() {
                let (n, bytes, secs, capacity) = run_case(&dir, w, m, lines)?;
                buffers[i] = capacity;
                rates[i].push(n as f64 / secs);
                mib_s[i].push(bytes as f64 / (1 << 20) as f64 / secs);
                if w == "fsync" {
                    fsync_bytes = bytes;
                }
            }
        }
        let base = median(&mut rates[0].clone());
        println!("\n{w}: {lines} lines per writer");
        println!(
            "  {:<9} {:>8} {:>12} {:>9} {:>8} {:>16} {:>16} {:>9}",
            "mode",
            "buffer",
            "lines/s",
            "MiB/s",
            "vs block",
            "syscalls/MiB",
            "I/O calls/MiB",
            "I/O ratio"
        );
        let mut blocking_io = None;
        for (i, m) in modes.iter().enumerate() {
            let r = median(&mut rates[i]);
            let b = median(&mut mib_s[i]);
            if w == "fsync" && *m == "uring" {
                fsync_uring_mib_s = b;
            }
            let calls = strace_median(&dir, w, m, lines, strace_runs);
            if i == 0 {
                blocking_io = calls.map(|(_, io)| io);
            }
            let (all, io, ratio) = match calls {
                Some((a, io)) => (
                    format!("{a:.1}"),
                    format!("{io:.1}"),
                    blocking_io.map_or("n/a".into(), |bio| format!("{:.1}", bio / io)),
                ),
                None => ("n/a".into(), "n/a".into(), "n/a".into()),
            };
            println!(
                "  {m:<9} {:>8} {r:>12.0} {b:>9.1} {:>8.2} {all:>16} {io:>16} {ratio:>9}",
                format!("{} KiB", buffers[i] >> 10),
                r / base
            );
        }
    }
    match fio(&dir, fsync_bytes) {
        Some(bw) => println!(
            "\nfio --ioengine=io_uring, bs=64k, fsync every 1 MiB, {} MiB: {bw:.1} MiB/s; \
             lethe uring in workload 2: {fsync_uring_mib_s:.1} MiB/s = {:.0} % of fio",
            fsync_bytes >> 20,
            100.0 * fsync_uring_mib_s / bw
        ),
        None => println!("\nfio not available: install it (apt-get install fio) to compare"),
    }
    Ok(())
}

fn main() -> ExitCode {
    lethe_benches::exit_code("uring-bench", run())
}
