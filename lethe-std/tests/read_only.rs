//! Read-only directories, for real: the log directory is bind-mounted read-only over itself
//! ([`support::read_only`]), so every path operation in it (create, rename, unlink, mkdir,
//! an open for writing) fails with EROFS even for root, while a file opened before keeps
//! its descriptor on the writable mount underneath: what a program sees when its log
//! directory is remounted read-only under it. Where this process may not mount, each test
//! calls `support::missing` (a SKIP locally, a failure under `LETHE_CI=1`).
//!
//! I/O backend: every test opens its files with [`blocking`] (`Uring::Off`), so it runs the
//! blocking syscall path whatever the features (`--all-features` would otherwise make
//! io_uring the default, see `lethe-std/src/io_backend.rs`). The opening test also opens
//! a `Writer` with the default options, and the test of a running `Writer` also runs on
//! io_uring (`Uring::Strict`, whose rotation is one linked chain) where the `uring`
//! feature is on and io_uring is usable, and in shared mode.
//!
//! What is checked (docs/GUARANTEES.md, section 6, "Read-only directory"):
//! - opening a log there fails with an error naming the path and EROFS, and creates
//!   nothing;
//! - a running writer keeps appending through its open file when its size or time
//!   rotation cannot rename: the failure is reported (`Op::Rename`, counted in `Stats::errors`), the file
//!   grows past `max_size`, the rotation is tried again at most once a second (by the
//!   file's clock) and succeeds by itself once the directory is writable, and every
//!   acknowledged record is in the files exactly once, in order;
//! - `flush`, `sync` and `close` succeed meanwhile (the records reach the open file);
//! - background compression and retention fail, are reported once each and keep the raw
//!   segment; the next rotation (once writable) runs the compression again
//!   (`Stats::jobs_retried`), and so does recovery at the next open;
//! - start-up in a read-only directory fails before recovery touches any file.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use lethe_core::retention::RetentionPolicy;
use lethe_std::clock::ManualClock;
use lethe_std::{
    Error, Op, Options, RotatingFile, SyncWriter, Uring, UringOptions, Writer, WriterOptions,
};

mod support;
use support::{names, read_only};

/// 2026-11-23T00:00:00Z.
const MIDNIGHT: i64 = 1_795_392_000;

/// Options on the blocking syscall path, whatever the features.
fn blocking() -> Options {
    Options::default().io_uring(UringOptions::default().mode(Uring::Off))
}

/// The errors a log reported to its error handler: operation, kind, message.
type Reports = Arc<Mutex<Vec<(Op, io::ErrorKind, String)>>>;

/// Asserts that one rotation was tried in this second: one report, a rename refused by the
/// read-only file system, naming `dir`.
fn assert_one_failed_rename(reports: &Reports, dir: &Path) {
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "one attempt in this second: {reports:?}");
    let (op, kind, message) = &reports[0];
    assert_eq!(
        (*op, *kind),
        (Op::Rename, io::ErrorKind::ReadOnlyFilesystem)
    );
    assert!(message.contains(&dir.display().to_string()), "{message}");
}

/// A handler that keeps every reported error in `reports`.
fn keep(reports: &Reports) -> impl FnMut(&Error) + Send + 'static {
    let reports = Arc::clone(reports);
    move |e: &Error| {
        reports
            .lock()
            .unwrap()
            .push((e.op(), e.io_error().kind(), e.to_string()));
    }
}

/// Asserts that `e` is a read-only file system error of `op` on `path`, whose message
/// names both.
fn assert_read_only(e: &Error, op: Op, path: &Path) {
    assert_eq!(e.op(), op, "{e}");
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(
        e.io_error().kind(),
        io::ErrorKind::ReadOnlyFilesystem,
        "{e}"
    );
    let message = e.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("Read-only file system"), "{message}");
}

/// Every file under `dir` (recursively, by relative path) with its contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The text of `dir`'s `app.log` and its backups (`app.0…`, raw or `.gz`), backups in
/// order first (shared mode's lock files beside them are not part of the log).
fn log_text(dir: &Path) -> String {
    let mut text = Vec::new();
    for n in names(dir).iter().filter(|n| n.starts_with("app.0")) {
        if n.ends_with(".gz") {
            text.extend(support::gunzip(&dir.join(n)));
        } else if n.ends_with(".log") {
            text.extend(fs::read(dir.join(n)).unwrap());
        }
    }
    text.extend(fs::read(dir.join("app.log")).unwrap());
    String::from_utf8(text).unwrap()
}

