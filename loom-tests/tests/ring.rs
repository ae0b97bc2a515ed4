//! Loom model checks of the MPSC ring: 2 producers and 1 consumer on a small ring.
//!
//! Every interleaving (up to `LOOM_MAX_PREEMPTIONS`) is explored; loom reports any data
//! race on the ring's bytes (tracked per 8-byte slot), any unsynchronized read, and any
//! assertion failure: a torn, duplicated, lost or reordered record.
#![cfg(lethe_loom)]

use loom::sync::Arc;
use loom::thread;

use lethe_core::ring::{Ring, WriteError};

type OwnedRing = Ring<Box<[lethe_core::ring::Slot]>>;

/// Writes `rec`, retrying (with a loom yield) while the ring is full.
fn write_retry(ring: &OwnedRing, rec: &[u8]) {
    loop {
        match ring.try_write(rec) {
            Ok(()) => return,
            Err(WriteError::Full { .. }) => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
}

/// Consumes until `expected` records were seen; checks content and per-producer order.
fn consume(ring: &OwnedRing, expected: usize) -> Vec<Vec<u8>> {
    let mut c = ring.consumer().unwrap();
    let mut seen = Vec::new();
    while seen.len() < expected {
        match c.read() {
            Some(batch) => {
                for r in batch.records() {
                    seen.push(r.to_vec());
                }
                batch.release();
            }
            None => thread::yield_now(),
        }
    }
    assert!(c.read().is_none(), "no record may be duplicated");
    seen
}

fn check_order(seen: &[Vec<u8>], producer: u8, count: u8) {
    let mine: Vec<u8> = seen
        .iter()
        .filter(|r| r[0] == producer)
        .map(|r| {
            assert!(r.iter().skip(2).all(|&b| b == producer), "torn record {r:?}");
            r[1]
        })
        .collect();
    assert_eq!(mine, (0..count).collect::<Vec<_>>(), "producer {producer}");
}

/// Runs `f` under loom. Producers retry a full ring and the consumer polls an empty one,
/// each with `yield_now`, so executions are longer than loom's default branch budget.
fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    builder.check(f);
}

fn record(producer: u8, i: u8, len: usize) -> Vec<u8> {
    let mut r = vec![producer; len];
    r[1] = i;
    r
}

/// Two producers, two records each, on a 64-byte ring with 16-byte frames... plus a 24-byte
/// frame so the producers wrap with padding.
#[test]
fn two_producers_wraparound_with_padding() {
    model(|| {
        let ring = Arc::new(Ring::with_capacity(64).unwrap());
        let handles: Vec<_> = (1..=2u8)
            .map(|p| {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    write_retry(&ring, &record(p, 0, 8));
                    write_retry(&ring, &record(p, 1, 12 + p as usize));
                })
            })
            .collect();
        let seen = consume(&ring, 4);
        for h in handles {
            h.join().unwrap();
        }
        check_order(&seen, 1, 2);
        check_order(&seen, 2, 2);
    });
}

/// A ring that fills up: producers see `Full`, the consumer frees space, nothing is lost.
#[test]
fn full_ring_then_progress() {
    model(|| {
        // 32 bytes: exactly two 16-byte frames.
        let ring = Arc::new(Ring::with_capacity(32).unwrap());
        let handles: Vec<_> = (1..=2u8)
            .map(|p| {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    for i in 0..2 {
                        write_retry(&ring, &record(p, i, 8));
                    }
                })
            })
            .collect();
        let seen = consume(&ring, 4);
        for h in handles {
            h.join().unwrap();
        }
        check_order(&seen, 1, 2);
        check_order(&seen, 2, 2);
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
            write_retry(&r1, &record(1, 0, 8));
        });
        let r2 = Arc::clone(&ring);
        let t2 = thread::spawn(move || {
            write_retry(&r2, &record(2, 0, 8));
        });
        let seen = consume(&ring, 2);
        t1.join().unwrap();
        t2.join().unwrap();
        check_order(&seen, 1, 1);
        check_order(&seen, 2, 1);
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
            write_retry(&r2, &record(2, 0, 8));
        });
        let seen = consume(&ring, 2);
        t1.join().unwrap();
        t2.join().unwrap();
        check_order(&seen, 1, 1);
        check_order(&seen, 2, 1);
    });
}
