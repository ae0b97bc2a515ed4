//! The blocking I/O path under real injected faults: a FUSE file system
//! (`support::faultfs`) makes `fsync`, `write`, `rename` fail on demand while the writers
//! run against it. The files are opened with `Uring::Off`, so the blocking path is what
//! runs even in a build with the `uring` feature; with that feature three of the checks
//! run once more through io_uring (`Uring::Strict`) on the same faults. Each test mounts
//! its own file system; where FUSE cannot be mounted it reports through
//! `support::missing` (a SKIP locally, a failure in CI).
mod support;

use std::fs;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lethe_core::retention::RetentionPolicy;
use lethe_std::clock::ManualClock;
use lethe_std::{
    Backpressure, Fsync, Op, Options, RotatingFile, SyncWriter, Uring, UringOptions, Writer,
    WriterOptions,
};
use support::faultfs::{FaultFs, FaultOp};

const EIO: i32 = libc::EIO;
const ENOSPC: i32 = libc::ENOSPC;

/// `Options` on the blocking path (whatever the build's features).
fn blocking() -> Options {
    Options::default().io_uring(UringOptions::default().mode(Uring::Off))
}

/// Every error the handler hears of: the operation and the OS error number.
type Seen = Arc<Mutex<Vec<(Op, Option<i32>)>>>;

fn seen_by(set: impl FnOnce(Box<dyn FnMut(&lethe_std::Error) + Send>)) -> Seen {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    set(Box::new(move |e| {
        sink.lock()
            .unwrap()
            .push((e.op(), e.io_error().raw_os_error()))
    }));
    seen
}

fn count(seen: &Seen, op: Op, errno: i32) -> usize {
    count_in(&seen.lock().unwrap(), op, errno)
}

fn count_in(seen: &[(Op, Option<i32>)], op: Op, errno: i32) -> usize {
    seen.iter().filter(|&&e| e == (op, Some(errno))).count()
}

/// Record `i`: 100 bytes, numbered.
fn line(i: usize) -> String {
    format!("line {i:07} {}\n", "x".repeat(86))
}

/// `text` is exactly records `0..n`, once each, in order.
fn assert_lines(text: &str, n: usize) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n, "line count");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(format!("{l}\n"), line(i), "line {i}");
    }
}

/// The `lethe_std::Error` inside an `io::Error` a `Writer` returned.
fn op_of(e: &std::io::Error) -> (Op, Option<i32>) {
    let inner = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<lethe_std::Error>())
        .unwrap_or_else(|| panic!("not a lethe_std::Error: {e}"));
    (inner.op(), inner.io_error().raw_os_error())
}

/// Runs `f` on a thread and fails (instead of hanging the suite) if it has not returned
/// after a minute: for the calls that must never hang on a failing file.
fn returns<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not return within a minute"))
}

#[test]
fn the_fault_file_system_passes_through_and_fails_on_demand() {
    let Some(ffs) = FaultFs::mount("faultfs self-test") else {
        return;
    };
    let path = ffs.dir().join("a.log");
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"one\n").unwrap();
    f.sync_all().unwrap();
    ffs.arm(FaultOp::Fsync, EIO, Some(1), None);
    assert_eq!(f.sync_all().unwrap_err().raw_os_error(), Some(EIO));
    f.sync_all().unwrap();
    ffs.arm(FaultOp::Write, ENOSPC, None, Some("*.log"));
    assert_eq!(f.write(b"two\n").unwrap_err().raw_os_error(), Some(ENOSPC));
    ffs.disarm(FaultOp::Write);
    f.write_all(b"three\n").unwrap();
    assert_eq!(
        fs::read_to_string(ffs.backing().join("a.log")).unwrap(),
        "one\nthree\n"
    );
    ffs.arm(FaultOp::Rename, EIO, Some(1), Some("*.gz.tmp"));
    fs::rename(&path, ffs.dir().join("b.log")).unwrap();
    fs::write(ffs.dir().join("c.gz.tmp"), "x").unwrap();
    let err = fs::rename(ffs.dir().join("c.gz.tmp"), ffs.dir().join("c.gz")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EIO));
    fs::rename(ffs.dir().join("c.gz.tmp"), ffs.dir().join("c.gz")).unwrap();
    assert_eq!(support::names(ffs.dir()), ["b.log", "c.gz"]);
    assert_eq!(support::names(ffs.backing()), ["b.log", "c.gz"]);
    assert_eq!(ffs.injected(FaultOp::Fsync), 1);
    assert_eq!(ffs.injected(FaultOp::Write), 1);
    assert_eq!(ffs.injected(FaultOp::Rename), 1);
    assert_eq!(ffs.calls(FaultOp::Fsync), 3);
    drop(f);
}

// --- a. A failing fsync ---------------------------------------------------------------

#[test]
fn a_failed_policy_fsync_is_reported_once_and_not_retried() {
    failed_policy_fsyncs_are_reported_once(blocking());
}

/// The same through io_uring (fsyncs linked behind the writes), on the same faults.
#[cfg(feature = "uring")]
#[test]
fn a_failed_linked_fsync_on_the_fault_fs_is_reported_once_and_not_retried() {
    if support::uring_unavailable("faultfs linked fsync") {
        return;
    }
    failed_policy_fsyncs_are_reported_once(Options::default().io_uring(uring_strict()));
}

/// io_uring or fail (a fallback would test the blocking path again).
#[cfg(feature = "uring")]
fn uring_strict() -> UringOptions {
    UringOptions::default().mode(Uring::Strict)
}

/// 20 records through a `RotatingFile` on `options` whose policy fsyncs after each;
/// the first five fsyncs fail: each reported once, none retried.
fn failed_policy_fsyncs_are_reported_once(options: Options) {
    let Some(ffs) = FaultFs::mount("failed policy fsync") else {
        return;
    };
    let mut file = RotatingFile::open(
        ffs.dir().join("app.log"),
        options.max_size(None).fsync(Fsync::EveryBytes(1000)),
    )
    .unwrap();
    let seen = seen_by(|h| file.set_error_handler(h));
    // Each 1000-byte record reaches the threshold: one fsync per record; the first five
    // fail.
    ffs.arm(FaultOp::Fsync, EIO, Some(5), Some("app.log"));
    for i in 0..20 {
        file.write_record(format!("{i:0>999}\n").as_bytes())
            .unwrap();
    }
    let stats = file.stats();
    assert_eq!(ffs.injected(FaultOp::Fsync), 5);
    // Not retried: the file system saw exactly the policy's 20 fsyncs.
    assert_eq!(ffs.calls(FaultOp::Fsync), 20);
    assert_eq!(stats.syncs, 20, "{stats:?}");
    assert_eq!(count(&seen, Op::Sync, EIO), 5, "{:?}", seen.lock().unwrap());
    assert_eq!(stats.errors, 5);
    assert_eq!(stats.errors_by_op.get(Op::Sync), 5);
    file.sync().unwrap();
    let text = fs::read_to_string(ffs.backing().join("app.log")).unwrap();
    assert_eq!(text.lines().count(), 20);
    file.close().unwrap();
}

