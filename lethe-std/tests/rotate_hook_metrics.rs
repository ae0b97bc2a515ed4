//! The `on_rotate` hook of the three writers, and the metrics snapshot checked against
//! known actions.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lethe_core::retention::RetentionPolicy;
use lethe_std::clock::ManualClock;
use lethe_std::{
    Backpressure, Op, Options, RotateEvent, RotatingFile, SyncWriter, Writer, WriterOptions,
};

mod support;
use support::{names, sh_in};

const T0: i64 = 1_795_392_000; // 2026-11-23T00:00:00Z

/// An owned copy of a [`RotateEvent`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    previous: PathBuf,
    active: PathBuf,
    sequence: u64,
    bytes: u64,
}

fn recorder() -> (
    Arc<Mutex<Vec<Seen>>>,
    impl FnMut(&RotateEvent<'_>) + Send + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let hook = move |e: &RotateEvent<'_>| {
        // The backup exists when the hook runs (compression is queued after it).
        assert!(e.previous.exists(), "{} is missing", e.previous.display());
        sink.lock().unwrap().push(Seen {
            previous: e.previous.to_path_buf(),
            active: e.active.to_path_buf(),
            sequence: e.sequence,
            bytes: e.bytes,
        });
    };
    (seen, hook)
}

/// Each event names a distinct backup in sequence order, the active path, and the
/// backup's exact size (no compression: the backups stay on disk as they were).
fn check_events(events: &[Seen], active: &std::path::Path, expected: usize) {
    assert_eq!(events.len(), expected, "{events:?}");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.sequence, i as u64 + 1, "{events:?}");
        assert_eq!(e.active, active);
        let name = e.previous.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(&format!("app.{:010}.", e.sequence)) && name.ends_with(".log"),
            "{name}"
        );
        assert_eq!(fs::metadata(&e.previous).unwrap().len(), e.bytes, "{name}");
    }
}

#[test]
fn rotating_file_calls_the_hook_with_each_backup() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("app.log");
    let options = Options::default()
        .max_size(Some(100))
        .retention(RetentionPolicy::new());
    let mut log = RotatingFile::open_with_clock(&active, options, ManualClock::new(T0)).unwrap();
    let (seen, hook) = recorder();
    log.set_on_rotate(hook);
    for i in 0..50 {
        // 25 bytes: 4 per file.
        log.write_record(format!("{i:04}{}\n", "x".repeat(20)).as_bytes())
            .unwrap();
    }
    log.rotate().unwrap();
    let stats = log.close().unwrap();
    let events = seen.lock().unwrap();
    check_events(&events, &active, 13);
    assert_eq!(stats.rotations, 13);
    assert!(events[..12].iter().all(|e| e.bytes == 100), "{events:?}");
    assert_eq!(
        events[12].bytes, 50,
        "the manual rotation took the last 2 lines"
    );
}

#[test]
fn writer_calls_the_hook_for_size_and_manual_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("app.log");
    let file = Options::default()
        .max_size(Some(1000))
        .retention(RetentionPolicy::new());
    let log = Writer::open(&active, WriterOptions::default().file(file)).unwrap();
    let (seen, hook) = recorder();
    log.set_on_rotate(hook);
    let line = [b'x'; 99];
    for _ in 0..5 {
        for _ in 0..25 {
            let mut l = line;
            l[98] = b'\n';
            log.write_record(&l).unwrap();
        }
        log.rotate().unwrap();
    }
    log.close().unwrap();
    let events = seen.lock().unwrap();
    // 125 lines of 99 bytes, 10 per file: 2 size rotations and 1 manual per round.
    check_events(&events, &active, 15);
    let total: u64 = events.iter().map(|e| e.bytes).sum();
    assert_eq!(total, 125 * 99);
}

#[test]
fn sync_writer_reports_final_sizes_with_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("app.log");
    let options = Options::default()
        .max_size(Some(4096))
        .retention(RetentionPolicy::new());
    let log = SyncWriter::open(&active, options).unwrap();
    let (seen, hook) = recorder();
    log.set_on_rotate(hook);
    std::thread::scope(|s| {
        for t in 0..4 {
            let mut log = log.clone();
            s.spawn(move || {
                for i in 0..2000 {
                    writeln!(log, "t{t} {i:05}").unwrap();
                }
            });
        }
    });
    let rotations = log.metrics().file.rotations;
    log.close().unwrap();
    // Each event comes when the last writer leaves its file, which may be after a later
    // rotation: order them by sequence.
    let mut events = seen.lock().unwrap().clone();
    events.sort_by_key(|e| e.sequence);
    check_events(&events, &active, rotations as usize);
    assert!(rotations > 10, "{rotations}");
    let total: u64 =
        events.iter().map(|e| e.bytes).sum::<u64>() + fs::metadata(&active).unwrap().len();
    let expected: u64 = (0..4)
        .map(|t| 2000 * format!("t{t} 00000\n").len() as u64)
        .sum();
    assert_eq!(
        total, expected,
        "the events' sizes and the active file hold every byte"
    );
}

