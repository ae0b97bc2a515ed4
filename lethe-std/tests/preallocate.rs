//! Space reserved ahead of the appends (`Options::preallocate`): reserved while the file
//! is active, never visible in its length or its bytes, and given back when the file is
//! rotated, reopened, closed or dropped. Allocation is read from `st_blocks`, and compared
//! with a file the test appends to itself in the same directory, so the file system's own
//! habits (XFS reserves past the end of growing files by itself) cancel out.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Command;

use lethe_std::{Fsync, Op, Options, RotatingFile, Writer, WriterOptions};

mod support;
use support::{names, skip};

/// A 100-byte line, numbered.
fn line(i: usize) -> Vec<u8> {
    let mut l = format!("{i:010} ").into_bytes();
    l.resize(99, b'x');
    l.push(b'\n');
    l
}

/// Bytes allocated to `path` on disk.
fn allocated(path: &Path) -> u64 {
    fs::metadata(path).unwrap().blocks() * 512
}

/// A temporary directory, if its file system takes `fallocate --keep-size` (checked with
/// util-linux's command, independent of the code under test) and is not XFS (where Lethe
/// does not reserve: [`nothing_is_reserved_on_xfs`]); `None`, with a printed SKIP and
/// the reason, if not.
fn reserving_dir() -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().unwrap();
    if on_xfs(dir.path()) {
        skip(format!(
            "{:?} is on XFS, where Lethe does not reserve",
            dir.path()
        ));
        return None;
    }
    reservations_work(dir.path()).then_some(dir)
}

/// Whether `dir` is on XFS, as coreutils' `stat -f` names its file system.
fn on_xfs(dir: &Path) -> bool {
    let out = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(dir)
        .output()
        .expect("coreutils `stat`");
    assert!(out.status.success(), "stat -f {dir:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim() == "xfs"
}

/// Whether the file system under `dir` takes `fallocate --keep-size`; prints SKIP with
/// the reason if not.
fn reservations_work(dir: &Path) -> bool {
    let probe = dir.join("probe");
    fs::write(&probe, b"x").unwrap();
    let out = Command::new("fallocate")
        .args(["--keep-size", "--length", "1MiB"])
        .arg(&probe)
        .output();
    let ok = match out {
        Ok(o) if o.status.success() && allocated(&probe) >= 1 << 20 => true,
        Ok(o) => {
            let why = String::from_utf8_lossy(&o.stderr).trim().to_owned();
            skip(format!(
                "the file system under {dir:?} does not reserve space ({why})"
            ));
            false
        }
        Err(e) => {
            skip(format!("util-linux `fallocate` not found ({e})"));
            false
        }
    };
    fs::remove_file(&probe).unwrap();
    ok
}

/// What the file system allocates by itself for `n` lines appended in batches of 100
/// (the control: written, measured while still open, then removed).
fn control(dir: &Path, n: usize) -> u64 {
    let path = dir.join("control.txt");
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .unwrap();
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend_from_slice(&line(i));
        if i % 100 == 99 {
            f.write_all(&batch).unwrap();
            batch.clear();
        }
    }
    f.write_all(&batch).unwrap();
    let a = allocated(&path);
    drop(f);
    fs::remove_file(&path).unwrap();
    a
}

/// Appends lines `from..to` in batches of `batch` records (1 000 records, 100 KB, is a
/// busy log's batch: runs of 64 KiB or more reserve).
fn append_in(log: &mut RotatingFile, from: usize, to: usize, batch: usize) {
    let lines: Vec<Vec<u8>> = (from..to).map(line).collect();
    for chunk in lines.chunks(batch) {
        let records: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        log.write_batch(&records, 0).unwrap();
    }
}

fn append(log: &mut RotatingFile, from: usize, to: usize) {
    append_in(log, from, to, 1_000);
}

fn expected(from: usize, to: usize) -> Vec<u8> {
    (from..to).flat_map(line).collect()
}

/// Asserts that `path` has nothing allocated past its own length (a 64 KiB margin for
/// block rounding): its reservation was given back, or it never had one.
fn assert_given_back(path: &Path, what: &str) {
    let len = fs::metadata(path).unwrap().len();
    let kept = allocated(path);
    assert!(
        kept <= len + 64 * 1024,
        "{what}: {kept} bytes allocated for {len} bytes"
    );
}

/// Asserts that `path` has no more allocated than the file system allocates by itself
/// for the same appends (`by_itself`, from [`control`]; the same 64 KiB margin).
fn assert_no_more_than_by_itself(path: &Path, by_itself: u64, what: &str) {
    let reserved = allocated(path);
    assert!(
        reserved <= by_itself + 64 * 1024,
        "{what}: {reserved} bytes allocated, the file system alone allocates {by_itself}"
    );
}

const LINES: usize = 30_000; // 3 MB

#[test]
fn space_is_reserved_ahead_and_given_back_at_rotation_and_drop() {
    let Some(dir) = reserving_dir() else {
        return;
    };
    let by_itself = control(dir.path(), LINES);
    let path = dir.path().join("app.log");
    let mut log = RotatingFile::open(&path, Options::default().max_size(Some(64 << 20))).unwrap();
    append(&mut log, 0, LINES);
    let len = fs::metadata(&path).unwrap().len();
    assert_eq!(len, 3_000_000, "the length is the bytes written");
    // Up to 8 MiB past the last run, refilled at half: at least 4 MiB past the end.
    let reserved = allocated(&path);
    assert!(
        reserved >= by_itself + (4 << 20),
        "{reserved} bytes allocated, the file system alone allocates {by_itself}"
    );

    log.rotate().unwrap();
    let backup = dir.path().join(&names(dir.path())[0]);
    assert_eq!(fs::read(&backup).unwrap(), expected(0, LINES));
    assert_given_back(&backup, "the backup");

    append(&mut log, LINES, 2 * LINES);
    drop(log);
    assert_eq!(fs::read(&path).unwrap(), expected(LINES, 2 * LINES));
    assert_given_back(&path, "after drop");
}

