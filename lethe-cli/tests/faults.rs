//! The `lethe` command writing into a file system that fails on demand (lethe-std's
//! `tests/support/faultfs.rs`, a FUSE passthrough): a failing `fsync`, `write` or rename
//! at rotation is named on stderr and counted by `--stats`, and a failing `fsync` or
//! `write` decides the exit status; no line is lost or repeated while the file system
//! recovers. The command's default I/O path (blocking syscalls, io_uring being opt-in) is
//! the one tested.

use std::fs;
use std::io::Write as _;

mod support;
use support::{collect_stderr, lethe, numbers, spawn_lethe, wait_until};

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

/// lethe's first size rotation cannot rename the file (the fault stays armed until the
/// test clears it): the failure is named on stderr, the lines go on into the active file
/// past `--max-size`, the rotation is tried again about once a second, and once renames
/// work again it happens by itself. `--stats` counts each failed attempt in `errors`, and
/// every line is in the files once, in order.
#[test]
fn a_failing_rename_at_rotation_is_named_counted_and_retried() {
    let Some(ffs) = FaultFs::mount("lethe with a failing rename") else {
        return;
    };
    ffs.arm(FaultOp::Rename, libc::EIO, None, Some("app.log"));
    let file = ffs.dir().join("app.log");
    let active = ffs.backing().join("app.log");
    let mut child = spawn_lethe(
        &[
            "--max-size",
            "16KB",
            "--max-backups",
            "1000",
            "--no-compress",
            "--stats",
        ],
        &file,
    );
    let stderr = collect_stderr(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    // About 39 KB: the rotation falls due at 16 KB and its rename fails.
    stdin.write_all(&numbers(1, 8000)).unwrap();
    stdin.flush().unwrap();
    wait_until("the lines in the active file", || {
        fs::read(&active).is_ok_and(|t| t.ends_with(b"\n8000\n"))
    });
    wait_until("the failed rename on stderr", || {
        stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("rename") && l.contains("app.") && l.contains("os error 5"))
    });
    assert!(ffs.injected(FaultOp::Rename) >= 1);
    assert_eq!(
        support::names(ffs.backing()),
        ["app.log"],
        "nothing renamed"
    );
    let size = fs::metadata(&active).unwrap().len();
    assert!(size > 16 << 10, "past --max-size: {size}");
    // Renames work again: lines keep coming, and the next attempt rotates by itself.
    ffs.disarm(FaultOp::Rename);
    let mut next = 8001;
    wait_until("a rotation once renames work", || {
        stdin.write_all(&numbers(next, next + 9)).unwrap();
        stdin.flush().unwrap();
        next += 10;
        std::thread::sleep(std::time::Duration::from_millis(10));
        support::names(ffs.backing()).len() > 1
    });
    // About 110 KB more: size rotations as usual.
    stdin.write_all(&numbers(next, 30_000)).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    wait_until("the --stats line", || {
        stderr.lock().unwrap().iter().any(|l| l.contains(" errors"))
    });
    let stderr = stderr.lock().unwrap().join("\n");
    assert!(status.success(), "{stderr}");
    // Each failed attempt, and nothing else, is counted.
    assert!(ffs.injected(FaultOp::Rename) >= 1);
    assert_eq!(
        stat(&stderr, "errors"),
        ffs.injected(FaultOp::Rename),
        "{stderr}"
    );
    assert!(stat(&stderr, "rotations") >= 6, "{stderr}");
    assert_eq!(stat(&stderr, "lines lost"), 0, "{stderr}");
    assert_eq!(stat(&stderr, "lines"), 30_000, "{stderr}");
    // Backups in name (so sequence) order, then the active file: the input, once.
    let mut joined = Vec::new();
    for name in support::names(ffs.backing()) {
        if name != "app.log" {
            joined.extend(fs::read(ffs.backing().join(name)).unwrap());
        }
    }
    joined.extend(fs::read(&active).unwrap());
    assert_eq!(joined, numbers(1, 30_000));
}
