//! `lethe --uring` as a real process: every line arrives once and in order through the
//! io_uring path, a bad LETHE_URING is named, and where io_uring is not usable the command
//! warns and still writes everything.
#![cfg(feature = "uring")]

use std::fs;

mod support;
use support::lethe_with_env as lethe;

#[test]
fn uring_flag_keeps_every_line_across_rotations_and_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let input: String = (1..=100_000).map(|i| format!("{i}\n")).collect();
    let out = lethe(
        &[
            "--uring",
            "--max-size",
            "64KB",
            "--max-backups",
            "none",
            "--fsync",
            "16KB",
            log.to_str().unwrap(),
        ],
        &[],
        input.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let usable = lethe_std::uring::probe();
    match &usable {
        Ok(()) => assert!(stderr.is_empty(), "unexpected stderr: {stderr}"),
        Err(e) => {
            support::missing(format_args!(
                "io_uring path not taken here ({e}); checking the fallback"
            ));
            assert!(
                stderr.contains("warning: io_uring cannot be used"),
                "{stderr}"
            );
            assert!(stderr.contains("set up io_uring"), "{stderr}");
        }
    }
    let mut files: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != &log)
        .collect();
    files.sort();
    files.push(log);
    assert!(files.len() > 5, "expected rotations, got {files:?}");
    let all: String = files
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    assert!(all == input, "lines lost, repeated or reordered");
}

#[test]
fn a_bad_lethe_uring_value_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let out = lethe(
        &[log.to_str().unwrap()],
        &[("LETHE_URING", "sometimes")],
        b"x\n",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LETHE_URING"), "{stderr}");
    assert!(stderr.contains("sometimes"), "{stderr}");
    assert!(stderr.contains("expected off, on or strict"), "{stderr}");
}
