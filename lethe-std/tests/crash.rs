//! Crash safety of [`Writer`]: a child process writes numbered lines with rotation every
//! 1.5 KB, gzip and SHA-256 sidecars, calls `sync()` every 64 lines and reports on its
//! standard output the last line number each successful `sync()` covered. The parent
//! kills it with SIGKILL at a random moment (rotations and compressions happen every few
//! milliseconds, so kills land during both), 50 times over one directory. After each kill
//! it restarts the log (opening runs recovery) and closes it (waiting for background
//! work), then checks: no `.tmp` file, every `.gz` passes `gzip -t`, every sidecar passes
//! `sha256sum -c`. At the end, across all segments in order, each run's lines are
//! exactly `0..n` (no duplicate, no gap: a lost segment would leave one) with `n` past
//! the last acknowledged line; the only damage allowed is a torn, unacknowledged last
//! line of a killed run.
//!
//! The child is this test binary itself, re-executed with `LETHE_CRASH_CHILD` set.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use lethe_core::retention::RetentionPolicy;
use lethe_std::{Options, Writer, WriterOptions};

mod support;
use support::{Rng, crash_seed, names, segments, sh_in};

const KILLS: u32 = 50;
const SYNC_EVERY: u32 = 64;

/// The writer's options; with `ring`, io_uring's plain appends go on the ring
/// (`UringAppends::Ring`; the child of the ring test sets `LETHE_CRASH_RING`).
fn options(ring: bool) -> WriterOptions {
    let file = Options::default()
        .max_size(Some(1_500))
        .compress(Some(1))
        .checksum(true)
        .retention(RetentionPolicy::new());
    #[cfg(feature = "uring")]
    let file = if ring {
        use lethe_std::{UringAppends, UringOptions};
        file.io_uring(UringOptions::default().appends(UringAppends::Ring))
    } else {
        file
    };
    #[cfg(not(feature = "uring"))]
    let _ = ring;
    WriterOptions::default().buffer(64 * 1024).file(file)
}

/// The child: writes until killed, acknowledging each successful `sync()`.
fn child(log: &Path, run: u32, ring: bool) {
    let w = Writer::open(log, options(ring)).expect("child: open");
    // A killed run may have left a torn last line: start on a new line.
    w.write_record(b"\n").expect("child: write");
    let mut out = std::io::stdout().lock();
    for i in 0..2_000_000u32 {
        w.write_record(format!("run {run} line {i}\n").as_bytes())
            .expect("child: write");
        if (i + 1) % SYNC_EVERY == 0 {
            w.sync().expect("child: sync");
            writeln!(out, "{i}").expect("child: report");
            out.flush().expect("child: report");
        }
    }
}

/// Restarts the log (recovery) and waits for its background work, then checks the
/// directory: no temporaries, valid gzip, verifying sidecars.
fn restart_and_check(dir: &Path, ring: bool) {
    let log = Writer::open(dir.join("app.log"), options(ring)).expect("restart");
    let m = log.close().expect("close after restart");
    #[cfg(feature = "uring")]
    if ring {
        assert_eq!(m.file.io, lethe_std::IoStatus::Uring, "{m:?}");
    }
    let _ = m;
    let listing = names(dir);
    assert!(
        listing.iter().all(|n| !n.ends_with(".tmp")),
        "temporaries left: {listing:?}"
    );
    // Recovery finished every interrupted job: each backup is a `.gz` with its sidecar,
    // and no raw backup is left.
    for n in &listing {
        assert!(
            n == "app.log" || n.ends_with(".log.gz") || n.ends_with(".log.gz.sha256"),
            "{n} left after recovery: {listing:?}"
        );
        if n.ends_with(".gz") {
            assert!(
                listing.contains(&format!("{n}.sha256")),
                "{n} has no sidecar"
            );
        }
    }
    if listing.iter().any(|n| n.ends_with(".gz")) {
        sh_in(dir, "gzip -t *.gz && sha256sum -c --quiet *.sha256");
    }
}

#[test]
fn sigkill_during_rotation_and_compression_loses_no_synced_line() {
    crash_test(
        "sigkill_during_rotation_and_compression_loses_no_synced_line",
        false,
    );
}