// --- a. Opening a log in a read-only directory ---------------------------------------

#[test]
fn opening_a_new_log_in_a_read_only_directory_names_the_path_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("foreign.txt"), b"not ours\n").unwrap();
    let before = snapshot(dir.path());
    let Some(_ro) = read_only(dir.path()) else {
        return;
    };
    let file = dir.path().join("app.log");
    let nested = dir.path().join("a/b/app.log");
    let created = dir.path().join("a/b");
    let shared = || blocking().shared(true);

    let e = RotatingFile::open(&file, blocking()).err().unwrap();
    assert_read_only(&e, Op::Open, &file);
    let e = SyncWriter::open(&file, blocking()).err().unwrap();
    assert_read_only(&e, Op::Open, &file);
    let e = Writer::open(&file, WriterOptions::default().file(blocking()))
        .err()
        .unwrap();
    assert_read_only(&e, Op::Open, &file);
    // io_uring (the default with `--all-features`) opens the active file the same way.
    let e = Writer::open(&file, WriterOptions::default()).err().unwrap();
    assert_read_only(&e, Op::Open, &file);
    // Shared mode fails on its lock file, which is created first.
    let e = RotatingFile::open(&file, shared()).err().unwrap();
    assert_eq!(
        e.io_error().kind(),
        io::ErrorKind::ReadOnlyFilesystem,
        "{e}"
    );
    assert!(e.path().starts_with(dir.path()), "{e}");
    assert!(e.to_string().contains("Read-only file system"), "{e}");

    // Parent directories to create: the one that could not be created is named.
    let e = RotatingFile::open(&nested, blocking()).err().unwrap();
    assert_read_only(&e, Op::CreateDir, &created);
    let e = Writer::open(&nested, WriterOptions::default().file(blocking()))
        .err()
        .unwrap();
    assert_read_only(&e, Op::CreateDir, &created);
    let e = SyncWriter::open(&nested, blocking()).err().unwrap();
    assert_read_only(&e, Op::CreateDir, &created);

    drop(_ro);
    assert_eq!(
        snapshot(dir.path()),
        before,
        "nothing was created or changed"
    );
}

/// A read-only mount below a writable directory, with directories to create inside it: the
/// error names the directory the log needed.
#[test]
fn parent_directories_on_a_read_only_mount_below_a_writable_one_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("ro");
    fs::create_dir(&mount).unwrap();
    let Some(_ro) = read_only(&mount) else {
        return;
    };
    let file = mount.join("x/y/app.log");
    let e = RotatingFile::open(&file, blocking()).err().unwrap();
    assert_read_only(&e, Op::CreateDir, &mount.join("x/y"));
    assert!(names(&mount).is_empty());
    drop(_ro);
    assert!(names(&mount).is_empty(), "nothing half-created");
}

// --- b. A running writer whose directory turns read-only -----------------------------

/// Checks `t<thread> <seq>` lines: each of `threads` threads wrote `0..per_thread` once
/// each, in order.
fn assert_every_line_once_in_order(text: &str, threads: u32, per_thread: u32) {
    let mut next: HashMap<u32, u32> = HashMap::new();
    for line in text.lines() {
        let (t, i) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("torn line {line:?}"));
        let t: u32 = t.trim_start_matches('t').parse().unwrap();
        let i: u32 = i.parse().unwrap_or_else(|_| panic!("torn line {line:?}"));
        let expected = next.entry(t).or_insert(0);
        assert_eq!(i, *expected, "thread {t}: duplicate, gap or reorder");
        *expected += 1;
    }
    assert_eq!(next.len() as u32, threads, "{next:?}");
    assert!(next.values().all(|&n| n == per_thread), "{next:?}");
}

