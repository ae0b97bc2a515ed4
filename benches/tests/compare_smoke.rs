//! The comparison harness end to end, at a tiny size: every contender runs every workload
//! it supports in its own child process, every run leaves exactly the lines it wrote (all
//! of them already in the files when its clock stopped), and every figure of the table is
//! there and plausible. A second, larger run of lethe-async in W4 rotates and compresses.
//! (Timings are printed by the harness, never compared against a limit here.)

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

/// Runs the `compare` binary with `args` (and `--runs 1 --dir dir`); returns its stdout.
fn compare(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(args)
        .args(["--runs", "1", "--dir"])
        .arg(dir)
        .output()
        .expect("run the compare binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "compare failed:\n{stdout}\n{stderr}");
    stdout
}

/// The result rows of the table, split into their cells.
fn rows(stdout: &str) -> Vec<Vec<&str>> {
    stdout
        .lines()
        .filter(|l| l.starts_with("| W"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

/// A latency cell (`70 ns`, `12.1 µs`) in ns.
fn ns(cell: &str) -> f64 {
    let (value, unit) = cell.split_once(' ').unwrap_or_else(|| panic!("{cell:?}"));
    let value: f64 = value.parse().unwrap_or_else(|e| panic!("{cell:?}: {e}"));
    match unit {
        "ns" => value,
        "µs" => value * 1e3,
        _ => panic!("latency unit in {cell:?}"),
    }
}

/// A peak-RSS cell (`5.2 MiB`) in MiB.
fn mib(cell: &str) -> f64 {
    let value = cell
        .strip_suffix(" MiB")
        .unwrap_or_else(|| panic!("peak RSS {cell:?}"));
    value.parse().unwrap_or_else(|e| panic!("{cell:?}: {e}"))
}

/// An allocations-per-record cell.
fn per_record(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|e| panic!("allocations {cell:?}: {e}"))
}

/// Checks the figures of a row that ran: latency percentiles positive and in order,
/// allocations per record non-negative with the whole process's at least the callers',
/// peak RSS read and positive.
fn check_figures(row: &[&str], table: &str) {
    let (p50, p99, p999) = (ns(row[5]), ns(row[6]), ns(row[7]));
    assert!(
        0.0 < p50 && p50 <= p99 && p99 <= p999,
        "latency {row:?}\n{table}"
    );
    let (caller, process) = (per_record(row[8]), per_record(row[9]));
    assert!(
        0.0 <= caller && caller <= process,
        "allocations {row:?}\n{table}"
    );
    assert!(mib(row[10]) > 0.0, "peak RSS {row:?}\n{table}");
}

#[test]
fn every_contender_runs_and_keeps_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = compare(dir.path(), &["--records", "2000", "--bursts", "5"]);
    let rows = rows(&stdout);
    // 11 contenders × 5 workloads.
    assert_eq!(rows.len(), 55, "{stdout}");
    let mut ran = 0;
    let mut uring_ran = 0;
    let mut uring_na = 0;
    for row in &rows {
        let (workload, contender, rate, check) = (row[0], row[1], row[2], row[11]);
        if rate == "N/A" {
            assert!(!check.is_empty(), "N/A without a reason: {row:?}");
            if contender == "lethe-uring" {
                assert!(check.contains("`uring` feature"), "{row:?}");
                uring_na += 1;
            }
            continue;
        }
        if contender == "lethe-uring" {
            // `Uring::Strict` fails to open where the kernel or a sandbox refuses io_uring.
            if check.starts_with("FAILED") && check.to_lowercase().contains("uring") {
                // Straight to stderr, which the test harness does not capture.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIP: lethe-uring {workload}: io_uring unavailable here: {check}"
                );
                continue;
            }
            uring_ran += 1;
        }
        ran += 1;
        // Latency phase: 5 bursts of 20 per thread; timed phase: 2000 records. `ok`
        // also means that every line was in the files when the clock stopped (not LATE).
        let threads = if workload == "W3" { 2 } else { 1 };
        let expected = 2000 + 5 * 20 * threads;
        assert!(
            check.starts_with(&format!("ok: {expected} lines")),
            "{workload} {contender}: {check}\n{stdout}"
        );
        check_figures(row, &stdout);
    }
    // Every contender runs W2 and W3; Lethe's sync and async modes W1–W5, and its uring
    // mode too where it is built and allowed; see Kind::support.
    assert_eq!(ran, 34 + uring_ran, "{stdout}");
    // N/A exactly when built without the feature; with it, it runs (or SKIPs) everywhere.
    assert_eq!(
        uring_na,
        if cfg!(feature = "uring") { 0 } else { 5 },
        "{stdout}"
    );
    assert!(uring_ran == 0 || uring_ran == 5, "{stdout}");
    for name in [
        "lethe-sync",
        "lethe-async",
        "tracing-appender",
        "spdlog-rs",
        "ftlog",
        "fast_log",
        "flexi_logger",
        "log4rs",
        "file-rotate",
        "BufWriter baseline",
    ] {
        assert!(
            rows.iter()
                .any(|r| r[0] == "W2" && r[1] == name && r[2] != "N/A"),
            "{name} did not run W2"
        );
    }
    // The counting allocator is live: the loggers that allocate per record show it.
    for name in ["spdlog-rs", "ftlog", "fast_log", "flexi_logger", "log4rs"] {
        let row = rows.iter().find(|r| r[0] == "W2" && r[1] == name).unwrap();
        assert!(
            per_record(row[9]) > 0.0,
            "{name} allocates nothing? {row:?}"
        );
    }
    assert!(stdout.contains("`dd if=/dev/zero bs=64k`"), "{stdout}");
    assert!(stdout.contains("### Goals"), "{stdout}");
    // The head names the machine (the bench directory's file system included) and the
    // command, so that every table pasted from this output carries them.
    let machine = stdout
        .lines()
        .find_map(|l| l.strip_prefix("- machine: "))
        .unwrap_or_else(|| panic!("no machine line\n{stdout}"));
    for part in [
        " CPUs (",
        " GiB memory, Linux ",
        " bench dir ",
        ", mounted at ",
    ] {
        assert!(machine.contains(part), "{part:?} missing in {machine:?}");
    }
    assert!(
        stdout.contains("- command: `cargo run --release -p lethe-benches"),
        "{stdout}"
    );
    assert!(
        stdout.find("- machine: ") < stdout.find("### Results"),
        "{stdout}"
    );
}

#[test]
fn lethe_async_rotates_and_compresses_in_w4() {
    // 400 000 records of about 95 bytes: two 16 MiB rotations, so at least one `.gz`.
    let dir = tempfile::tempdir().unwrap();
    let stdout = compare(
        dir.path(),
        &[
            "--records",
            "400000",
            "--bursts",
            "5",
            "--contenders",
            "lethe-async",
            "--workloads",
            "W4",
        ],
    );
    let rows = rows(&stdout);
    assert_eq!(rows.len(), 1, "{stdout}");
    let row = &rows[0];
    let check = row[11];
    // The harness decompresses every `.gz` to the end (a corrupt one fails the run), so
    // `ok` with the full count and at least one `.gz` means valid archives holding lines.
    let rest = check
        .strip_prefix("ok: 400100 lines, ")
        .unwrap_or_else(|| panic!("{check}\n{stdout}"));
    let gz: u64 = rest
        .split_once(" .gz")
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no .gz count in {check:?}"));
    assert!(gz >= 1, "{check}");
    check_figures(row, &stdout);
}
