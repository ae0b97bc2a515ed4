//! The `lethe` command writing into a file system that fails on demand (lethe-std's
//! `tests/support/faultfs.rs`, a FUSE passthrough): a failing `fsync` or `write` is named
//! on stderr, counted by `--stats`, and decides the exit status; no line is lost or
//! repeated while the file system recovers. The command's default I/O path (blocking
//! syscalls, io_uring being opt-in) is the one tested.

use std::fs;

mod support;
use support::{lethe, numbers};

// faultfs reports a missing prerequisite through `super::missing`.
#[allow(unused_imports)]
use support::missing;

#[path = "../../lethe-std/tests/support/faultfs.rs"]
mod faultfs;
use faultfs::{FaultFs, FaultOp};

/// The `--stats` line of `stderr`.
fn stats_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.contains(" lines, ") && l.contains(" errors"))
        .unwrap_or_else(|| panic!("no --stats line in {stderr:?}"))
}

/// The number before `what` in the `--stats` line (`12 errors`).
fn stat(stderr: &str, what: &str) -> u64 {
    let line = stats_line(stderr);
    let at = line
        .find(&format!(" {what}"))
        .unwrap_or_else(|| panic!("no {what:?} in {line:?}"));
    line[..at]
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before {what:?} in {line:?}"))
}

#[test]
fn a_failing_fsync_is_named_counted_and_fails_the_exit_status() {
    let Some(ffs) = FaultFs::mount("lethe with a failing fsync") else {
        return;
    };
    // Every fsync of the log fails: the policy's (reported, writing goes on) and the one
    // at exit (the lines' durability is unknown: exit status 1).
    ffs.arm(FaultOp::Fsync, libc::EIO, None, Some("app.log"));
    let file = ffs.dir().join("app.log");
    let input = numbers(1, 20_000);
    let out = lethe(
        &["--fsync", "16KB", "--stats", file.to_str().unwrap()],
        &input,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("fsync") && l.contains("app.log") && l.contains("os error 5")),
        "{stderr}"
    );
    assert!(stat(&stderr, "errors") >= 1, "{stderr}");
    assert_eq!(stat(&stderr, "lines lost"), 0, "{stderr}");
    assert!(ffs.injected(FaultOp::Fsync) >= 2);
    assert_eq!(fs::read(ffs.backing().join("app.log")).unwrap(), input);
}

#[test]
fn failing_writes_are_named_counted_and_retried_without_losing_a_line() {
    let Some(ffs) = FaultFs::mount("lethe with failing writes") else {
        return;
    };
    // The first five writes fail with EIO; lethe retries with backoff.
    ffs.arm(FaultOp::Write, libc::EIO, Some(5), Some("app.log"));
    let file = ffs.dir().join("app.log");
    let input = numbers(1, 20_000);
    let out = lethe(&["--stats", file.to_str().unwrap()], &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(ffs.injected(FaultOp::Write), 5);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("write") && l.contains("app.log") && l.contains("os error 5")),
        "{stderr}"
    );
    assert_eq!(stat(&stderr, "errors"), 5, "{stderr}");
    assert_eq!(stat(&stderr, "lines lost"), 0, "{stderr}");
    assert_eq!(fs::read(ffs.backing().join("app.log")).unwrap(), input);
}

#[test]
fn writes_that_never_recover_lose_counted_lines_and_exit_1() {
    let Some(ffs) = FaultFs::mount("lethe with a dead disk") else {
        return;
    };
    ffs.arm(FaultOp::Write, libc::EIO, None, Some("app.log"));
    let file = ffs.dir().join("app.log");
    let out = lethe(&["--stats", file.to_str().unwrap()], &numbers(1, 1000));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Close gives up after its timeout (5 s) and says how many lines it lost.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stat(&stderr, "lines lost"), 1000, "{stderr}");
    assert!(
        stderr.contains("1000 lines could not be written"),
        "{stderr}"
    );
    assert!(stderr.contains("os error 5"), "{stderr}");
    assert_eq!(fs::read(ffs.backing().join("app.log")).unwrap(), b"");
}

#[test]
fn a_failing_rename_at_rotation_is_named_counted_and_retried() {
    let Some(ffs) = FaultFs::mount("lethe with a failing rename") else {
        return;
    };
    // The first rotation's rename fails three times; lethe holds the lines and retries.
    ffs.arm(FaultOp::Rename, libc::EIO, Some(3), Some("app.log"));
    let file = ffs.dir().join("app.log");
    let input = numbers(1, 20_000); // about 110 KB: six rotations at 16 KB
    let out = lethe(
        &[
            "--max-size",
            "16KB",
            "--max-backups",
            "1000",
            "--no-compress",
            "--stats",
            file.to_str().unwrap(),
        ],
        &input,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(ffs.injected(FaultOp::Rename), 3);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("rename") && l.contains("os error 5")),
        "{stderr}"
    );
    assert_eq!(stat(&stderr, "errors"), 3, "{stderr}");
    assert!(stat(&stderr, "rotations") >= 6, "{stderr}");
    assert_eq!(stat(&stderr, "lines lost"), 0, "{stderr}");
    // Backups in name (so sequence) order, then the active file: the input, once.
    let mut joined = Vec::new();
    for name in support::names(ffs.backing()) {
        if name != "app.log" {
            joined.extend(fs::read(ffs.backing().join(name)).unwrap());
        }
    }
    joined.extend(fs::read(ffs.backing().join("app.log")).unwrap());
    assert_eq!(joined, input);
}
