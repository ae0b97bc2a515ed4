//! The rotating file against the real file system: bytes in files, names, retention,
//! and failures (full disk, removed directory) that are reported, never panics.

use std::fs;
use std::path::Path;

use lethe_core::civil::UtcOffset;
use lethe_core::retention::RetentionPolicy;
use lethe_core::rotation::Schedule;
use lethe_std::clock::ManualClock;
use lethe_std::{Op, Options, RotatingFile, Uring, UringOptions};

mod support;
use support::{names, small_tmpfs};

/// 2026-11-23T00:00:00Z.
const MIDNIGHT: i64 = 1_795_392_000;

#[test]
fn daily_rotation_at_midnight_names_the_backup_after_its_rotation_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT - 10);
    let options = Options::default()
        .max_size(None)
        .schedule(Some(Schedule::daily(0).unwrap()));
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    log.write_record(b"late on the 22nd\n").unwrap();
    clock.advance(10);
    log.write_record(b"first on the 23rd\n").unwrap();
    assert_eq!(
        names(dir.path()),
        ["app.0000000001.20261123T000000Z.log", "app.log"]
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("app.0000000001.20261123T000000Z.log")).unwrap(),
        "late on the 22nd\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("app.log")).unwrap(),
        "first on the 23rd\n"
    );
}

#[test]
fn local_time_names_carry_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default().utc_offset(UtcOffset::from_seconds(-5 * 3600).unwrap());
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock).unwrap();
    log.write_record(b"x\n").unwrap();
    log.rotate().unwrap();
    assert_eq!(
        names(dir.path()),
        ["app.0000000001.20261122T190000-0500.log", "app.log"]
    );
}

#[test]
fn rotations_in_the_same_second_never_overwrite_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), Options::default(), clock)
            .unwrap();
    for i in 0..3 {
        log.write_record(format!("segment {i}\n").as_bytes())
            .unwrap();
        log.rotate().unwrap();
    }
    let all = names(dir.path());
    assert_eq!(all.len(), 4, "{all:?}");
    for (i, name) in all[..3].iter().enumerate() {
        assert_eq!(
            fs::read_to_string(dir.path().join(name)).unwrap(),
            format!("segment {i}\n"),
            "{name}"
        );
    }
}

#[test]
fn a_restart_continues_the_sequence_and_the_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default().max_size(Some(10));
    {
        let mut log = RotatingFile::open_with_clock(&path, options.clone(), clock.clone()).unwrap();
        log.write_record(b"12345678\n").unwrap();
        log.rotate().unwrap();
        log.write_record(b"abcdefgh\n").unwrap();
    }
    let mut log = RotatingFile::open_with_clock(&path, options, clock).unwrap();
    assert_eq!(log.size(), 9, "resumed from the existing file");
    log.write_record(b"next\n").unwrap(); // 9 + 5 > 10: rotates first
    assert_eq!(
        names(dir.path()),
        [
            "app.0000000001.20261123T000000Z.log",
            "app.0000000002.20261123T000000Z.log",
            "app.log"
        ]
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("app.0000000002.20261123T000000Z.log")).unwrap(),
        "abcdefgh\n"
    );
}

#[test]
fn retention_keeps_the_newest_and_never_touches_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    for foreign in [
        "app.log.bak",
        "app.0000000001.20261123T000000Z.log.bak",
        "notes.txt",
    ] {
        fs::write(dir.path().join(foreign), b"foreign").unwrap();
    }
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default().retention(RetentionPolicy::new().max_count(2));
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    for i in 0..5 {
        log.write_record(format!("{i}\n").as_bytes()).unwrap();
        clock.advance(1);
        log.rotate().unwrap();
    }
    assert_eq!(log.stats().backups_removed, 3);
    assert_eq!(
        names(dir.path()),
        [
            "app.0000000001.20261123T000000Z.log.bak",
            "app.0000000004.20261123T000004Z.log",
            "app.0000000005.20261123T000005Z.log",
            "app.log",
            "app.log.bak",
            "notes.txt"
        ]
    );
}