#[test]
fn reopening_gives_the_moved_files_reservation_back() {
    let Some(dir) = reserving_dir() else {
        return;
    };
    let path = dir.path().join("app.log");
    let moved = dir.path().join("app.log.old");
    let mut log = RotatingFile::open(&path, Options::default()).unwrap();
    append(&mut log, 0, LINES);
    assert!(allocated(&path) >= 3_000_000 + (4 << 20));
    fs::rename(&path, &moved).unwrap(); // as logrotate's `create` mode does
    log.reopen().unwrap();
    append(&mut log, LINES, LINES + 10);
    assert_eq!(fs::read(&moved).unwrap(), expected(0, LINES));
    assert_given_back(&moved, "the moved file");
    drop(log);
    assert_eq!(fs::read(&path).unwrap(), expected(LINES, LINES + 10));
}

#[test]
fn a_quiet_log_reserves_nothing_and_a_busy_one_never_past_max_size() {
    let Some(dir) = reserving_dir() else {
        return;
    };
    let by_itself = control(dir.path(), LINES);
    let path = dir.path().join("quiet.log");
    let mut log = RotatingFile::open(&path, Options::default()).unwrap();
    append_in(&mut log, 0, LINES, 100); // runs of 10 KB
    assert_no_more_than_by_itself(&path, by_itself, "10 KB runs");

    let path = dir.path().join("busy.log");
    let mut log = RotatingFile::open(&path, Options::default().max_size(Some(1 << 20))).unwrap();
    append(&mut log, 0, 9_000); // 900 KB of a 1 MiB limit, in runs of 100 KB
    let reserved = allocated(&path);
    assert!(
        (1 << 20..=(1 << 20) + 4096).contains(&reserved),
        "{reserved} bytes allocated under a 1 MiB size limit"
    );
    log.close().unwrap();
    assert_given_back(&path, "after close");
    assert_eq!(fs::read(&path).unwrap(), expected(0, 9_000));
}

#[test]
fn nothing_is_reserved_when_turned_off_in_shared_mode_or_with_a_periodic_fsync() {
    let Some(dir) = reserving_dir() else {
        return;
    };
    let by_itself = control(dir.path(), LINES);
    for (name, options) in [
        ("off.log", Options::default().preallocate(None)),
        ("shared.log", Options::default().shared(true)),
        (
            "fsync.log",
            Options::default().fsync(Fsync::EveryBytes(1 << 20)),
        ),
    ] {
        let path = dir.path().join(name);
        let mut log = RotatingFile::open(&path, options).unwrap();
        append(&mut log, 0, LINES);
        assert_no_more_than_by_itself(&path, by_itself, name);
        assert_eq!(fs::read(&path).unwrap(), expected(0, LINES));
    }
}

/// XFS reserves past the end of a growing file by itself, and truncating a file to its
/// own length there (the give-back) waits for its unwritten bytes to reach the disk; so
/// Lethe reserves nothing there: the active file holds no more than a file the test
/// appends to itself. `.ci/run` runs this file with its temporary directories on XFS.
#[test]
fn nothing_is_reserved_on_xfs() {
    let dir = tempfile::tempdir().unwrap();
    if !on_xfs(dir.path()) {
        skip(format!(
            "{:?} is not on XFS (.ci/run runs this test on XFS)",
            dir.path()
        ));
        return;
    }
    let by_itself = control(dir.path(), LINES);
    let path = dir.path().join("app.log");
    let mut log = RotatingFile::open(&path, Options::default().max_size(Some(64 << 20))).unwrap();
    append(&mut log, 0, LINES);
    assert_no_more_than_by_itself(&path, by_itself, "on XFS");
    log.rotate().unwrap();
    let backup = dir.path().join(&names(dir.path())[0]);
    assert_eq!(fs::read(&backup).unwrap(), expected(0, LINES));
    append(&mut log, LINES, 2 * LINES);
    assert_no_more_than_by_itself(&path, by_itself, "on XFS, after a rotation");
    drop(log);
    assert_eq!(fs::read(&path).unwrap(), expected(LINES, 2 * LINES));
}

#[test]
fn the_async_writer_gives_the_reservation_back_when_it_closes() {
    let Some(dir) = reserving_dir() else {
        return;
    };
    let path = dir.path().join("app.log");
    let w = Writer::open(&path, WriterOptions::default()).unwrap();
    for i in 0..LINES {
        w.write_record(&line(i)).unwrap();
    }
    w.flush().unwrap();
    // The consumer's runs in a flood are hundreds of KB: they reserve.
    assert!(allocated(&path) >= 3_000_000 + (1 << 20));
    drop(w);
    assert_eq!(fs::read(&path).unwrap(), expected(0, LINES));
    assert_given_back(&path, "after close");
}

#[test]
fn an_invalid_reservation_size_is_refused_with_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    for bytes in [0, 4096, (1 << 30) + 1] {
        let e = RotatingFile::open(
            dir.path().join("app.log"),
            Options::default().preallocate(Some(bytes)),
        )
        .err()
        .expect("refused");
        assert_eq!(e.op(), Op::CheckPath);
        let msg = e.to_string();
        assert!(
            msg.contains("preallocate")
                && msg.contains(&bytes.to_string())
                && msg.contains("64 KiB"),
            "{msg}"
        );
    }
}
