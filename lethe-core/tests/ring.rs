//! Behaviour of the MPSC ring that users rely on: records come out whole, once, in each
//! producer's order; full and too-large are reported; abandoned reservations never wedge
//! the consumer.

use std::collections::HashMap;
use std::sync::Arc;

use lethe_core::ring::{HEADER_LEN, Ring, Slot, StaticRing, WriteError};

fn drain<S: lethe_core::ring::Storage>(ring: &Ring<S>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut c = ring.consumer().unwrap();
    while let Some(batch) = c.read() {
        out.extend(batch.records().map(<[u8]>::to_vec));
        batch.release();
    }
    out
}

#[test]
fn records_round_trip_in_order_with_wraparound() {
    let ring = Ring::with_capacity(256).unwrap();
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for i in 0..1000u32 {
        let rec = format!("record {i} {}", "x".repeat((i % 37) as usize));
        loop {
            match ring.try_write(rec.as_bytes()) {
                Ok(()) => break,
                Err(WriteError::Full { .. }) => got.extend(drain(&ring)),
                Err(e) => panic!("{e}"),
            }
        }
        expected.push(rec.into_bytes());
    }
    got.extend(drain(&ring));
    assert_eq!(got, expected);
    assert!(ring.is_empty());
}

#[test]
fn full_ring_says_so_and_recovers() {
    let ring = Ring::with_capacity(64).unwrap();
    // 24-byte payload -> 32-byte frame: two fit.
    ring.try_write(&[1; 24]).unwrap();
    ring.try_write(&[2; 24]).unwrap();
    let err = ring.try_write(&[3; 24]).unwrap_err();
    assert_eq!(
        err,
        WriteError::Full {
            needed: 32,
            free: 0
        }
    );
    assert!(err.to_string().contains("full"), "{err}");
    assert!(!ring.write_or_drop(&[3; 24]));
    assert_eq!(ring.dropped(), 1);
    assert_eq!(drain(&ring), vec![vec![1; 24], vec![2; 24]]);
    ring.try_write(&[3; 24]).unwrap();
    assert_eq!(drain(&ring), vec![vec![3; 24]]);
}

#[test]
fn too_large_is_reported_and_max_record_fits() {
    let ring = Ring::with_capacity(64).unwrap();
    let max = ring.max_record_len();
    assert_eq!(max, 32 - HEADER_LEN);
    let err = ring.try_write(&vec![0; max + 1]).unwrap_err();
    assert_eq!(err, WriteError::TooLarge { len: max + 1, max });
    assert!(err.to_string().contains("larger than"), "{err}");
    // An empty ring takes a maximum-size record wherever its positions stand.
    let big = vec![9u8; max];
    for offset in 0..8 {
        for _ in 0..offset {
            ring.try_write(&[7; 1]).unwrap();
            drain(&ring);
        }
        ring.try_write(&big).unwrap();
        assert_eq!(drain(&ring), vec![big.clone()], "offset {offset}");
    }
}

#[test]
fn capacity_is_validated() {
    for bad in [0usize, 8, 16, 24, 100, 1 << 32] {
        let err = Ring::with_capacity(bad).unwrap_err();
        assert!(err.to_string().contains("power of two"), "{err}");
    }
    let slots: Vec<Slot> = (0..6).map(|_| Slot::new()).collect();
    assert!(Ring::from_slots(&slots).is_err());
    let slots: Vec<Slot> = (0..8).map(|_| Slot::new()).collect();
    assert_eq!(Ring::from_slots(&slots).unwrap().capacity(), 64);
}

#[test]
fn static_ring_works_without_alloc_api() {
    static RING: StaticRing<16> = StaticRing::new();
    RING.try_write(b"boot").unwrap();
    let mut c = RING.consumer().unwrap();
    assert!(RING.consumer().is_none(), "only one consumer at a time");
    let b = c.read().unwrap();
    assert_eq!(b.records().collect::<Vec<_>>(), [b"boot"]);
    b.release();
    drop(c);
    assert!(RING.consumer().is_some());
}

#[test]
fn reservation_commits_shorter_and_gives_space_back() {
    let ring = Ring::with_capacity(256).unwrap();
    let mut g = ring.reserve(100).unwrap();
    g.as_mut_slice()[..5].copy_from_slice(b"hello");
    g.as_mut_slice()[50] = 0xff; // dirty beyond what is committed
    g.commit(5);
    // The frame shrank to 16 bytes: the rest went back to the ring.
    assert_eq!(ring.used(), 16);
    // The returned space was zeroed: a following record is read correctly.
    ring.try_write(b"world").unwrap();
    assert_eq!(drain(&ring), vec![b"hello".to_vec(), b"world".to_vec()]);
}

#[test]
fn reservation_behind_a_later_claim_keeps_its_frame() {
    let ring = Ring::with_capacity(256).unwrap();
    let mut g = ring.reserve(64).unwrap();
    ring.try_write(b"second").unwrap();
    g.push(b"first").unwrap();
    g.commit_written();
    assert_eq!(drain(&ring), vec![b"first".to_vec(), b"second".to_vec()]);
}

