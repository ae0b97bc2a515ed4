//! `uring-bench` ends a failed run with a message naming what failed and exit status 1,
//! never a panic; a tiny `--only` case still prints its figures in the usual format.
//! (Only cases that fail at once or write a thousand lines: no benchmark runs here.)
#![cfg(feature = "uring")]

use std::process::{Command, Output};

/// Runs uring-bench with `args`, and `LETHE_BENCH_BUFFER` set to `buffer` if given.
fn uring_bench(args: &[&str], buffer: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uring-bench"));
    cmd.args(args).env_remove("LETHE_BENCH_BUFFER");
    if let Some(v) = buffer {
        cmd.env("LETHE_BENCH_BUFFER", v);
    }
    cmd.output().expect("run the uring-bench binary")
}

#[test]
fn failures_end_the_run_with_a_message_and_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    let file = file.to_str().unwrap();
    let only = ["--only", "cache", "blocking", "--lines", "10"];
    let cases: Vec<(Vec<&str>, Option<&str>, String)> = vec![
        (
            [&["--dir", file][..], &only].concat(),
            None,
            format!("uring-bench: creating {file}/cache-blocking: "),
        ),
        (
            vec!["--dir", file, "--reps", "0"],
            None,
            "uring-bench: --reps must be at least 1".into(),
        ),
        (
            vec!["--dir", file, "--scale=-1"],
            None,
            "uring-bench: --scale -1 is invalid: it must be above 0".into(),
        ),
        (
            vec!["--dir", file, "--only", "disk", "blocking"],
            None,
            "uring-bench: unknown workload \"disk\"; known: cache, fsync, eight".into(),
        ),
        (
            vec!["--dir", file, "--modes", "uring"],
            None,
            "uring-bench: --modes must include blocking (the baseline)".into(),
        ),
        (
            [&["--dir", dir.path().to_str().unwrap()][..], &only].concat(),
            Some("lots"),
            "uring-bench: LETHE_BENCH_BUFFER=\"lots\": ".into(),
        ),
    ];
    for (args, buffer, needle) in cases {
        let out = uring_bench(&args, buffer);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with(&needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn one_tiny_case_prints_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = uring_bench(
        &[
            "--dir",
            dir.path().to_str().unwrap(),
            "--only",
            "cache",
            "blocking",
            "--lines",
            "1000",
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..2], ["lines 1000", "bytes 100000"], "{stdout}");
    assert!(
        lines.len() == 3 && lines[2].starts_with("secs "),
        "{stdout}"
    );
    // The case directory is removed after the run.
    assert!(!dir.path().join("cache-blocking").exists());
}