#[test]
fn invalid_paths_and_options_are_rejected_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let err = RotatingFile::open("", Options::default()).err().unwrap();
    assert_eq!(err.op(), Op::CheckPath);
    assert!(err.to_string().contains("empty"), "{err}");
    let err = RotatingFile::open(dir.path(), Options::default())
        .err()
        .unwrap();
    assert_eq!(err.op(), Op::CheckPath);
    let err = RotatingFile::open(
        dir.path().join("a.log"),
        Options::default().max_size(Some(0)),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("at least 1 byte"), "{err}");
    let long = "x".repeat(201);
    let err = RotatingFile::open(dir.path().join(long), Options::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("201 bytes"), "{err}");
}

#[test]
fn a_removed_directory_is_reported_at_rotation_and_the_writer_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let mut log = RotatingFile::open(logs.join("app.log"), Options::default()).unwrap();
    log.write_record(b"before\n").unwrap();
    fs::remove_dir_all(&logs).unwrap();
    let err = log.rotate().unwrap_err();
    assert!(matches!(err.op(), Op::Rename | Op::Sync), "{err}");
    assert!(err.to_string().contains("logs"), "{err}");
    // Once the directory is back, rotation works again.
    fs::create_dir_all(&logs).unwrap();
    fs::write(logs.join("app.log"), b"").unwrap();
    log.rotate().unwrap();
    log.write_record(b"after\n").unwrap();
    assert_eq!(fs::read_to_string(logs.join("app.log")).unwrap(), "after\n");
}

/// Another program deletes the log's directory, then replaces the active file: within a
/// second (by the file's clock) each is reported, and writing continues at the path.
#[test]
fn a_deleted_or_replaced_file_is_reported_and_followed_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let clock = ManualClock::new(MIDNIGHT);
    let mut log =
        RotatingFile::open_with_clock(logs.join("app.log"), Options::default(), clock.clone())
            .unwrap();
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&errors);
    log.set_error_handler(move |e| seen.lock().unwrap().push(e.to_string()));
    log.write_record(b"before\n").unwrap();

    fs::remove_dir_all(&logs).unwrap();
    clock.advance(1);
    log.write_record(b"after removal\n").unwrap();
    assert_eq!(
        fs::read_to_string(logs.join("app.log")).unwrap(),
        "after removal\n"
    );
    {
        let errors = errors.lock().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("deleted by another program"),
            "{errors:?}"
        );
    }

    fs::rename(logs.join("app.log"), logs.join("moved.log")).unwrap();
    fs::write(logs.join("app.log"), b"theirs\n").unwrap();
    // Within the second, the writer still appends to the file it holds.
    log.write_record(b"same second\n").unwrap();
    clock.advance(1);
    log.write_record(b"next second\n").unwrap();
    assert_eq!(
        fs::read_to_string(logs.join("moved.log")).unwrap(),
        "after removal\nsame second\n"
    );
    assert_eq!(
        fs::read_to_string(logs.join("app.log")).unwrap(),
        "theirs\nnext second\n"
    );
    let errors = errors.lock().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[1].contains("replaced by another program"),
        "{errors:?}"
    );
    assert_eq!(log.stats().errors_by_op.get(Op::Stat), 2);
}