/// `RotatingFile` (and so a `Writer`'s consumer): while the rotation cannot rename, each
/// record still goes into the active file, which grows past `max_size`; the failure is
/// reported once per retry, and the retries are a second apart by the file's clock.
#[test]
fn a_rotating_file_keeps_appending_while_its_rotation_cannot_rename() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let reports = Reports::default();
    let options = blocking()
        .max_size(Some(100))
        .retention(RetentionPolicy::new());
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    log.set_error_handler(keep(&reports));
    let mut n = 0u32;
    let mut write = |log: &mut RotatingFile<ManualClock>, count: u32| {
        for _ in 0..count {
            log.write_record(format!("t0 {n}\n").as_bytes()).unwrap();
            n += 1;
        }
    };
    write(&mut log, 60); // a few rotations while writable
    let rotated = log.stats().rotations;
    assert!(rotated >= 2, "{:?}", log.stats());
    let Some(ro) = read_only(dir.path()) else {
        return;
    };
    write(&mut log, 40);
    assert_eq!(log.stats().rotations, rotated, "nothing could be renamed");
    assert!(
        log.size() > 100,
        "the file grows past max_size: {}",
        log.size()
    );
    assert_one_failed_rename(&reports, dir.path());
    clock.advance(1);
    write(&mut log, 5);
    assert_eq!(
        reports.lock().unwrap().len(),
        2,
        "tried again a second later"
    );
    let stats = log.stats();
    assert_eq!(stats.errors_by_op.get(Op::Rename), 2, "{stats:?}");
    assert_eq!(stats.errors, 2, "{stats:?}");
    // Durability calls work on the open file.
    log.sync().unwrap();

    drop(ro);
    write(&mut log, 5); // the same second: not tried again yet
    assert_eq!(log.stats().rotations, rotated);
    clock.advance(1);
    write(&mut log, 30);
    assert!(
        log.stats().rotations > rotated,
        "rotates by itself once writable"
    );
    assert_eq!(
        reports.lock().unwrap().len(),
        2,
        "{:?}",
        reports.lock().unwrap()
    );
    log.close().unwrap();
    assert_every_line_once_in_order(&log_text(dir.path()), 1, n);
}

/// A time rotation that falls due while the directory is read-only: the records of the
/// new period go on into the active file (reported, tried again a second later), and the
/// first record a second after the directory is writable again rotates.
#[test]
fn a_time_rotation_due_in_a_read_only_directory_waits_and_happens_once_writable() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT - 10);
    let reports = Reports::default();
    let options = blocking()
        .max_size(None)
        .schedule(Some(lethe_core::rotation::Schedule::HOURLY));
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    log.set_error_handler(keep(&reports));
    log.write_record(b"before midnight\n").unwrap();
    let Some(ro) = read_only(dir.path()) else {
        return;
    };
    clock.advance(10);
    log.write_record(b"after midnight\n").unwrap();
    log.write_record(b"the same second\n").unwrap();
    assert_eq!(reports.lock().unwrap().len(), 1);
    clock.advance(1);
    log.write_record(b"a second later\n").unwrap();
    assert_eq!(reports.lock().unwrap().len(), 2);
    assert!(
        reports
            .lock()
            .unwrap()
            .iter()
            .all(|(op, kind, _)| (*op, *kind) == (Op::Rename, io::ErrorKind::ReadOnlyFilesystem)),
        "{:?}",
        reports.lock().unwrap()
    );
    drop(ro);
    log.write_record(b"writable, same second\n").unwrap();
    assert_eq!(log.stats().rotations, 0);
    clock.advance(1);
    log.write_record(b"rotated\n").unwrap();
    let stats = log.close().unwrap();
    assert_eq!(stats.rotations, 1, "{stats:?}");
    assert_eq!(stats.errors, 2, "{stats:?}");
    let backups = backup_files(dir.path());
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        fs::read_to_string(dir.path().join(&backups[0])).unwrap(),
        "before midnight\nafter midnight\nthe same second\na second later\n\
         writable, same second\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("app.log")).unwrap(),
        "rotated\n"
    );
}

/// Writes `t<thread> <seq>` lines from `threads.len()` threads, `count` each, continuing
/// each thread's sequence in `threads`; every write must succeed. Fails (instead of
/// hanging) if they have not all finished within `support::eventually`'s 10 s.
fn write_from_threads<W: Fn(&[u8]) + Clone + Send + 'static>(
    write: &W,
    threads: &mut [u32],
    count: u32,
) {
    let handles: Vec<_> = threads
        .iter()
        .enumerate()
        .map(|(t, &from)| {
            let write = write.clone();
            std::thread::spawn(move || {
                for i in from..from + count {
                    write(format!("t{t} {i}\n").as_bytes());
                }
            })
        })
        .collect();
    assert!(
        support::eventually(|| handles.iter().all(|h| h.is_finished())),
        "writers blocked: a deadlock or a writer that stopped appending"
    );
    for h in handles {
        h.join().unwrap();
    }
    for next in threads.iter_mut() {
        *next += count;
    }
}