#[test]
fn writer_metrics_count_known_actions_without_waiting_for_the_consumer() {
    let dir = tempfile::tempdir().unwrap();
    // A directory squatting on backup 2's .gz name makes its compression fail, one on
    // backup 3's sidecar name makes its checksum fail.
    fs::create_dir(dir.path().join("app.0000000002.20261123T000000Z.log.gz")).unwrap();
    fs::create_dir(
        dir.path()
            .join("app.0000000003.20261123T000000Z.log.gz.sha256"),
    )
    .unwrap();
    let file = Options::default()
        .max_size(None)
        .compress(Some(1))
        .checksum(true)
        .retention(RetentionPolicy::new());
    let log = Writer::open_with_clock(
        dir.path().join("app.log"),
        WriterOptions::default().file(file),
        ManualClock::new(T0),
    )
    .unwrap();
    // The hook runs on the consumer thread while it holds the file: a snapshot taken
    // there would deadlock if metrics() took the file's lock.
    let inside = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&inside);
    // (A clone held by the hook would keep the writer open, so the test takes it back.)
    let reader = Arc::new(Mutex::new(Some(log.clone())));
    let held = Arc::clone(&reader);
    log.set_on_rotate(move |e| {
        if let Some(w) = held.lock().unwrap().as_ref() {
            let m = w.metrics();
            sink.lock()
                .unwrap()
                .push((e.sequence, m.file.rotations, m.file.size));
        }
    });
    let line = b"a line of exactly 32 bytes, ok!\n";
    for round in 0..4u64 {
        for _ in 0..100 {
            log.write_record(line).unwrap();
        }
        log.flush().unwrap();
        let m = log.metrics();
        assert_eq!(m.writes, 100 * (round + 1));
        assert_eq!(m.bytes, 3200 * (round + 1));
        assert_eq!(m.file.size, 3200, "the active file's size");
        assert_eq!(m.file.rotations, round);
        assert_eq!(m.buffer_used, 0, "flushed");
        // The default buffer without an fsync policy: 1 MiB, through io_uring too (the
        // 8 MiB one is for io_uring's runs with fsyncs: tests/uring.rs).
        assert_eq!(m.buffer_capacity, 1 << 20);
        assert!(!m.direct_mode);
        log.rotate().unwrap();
    }
    drop(reader.lock().unwrap().take());
    let m = log.close().unwrap();
    assert_eq!((m.writes, m.bytes, m.dropped), (400, 12_800, 0));
    let f = m.file;
    assert_eq!(f.rotations, 4);
    assert_eq!(f.size, 0);
    // Backups 1 and 4 compress and checksum; 2 fails to compress (no checksum is
    // attempted); 3 compresses and fails its checksum.
    assert_eq!((f.compressions, f.compressions_failed), (3, 1), "{f:?}");
    assert_eq!((f.checksums, f.checksums_failed), (2, 1), "{f:?}");
    assert_eq!(f.jobs_failed, 2);
    assert_eq!(f.errors_by_op.get(Op::Rename), 2, "{:?}", f.errors_by_op);
    assert_eq!(f.errors_by_op.total(), 2);
    assert_eq!(f.errors, 2);
    let inside = inside.lock().unwrap();
    assert_eq!(
        *inside,
        [(1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 4, 0)],
        "snapshots from inside the hook"
    );
    assert!(names(dir.path()).contains(&"app.0000000002.20261123T000000Z.log".to_string()));
    sh_in(
        dir.path(),
        "sha256sum -c app.0000000001.*.gz.sha256 app.0000000004.*.gz.sha256",
    );
}

#[test]
fn drops_and_write_errors_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let log = Writer::open(
        dir.path().join("app.log"),
        WriterOptions::default()
            .buffer(4096)
            .backpressure(Backpressure::Drop)
            .max_idle(std::time::Duration::from_secs(1)),
    )
    .unwrap();
    // Far more than the ring holds, faster than the consumer can take them: some drop.
    for _ in 0..100_000 {
        log.write_record(&[b'y'; 63]).unwrap();
    }
    let m = log.close().unwrap();
    assert!(m.dropped > 0, "{m:?}");
    assert_eq!(m.writes + m.dropped, 100_000, "{m:?}");
    assert_eq!(m.file.records, m.writes);
    assert_eq!(m.file.errors_by_op.total(), 0);
}
