//! The guides' examples run and leave what they promise on disk.

use std::path::Path;
use std::process::Command;

mod support;
use support::names;

#[path = "../examples/quick_start.rs"]
mod quick_start;

#[path = "../examples/multi_process.rs"]
mod multi_process;

#[cfg(feature = "uring")]
#[path = "../examples/uring.rs"]
mod uring;

#[test]
fn quick_start_rotates_compresses_checksums_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let m = quick_start::run(dir.path()).unwrap();
    assert_eq!((m.writes, m.dropped, m.lost_at_close), (10_000, 0, 0));
    assert!(m.file.rotations >= 2, "{m:?}");
    assert_eq!(m.file.compressions, m.file.rotations);
    assert_eq!(m.file.checksums, m.file.rotations);
    let files = names(dir.path());
    let gz = files.iter().filter(|f| f.ends_with(".log.gz")).count();
    let sums = files.iter().filter(|f| f.ends_with(".gz.sha256")).count();
    assert_eq!(
        (gz as u64, sums as u64),
        (m.file.rotations, m.file.rotations),
        "{files:?}"
    );
    // Every line, read back from the backups and the active file.
    let mut lines = 0;
    for f in files.iter().filter(|f| f.ends_with(".log.gz")) {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(dir.path().join(f)).unwrap()),
            &mut text,
        )
        .unwrap();
        lines += text.lines().count();
    }
    lines += std::fs::read_to_string(dir.path().join("app.log"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 10_000);
}

/// Set in the environment of the child processes the multi-process test starts.
const CHILD: &str = "LETHE_EXAMPLE_CHILD";

#[test]
fn multi_process_example_child() {
    // A child process of the test below (a no-op when run as a test).
    if let Ok(spec) = std::env::var(CHILD) {
        let (dir, id) = spec.rsplit_once(':').unwrap();
        multi_process::child(Path::new(dir), id.parse().unwrap()).unwrap();
    }
}

#[test]
fn multi_process_example_keeps_every_line_of_every_process_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let files = multi_process::parent(dir.path(), |id| {
        let mut c = Command::new(&exe);
        c.args(["--exact", "multi_process_example_child", "--nocapture"])
            .env(CHILD, format!("{}:{id}", dir.path().display()));
        c
    })
    .unwrap();
    // 4 × 2 000 lines of ~20 bytes rotate at 32 KB several times.
    assert!(files >= 3, "{:?}", names(dir.path()));
}

#[cfg(feature = "uring")]
#[test]
fn uring_example_writes_every_line_through_uring_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let m = uring::run(dir.path()).unwrap();
    assert_eq!((m.writes, m.dropped, m.lost_at_close), (20_000, 0, 0));
    assert!(
        m.file.rotations >= 1 && m.file.syncs >= m.file.rotations,
        "{m:?}"
    );
    match m.file.io {
        lethe_std::IoStatus::Uring => {}
        other => support::missing(format_args!(
            "io_uring not usable here ({other:?}); checked the fallback path"
        )),
    }
    let mut lines = 0;
    for f in names(dir.path()) {
        lines += std::fs::read_to_string(dir.path().join(f))
            .unwrap()
            .lines()
            .count();
    }
    assert_eq!(lines, 20_000);
}
