//! `reopen`: after another program moved the active file away, the writers open a fresh
//! file at the path; what was written before stays in the moved file, nothing twice.

use std::fs;

use lethe_std::clock::ManualClock;
use lethe_std::{Options, RotatingFile, Writer, WriterOptions};

/// A stopped clock: these tests move the file behind the writer's back and check where
/// the next lines land, so the once-a-second path check (which would follow the move by
/// itself) must not fire between the steps.
const T0: i64 = 1_795_392_000; // 2026-11-23T00:00:00Z

#[test]
fn rotating_file_reopens_the_path_after_an_external_move() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let moved = dir.path().join("app.log.old");
    let mut log = RotatingFile::open_with_clock(
        &path,
        Options::default().max_size(Some(12)),
        ManualClock::new(T0),
    )
    .unwrap();
    log.write_record(b"one\n").unwrap();
    fs::rename(&path, &moved).unwrap();
    log.write_record(b"two\n").unwrap(); // still the open file: the moved one
    log.reopen().unwrap();
    assert_eq!(log.size(), 0, "the size limit counts the new file");
    for line in [b"3333\n", b"4444\n", b"5555\n"] {
        log.write_record(line).unwrap();
    }
    let stats = log.close().unwrap();
    assert_eq!(fs::read_to_string(&moved).unwrap(), "one\ntwo\n");
    // 12 bytes hold two 5-byte lines; the third rotated the reopened file.
    assert_eq!(stats.rotations, 1);
    assert_eq!(fs::read_to_string(&path).unwrap(), "5555\n");
}

#[test]
fn reopening_an_unmoved_file_appends_and_keeps_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut log = RotatingFile::open(&path, Options::default()).unwrap();
    log.write_record(b"a\n").unwrap();
    log.reopen().unwrap();
    assert_eq!(log.size(), 2);
    log.write_record(b"b\n").unwrap();
    log.close().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "a\nb\n");
}

#[test]
fn writer_reopen_writes_what_came_before_to_the_moved_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let moved = dir.path().join("app.log.1");
    let log =
        Writer::open_with_clock(&path, WriterOptions::default(), ManualClock::new(T0)).unwrap();
    for i in 0..1000 {
        log.write_record(format!("before {i}\n").as_bytes())
            .unwrap();
    }
    log.flush().unwrap();
    fs::rename(&path, &moved).unwrap();
    for i in 1000..2000 {
        log.write_record(format!("before {i}\n").as_bytes())
            .unwrap();
    }
    log.reopen().unwrap();
    log.write_record(b"after\n").unwrap();
    log.close().unwrap();
    let old = fs::read_to_string(&moved).unwrap();
    assert_eq!(old.lines().count(), 2000);
    assert!(
        old.lines()
            .enumerate()
            .all(|(i, l)| l == format!("before {i}"))
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "after\n");
}

#[test]
fn a_failed_reopen_keeps_writing_to_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("logs");
    let path = sub.join("app.log");
    let mut log =
        RotatingFile::open_with_clock(&path, Options::default(), ManualClock::new(T0)).unwrap();
    log.write_record(b"a\n").unwrap();
    let elsewhere = dir.path().join("moved");
    fs::rename(&sub, &elsewhere).unwrap(); // the directory is gone from the path
    let err = log.reopen().unwrap_err();
    assert!(err.to_string().contains("app.log"), "{err}");
    log.write_record(b"b\n").unwrap();
    drop(log);
    assert_eq!(
        fs::read_to_string(elsewhere.join("app.log")).unwrap(),
        "a\nb\n"
    );
}
