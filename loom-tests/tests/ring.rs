//! Loom model checks of the MPSC ring: 2 producers and 1 consumer on a small ring.
//!
//! Every interleaving (up to `LOOM_MAX_PREEMPTIONS`) is explored; loom reports any data
//! race on the ring's bytes (tracked per 8-byte slot), any unsynchronized read, and any
//! assertion failure: a torn, duplicated, lost or reordered record.
#![cfg(lethe_loom)]

use loom::sync::Arc;
use loom::thread;

use lethe_core::ring::Ring;

type OwnedRing = Ring<Box<[lethe_core::ring::Slot]>>;

/// Reads with `attempts` non-blocking polls while producers may still be running, then
/// (after the caller joined them) drains the rest. Returns every record seen, in order.
///
/// The polls are bounded instead of spinning until a count is reached: a spin loop makes
/// loom explore an unbounded number of schedules, while a bounded poll followed by a drain
/// still covers every interleaving of the consumer's reads with the producers' claims and
/// commits.
struct Reader {
    seen: Vec<Vec<u8>>,
}

impl Reader {
    fn poll(ring: &OwnedRing, attempts: usize) -> Reader {
        let mut c = ring.consumer().expect("only consumer");
        let mut seen = Vec::new();
        for _ in 0..attempts {
            if let Some(batch) = c.read() {
                seen.extend(batch.records().map(<[u8]>::to_vec));
                batch.release();
            }
        }
        drop(c);
        Reader { seen }
    }

    /// Drains whatever is left once every producer has finished.
    fn drain(mut self, ring: &OwnedRing) -> Vec<Vec<u8>> {
        let mut c = ring.consumer().expect("only consumer");
        while let Some(batch) = c.read() {
            self.seen.extend(batch.records().map(<[u8]>::to_vec));
            batch.release();
        }
        assert!(ring.is_empty(), "a drained ring is empty");
        self.seen
    }
}

/// Checks producer `producer`'s records: untorn, and exactly the indices `expected`, in order.
fn check_order(seen: &[Vec<u8>], producer: u8, expected: &[u8]) {
    let mine: Vec<u8> = seen
        .iter()
        .filter(|r| r[0] == producer)
        .map(|r| {
            assert!(
                r.iter().skip(2).all(|&b| b == producer),
                "torn record {r:?}"
            );
            r[1]
        })
        .collect();
    assert_eq!(mine, expected, "producer {producer}");
}

/// Runs `f` under loom with a branch budget that fits the CAS retry loops.
///
/// Prints how many executions loom explored, so CI logs show the model really ran.
fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let executions = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        f();
    });
    println!(
        "loom explored {} executions",
        executions.load(Ordering::Relaxed)
    );
}

fn record(producer: u8, i: u8, len: usize) -> Vec<u8> {
    let mut r = vec![producer; len];
    r[1] = i;
    r
}

/// A full 64-byte ring holding producer 7's records 0, 1 and 2 in frames of 16, 16 and
/// 32 bytes (single-threaded, before the model's threads start).
fn full_16_16_32() -> Arc<OwnedRing> {
    let ring = Arc::new(Ring::with_capacity(64).unwrap());
    ring.try_write(&record(7, 0, 8)).unwrap(); // frame 16 at [0, 16)
    ring.try_write(&record(7, 1, 8)).unwrap(); // frame 16 at [16, 32)
    ring.try_write(&record(7, 2, 24)).unwrap(); // frame 32 at [32, 64)
    ring
}

/// Consumes and releases the first record (racing the model's producers), returning it.
fn release_first(ring: &OwnedRing) -> Vec<u8> {
    let mut c = ring.consumer().unwrap();
    let first = c.read_up_to(1, usize::MAX).unwrap();
    let r0 = first.records().next().unwrap().to_vec();
    first.release();
    r0
}

/// Writes and consumes one record per entry of `payloads` (single-threaded, before the model's threads start) so the
/// producers' claims straddle the end of the buffer.
fn advance(ring: &OwnedRing, payloads: &[usize]) {
    let mut c = ring.consumer().unwrap();
    for &len in payloads {
        ring.try_write(&vec![0; len]).unwrap();
        c.read().unwrap().release();
    }
}

