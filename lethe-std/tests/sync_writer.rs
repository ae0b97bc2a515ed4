//! The synchronous writer: many threads appending directly, rotation under concurrency,
//! compression after the last writer leaves a segment.

use std::collections::HashMap;
use std::io::Write as _;

use lethe_core::retention::RetentionPolicy;
use lethe_core::rotation::Schedule;
use lethe_std::clock::ManualClock;
use lethe_std::{Options, SyncWriter};

mod support;
use support::{names, segments, sh_in};

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
