//! The consumer parks when it has caught up (it does not poll the ring behind the
//! producers); records written meanwhile still reach the file without a flush, after at
//! most about `max_idle`, and a producer that fills half the ring wakes it.

use std::time::{Duration, Instant};

use lethe_std::{Options, Writer, WriterOptions};

/// Waits (polling the file, never asserting a duration) until `path` holds `want` bytes;
/// panics after a deadline far beyond any `max_idle` used here.
fn wait_for_len(path: &std::path::Path, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let len = std::fs::metadata(path).map_or(0, |m| m.len());
        if len == want {
            return;
        }
        assert!(len < want, "the file grew past {want} bytes: {len}");
        assert!(
            Instant::now() < deadline,
            "records never reached the file: {len} of {want} bytes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn records_reach_the_file_without_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let log = Writer::open(
        &path,
        WriterOptions::default()
            .max_idle(Duration::from_millis(20))
            .file(Options::default().max_size(None)),
    )
    .unwrap();
    let mut total = 0u64;
    // Several quiet periods: each time the consumer has parked, a new record must still
    // arrive on its own.
    for round in 0..5u32 {
        let line = format!("round {round}\n");
        log.write_record(line.as_bytes()).unwrap();
        total += line.len() as u64;
        wait_for_len(&path, total);
    }
    let m = log.close().unwrap();
    assert_eq!(m.writes, 5);
}

#[test]
fn a_half_full_ring_wakes_the_parked_consumer() {
    // The consumer may park for an hour: only the producers' half-ring wake (or a flush,
    // or a producer blocked on a full ring) gets records out. Writing a little more than
    // half the ring, never filling it, must get them to the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let log = Writer::open(
        &path,
        WriterOptions::default()
            .buffer(64 << 10)
            .max_idle(Duration::from_secs(3600))
            .file(Options::default().max_size(None)),
    )
    .unwrap();
    let line = [b'x'; 99];
    let mut total = 0u64;
    for _ in 0..320 {
        log.write_record(&line).unwrap();
        total += 99;
    }
    // 320 records of 112 ring bytes: 35 840 bytes, past half of the 64 KiB ring and far
    // from full.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&path).map_or(0, |m| m.len()) == 0 {
        assert!(Instant::now() < deadline, "the consumer was never woken");
        std::thread::sleep(Duration::from_millis(5));
    }
    let m = log.close().unwrap();
    assert_eq!(m.writes, 320);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), total);
}

#[test]
fn reservations_past_half_the_ring_wake_the_parked_consumer() {
    // As above, through `try_reserve` and `commit` (the logger's path), which never calls
    // back into the writer after the commit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let log = Writer::open(
        &path,
        WriterOptions::default()
            .buffer(64 << 10)
            .max_idle(Duration::from_secs(3600))
            .file(Options::default().max_size(None)),
    )
    .unwrap();
    for i in 0..320u32 {
        let mut grant = log.try_reserve(128).unwrap().expect("room");
        let line = format!("{i:0>98}\n");
        grant.push(line.as_bytes()).unwrap();
        grant.commit_written();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&path).map_or(0, |m| m.len()) == 0 {
        assert!(Instant::now() < deadline, "the consumer was never woken");
        std::thread::sleep(Duration::from_millis(5));
    }
    let m = log.close().unwrap();
    assert_eq!(m.writes, 320);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 320 * 99);
}
