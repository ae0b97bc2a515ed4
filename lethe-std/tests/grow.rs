//! `Backpressure::Grow`: the ring doubles up to its cap without losing or reordering a
//! record.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lethe_core::retention::RetentionPolicy;
use lethe_std::{Backpressure, Options, Writer, WriterOptions};

mod support;
use support::segments;

const THREADS: u32 = 4;
const PER_THREAD: u32 = 50_000;

#[test]
fn a_growing_ring_keeps_every_record_once_in_each_threads_order() {
    let dir = tempfile::tempdir().unwrap();
    let (buffer, max) = (1024usize, 256 * 1024usize);
    let file = Options::default()
        .max_size(Some(256 * 1024))
        .retention(RetentionPolicy::new());
    let log = Writer::open(
        dir.path().join("app.log"),
        WriterOptions::default()
            .file(file)
            .buffer(buffer)
            .backpressure(Backpressure::Grow { max }),
    )
    .unwrap();
    // The consumer stops in the first rotation's hook until the producers have grown the
    // ring to its cap (and then block there), so growth is certain, not a race.
    let release = Arc::new(AtomicBool::new(false));
    let gate = Arc::clone(&release);
    let mut first = true;
    log.set_on_rotate(move |_| {
        if std::mem::take(&mut first) {
            while !gate.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
        }
    });
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut log = log.clone();
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    writeln!(log, "t{t} {i}").unwrap();
                }
            })
        })
        .collect();
    let doublings = (max / buffer).trailing_zeros() as u64;
    let started = Instant::now();
    while log.metrics().ring_growths < doublings {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the ring never reached its cap: {:?}",
            log.metrics()
        );
        std::thread::yield_now();
    }
    let m = log.metrics();
    assert_eq!(m.buffer_capacity, max as u64, "{m:?}");
    release.store(true, Ordering::Release);
    for w in writers {
        w.join().unwrap();
    }
    let m = log.close().unwrap();
    assert_eq!(m.ring_growths, doublings, "bounded by the cap: {m:?}");
    assert_eq!(m.dropped, 0);
    assert_eq!(m.writes, u64::from(THREADS * PER_THREAD));
    assert!(m.file.rotations > 0);

    let mut next: HashMap<u32, u32> = HashMap::new();
    for segment in segments(dir.path(), "app.log") {
        for line in String::from_utf8(segment).unwrap().lines() {
            let (t, i) = line.split_once(' ').expect("untorn line");
            let t: u32 = t.trim_start_matches('t').parse().unwrap();
            let i: u32 = i.parse().unwrap();
            let expected = next.entry(t).or_insert(0);
            assert_eq!(i, *expected, "thread {t}: lost, duplicated or reordered");
            *expected += 1;
        }
    }
    assert_eq!(next.len() as u32, THREADS);
    assert!(next.values().all(|&n| n == PER_THREAD), "{next:?}");
}

#[test]
fn reservations_grow_the_ring_too() {
    let dir = tempfile::tempdir().unwrap();
    let log = Writer::open(
        dir.path().join("app.log"),
        WriterOptions::default()
            .buffer(64)
            .backpressure(Backpressure::Grow { max: 4096 })
            .max_idle(Duration::from_secs(1)),
    )
    .unwrap();
    let mut expected = String::new();
    for i in 0..2000 {
        let mut grant = log.reserve(24).unwrap();
        std::fmt::Write::write_fmt(&mut grant, format_args!("reserved {i}\n")).unwrap();
        grant.commit_written();
        expected.push_str(&format!("reserved {i}\n"));
    }
    let m = log.close().unwrap();
    assert!(m.ring_growths <= 6, "{m:?}");
    assert_eq!(m.dropped, 0);
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    assert_eq!(text, expected);
}

#[test]
fn a_grow_cap_below_the_buffer_or_above_2_gib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (max, shown) in [(1024usize, "1024"), (3usize << 30, "3221225472")] {
        let err = Writer::open(
            dir.path().join("app.log"),
            WriterOptions::default()
                .buffer(4096)
                .backpressure(Backpressure::Grow { max }),
        )
        .err()
        .expect("refused");
        let text = err.to_string();
        assert!(
            text.contains(&format!("grow max of {shown} bytes")) && text.contains("4096"),
            "{text}"
        );
    }
}
