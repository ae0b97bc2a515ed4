//! Bad inputs to the writers: a table of options and records, each with the error it must
//! get (naming the value and the rule), never a panic. Paths are in `rotating_file.rs`
//! (`bad_paths_get_errors_that_name_the_rule`), configuration strings in `config.rs`.

use std::io::ErrorKind;

use lethe_std::{
    Backpressure, Op, Options, SyncWriter, Uring, UringOptions, Writer, WriterOptions,
};

#[test]
fn bad_options_are_refused_by_every_writer_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let file_cases: Vec<(Options, &str)> = vec![
        (Options::default().max_size(Some(0)), "at least 1 byte"),
        (
            Options::default().compress(Some(10)),
            "compress level 10 is invalid: it must be 0 to 9",
        ),
        (
            Options::default().workers(0),
            "workers 0 is invalid: a file has from 1 to 64 worker threads",
        ),
        (
            Options::default().workers(65),
            "workers 65 is invalid: a file has from 1 to 64 worker threads",
        ),
        (
            Options::default().workers(1_000_000),
            "workers 1000000 is invalid: a file has from 1 to 64 worker threads",
        ),
        (
            Options::default().file_mode(0o4640),
            "file_mode 0o4640 is invalid: a log file's mode is at most 0o777",
        ),
        (
            Options::default().file_mode(0o100640),
            "file_mode 0o100640 is invalid",
        ),
        (
            Options::default().dir_mode(0o17777),
            "dir_mode 0o17777 is invalid: a directory's mode is at most 0o7777",
        ),
    ];
    for (options, needle) in file_cases {
        let errors = [
            Writer::open(&path, WriterOptions::default().file(options.clone()))
                .err()
                .map(|e| (e.op(), e.to_string())),
            SyncWriter::open(&path, options.clone())
                .err()
                .map(|e| (e.op(), e.to_string())),
            lethe_std::RotatingFile::open(&path, options)
                .err()
                .map(|e| (e.op(), e.to_string())),
        ];
        for e in errors {
            let (op, text) = e.unwrap_or_else(|| panic!("accepted: {needle}"));
            assert_eq!(op, Op::CheckPath, "{text}");
            assert!(text.contains(needle), "{text} lacks {needle:?}");
        }
    }
    let writer_cases: Vec<(WriterOptions, &str)> = vec![
        (
            WriterOptions::default().buffer(1000),
            "ring capacity of 1000 bytes is invalid: it must be a power of two",
        ),
        (
            WriterOptions::default().buffer(16),
            "ring capacity of 16 bytes is invalid",
        ),
        (
            WriterOptions::default().buffer(4 << 30),
            "ring capacity of 4294967296 bytes is invalid",
        ),
        (
            WriterOptions::default()
                .buffer(1024)
                .backpressure(Backpressure::Grow { max: 512 }),
            "grow max of 512 bytes is invalid: it must be at least the buffer (1024 bytes)",
        ),
    ];
    for (options, needle) in writer_cases {
        let e = Writer::open(&path, options)
            .err()
            .unwrap_or_else(|| panic!("accepted: {needle}"));
        assert_eq!(e.op(), Op::CheckPath);
        assert_eq!(e.io_error().kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
    }
}

#[test]
fn oversized_records_and_reservations_are_refused_with_both_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let log = Writer::open(
        dir.path().join("app.log"),
        WriterOptions::default().buffer(1024).max_record_len(4096),
    )
    .unwrap();
    let e = log.write_record(&[b'x'; 4097]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .contains("a record of 4097 bytes is longer than max_record_len (4096 bytes)"),
        "{e}"
    );
    let e = log.reserve(600).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains(
            "record of 600 bytes is larger than the ring's maximum record size of 504 bytes"
        ),
        "{e}"
    );
    // Between the ring's limit and max_record_len: written directly, in order.
    log.write_record(b"small\n").unwrap();
    log.write_record(&[b'y'; 1000]).unwrap();
    log.write_record(b"\nafter\n").unwrap();
    log.close().unwrap();
    let text = std::fs::read(dir.path().join("app.log")).unwrap();
    assert_eq!(text.len(), 6 + 1000 + 7);
    assert!(text.starts_with(b"small\n") && text.ends_with(b"\nafter\n"));
}

#[test]
fn a_sync_writer_refuses_strict_io_uring_which_it_cannot_meet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let strict = Options::default().io_uring(UringOptions::default().mode(Uring::Strict));
    let e = SyncWriter::open(&path, strict).err().unwrap();
    assert_eq!(e.op(), Op::CheckPath, "{e}");
    assert_eq!(e.io_error().kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .contains("io_uring mode strict (io_uring or fail) cannot be met"),
        "{e}"
    );
    assert!(!path.exists(), "nothing is created");
    // On (io_uring where possible) and Off are fine: the SyncWriter writes with syscalls.
    for mode in [Uring::On, Uring::Off] {
        let options = Options::default().io_uring(UringOptions::default().mode(mode));
        SyncWriter::open(&path, options).unwrap().close().unwrap();
    }
}
