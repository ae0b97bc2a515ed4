//! The background workers' niceness ([`Options::worker_nice`]), read back from
//! `/proc/self/task/*/stat` (Linux). One test function, so that exactly one file's
//! workers exist at a time in this process.

#![cfg(target_os = "linux")]

use std::fs;

use lethe_std::{Options, RotatingFile};

/// The niceness of every live thread named `lethe-worker-*` in this process.
fn worker_nices() -> Vec<i32> {
    let mut out = Vec::new();
    for task in fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path();
        let Ok(comm) = fs::read_to_string(path.join("comm")) else {
            continue; // the thread exited meanwhile
        };
        if comm.starts_with("lethe-worker") {
            let Ok(stat) = fs::read_to_string(path.join("stat")) else {
                continue; // the thread exited meanwhile
            };
            out.push(nice_of(&stat));
        }
    }
    out
}

/// Field 19 of a `stat` line: the niceness. The name (field 2) may hold spaces, so the
/// fields are counted after its closing parenthesis.
fn nice_of(stat: &str) -> i32 {
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    // `after` starts at field 3 (the state); the niceness is field 19.
    after.split(' ').nth(19 - 3).unwrap().parse().unwrap()
}

/// Opens a compressing file with `options`, waits until its workers' niceness reads as
/// `want` (a worker lowers its own priority as its first step; the name it is found by
/// is also set by the thread itself), closes it, and returns the last reading.
fn open_and_read(options: Options, want: &[i32]) -> Vec<i32> {
    let dir = tempfile::tempdir().unwrap();
    let log = RotatingFile::open(dir.path().join("app.log"), options.compress(Some(1))).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut nices = worker_nices();
    while nices != want && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(2));
        nices = worker_nices();
    }
    log.close().unwrap();
    // `close` joins the workers, but a joined thread's `/proc/self/task` entry can
    // outlive the join briefly: the join returns when the exiting thread clears its
    // thread id, before the kernel has finished removing the task. So the entries are
    // given a moment to go (once, this check failed in a full CI run without it).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while !worker_nices().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(worker_nices().is_empty(), "close joins the workers");
    nices
}

#[test]
fn workers_run_at_the_configured_niceness_and_never_above_the_openers_priority() {
    // The test process may itself run niced (CI): every expectation is relative to it.
    let own = rustix::process::getpriority_process(None).unwrap();
    let at = |n: i32| vec![own.max(n); 1];

    // The default: nice 10, on both workers.
    assert_eq!(
        open_and_read(Options::default().workers(2), &[own.max(10); 2]),
        [own.max(10); 2]
    );
    // An explicit value.
    assert_eq!(
        open_and_read(Options::default().worker_nice(Some(5)), &at(5)),
        at(5)
    );
    // `None`: the opener's niceness.
    assert_eq!(
        open_and_read(Options::default().worker_nice(None), &at(own)),
        at(own)
    );

    // An opener that is already nicer than the setting: the worker inherits its niceness
    // and is not given a higher priority (even though this test may run as root).
    let nicer = own.max(15);
    let nices = std::thread::spawn(move || {
        rustix::process::setpriority_process(None, nicer).unwrap();
        open_and_read(Options::default(), &[nicer])
    })
    .join()
    .unwrap();
    assert_eq!(nices, [nicer]);

    // Out of range: refused at open, naming the value and the rule.
    let dir = tempfile::tempdir().unwrap();
    let Err(e) = RotatingFile::open(
        dir.path().join("app.log"),
        Options::default().worker_nice(Some(20)),
    ) else {
        panic!("worker_nice 20 was accepted");
    };
    let e = e.to_string();
    assert!(
        e.contains("worker_nice 20") && e.contains("from -20 to 19"),
        "{e}"
    );
}