#[test]
fn a_rotation_whose_fsync_fails_is_reported_and_completes() {
    let Some(ffs) = FaultFs::mount("failed rotation fsync") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default().file(
            blocking()
                .max_size(Some(20_000))
                .retention(RetentionPolicy::new().max_count(100)),
        ),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    // Every fsync of the finished file fails; each rotation must still happen.
    ffs.arm(FaultOp::Fsync, EIO, None, Some("app.log"));
    for i in 0..1000 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    log.flush().unwrap();
    ffs.disarm(FaultOp::Fsync);
    let m = log.close().unwrap();
    // 100 000 bytes in 20 000-byte files: at least four rotations.
    assert!(m.file.rotations >= 4, "{:?}", m.file);
    assert_eq!(
        count(&seen, Op::Sync, EIO) as u64,
        ffs.injected(FaultOp::Fsync)
    );
    assert!(ffs.injected(FaultOp::Fsync) >= m.file.rotations);
    assert_eq!(
        m.file.errors_by_op.get(Op::Sync),
        ffs.injected(FaultOp::Fsync)
    );
    assert_eq!(
        support::names(ffs.backing()).len() as u64,
        m.file.rotations + 1
    );
    assert_lines(&support::contents(ffs.backing(), "app.log"), 1000);
}

#[test]
fn a_rotation_whose_directory_fsync_fails_is_reported_and_not_repeated() {
    let Some(ffs) = FaultFs::mount("failed directory fsync at rotation") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default().file(
            blocking()
                .max_size(Some(20_000))
                .retention(RetentionPolicy::new().max_count(100)),
        ),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    ffs.arm(FaultOp::FsyncDir, EIO, None, None);
    for i in 0..1000 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    let m = log.close().unwrap();
    assert!(m.file.rotations >= 4, "{:?}", m.file);
    // One report per rotation; none was retried into a second backup.
    assert_eq!(count(&seen, Op::Sync, EIO) as u64, m.file.rotations);
    assert_eq!(ffs.injected(FaultOp::FsyncDir), m.file.rotations);
    assert_eq!(
        support::names(ffs.backing()).len() as u64,
        m.file.rotations + 1
    );
    assert_lines(&support::contents(ffs.backing(), "app.log"), 1000);
}

#[test]
fn writer_sync_returns_a_failed_fsync_and_the_next_one_succeeds() {
    let Some(ffs) = FaultFs::mount("writer sync") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default().file(blocking()),
    )
    .unwrap();
    for i in 0..500 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    ffs.arm(FaultOp::Fsync, EIO, Some(1), Some("app.log"));
    let err = log.sync().unwrap_err();
    assert_eq!(op_of(&err), (Op::Sync, Some(EIO)), "{err}");
    assert_eq!(log.metrics().file.errors_by_op.get(Op::Sync), 1);
    // Writing goes on, and the next sync reaches the disk.
    for i in 500..1000 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    log.sync().unwrap();
    assert_eq!(ffs.calls(FaultOp::Fsync), 2);
    let m = log.close().unwrap();
    assert_eq!(m.writes, 1000);
    assert_eq!(m.file.errors_by_op.get(Op::Sync), 1);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        1000,
    );
}

#[test]
fn the_writers_policy_fsyncs_fail_reported_and_writing_goes_on() {
    let Some(ffs) = FaultFs::mount("writer fsync policy") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default().file(blocking().max_size(None).fsync(Fsync::EveryBytes(8_000))),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    ffs.arm(FaultOp::Fsync, EIO, Some(5), Some("app.log"));
    for i in 0..3000 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    log.sync().unwrap();
    let m = log.close().unwrap();
    assert_eq!(ffs.injected(FaultOp::Fsync), 5);
    assert_eq!(count(&seen, Op::Sync, EIO), 5, "{:?}", seen.lock().unwrap());
    assert_eq!(m.file.errors_by_op.get(Op::Sync), 5);
    assert_eq!(m.file.errors, 5);
    assert_eq!(m.write_errors, 0);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        3000,
    );
}

#[test]
fn closing_or_dropping_a_writer_whose_fsync_fails_reports_it_without_hanging() {
    let Some(ffs) = FaultFs::mount("close with failing fsync") else {
        return;
    };
    ffs.arm(FaultOp::Fsync, EIO, None, Some("*.log"));
    // close: the final fsync's error comes back, with the metrics.
    let log = Writer::open(
        ffs.dir().join("a.log"),
        WriterOptions::default().file(blocking()),
    )
    .unwrap();
    for i in 0..1000 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    let (m, closed) = returns("close", move || log.close_reporting());
    let err = closed.unwrap_err();
    assert_eq!(op_of(&err), (Op::Sync, Some(EIO)), "{err}");
    assert_eq!(m.writes, 1000);
    assert_eq!(m.lost_at_close, 0);
    // The final metrics count the failure close returned.
    assert_eq!(m.file.errors_by_op.get(Op::Sync), 1, "{:?}", m.file);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("a.log")).unwrap(),
        1000,
    );
    // drop: the error goes to the handler.
    let log = Writer::open(
        ffs.dir().join("b.log"),
        WriterOptions::default().file(blocking()),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    for i in 0..1000 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    returns("drop", move || drop(log));
    assert_eq!(count(&seen, Op::Sync, EIO), 1, "{:?}", seen.lock().unwrap());
    assert_lines(
        &fs::read_to_string(ffs.backing().join("b.log")).unwrap(),
        1000,
    );
}

// --- b. A failing write ---------------------------------------------------------------

