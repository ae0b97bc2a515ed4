//! The driver against the real kernel: writes, short writes (a real non-blocking pipe and the
//! fault hook), linked chains and their cancellation, the per-opcode fallback forced through
//! the probe hook, and the setup retry/failure paths. Where io_uring is not usable, each
//! test prints a visible SKIP with the reason.
#![cfg(target_os = "linux")]

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{IoSlice, Read as _, Write as _};
use std::os::fd::{AsFd as _, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use lethe_uring::{Driver, DriverOptions, Faults, FileWrite, Step, opcodes};

/// Prints `SKIP: why` straight to stderr, which the test harness does not capture, so
/// that a check that could not run shows in `cargo test`'s output and CI's log.
fn skip(why: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "SKIP: {why}");
}

/// io_uring is not usable here: a failure in CI (`LETHE_CI` set, as `.ci/run` sets it,
/// whose machine allows io_uring), a SKIP elsewhere.
fn missing(why: impl std::fmt::Display) {
    assert!(
        std::env::var_os("LETHE_CI").is_none(),
        "LETHE_CI is set, and CI's machine allows io_uring, but: {why}"
    );
    skip(why);
}

/// A driver, or `None` after reporting why io_uring cannot be used here ([`missing`]).
fn driver(test: &str, options: DriverOptions) -> Option<Driver> {
    if let Err(e) = lethe_uring::probe() {
        missing(format_args!("{test}: {e}"));
        return None;
    }
    Some(Driver::new(options).expect("io_uring works (probe succeeded), so must the driver"))
}

fn append(path: &Path) -> File {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
}

fn cstr(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// A fresh directory and, in it, `a.log` opened for appending.
fn new_log() -> (tempfile::TempDir, PathBuf, File) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let file = append(&path);
    (dir, path, file)
}

/// The smallest pipe (one page) with a non-blocking write end, so the kernel accepts only
/// what fits, completing a write short, then answers EAGAIN until the reader drains; and
/// a thread that reads everything until the write end is closed.
fn small_pipe() -> (OwnedFd, JoinHandle<Vec<u8>>) {
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    rustix::pipe::fcntl_setpipe_size(&writer, 4096).unwrap();
    let flags = rustix::fs::fcntl_getfl(&writer).unwrap();
    rustix::fs::fcntl_setfl(&writer, flags | rustix::fs::OFlags::NONBLOCK).unwrap();
    let drain = std::thread::spawn(move || {
        let mut got = Vec::new();
        File::from(reader).read_to_end(&mut got).unwrap();
        got
    });
    (writer, drain)
}

/// Numbered lines, so a lost, repeated or reordered byte range shows.
fn lines(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("line {i:06} ..................\n").into_bytes())
        .collect()
}

#[test]
fn write_with_linked_fsync_appends_in_order() {
    let Some(mut d) = driver("write_with_linked_fsync", DriverOptions::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    fs::write(&path, b"existing\n").unwrap();
    let file = append(&path);
    let data = lines(2000);
    let (a, b) = data.split_at(12_345);
    let out = d.write_vectored(file.as_fd(), &[IoSlice::new(a), IoSlice::new(b)], true);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.written, data.len());
    assert!(matches!(out.synced, Some(Ok(()))), "{:?}", out.synced);
    let mut expected = b"existing\n".to_vec();
    expected.extend_from_slice(&data);
    assert_eq!(fs::read(&path).unwrap(), expected);
    let s = d.stats();
    assert_eq!((s.writes, s.fsyncs, s.chains), (1, 1, 1));
    // Write and fsync went out together: one enter, not two.
    assert_eq!(s.enters, 1, "{s:?}");
}

#[test]
fn short_writes_forced_by_the_fault_hook_are_resubmitted() {
    let faults = Faults {
        max_write: Some(1000),
        ..Faults::default()
    };
    let Some(mut d) = driver("short_writes_hook", DriverOptions::default().faults(faults)) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(500); // 15 500 bytes
    let parts: Vec<IoSlice<'_>> = data.chunks(333).map(IoSlice::new).collect();
    let out = d.write_vectored(file.as_fd(), &parts, true);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.written, data.len());
    assert!(matches!(out.synced, Some(Ok(()))));
    assert_eq!(fs::read(&path).unwrap(), data);
    let s = d.stats();
    assert_eq!(s.writes, 16, "{s:?}"); // ceil(15 500 / 1000)
    assert_eq!(s.fsyncs, 1);
}