#[test]
fn a_full_disk_is_reported_and_writing_resumes_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_unmount) = small_tmpfs(dir.path()) else {
        return;
    };
    fs::write(dir.path().join("ballast"), vec![0u8; 60 * 1024]).unwrap_or(());
    let mut log = RotatingFile::open(
        dir.path().join("app.log"),
        Options::default().max_size(None),
    )
    .unwrap();
    let mut record = [b'x'; 1000];
    record[999] = b'\n';
    let mut written = 0u64;
    let err = loop {
        match log.write_record(&record) {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 1000, "a 64 KiB file system never filled up");
    };
    assert_eq!(err.op(), Op::Write);
    assert_eq!(err.io_error().raw_os_error(), Some(28), "ENOSPC: {err}");
    // Still alive; space comes back; the next write succeeds.
    fs::remove_file(dir.path().join("ballast")).unwrap();
    log.write_record(b"after the disk was full\n").unwrap();
    log.sync().unwrap();
    let contents = fs::read(dir.path().join("app.log")).unwrap();
    // The record the full disk cut short was taken back: only whole records are there.
    let mut expected = record.repeat(written as usize);
    expected.extend_from_slice(b"after the disk was full\n");
    assert_eq!(contents.len(), expected.len(), "a torn record was left");
    assert!(contents == expected, "a torn record was left");
    assert_eq!(log.stats().bytes, expected.len() as u64);
    assert_eq!(log.size(), expected.len() as u64);
}

#[test]
fn write_batch_rotates_between_records_and_never_splits_one() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default()
        .max_size(Some(10))
        .retention(RetentionPolicy::new());
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock).unwrap();
    let records: Vec<Vec<u8>> = (0..200)
        .map(|i| format!("r{i:03}\n").into_bytes())
        .collect();
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
    log.write_batch(&slices, 0).unwrap();
    assert_eq!(log.stats().records, 200);
    assert_eq!(log.stats().bytes, 1000);
    let all = names(dir.path());
    assert_eq!(all.len(), 100, "two 5-byte records per 10-byte file");
    let mut joined = Vec::new();
    for n in &all[..99] {
        let b = fs::read(dir.path().join(n)).unwrap();
        assert_eq!(b.len(), 10, "{n}");
        joined.extend(b);
    }
    joined.extend(fs::read(dir.path().join("app.log")).unwrap());
    assert_eq!(joined, records.concat());
}

/// 2026-11-01T03:00:00Z is 2026-10-31T23:00 in New York (EDT, -0400); DST ends at
/// 2026-11-01T06:00Z (02:00 EDT becomes 01:00 EST, -0500).
#[test]
fn daily_local_rotation_follows_a_dst_change_with_offset_named_backups() {
    let tz = match jiff::tz::TimeZone::get("America/New_York") {
        Ok(tz) => tz,
        Err(e) => {
            support::missing(format_args!(
                "no time zone database for America/New_York (apt-get install tzdata): {e}"
            ));
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_793_502_000; // 2026-11-01T03:00:00Z
    let clock = ManualClock::new(t0);
    let options = Options::default()
        .max_size(None)
        .schedule(Some(Schedule::daily(0).unwrap()))
        .time_zone(tz);
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    log.write_record(b"oct 31, 23:00 EDT\n").unwrap();
    clock.set(t0 + 5_400); // 04:30Z = Nov 1 00:30 EDT: local midnight passed
    log.write_record(b"nov 1, 00:30 EDT\n").unwrap();
    clock.set(t0 + 4 * 3_600); // 07:00Z = 02:00 EST, after the change: same local day
    log.write_record(b"nov 1, 02:00 EST\n").unwrap();
    clock.set(t0 + 26 * 3_600 + 600); // Nov 2 05:10Z = 00:10 EST: the next local midnight
    log.write_record(b"nov 2, 00:10 EST\n").unwrap();
    assert_eq!(
        names(dir.path()),
        [
            "app.0000000001.20261101T003000-0400.log",
            "app.0000000002.20261102T001000-0500.log",
            "app.log"
        ],
        "one rotation per local day, names carry the offset of their time"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("app.0000000002.20261102T001000-0500.log")).unwrap(),
        "nov 1, 00:30 EDT\nnov 1, 02:00 EST\n"
    );
}

/// The core's documented behaviour: a step back beyond the slack (60 s) re-anchors the
/// period on the new time without rotating; coming back to the current day is then one
/// ordinary day change (one rotation, never a burst), and later boundaries still rotate.
#[test]
fn a_backward_clock_step_does_not_rotate_or_stall_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT + 3_600);
    let options = Options::default()
        .max_size(None)
        .schedule(Some(Schedule::daily(0).unwrap()));
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    log.write_record(b"01:00\n").unwrap();
    clock.set(MIDNIGHT - 7_200); // stepped back across midnight
    log.write_record(b"22:00 the day before (clock stepped back)\n")
        .unwrap();
    assert_eq!(log.stats().rotations, 0, "a backward step does not rotate");
    clock.set(MIDNIGHT - 7_100); // time goes on in the re-anchored period
    log.write_record(b"22:01\n").unwrap();
    assert_eq!(log.stats().rotations, 0);
    clock.set(MIDNIGHT + 7_200); // the clock is fixed: one day change
    log.write_record(b"02:00\n").unwrap();
    assert_eq!(log.stats().rotations, 1);
    clock.set(MIDNIGHT + 86_400 + 60); // the next midnight rotates as usual
    log.write_record(b"next day\n").unwrap();
    assert_eq!(log.stats().rotations, 2);
    let all = names(dir.path());
    let joined: String = all
        .iter()
        .map(|n| fs::read_to_string(dir.path().join(n)).unwrap())
        .collect();
    assert_eq!(
        joined, "01:00\n22:00 the day before (clock stepped back)\n22:01\n02:00\nnext day\n",
        "nothing lost or reordered"
    );
}