/// A writer under `Block` whose writes fail with `errno` until disarmed: the records are
/// held, the error is reported and counted, `flush` returns it, and after disarming
/// every record arrives once, in order.
fn failing_writes_hold_the_records(errno: i32, file: Options) {
    let Some(ffs) = FaultFs::mount("failing write under block") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default()
            .buffer(64 * 1024)
            .file(file.max_size(None)),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    for i in 0..100 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    log.flush().unwrap();
    ffs.arm(FaultOp::Write, errno, None, Some("app.log"));
    // 3 000 records of 100 bytes: far more than the 64 KiB ring holds, so the writer
    // blocks until the file works again.
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            for i in 100..3100 {
                log.write_record(line(i).as_bytes()).unwrap();
            }
        })
    };
    assert!(support::eventually(|| log.metrics().write_errors >= 3));
    assert!(support::eventually(|| log.metrics().blocked > 0));
    let err = log.flush().unwrap_err();
    assert!(
        err.to_string().contains(&format!("os error {errno}")),
        "{err}"
    );
    assert!(log.flush_timeout(Duration::from_millis(50)).is_err());
    assert!(!writer.is_finished());
    ffs.disarm(FaultOp::Write);
    writer.join().unwrap();
    log.flush().unwrap();
    let m = log.close().unwrap();
    assert_eq!(m.writes, 3100);
    assert_eq!(m.lost_at_close, 0);
    assert_eq!(m.dropped, 0);
    assert!(m.write_errors >= 3);
    assert_eq!(m.file.errors_by_op.get(Op::Write), m.write_errors);
    assert_eq!(count(&seen, Op::Write, errno) as u64, m.write_errors);
    assert_eq!(ffs.injected(FaultOp::Write), m.write_errors);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        3100,
    );
}

#[test]
fn failing_writes_eio_hold_the_records_under_block_and_recover() {
    failing_writes_hold_the_records(EIO, blocking());
}

#[test]
fn failing_writes_enospc_hold_the_records_under_block_and_recover() {
    failing_writes_hold_the_records(ENOSPC, blocking());
}

/// The same through io_uring, with the appends on the ring and with an fsync policy
/// (writes and fsyncs linked in one submission).
#[cfg(feature = "uring")]
#[test]
fn failing_uring_writes_hold_the_records_under_block_and_recover() {
    if support::uring_unavailable("faultfs uring writes") {
        return;
    }
    let ring = uring_strict().appends(lethe_std::UringAppends::Ring);
    failing_writes_hold_the_records(EIO, Options::default().io_uring(ring));
    failing_writes_hold_the_records(
        EIO,
        Options::default()
            .io_uring(uring_strict())
            .fsync(Fsync::EveryBytes(8_000)),
    );
}

#[test]
fn failing_writes_under_drop_lose_exactly_the_counted_records() {
    let Some(ffs) = FaultFs::mount("failing write under drop") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default()
            .buffer(64 * 1024)
            .backpressure(Backpressure::Drop)
            .file(blocking().max_size(None)),
    )
    .unwrap();
    ffs.arm(FaultOp::Write, EIO, None, Some("app.log"));
    log.write_record(line(0).as_bytes()).unwrap();
    assert!(support::eventually(|| log.metrics().write_errors > 0));
    for i in 1..3000 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    assert!(log.metrics().dropped > 0, "{:?}", log.metrics());
    ffs.disarm(FaultOp::Write);
    // `flush` returns the consumer's error until its next retry (after its backoff)
    // succeeds.
    assert!(support::eventually(|| log.flush().is_ok()));
    let m = log.close().unwrap();
    let text = fs::read_to_string(ffs.backing().join("app.log")).unwrap();
    let numbers: Vec<usize> = text
        .lines()
        .map(|l| {
            assert_eq!(
                format!("{l}\n"),
                line(l[5..12].parse().unwrap()),
                "torn: {l}"
            );
            l[5..12].parse().unwrap()
        })
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in order, once");
    assert_eq!(numbers.len() as u64, m.writes);
    assert_eq!(m.writes + m.dropped, 3000, "{m:?}");
    assert!(m.write_errors > 0);
}

#[test]
fn auto_mode_holds_the_record_a_failing_direct_write_refused_and_recovers() {
    let Some(ffs) = FaultFs::mount("auto mode failing write") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default()
            .mode(lethe_std::Mode::Auto)
            // A write through FUSE is slow; only the failure may switch modes here.
            .auto_slow_write(Duration::from_secs(60))
            .file(blocking().max_size(None)),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    for i in 0..10 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    assert!(log.metrics().direct_mode, "{:?}", log.metrics());
    // The direct write fails: under Block the caller does not see it; the record goes to
    // the ring, whose consumer retries it.
    ffs.arm(FaultOp::Write, EIO, Some(3), Some("app.log"));
    for i in 10..20 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    assert!(support::eventually(|| log.flush().is_ok()));
    let m = log.close().unwrap();
    assert_eq!(ffs.injected(FaultOp::Write), 3);
    assert!(m.mode_switches >= 1, "{m:?}");
    assert_eq!(
        count(&seen, Op::Write, EIO),
        3,
        "{:?}",
        seen.lock().unwrap()
    );
    assert_eq!(m.writes, 20);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        20,
    );
}

#[test]
fn close_gives_up_on_writes_that_keep_failing_and_counts_the_lost_records() {
    let Some(ffs) = FaultFs::mount("close on failing writes") else {
        return;
    };
    let log = Writer::open(
        ffs.dir().join("app.log"),
        WriterOptions::default()
            .close_timeout(Duration::from_millis(300))
            .file(blocking()),
    )
    .unwrap();
    for i in 0..50 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    log.flush().unwrap();
    ffs.arm(FaultOp::Write, EIO, None, Some("app.log"));
    for i in 50..100 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    let (m, closed) = returns("close", move || log.close_reporting());
    let err = closed.unwrap_err();
    assert!(err.to_string().contains("50 records"), "{err}");
    assert_eq!(m.lost_at_close, 50, "{m:?}");
    assert_eq!(m.writes, 50);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        50,
    );
}

// --- c. A failing rename or create at rotation ---------------------------------------
//
// A size rotation that fails does not fail the write (docs/GUARANTEES.md section 6,
// "Failing rename or create at rotation"): it is reported to the error handler, the
// records go on into the active file past `max_size`, and the rotation is tried again a
// second later by the file's clock, until it succeeds by itself. The tests drive that
// clock (`ManualClock`), so each second's single attempt is exactly where the test says.

/// 2026-11-23T00:00:00Z: where the tests' manual clocks start.
const MIDNIGHT: i64 = 1_795_392_000;