/// `SyncWriter`: four threads go on writing while the directory is read-only; one
/// attempt per second (by the clock) fails and is reported, whichever thread finds the
/// rotation due; once writable, the next attempt rotates.
#[test]
fn a_sync_writer_keeps_appending_while_its_rotation_cannot_rename() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let reports = Reports::default();
    let options = blocking()
        .max_size(Some(2000))
        .retention(RetentionPolicy::new());
    let log =
        SyncWriter::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    log.set_error_handler(keep(&reports));
    let w = log.clone();
    let write = move |r: &[u8]| w.write_record(r).unwrap();
    let mut threads = [0u32; 4];
    write_from_threads(&write, &mut threads, 200);
    let rotated = log.counts().2;
    assert!(rotated >= 2, "{:?}", log.metrics());
    let Some(ro) = read_only(dir.path()) else {
        return;
    };
    write_from_threads(&write, &mut threads, 500);
    assert_eq!(log.counts().2, rotated, "nothing could be renamed");
    assert!(log.metrics().file.size > 2000, "{:?}", log.metrics());
    assert_one_failed_rename(&reports, dir.path());
    clock.advance(1);
    write_from_threads(&write, &mut threads, 10);
    assert_eq!(
        reports.lock().unwrap().len(),
        2,
        "tried again a second later"
    );
    let stats = log.metrics().file;
    assert_eq!(stats.errors_by_op.get(Op::Rename), 2, "{stats:?}");
    assert_eq!(stats.errors, 2, "{stats:?}");
    log.sync().unwrap();

    drop(ro);
    clock.advance(1);
    write_from_threads(&write, &mut threads, 200);
    assert!(log.counts().2 > rotated, "rotates by itself once writable");
    assert_eq!(reports.lock().unwrap().len(), 2);
    drop(write);
    log.close().unwrap();
    assert_every_line_once_in_order(&log_text(dir.path()), 4, threads[0]);
}

/// `Writer` (async, `Block`): four threads write more than the ring holds while the
/// directory is read-only; none of them blocks for good, `flush` and `sync` succeed, the
/// failed rotation is reported (`Op::Rename`), and once the directory is writable the
/// consumer rotates by itself within about a second. Returns the final metrics.
fn a_running_writer_keeps_appending(file: Options) -> Option<lethe_std::Metrics> {
    let dir = tempfile::tempdir().unwrap();
    let reports = Reports::default();
    let options = WriterOptions::default()
        .file(
            file.max_size(Some(16 << 10))
                .retention(RetentionPolicy::new()),
        )
        .buffer(64 << 10);
    let log = Writer::open(dir.path().join("app.log"), options).unwrap();
    log.set_error_handler(keep(&reports));
    let w = log.clone();
    let write = move |r: &[u8]| w.write_record(r).unwrap();
    let mut threads = [0u32; 4];
    write_from_threads(&write, &mut threads, 2000);
    log.flush().unwrap();
    let rotated = log.metrics().file.rotations;
    assert!(rotated >= 2, "{:?}", log.metrics());
    let ro = read_only(dir.path())?;
    // 4 × 20 000 lines of about 9 bytes: more than ten rings' worth.
    write_from_threads(&write, &mut threads, 20_000);
    log.flush().unwrap();
    log.sync().unwrap();
    let m = log.metrics();
    assert_eq!(m.file.rotations, rotated, "nothing could be renamed: {m:?}");
    assert!(
        m.file.size > 16 << 10,
        "the file grows past max_size: {m:?}"
    );
    assert_eq!(m.write_errors, 0, "no batch failed: {m:?}");
    assert!(m.file.errors_by_op.get(Op::Rename) >= 1, "{m:?}");
    {
        let reports = reports.lock().unwrap();
        assert!(!reports.is_empty());
        for (op, kind, message) in reports.iter() {
            assert_eq!(
                (*op, *kind),
                (Op::Rename, io::ErrorKind::ReadOnlyFilesystem)
            );
            assert!(
                message.contains(&dir.path().display().to_string()),
                "{message}"
            );
        }
    }

    drop(ro);
    let mut next = 0u32;
    let rotates = support::eventually(|| {
        log.write_record(format!("t4 {next}\n").as_bytes()).unwrap();
        next += 1;
        log.flush().unwrap();
        log.metrics().file.rotations > rotated
    });
    assert!(
        rotates,
        "rotates by itself once writable: {:?}",
        log.metrics()
    );
    drop(write);
    let metrics = log.close().unwrap();
    let text = log_text(dir.path());
    let (others, t4): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| !l.starts_with("t4 "));
    assert_every_line_once_in_order(&(others.join("\n") + "\n"), 4, threads[0]);
    let t4: Vec<String> = t4.iter().map(|l| l.to_string()).collect();
    let expected: Vec<String> = (0..next).map(|i| format!("t4 {i}")).collect();
    assert_eq!(t4, expected, "the lines written after, once each, in order");
    Some(metrics)
}