#[test]
fn bad_paths_get_errors_that_name_the_rule() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("plain-file"), b"").unwrap();
    let long = d
        .join("x".repeat(200))
        .join("y".repeat(200))
        .join("z".repeat(4000));
    let cases: Vec<(std::path::PathBuf, Op, &str)> = vec![
        ("".into(), Op::CheckPath, "empty"),
        (
            Path::new(OsStr::from_bytes(b"a\0b.log")).to_path_buf(),
            Op::CheckPath,
            "NUL",
        ),
        (long, Op::CheckPath, "the limit is 4095 bytes"),
        (d.to_path_buf(), Op::CheckPath, "directory"),
        (d.join(".."), Op::CheckPath, "file name"),
        // A trailing slash names a directory: refused before any directory is created.
        (
            Path::new(OsStr::from_bytes(
                [d.join("new").join("app.log").as_os_str().as_bytes(), b"/"]
                    .concat()
                    .as_slice(),
            ))
            .to_path_buf(),
            Op::CheckPath,
            "ends in '/'",
        ),
        (
            d.join("plain-file").join("app.log"),
            Op::CreateDir,
            "not a directory",
        ),
        (
            d.join(format!("{}.log", "n".repeat(250))),
            Op::CheckPath,
            "bytes long",
        ),
    ];
    for (path, op, needle) in cases {
        let err = RotatingFile::open(&path, Options::default()).err().unwrap();
        assert_eq!(err.op(), op, "{}: {err}", path.display());
        assert!(
            err.to_string().contains(needle),
            "{}: {err}",
            path.display()
        );
    }
    assert!(
        !d.join("new").exists(),
        "no directory is created for a refused path"
    );
}