/// Writes records `range` through `log` and waits until the consumer has written them.
fn write_flushed(log: &Writer<ManualClock>, range: std::ops::Range<usize>) {
    for i in range {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    log.flush().unwrap();
}

/// Checks in the file system's log that every rename of `app.log` whose new file could not
/// be created was undone: the next rename renamed the backup back to `app.log`. Returns
/// how many rotations were undone.
fn assert_failed_creates_undone(ffs: &FaultFs) -> usize {
    let events = ffs.events();
    let mut undone = 0;
    for (i, e) in events.iter().enumerate() {
        if e.op != FaultOp::Create || e.errno == 0 {
            continue;
        }
        let renamed = events[..i]
            .iter()
            .rfind(|r| r.op == FaultOp::Rename)
            .unwrap_or_else(|| panic!("a failed create without a rename: {events:?}"));
        assert_eq!(renamed.errno, 0, "{renamed:?}");
        assert_eq!(renamed.names[0], "app.log", "{renamed:?}");
        let back = events[i..]
            .iter()
            .find(|r| r.op == FaultOp::Rename)
            .unwrap_or_else(|| panic!("the rename was not undone: {events:?}"));
        assert_eq!(back.errno, 0, "{back:?}");
        assert_eq!(
            back.names,
            [renamed.names[1].as_str(), "app.log"],
            "undone: {events:?}"
        );
        undone += 1;
    }
    undone
}

#[test]
fn a_failing_rename_at_rotation_is_reported_and_retried_and_loses_nothing() {
    failing_renames_at_rotation_are_retried(blocking());
}

/// The same through io_uring's linked rotation chain.
#[cfg(feature = "uring")]
#[test]
fn a_failing_rename_in_the_uring_rotation_chain_is_reported_and_retried() {
    if support::uring_unavailable("faultfs uring rename") {
        return;
    }
    failing_renames_at_rotation_are_retried(Options::default().io_uring(uring_strict()));
}

/// A `Writer` on the fault file system's `app.log` with `file`'s options, rotating at
/// 20 000 bytes (up to 100 backups kept), on `clock`.
fn rotating_writer(ffs: &FaultFs, file: Options, clock: &ManualClock) -> Writer<ManualClock> {
    Writer::open_with_clock(
        ffs.dir().join("app.log"),
        WriterOptions::default().file(
            file.max_size(Some(20_000))
                .retention(RetentionPolicy::new().max_count(100)),
        ),
        clock.clone(),
    )
    .unwrap()
}

/// The sizes of `app.log`'s segments on the fault file system, oldest first.
fn segment_sizes(ffs: &FaultFs) -> Vec<usize> {
    support::segments(ffs.backing(), "app.log")
        .iter()
        .map(Vec::len)
        .collect()
}

/// A writer on `file` whose size rotation's rename fails: three automatic attempts, a
/// second apart, and a manual `rotate` in between, each failing once. The writer never
/// refuses or holds a record: the records go on into the active file, past `max_size`,
/// each automatic failure is reported once (`Op::Rename`, EIO), the manual one is
/// returned, and the first attempt after the fault clears rotates by itself.
fn failing_renames_at_rotation_are_retried(file: Options) {
    let Some(ffs) = FaultFs::mount("failing rename") else {
        return;
    };
    let clock = ManualClock::new(MIDNIGHT);
    let log = rotating_writer(&ffs, file, &clock);
    let seen = seen_by(|h| log.set_error_handler(h));
    ffs.arm(FaultOp::Rename, EIO, Some(4), Some("app.log"));
    // 300 records of 100 bytes: the rotation is due at record 200; its rename fails, and
    // the records go on into the active file. No second attempt within the second.
    write_flushed(&log, 0..300);
    assert_eq!(ffs.injected(FaultOp::Rename), 1);
    assert_eq!(*seen.lock().unwrap(), [(Op::Rename, Some(EIO))]);
    let m = log.metrics();
    assert_eq!(m.file.rotations, 0, "{m:?}");
    assert_eq!(m.file.size, 30_000, "past max_size: {m:?}");
    assert_eq!(m.write_errors, 0, "no batch failed: {m:?}");
    assert_eq!(support::names(ffs.backing()), ["app.log"]);
    // A second later: the second attempt, reported. A manual rotation is not put off,
    // and returns its failure (not reported to the handler).
    clock.advance(1);
    write_flushed(&log, 300..350);
    assert_eq!(
        count(&seen, Op::Rename, EIO),
        2,
        "{:?}",
        seen.lock().unwrap()
    );
    let err = log.rotate().unwrap_err();
    assert_eq!(op_of(&err), (Op::Rename, Some(EIO)), "{err}");
    assert_eq!(ffs.injected(FaultOp::Rename), 3);
    assert_eq!(seen.lock().unwrap().len(), 2, "{:?}", seen.lock().unwrap());
    // Another second: the third automatic attempt, the last to fail.
    clock.advance(1);
    write_flushed(&log, 350..400);
    assert_eq!(ffs.injected(FaultOp::Rename), 4);
    assert_eq!(
        count(&seen, Op::Rename, EIO),
        3,
        "{:?}",
        seen.lock().unwrap()
    );
    assert_eq!(log.metrics().file.rotations, 0);
    // The fault has cleared: a second later the next record rotates, by itself, and the
    // size rotations after it happen as usual.
    clock.advance(1);
    write_flushed(&log, 400..1000);
    let m = log.close().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 3, "{:?}", seen.lock().unwrap());
    // `errors` counts what went to the handler; `errors_by_op` also the returned one.
    assert_eq!(m.file.errors, 3, "{:?}", m.file);
    assert_eq!(m.file.errors_by_op.get(Op::Rename), 4, "{:?}", m.file);
    assert_eq!(m.write_errors, 0, "{m:?}");
    assert_eq!(m.writes, 1000);
    // The first backup holds records 0..400 (40 000 bytes); the other 60 000 bytes make
    // three 20 000-byte segments, the last one still active.
    assert_eq!(m.file.rotations, 3, "{:?}", m.file);
    let sizes = segment_sizes(&ffs);
    assert_eq!(sizes, [40_000, 20_000, 20_000, 20_000], "{sizes:?}");
    assert_lines(&support::contents(ffs.backing(), "app.log"), 1000);
}