#[test]
fn a_running_writer_on_the_blocking_path_keeps_appending_while_its_directory_is_read_only() {
    if let Some(m) = a_running_writer_keeps_appending(blocking()) {
        assert_eq!(m.file.io, lethe_std::IoStatus::Blocking);
    }
}

/// The same in shared mode (several processes coordinate with `flock` on lock files opened
/// before the directory turned read-only): the batch whose rotation failed is written
/// under the shared lock into the file this process holds.
#[test]
fn a_running_shared_mode_writer_keeps_appending_while_its_directory_is_read_only() {
    a_running_writer_keeps_appending(blocking().shared(true));
}

/// The same through io_uring, whose rotation is one linked chain
/// (`FSYNC → RENAMEAT → OPENAT → FSYNC(dir)`) that stops at the rename.
#[cfg(feature = "uring")]
#[test]
fn a_running_writer_on_io_uring_keeps_appending_while_its_directory_is_read_only() {
    if support::uring_unavailable("read-only directory on io_uring") {
        return;
    }
    let uring = Options::default().io_uring(UringOptions::default().mode(Uring::Strict));
    if let Some(m) = a_running_writer_keeps_appending(uring) {
        assert_eq!(m.file.io, lethe_std::IoStatus::Uring);
    }
}

// --- c. Background work in a read-only directory -------------------------------------

/// The backups of `app.log` in `dir` with their suffix after the raw name (`""`, `".gz"`,
/// `".gz.sha256"`), by sequence.
fn backup_files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with("app.0"))
        .collect()
}

