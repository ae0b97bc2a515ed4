//! The writer's consumer reads batches that span its ring's wrap point
//! (`Consumer::read_wrapping_up_to`): with a 1 KiB ring, four blocking producers wrap it
//! thousands of times, and every line reaches the file once, whole, in each thread's order.
//! Runs through io_uring with `--all-features` (where the kernel allows it) and through
//! the blocking path without the `uring` feature.

use std::collections::HashMap;
use std::io::Write as _;

use lethe_std::{Backpressure, Options, Writer, WriterOptions};

#[test]
fn a_tiny_ring_wrapped_thousands_of_times_loses_and_repeats_nothing() {
    const THREADS: u32 = 4;
    const PER: u32 = 25_000;
    let dir = tempfile::tempdir().unwrap();
    let options = WriterOptions::default()
        .buffer(1024)
        .backpressure(Backpressure::Block)
        .file(Options::default().max_size(None));
    let log = Writer::open(dir.path().join("app.log"), options).unwrap();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut log = log.clone();
            std::thread::spawn(move || {
                for i in 0..PER {
                    // Lengths vary, so frames end at every offset and the padding before
                    // the wrap point varies.
                    let pad = "x".repeat((i % 29) as usize);
                    writeln!(log, "t{t} {i} {pad}").unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let m = log.close().unwrap();
    assert_eq!(m.writes, u64::from(THREADS * PER));
    assert_eq!(m.dropped, 0);
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    let mut next: HashMap<u32, u32> = HashMap::new();
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (Some(t), Some(i), Some(pad), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("torn line {line:?}");
        };
        let t: u32 = t.trim_start_matches('t').parse().unwrap();
        let i: u32 = i.parse().unwrap();
        assert_eq!(pad.len(), (i % 29) as usize, "torn line {line:?}");
        let expected = next.entry(t).or_insert(0);
        assert_eq!(i, *expected, "thread {t}: duplicate, gap or reorder");
        *expected += 1;
    }
    assert_eq!(next.len() as u32, THREADS);
    assert!(next.values().all(|&n| n == PER), "{next:?}");
}
