//! Read-only directories, for real: the log directory is bind-mounted read-only over itself
//! ([`support::read_only`]), so every path operation in it (create, rename, unlink, mkdir,
//! an open for writing) fails with EROFS even for root, while a file opened before keeps
//! its descriptor on the writable mount underneath: what a program sees when its log
//! directory is remounted read-only under it. Where this process may not mount, each test
//! calls `support::missing` (a SKIP locally, a failure under `LETHE_CI=1`).
//!
//! I/O backend: every test opens its files with [`blocking`] (`Uring::Off`), so it runs the
//! blocking syscall path whatever the features (`--all-features` would otherwise make
//! io_uring the default, see `lethe-std/src/io_backend.rs`); the opening test also opens
//! a `Writer` with the default options, which is io_uring under `--all-features`.
//!
//! What is checked:
//! - opening a log there fails with an error naming the path and EROFS, and creates
//!   nothing;
//! - background compression and retention fail, are reported once each and keep the raw
//!   segment; recovery at the next open finishes the compression;
//! - start-up in a read-only directory fails before recovery touches any file.

use std::collections::BTreeMap;
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