/// The directory turns read-only right after a rotation renamed the finished segment (the
/// `on_rotate` hook runs before its compression is queued): the compression cannot create
/// its `.gz.tmp` and retention cannot delete the backup it selects. Both are reported, the
/// job is not retried (EROFS is not a transient error) and does not spin, the raw segment
/// stays whole, and the writer goes on. Once the directory is writable, the next open's
/// recovery compresses the segment, retention deletes the old backup, and
/// `sha256sum -c` passes.
#[test]
fn compression_and_retention_in_a_read_only_directory_are_reported_and_finished_once_writable() {
    let dir = tempfile::tempdir().unwrap();
    // The hook needs the path for `'static`; one small leak in a test.
    let path: &'static Path = Box::leak(dir.path().to_path_buf().into_boxed_path());
    let clock = ManualClock::new(MIDNIGHT);
    let reports = Reports::default();
    let options = || {
        blocking()
            .max_size(None)
            .compress(Some(6))
            .checksum(true)
            .retention(RetentionPolicy::new().max_count(1))
    };
    let mut log =
        RotatingFile::open_with_clock(path.join("app.log"), options(), clock.clone()).unwrap();
    log.set_error_handler(keep(&reports));
    log.write_record(b"first segment\n").unwrap();
    log.rotate().unwrap();
    assert!(support::eventually(|| log.stats().checksums == 1));
    let first = backup_files(path);
    assert_eq!(first.len(), 2, "{first:?}"); // .gz and .gz.sha256

    log.write_record(b"second segment\n").unwrap();
    let guard = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&guard);
    log.set_on_rotate(move |_| {
        let mut slot = slot.lock().unwrap();
        if slot.is_none() {
            *slot = Some(read_only(path));
        }
    });
    log.rotate().unwrap();
    if guard.lock().unwrap().as_ref().is_some_and(Option::is_none) {
        return; // could not mount (reported by `read_only`)
    }
    // The compression's failure, and retention's two files of backup 1 at the sweep after
    // the rotation and at the one after the job.
    assert!(
        support::eventually(|| {
            let s = log.stats();
            s.jobs_failed == 1 && s.errors == 5
        }),
        "{:?}",
        log.stats()
    );
    let raw = backup_files(path)
        .into_iter()
        .find(|n| n.ends_with(".log") && !first.contains(n))
        .unwrap();
    // The writer goes on meanwhile.
    log.write_record(b"third segment\n").unwrap();
    let stats = log.stats();
    assert_eq!(stats.compressions, 1, "{stats:?}");
    assert_eq!(stats.compressions_failed, 1, "{stats:?}");
    assert_eq!(stats.jobs_retried, 0, "EROFS is not retried: {stats:?}");
    assert_eq!(stats.errors_by_op.get(Op::Open), 1, "{stats:?}");
    assert_eq!(stats.errors_by_op.get(Op::Remove), 4, "{stats:?}");
    {
        let reports = reports.lock().unwrap();
        assert_eq!(reports.len() as u64, stats.errors, "{reports:?}");
        let tmp = path.join(format!("{raw}.gz.tmp")).display().to_string();
        assert!(
            reports
                .iter()
                .any(|(op, _, m)| *op == Op::Open && m.contains(&tmp)),
            "the compression names its temporary: {reports:?}"
        );
        for (op, kind, message) in reports.iter() {
            assert!(matches!(op, Op::Open | Op::Remove), "{message}");
            assert_eq!(*kind, io::ErrorKind::ReadOnlyFilesystem, "{message}");
        }
    }
    assert_eq!(
        fs::read_to_string(path.join(&raw)).unwrap(),
        "second segment\n"
    );
    assert_eq!(
        backup_files(path),
        [first.clone(), vec![raw.clone()]].concat()
    );
    // Nothing runs again by itself: the failure was final for this job.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(log.stats(), stats, "no retry loop");

    drop(guard.lock().unwrap().take());
    log.close().unwrap();
    let log = RotatingFile::open_with_clock(path.join("app.log"), options(), clock).unwrap();
    let stats = log.close().unwrap();
    assert_eq!(stats.compressions, 1, "{stats:?}");
    assert_eq!(stats.errors, 0, "{stats:?}");
    assert_eq!(
        backup_files(path),
        [format!("{raw}.gz"), format!("{raw}.gz.sha256")],
        "the raw copy replaced by its .gz, the old backup removed by retention"
    );
    assert_eq!(
        support::gunzip(&path.join(format!("{raw}.gz"))),
        b"second segment\n"
    );
    support::sh_in(path, "sha256sum -c *.sha256 && gzip -t *.gz");
    assert_eq!(
        fs::read_to_string(path.join("app.log")).unwrap(),
        "third segment\n"
    );
}