#[test]
fn a_rotating_files_failed_rename_is_reported_retried_a_second_later_and_returned_by_rotate() {
    let Some(ffs) = FaultFs::mount("rotating file rename") else {
        return;
    };
    let clock = ManualClock::new(MIDNIGHT);
    let mut file = RotatingFile::open_with_clock(
        ffs.dir().join("app.log"),
        blocking()
            .max_size(Some(1_000))
            .retention(RetentionPolicy::new().max_count(100)),
        clock.clone(),
    )
    .unwrap();
    let seen = seen_by(|h| file.set_error_handler(h));
    for i in 0..10 {
        file.write_record(line(i).as_bytes()).unwrap();
    }
    ffs.arm(FaultOp::Rename, EIO, Some(2), Some("app.log"));
    // The eleventh record needs a rotation, whose rename fails: reported, and the record
    // goes into the active file past max_size, as do the next ones within the second,
    // without another attempt.
    for i in 10..15 {
        file.write_record(line(i).as_bytes()).unwrap();
    }
    assert_eq!(ffs.injected(FaultOp::Rename), 1);
    assert_eq!(*seen.lock().unwrap(), [(Op::Rename, Some(EIO))]);
    assert_eq!(file.size(), 1_500);
    assert_eq!(file.stats().rotations, 0);
    // A manual rotation is not put off, and returns its failure.
    let e = file.rotate().unwrap_err();
    assert_eq!(
        (e.op(), e.io_error().raw_os_error()),
        (Op::Rename, Some(EIO)),
        "{e}"
    );
    assert_eq!(ffs.injected(FaultOp::Rename), 2);
    assert_eq!(seen.lock().unwrap().len(), 1, "returned, not reported");
    assert_eq!(support::names(ffs.backing()), ["app.log"]);
    // The fault has cleared: a second later the next record rotates by itself (records
    // 15..25 then fill the new file, and record 25 rotates again).
    clock.advance(1);
    for i in 15..30 {
        file.write_record(line(i).as_bytes()).unwrap();
    }
    let stats = file.close().unwrap();
    assert_eq!(stats.rotations, 2, "{stats:?}");
    // `errors` counts what went to the handler; `errors_by_op` also the returned one.
    assert_eq!(stats.errors, 1, "{stats:?}");
    assert_eq!(stats.errors_by_op.get(Op::Rename), 2, "{stats:?}");
    assert_eq!(seen.lock().unwrap().len(), 1, "{:?}", seen.lock().unwrap());
    let sizes = segment_sizes(&ffs);
    assert_eq!(sizes, [1_500, 1_000, 500]);
    assert_lines(&support::contents(ffs.backing(), "app.log"), 30);
}

#[test]
fn a_rotation_whose_new_file_cannot_be_created_is_undone_and_retried() {
    let Some(ffs) = FaultFs::mount("failing create at rotation") else {
        return;
    };
    let clock = ManualClock::new(MIDNIGHT);
    let log = rotating_writer(&ffs, blocking(), &clock);
    let seen = seen_by(|h| log.set_error_handler(h));
    // The first two attempts rename the file away but cannot create the new one: each
    // puts the old file back (the path names the file the writer appends to), is
    // reported, and the records go on into it.
    ffs.arm(FaultOp::Create, EIO, Some(2), Some("app.log"));
    write_flushed(&log, 0..300);
    assert_eq!(ffs.injected(FaultOp::Create), 1);
    assert_eq!(*seen.lock().unwrap(), [(Op::Open, Some(EIO))]);
    assert_eq!(support::names(ffs.backing()), ["app.log"]);
    assert_eq!(log.metrics().file.size, 30_000);
    clock.advance(1);
    write_flushed(&log, 300..350);
    assert_eq!(ffs.injected(FaultOp::Create), 2);
    assert_eq!(count(&seen, Op::Open, EIO), 2, "{:?}", seen.lock().unwrap());
    assert_eq!(support::names(ffs.backing()), ["app.log"]);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        350,
    );
    assert_eq!(assert_failed_creates_undone(&ffs), 2);
    // A second later the rotation succeeds by itself.
    clock.advance(1);
    write_flushed(&log, 350..1000);
    let m = log.close().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2, "{:?}", seen.lock().unwrap());
    assert_eq!(m.file.errors_by_op.get(Op::Open), 2, "{:?}", m.file);
    assert_eq!(m.file.errors, 2, "{:?}", m.file);
    assert_eq!(m.write_errors, 0, "{m:?}");
    // Records 0..350 in the first backup, then 20 000-byte segments.
    assert_eq!(m.file.rotations, 4, "{:?}", m.file);
    let sizes = segment_sizes(&ffs);
    assert_eq!(sizes, [35_000, 20_000, 20_000, 20_000, 5_000]);
    assert_lines(&support::contents(ffs.backing(), "app.log"), 1000);
}

#[test]
fn a_rotation_that_can_neither_create_the_new_file_nor_undo_its_rename_loses_nothing() {
    let Some(ffs) = FaultFs::mount("failing create and undo at rotation") else {
        return;
    };
    let clock = ManualClock::new(MIDNIGHT);
    let log = rotating_writer(&ffs, blocking(), &clock);
    let seen = seen_by(|h| log.set_error_handler(h));
    // The first rotation renames the file away, cannot create the new one, and cannot
    // rename the old one back: both reported, and the writer goes on appending to the
    // file it holds, which now has a backup's name.
    ffs.arm(FaultOp::Create, EIO, Some(1), Some("app.log"));
    ffs.arm(FaultOp::Rename, EIO, Some(1), Some("app.*.log"));
    write_flushed(&log, 0..300);
    assert_eq!(ffs.injected(FaultOp::Create), 1);
    assert_eq!(ffs.injected(FaultOp::Rename), 1);
    assert_eq!(
        *seen.lock().unwrap(),
        [(Op::Rename, Some(EIO)), (Op::Open, Some(EIO))]
    );
    let names = support::names(ffs.backing());
    assert_eq!(names.len(), 1, "{names:?}");
    assert_ne!(names[0], "app.log", "{names:?}");
    // Within the second nothing else is tried.
    write_flushed(&log, 300..350);
    assert_eq!(seen.lock().unwrap().len(), 2, "{:?}", seen.lock().unwrap());
    assert_lines(
        &fs::read_to_string(ffs.backing().join(&names[0])).unwrap(),
        350,
    );
    // A second later the writer notices that the path names no file: reported
    // (`Op::Stat`), it opens a new file there, and the renamed file stays as a backup of
    // its own; the size rotations after that happen as usual.
    clock.advance(1);
    write_flushed(&log, 350..1000);
    let m = log.close().unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[2].0, Op::Stat, "{seen:?}");
    assert_eq!(m.write_errors, 0, "{m:?}");
    // 65 000 bytes after the new file: three rotations, 5 000 bytes still active.
    assert_eq!(m.file.rotations, 3, "{:?}", m.file);
    let sizes = segment_sizes(&ffs);
    assert_eq!(sizes, [35_000, 20_000, 20_000, 20_000, 5_000]);
    assert_lines(&support::contents(ffs.backing(), "app.log"), 1000);
}