/// The same with io_uring's plain appends on the ring.
#[cfg(feature = "uring")]
#[test]
fn sigkill_with_ring_appends_loses_no_synced_line() {
    if std::env::var_os("LETHE_CRASH_CHILD").is_none()
        && support::uring_unavailable("sigkill_with_ring_appends")
    {
        return;
    }
    crash_test("sigkill_with_ring_appends_loses_no_synced_line", true);
}

/// The parent's loop of [`KILLS`] kills and restarts, or (in the re-executed child, which
/// runs the test named `test` alone) the child's writing.
fn crash_test(test: &str, ring: bool) {
    if let Ok(log) = std::env::var("LETHE_CRASH_CHILD") {
        let run = std::env::var("LETHE_CRASH_RUN").unwrap().parse().unwrap();
        child(Path::new(&log), run, ring);
        return;
    }
    let mut rng = Rng(crash_seed());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let me = std::env::current_exe().unwrap();
    // acked[run]: the last line number a successful sync() covered.
    let mut acked: Vec<Option<u32>> = Vec::new();
    let (mut in_flight_tmp, mut pending_raw) = (0, 0);
    for run in 0..KILLS {
        let mut child = Command::new(&me)
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env("LETHE_CRASH_CHILD", &log)
            .env("LETHE_CRASH_RUN", run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                // The test harness prints its own lines; acknowledgements are bare numbers.
                if let Ok(i) = line.trim().parse::<u32>() {
                    if last.is_none() {
                        let _ = first_tx.send(());
                    }
                    last = Some(i);
                }
            }
            last
        });
        // Kill at a random moment once the child is writing (rotations every ~60 lines,
        // so a few milliseconds of writing span rotations and compressions).
        first_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the child acknowledged its first sync");
        std::thread::sleep(Duration::from_micros(rng.next() % 50_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        acked.push(reader.join().unwrap());
        // Work the kill interrupted: a raw backup waiting for (or in) compression, or a
        // temporary of a compression or sidecar in progress.
        let left = names(dir.path());
        if left.iter().any(|n| n.ends_with(".tmp")) {
            in_flight_tmp += 1;
        }
        if left.iter().any(|n| n != "app.log" && n.ends_with(".log")) {
            pending_raw += 1;
        }
        restart_and_check(dir.path(), ring);
    }

    let text = String::from_utf8(segments(dir.path(), "app.log").concat()).expect("UTF-8");
    let mut next: HashMap<u32, u32> = HashMap::new();
    let mut torn = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let parsed = line
            .strip_prefix("run ")
            .and_then(|rest| rest.split_once(" line "))
            .and_then(|(r, i)| r.parse::<u32>().ok().zip(i.parse::<u32>().ok()));
        match parsed {
            Some((run, i)) if next.get(&run).copied().unwrap_or(0) == i => {
                next.insert(run, i + 1);
            }
            _ => {
                // Only a strict prefix of some run's next line, never acknowledged.
                let torn_ok = (0..KILLS).any(|run| {
                    let n = next.get(&run).copied().unwrap_or(0);
                    let whole = format!("run {run} line {n}");
                    line.len() < whole.len()
                        && whole.starts_with(line)
                        && acked[run as usize].is_none_or(|a| n > a)
                });
                assert!(torn_ok, "duplicate, gap or garbage: {line:?}");
                torn += 1;
            }
        }
    }
    for (run, ack) in acked.iter().enumerate() {
        let have = next.get(&(run as u32)).copied().unwrap_or(0);
        if let Some(a) = ack {
            assert!(
                have > *a,
                "run {run}: line {a} was acknowledged by sync() but only {have} lines survive"
            );
        }
    }
    let rotations = names(dir.path())
        .iter()
        .filter(|n| n.ends_with(".log.gz"))
        .count();
    println!(
        "{KILLS} kills, {rotations} compressed segments, {} lines, {torn} torn last lines; \
         kills that left a raw backup to compress: {pending_raw}, a temporary: {in_flight_tmp}",
        next.values().map(|&n| u64::from(n)).sum::<u64>()
    );
    assert!(pending_raw > 0, "no kill interrupted a compression");
    assert!(
        acked.iter().all(Option::is_some),
        "every run synced at least once"
    );
    assert!(
        rotations > KILLS as usize,
        "kills landed among many rotations"
    );
}