/// A running log whose compression failed in a read-only directory does not wait for the
/// next start: the next rotation (which shows the directory writable again) queues the
/// failed job again, counted in `Stats::jobs_retried`. `RotatingFile` (alone and in
/// shared mode) and `SyncWriter` (the `on_rotate` hook, which makes the directory
/// read-only, runs before the finished segment's job is queued in each).
#[test]
fn a_compression_that_failed_in_a_read_only_directory_runs_again_after_the_next_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path: &'static Path = Box::leak(dir.path().to_path_buf().into_boxed_path());
    let options = || {
        blocking()
            .max_size(None)
            .compress(Some(6))
            .checksum(true)
            .retention(RetentionPolicy::new())
    };
    // Makes the directory read-only at the first rotation (only): returns the slot that
    // holds the mount's guard, and the hook.
    let at_first_rotation = || {
        let guard = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&guard);
        let hook = move |_: &lethe_std::RotateEvent<'_>| {
            let mut slot = slot.lock().unwrap();
            if slot.is_none() {
                *slot = Some(read_only(path));
            }
        };
        (guard, hook)
    };
    let mounted = |guard: &Arc<Mutex<Option<Option<_>>>>| {
        guard.lock().unwrap().as_ref().is_some_and(Option::is_some)
    };
    for (i, kind) in ["rotating", "sync", "shared"].into_iter().enumerate() {
        let file = path.join(format!("w{i}.log"));
        let (guard, hook) = at_first_rotation();
        let stats = if kind == "sync" {
            let log = SyncWriter::open(&file, options()).unwrap();
            log.set_on_rotate(hook);
            log.write_record(b"one\n").unwrap();
            log.rotate().unwrap();
            if !mounted(&guard) {
                return;
            }
            assert!(support::eventually(|| log.metrics().file.jobs_failed == 1));
            drop(guard.lock().unwrap().as_mut().and_then(Option::take)); // writable again
            log.write_record(b"two\n").unwrap();
            log.rotate().unwrap();
            log.write_record(b"three\n").unwrap();
            let stats = log.metrics().file;
            log.close().unwrap();
            stats
        } else {
            let mut log = RotatingFile::open(&file, options().shared(kind == "shared")).unwrap();
            log.set_on_rotate(hook);
            log.write_record(b"one\n").unwrap();
            log.rotate().unwrap();
            if !mounted(&guard) {
                return;
            }
            assert!(support::eventually(|| log.stats().jobs_failed == 1));
            drop(guard.lock().unwrap().as_mut().and_then(Option::take)); // writable again
            log.write_record(b"two\n").unwrap();
            log.rotate().unwrap();
            log.write_record(b"three\n").unwrap();
            log.close().unwrap()
        };
        let name = format!("w{i}");
        let gz: Vec<String> = names(path)
            .into_iter()
            .filter(|n| n.starts_with(&format!("{name}.0")) && n.ends_with(".gz"))
            .collect();
        assert_eq!(gz.len(), 2, "{kind}: {:?}", names(path));
        assert_eq!(support::gunzip(&path.join(&gz[0])), b"one\n");
        assert_eq!(support::gunzip(&path.join(&gz[1])), b"two\n");
        assert!(
            names(path)
                .iter()
                .all(|n| !n.starts_with(&format!("{name}.0")) || n.contains(".gz")),
            "no raw segment left: {:?}",
            names(path)
        );
        assert_eq!(stats.jobs_retried, 1, "{kind}: {stats:?}");
        assert_eq!(stats.jobs_failed, 1, "{kind}: {stats:?}");
        support::sh_in(path, &format!("sha256sum -c {name}.*.sha256"));
        assert_eq!(fs::read_to_string(&file).unwrap(), "three\n");
    }
}

// --- d. Start-up recovery in a read-only directory -----------------------------------

/// Leftovers that start-up recovery would act on (a raw segment with a good `.gz`, a
/// `.gz.tmp` of an interrupted compression, a raw segment to compress) beside foreign
/// files: in a read-only directory the open fails on the active file, before recovery
/// changes anything (a log that cannot be appended to cannot be opened); once writable,
/// the same open recovers everything and touches no foreign file.
#[test]
fn start_up_in_a_read_only_directory_fails_before_recovery_touches_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.log");
    let mut log = RotatingFile::open(&file, blocking().max_size(None)).unwrap();
    for segment in ["one\n", "two\n", "three\n"] {
        log.write_record(segment.as_bytes()).unwrap();
        log.rotate().unwrap();
    }
    log.write_record(b"active\n").unwrap();
    log.close().unwrap();
    let raw = backup_files(dir.path());
    assert_eq!(raw.len(), 3, "{raw:?}");
    // Backup 1 has a good .gz too (compressed, its raw copy not yet removed).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    io::Write::write_all(&mut gz, b"one\n").unwrap();
    fs::write(
        dir.path().join(format!("{}.gz", raw[0])),
        gz.finish().unwrap(),
    )
    .unwrap();
    // Backup 2's compression was interrupted.
    fs::write(
        dir.path().join(format!("{}.gz.tmp", raw[1])),
        b"\x1f\x8b half",
    )
    .unwrap();
    // Foreign files.
    fs::write(dir.path().join("app.log.bak"), b"someone's backup\n").unwrap();
    fs::write(dir.path().join("x.tmp"), b"someone's temporary\n").unwrap();
    let before = snapshot(dir.path());
    let options = || blocking().compress(Some(6)).checksum(true);

    let Some(ro) = read_only(dir.path()) else {
        return;
    };
    let e = RotatingFile::open(&file, options()).err().unwrap();
    assert_read_only(&e, Op::Open, &file);
    let e = SyncWriter::open(&file, options()).err().unwrap();
    assert_read_only(&e, Op::Open, &file);
    let e = Writer::open(&file, WriterOptions::default().file(options()))
        .err()
        .unwrap();
    assert_read_only(&e, Op::Open, &file);
    drop(ro);
    assert_eq!(snapshot(dir.path()), before, "nothing touched");

    let reports = Reports::default();
    let mut log = RotatingFile::open(&file, options()).unwrap();
    log.set_error_handler(keep(&reports));
    let stats = log.close().unwrap();
    assert_eq!(stats.errors, 0, "{:?}", reports.lock().unwrap());
    assert_eq!(stats.compressions, 2, "backups 2 and 3: {stats:?}");
    let mut expected: Vec<String> = raw
        .iter()
        .flat_map(|r| [format!("{r}.gz"), format!("{r}.gz.sha256")])
        .collect();
    expected.extend(["app.log", "app.log.bak", "x.tmp"].map(String::from));
    expected.sort();
    assert_eq!(names(dir.path()), expected);
    for (r, text) in raw.iter().zip(["one\n", "two\n", "three\n"]) {
        assert_eq!(
            support::gunzip(&dir.path().join(format!("{r}.gz"))),
            text.as_bytes()
        );
    }
    support::sh_in(dir.path(), "sha256sum -c *.sha256 && gzip -t *.gz");
    for foreign in ["app.log.bak", "x.tmp", "app.log"] {
        assert_eq!(fs::read(dir.path().join(foreign)).unwrap(), before[foreign]);
    }
}