#[test]
fn a_rotation_syncs_renames_creates_and_syncs_the_directory_in_that_order() {
    let Some(ffs) = FaultFs::mount("rotation order") else {
        return;
    };
    let mut file = RotatingFile::open(
        ffs.dir().join("app.log"),
        blocking()
            .max_size(Some(1_000))
            .retention(RetentionPolicy::new().max_count(100)),
    )
    .unwrap();
    for i in 0..50 {
        file.write_record(line(i).as_bytes()).unwrap();
    }
    let stats = file.close().unwrap();
    assert_eq!(stats.rotations, 4);
    // docs/GUARANTEES.md section 5: fsync the finished file, rename it without replacing,
    // create the new active file, fsync the directory; nothing else in between.
    let steps: Vec<(FaultOp, String)> = ffs
        .events()
        .into_iter()
        .filter(|e| e.op != FaultOp::Write)
        .map(|e| {
            assert_eq!(e.errno, 0, "{e:?}");
            (e.op, e.names[0].clone())
        })
        .collect();
    let renames: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].0 == FaultOp::Rename)
        .collect();
    assert_eq!(renames.len(), 4, "{steps:?}");
    for i in renames {
        assert_eq!(
            steps[i - 1],
            (FaultOp::Fsync, "app.log".into()),
            "{steps:?}"
        );
        assert_eq!(steps[i].1, "app.log", "{steps:?}");
        assert_eq!(
            steps[i + 1],
            (FaultOp::Create, "app.log".into()),
            "{steps:?}"
        );
        assert_eq!(steps[i + 2].0, FaultOp::FsyncDir, "{steps:?}");
    }
    assert_lines(&support::contents(ffs.backing(), "app.log"), 50);
}

// --- d. SyncWriter ------------------------------------------------------------------

#[test]
fn sync_writer_returns_failed_fsyncs_and_writes_and_goes_on() {
    let Some(ffs) = FaultFs::mount("sync writer") else {
        return;
    };
    let log = SyncWriter::open(ffs.dir().join("app.log"), blocking().max_size(None)).unwrap();
    for i in 0..10 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    ffs.arm(FaultOp::Fsync, EIO, Some(1), Some("app.log"));
    let e = log.sync().unwrap_err();
    assert_eq!((e.op(), e.io_error().raw_os_error()), (Op::Sync, Some(EIO)));
    log.sync().unwrap();
    ffs.arm(FaultOp::Write, EIO, Some(2), Some("app.log"));
    for _ in 0..2 {
        let e = log.write_record(line(10).as_bytes()).unwrap_err();
        assert_eq!(
            (e.op(), e.io_error().raw_os_error()),
            (Op::Write, Some(EIO))
        );
    }
    for i in 10..20 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    let m = log.metrics();
    assert_eq!(m.writes, 20);
    // Both fsyncs were issued (counted as RotatingFile counts them); one failed.
    assert_eq!(m.file.syncs, 2);
    assert_eq!(m.file.errors_by_op.get(Op::Sync), 1);
    assert_eq!(m.file.errors_by_op.get(Op::Write), 2);
    log.close().unwrap();
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        20,
    );
}

