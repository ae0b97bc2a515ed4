//! Shared mode's protocol, driven step by step: two `RotatingFile`s on one path have two
//! open file descriptions, which `flock` keeps apart exactly as it keeps processes apart,
//! so every interleaving here is deterministic. (The tests with real processes are in
//! lethe-cli/tests/shared.rs.)

use std::fs;
use std::io;
use std::path::Path;

use lethe_core::retention::RetentionPolicy;
use lethe_core::rotation::Schedule;
use lethe_std::clock::ManualClock;
use lethe_std::{Config, Mode, Op, Options, RotatingFile, SyncWriter, Writer, WriterOptions};

mod support;
use support::names;

/// 2026-11-23T00:00:00Z.
const MIDNIGHT: i64 = 1_795_392_000;

/// The active file's contents.
fn active(dir: &Path) -> String {
    fs::read_to_string(dir.join("app.log")).unwrap()
}

fn backups(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with("app.0"))
        .collect()
}

fn open(dir: &Path, options: Options, clock: &ManualClock) -> RotatingFile<ManualClock> {
    RotatingFile::open_with_clock(dir.join("app.log"), options.shared(true), clock.clone()).unwrap()
}

#[test]
fn one_threshold_crossing_rotates_once_whoever_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default().max_size(Some(100));
    let mut a = open(dir.path(), options.clone(), &clock);
    let mut b = open(dir.path(), options, &clock);
    // The size is the file's, not each writer's: 60 + 30 bytes from two writers.
    a.write_record(&[b'a'; 59].iter().chain(b"\n").copied().collect::<Vec<_>>())
        .unwrap();
    b.write_record(&[b'b'; 29].iter().chain(b"\n").copied().collect::<Vec<_>>())
        .unwrap();
    assert!(backups(dir.path()).is_empty());
    // Both now see a file that the next 20 bytes would push past the limit. The first
    // rotates; the second finds the new file (another inode) and just reopens.
    b.write_record(b"b: crosses the limit\n").unwrap();
    a.write_record(b"a: after the rotation\n").unwrap();
    assert_eq!(backups(dir.path()).len(), 1, "{:?}", names(dir.path()));
    assert_eq!(b.stats().rotations + a.stats().rotations, 1);
    let backup = &backups(dir.path())[0];
    assert_eq!(
        fs::read_to_string(dir.path().join(backup)).unwrap(),
        format!("{}\n{}\n", "a".repeat(59), "b".repeat(29))
    );
    assert_eq!(
        active(dir.path()),
        "b: crosses the limit\na: after the rotation\n"
    );
    // The lock file was never renamed and is not a backup.
    assert!(dir.path().join("app.log.lock").exists());
}

#[test]
fn a_time_boundary_is_crossed_by_exactly_one_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let clock_a = ManualClock::new(MIDNIGHT - 100);
    let clock_b = ManualClock::new(MIDNIGHT - 100);
    let options = Options::default()
        .max_size(None)
        .schedule(Some(Schedule::daily(0).unwrap()));
    let mut a = open(dir.path(), options.clone(), &clock_a);
    a.write_record(b"a: the 22nd\n").unwrap();
    let mut b = open(dir.path(), options, &clock_b);
    b.write_record(b"b: the 22nd\n").unwrap();
    clock_a.set(MIDNIGHT + 5);
    clock_b.set(MIDNIGHT + 7);
    a.write_record(b"a: the 23rd\n").unwrap();
    b.write_record(b"b: the 23rd\n").unwrap();
    a.write_record(b"a: still the 23rd\n").unwrap();
    let backups = backups(dir.path());
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        fs::read_to_string(dir.path().join(&backups[0])).unwrap(),
        "a: the 22nd\nb: the 22nd\n"
    );
    assert_eq!(
        active(dir.path()),
        "a: the 23rd\nb: the 23rd\na: still the 23rd\n"
    );
    // A process that joins later learns the period from the lock file, not from its own
    // start: no second rotation for the same boundary.
    let clock_c = ManualClock::new(MIDNIGHT + 60);
    let mut c = open(
        dir.path(),
        Options::default()
            .max_size(None)
            .schedule(Some(Schedule::daily(0).unwrap())),
        &clock_c,
    );
    c.write_record(b"c: the 23rd\n").unwrap();
    assert_eq!(
        names(dir.path())
            .iter()
            .filter(|n| n.starts_with("app.0"))
            .count(),
        1
    );
    // The next boundary: again once.
    for (log, clock) in [(&mut a, &clock_a), (&mut b, &clock_b)] {
        clock.set(MIDNIGHT + 86_400 + 1);
        log.write_record(b"the 24th\n").unwrap();
    }
    clock_c.set(MIDNIGHT + 86_400 + 2);
    c.write_record(b"c: the 24th\n").unwrap();
    assert_eq!(
        names(dir.path())
            .iter()
            .filter(|n| n.starts_with("app.0"))
            .count(),
        2
    );
    let total = a.stats().rotations + b.stats().rotations + c.stats().rotations;
    assert_eq!(total, 2);
}

