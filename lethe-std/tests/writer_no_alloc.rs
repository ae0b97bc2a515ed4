//! The writer's hot path allocates nothing: `write_record`, `writeln!` of a line that fits
//! the 512-byte stack buffer, `reserve` + commit, and `writeln!` of 1 KB lines once the
//! first has raised the ring reservation. A counting global allocator counts
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

    // `writeln!` of lines longer than the stack buffer, into a ring with room for all of
    // them: the first is formatted in a `String`; its length raises the ring
    // reservation, so the rest are formatted in place, without allocating. (When the
    // ring is full, a line that long is formatted in a `String` again, and waits.)
    let mut log = Writer::open(
        dir.path().join("long.log"),
        WriterOptions::default().buffer(8 << 20),
    )
    .unwrap();
    let long = "y".repeat(1000);
    writeln!(log, "{long} {}", 0).unwrap();
    let n = allocations(|| {
        for i in 1..2_000u32 {
            writeln!(log, "{long} {}", i % 10).unwrap();
        }
    });
    assert_eq!(n, 0, "writeln! of 1 003-byte lines allocated {n} times");
    let m = log.close().unwrap();
    assert_eq!(m.writes, 2_000);
    let text = std::fs::read_to_string(dir.path().join("long.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2_000);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(*l, format!("{long} {}", i % 10), "line {i}");
    }
}
