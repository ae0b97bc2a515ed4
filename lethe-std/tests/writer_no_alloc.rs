//! The writer's hot path allocates nothing: `write_record`, `writeln!` of a line that fits
//! the 512-byte stack buffer, and `reserve` + commit. A counting global allocator counts
//! the allocations of the calling thread only (the consumer and worker threads may
//! allocate on their error paths; they are not the caller's hot path).

use std::io::Write as _;

use lethe_std::{Writer, WriterOptions};

mod support;

use support::alloc::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn writer_hot_path_allocates_nothing() {
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
    let dir = tempfile::tempdir().unwrap();
    let mut log = Writer::open(dir.path().join("app.log"), WriterOptions::default()).unwrap();
    let mut line = [b'x'; 100];
    line[99] = b'\n';
    let n = allocations(|| {
        for i in 0..20_000u32 {
            log.write_record(&line).unwrap();
            writeln!(log, "request {i} served in {} us", i % 977).unwrap();
            let mut g = log.reserve(32).unwrap();
            g.push(b"reserved\n").unwrap();
            g.commit_written();
        }
    });
    assert_eq!(n, 0, "the hot path allocated {n} times");
    let m = log.close().unwrap();
    assert_eq!(m.writes, 60_000);
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    assert_eq!(text.lines().count(), 60_000);
}
