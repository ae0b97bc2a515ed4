//! Without the `uring` feature: io_uring is off by default, and asking for it falls back to
//! blocking syscalls with the reason reported (or fails, in strict mode).
#![cfg(not(feature = "uring"))]

use std::sync::{Arc, Mutex};

use lethe_std::{
    FallbackReason, IoStatus, Op, Options, RotatingFile, Uring, UringOptions, Writer, WriterOptions,
};

#[test]
fn without_the_feature_uring_is_off_by_default_and_falls_back_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let log = Writer::open(&path, WriterOptions::default()).unwrap();
    log.write_record(b"one line\n").unwrap();
    assert_eq!(log.close().unwrap().file.io, IoStatus::Blocking);

    let on = Options::default().io_uring(UringOptions::default().mode(Uring::On));
    let log = Writer::open(&path, WriterOptions::default().file(on)).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    log.set_error_handler(move |e| sink.lock().unwrap().push((e.op(), e.to_string())));
    log.write_record(b"two lines\n").unwrap();
    let errors = seen;
    let m = log.close().unwrap();
    assert_eq!(m.file.io, IoStatus::Fallback(FallbackReason::NotBuilt));
    let errors = errors.lock().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, Op::SetupUring);
    assert!(errors[0].1.contains("`uring` feature"), "{}", errors[0].1);
    drop(errors);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "one line\ntwo lines\n"
    );

    let strict = Options::default().io_uring(UringOptions::default().mode(Uring::Strict));
    match RotatingFile::open(&path, strict) {
        Ok(_) => panic!("strict mode opened without io_uring"),
        Err(e) => assert_eq!(e.op(), Op::SetupUring),
    }
}
