//! Background compression and checksums, checked with the real `gzip` and `sha256sum`,
//! and start-up recovery of interrupted work.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use lethe_core::retention::RetentionPolicy;
use lethe_std::clock::ManualClock;
use lethe_std::{Options, RotatingFile};

mod support;
use support::{gunzip, names, segments, sh_in};

const T0: i64 = 1_795_392_000; // 2026-11-23T00:00:00Z

#[test]
fn compressed_backups_are_valid_gzip_with_verifying_sidecars_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default()
        .max_size(Some(8 * 1024))
        .compress(Some(6))
        .checksum(true)
        .file_mode(0o660)
        .retention(RetentionPolicy::new());
    let mut log = RotatingFile::open(dir.path().join("app.log"), options).unwrap();
    let mut input = Vec::new();
    for i in 0..20_000 {
        let line = format!("line {i} of the compression test\n");
        log.write_record(line.as_bytes()).unwrap();
        input.extend_from_slice(line.as_bytes());
    }
    let stats = log.close().unwrap();
    assert!(stats.rotations > 50, "{stats:?}");
    assert_eq!(stats.compressions, stats.rotations, "{stats:?}");
    assert_eq!(stats.checksums, stats.rotations, "{stats:?}");
    assert_eq!((stats.errors, stats.jobs_failed), (0, 0), "{stats:?}");

    let all = names(dir.path());
    assert!(all.iter().all(|n| !n.ends_with(".tmp")), "{all:?}");
    let gz: Vec<&String> = all.iter().filter(|n| n.ends_with(".log.gz")).collect();
    let sums: Vec<&String> = all.iter().filter(|n| n.ends_with(".gz.sha256")).collect();
    assert_eq!(gz.len() as u64, stats.rotations);
    assert_eq!(sums.len(), gz.len());
    assert_eq!(
        all.len(),
        gz.len() * 2 + 1,
        "no raw backup is left: {all:?}"
    );
    for g in &gz {
        sh_in(dir.path(), &format!("gzip -t {g}"));
        let mode = fs::metadata(dir.path().join(g))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o660, "{g} has the configured mode, not the umask's");
    }
    let out = sh_in(dir.path(), "sha256sum -c *.sha256");
    assert_eq!(out.matches(": OK").count(), sums.len(), "{out}");
    assert_eq!(segments(dir.path(), "app.log").concat(), input);
}

#[test]
fn checksums_without_compression_cover_the_raw_backups() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let options = Options::default().checksum(true);
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock).unwrap();
    for i in 0..3 {
        log.write_record(format!("segment {i}\n").as_bytes())
            .unwrap();
        log.rotate().unwrap();
    }
    let stats = log.close().unwrap();
    assert_eq!((stats.checksums, stats.compressions), (3, 0));
    let out = sh_in(dir.path(), "sha256sum -c *.sha256");
    assert_eq!(out.matches(": OK").count(), 3, "{out}");
}

#[test]
fn a_queue_with_no_room_runs_jobs_inline_and_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default()
        .max_size(Some(1024))
        .compress(Some(1))
        .queue(0)
        .retention(RetentionPolicy::new());
    let mut log = RotatingFile::open(dir.path().join("app.log"), options).unwrap();
    for i in 0..5_000 {
        log.write_record(format!("{i}\n").as_bytes()).unwrap();
    }
    let stats = log.close().unwrap();
    assert_eq!(stats.compressions, stats.rotations, "{stats:?}");
    let expected: Vec<u8> = (0..5_000)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    assert_eq!(segments(dir.path(), "app.log").concat(), expected);
}

#[test]
fn retention_counts_compressed_backups_and_deletes_their_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default()
        .max_size(Some(512))
        .compress(Some(6))
        .checksum(true)
        .retention(RetentionPolicy::new().max_count(2));
    let mut log = RotatingFile::open(dir.path().join("app.log"), options).unwrap();
    for i in 0..2_000 {
        log.write_record(format!("{i}\n").as_bytes()).unwrap();
    }
    log.close().unwrap();
    let all = names(dir.path());
    let gz = all.iter().filter(|n| n.ends_with(".log.gz")).count();
    let sums = all.iter().filter(|n| n.ends_with(".sha256")).count();
    assert_eq!((gz, sums, all.len()), (2, 2, 5), "{all:?}");
}

