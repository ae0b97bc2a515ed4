//! Every file Lethe creates gets exactly `file_mode`, whatever the umask: the active file
//! (at start and after each rotation, on both I/O paths), compressed backups and their
//! sidecars. An existing file keeps its own mode. One test in its own binary, because the
//! umask is per process and would leak into tests running beside it.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use lethe_core::retention::RetentionPolicy;
use lethe_std::{Options, Writer, WriterOptions};

mod support;
use support::names;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Writes 4 000 lines through a writer rotating every 8 KiB with gzip and checksums, and
/// checks every file's mode.
fn rotate_and_check(dir: &Path, uring: lethe_std::Uring) {
    let options = Options::default()
        .max_size(Some(8 * 1024))
        .compress(Some(1))
        .checksum(true)
        .file_mode(0o640)
        .retention(RetentionPolicy::new())
        .io_uring(lethe_std::UringOptions::default().mode(uring));
    let active = dir.join("app.log");
    let mut w = Writer::open(&active, WriterOptions::default().file(options)).unwrap();
    for i in 0..4_000 {
        writeln!(w, "line {i} of the file mode test").unwrap();
    }
    let stats = w.close().unwrap();
    assert!(stats.file.rotations >= 10, "{stats:?}");
    let all = names(dir);
    let gz: Vec<&String> = all.iter().filter(|n| n.ends_with(".gz")).collect();
    assert_eq!(gz.len() as u64, stats.file.rotations, "{all:?}");
    for name in &all {
        assert_eq!(
            mode(&dir.join(name)),
            0o640,
            "{name} ({uring:?}) has file_mode exactly, not reduced by the umask 077"
        );
    }
}

#[test]
fn created_files_get_file_mode_exactly_and_existing_ones_keep_theirs() {
    // SAFETY: umask(2) cannot fail; this binary's only test sets it.
    let _ = unsafe { libc::umask(0o077) };

    let dir = tempfile::tempdir().unwrap();
    rotate_and_check(dir.path(), lethe_std::Uring::Off);

    // Through io_uring, where the rotation's OPENAT creates the new active file.
    let dir = tempfile::tempdir().unwrap();
    rotate_and_check(dir.path(), lethe_std::Uring::On);

    // An existing active file is reopened as it is.
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("app.log");
    fs::write(&active, "earlier line\n").unwrap();
    fs::set_permissions(&active, fs::Permissions::from_mode(0o600)).unwrap();
    let mut w = Writer::open(
        &active,
        WriterOptions::default().file(Options::default().file_mode(0o644)),
    )
    .unwrap();
    writeln!(w, "later line").unwrap();
    w.close().unwrap();
    assert_eq!(mode(&active), 0o600, "an existing file keeps its mode");
    assert_eq!(
        fs::read_to_string(&active).unwrap(),
        "earlier line\nlater line\n"
    );
}
