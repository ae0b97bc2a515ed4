//! Crash safety: `lethe --compress --checksum` is killed with SIGKILL at random moments
//! (during writes, rotations and background compression), many times over one directory.
//! Each restart recovers. At the end there is no temporary file, every `.gz` is valid,
//! every sidecar verifies, and for every run the lines on disk are exactly a prefix of
//! what that run was given: nothing duplicated, nothing missing in between (a lost
//! segment would leave a gap). The only damage a kill may leave is a torn last line of a
//! run (Linux cuts a large `write` short when the process is killed); it must be a prefix
//! of that run's next line, and the next run starts on a new line.

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

mod support;
use support::{Rng, crash_seed, gunzip, names, sh_in, spawn_lethe};

const KILLS: u32 = 50;

fn start(log: &Path) -> std::process::Child {
    spawn_lethe(
        &[
            "--max-size",
            "20KB",
            "--max-backups",
            "100000",
            "--compress",
            "--checksum",
        ],
        log,
    )
}

/// The active file's length and the directory's entry count.
fn snapshot(log: &Path) -> (u64, usize) {
    let len = fs::metadata(log).map_or(0, |m| m.len());
    let entries = fs::read_dir(log.parent().unwrap()).unwrap().count();
    (len, entries)
}

/// Waits (up to 20 s) until the directory shows that the new run wrote something.
fn wait_for_progress(log: &Path, before: &(u64, usize)) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while snapshot(log) == *before && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn sigkill_during_rotation_and_compression_loses_no_segment() {
    let mut rng = Rng(crash_seed());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");

    for run in 0..KILLS {
        let before = snapshot(&log);
        let mut child = start(&log);
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            for i in 0..200_000u32 {
                if writeln!(stdin, "run {run} line {i}").is_err() {
                    return; // killed
                }
            }
        });
        // Kill at a random moment after this run began to work (its start-up takes
        // longer than the random delay on a loaded machine).
        wait_for_progress(&log, &before);
        std::thread::sleep(Duration::from_millis(5 + rng.next() % 60));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        feeder.join().unwrap();
    }
    // A last, clean run with no input recovers and finishes all background work.
    let mut child = start(&log);
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let names = names(dir.path());
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "temporaries left: {names:?}"
    );
    assert!(
        names
            .iter()
            .all(|n| n == "app.log" || n.ends_with(".log.gz") || n.ends_with(".log.gz.sha256")),
        "every backup is compressed with a sidecar: {names:?}"
    );
    sh_in(
        dir.path(),
        "gzip -t *.log.gz && sha256sum -c --quiet *.sha256",
    );

    let mut text = Vec::new();
    for n in names.iter().filter(|n| n.ends_with(".log.gz")) {
        text.extend(gunzip(&dir.path().join(n)));
    }
    text.extend(fs::read(&log).unwrap());
    let text = String::from_utf8(text).expect("no torn bytes");
    assert!(text.is_empty() || text.ends_with('\n'), "no torn last line");
    let mut next: HashMap<u32, u32> = HashMap::new();
    let mut torn = 0;
    // A torn line is a strict prefix of the line some run would have written next.
    let is_torn = |line: &str, next: &HashMap<u32, u32>| {
        (0..=KILLS).any(|run| {
            let whole = format!("run {run} line {}", next.get(&run).copied().unwrap_or(0));
            line.len() < whole.len() && whole.starts_with(line)
        })
    };
    for line in text.lines() {
        let mut parts = line.split(' ');
        let parsed = match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("run"), Some(run), Some("line"), Some(i), None) => {
                run.parse::<u32>().ok().zip(i.parse::<u32>().ok())
            }
            _ => None,
        };
        match parsed {
            Some((run, i)) if next.get(&run).copied().unwrap_or(0) == i => {
                next.insert(run, i + 1);
            }
            _ if is_torn(line, &next) => torn += 1,
            _ => panic!("line {line:?}: a gap, a duplicate or a foreign line"),
        }
    }
    assert!(
        torn <= KILLS as usize,
        "{torn} torn lines for {KILLS} kills"
    );
    let total: u32 = next.values().sum();
    println!(
        "{} runs left {total} lines in {} files",
        next.len(),
        names.len()
    );
    assert!(total > 0);
}