/// Writes backup files by hand as an interrupted run would have left them.
fn backup(dir: &Path, seq: u64, suffix: &str, contents: &[u8]) -> String {
    let name = format!("app.{seq:010}.20261123T000000Z.log{suffix}");
    fs::write(dir.join(&name), contents).unwrap();
    name
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn recovery_finishes_or_undoes_interrupted_work_and_touches_nothing_foreign() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 1: raw only, with a half-written .gz.tmp: the tmp goes, the raw is compressed.
    backup(d, 1, "", b"one\n");
    backup(d, 1, ".gz.tmp", b"\x1f\x8b half");
    // 2: raw and a complete .gz: the redundant raw goes.
    backup(d, 2, "", b"two\n");
    backup(d, 2, ".gz", &gzip_bytes(b"two\n"));
    // 3: raw and a corrupt .gz: the .gz goes and the raw is compressed again.
    backup(d, 3, "", b"three\n");
    let mut bad = gzip_bytes(b"three\n");
    let n = bad.len();
    bad[n - 5] ^= 0xff; // break the length/CRC trailer
    backup(d, 3, ".gz", &bad);
    // 4: a .gz without its sidecar: the sidecar is written.
    backup(d, 4, ".gz", &gzip_bytes(b"four\n"));
    backup(d, 4, ".gz.sha256.tmp", b"partial");
    // Foreign files, some with Lethe-like suffixes.
    for foreign in ["x.tmp", "app.log.gz.tmp", "app.log.bak", "app.1.log.gz.tmp"] {
        fs::write(d.join(foreign), b"foreign").unwrap();
    }

    let options = Options::default().compress(Some(6)).checksum(true);
    let log = RotatingFile::open(d.join("app.log"), options).unwrap();
    let stats = log.close().unwrap();
    assert_eq!(stats.errors, 0, "{stats:?}");

    let all = names(d);
    let mut expected: Vec<String> = (1..=4)
        .flat_map(|s| {
            [
                format!("app.{s:010}.20261123T000000Z.log.gz"),
                format!("app.{s:010}.20261123T000000Z.log.gz.sha256"),
            ]
        })
        .collect();
    expected.extend(
        [
            "app.1.log.gz.tmp",
            "app.log",
            "app.log.bak",
            "app.log.gz.tmp",
            "x.tmp",
        ]
        .map(String::from),
    );
    expected.sort();
    assert_eq!(all, expected);
    for (s, text) in [(1, "one\n"), (2, "two\n"), (3, "three\n"), (4, "four\n")] {
        let gz = d.join(format!("app.{s:010}.20261123T000000Z.log.gz"));
        assert_eq!(gunzip(&gz), text.as_bytes());
    }
    sh_in(d, "sha256sum -c *.sha256 && gzip -t *.log.gz");
    for foreign in ["x.tmp", "app.log.gz.tmp", "app.log.bak", "app.1.log.gz.tmp"] {
        assert_eq!(fs::read(d.join(foreign)).unwrap(), b"foreign", "{foreign}");
    }
}

#[test]
fn a_failed_compression_is_reported_and_keeps_the_raw_segment() {
    let dir = tempfile::tempdir().unwrap();
    // A directory squatting on the .gz name makes the final rename fail.
    let gz = "app.0000000001.20261123T000000Z.log.gz";
    fs::create_dir(dir.path().join(gz)).unwrap();
    let clock = ManualClock::new(T0);
    let options = Options::default().compress(Some(6));
    let mut log =
        RotatingFile::open_with_clock(dir.path().join("app.log"), options, clock).unwrap();
    log.write_record(b"precious\n").unwrap();
    log.rotate().unwrap();
    // The job may fail before or after the handler is set: either way it arrives.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    log.set_error_handler(move |e| sink.lock().unwrap().push(e.to_string()));
    let stats = log.close().unwrap();
    assert_eq!((stats.jobs_failed, stats.errors), (1, 1), "{stats:?}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].starts_with("rename ") && seen[0].contains(gz),
        "{}",
        seen[0]
    );
    let raw = dir.path().join("app.0000000001.20261123T000000Z.log");
    assert_eq!(
        fs::read(raw).unwrap(),
        b"precious\n",
        "the raw segment is kept"
    );
    assert!(names(dir.path()).iter().all(|n| !n.ends_with(".tmp")));
}

#[test]
fn a_compression_that_meets_a_full_disk_is_retried_once_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_unmount) = support::small_tmpfs(dir.path()) else {
        return;
    };
    let options = Options::default()
        .max_size(None)
        .compress(Some(6))
        .retention(RetentionPolicy::new());
    let mut log = RotatingFile::open(dir.path().join("app.log"), options).unwrap();
    let mut input = Vec::new();
    for i in 0..200 {
        let line = format!("line {i} of the retried compression\n");
        log.write_record(line.as_bytes()).unwrap();
        input.extend_from_slice(line.as_bytes());
    }
    // Fill the file system to the last byte, then rotate: the worker cannot write the
    // `.gz` and retries after a backoff.
    let mut ballast = fs::File::create(dir.path().join("ballast")).unwrap();
    let chunk = [7u8; 4096];
    while std::io::Write::write(&mut ballast, &chunk).is_ok_and(|n| n > 0) {}
    drop(ballast);
    log.rotate().unwrap();
    assert!(
        support::eventually(|| log.stats().jobs_retried > 0),
        "no retry: {:?}",
        log.stats()
    );
    fs::remove_file(dir.path().join("ballast")).unwrap();
    let stats = log.close().unwrap();
    assert_eq!(
        (
            stats.compressions,
            stats.jobs_failed,
            stats.compressions_failed,
            stats.errors
        ),
        (1, 0, 0, 0),
        "{stats:?}"
    );
    assert!(stats.jobs_retried >= 1, "{stats:?}");
    let gz: Vec<String> = names(dir.path())
        .into_iter()
        .filter(|n| n.ends_with(".log.gz"))
        .collect();
    assert_eq!(gz.len(), 1, "{:?}", names(dir.path()));
    assert_eq!(gunzip(&dir.path().join(&gz[0])), input);
}
