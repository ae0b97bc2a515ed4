//! The comparison harness end to end, at a tiny size: every contender runs every workload
//! it supports in its own child process, and every run leaves exactly the lines it wrote.
//! (Timings are printed by the harness, never asserted here.)

use std::io::Write as _;
use std::process::Command;

#[test]
fn every_contender_runs_and_keeps_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(["--records", "2000", "--bursts", "5", "--runs", "1", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run the compare binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "compare failed:\n{stdout}\n{stderr}");

    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| W"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
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
        // Latency phase: 5 bursts of 20 per thread; timed phase: 2000 records.
        let threads = if workload == "W3" { 2 } else { 1 };
        let expected = 2000 + 5 * 20 * threads;
        assert!(
            check.starts_with(&format!("ok: {expected} lines")),
            "{workload} {contender}: {check}\n{stdout}"
        );
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
    assert!(stdout.contains("`dd if=/dev/zero bs=64k`"), "{stdout}");
    assert!(stdout.contains("### Goals"), "{stdout}");
}
