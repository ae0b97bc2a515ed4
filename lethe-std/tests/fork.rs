//! A writer or logger opened before `fork(2)` refuses in the child, at once and with an
//! error that says why, instead of taking records nobody writes and hanging in `flush`
//! or `close` on threads that do not exist there. The parent goes on unaffected.

#![allow(unsafe_code)] // fork(2), waitpid(2), _exit(2): no safe wrappers

use std::fs;
use std::io::{ErrorKind, Write as _};
use std::time::{Duration, Instant};

use lethe_std::logger::{Destination, Logger};
use lethe_std::{Writer, WriterOptions};

/// Runs `child` in a forked child (exit status 0 if it returns true, 1 if false, 2 if it
/// panicked) and returns that status; fails the test if the child is not done within
/// 20 s (it hung), after killing it.
fn in_child(child: impl FnOnce() -> bool) -> i32 {
    // SAFETY: the child only runs `child` (which uses the writer and logger copies, the
    // allocator and formatting; glibc makes malloc usable after fork) and then `_exit`s,
    // never returning into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child));
        let code = match ok {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(_) => 2,
        };
        // SAFETY: ends the child at once, running no destructor or exit handler of the
        // parent's copy.
        unsafe { libc::_exit(code) };
    }
    let started = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waits for our own child, writing its status into a local.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            assert!(libc::WIFEXITED(status), "the child did not exit: {status}");
            return libc::WEXITSTATUS(status);
        }
        if started.elapsed() > Duration::from_secs(20) {
            // SAFETY: kills and reaps our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("the forked child hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn refused(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::Unsupported && e.to_string().contains("forked this one")
}

#[test]
fn a_writer_refuses_in_a_forked_child_and_the_parent_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let log = Writer::open(&path, WriterOptions::default()).unwrap();
    writeln!(log.clone(), "parent 1").unwrap();
    let child_log = log.clone();
    let status = in_child(move || {
        let write = child_log.write_record(b"child\n");
        let reserve = child_log.reserve(10).err();
        let try_reserve = child_log.try_reserve(10).err();
        let flush = child_log.flush();
        let sync = child_log.sync();
        let second = child_log.clone();
        drop(second); // not the last handle
        let (_, close) = child_log.close_reporting();
        write.as_ref().is_err_and(refused)
            && reserve.as_ref().is_some_and(refused)
            && try_reserve.as_ref().is_some_and(refused)
            && flush.as_ref().is_err_and(refused)
            && sync.as_ref().is_err_and(refused)
            && close.as_ref().is_err_and(refused)
    });
    assert_eq!(status, 0, "the child's calls were not all refused");
    // The child may also just drop the last handle of its copy: no hang.
    let status = in_child(|| {
        let log = Writer::open(dir.path().join("child.log"), WriterOptions::default());
        log.is_ok()
    });
    assert_eq!(status, 0, "a child may open a writer of its own");
    writeln!(log.clone(), "parent 2").unwrap();
    log.close().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "parent 1\nparent 2\n");
}

#[test]
fn dropping_a_writers_last_handle_in_a_forked_child_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let log = Writer::open(&path, WriterOptions::default()).unwrap();
    writeln!(log.clone(), "parent").unwrap();
    // In the child, `log` (moved in) is the last handle of the copy.
    let status = in_child(move || {
        drop(log);
        true
    });
    assert_eq!(status, 0);
}

#[test]
fn a_logger_refuses_in_a_forked_child_counts_what_it_did_not_take_and_the_parent_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let logger = Logger::builder()
        .destination(Destination::open_file(&path, WriterOptions::default()).unwrap())
        .destination(Destination::backend(
            "sink",
            lethe_std::logger::WriteBackend(std::io::sink()),
        ))
        .build()
        .unwrap();
    logger.info("parent 1", &[]);
    let child = logger.clone();
    let status = in_child(move || {
        child.info("child 1", &[]);
        child.info("child 2", &[]);
        let counted = child.metrics().in_forked_child == 2;
        let flush = child.flush();
        let shutdown = child.shutdown(Duration::from_secs(5));
        drop(child); // the last handle of the copy: no hang
        counted
            && flush.as_ref().is_err_and(refused)
            && shutdown.is_err_and(|e| e.to_string().contains("forked this one"))
    });
    assert_eq!(status, 0, "the child's logger did not refuse as it should");
    logger.info("parent 2", &[]);
    assert_eq!(logger.metrics().in_forked_child, 0);
    logger.shutdown(Duration::from_secs(10)).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let msgs: Vec<&str> = text
        .lines()
        .map(|l| {
            l.split("\"msg\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(msgs, ["parent 1", "parent 2"]);
}

/// A `SyncWriter` writes on its callers' threads, so a child's copy still writes (two
/// processes on one path without shared mode: see GUARANTEES section 7); what it must
/// not do is wait for the parent's worker threads: a rotation's compression runs on the
/// child's thread, and closing joins nothing.
#[test]
fn a_sync_writers_background_work_runs_inline_in_a_forked_child() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let options = || {
        lethe_std::Options::default()
            .compress(Some(6))
            .checksum(true)
    };
    let log = lethe_std::SyncWriter::open(&path, options()).unwrap();
    log.write_record(b"parent\n").unwrap();
    let child_dir = dir.path().join("child");
    let status = in_child(move || {
        let own = lethe_std::SyncWriter::open(child_dir.join("c.log"), options());
        let copied =
            log.write_record(b"child\n").is_ok() && log.rotate().is_ok() && log.close().is_ok();
        let inline = own.is_ok_and(|w| {
            w.write_record(b"own\n").is_ok() && w.rotate().is_ok() && w.close().is_ok()
        });
        copied && inline
    });
    assert_eq!(status, 0, "the child's SyncWriter failed or hung");
    let gz = |d: &std::path::Path| {
        fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "gz")
            })
            .count()
    };
    // The child compressed the backup of its copy's rotation itself, before exiting.
    assert_eq!(gz(dir.path()), 1);
    assert_eq!(gz(&dir.path().join("child")), 1);
}
