//! Loom model of `lethe_std::SyncWriter`'s rotation protocol (the std layer's rotation
//! flag). The writer itself uses `arc_swap` and `std` atomics, which loom cannot
//! instrument, so this file restates the protocol step for step with loom types:
//!
//! - a writer loads the current segment, claims its record's bytes with `fetch_add` on
//!   the segment's size, and writes if the claim keeps the segment within the limit (or
//!   the segment was empty);
//! - otherwise it gives the bytes back, and either wins the rotation flag (CAS), checks
//!   that the segment it saw is still current, and swaps in the next one, or waits for the
//!   swap and retries.
//!
//! Checked in every interleaving: each record is written exactly once, no segment holds
//! more than the limit (unless one record alone is larger), and a segment is never
//! rotated twice.
#![cfg(lethe_loom)]

use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

const MAX: u64 = 10;
const SEGMENTS: usize = 4;

struct Segment {
    size: AtomicU64,
    records: Mutex<Vec<(u8, u64)>>,
}

struct Model {
    segments: Vec<Segment>,
    current: AtomicUsize,
    rotating: AtomicBool,
    rotations: AtomicUsize,
}

impl Model {
    fn new() -> Model {
        Model {
            segments: (0..SEGMENTS)
                .map(|_| Segment {
                    size: AtomicU64::new(0),
                    records: Mutex::new(Vec::new()),
                })
                .collect(),
            current: AtomicUsize::new(0),
            rotating: AtomicBool::new(false),
            rotations: AtomicUsize::new(0),
        }
    }

    /// `SyncWriter::write_record`, restated.
    fn write(&self, id: u8, len: u64) {
        loop {
            // `current.load_full()`: Acquire, as ArcSwap's load.
            let seg = self.current.load(Ordering::Acquire);
            let segment = &self.segments[seg];
            let start = segment.size.fetch_add(len, Ordering::Relaxed);
            if start == 0 || start + len <= MAX {
                segment.records.lock().unwrap().push((id, len));
                return;
            }
            segment.size.fetch_sub(len, Ordering::Relaxed);
            if self
                .rotating
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                if self.current.load(Ordering::Acquire) == seg {
                    // Rename, open the new file, then `current.swap(new)` (AcqRel).
                    assert!(
                        seg + 1 < SEGMENTS,
                        "more rotations than the model has room for"
                    );
                    self.current.store(seg + 1, Ordering::Release);
                    self.rotations.fetch_add(1, Ordering::Relaxed);
                }
                self.rotating.store(false, Ordering::Release);
            } else {
                thread::yield_now();
            }
        }
    }
}

fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    use std::sync::atomic::{AtomicUsize as StdUsize, Ordering as StdOrdering};
    let executions = std::sync::Arc::new(StdUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    builder.check(move || {
        counter.fetch_add(1, StdOrdering::Relaxed);
        f();
    });
    println!(
        "loom explored {} executions",
        executions.load(StdOrdering::Relaxed)
    );
}

/// Two writers, two records each (6 and 5 bytes against a 10-byte limit): rotations are
/// needed and contended.
#[test]
fn rotation_flag_never_loses_duplicates_or_overfills() {
    model(|| {
        let m = Arc::new(Model::new());
        let handles: Vec<_> = [(1u8, 6u64), (2, 5)]
            .into_iter()
            .map(|(id, len)| {
                let m = Arc::clone(&m);
                thread::spawn(move || {
                    m.write(id, len);
                    m.write(id + 10, len);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let mut seen = Vec::new();
        for s in &m.segments {
            let records = s.records.lock().unwrap();
            let bytes: u64 = records.iter().map(|(_, len)| len).sum();
            assert!(
                bytes <= MAX || records.len() == 1,
                "overfull segment: {records:?}"
            );
            seen.extend(records.iter().map(|(id, _)| *id));
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 11, 12], "every record exactly once");
        let rotations = m.rotations.load(Ordering::Relaxed);
        assert!(rotations <= 3, "{rotations} rotations");
        assert_eq!(m.current.load(Ordering::Relaxed), rotations);
    });
}
