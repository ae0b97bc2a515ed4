//! The synchronous writer: many threads appending directly, rotation under concurrency,
//! compression after the last writer leaves a segment.

use std::collections::HashMap;
use std::io::Write as _;

use lethe_core::retention::RetentionPolicy;
use lethe_core::rotation::Schedule;
use lethe_std::clock::ManualClock;
use lethe_std::{Options, SyncWriter};

mod support;
use support::{eventually, names, segments, sh_in};

#[test]
fn four_threads_rotating_every_64_kib_keep_every_line_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default()
        .max_size(Some(64 * 1024))
        .compress(Some(1))
        .checksum(true)
        .retention(RetentionPolicy::new());
    let log = SyncWriter::open(dir.path().join("app.log"), options).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let mut log = log.clone();
            std::thread::spawn(move || {
                for i in 0..50_000 {
                    writeln!(log, "t{t} {i}").unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (writes, _, rotations) = log.counts();
    log.close().unwrap();
    assert_eq!(writes, 200_000);
    assert!(rotations > 20);
    let segs = segments(dir.path(), "app.log");
    let mut next: HashMap<u32, u32> = HashMap::new();
    for seg in &segs {
        assert!(seg.len() <= 64 * 1024, "a segment of {} bytes", seg.len());
        for line in std::str::from_utf8(seg).unwrap().lines() {
            let (t, i) = line.split_once(' ').unwrap();
            let t: u32 = t[1..].parse().unwrap();
            let i: u32 = i.parse().unwrap();
            let e = next.entry(t).or_insert(0);
            assert_eq!(i, *e, "thread {t}: gap, duplicate or reorder");
            *e += 1;
        }
    }
    assert!(next.values().all(|&n| n == 50_000));
    let all = names(dir.path());
    assert!(all.iter().all(|n| !n.ends_with(".tmp")));
    sh_in(
        dir.path(),
        "gzip -t *.log.gz && sha256sum -c --quiet *.sha256",
    );
}

#[test]
fn time_rotation_and_same_second_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let midnight = 1_795_392_000;
    let clock = ManualClock::new(midnight - 60);
    let options = Options::default()
        .max_size(None)
        .schedule(Some(Schedule::daily(0).unwrap()))
        .retention(RetentionPolicy::new());
    let log =
        SyncWriter::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    log.write_record(b"before midnight\n").unwrap();
    clock.set(midnight + 1);
    log.write_record(b"after midnight\n").unwrap();
    for i in 0..100 {
        log.write_record(format!("manual {i}\n").as_bytes())
            .unwrap();
        log.rotate().unwrap();
    }
    log.close().unwrap();
    let all = names(dir.path());
    assert_eq!(
        all.len(),
        102,
        "1 time rotation + 100 manual + the active file"
    );
    assert_eq!(all[0], "app.0000000001.20261123T000001Z.log");
    let joined: Vec<u8> = segments(dir.path(), "app.log").concat();
    let mut expected = String::from("before midnight\nafter midnight\n");
    for i in 0..100 {
        expected.push_str(&format!("manual {i}\n"));
    }
    assert_eq!(String::from_utf8(joined).unwrap(), expected);
}

#[test]
fn the_fsync_policy_runs_on_the_writers_every_n_bytes_and_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default().fsync(lethe_std::Fsync::EveryBytes(4_096));
    let log = SyncWriter::open(dir.path().join("bytes.log"), options).unwrap();
    let line = [b'b'; 100];
    for _ in 0..100 {
        log.write_record(&line).unwrap(); // 10 000 bytes: points at 4 096 and 8 192
    }
    assert_eq!(log.metrics().file.syncs, 2, "{:?}", log.metrics());

    let clock = ManualClock::new(1_795_392_000);
    let options =
        Options::default().fsync(lethe_std::Fsync::Every(std::time::Duration::from_secs(1)));
    let log =
        SyncWriter::open_with_clock(dir.path().join("time.log"), options, clock.clone()).unwrap();
    log.write_record(b"first\n").unwrap();
    assert_eq!(log.metrics().file.syncs, 0, "not due yet");
    clock.advance(2);
    log.write_record(b"second\n").unwrap();
    assert_eq!(log.metrics().file.syncs, 1, "due after an interval");
    log.write_record(b"third\n").unwrap();
    assert_eq!(log.metrics().file.syncs, 1, "the interval starts over");
    log.close().unwrap();
}

#[test]
fn a_periodic_sweep_runs_on_a_worker_without_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_795_392_000);
    let options = Options::default()
        .retention(RetentionPolicy::new().max_age(std::time::Duration::from_secs(3_600)))
        .sweep_every(Some(std::time::Duration::from_secs(60)));
    let log =
        SyncWriter::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    for _ in 0..3 {
        log.write_record(b"x\n").unwrap();
        log.rotate().unwrap();
    }
    assert!(eventually(|| names(dir.path()).len() == 4));
    clock.advance(2 * 3_600);
    log.write_record(b"two hours later\n").unwrap();
    assert!(
        eventually(|| names(dir.path()) == ["app.log"]),
        "expired by the periodic sweep: {:?}",
        names(dir.path())
    );
    // Counted once the sweep has finished.
    assert!(eventually(|| log.metrics().file.backups_removed == 3));
    log.close().unwrap();
}

#[test]
fn free_space_on_full_deletes_the_oldest_backups_and_finishes_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_unmount) = support::small_tmpfs(dir.path()) else {
        return;
    };
    let options = Options::default()
        .max_size(Some(8 * 1024))
        .retention(RetentionPolicy::new())
        .free_space_on_full(true);
    let log = SyncWriter::open(dir.path().join("app.log"), options).unwrap();
    let mut last = String::new();
    for i in 0..5_000 {
        last = format!("line {i:06} {}\n", "x".repeat(80));
        log.write_record(last.as_bytes()).unwrap();
    }
    let m = log.metrics();
    assert!(m.file.freed_for_space > 10, "{m:?}");
    // What is left is the newest contiguous run of whole lines.
    let joined: String = segments(dir.path(), "app.log")
        .into_iter()
        .map(|s| String::from_utf8(s).unwrap())
        .collect();
    let first: usize = joined[5..11].parse().unwrap();
    let expected: String = (first..5_000)
        .map(|i| format!("line {i:06} {}\n", "x".repeat(80)))
        .collect();
    assert_eq!(joined, expected);
    assert!(joined.ends_with(&last));
    log.close().unwrap();
}