/// A device, FIFO or socket at the log's path is refused by every writer before anything
/// is written: rotation would rename it away (as root, `/dev/null` itself) and put a
/// regular file in its place.
#[test]
fn special_files_are_refused_and_left_alone() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::os::unix::fs::symlink("/dev/null", d.join("null.log")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(d.join("fifo.log"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let _socket = std::os::unix::net::UnixListener::bind(d.join("socket.log")).unwrap();
    for (name, kind) in [
        ("null.log", "a character device"),
        ("fifo.log", "a FIFO"),
        ("socket.log", "a socket"),
    ] {
        let path = d.join(name);
        let small = || Options::default().max_size(Some(10));
        let errors = [
            RotatingFile::open(&path, small()).err().unwrap(),
            lethe_std::SyncWriter::open(&path, small()).err().unwrap(),
            lethe_std::Writer::open(&path, lethe_std::WriterOptions::default().file(small()))
                .err()
                .unwrap(),
        ];
        for err in errors {
            assert_eq!(err.op(), Op::CheckPath, "{name}: {err}");
            let text = err.to_string();
            assert!(
                text.contains(kind) && text.contains("not a regular file"),
                "{text}"
            );
            assert!(text.contains(name), "{text}");
        }
    }
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert_eq!(support::names(d), ["fifo.log", "null.log", "socket.log"]);
}

#[test]
fn confine_to_rejects_paths_that_resolve_outside() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    let outside = dir.path().join("elsewhere");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
    let options = || Options::default().confine_to(&root);
    for bad in [
        root.join("../elsewhere/app.log"),
        root.join("escape/app.log"),
        outside.join("app.log"),
        root.join("new/../../elsewhere/app.log"),
    ] {
        let err = RotatingFile::open(&bad, options()).err().unwrap();
        assert_eq!(err.op(), Op::CheckPath, "{}: {err}", bad.display());
        assert!(
            err.to_string().contains("outside") || err.to_string().contains(".."),
            "{}: {err}",
            bad.display()
        );
    }
    assert!(
        !root.join("new").exists(),
        "nothing was created for a rejected path"
    );
    RotatingFile::open(root.join("sub/app.log"), options()).unwrap();
    RotatingFile::open(root.join("app.log"), options()).unwrap();
}

#[test]
fn a_periodic_sweep_expires_old_backups_without_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default()
        .retention(RetentionPolicy::new().max_age(std::time::Duration::from_secs(3_600)))
        .sweep_every(Some(std::time::Duration::from_secs(60)));
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock.clone()).unwrap();
    for _ in 0..3 {
        log.write_record(b"x\n").unwrap();
        log.rotate().unwrap();
    }
    assert_eq!(names(dir.path()).len(), 4);
    clock.advance(30);
    log.tick();
    assert_eq!(names(dir.path()).len(), 4, "not due yet, and not old yet");
    clock.advance(2 * 3_600);
    log.tick();
    assert_eq!(names(dir.path()), ["app.log"], "expired by the sweep alone");
    assert_eq!(log.stats().backups_removed, 3);
}

#[test]
fn free_space_on_full_deletes_the_oldest_backups_and_keeps_writing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_unmount) = small_tmpfs(dir.path()) else {
        return;
    };
    fs::write(dir.path().join("foreign.dat"), vec![1u8; 8 * 1024]).unwrap();
    let options = Options::default()
        .max_size(Some(8 * 1024))
        .retention(RetentionPolicy::new())
        .free_space_on_full(true);
    let mut log = RotatingFile::open(dir.path().join("app.log"), options).unwrap();
    let mut last = String::new();
    for i in 0..5_000 {
        last = format!("line {i:06} {}\n", "x".repeat(80));
        log.write_record(last.as_bytes()).unwrap();
    }
    let stats = log.stats();
    assert!(stats.freed_for_space > 10, "{stats:?}");
    let active = fs::read_to_string(dir.path().join("app.log")).unwrap();
    assert!(active.ends_with(&last));
    assert_eq!(
        fs::read(dir.path().join("foreign.dat")).unwrap().len(),
        8 * 1024,
        "foreign file kept"
    );
    // What is left is the newest contiguous run of lines.
    let all = names(dir.path());
    let joined: String = all
        .iter()
        .filter(|n| n.starts_with("app."))
        .map(|n| fs::read_to_string(dir.path().join(n)).unwrap())
        .collect();
    let first: usize = joined[5..11].parse().unwrap();
    let expected: String = (first..5_000)
        .map(|i| format!("line {i:06} {}\n", "x".repeat(80)))
        .collect();
    assert_eq!(joined, expected);
}