#[test]
fn a_file_another_process_started_before_the_boundary_is_still_rotated_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock_a = ManualClock::new(MIDNIGHT - 10);
    let clock_b = ManualClock::new(MIDNIGHT - 10);
    let options = Options::default()
        .max_size(Some(100))
        .schedule(Some(Schedule::daily(0).unwrap()));
    let mut a = open(dir.path(), options.clone(), &clock_a);
    let mut b = open(dir.path(), options, &clock_b);
    a.write_record(format!("{}\n", "a".repeat(89)).as_bytes())
        .unwrap();
    b.write_record(b"b: size rotation, 22nd\n").unwrap(); // B rotates by size
    clock_a.set(MIDNIGHT + 1);
    clock_b.set(MIDNIGHT + 2);
    // A's view is the first file; under the exclusive lock it finds B's file, which was
    // started on the 22nd: still due for the midnight rotation.
    a.write_record(b"a: the 23rd\n").unwrap();
    // B's view is its own file of the 22nd; it finds A's file of the 23rd: not due.
    b.write_record(b"b: the 23rd\n").unwrap();
    let mut files = backups(dir.path());
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(
        fs::read_to_string(dir.path().join(&files[1])).unwrap(),
        "b: size rotation, 22nd\n"
    );
    assert_eq!(active(dir.path()), "a: the 23rd\nb: the 23rd\n");
    assert_eq!(a.stats().rotations + b.stats().rotations, 2);
}

#[test]
fn backup_sequences_keep_counting_across_processes_when_retention_empties_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default()
        .max_size(Some(10))
        .retention(RetentionPolicy::new().max_count(1));
    let mut a = open(dir.path(), options.clone(), &clock);
    let mut b = open(dir.path(), options, &clock);
    a.write_record(b"a: first\n").unwrap();
    a.write_record(b"a: second\n").unwrap(); // backup 1
    a.write_record(b"a: third\n").unwrap(); // backup 2; retention deletes backup 1
    fs::remove_file(dir.path().join(&backups(dir.path())[0])).unwrap(); // and 2, by hand
    // B has never rotated and the directory holds no backup: the sequence still goes on
    // from the lock file's record, so no backup name is ever used twice.
    b.write_record(b"b: first\n").unwrap(); // backup 3
    let left = backups(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("app.0000000003."), "{left:?}");
}

#[test]
fn a_writer_follows_the_path_after_another_program_moves_or_deletes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let mut a = open(dir.path(), Options::default(), &clock);
    a.write_record(b"one\n").unwrap();
    fs::rename(dir.path().join("app.log"), dir.path().join("moved.log")).unwrap();
    a.write_record(b"two\n").unwrap();
    fs::remove_file(dir.path().join("app.log")).unwrap();
    a.write_record(b"three\n").unwrap();
    assert_eq!(
        fs::read_to_string(dir.path().join("moved.log")).unwrap(),
        "one\n"
    );
    assert_eq!(active(dir.path()), "three\n");
}