/// Two producers claim across the end of a 64-byte ring whose positions start at 40: one
/// frame ends exactly at the end or a padding frame fills the gap, depending on who wins.
/// The consumer reads concurrently. Each record arrives once, untorn.
#[test]
fn two_producers_wraparound_with_padding() {
    model(|| {
        let ring = Arc::new(Ring::with_capacity(64).unwrap());
        advance(&ring, &[16, 8]); // 24- and 16-byte frames: positions start at 40
        let handles: Vec<_> = [(1u8, 8usize), (2, 13)]
            .into_iter()
            .map(|(p, len)| {
                let ring = Arc::clone(&ring);
                // 16- and 24-byte frames: 40+16 leaves 8 bytes (padding), 40+24 = 64 exactly.
                thread::spawn(move || ring.try_write(&record(p, 0, len)).unwrap())
            })
            .collect();
        let reader = Reader::poll(&ring, 2);
        for h in handles {
            h.join().unwrap();
        }
        let seen = reader.drain(&ring);
        assert_eq!(seen.len(), 2);
        check_order(&seen, 1, &[0]);
        check_order(&seen, 2, &[0]);
    });
}

/// A 32-byte ring holds two 16-byte frames; two producers try two records each with
/// `write_or_drop` while the consumer reads once. Exactly the accepted records come out, in
/// order, the rejected ones are counted as dropped, and the drained ring accepts writes.
#[test]
fn full_ring_then_progress() {
    model(|| {
        let ring = Arc::new(Ring::with_capacity(32).unwrap());
        let handles: Vec<_> = (1..=2u8)
            .map(|p| {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    (0..2u8)
                        .filter(|&i| ring.write_or_drop(&record(p, i, 8)))
                        .collect::<Vec<u8>>()
                })
            })
            .collect();
        let reader = Reader::poll(&ring, 1);
        let accepted: Vec<Vec<u8>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let seen = reader.drain(&ring);
        check_order(&seen, 1, &accepted[0]);
        check_order(&seen, 2, &accepted[1]);
        let total = accepted[0].len() + accepted[1].len();
        assert!(total >= 2, "an empty 32-byte ring takes two 16-byte frames");
        assert_eq!(
            ring.dropped(),
            4 - total,
            "every rejected record is counted"
        );
        ring.try_write(&record(3, 0, 8))
            .expect("progress after draining");
    });
}

/// Two producers write two records each (the second ones wrap) while the consumer polls
/// twice: per-producer order holds across the wrap and under concurrent consumption.
#[test]
fn two_producers_two_records_each() {
    model(|| {
        let ring = Arc::new(Ring::with_capacity(128).unwrap());
        advance(&ring, &[48, 40]); // positions start at 104: the second frame wraps
        let handles: Vec<_> = (1..=2u8)
            .map(|p| {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    ring.try_write(&record(p, 0, 8)).unwrap();
                    ring.try_write(&record(p, 1, 4)).unwrap();
                })
            })
            .collect();
        let reader = Reader::poll(&ring, 2);
        for h in handles {
            h.join().unwrap();
        }
        let seen = reader.drain(&ring);
        check_order(&seen, 1, &[0, 1]);
        check_order(&seen, 2, &[0, 1]);
    });
}

/// The producers' head cache must carry the consumer's zeroing. The ring holds 16-, 16-
/// and 32-byte frames; the consumer frees the first. Producer A wants 32 bytes: it reloads
/// the real head, publishes it to the cache, and still finds no room. Producer B then
/// trusts the cached head and writes into the freed bytes without ever loading `head`
/// itself. Only the cache's Release/Acquire orders B's writes after the consumer's zeroing
/// (loom reports a race on those slots if the cache is Relaxed).
#[test]
fn head_cache_carries_the_consumers_zeroing() {
    model(|| {
        let ring = full_16_16_32();
        let ra = Arc::clone(&ring);
        let a = thread::spawn(move || ra.try_write(&record(1, 0, 24)).is_ok());
        let rb = Arc::clone(&ring);
        let b = thread::spawn(move || rb.try_write(&record(2, 0, 8)).is_ok());
        let r0 = release_first(&ring);
        let (a_ok, b_ok) = (a.join().unwrap(), b.join().unwrap());
        assert!(!a_ok, "32 bytes never fit in the 16 freed");
        let seen = Reader { seen: vec![r0] }.drain(&ring);
        check_order(&seen, 7, &[0, 1, 2]);
        check_order(&seen, 2, if b_ok { &[0] } else { &[] });
    });
}