#[test]
fn short_writes_from_a_full_pipe_are_resubmitted() {
    let Some(mut d) = driver("short_writes_pipe", DriverOptions::default()) else {
        return;
    };
    let (writer, drain) = small_pipe();
    let data = lines(4000); // 124 000 bytes, 30 pipes full
    let expected = data.clone();
    let out = d.write(writer.as_fd(), &data, false);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.written, data.len());
    drop(writer);
    assert!(
        drain.join().unwrap() == expected,
        "the pipe saw other bytes"
    );
    let s = d.stats();
    assert!(
        s.short_writes >= 1,
        "the pipe never completed a write short: {s:?}"
    );
    println!("pipe: {s:?}");
}

#[test]
fn rotation_chain_runs_linked_and_opens_the_new_file() {
    let Some(mut d) = driver("rotation_chain", DriverOptions::default()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (active, backup) = (tmp.path().join("a.log"), tmp.path().join("a.1.log"));
    let file = append(&active);
    assert_eq!(d.write(file.as_fd(), b"old\n", false).written, 4);
    let dir = File::open(tmp.path()).unwrap();
    let (from, to) = (cstr(&active), cstr(&backup));
    let out = d
        .run_chain(&[
            Step::Fsync(file.as_fd()),
            Step::Rename {
                from: &from,
                to: &to,
                flags: 1, // RENAME_NOREPLACE
            },
            Step::Open {
                path: &from,
                flags: libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT,
                mode: 0o640,
            },
            Step::Fsync(dir.as_fd()),
        ])
        .unwrap();
    let new = File::from(out.opened.expect("the chain opened the new file"));
    assert_eq!(d.write(new.as_fd(), b"new\n", false).written, 4);
    assert_eq!(fs::read(&backup).unwrap(), b"old\n");
    assert_eq!(fs::read(&active).unwrap(), b"new\n");
    let s = d.stats();
    assert_eq!((s.chains, s.fsyncs, s.fallbacks), (1, 2, 0), "{s:?}");
}

#[test]
fn a_failed_link_cancels_the_rest_of_the_chain() {
    let Some(mut d) = driver("cancelled_chain", DriverOptions::default()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = File::open(tmp.path()).unwrap();
    let missing = cstr(&tmp.path().join("no-such-dir/a.log"));
    let victim_path = tmp.path().join("must-survive");
    fs::write(&victim_path, b"x").unwrap();
    let victim = cstr(&victim_path);
    // OPENAT fails (ENOENT) and breaks the link: the kernel cancels both later steps.
    let err = d
        .run_chain(&[
            Step::Open {
                path: &missing,
                flags: libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT,
                mode: 0o640,
            },
            Step::Fsync(dir.as_fd()),
            Step::Unlink(&victim),
        ])
        .unwrap_err();
    assert_eq!((err.step, err.op), (0, "openat"));
    assert_eq!(err.error.raw_os_error(), Some(libc::ENOENT), "{err}");
    assert_eq!(err.cancelled, 2, "{err}");
    assert!(err.ran_anyway.is_empty());
    assert!(victim_path.exists(), "a cancelled unlink ran");
    assert_eq!(d.stats().cancelled, 2);
    assert!(
        err.to_string()
            .contains("2 linked steps after it were cancelled")
    );

    // A short or failed write cancels the fsync linked behind it.
    let path = tmp.path().join("ro.log");
    fs::write(&path, b"").unwrap();
    let read_only = File::open(&path).unwrap();
    let out = d.write(read_only.as_fd(), b"data", true);
    assert_eq!(out.written, 0);
    assert_eq!(
        out.error.as_ref().and_then(|e| e.raw_os_error()),
        Some(libc::EBADF)
    );
    assert!(
        out.synced.is_none(),
        "an fsync behind a failed write does not count"
    );
    assert_eq!(d.stats().cancelled, 3);
}

#[test]
fn a_failed_rename_is_reported_and_overwrites_nothing() {
    let Some(mut d) = driver("failed_rename", DriverOptions::default()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (active, backup) = (tmp.path().join("a.log"), tmp.path().join("a.1.log"));
    fs::write(&active, b"active\n").unwrap();
    fs::write(&backup, b"someone else's\n").unwrap();
    let file = append(&active);
    let dir = File::open(tmp.path()).unwrap();
    let (from, to) = (cstr(&active), cstr(&backup));
    let err = d
        .run_chain(&[
            Step::Fsync(file.as_fd()),
            Step::Rename {
                from: &from,
                to: &to,
                flags: 1, // RENAME_NOREPLACE: the backup exists, so EEXIST
            },
            Step::Open {
                path: &from,
                flags: libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT,
                mode: 0o640,
            },
            Step::Fsync(dir.as_fd()),
        ])
        .unwrap_err();
    assert_eq!((err.step, err.op), (1, "renameat"));
    assert_eq!(err.error.raw_os_error(), Some(libc::EEXIST), "{err}");
    // Linux 6.18 does not break links on a failed RENAMEAT; other kernels may cancel.
    // Either way every later step is accounted for, exactly once.
    assert_eq!(err.cancelled + err.ran_anyway.len(), 2, "{err:?}");
    assert_eq!(err.opened.is_some(), err.ran_anyway.contains(&2));
    println!(
        "after the failed rename: {} cancelled, ran anyway: {:?}",
        err.cancelled, err.ran_anyway
    );
    assert_eq!(fs::read(&backup).unwrap(), b"someone else's\n");
    assert_eq!(fs::read(&active).unwrap(), b"active\n");
}

#[test]
fn unlink_chain_removes_and_syncs_the_directory() {
    let Some(mut d) = driver("unlink_chain", DriverOptions::default()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("a.1.log");
    fs::write(&old, b"old\n").unwrap();
    let dir = File::open(tmp.path()).unwrap();
    let path = cstr(&old);
    d.run_chain(&[Step::Unlink(&path), Step::Fsync(dir.as_fd())])
        .unwrap();
    assert!(!old.exists());
    // A missing file is an error that names the step, and cancels the directory fsync.
    let err = d
        .run_chain(&[Step::Unlink(&path), Step::Fsync(dir.as_fd())])
        .unwrap_err();
    assert_eq!((err.step, err.op), (0, "unlinkat"));
    assert_eq!(err.cancelled + err.ran_anyway.len(), 1, "{err:?}");
    assert_eq!(err.error.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn probe_failure_falls_back_per_opcode() {
    // The probe itself fails: the driver assumes a 5.1 kernel (no RENAMEAT, OPENAT or
    // UNLINKAT) and runs those steps as plain syscalls, in order, between ring steps.
    let faults = Faults {
        probe_errno: Some(libc::EINVAL),
        ..Faults::default()
    };
    let Some(mut d) = driver("probe_failure", DriverOptions::default().faults(faults)) else {
        return;
    };
    let ops = d.setup().ops;
    assert!(!ops.renameat && !ops.openat && !ops.unlinkat, "{ops:?}");
    let tmp = tempfile::tempdir().unwrap();
    let (active, backup) = (tmp.path().join("a.log"), tmp.path().join("a.1.log"));
    let file = append(&active);
    d.write(file.as_fd(), b"old\n", false);
    let dir = File::open(tmp.path()).unwrap();
    let (from, to) = (cstr(&active), cstr(&backup));
    let out = d
        .run_chain(&[
            Step::Fsync(file.as_fd()),
            Step::Rename {
                from: &from,
                to: &to,
                flags: 1,
            },
            Step::Open {
                path: &from,
                flags: libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT,
                mode: 0o600,
            },
            Step::Fsync(dir.as_fd()),
        ])
        .unwrap();
    assert!(out.opened.is_some());
    assert_eq!(fs::read(&backup).unwrap(), b"old\n");
    assert_eq!(fs::read(&active).unwrap(), b"");
    let s = d.stats();
    assert_eq!(s.fallbacks, 2, "rename and open as syscalls: {s:?}");
    assert_eq!(s.fsyncs, 2, "both fsyncs through the ring: {s:?}");

    // A blocking fallback step fails like a ring step: named, nothing after it runs.
    let err = d
        .run_chain(&[
            Step::Rename {
                from: &from,
                to: &to,
                flags: 1,
            },
            Step::Fsync(dir.as_fd()),
        ])
        .unwrap_err();
    assert_eq!((err.step, err.op), (0, "renameat"));
    assert_eq!(err.error.raw_os_error(), Some(libc::EEXIST));
}

#[test]
fn missing_required_opcode_makes_the_driver_unavailable() {
    if lethe_uring::probe().is_err() {
        missing("missing_required_opcode: io_uring is not usable here");
        return;
    }
    let faults = Faults {
        unsupported: vec![opcodes::WRITEV],
        ..Faults::default()
    };
    let e = Driver::new(DriverOptions::default().faults(faults)).unwrap_err();
    assert_eq!(e.step(), "register_probe");
    assert!(e.to_string().contains("IORING_OP_WRITEV"), "{e}");
}

#[test]
fn setup_retries_without_opportunistic_flags_on_einval() {
    let faults = Faults {
        setup_errno: Some(libc::EINVAL),
        setup_error_with_flags_only: true,
        ..Faults::default()
    };
    let opts = DriverOptions::default().single_issuer(true).faults(faults);
    let Some(mut d) = driver("setup_retry", opts) else {
        return;
    };
    let setup = d.setup();
    assert!(setup.retried_without_flags);
    assert!(!setup.coop_taskrun && !setup.single_issuer, "{setup:?}");
    let tmp = tempfile::tempdir().unwrap();
    let file = append(&tmp.path().join("a.log"));
    assert_eq!(d.write(file.as_fd(), b"ok\n", true).written, 3);
}

#[test]
fn setup_failure_is_reported_with_its_reason() {
    let faults = Faults {
        setup_errno: Some(libc::EPERM),
        ..Faults::default()
    };
    let e = Driver::new(DriverOptions::default().faults(faults)).unwrap_err();
    assert_eq!(e.step(), "io_uring_setup");
    assert_eq!(e.io_error().raw_os_error(), Some(libc::EPERM));
    assert!(e.to_string().contains("io_uring_disabled"), "{e}");
}

#[test]
fn single_issuer_ring_works_when_the_kernel_has_it() {
    let opts = DriverOptions::default().single_issuer(true);
    let Some(mut d) = driver("single_issuer", opts) else {
        return;
    };
    println!("setup: {:?}", d.setup());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("a.log");
    let file = append(&path);
    let data = lines(100);
    assert_eq!(d.write(file.as_fd(), &data, true).written, data.len());
    assert_eq!(fs::read(&path).unwrap(), data);
}

#[test]
fn fixed_buffer_writes_go_through_the_registered_buffer() {
    let opts = DriverOptions::default().fixed_buffer(Some(4096));
    let Some(mut d) = driver("fixed_buffer", opts) else {
        return;
    };
    if !d.setup().fixed_buffer {
        skip("fixed_buffer: registering 4 KiB failed (RLIMIT_MEMLOCK?)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("a.log");
    let file = append(&path);
    let data = lines(1000); // 31 000 bytes: eight fills of the buffer
    let parts: Vec<IoSlice<'_>> = data.chunks(1000).map(IoSlice::new).collect();
    let out = d.write_vectored(file.as_fd(), &parts, true);
    assert!(out.error.is_none());
    assert_eq!(out.written, data.len());
    assert!(matches!(out.synced, Some(Ok(()))));
    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(d.stats().writes, 8);
}

#[test]
fn write_many_writes_each_file_in_order() {
    let faults = Faults {
        max_write: Some(4000),
        ..Faults::default()
    };
    let Some(mut d) = driver("write_many", DriverOptions::default().faults(faults)) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<File> = (0..8)
        .map(|i| append(&tmp.path().join(format!("{i}.log"))))
        .collect();
    let data: Vec<Vec<u8>> = (0..8).map(|i| lines(100 * (i + 1))).collect();
    let mut writes: Vec<FileWrite<'_>> = files
        .iter()
        .zip(&data)
        .map(|(f, d)| FileWrite::new(f.as_fd(), d))
        .collect();
    d.write_many(&mut writes);
    for (i, w) in writes.iter().enumerate() {
        assert!(w.error.is_none(), "{:?}", w.error);
        assert_eq!(w.written, data[i].len());
        assert_eq!(
            fs::read(tmp.path().join(format!("{i}.log"))).unwrap(),
            data[i]
        );
    }
    // The largest file needs ceil(24 800 / 4000) = 7 rounds; each round is one enter.
    assert_eq!(d.stats().enters, 7, "{:?}", d.stats());
}

#[test]
fn sqpoll_ring_writes_and_syncs() {
    if lethe_uring::probe().is_err() {
        missing("sqpoll: io_uring is not usable here");
        return;
    }
    let mut d = match Driver::new(DriverOptions::default().sqpoll(Some(50))) {
        Ok(d) => d,
        Err(e) => {
            skip(format_args!("sqpoll: SQPOLL is not allowed here: {e}"));
            return;
        }
    };
    assert!(d.setup().sqpoll);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("a.log");
    let file = append(&path);
    let data = lines(3000);
    for chunk in data.chunks(10_000) {
        let out = d.write(file.as_fd(), chunk, false);
        assert!(out.error.is_none());
        assert_eq!(out.written, chunk.len());
    }
    assert!(matches!(
        d.write(file.as_fd(), b"", true).synced,
        Some(Ok(()))
    ));
    assert_eq!(fs::read(&path).unwrap(), data);
    println!("sqpoll: {:?}", d.stats());
}

#[test]
fn a_failed_linked_fsync_is_reported_and_not_retried() {
    let faults = Faults {
        fsync_errno: Some(libc::EIO),
        ..Faults::default()
    };
    let Some(mut d) = driver("failed_fsync", DriverOptions::default().faults(faults)) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("a.log");
    let file = append(&path);
    let out = d.write(file.as_fd(), b"data\n", true);
    assert_eq!(out.written, 5);
    assert!(out.error.is_none());
    let synced = out.synced.expect("the fsync's outcome");
    assert_eq!(synced.unwrap_err().raw_os_error(), Some(libc::EIO));
    // One write, one fsync, one enter: no second fsync to "make sure".
    assert_eq!((d.stats().writes, d.stats().enters), (1, 1));
    assert_eq!(fs::read(&path).unwrap(), b"data\n");
}

#[test]
fn write_synced_chains_writes_and_fsyncs_in_one_enter() {
    let Some(mut d) = driver("write_synced_one_enter", DriverOptions::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    fs::write(&path, b"existing\n").unwrap();
    let file = append(&path);
    let data = lines(3000);
    // WRITE → FSYNC → WRITE → FSYNC → WRITE → FSYNC (the last point is the end).
    let points = [10_000, 50_000, data.len()];
    let out = d.write_synced(file.as_fd(), &data, &points);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.sync_error.is_none(), "{:?}", out.sync_error);
    assert_eq!((out.written, out.syncs), (data.len(), 3));
    let mut expected = b"existing\n".to_vec();
    expected.extend_from_slice(&data);
    assert_eq!(fs::read(&path).unwrap(), expected);
    let s = d.stats();
    assert_eq!(
        (s.writes, s.fsyncs, s.chains, s.enters),
        (3, 3, 1, 1),
        "{s:?}"
    );
    // No points: one plain write; a point at the end only: write + fsync.
    let out = d.write_synced(file.as_fd(), b"tail\n", &[]);
    assert_eq!((out.written, out.syncs), (5, 0));
    let out = d.write_synced(file.as_fd(), b"end\n", &[4]);
    assert_eq!((out.written, out.syncs), (4, 1));
    expected.extend_from_slice(b"tail\nend\n");
    assert_eq!(fs::read(&path).unwrap(), expected);
    assert_eq!(d.stats().enters, 3);
}

#[test]
fn write_synced_resubmits_the_rest_of_the_chain_after_short_writes() {
    let faults = Faults {
        max_write: Some(7_000),
        ..Faults::default()
    };
    let Some(mut d) = driver(
        "write_synced_short",
        DriverOptions::default().faults(faults),
    ) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(1000); // 31 000 bytes
    let points = [5_000, 5_000, 20_000];
    let out = d.write_synced(file.as_fd(), &data, &points);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!((out.written, out.syncs), (data.len(), 3));
    assert_eq!(
        fs::read(&path).unwrap(),
        data,
        "lost, repeated or reordered bytes"
    );
    let s = d.stats();
    // Segments 5 000, 0, 15 000 (7 000 + 7 000 + 1 000), 11 000 (7 000 + 4 000).
    assert_eq!((s.writes, s.fsyncs), (6, 3), "{s:?}");
}

#[test]
fn write_synced_splits_a_chain_longer_than_the_ring_allows() {
    let Some(mut d) = driver("write_synced_long", DriverOptions::default()) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(1000);
    let points: Vec<usize> = (1..=40).map(|i| i * 700).collect();
    let out = d.write_synced(file.as_fd(), &data, &points);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!((out.written, out.syncs), (data.len(), 40));
    assert_eq!(fs::read(&path).unwrap(), data);
    let s = d.stats();
    assert_eq!((s.writes, s.fsyncs), (41, 40), "{s:?}");
    // 81 entries, at most MAX_IN_FLIGHT (32) per submission.
    assert_eq!(s.enters, 3, "{s:?}");
}

#[test]
fn write_synced_reports_a_failed_fsync_once_and_keeps_writing() {
    let faults = Faults {
        fsync_errno: Some(libc::EIO),
        ..Faults::default()
    };
    let Some(mut d) = driver(
        "write_synced_failed_fsync",
        DriverOptions::default().faults(faults),
    ) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(100);
    let out = d.write_synced(file.as_fd(), &data, &[1_000, 2_000]);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(
        (out.written, out.syncs, out.sync_failures),
        (data.len(), 2, 2)
    );
    let e = out.sync_error.expect("the failed fsync is reported");
    assert_eq!(e.raw_os_error(), Some(libc::EIO));
    assert_eq!(fs::read(&path).unwrap(), data);
    // Nothing was retried: three writes and two fsyncs in one enter.
    let s = d.stats();
    assert_eq!((s.writes, s.enters), (3, 1), "{s:?}");
}

#[test]
fn write_synced_to_a_full_pipe_resubmits_short_writes() {
    let Some(mut d) = driver("write_synced_pipe", DriverOptions::default()) else {
        return;
    };
    let (writer, drain) = small_pipe();
    let data = lines(4000);
    let expected = data.clone();
    // The first write (60 000 bytes) completes short in the one-page pipe, which breaks
    // the link: the kernel cancels the fsync and the write behind it, and the driver
    // resubmits the rest of the chain. (A pipe cannot be fsynced: the fsync, once it runs,
    // fails with EINVAL, which is reported, not retried.)
    let out = d.write_synced(writer.as_fd(), &data, &[60_000]);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!((out.written, out.syncs), (data.len(), 1));
    let e = out.sync_error.expect("fsync of a pipe fails");
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    drop(writer);
    assert!(
        drain.join().unwrap() == expected,
        "the pipe saw other bytes"
    );
    let s = d.stats();
    assert!(s.short_writes >= 1, "no short write: {s:?}");
    assert!(s.cancelled >= 2, "the short write cancelled nothing: {s:?}");
}

#[test]
fn write_synced_with_a_fixed_buffer_writes_each_segment() {
    let Some(mut d) = driver(
        "write_synced_fixed",
        DriverOptions::default().fixed_buffer(Some(4096)),
    ) else {
        return;
    };
    if !d.setup().fixed_buffer {
        skip("write_synced_fixed: the buffer could not be registered");
        return;
    }
    let (_dir, path, file) = new_log();
    let data = lines(1000);
    let out = d.write_synced(file.as_fd(), &data, &[10_000, 20_000]);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!((out.written, out.syncs), (data.len(), 2));
    assert_eq!(fs::read(&path).unwrap(), data);
}

#[test]
fn write_synced_clamps_points_past_the_end_or_out_of_order() {
    for fixed in [None, Some(4096)] {
        let Some(mut d) = driver(
            "write_synced_clamps",
            DriverOptions::default().fixed_buffer(fixed),
        ) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let file = append(&path);
        let data = lines(300);
        // 5 000, then "3 000" (behind it: an fsync right after the previous one), then a
        // point far past the end (the end): three fsyncs, every byte once, nothing read
        // past the buffer.
        let out = d.write_synced(file.as_fd(), &data, &[5_000, 3_000, usize::MAX]);
        assert!(out.error.is_none(), "{fixed:?}: {:?}", out.error);
        assert_eq!((out.written, out.syncs), (data.len(), 3), "{fixed:?}");
        assert_eq!(fs::read(&path).unwrap(), data, "{fixed:?}");
    }
}

/// `statfs(2)`'s `f_type` of ext4 (also ext2/ext3) and of XFS.
const EXT4_MAGIC: i64 = 0xEF53;
const XFS_MAGIC: i64 = 0x5846_5342;

#[test]
fn write_observed_tells_inline_completions_from_worker_threads() {
    let Some(mut d) = driver("write_observed", DriverOptions::default()) else {
        return;
    };
    // A pipe with room: io_uring writes to pipes without blocking, inline.
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    let (out, inline) = d.write_observed(writer.as_fd(), b"to the pipe\n");
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.written, 12);
    assert!(inline, "a write into a pipe with room completes inline");
    drop(writer);
    let mut got = Vec::new();
    File::from(reader).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"to the pipe\n");

    // A regular file: inline only where the file system supports non-blocking buffered
    // writes. Several writes, since XFS may still hand one to a worker now and then.
    let (dir, path, file) = new_log();
    let magic = rustix::fs::statfs(dir.path()).unwrap().f_type as i64;
    let mut inline_count = 0;
    for i in 0..8 {
        let line = format!("line {i}\n");
        let (out, inline) = d.write_observed(file.as_fd(), line.as_bytes());
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.written, line.len());
        inline_count += usize::from(inline);
    }
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 8);
    match magic {
        EXT4_MAGIC => assert_eq!(inline_count, 0, "ext4 hands buffered writes to io-wq"),
        XFS_MAGIC => assert!(inline_count > 0, "XFS completes buffered writes inline"),
        other => {
            skip(format_args!(
                "write_observed on a regular file: no expectation for file system \
                 type {other:#x} ({inline_count} of 8 inline); the bytes were checked"
            ));
        }
    }
    // The observation costs a NOP in the same submission, not an `io_uring_enter`.
    let enters = d.stats().enters;
    assert!((9..=11).contains(&enters), "{enters} enters for 9 writes");
}

#[test]
fn a_deferred_fsync_runs_at_its_point_while_the_rest_is_written() {
    let Some(mut d) = driver("deferred_fsync", DriverOptions::default()) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(3000);
    // Points at 10 000 and 20 000: one chain up to the last point, ending with the
    // deferred fsync; the call returns at the point with that fsync still running.
    let out = d.write_synced_deferred(file.as_fd(), &data, &[10_000, 20_000]);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!((out.written, out.syncs, out.deferred), (20_000, 2, true));
    assert_eq!(
        d.stats().enters,
        1,
        "one submission, not waiting for the last fsync"
    );
    // The rest goes out while it runs (a plain write does not wait for it). One enter,
    // or two when the running fsync completes while this call waits: the kernel counts
    // any completion towards an `io_uring_enter`'s wait, so that one can end the wait
    // before the write's, and the driver enters again for the write.
    let out = d.write_synced(file.as_fd(), &data[20_000..], &[]);
    assert_eq!(
        (out.written, out.syncs, out.deferred),
        (data.len() - 20_000, 0, false)
    );
    let enters = d.stats().enters;
    assert!((2..=3).contains(&enters), "{enters} enters after two calls");
    // A second deferred fsync waits for the first one in its own enter (or two, when
    // the new fsync completes before the first, as above).
    let out = d.write_synced_deferred(file.as_fd(), &data, &[data.len()]);
    assert_eq!(
        (out.written, out.syncs, out.deferred),
        (data.len(), 1, true)
    );
    let more = d.stats().enters - enters;
    assert!((1..=2).contains(&more), "{more} enters for the third call");
    let settled = d.settle();
    assert_eq!((settled.done, settled.failures), (2, 0), "{settled:?}");
    assert!(settled.error.is_none());
    assert_eq!(d.stats().fsyncs, 3, "{:?}", d.stats());
    assert_eq!(d.settle().done, 0, "nothing left to settle");
    let mut expected = data.clone();
    expected.extend_from_slice(&data);
    assert_eq!(fs::read(&path).unwrap(), expected);
    // Without points, or without deferral, nothing is left running.
    let out = d.write_synced_deferred(file.as_fd(), b"tail\n", &[]);
    assert_eq!((out.written, out.deferred), (5, false));
    let out = d.write_synced(file.as_fd(), b"tail\n", &[5]);
    assert!(!out.deferred && out.syncs == 1);
    assert_eq!(d.take_deferred().done, 0);
}

#[test]
fn a_failed_deferred_fsync_is_reported_once_when_it_settles() {
    let faults = Faults {
        fsync_errno: Some(libc_eio()),
        ..Faults::default()
    };
    let Some(mut d) = driver(
        "deferred_fsync_failure",
        DriverOptions::default().faults(faults),
    ) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let out = d.write_synced_deferred(file.as_fd(), b"one\n", &[4]);
    assert!(out.deferred && out.sync_error.is_none());
    let settled = d.settle();
    assert_eq!((settled.done, settled.failures), (1, 1));
    assert_eq!(settled.error.unwrap().raw_os_error(), Some(libc_eio()));
    assert_eq!(d.settle().failures, 0, "reported once");
    assert_eq!(fs::read(&path).unwrap(), b"one\n");
}

#[test]
fn a_deferred_fsync_goes_behind_the_last_of_many_capped_writes() {
    let faults = Faults {
        max_write: Some(1000),
        ..Faults::default()
    };
    let Some(mut d) = driver(
        "deferred_fsync_short",
        DriverOptions::default().faults(faults),
    ) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(500);
    let half = data.len() / 2;
    let out = d.write_synced_deferred(file.as_fd(), &data, &[half]);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!((out.written, out.syncs, out.deferred), (half, 1, true));
    let out = d.write_synced(file.as_fd(), &data[half..], &[]);
    assert_eq!(out.written, data.len() - half);
    let settled = d.settle();
    assert_eq!((settled.done, settled.failures), (1, 0), "{settled:?}");
    assert_eq!(fs::read(&path).unwrap(), data);
    // The hook caps each submission at one 1000-byte write, and nothing may be linked
    // behind a capped write: the fsync went out (deferred) with the one that reached the
    // point only.
    let s = d.stats();
    assert_eq!(s.writes as usize, data.len().div_ceil(1000), "{s:?}");
    assert_eq!((s.fsyncs, s.cancelled), (1, 0), "{s:?}");
}

/// `EIO`.
fn libc_eio() -> i32 {
    5
}

#[test]
fn dropping_the_driver_waits_for_its_deferred_fsync() {
    let Some(mut d) = driver("deferred_fsync_drop", DriverOptions::default()) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(10_000);
    let out = d.write_synced_deferred(file.as_fd(), &data, &[data.len()]);
    assert!(out.deferred);
    drop(d); // waits for the fsync, so closing the file next is safe
    drop(file);
    assert_eq!(fs::read(&path).unwrap(), data);
}

#[test]
fn take_deferred_sees_a_finished_deferred_fsync_without_waiting_for_it() {
    let Some(mut d) = driver("deferred_fsync_take", DriverOptions::default()) else {
        return;
    };
    let (_dir, _path, file) = new_log();
    let out = d.write_synced_deferred(file.as_fd(), b"line\n", &[5]);
    assert!(out.deferred);
    let enters = d.stats().enters;
    // Looking costs no syscall: the completion is read from the CQ once it is there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut done = 0;
    while done == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the fsync never completed"
        );
        done = d.take_deferred().done;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(done, 1);
    assert_eq!(
        d.stats().enters,
        enters,
        "take_deferred made no io_uring_enter"
    );
    assert_eq!(d.settle().done, 0);
}

#[test]
fn a_broken_ring_fails_calls_instead_of_aborting_and_counts_what_ran() {
    // `io_uring_enter` fails (EBADF, as if someone closed the ring's descriptor) right
    // after the write and its linked fsync were submitted.
    let faults = Faults {
        enter_errno: Some(libc::EBADF),
        ..Faults::default()
    };
    let Some(mut d) = driver("broken_ring", DriverOptions::default().faults(faults)) else {
        return;
    };
    let (_dir, path, file) = new_log();
    let data = lines(2000);
    let out = d.write_synced(file.as_fd(), &data, &[data.len()]);
    // What the kernel had taken completed and is counted: the write ran in full, so a
    // caller that writes the rest with blocking syscalls repeats nothing.
    assert_eq!(out.written, data.len(), "{out:?}");
    assert_eq!(fs::read(&path).unwrap(), data);
    let broken = d.broken().expect("the driver knows the ring is broken");
    assert_eq!(broken.raw_os_error(), Some(libc::EBADF));
    // Every later call fails at once with that error, without touching the ring.
    let enters = d.stats().enters;
    let again = d.write(file.as_fd(), b"more\n", false);
    assert_eq!(again.written, 0);
    let e = again.error.expect("a broken driver fails");
    assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    assert_eq!(
        d.stats().enters,
        enters,
        "no io_uring_enter after the break"
    );
    assert_eq!(fs::read(&path).unwrap(), data);
}
