//! The io_uring path of the writer (feature `uring`): that it is really taken, linked
//! fsyncs, rotation chains, short writes, and the fallback to blocking syscalls with its
//! reason in the stats and the error handler (or an error in strict mode). Without the
//! feature, see uring_off.rs.
//!
//! The rest of the writer's suite (writer.rs, rotating_file.rs, archive.rs) runs through
//! the io_uring path too when the feature is on, because the feature makes it the default.
//! Under the default [`UringAppends::Auto`], runs without an `fsync` point are `write(2)`
//! calls and runs with one and rotations go through the ring; `.ci/run` also runs the
//! suite on XFS, whose buffered writes io_uring can complete inline.
#![cfg(feature = "uring")]

use std::fs;
use std::sync::{Arc, Mutex};

use lethe_std::{
    Backpressure, FallbackReason, Fsync, IoStatus, Op, Options, RotatingFile, Uring, UringAppends,
    UringOptions, Writer, WriterOptions,
};

mod support;
use support::{contents, names};

/// A `Writer` at `dir/app.log` with `file`'s options, through io_uring with `faults`.
fn writer_with_faults(dir: &std::path::Path, file: Options, faults: lethe_uring::Faults) -> Writer {
    let file = file.io_uring(UringOptions::default().faults(faults));
    Writer::open(dir.join("app.log"), WriterOptions::default().file(file)).unwrap()
}

/// Collects what reaches the error handler.
fn collect_errors(log: &Writer) -> Arc<Mutex<Vec<(Op, String)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    log.set_error_handler(move |e| sink.lock().unwrap().push((e.op(), e.to_string())));
    seen
}

fn numbered(log: &Writer, n: usize) {
    for i in 0..n {
        log.write_record(format!("line {i:07}\n").as_bytes())
            .unwrap();
    }
}

fn assert_numbered(text: &str, n: usize) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n, "line count");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(*l, format!("line {i:07}"), "line {i}");
    }
}

#[test]
fn the_writer_takes_the_uring_path_with_linked_fsyncs_and_chained_rotations() {
    if support::uring_unavailable("uring_path") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = Options::default()
        .max_size(Some(64 * 1024))
        .fsync(Fsync::EveryBytes(16 * 1024))
        .retention(lethe_core::retention::RetentionPolicy::new().max_count(100));
    let log = Writer::open(
        dir.path().join("app.log"),
        WriterOptions::default().file(file),
    )
    .unwrap();
    let errors = collect_errors(&log);
    numbered(&log, 20_000); // 260 000 bytes: four rotations
    let m = log.close().unwrap();
    assert_eq!(m.file.io, IoStatus::Uring);
    assert!(errors.lock().unwrap().is_empty(), "{:?}", errors.lock());
    assert_eq!(m.writes, 20_000);
    assert!(m.file.rotations >= 3, "{:?}", m.file);
    // Linked fsyncs every 16 KiB, and one per rotation.
    assert!(m.file.syncs >= 260_000 / (64 * 1024) + 4, "{:?}", m.file);
    assert_numbered(&contents(dir.path(), "app.log"), 20_000);
    let backups = names(dir.path()).len() - 1;
    assert_eq!(backups as u64, m.file.rotations);
}