#[test]
fn sync_writers_failed_policy_fsync_is_reported_and_not_retried() {
    let Some(ffs) = FaultFs::mount("sync writer fsync policy") else {
        return;
    };
    let log = SyncWriter::open(
        ffs.dir().join("app.log"),
        blocking().max_size(None).fsync(Fsync::EveryBytes(2_500)),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    // 1000-byte records: the policy's points are after records 3, 6 and 9 (2 500 bytes
    // since the previous point, counted from the point). The first fsync fails.
    ffs.arm(FaultOp::Fsync, EIO, Some(1), Some("app.log"));
    for i in 0..11 {
        log.write_record(format!("{i:0>999}\n").as_bytes()).unwrap();
    }
    assert_eq!(ffs.injected(FaultOp::Fsync), 1);
    assert_eq!(count(&seen, Op::Sync, EIO), 1);
    // Not retried at the next record as if it could succeed now: three fsyncs in all.
    assert_eq!(ffs.calls(FaultOp::Fsync), 3, "{:?}", ffs.events());
    let m = log.metrics();
    assert_eq!(m.file.syncs, 3, "issued, the failed one included");
    assert_eq!(m.file.errors_by_op.get(Op::Sync), 1);
    assert_eq!(m.file.errors, 1);
    log.close().unwrap();
}

#[test]
fn sync_writers_failed_writes_do_not_count_toward_the_size_limit() {
    let Some(ffs) = FaultFs::mount("sync writer size after failed writes") else {
        return;
    };
    let log = SyncWriter::open(
        ffs.dir().join("app.log"),
        blocking()
            .max_size(Some(10_000))
            .retention(RetentionPolicy::new().max_count(100)),
    )
    .unwrap();
    // 200 failed attempts of 100 bytes each, then 50 records: 5 000 bytes, half the limit.
    ffs.arm(FaultOp::Write, EIO, Some(200), Some("app.log"));
    for _ in 0..200 {
        log.write_record(line(0).as_bytes()).unwrap_err();
    }
    for i in 0..50 {
        log.write_record(line(i).as_bytes()).unwrap();
    }
    let m = log.metrics();
    assert_eq!(
        m.file.rotations, 0,
        "records that never reached the file rotated it"
    );
    log.close().unwrap();
    assert_eq!(support::names(ffs.backing()), ["app.log"]);
    assert_lines(
        &fs::read_to_string(ffs.backing().join("app.log")).unwrap(),
        50,
    );
}

#[test]
fn sync_writer_reports_a_failed_rotation_retries_it_a_second_later_and_rotate_returns_it() {
    let Some(ffs) = FaultFs::mount("sync writer rename") else {
        return;
    };
    let clock = ManualClock::new(MIDNIGHT);
    let log = SyncWriter::open_with_clock(
        ffs.dir().join("app.log"),
        blocking()
            .max_size(Some(1_000))
            .retention(RetentionPolicy::new().max_count(100)),
        clock.clone(),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    let write = |range: std::ops::Range<usize>| {
        for i in range {
            log.write_record(line(i).as_bytes()).unwrap();
        }
    };
    write(0..10);
    // The eleventh record needs a rotation, whose rename fails: reported, and the record
    // goes into the active file past max_size, as does the next one, without another
    // attempt within the second.
    ffs.arm(FaultOp::Rename, EIO, Some(1), Some("app.log"));
    write(10..12);
    assert_eq!(*seen.lock().unwrap(), [(Op::Rename, Some(EIO))]);
    assert_eq!(ffs.injected(FaultOp::Rename), 1);
    // A second later the next attempt renames the file but cannot create the new one:
    // reported, and the rename undone (the path names the file the writer appends to).
    clock.advance(1);
    ffs.arm(FaultOp::Create, EIO, Some(1), Some("app.log"));
    write(12..14);
    assert_eq!(
        *seen.lock().unwrap(),
        [(Op::Rename, Some(EIO)), (Op::Open, Some(EIO))]
    );
    assert_eq!(ffs.injected(FaultOp::Create), 1);
    assert_eq!(support::names(ffs.backing()), ["app.log"]);
    // Manual rotations are not put off, and return their failures (not reported), the
    // rename undone again.
    ffs.arm(FaultOp::Rename, EIO, Some(1), Some("app.log"));
    let e = log.rotate().unwrap_err();
    assert_eq!(
        (e.op(), e.io_error().raw_os_error()),
        (Op::Rename, Some(EIO))
    );
    ffs.arm(FaultOp::Create, EIO, Some(1), Some("app.log"));
    let e = log.rotate().unwrap_err();
    assert_eq!((e.op(), e.io_error().raw_os_error()), (Op::Open, Some(EIO)));
    assert_eq!(seen.lock().unwrap().len(), 2, "{:?}", seen.lock().unwrap());
    assert_eq!(assert_failed_creates_undone(&ffs), 2);
    assert_eq!(support::names(ffs.backing()), ["app.log"]);
    write(14..16);
    assert_eq!(log.metrics().file.rotations, 0);
    // The faults have cleared: a second later the next record rotates by itself (records
    // 16..26 then fill the new file, and record 26 rotates again).
    clock.advance(1);
    write(16..30);
    let m = log.metrics();
    assert_eq!(m.writes, 30);
    assert_eq!(m.file.rotations, 2, "{m:?}");
    assert_eq!(m.file.errors_by_op.get(Op::Rename), 2, "{m:?}");
    assert_eq!(m.file.errors_by_op.get(Op::Open), 2, "{m:?}");
    // Reported to the handler: the two automatic attempts (the manual ones returned).
    assert_eq!(m.file.errors, 2, "{m:?}");
    assert_eq!(ffs.injected(FaultOp::Rename), 2);
    assert_eq!(ffs.injected(FaultOp::Create), 2);
    assert_eq!(seen.lock().unwrap().len(), 2, "{:?}", seen.lock().unwrap());
    log.close().unwrap();
    let sizes = segment_sizes(&ffs);
    assert_eq!(sizes, [1_600, 1_000, 400]);
    assert_lines(&support::contents(ffs.backing(), "app.log"), 30);
}

// --- e. Compression -----------------------------------------------------------------

/// Checks in the file system's log that no raw backup was unlinked before its `.gz` was
/// durable: a successful `fsync` of `B.gz.tmp`, its rename to `B.gz`, and after that a
/// successful `fsync` of the directory. Returns how many raw backups were unlinked.
fn assert_raw_unlinked_only_after_durable_gz(ffs: &FaultFs) -> usize {
    let events = ffs.events();
    let mut unlinked = 0;
    for (i, e) in events.iter().enumerate() {
        if e.op != FaultOp::Unlink || e.errno != 0 {
            continue;
        }
        let raw = &e.names[0];
        if raw.ends_with(".tmp") || raw.ends_with(".sha256") || raw.ends_with(".gz") {
            continue;
        }
        let (gz, tmp) = (format!("{raw}.gz"), format!("{raw}.gz.tmp"));
        let before = &events[..i];
        let renamed = before
            .iter()
            .rposition(|r| {
                r.op == FaultOp::Rename && r.errno == 0 && r.names == [tmp.as_str(), gz.as_str()]
            })
            .unwrap_or_else(|| panic!("{raw} unlinked before {gz} was in place: {before:?}"));
        assert!(
            before[..renamed]
                .iter()
                .any(|s| s.op == FaultOp::Fsync && s.errno == 0 && s.names == [tmp.as_str()]),
            "{raw} unlinked, but {tmp} was never synced"
        );
        assert!(
            before[renamed..]
                .iter()
                .any(|s| s.op == FaultOp::FsyncDir && s.errno == 0),
            "{raw} unlinked before the rename to {gz} was synced"
        );
        unlinked += 1;
    }
    unlinked
}

#[test]
fn compression_survives_a_failing_fsync_or_rename_of_its_temporary() {
    let Some(ffs) = FaultFs::mount("compression faults") else {
        return;
    };
    let mut file = RotatingFile::open(
        ffs.dir().join("app.log"),
        blocking()
            .max_size(Some(5_000))
            .compress(Some(1))
            .checksum(true)
            .retention(RetentionPolicy::new().max_count(100)),
    )
    .unwrap();
    let seen = seen_by(|h| file.set_error_handler(h));
    // The first compression's temporary fails its fsync (not transient: the job fails,
    // the raw segment stays); the next two renames of a temporary find the disk full
    // (transient: retried).
    ffs.arm(FaultOp::Fsync, EIO, Some(1), Some("*.gz.tmp"));
    let mut next = 0;
    let mut write = |file: &mut RotatingFile, n: usize| {
        for _ in 0..n {
            file.write_record(line(next).as_bytes()).unwrap();
            next += 1;
        }
    };
    write(&mut file, 60); // one rotation
    assert!(support::eventually(|| file.stats().compressions_failed == 1));
    ffs.arm(FaultOp::Rename, ENOSPC, Some(2), Some("*.gz.tmp"));
    write(&mut file, 100); // two more
    let stats = file.close().unwrap();
    assert_eq!(stats.rotations, 3, "{stats:?}");
    assert_eq!(stats.compressions, 2, "{stats:?}");
    assert_eq!(stats.compressions_failed, 1, "{stats:?}");
    assert_eq!(stats.jobs_retried, 2, "{stats:?}");
    assert_eq!(ffs.injected(FaultOp::Rename), 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(Op::Sync, Some(EIO))],
        "only the failed job is reported"
    );
    assert_eq!(assert_raw_unlinked_only_after_durable_gz(&ffs), 2);
    let names = support::names(ffs.backing());
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".gz")).count(),
        2,
        "{names:?}"
    );
    support::sh_in(ffs.backing(), "sha256sum -c *.sha256");
    assert_lines(&support::contents(ffs.backing(), "app.log"), 160);
}