// --- e. flush, sync and close while the directory is read-only -------------------------

/// Each writer is closed while its directory is still read-only, after records that are
/// over its size limit: `flush`, `sync` and `close` all succeed (the records reach the
/// open file, which is `fsync`ed), the failed rotation having gone to the error handler;
/// nothing hangs and nothing is lost.
#[test]
fn flush_sync_and_close_while_the_directory_is_read_only_succeed_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let options = || {
        blocking()
            .max_size(Some(64))
            .retention(RetentionPolicy::new())
    };
    let lines = |name: &str| -> String { (0..20).map(|i| format!("{name} {i}\n")).collect() };
    // A clock that stands still: one rotation attempt each, however slow the machine.
    let clock = ManualClock::new(MIDNIGHT);
    let rotating =
        RotatingFile::open_with_clock(dir.path().join("rotating.log"), options(), clock.clone());
    let sync = SyncWriter::open_with_clock(dir.path().join("sync.log"), options(), clock);
    let writer = Writer::open(
        dir.path().join("writer.log"),
        WriterOptions::default().file(options()),
    );
    let (mut rotating, sync, writer) = (rotating.unwrap(), sync.unwrap(), writer.unwrap());
    let Some(ro) = read_only(dir.path()) else {
        return;
    };
    for line in lines("rotating").lines() {
        rotating
            .write_record(format!("{line}\n").as_bytes())
            .unwrap();
    }
    for line in lines("sync").lines() {
        sync.write_record(format!("{line}\n").as_bytes()).unwrap();
    }
    for line in lines("writer").lines() {
        writer.write_record(format!("{line}\n").as_bytes()).unwrap();
    }
    rotating.sync().unwrap();
    sync.sync().unwrap();
    writer.flush().unwrap();
    writer.sync().unwrap();
    let stats = rotating.close().unwrap();
    assert_eq!(stats.rotations, 0);
    assert_eq!(stats.errors_by_op.get(Op::Rename), 1, "{stats:?}");
    let m = sync.metrics();
    sync.close().unwrap();
    assert_eq!(m.file.errors_by_op.get(Op::Rename), 1, "{m:?}");
    let m = writer.close().unwrap();
    assert_eq!(m.file.rotations, 0);
    assert!(m.file.errors_by_op.get(Op::Rename) >= 1, "{m:?}");
    assert_eq!(m.lost_at_close, 0);
    drop(ro);
    for name in ["rotating", "sync", "writer"] {
        assert_eq!(
            fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap(),
            lines(name)
        );
    }
    assert_eq!(
        names(dir.path()),
        ["rotating.log", "sync.log", "writer.log"]
    );
}
