//! The `lethe` command with a read-only log directory, for real: the directory is
//! bind-mounted read-only over itself (`support::read_only`; root cannot write through
//! it), as when a file system is remounted read-only. `lethe` writes with the default I/O
//! path of its build (io_uring where built with it and allowed, else blocking syscalls);
//! both behave the same here (lethe-std's `tests/read_only.rs` checks each).
//!
//! - Started there, it exits 1 at once with one line naming the path and the cause, and
//!   creates nothing.
//! - Running when the directory turns read-only, it keeps appending (past `--max-size`),
//!   reports the failed rotation on stderr (and a failed SIGUSR1 rotation or SIGHUP
//!   reopen), rotates by itself once the directory is writable again, and exits 0 with
//!   every line in the files exactly once, in order.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

mod support;
use support::{
    collect_stderr, gunzip, lethe, names, numbers, read_only, sh_in, spawn_lethe, wait_until,
};

#[test]
fn started_in_a_read_only_directory_lethe_exits_1_with_one_line_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ro) = read_only(dir.path()) else {
        return;
    };
    let file = dir.path().join("app.log");
    let nested = dir.path().join("logs/app.log");
    for (path, op, named) in [
        (&file, "open", file.clone()),
        (&nested, "create directory", dir.path().join("logs")),
    ] {
        let out = lethe(&[path.to_str().unwrap()], b"one line\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!(
                "lethe: {op} {}: Read-only file system (os error 30)",
                named.display()
            )
        );
    }
    drop(ro);
    assert!(names(dir.path()).is_empty(), "nothing was created");
}

/// The lines in `dir`'s `app.log` segments: backups in order (`.gz` decompressed), then
/// the active file.
fn all_lines(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names(dir) {
        let p = dir.join(&n);
        if n.starts_with("app.0") && n.ends_with(".log.gz") {
            out.extend(gunzip(&p));
        } else if n.starts_with("app.0") && n.ends_with(".log") {
            out.extend(fs::read(&p).unwrap());
        }
    }
    out.extend(fs::read(dir.join("app.log")).unwrap());
    out
}

#[test]
fn a_running_lethe_keeps_appending_while_its_directory_is_read_only_and_rotates_after() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.log");
    let mut child = spawn_lethe(
        &[
            "--max-size",
            "4KB",
            "--max-backups",
            "1000",
            "--compress",
            "--checksum",
        ],
        &file,
    );
    let stderr = collect_stderr(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    let backups = |dir: &Path| {
        names(dir)
            .iter()
            .filter(|n| n.starts_with("app.0") && !n.ends_with(".sha256"))
            .count()
    };
    let size = || fs::metadata(&file).map_or(0, |m| m.len());

    // About 10 KB: two rotations or more.
    stdin.write_all(&numbers(1, 2000)).unwrap();
    stdin.flush().unwrap();
    // Their compression done too, so that the first error below is the rotation's (the
    // next one within a second would be held back by the rate limit).
    let compressed = |dir: &Path| {
        names(dir)
            .iter()
            .filter(|n| n.starts_with("app.0") && n.ends_with(".gz.sha256"))
            .count()
    };
    wait_until("the first lines, rotations and compressions", || {
        backups(dir.path()) >= 2
            && compressed(dir.path()) == backups(dir.path())
            && all_lines(dir.path()).ends_with(b"2000\n")
    });
    let rotated = backups(dir.path());
    // Any earlier background message (io_uring's fallback where it cannot be used) would
    // hold the next one back for a second (the rate limit): wait that out first.
    std::thread::sleep(Duration::from_millis(1100));
    let Some(ro) = read_only(dir.path()) else {
        return;
    };
    // About 30 KB more, all into the active file.
    stdin.write_all(&numbers(2001, 8000)).unwrap();
    stdin.flush().unwrap();
    wait_until("the lines written while read-only", || {
        fs::read(&file).is_ok_and(|t| t.ends_with(b"\n8000\n"))
    });
    assert!(size() > 16 << 10, "past --max-size: {}", size());
    assert_eq!(backups(dir.path()), rotated, "nothing could be renamed");
    wait_until("the failed rotation on stderr", || {
        stderr.lock().unwrap().iter().any(|l| l.contains("rename"))
    });
    {
        let lines = stderr.lock().unwrap();
        let dir_name = dir.path().display().to_string();
        // (Where io_uring cannot be used, lethe says so first.)
        for l in lines.iter().filter(|l| !l.contains("io_uring")) {
            assert!(l.starts_with("lethe: "), "{lines:?}");
            assert!(l.contains("Read-only file system"), "{lines:?}");
            assert!(l.contains(&dir_name), "{lines:?}");
        }
    }

    // SIGUSR1 (rotate now) and SIGHUP (reopen) fail there too: reported, and lethe goes
    // on with the file it has.
    let signal = |name: &str| {
        let sent = std::process::Command::new("kill")
            .args([&format!("-{name}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name}");
    };
    signal("USR1");
    wait_until("the failed SIGUSR1 rotation on stderr", || {
        stderr.lock().unwrap().iter().any(|l| {
            l.starts_with("lethe: SIGUSR1: rotation failed: ")
                && l.contains("Read-only file system")
        })
    });
    // A second message within a second of the last would be held back by the rate limit
    // until later (or the exit): wait that second out, so the reopen's failure shows
    // while the directory is still read-only.
    std::thread::sleep(Duration::from_millis(1100));
    signal("HUP");
    wait_until("the failed SIGHUP reopen on stderr", || {
        stderr.lock().unwrap().iter().any(|l| {
            l.starts_with("lethe: SIGHUP: reopening failed: open ")
                && l.contains("Read-only file system")
        })
    });
    stdin.write_all(&numbers(8001, 8010)).unwrap();
    stdin.flush().unwrap();
    wait_until("the lines after the signals", || {
        fs::read(&file).is_ok_and(|t| t.ends_with(b"\n8010\n"))
    });

    drop(ro);
    // Lines keep coming; a second later the rotation succeeds.
    let mut next = 8011;
    wait_until("a rotation once writable", || {
        stdin.write_all(&numbers(next, next + 9)).unwrap();
        stdin.flush().unwrap();
        next += 10;
        std::thread::sleep(Duration::from_millis(10));
        backups(dir.path()) > rotated
    });
    drop(stdin);
    let status = child.wait().unwrap();
    let stderr = stderr.lock().unwrap().clone();
    assert!(status.success(), "{stderr:?}");
    assert_eq!(
        all_lines(dir.path()),
        numbers(1, next - 1),
        "every line once, in order"
    );
    sh_in(dir.path(), "sha256sum -c *.sha256 && gzip -t *.gz");
}