#[test]
fn compression_keeps_the_raw_segment_while_its_gz_is_not_durable() {
    let Some(ffs) = FaultFs::mount("compression directory fsync") else {
        return;
    };
    let mut file = RotatingFile::open(
        ffs.dir().join("app.log"),
        blocking()
            .max_size(Some(5_000))
            .compress(Some(1))
            .sync_on_rotate(false)
            .retention(RetentionPolicy::new().max_count(100)),
    )
    .unwrap();
    // Every directory fsync fails: no rename of a `.gz` into place is ever durable, so
    // no raw segment may be unlinked.
    ffs.arm(FaultOp::FsyncDir, EIO, None, None);
    for i in 0..160 {
        file.write_record(line(i).as_bytes()).unwrap();
    }
    let stats = file.close().unwrap();
    assert_eq!(stats.rotations, 3, "{stats:?}");
    assert_eq!(stats.compressions, 0, "{stats:?}");
    assert_eq!(stats.compressions_failed, 3, "{stats:?}");
    assert_eq!(assert_raw_unlinked_only_after_durable_gz(&ffs), 0);
    // Every segment is still there raw (backups sort before `app.log`), whatever became
    // of its `.gz`.
    let raw: Vec<String> = support::names(ffs.backing())
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .collect();
    assert_eq!(raw.len(), 4, "{raw:?}");
    let text: String = raw
        .iter()
        .map(|n| fs::read_to_string(ffs.backing().join(n)).unwrap())
        .collect();
    assert_lines(&text, 160);
}

#[test]
fn a_raw_segment_that_cannot_be_unlinked_after_compression_is_removed_by_recovery() {
    let Some(ffs) = FaultFs::mount("failing unlink after compression") else {
        return;
    };
    let options = || {
        blocking()
            .max_size(Some(5_000))
            .compress(Some(1))
            .checksum(true)
            .retention(RetentionPolicy::new().max_count(100))
    };
    let mut file = RotatingFile::open(ffs.dir().join("app.log"), options()).unwrap();
    let seen = seen_by(|h| file.set_error_handler(h));
    // The raw segment's unlink fails after its `.gz` and sidecar are in place.
    ffs.arm(FaultOp::Unlink, EIO, None, Some("app.*.log"));
    for i in 0..60 {
        file.write_record(line(i).as_bytes()).unwrap();
    }
    let stats = file.close().unwrap();
    assert_eq!(stats.rotations, 1);
    assert_eq!(stats.jobs_failed, 1, "{stats:?}");
    assert_eq!(
        count(&seen, Op::Remove, EIO),
        1,
        "{:?}",
        seen.lock().unwrap()
    );
    // Both copies are complete: the raw segment and the verified `.gz`.
    let names = support::names(ffs.backing());
    assert_eq!(names.len(), 4, "{names:?}");
    support::sh_in(ffs.backing(), "sha256sum -c *.sha256");
    // The next open's recovery keeps the good `.gz` and removes the raw copy.
    ffs.disarm(FaultOp::Unlink);
    let file = RotatingFile::open(ffs.dir().join("app.log"), options()).unwrap();
    file.close().unwrap();
    let names = support::names(ffs.backing());
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".log.gz")), "{names:?}");
    support::sh_in(ffs.backing(), "sha256sum -c *.sha256");
    assert_lines(&support::contents(ffs.backing(), "app.log"), 60);
}

#[test]
fn a_sidecar_that_cannot_be_renamed_into_place_is_finished_by_recovery() {
    let Some(ffs) = FaultFs::mount("failing sidecar rename") else {
        return;
    };
    let options = || {
        blocking()
            .max_size(Some(5_000))
            .compress(Some(1))
            .checksum(true)
            .retention(RetentionPolicy::new().max_count(100))
    };
    let mut file = RotatingFile::open(ffs.dir().join("app.log"), options()).unwrap();
    let seen = seen_by(|h| file.set_error_handler(h));
    // The `.gz` is in place; its sidecar's temporary cannot be renamed (not transient).
    ffs.arm(FaultOp::Rename, EIO, Some(1), Some("*.sha256.tmp"));
    for i in 0..60 {
        file.write_record(line(i).as_bytes()).unwrap();
    }
    let stats = file.close().unwrap();
    assert_eq!(stats.rotations, 1);
    assert_eq!(stats.compressions, 1, "{stats:?}");
    assert_eq!(stats.checksums_failed, 1, "{stats:?}");
    assert_eq!(stats.jobs_retried, 0, "{stats:?}");
    assert_eq!(
        count(&seen, Op::Rename, EIO),
        1,
        "{:?}",
        seen.lock().unwrap()
    );
    // The raw segment stays until its `.gz` is complete with its sidecar.
    assert_eq!(assert_raw_unlinked_only_after_durable_gz(&ffs), 0);
    let names = support::names(ffs.backing());
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    assert_eq!(names.len(), 3, "{names:?}");
    // The next open's recovery keeps the good `.gz`, removes the raw copy and writes the
    // missing sidecar.
    let file = RotatingFile::open(ffs.dir().join("app.log"), options()).unwrap();
    file.close().unwrap();
    let names = support::names(ffs.backing());
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with(".log.gz.sha256")),
        "{names:?}"
    );
    support::sh_in(ffs.backing(), "sha256sum -c *.sha256");
    assert_lines(&support::contents(ffs.backing(), "app.log"), 60);
}

/// A compression refused with EACCES (a directory whose write permission was taken away,
/// which root cannot reproduce with chmod) is reported, keeps the raw segment, and runs
/// again after the next rotation shows the directory writable, as after EROFS.
#[test]
fn a_compression_refused_permission_runs_again_after_the_next_rotation() {
    let Some(ffs) = FaultFs::mount("compression without permission") else {
        return;
    };
    let mut log = RotatingFile::open(
        ffs.dir().join("app.log"),
        blocking()
            .max_size(None)
            .compress(Some(6))
            .checksum(true)
            .retention(RetentionPolicy::new()),
    )
    .unwrap();
    let seen = seen_by(|h| log.set_error_handler(h));
    ffs.arm(FaultOp::Create, libc::EACCES, None, Some("*.gz.tmp"));
    log.write_record(b"one\n").unwrap();
    log.rotate().unwrap();
    assert!(support::eventually(|| log.stats().jobs_failed == 1));
    assert_eq!(count(&seen, Op::Open, libc::EACCES), 1);
    ffs.disarm(FaultOp::Create);
    log.write_record(b"two\n").unwrap();
    log.rotate().unwrap();
    log.write_record(b"three\n").unwrap();
    let stats = log.close().unwrap();
    assert_eq!(stats.compressions, 2, "{stats:?}");
    assert!(stats.jobs_retried >= 1, "{stats:?}");
    let gz: Vec<String> = support::names(ffs.backing())
        .into_iter()
        .filter(|n| n.ends_with(".gz"))
        .collect();
    assert_eq!(gz.len(), 2, "{gz:?}");
    let mut text = String::new();
    for name in &gz {
        text.push_str(std::str::from_utf8(&support::gunzip(&ffs.backing().join(name))).unwrap());
    }
    assert_eq!(text, "one\ntwo\n");
    support::sh_in(ffs.backing(), "sha256sum -c --quiet *.sha256");
}