#[test]
fn each_segment_is_compressed_once_although_every_writer_could_queue_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(MIDNIGHT);
    let options = Options::default()
        .max_size(Some(1000))
        .compress(Some(6))
        .checksum(true)
        .retention(RetentionPolicy::new().max_count(4));
    let mut a = open(dir.path(), options.clone(), &clock);
    let mut b = open(dir.path(), options.clone(), &clock);
    for i in 0..400 {
        let log = if i % 3 == 0 { &mut a } else { &mut b };
        log.write_record(format!("line {i:05}\n").as_bytes())
            .unwrap();
        if i == 200 {
            // A third writer joins mid-way: its recovery sees the backups not yet
            // compressed and queues them too.
            drop(open(dir.path(), options.clone(), &clock));
        }
    }
    let sa = a.close().unwrap();
    let sb = b.close().unwrap();
    assert_eq!(sa.errors + sb.errors, 0);
    assert_eq!(sa.jobs_failed + sb.jobs_failed, 0);
    let rotations = sa.rotations + sb.rotations;
    // 400 lines of 11 bytes: four backups of 90 lines (990 bytes) and 40 lines left.
    assert_eq!(rotations, 4);
    let left = names(dir.path());
    assert!(left.iter().all(|n| !n.ends_with(".tmp")), "{left:?}");
    assert_eq!(
        left.iter().filter(|n| n.ends_with(".log.gz")).count(),
        4,
        "{left:?}"
    );
    assert_eq!(
        left.iter()
            .filter(|n| n.ends_with(".log.gz.sha256"))
            .count(),
        4
    );
    assert!(
        left.iter()
            .all(|n| !(n.starts_with("app.0") && n.ends_with(".log"))),
        "{left:?}"
    );
    assert!(support::sh_in(dir.path(), "sha256sum -c --quiet *.sha256 && echo ok").contains("ok"));
}

#[test]
fn shared_mode_refuses_what_would_lock_per_line_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let e = SyncWriter::open(&path, Options::default().shared(true))
        .err()
        .unwrap();
    assert_eq!(e.op(), Op::CheckPath);
    assert_eq!(e.io_error().kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("SyncWriter"), "{e}");

    let options = WriterOptions::default()
        .file(Options::default().shared(true))
        .mode(Mode::Auto);
    let e = Writer::open(&path, options).err().unwrap();
    assert!(e.to_string().contains("mode auto"), "{e}");

    let config = Config {
        shared: Some(true),
        mode: Some("auto".into()),
        ..Config::default()
    };
    let e = config.build().unwrap_err();
    assert_eq!((e.field(), e.value()), ("mode", "auto"));
    let from_env = Config::from_vars(|v| (v == "LETHE_SHARED").then(|| "yes".into())).unwrap();
    assert_eq!(from_env.shared, Some(true));
    assert!(from_env.build().unwrap().is_shared());
    let e = Config::from_vars(|v| (v == "LETHE_SHARED").then(|| "sometimes".into())).unwrap_err();
    assert_eq!((e.field(), e.value()), ("shared", "sometimes"));
}

#[test]
fn the_async_writer_in_shared_mode_interleaves_whole_lines_with_another_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let options = || {
        WriterOptions::default().file(
            Options::default()
                .shared(true)
                .max_size(Some(4096))
                .retention(RetentionPolicy::new()),
        )
    };
    let a = Writer::open(&path, options()).unwrap();
    let b = Writer::open(&path, options()).unwrap();
    for i in 0..2000 {
        a.write_record(format!("a {i:05}\n").as_bytes()).unwrap();
        b.write_record(format!("b {i:05}\n").as_bytes()).unwrap();
    }
    let ma = a.close().unwrap();
    let mb = b.close().unwrap();
    let mut text = String::new();
    let mut files = backups(dir.path());
    files.sort();
    files.push("app.log".into());
    for f in &files {
        let t = fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(t.len() <= 4096 + 1024 * 8, "{f}: {} bytes", t.len());
        text.push_str(&t);
    }
    let (mut na, mut nb) = (0, 0);
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("a", n)) => {
                assert_eq!(n, format!("{na:05}"));
                na += 1;
            }
            Some(("b", n)) => {
                assert_eq!(n, format!("{nb:05}"));
                nb += 1;
            }
            _ => panic!("torn line {line:?}"),
        }
    }
    assert_eq!((na, nb), (2000, 2000));
    assert_eq!(
        ma.file.rotations + mb.file.rotations,
        files.len() as u64 - 1
    );
}

/// The targets of this process's open descriptors.
fn open_files(fd_dir: &str) -> Vec<String> {
    fs::read_dir(fd_dir)
        .unwrap()
        .filter_map(|e| fs::read_link(e.ok()?.path()).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn lock_files_are_not_inherited_by_programs_the_process_runs() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Options::default(), &ManualClock::new(MIDNIGHT));
    let mine = open_files("/proc/self/fd");
    for lock in ["app.log.lock", "app.log.gate.lock", "app.log.maint.lock"] {
        assert!(mine.iter().any(|p| p.ends_with(lock)), "{lock}: {mine:?}");
    }
    // A child that `exec`s sees none of them (O_CLOEXEC): it cannot keep a lock alive.
    let listing = std::process::Command::new("sh")
        .args(["-c", "ls -l /proc/$$/fd"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(!listing.contains("app.log"), "{listing}");
    drop(log);
}
