//! The running `lethe` process: signals (SIGUSR1 rotates, SIGHUP reopens after an external
//! move, SIGTERM/SIGINT stop without losing what was read), `tail -F` beside it during
//! rotations, and a full disk (reported, rate-limited, recovered from).
//!
//! Waits here are for an observable state (a file's contents, a line on stderr), polled
//! with a timeout; none of them sleeps for a fixed time hoping something happened.

use std::fs;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;
use support::{gunzip, numbers, spawn_lethe, tmpfs_of};

/// A running `lethe` with its standard input open and its stderr collected.
struct Lethe {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Lethe {
    fn start(args: &[&str], file: &Path) -> Lethe {
        let mut child = spawn_lethe(args, file);
        let stdin = child.stdin.take();
        let err = BufReader::new(child.stderr.take().unwrap());
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Lethe {
            child,
            stdin,
            stderr,
            reader: Some(reader),
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("sh")
            .args(["-c", &format!("kill -{name} {}", self.child.id())])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the exit (with standard input still open when `close_input` is false).
    fn wait(mut self, close_input: bool) -> (ExitStatus, Vec<String>) {
        if close_input {
            drop(self.stdin.take());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("lethe did not exit; stderr: {:?}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.reader.take().unwrap().join().unwrap();
        (status, self.stderr())
    }
}

impl Drop for Lethe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `ready` every few milliseconds until it holds; fails after 30 s.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Lethe's backups of `active` (`stem.<sequence>...`), sorted (rotation order).
fn backups(dir: &Path, active: &str) -> Vec<PathBuf> {
    let stem = active.split('.').next().unwrap();
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with(&format!("{stem}.0")) && !n.ends_with(".sha256")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn sigusr1_rotates_now() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut p = Lethe::start(&["--max-backups", "10"], &log);
    p.feed(b"before\n");
    wait_until("the first line in FILE", || read(&log) == "before\n");
    p.signal("USR1");
    wait_until("a backup", || backups(dir.path(), "app.log").len() == 1);
    p.feed(b"after\n");
    let (status, stderr) = p.wait(true);
    assert!(status.success(), "{stderr:?}");
    let b = backups(dir.path(), "app.log");
    assert_eq!(read(&b[0]), "before\n");
    assert_eq!(read(&log), "after\n");
}

#[test]
fn sighup_after_an_external_move_reopens_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let moved = dir.path().join("app.log.old");
    let mut p = Lethe::start(&[], &log);
    p.feed(b"one\n");
    wait_until("the first line in FILE", || read(&log) == "one\n");
    fs::rename(&log, &moved).unwrap();
    // lethe also notices the move by itself (its path check runs at most once a second),
    // so "two" lands in whichever file is open at that moment: the moved one, or the new
    // one if the check ran first. SIGHUP reopens at once either way.
    p.feed(b"two\n");
    wait_until("the second line in one of the files", || {
        format!("{}{}", read(&moved), read(&log)) == "one\ntwo\n"
    });
    p.signal("HUP");
    wait_until("a new FILE", || log.exists());
    p.feed(b"three\n");
    let (status, stderr) = p.wait(true);
    assert!(status.success(), "{stderr:?}");
    let (old, new) = (read(&moved), read(&log));
    assert!(old.starts_with("one\n"), "{old:?}");
    assert!(new.ends_with("three\n"), "{new:?}");
    assert_eq!(
        format!("{old}{new}"),
        "one\ntwo\nthree\n",
        "nothing lost or duplicated"
    );
    assert!(
        backups(dir.path(), "app.log").is_empty(),
        "a reopen is no rotation"
    );
}

#[test]
fn sigterm_and_sigint_lose_nothing_that_was_fed_and_finish_compression() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let mut p = Lethe::start(
            &[
                "--max-size",
                "100KB",
                "--max-backups",
                "1000",
                "--compress",
                "--checksum",
                "--stats",
            ],
            &log,
        );
        let input = numbers(1, 100_000);
        // Once this returns, every line is in lethe or in the pipe; standard input stays
        // open, so only the signal can end the run.
        p.feed(&input);
        p.signal(signal);
        let (status, stderr) = p.wait(false);
        assert!(status.success(), "SIG{signal}: {stderr:?}");
        assert!(
            stderr.iter().any(|l| l.contains("stopped by a signal")),
            "SIG{signal}: {stderr:?}"
        );
        let mut joined = Vec::new();
        let gz = backups(dir.path(), "app.log");
        assert!(gz.len() > 3, "SIG{signal}: rotations happened");
        for b in &gz {
            assert!(
                b.to_str().unwrap().ends_with(".log.gz"),
                "SIG{signal}: background compression finished: {b:?}"
            );
            joined.extend(gunzip(b));
        }
        joined.extend(fs::read(&log).unwrap());
        assert_eq!(
            joined.len(),
            input.len(),
            "SIG{signal}: lines fed {} vs lines in files {}",
            input.iter().filter(|b| **b == b'\n').count(),
            joined.iter().filter(|b| **b == b'\n').count()
        );
        assert_eq!(joined, input, "SIG{signal}");
        let check = Command::new("sh")
            .args(["-c", "gzip -t *.log.gz && sha256sum -c --quiet *.sha256"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "SIG{signal}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[test]
fn a_line_being_read_when_sigterm_arrives_is_kept_as_far_as_it_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut p = Lethe::start(&[], &log);
    p.feed(b"whole\nhalf of a li");
    wait_until("the whole line", || read(&log) == "whole\n");
    p.signal("TERM");
    let (status, stderr) = p.wait(false);
    assert!(status.success(), "{stderr:?}");
    assert_eq!(read(&log), "whole\nhalf of a li");
    // The next run starts on a new line.
    let mut p = Lethe::start(&[], &log);
    p.feed(b"next\n");
    let (status, stderr) = p.wait(true);
    assert!(status.success(), "{stderr:?}");
    assert_eq!(read(&log), "whole\nhalf of a li\nnext\n");
}

/// A running `tail -F -n +1 FILE`, its output collected.
struct Tail {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Tail {
    fn start(file: &Path, extra: &[&str]) -> Option<Tail> {
        let mut child = Command::new("tail")
            .args(extra)
            .args(["-F", "-n", "+1"])
            .arg(file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&out);
        std::thread::spawn(move || {
            use std::io::Read as _;
            let mut buf = [0u8; 64 * 1024];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Some(Tail { child, out })
    }

    fn len(&self) -> usize {
        self.out.lock().unwrap().len()
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tail -F` beside lethe during rotations sees every line, once, in order: lethe never
/// writes to a file after renaming it, and creates the new FILE right after, so a `tail
/// -F` that reopens FILE before the next rotation reads the old file to its end and then
/// the new one from its start. The input comes in bursts that each fill about a fifth of
/// a file, so rotations fall in the middle of bursts, and the next burst waits until
/// tail has caught up: at most one rotation happens between two of tail's reads (a
/// rotator renaming faster than a reader reopens can make any `tail -F` miss a whole
/// file). Two tails: the default (inotify) and the polling one that GNU tail uses where
/// inotify is not available; both with `-s 0.05`, because GNU tail 9.1 may notice a
/// replaced file only at its next sleep interval (1 s by default) even with inotify.
#[test]
fn tail_follow_name_beside_lethe_sees_every_line_across_rotations() {
    let version = Command::new("tail").arg("--version").output();
    if !version.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU coreutils")) {
        support::skip("GNU tail (coreutils) is not available");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    // Both tails start before FILE exists and wait for it to appear.
    let inotify = Tail::start(&log, &["-s", "0.05"]).unwrap();
    let polling = Tail::start(&log, &["---disable-inotify", "-s", "0.05"]).unwrap();
    let mut p = Lethe::start(&["--max-size", "64KB", "--max-backups", "1000"], &log);
    let line = |i: u32| format!("line {i:08}\n"); // 14 bytes: 4 571 lines per file
    let mut input = Vec::new();
    let bursts = 48; // 48 000 lines, 10 rotations; the last in burst 46
    for b in 0..bursts {
        let burst: String = (b * 1000..(b + 1) * 1000).map(line).collect();
        p.feed(burst.as_bytes());
        input.extend_from_slice(burst.as_bytes());
        let want = input.len();
        wait_until(&format!("tail -F to catch up after burst {b}"), || {
            polling.len() >= want && inotify.len() >= want
        });
    }
    let (status, stderr) = p.wait(true);
    assert!(status.success(), "{stderr:?}");
    assert!(
        backups(dir.path(), "app.log").len() >= 10,
        "rotations happened"
    );
    wait_until("both tails to reach the end", || {
        polling.len() >= input.len() && inotify.len() >= input.len()
    });
    for (name, tail) in [("polling", &polling), ("inotify", &inotify)] {
        let seen = tail.out.lock().unwrap().clone();
        assert!(
            seen == input,
            "{name} tail -F saw {} bytes, not exactly the {} fed",
            seen.len(),
            input.len()
        );
    }
}

/// A full disk is reported on stderr, at most about once a second, while lethe keeps
/// running and keeps every line it read; once space returns, all of them reach the files.
#[test]
fn a_full_disk_is_reported_rate_limited_and_lethe_recovers_without_losing_lines() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = tmpfs_of(dir.path(), "512k") else {
        return;
    };
    // Fill the file system, then leave 32 KiB.
    let filler = dir.path().join("filler");
    {
        let mut f = fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(32 * 1024)).unwrap();
    }
    let log = dir.path().join("app.log");
    let mut p = Lethe::start(&["--max-size", "16KB", "--max-backups", "1000"], &log);
    let input = numbers(1, 30_000); // about 170 KB
    let started = Instant::now();
    p.feed(&input);
    // Errors keep coming (the writer retries with backoff); the second one printed, a
    // second or more after the first, says how many were held back.
    wait_until("a rate-limited repeat of the disk-full error", || {
        p.stderr().iter().any(|l| l.contains("not shown"))
    });
    let reported = p.stderr();
    let elapsed = started.elapsed().as_secs();
    assert!(
        reported
            .iter()
            .all(|l| l.contains("No space left on device") || l.contains("ENOSPC")),
        "{reported:?}"
    );
    assert!(
        reported.len() as u64 <= elapsed + 2,
        "at most about one message a second: {} in {elapsed} s: {reported:?}",
        reported.len()
    );
    // Space comes back; lethe was never stuck.
    fs::remove_file(&filler).unwrap();
    let (status, stderr) = p.wait(true);
    assert!(status.success(), "{stderr:?}");
    let mut joined = Vec::new();
    for b in backups(dir.path(), "app.log") {
        joined.extend(fs::read(b).unwrap());
    }
    joined.extend(fs::read(&log).unwrap());
    assert_eq!(joined, input, "every line read reached the files, once");
}

/// `--on-full drop` on a full disk never waits: what does not fit in the buffer is
/// dropped and counted, and every line is either in the files or in that count.
#[test]
fn on_full_drop_counts_every_line_it_drops_on_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = tmpfs_of(dir.path(), "512k") else {
        return;
    };
    let filler = dir.path().join("filler");
    {
        let mut f = fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(16 * 1024)).unwrap();
    }
    let log = dir.path().join("app.log");
    let mut p = Lethe::start(
        &[
            "--on-full",
            "drop",
            "--buffer",
            "64KiB",
            "--max-size",
            "none",
            "--stats",
        ],
        &log,
    );
    let input = numbers(1, 50_000); // 289 KB: far more than the disk and the buffer hold
    p.feed(&input);
    wait_until("the disk-full error", || {
        p.stderr().iter().any(|l| l.contains("No space left"))
    });
    fs::remove_file(&filler).unwrap();
    let (status, stderr) = p.wait(true);
    assert!(status.success(), "{stderr:?}");
    let summary = stderr
        .iter()
        .find(|l| l.contains(" lines, "))
        .unwrap_or_else(|| panic!("no --stats summary: {stderr:?}"));
    let dropped: usize = summary
        .split(" dropped")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no drop count: {summary}"));
    let written = fs::read_to_string(&log).unwrap();
    let fed = 50_000;
    assert!(dropped > 0, "{summary}");
    assert_eq!(
        written.lines().count() + dropped,
        fed,
        "every line is in the file or counted as dropped: {summary}"
    );
    // What was kept is in order and whole.
    let mut last = 0u64;
    for line in written.lines() {
        let n: u64 = line
            .parse()
            .unwrap_or_else(|_| panic!("torn line {line:?}"));
        assert!(n > last, "{n} after {last}");
        last = n;
    }
}

/// Is `signal` (1-based) neither pending for the process nor for any of its threads?
fn delivered(pid: u32, signal: u32) -> bool {
    let bit = 1u64 << (signal - 1);
    let pending = |status: &str| {
        status
            .lines()
            .filter(|l| l.starts_with("SigPnd:") || l.starts_with("ShdPnd:"))
            .any(|l| u64::from_str_radix(l[7..].trim(), 16).is_ok_and(|m| m & bit != 0))
    };
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return true; // gone
    };
    tasks
        .filter_map(Result::ok)
        .all(|t| fs::read_to_string(t.path().join("status")).map_or(true, |s| !pending(&s)))
}

/// The first SIGTERM waits for the writer to finish (here: a full disk, so up to the 5 s
/// close timeout); a second one exits at once with status 1.
#[test]
fn a_second_sigterm_exits_at_once_with_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = tmpfs_of(dir.path(), "512k") else {
        return;
    };
    let filler = dir.path().join("filler");
    {
        let mut f = fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
    }
    let log = dir.path().join("app.log");
    let mut p = Lethe::start(&["--stats"], &log);
    p.feed(&numbers(1, 10_000));
    wait_until("the disk-full error", || {
        p.stderr().iter().any(|l| l.contains("No space left"))
    });
    let pid = p.child.id();
    p.signal("TERM");
    wait_until("the first SIGTERM to be delivered", || delivered(pid, 15));
    p.signal("TERM");
    let (status, stderr) = p.wait(false);
    assert_eq!(status.code(), Some(1), "{stderr:?}");
    // After one SIGTERM, lethe would retry for the 5 s close timeout and then report
    // "... could not be written before close gave up"; the second one cut that short.
    assert!(
        !stderr
            .iter()
            .any(|l| l.contains("gave up") || l.contains(" lines, ")),
        "the second signal ended the wait: {stderr:?}"
    );
}