#[test]
fn the_blocking_path_fsyncs_where_an_every_bytes_policy_falls_due_inside_a_batch() {
    // Each fsync point ends a run on the blocking path. Before runs ended there, the
    // 50-record batch was one run and one fsync.
    support::check_every_bytes_fsync_points(
        Options::default().io_uring(UringOptions::default().mode(Uring::Off)),
        "blocking",
    );
}

/// This thread's `write`-family syscalls so far (`/proc/thread-self/io`, `syscw`), or
/// `None` where the kernel does not report them.
fn thread_write_calls() -> Option<u64> {
    let io = fs::read_to_string("/proc/thread-self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("syscw:"))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_runs_last_fsync_runs_after_the_whole_run_and_is_counted_at_its_point() {
    // EveryBytes(1000) falls due at the 4th 300-byte record (1 200 bytes). The run is
    // written in one `write`, then fsynced (not write 1 200, fsync, write 300), and the
    // policy counts from the point: the 300 bytes after it are still "unsynced", so the
    // next fsync falls due 1 000 bytes after the point, as if it had run there.
    let Some(_) = thread_write_calls() else {
        support::skip("/proc/thread-self/io is not readable here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut file = RotatingFile::open(
        dir.path().join("app.log"),
        Options::default()
            .max_size(None)
            .fsync(lethe_std::Fsync::EveryBytes(1000))
            .io_uring(UringOptions::default().mode(Uring::Off)),
    )
    .unwrap();
    let records: Vec<String> = (0..5).map(|i| format!("{i:0>299}\n")).collect();
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    let before = thread_write_calls().unwrap();
    file.write_batch(&slices, 0).unwrap();
    assert_eq!(
        thread_write_calls().unwrap() - before,
        1,
        "one write for the run"
    );
    assert_eq!(file.stats().syncs, 1);
    // 300 unsynced after the point + 600 = 900: no fsync due yet.
    file.write_batch(&slices[..2], 0).unwrap();
    assert_eq!(file.stats().syncs, 1);
    // + 300 = 1 200 >= 1 000 at the first record: due.
    file.write_batch(&slices[..1], 0).unwrap();
    assert_eq!(file.stats().syncs, 2);
    let mut expected = records.concat();
    expected.push_str(&records[..2].concat());
    expected.push_str(&records[0]);
    assert_eq!(
        fs::read_to_string(dir.path().join("app.log")).unwrap(),
        expected
    );
}

#[test]
fn an_interval_fsync_that_covered_the_whole_run_leaves_nothing_for_the_tick() {
    // Fsync::Every(1 s): the first record written after the interval is a point, and its
    // fsync runs after the whole run, so nothing is left unsynced; an idle tick after
    // another interval has nothing to fsync. After a new record, it has.
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let mut file = RotatingFile::open_with_clock(
        dir.path().join("app.log"),
        Options::default()
            .max_size(None)
            .fsync(lethe_std::Fsync::Every(std::time::Duration::from_secs(1)))
            .io_uring(UringOptions::default().mode(Uring::Off)),
        clock.clone(),
    )
    .unwrap();
    let records: Vec<String> = (0..3).map(|i| format!("record {i}\n")).collect();
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    file.write_batch(&slices, 0).unwrap();
    let at_start = file.stats().syncs;
    clock.advance(2);
    file.write_batch(&slices, 0).unwrap();
    assert_eq!(file.stats().syncs, at_start + 1, "the run's point");
    clock.advance(2);
    file.tick();
    assert_eq!(file.stats().syncs, at_start + 1, "nothing left to fsync");
    file.write_batch(&slices[..1], 0).unwrap();
    clock.advance(2);
    file.tick();
    assert_eq!(file.stats().syncs, at_start + 2, "the new record");
    let mut expected = records.concat().repeat(2);
    expected.push_str(&records[0]);
    assert_eq!(
        fs::read_to_string(dir.path().join("app.log")).unwrap(),
        expected
    );
}