/// `Ring::refresh_used` (the writer's half-ring check) publishes the consumer's head to
/// the producers' cache as a claim that does not fit does, so it must carry the zeroing
/// too. The ring is full; the consumer frees the first 16-byte frame while producer A only
/// refreshes and producer B writes an 8-byte record. When B finds room through the cache
/// A filled, it writes into the freed bytes without loading `head` itself.
#[test]
fn refresh_used_carries_the_consumers_zeroing() {
    model(|| {
        let ring = full_16_16_32();
        let ra = Arc::clone(&ring);
        let a = thread::spawn(move || ra.refresh_used());
        let rb = Arc::clone(&ring);
        let b = thread::spawn(move || rb.try_write(&record(2, 0, 8)).is_ok());
        let r0 = release_first(&ring);
        let (used, b_ok) = (a.join().unwrap(), b.join().unwrap());
        assert!((48..=64).contains(&used), "used {used}");
        let seen = Reader { seen: vec![r0] }.drain(&ring);
        check_order(&seen, 7, &[0, 1, 2]);
        check_order(&seen, 2, if b_ok { &[0] } else { &[] });
    });
}

/// One producer abandons its reservation (drop without commit) while another writes: the
/// consumer still receives every committed record and is never wedged.
#[test]
fn abandoned_reservation() {
    model(|| {
        let ring = Arc::new(Ring::with_capacity(64).unwrap());
        let r1 = Arc::clone(&ring);
        let t1 = thread::spawn(move || {
            let g = r1.reserve(16).unwrap();
            drop(g);
            r1.try_write(&record(1, 0, 8)).unwrap();
        });
        let r2 = Arc::clone(&ring);
        let t2 = thread::spawn(move || {
            r2.try_write(&record(2, 0, 8)).unwrap();
        });
        let reader = Reader::poll(&ring, 2);
        t1.join().unwrap();
        t2.join().unwrap();
        let seen = reader.drain(&ring);
        check_order(&seen, 1, &[0]);
        check_order(&seen, 2, &[0]);
    });
}

/// A reservation committed shorter than reserved gives its tail back while another producer
/// claims concurrently: the returned bytes are zeroed before anyone can claim them.
#[test]
fn shrinking_reservation_races_a_claim() {
    model(|| {
        let ring = Arc::new(Ring::with_capacity(64).unwrap());
        let r1 = Arc::clone(&ring);
        let t1 = thread::spawn(move || {
            let mut g = r1.reserve(24).unwrap();
            g.as_mut_slice().fill(1);
            g.as_mut_slice()[1] = 0;
            g.commit(8);
        });
        let r2 = Arc::clone(&ring);
        let t2 = thread::spawn(move || {
            r2.try_write(&record(2, 0, 8)).unwrap();
        });
        let reader = Reader::poll(&ring, 2);
        t1.join().unwrap();
        t2.join().unwrap();
        let seen = reader.drain(&ring);
        check_order(&seen, 1, &[0]);
        check_order(&seen, 2, &[0]);
    });
}