#[test]
fn short_writes_through_the_writer_lose_and_repeat_nothing() {
    if support::uring_unavailable("uring_short_writes") {
        return;
    }
    let faults = lethe_uring::Faults {
        max_write: Some(333),
        ..lethe_uring::Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = writer_with_faults(
        dir.path(),
        Options::default()
            .max_size(Some(50_000))
            .fsync(Fsync::EveryBytes(10_000)),
        faults,
    );
    numbered(&log, 10_000);
    let m = log.close().unwrap();
    assert_eq!(m.file.io, IoStatus::Uring);
    assert_numbered(&contents(dir.path(), "app.log"), 10_000);
}

#[test]
fn rotation_falls_back_per_opcode_when_the_probe_fails() {
    if support::uring_unavailable("uring_probe_failure") {
        return;
    }
    // No probe: the driver assumes a 5.1 kernel, so rename and open run as syscalls
    // between the ring's fsyncs.
    let faults = lethe_uring::Faults {
        probe_errno: Some(libc_einval()),
        ..lethe_uring::Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut file = RotatingFile::open(
        dir.path().join("app.log"),
        Options::default()
            .max_size(Some(1000))
            .io_uring(UringOptions::default().faults(faults)),
    )
    .unwrap();
    for i in 0..500 {
        file.write_record(format!("line {i:07}\n").as_bytes())
            .unwrap();
    }
    let stats = file.close().unwrap();
    assert_eq!(stats.io, IoStatus::Uring);
    assert!(stats.rotations >= 5);
    assert_eq!(stats.errors, 0);
    assert_numbered(&contents(dir.path(), "app.log"), 500);
}

#[test]
fn the_default_buffer_is_8_mib_through_io_uring_with_an_fsync_policy_and_1_mib_otherwise() {
    if support::uring_unavailable("uring_default_buffer") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str, options: WriterOptions| {
        let log = Writer::open(dir.path().join(name), options).unwrap();
        numbered(&log, 1000);
        let capacity = log.metrics().buffer_capacity;
        let m = log.close().unwrap();
        // 1 000 short lines: no rotation (and shared mode's lock file is not a segment).
        assert_numbered(&fs::read_to_string(dir.path().join(name)).unwrap(), 1000);
        (m.file.io, capacity)
    };
    let synced = |file: Options| file.fsync(Fsync::EveryBytes(1 << 20));
    let with = |file: Options| WriterOptions::default().file(synced(file));
    let uring = |mode| Options::default().io_uring(UringOptions::default().mode(mode));
    assert_eq!(
        open("synced.log", with(Options::default())),
        (IoStatus::Uring, 8 << 20),
        "unset, through io_uring with an fsync policy"
    );
    assert_eq!(
        open(
            "interval.log",
            WriterOptions::default()
                .file(Options::default().fsync(Fsync::Every(std::time::Duration::from_secs(1))))
        ),
        (IoStatus::Uring, 8 << 20),
        "unset, through io_uring with an fsync interval"
    );
    assert_eq!(
        open("plain.log", WriterOptions::default()),
        (IoStatus::Uring, 1 << 20),
        "unset, through io_uring without an fsync policy"
    );
    assert_eq!(
        open("shared.log", with(Options::default().shared(true))),
        (IoStatus::Uring, 1 << 20),
        "unset, shared mode (runs of 1 024 records)"
    );
    assert_eq!(
        open("off.log", with(uring(Uring::Off))),
        (IoStatus::Blocking, 1 << 20),
        "unset, blocking syscalls"
    );
    assert_eq!(
        open("set.log", with(Options::default()).buffer(64 << 10)),
        (IoStatus::Uring, 64 << 10),
        "a buffer that was set is kept"
    );
    let grow = with(Options::default()).backpressure(Backpressure::Grow { max: 4 << 20 });
    assert_eq!(
        open("grow.log", grow),
        (IoStatus::Uring, 1 << 20),
        "never more than a grow policy's max"
    );
    // Where io_uring cannot be set up (`Uring::On` falls back), the blocking default.
    let faults = lethe_uring::Faults {
        setup_errno: Some(1),
        ..lethe_uring::Faults::default()
    };
    let fallback = Options::default().io_uring(UringOptions::default().faults(faults));
    assert_eq!(
        open("fallback.log", with(fallback)),
        (IoStatus::Fallback(FallbackReason::Setup(1)), 1 << 20),
        "fallen back to blocking syscalls"
    );
}

#[test]
fn setup_failure_falls_back_and_reports_why() {
    let faults = lethe_uring::Faults {
        setup_errno: Some(1), // EPERM, as from kernel.io_uring_disabled or seccomp
        ..lethe_uring::Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = writer_with_faults(dir.path(), Options::default(), faults);
    let errors = collect_errors(&log);
    numbered(&log, 1000);
    let m = log.close().unwrap();
    assert_eq!(m.file.io, IoStatus::Fallback(FallbackReason::Setup(1)));
    let errors = errors.lock().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, Op::SetupUring);
    assert!(errors[0].1.contains("io_uring_setup"), "{}", errors[0].1);
    assert!(errors[0].1.contains("blocking"), "{}", errors[0].1);
    assert_eq!(m.file.errors, 1);
    assert_numbered(&contents(dir.path(), "app.log"), 1000);
}

#[test]
fn missing_opcode_falls_back_and_strict_mode_refuses() {
    let missing = || lethe_uring::Faults {
        unsupported: vec![lethe_uring::opcodes::WRITEV],
        ..lethe_uring::Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    if support::uring_unavailable("uring_missing_opcode") {
        return;
    }
    let mut file = RotatingFile::open(
        &path,
        Options::default().io_uring(UringOptions::default().faults(missing())),
    )
    .unwrap();
    file.write_record(b"still written\n").unwrap();
    let stats = file.close().unwrap();
    assert_eq!(stats.io, IoStatus::Fallback(FallbackReason::MissingOpcode));
    assert_eq!(fs::read_to_string(&path).unwrap(), "still written\n");

    let strict = UringOptions::default()
        .mode(Uring::Strict)
        .faults(missing());
    let err = match RotatingFile::open(&path, Options::default().io_uring(strict)) {
        Ok(_) => panic!("strict mode opened without io_uring"),
        Err(e) => e,
    };
    assert_eq!(err.op(), Op::SetupUring);
    assert!(err.to_string().contains("IORING_OP_WRITEV"), "{err}");
}

fn libc_einval() -> i32 {
    22
}

#[test]
fn a_failed_fsync_in_the_rotation_chain_is_reported_and_the_rotation_completes() {
    if support::uring_unavailable("uring_failed_fsync") {
        return;
    }
    // Every fsync through the ring reports EIO. The kernel runs the rename after a failed
    // fsync anyway (it does not break the link), so each rotation has happened: it must be
    // finished (new file in use), the error reported, and no line lost or repeated.
    let faults = lethe_uring::Faults {
        fsync_errno: Some(5), // EIO
        ..lethe_uring::Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = writer_with_faults(
        dir.path(),
        Options::default()
            .max_size(Some(20_000))
            .retention(lethe_core::retention::RetentionPolicy::new().max_count(100)),
        faults,
    );
    let errors = collect_errors(&log);
    numbered(&log, 10_000); // 130 000 bytes: six rotations
    let m = log.close().unwrap();
    assert_eq!(m.file.io, IoStatus::Uring);
    assert!(m.file.rotations >= 6, "{:?}", m.file);
    let errors = errors.lock().unwrap();
    assert!(
        errors.len() as u64 >= m.file.rotations,
        "one fsync error per rotation: {errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|(op, msg)| *op == Op::Sync && msg.contains("os error 5"))
    );
    assert_numbered(&contents(dir.path(), "app.log"), 10_000);
    assert_eq!(names(dir.path()).len() as u64 - 1, m.file.rotations);
}

#[test]
fn a_failed_linked_fsync_is_reported_once_and_not_retried() {
    if support::uring_unavailable("uring_failed_linked_fsync") {
        return;
    }
    let faults = lethe_uring::Faults {
        fsync_errno: Some(5), // EIO
        ..lethe_uring::Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut file = RotatingFile::open(
        dir.path().join("app.log"),
        Options::default()
            .max_size(None)
            .fsync(Fsync::EveryBytes(1000))
            .io_uring(UringOptions::default().faults(faults)),
    )
    .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    file.set_error_handler(move |e| sink.lock().unwrap().push(e.op()));
    // Each record crosses the 1000-byte threshold: one linked fsync per record.
    for i in 0..20 {
        file.write_record(format!("{i:0>999}\n").as_bytes())
            .unwrap();
    }
    let stats = file.stats();
    assert_eq!(stats.syncs, 20, "{stats:?}");
    assert_eq!(*seen.lock().unwrap(), vec![Op::Sync; 20]);
    assert_eq!(stats.errors, 20);
    // The records are in the file; the failed fsyncs were reported, not retried.
    let text = fs::read_to_string(dir.path().join("app.log")).unwrap();
    assert_eq!(text.lines().count(), 20);
}

#[test]
fn a_large_batch_links_each_due_fsync_at_its_point_in_one_run() {
    if support::uring_unavailable("uring_fsync_points") {
        return;
    }
    // Without and with short writes forced by the driver's fault hook (every write stops
    // after 700 bytes, so the kernel-side chain breaks and the rest is resubmitted).
    for max_write in [None, Some(700)] {
        let faults = lethe_uring::Faults {
            max_write,
            ..lethe_uring::Faults::default()
        };
        // 12 fsyncs in the 50-record batch: at most 8 per run, so two runs.
        support::check_every_bytes_fsync_points(
            Options::default().io_uring(UringOptions::default().mode(Uring::Strict).faults(faults)),
            &format!("{max_write:?}"),
        );
    }
}

#[test]
fn the_writer_counts_and_reports_every_linked_fsync() {
    if support::uring_unavailable("uring_fsync_each") {
        return;
    }
    // Runs of many records carry several linked fsyncs each; every one is counted, and
    // every failed one reported once (never retried).
    for fsync_errno in [None, Some(5)] {
        let faults = lethe_uring::Faults {
            fsync_errno,
            ..lethe_uring::Faults::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let file = Options::default()
            .max_size(None)
            .fsync(Fsync::EveryBytes(1000))
            .io_uring(UringOptions::default().mode(Uring::Strict).faults(faults));
        let log = Writer::open(
            dir.path().join("app.log"),
            WriterOptions::default().file(file),
        )
        .unwrap();
        let errors = collect_errors(&log);
        let records: Vec<String> = (0..1000).map(|i| format!("{i:0>299}\n")).collect();
        for r in &records {
            log.write_record(r.as_bytes()).unwrap();
        }
        let m = log.close().unwrap();
        assert_eq!(m.file.io, IoStatus::Uring);
        // An fsync after every 4th 300-byte record, whatever the batches were (a batch's
        // last one runs behind the whole batch and is deferred: the next batches are
        // written while it runs, and it is counted once it completes), and one at close.
        assert_eq!(m.file.syncs, 251, "{fsync_errno:?}: {:?}", m.file);
        let failed = errors
            .lock()
            .unwrap()
            .iter()
            .filter(|(op, _)| *op == Op::Sync)
            .count();
        // Each failed one reported once (the final fsync at close is a plain `fsync(2)`,
        // which the fault does not hit).
        assert_eq!(failed, if fsync_errno.is_some() { 250 } else { 0 });
        assert_eq!(
            fs::read_to_string(dir.path().join("app.log")).unwrap(),
            records.concat()
        );
    }
}

/// Plain appends (runs without an `fsync` point) are `write(2)` calls under the default
/// `UringAppends::Auto`, on every file system, and go through the ring under
/// `UringAppends::Ring` and, under `Auto`, with a fixed buffer. The bytes are checked each
/// time.
#[test]
fn plain_appends_are_write_2_calls_unless_the_ring_is_asked_for() {
    if support::uring_unavailable("uring_appends") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("auto", UringOptions::default(), true),
        (
            "ring",
            UringOptions::default().appends(UringAppends::Ring),
            false,
        ),
        (
            "auto_fixed_buffer",
            UringOptions::default().fixed_buffer(Some(1 << 20)),
            false,
        ),
    ];
    for (name, uring, plain_expected) in cases {
        let sub = dir.path().join(name);
        let file = Options::default().io_uring(uring.mode(Uring::Strict));
        let log = Writer::open(sub.join("app.log"), WriterOptions::default().file(file)).unwrap();
        let errors = collect_errors(&log);
        // 20 flushes: at least 20 runs, each without an fsync point.
        for i in 0..20_000 {
            log.write_record(format!("line {i:07}\n").as_bytes())
                .unwrap();
            if i % 1000 == 999 {
                log.flush().unwrap();
            }
        }
        let m = log.close().unwrap();
        assert_eq!(m.file.io, IoStatus::Uring, "{name}");
        assert!(
            errors.lock().unwrap().is_empty(),
            "{name}: {:?}",
            errors.lock()
        );
        assert_numbered(&contents(&sub, "app.log"), 20_000);
        let plain = m.file.plain_appends;
        if plain_expected {
            assert!(
                plain >= 20,
                "{name}: {plain} plain appends, 20 flushed runs"
            );
        } else {
            assert_eq!(plain, 0, "{name}");
        }
    }
}

#[test]
fn a_ring_that_breaks_in_use_falls_back_to_blocking_and_loses_and_repeats_nothing() {
    if support::uring_unavailable("uring_broken_in_use") {
        return;
    }
    // The first io_uring_enter that waits fails with EBADF after submitting: the driver
    // waits for what the kernel took, then refuses every later call; the file switches
    // to blocking syscalls and says so.
    let faults = lethe_uring::Faults {
        enter_errno: Some(9), // EBADF
        ..lethe_uring::Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = writer_with_faults(
        dir.path(),
        Options::default()
            .max_size(Some(50_000))
            .fsync(Fsync::EveryBytes(10_000)),
        faults,
    );
    let reports = collect_errors(&log);
    numbered(&log, 10_000);
    let m = log.close().unwrap();
    assert_eq!(
        m.file.io,
        IoStatus::Fallback(FallbackReason::Broken(9)),
        "{m:?}"
    );
    assert_numbered(&contents(dir.path(), "app.log"), 10_000);
    let reports = reports.lock().unwrap();
    assert!(
        reports
            .iter()
            .any(|(op, msg)| *op == Op::SetupUring && msg.contains("blocking syscalls")),
        "{reports:?}"
    );
}