#[test]
fn abandoned_reservation_never_wedges_the_consumer() {
    let ring = Ring::with_capacity(256).unwrap();
    let g = ring.reserve(40).unwrap();
    ring.try_write(b"after").unwrap();
    drop(g); // not the last claim: becomes padding
    assert_eq!(drain(&ring), vec![b"after".to_vec()]);

    let g = ring.reserve(40).unwrap();
    drop(g); // the last claim: space handed back
    assert!(ring.is_empty());
    ring.try_write(b"next").unwrap();
    assert_eq!(drain(&ring), vec![b"next".to_vec()]);
}

#[test]
fn panicking_producer_does_not_wedge_the_consumer() {
    let ring = Arc::new(Ring::with_capacity(256).unwrap());
    let r = Arc::clone(&ring);
    let res = std::thread::spawn(move || {
        let mut g = r.reserve(32).unwrap();
        r.try_write(b"survivor").unwrap();
        g.push(b"half a rec").unwrap();
        panic!("formatter failed");
    })
    .join();
    assert!(res.is_err());
    assert_eq!(drain(&ring), vec![b"survivor".to_vec()]);
}

#[test]
fn fmt_write_into_grant_and_overflow_is_reported() {
    use std::fmt::Write as _;
    let ring = Ring::with_capacity(128).unwrap();
    let mut g = ring.reserve(8).unwrap();
    assert!(write!(g, "{}", 123_456_789).is_err());
    let full = g.push(b"123456789").unwrap_err();
    assert_eq!((full.needed, full.remaining), (9, 8));
    write!(g, "1234").unwrap();
    g.commit_written();
    assert_eq!(drain(&ring), vec![b"1234".to_vec()]);
}

#[test]
fn read_up_to_limits_the_batch() {
    let ring = Ring::with_capacity(1024).unwrap();
    for i in 0..10u8 {
        ring.try_write(&[i; 10]).unwrap();
    }
    let mut c = ring.consumer().unwrap();
    let b = c.read_up_to(3, usize::MAX).unwrap();
    assert_eq!(b.record_count(), 3);
    b.release();
    let b = c.read_up_to(usize::MAX, 25).unwrap();
    assert_eq!((b.record_count(), b.payload_bytes()), (2, 20));
    b.release();
    // An unreleased grant leaves its records in place.
    let b = c.read().unwrap();
    assert_eq!(b.record_count(), 5);
    drop(b);
    assert_eq!(c.read().unwrap().record_count(), 5);
}

#[test]
fn positions_count_bytes() {
    let ring = Ring::with_capacity(64).unwrap();
    ring.try_write(&[0; 8]).unwrap();
    assert_eq!(ring.claimed_position(), 16);
    assert_eq!(ring.used(), 16);
    drain(&ring);
    assert_eq!(ring.consumed_position(), 16);
    assert_eq!(ring.used(), 0);
}

#[test]
fn many_producers_exactly_once_in_order() {
    const PRODUCERS: usize = 4;
    const PER: u64 = 50_000;
    let ring = Arc::new(Ring::with_capacity(4096).unwrap());
    let handles: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                for i in 0..PER {
                    let len = 16 + (i % 50) as usize;
                    let mut rec = vec![p as u8; len];
                    rec[..8].copy_from_slice(&i.to_le_bytes());
                    if i % 3 == 0 {
                        loop {
                            match ring.reserve(len + 20) {
                                Ok(mut g) => {
                                    g.push(&rec).unwrap();
                                    g.commit_written();
                                    break;
                                }
                                Err(_) => std::thread::yield_now(),
                            }
                        }
                    } else {
                        while ring.try_write(&rec).is_err() {
                            std::thread::yield_now();
                        }
                    }
                }
            })
        })
        .collect();
    let mut next: HashMap<u8, u64> = HashMap::new();
    let mut total = 0u64;
    let mut c = ring.consumer().unwrap();
    while total < PRODUCERS as u64 * PER {
        match c.read() {
            Some(b) => {
                for rec in b.records() {
                    let p = rec[rec.len() - 1];
                    assert!(rec[8..].iter().all(|&x| x == p), "torn record");
                    let i = u64::from_le_bytes(rec[..8].try_into().unwrap());
                    let n = next.entry(p).or_insert(0);
                    assert_eq!(i, *n, "producer {p} out of order or duplicated");
                    assert_eq!(rec.len(), 16 + (i % 50) as usize);
                    *n += 1;
                    total += 1;
                }
                b.release();
            }
            None => std::thread::yield_now(),
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert!(c.read().is_none());
    assert_eq!(next.values().sum::<u64>(), PRODUCERS as u64 * PER);
}

#[test]
fn release_records_frees_a_prefix_and_keeps_the_rest() {
    let ring = Ring::with_capacity(256).unwrap();
    for i in 0..5u8 {
        ring.try_write(&[i; 10]).unwrap();
    }
    let mut c = ring.consumer().unwrap();
    let used = ring.used();
    let batch = c.read().unwrap();
    assert_eq!(batch.record_count(), 5);
    batch.release_records(2);
    assert_eq!(ring.used(), used - 2 * 24);
    let batch = c.read().unwrap();
    let rest: Vec<Vec<u8>> = batch.records().map(<[u8]>::to_vec).collect();
    assert_eq!(rest, vec![vec![2; 10], vec![3; 10], vec![4; 10]]);
    batch.release_records(0);
    let batch = c.read().unwrap();
    assert_eq!(batch.record_count(), 3);
    batch.release_records(99);
    assert!(ring.is_empty());
}
