//! The ring's hot paths allocate nothing: `try_write`, `write_or_drop`, `reserve` + push /
//! `fmt::Write` + commit, abandoning a reservation, and consuming with `read` or
//! `read_wrapping_up_to` + `release` / `release_records`.
//!
//! A counting global allocator records every allocation the test's thread makes while a
//! scenario runs (per thread, so the harness's own threads cannot make it flaky).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use lethe_core::ring::{Ring, StaticRing, WriteError};

struct Counting;

thread_local! {
    /// Set while this thread runs a measured scenario: only its allocations count, not
    /// those of the test harness's other threads.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` unchanged; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations it made.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed)
}

fn drain<S: lethe_core::ring::Storage>(
    consumer: &mut lethe_core::ring::Consumer<'_, S>,
    seen: &mut usize,
    bytes: &mut usize,
) {
    while let Some(batch) = consumer.read() {
        for r in batch.records() {
            *seen += 1;
            *bytes += r.len();
        }
        batch.release();
    }
}

/// Drains with reads that go on past the wrap point, releasing half of each batch first.
fn drain_wrapping<S: lethe_core::ring::Storage>(
    consumer: &mut lethe_core::ring::Consumer<'_, S>,
    seen: &mut usize,
    bytes: &mut usize,
) {
    while let Some(batch) = consumer.read_wrapping_up_to(usize::MAX, usize::MAX) {
        let half = batch.record_count() / 2;
        for r in batch.records().take(half) {
            *seen += 1;
            *bytes += r.len();
        }
        batch.release_records(half);
        let Some(batch) = consumer.read_wrapping_up_to(usize::MAX, usize::MAX) else {
            unreachable!("half a batch is left");
        };
        for r in batch.records() {
            *seen += 1;
            *bytes += r.len();
        }
        batch.release();
    }
}

#[test]
fn write_reserve_and_consume_allocate_nothing() {
    // The counter itself works: one Vec is one allocation.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 10]))), 1);

    let ring = Ring::with_capacity(64 * 1024).unwrap();
    let record = [b'x'; 100];
    let mut consumer = ring.consumer().unwrap();
    let mut seen = 0usize;
    let mut bytes = 0usize;

    let n = allocations(|| {
        for round in 0..200 {
            for _ in 0..100 {
                ring.try_write(&record).unwrap();
            }
            // Fill the ring: the refusal allocates nothing and is counted.
            while ring.write_or_drop(&record) {}
            // Odd rounds read across the wrap point (the head is mid-buffer by then).
            if round % 2 == 0 {
                drain(&mut consumer, &mut seen, &mut bytes);
            } else {
                drain_wrapping(&mut consumer, &mut seen, &mut bytes);
            }
            let mut g = ring.reserve(64).unwrap();
            write!(g, "round {round} of {}", 200).unwrap();
            g.commit_written();
            let mut g = ring.reserve(32).unwrap();
            g.as_mut_slice()[..3].copy_from_slice(b"abc");
            g.commit(3);
            drop(ring.reserve(16).unwrap()); // abandoned: becomes padding or is given back
            drain(&mut consumer, &mut seen, &mut bytes);
        }
    });
    assert_eq!(n, 0, "hot paths allocated {n} times");
    assert!(seen > 200 * 102, "consumed {seen} records");
    assert!(bytes > 0);
    assert_eq!(ring.dropped(), 200, "one refused write per round");

    // The embedded flavour: a static ring, same paths.
    static RING: StaticRing<64> = StaticRing::new();
    let n = allocations(|| {
        let mut c = RING.consumer().unwrap();
        for i in 0..1000u32 {
            RING.try_write(&i.to_le_bytes()).unwrap();
            let batch = c.read().unwrap();
            assert_eq!(batch.records().next(), Some(&i.to_le_bytes()[..]));
            batch.release();
        }
    });
    assert_eq!(n, 0, "static ring allocated {n} times");

    // Sealing, the refusals after it, and finishing the sealed ring.
    let sealed = Ring::with_capacity(1024).unwrap();
    sealed.try_write(&record).unwrap();
    let mut c = sealed.consumer().unwrap();
    let n = allocations(|| {
        sealed.seal();
        for _ in 0..100 {
            assert_eq!(sealed.try_write(&record), Err(WriteError::Sealed));
            assert!(matches!(sealed.reserve(8), Err(WriteError::Sealed)));
        }
        c.read().unwrap().release();
        assert!(c.is_finished());
    });
    assert_eq!(n, 0, "sealing allocated {n} times");
}