/// A wrapping read against a concurrent producer: records 0 and 1 (written before the
/// model's threads start) fill `[32, 64)` of a 64-byte ring; the producer writes records
/// 2 and 3 into `[0, 32)` and then tries record 4, which fits only at `[32, 48)` once the
/// consumer has released record 0. The consumer polls with `read_wrapping_up_to`, whose
/// batch may span the wrap point, and releases one record per poll (a partial release
/// across the wrap). Every accepted record comes out once, untorn, in order, and each
/// read says whether it stopped at an uncommitted frame (`reached_frontier`); loom checks
/// that the producer's reuse of the released space is ordered after the consumer's reads
/// and zeroing of it.
#[test]
fn wrapping_read_races_a_producer() {
    // Executions in which a batch spanned the wrap point (held record 2, at index 0).
    static SPANNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    model(|| {
        let ring = Arc::new(Ring::with_capacity(64).unwrap());
        advance(&ring, &[8, 8]); // positions start at 32
        ring.try_write(&record(1, 0, 8)).unwrap();
        ring.try_write(&record(1, 1, 8)).unwrap();
        let producer = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || {
                ring.try_write(&record(1, 2, 8)).unwrap();
                ring.try_write(&record(1, 3, 8)).unwrap();
                // Accepted only if the consumer has released record 0 by now.
                ring.try_write(&record(1, 4, 8)).is_ok()
            })
        };
        let mut seen = Vec::new();
        {
            let mut c = ring.consumer().expect("only consumer");
            for _ in 0..2 {
                if let Some(batch) = c.read_wrapping_up_to(usize::MAX, usize::MAX) {
                    // The committed records from the head: at most 0 to 3 (record 4 needs
                    // record 0's space, released only after this read).
                    let first: Vec<Vec<u8>> = batch.records().map(<[u8]>::to_vec).collect();
                    assert!((1..=4).contains(&first.len()), "batch of {}", first.len());
                    // With no limits, a read stops at an uncommitted frame, or at its own
                    // start when it holds the whole (full) ring: four 16-byte frames.
                    assert_eq!(
                        batch.reached_frontier(),
                        first.len() < 4,
                        "batch of {}",
                        first.len()
                    );
                    if first.len() >= 3 {
                        SPANNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    seen.push(first[0].clone());
                    batch.release_records(1);
                }
            }
        }
        let fourth = producer.join().unwrap();
        let mut c = ring.consumer().expect("only consumer");
        while let Some(batch) = c.read_wrapping_up_to(usize::MAX, usize::MAX) {
            seen.extend(batch.records().map(<[u8]>::to_vec));
            batch.release();
        }
        assert!(ring.is_empty(), "a drained ring is empty");
        let expected: Vec<u8> = if fourth {
            vec![0, 1, 2, 3, 4]
        } else {
            vec![0, 1, 2, 3]
        };
        check_order(&seen, 1, &expected);
    });
    let spanned = SPANNED.load(std::sync::atomic::Ordering::Relaxed);
    println!("{spanned} executions read a batch across the wrap point");
    assert!(spanned > 0, "the model never read across the wrap point");
}

/// The space of a wrapping batch's second span goes back to producers with the same
/// release: record 0 sits at `[48, 64)` of a 64-byte ring and records 1 and 2 at
/// `[0, 32)`; the producer writes record 3 at `[32, 48)`, then tries record 4 (at
/// `[48, 64)`, free once record 0 is released) and record 5 (at `[0, 16)`, free once record
/// 1, in the second span, is released). The consumer reads with `read_wrapping_up_to` and
/// releases whole batches. Loom checks that the producer's writes into the second span
/// are ordered after the consumer's reads and zeroing of it.
#[test]
fn wrapping_release_frees_the_second_span() {
    static SPANNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static FIFTH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    model(|| {
        let ring = Arc::new(Ring::with_capacity(64).unwrap());
        advance(&ring, &[8, 8, 8]); // positions start at 48
        for i in 0..3 {
            ring.try_write(&record(1, i, 8)).unwrap();
        }
        let producer = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || {
                ring.try_write(&record(1, 3, 8)).unwrap();
                let fourth = ring.try_write(&record(1, 4, 8)).is_ok();
                fourth && ring.try_write(&record(1, 5, 8)).is_ok()
            })
        };
        let mut seen = Vec::new();
        {
            let mut c = ring.consumer().expect("only consumer");
            for _ in 0..2 {
                if let Some(batch) = c.read_wrapping_up_to(usize::MAX, usize::MAX) {
                    if batch.record_count() >= 2 {
                        SPANNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    seen.extend(batch.records().map(<[u8]>::to_vec));
                    batch.release();
                }
            }
        }
        let fifth = producer.join().unwrap();
        let mut c = ring.consumer().expect("only consumer");
        while let Some(batch) = c.read_wrapping_up_to(usize::MAX, usize::MAX) {
            seen.extend(batch.records().map(<[u8]>::to_vec));
            batch.release();
        }
        assert!(ring.is_empty(), "a drained ring is empty");
        let n = seen.len() as u8;
        assert!(n >= 4, "records 0 to 3 always come out");
        if fifth {
            FIFTH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(n, 6);
        }
        check_order(&seen, 1, &(0..n).collect::<Vec<u8>>());
    });
    let spanned = SPANNED.load(std::sync::atomic::Ordering::Relaxed);
    let fifth = FIFTH.load(std::sync::atomic::Ordering::Relaxed);
    println!("{spanned} executions read across the wrap point; {fifth} reused its space");
    assert!(
        spanned > 0 && fifth > 0,
        "the model never reused a second span"
    );
}

/// The padding-only claim: a producer whose frame does not fit before the end of the
/// buffer, and whose padding plus frame exceeds the free space while the padding alone
/// fits, claims just the padding (so its record can start at index 0 once the consumer
/// catches up) and reports `Full`. Record 0 of producer 7 (a 32-byte frame) sits at
/// `[24, 56)` of a 64-byte ring, so producer A's 32-byte frame, tried at position 56,
/// needs the 8 bytes to the end as padding: 40 bytes against 32 free. A tries twice
/// while producer B writes a 16-byte record and the consumer reads one record per poll,
/// freeing record 0 at some point. Every accepted record comes out once, untorn, never
/// straddling the end of the buffer, in claim (= position) order, and the padding never
/// surfaces as a record.
#[test]
fn padding_only_claim_then_wrap() {
    // Executions in which A's first try failed and its record then went to index 0: the
    // padding in front of index 0 can only have been claimed by A's padding-only claim.
    static PADDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    model(|| {
        let ring = Arc::new(Ring::with_capacity(64).unwrap());
        advance(&ring, &[16]); // one 24-byte frame: positions start at 24
        ring.try_write(&record(7, 0, 24)).unwrap(); // frame 32 at [24, 56)
        let ra = Arc::clone(&ring);
        let a = thread::spawn(move || {
            let first = ra.try_write(&record(1, 0, 24)).is_ok();
            (first, first || ra.try_write(&record(1, 0, 24)).is_ok())
        });
        let rb = Arc::clone(&ring);
        let b = thread::spawn(move || rb.try_write(&record(2, 0, 8)).is_ok());
        // (record, consumed position right after it), one record per read.
        let mut seen: Vec<(Vec<u8>, usize)> = Vec::new();
        let read_one = |c: &mut lethe_core::ring::Consumer<'_, _>| {
            let batch = c.read_up_to(1, usize::MAX)?;
            let r: Vec<Vec<u8>> = batch.records().map(<[u8]>::to_vec).collect();
            batch.release();
            assert_eq!(r.len(), 1, "one record per read");
            Some((r.into_iter().next().unwrap(), ring.consumed_position()))
        };
        {
            let mut c = ring.consumer().expect("only consumer");
            for _ in 0..2 {
                if let Some(x) = read_one(&mut c) {
                    seen.push(x);
                }
            }
        }
        let (a_first, a_ok) = a.join().unwrap();
        let b_ok = b.join().unwrap();
        assert!(b_ok, "16 bytes always fit");
        {
            let mut c = ring.consumer().expect("only consumer");
            while let Some(x) = read_one(&mut c) {
                seen.push(x);
            }
        }
        assert!(ring.is_empty(), "a drained ring is empty");
        assert_eq!(
            seen.len(),
            2 + usize::from(a_ok),
            "padding is never a record"
        );
        let records: Vec<Vec<u8>> = seen.iter().map(|(r, _)| r.clone()).collect();
        check_order(&records, 7, &[0]);
        check_order(&records, 1, if a_ok { &[0] } else { &[] });
        check_order(&records, 2, &[0]);
        assert_eq!(records[0][0], 7, "record 0 was claimed first");
        let mut last = 56;
        for (r, end) in &seen[1..] {
            let frame = if r[0] == 1 { 32 } else { 16 };
            let start = end - frame;
            assert!(start >= last, "claim order: {start} after {last}");
            assert!(start % 64 + frame <= 64, "record straddles the end");
            assert!(start >= 64, "the 8 bytes before the end are padding");
            last = *end;
        }
        if !a_first && a_ok && seen.iter().any(|(r, end)| r[0] == 1 && *end == 96) {
            PADDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let padded = PADDED.load(std::sync::atomic::Ordering::Relaxed);
    println!("{padded} executions wrote a record after its own padding-only claim");
    assert!(padded > 0, "the model never took the padding-only claim");
}
