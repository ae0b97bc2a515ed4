//! Behaviour of the MPSC ring that users rely on: records come out whole, once, in each
//! producer's order; full and too-large are reported; abandoned reservations never wedge
//! the consumer.

use std::collections::HashMap;
use std::sync::Arc;

use lethe_core::ring::{HEADER_LEN, Ring, Slot, StaticRing, WriteError};

mod support;
use support::drain;

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
    let mut slots: Vec<Slot> = (0..6).map(|_| Slot::new()).collect();
    assert!(Ring::from_slots(&mut slots).is_err());
    let mut slots: Vec<Slot> = (0..8).map(|_| Slot::new()).collect();
    assert_eq!(Ring::from_slots(&mut slots).unwrap().capacity(), 64);
}

#[test]
fn a_ring_over_slots_an_earlier_ring_left_records_in_starts_empty() {
    let mut slots: Vec<Slot> = (0..16).map(|_| Slot::new()).collect();
    {
        let first = Ring::from_slots(&mut slots).unwrap();
        first.try_write(b"left behind").unwrap();
        first.try_write(b"unconsumed").unwrap();
    }
    // Those frames' headers would read as committed records: the new ring zeroes them.
    let second = Ring::from_slots(&mut slots).unwrap();
    let mut consumer = second.consumer().unwrap();
    assert!(
        consumer.read().is_none(),
        "nothing is left from the first ring"
    );
    second.try_write(b"fresh").unwrap();
    let batch = consumer.read().unwrap();
    let records: Vec<&[u8]> = batch.records().collect();
    assert_eq!(records, [&b"fresh"[..]]);
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
    many_producers_exactly_once(false);
}

#[test]
fn many_producers_exactly_once_in_order_with_wrapping_reads() {
    many_producers_exactly_once(true);
}

/// Four producers against one consumer reading with `read`, or with
/// `read_wrapping_up_to` (then in batches of at most 64 records, and releasing only half of
/// every seventh batch, so partial releases across the wrap happen under load too).
fn many_producers_exactly_once(wrapping: bool) {
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
    let cap = ring.capacity();
    let mut batches = 0usize;
    let mut wrapped = 0usize;
    while total < PRODUCERS as u64 * PER {
        // Wrapping reads start only once half the ring is in use (or the producers are
        // done), so that batches are large and many of them reach the wrap point.
        if wrapping && ring.used() < cap / 2 && !handles.iter().all(|h| h.is_finished()) {
            std::thread::yield_now();
            continue;
        }
        let before = ring.consumed_position();
        let batch = if wrapping {
            c.read_wrapping_up_to(64, usize::MAX)
        } else {
            c.read()
        };
        match batch {
            Some(b) => {
                batches += 1;
                let take = if wrapping && batches.is_multiple_of(7) {
                    b.record_count() / 2
                } else {
                    b.record_count()
                };
                for rec in b.records().take(take) {
                    let p = rec[rec.len() - 1];
                    assert!(rec[8..].iter().all(|&x| x == p), "torn record");
                    let i = u64::from_le_bytes(rec[..8].try_into().unwrap());
                    let n = next.entry(p).or_insert(0);
                    assert_eq!(i, *n, "producer {p} out of order or duplicated");
                    assert_eq!(rec.len(), 16 + (i % 50) as usize);
                    *n += 1;
                    total += 1;
                }
                b.release_records(take);
                // A batch that released past the physical end without stopping there.
                let released = ring.consumed_position() - before;
                if before % cap + released > cap {
                    wrapped += 1;
                }
            }
            None => std::thread::yield_now(),
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert!(c.read().is_none());
    // (`read` can count here too: a read that finds only the padding at the end releases
    // it and goes on from index 0.)
    println!("{wrapped} of {batches} batches spanned the wrap point");
    if wrapping {
        assert!(wrapped > 0, "no batch of {batches} spanned the wrap point");
    }
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

/// A 128-byte ring whose head sits at `head` (a multiple of 8), empty.
fn ring_with_head_at(head: usize) -> Ring<Box<[Slot]>> {
    let ring = Ring::with_capacity(128).unwrap();
    {
        let mut c = ring.consumer().unwrap();
        for _ in 0..head / 16 {
            ring.try_write(&[0xee; 8]).unwrap();
        }
        if head % 16 == 8 {
            ring.try_write(&[]).unwrap(); // a bare header
        }
        while let Some(batch) = c.read() {
            batch.release();
        }
    }
    assert_eq!(ring.consumed_position(), head);
    assert!(ring.is_empty());
    ring
}

/// 8-byte records `[i; 8]`, 16-byte frames.
fn rec(i: u8) -> [u8; 8] {
    [i; 8]
}

#[test]
fn wrapping_read_returns_records_across_the_wrap_in_order() {
    // Head at 48: five frames fit in [48, 128), three more go to [0, 48).
    let ring = ring_with_head_at(48);
    for i in 0..8 {
        ring.try_write(&rec(i)).unwrap();
    }
    assert_eq!(ring.used(), 128);
    let mut c = ring.consumer().unwrap();
    // The plain read stops at the physical end.
    let batch = c.read().unwrap();
    assert_eq!(batch.record_count(), 5);
    drop(batch); // not released: read again below
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.record_count(), 8);
    assert_eq!(batch.payload_bytes(), 64);
    let got: Vec<&[u8]> = batch.records().collect();
    let want: Vec<[u8; 8]> = (0..8).map(rec).collect();
    assert_eq!(got, want.iter().map(|r| &r[..]).collect::<Vec<_>>());
    assert_eq!(batch.records().len(), 8);
    batch.release();
    assert!(ring.is_empty());
    assert_eq!(ring.consumed_position(), 48 + 128);
    assert!(c.read_wrapping_up_to(usize::MAX, usize::MAX).is_none());
    // The space is reusable from the new head (index 48) on.
    for i in 8..16 {
        ring.try_write(&rec(i)).unwrap();
    }
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(
        batch.records().map(|r| r[0]).collect::<Vec<_>>(),
        (8..16).collect::<Vec<u8>>()
    );
    batch.release();
    assert!(ring.is_empty());
}

#[test]
fn wrapping_read_skips_the_padding_at_the_end() {
    // Head at 56: four frames fill [56, 120); the fifth does not fit in the last 8 bytes,
    // which become padding, and starts at 0.
    let ring = ring_with_head_at(56);
    for i in 0..6 {
        ring.try_write(&rec(i)).unwrap();
    }
    assert_eq!(ring.used(), 4 * 16 + 8 + 2 * 16);
    let mut c = ring.consumer().unwrap();
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(
        batch.records().map(|r| r[0]).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4, 5]
    );
    batch.release();
    assert!(ring.is_empty(), "the padding is released with the records");

    // A batch whose first span is nothing but the padding: the read consumes the padding
    // and the records after it come out in the same call.
    let ring = ring_with_head_at(120);
    {
        // A 16-byte frame does not fit in [120, 128): padding, then [0, 16).
        ring.try_write(&rec(7)).unwrap();
        ring.try_write(&rec(8)).unwrap();
    }
    let mut c = ring.consumer().unwrap();
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(
        batch.records().map(|r| r[0]).collect::<Vec<_>>(),
        vec![7, 8]
    );
    batch.release();
    assert!(ring.is_empty());
}

#[test]
fn wrapping_read_of_a_full_ring_stops_at_its_own_start() {
    for head in (0..128).step_by(16) {
        let ring = ring_with_head_at(head);
        for i in 0..8 {
            ring.try_write(&rec(i)).unwrap();
        }
        assert_eq!(ring.used(), 128, "full with the head at {head}");
        assert!(matches!(
            ring.try_write(&rec(9)),
            Err(WriteError::Full { .. })
        ));
        let mut c = ring.consumer().unwrap();
        let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
        assert_eq!(
            batch.records().map(|r| r[0]).collect::<Vec<_>>(),
            (0..8).collect::<Vec<u8>>(),
            "head at {head}"
        );
        batch.release();
        assert!(ring.is_empty());
        // And the ring works on: the same again.
        for i in 0..8 {
            ring.try_write(&rec(i)).unwrap();
        }
        let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
        assert_eq!(batch.record_count(), 8);
        batch.release();
        assert!(ring.is_empty());
    }
}

#[test]
fn wrapping_read_stops_at_an_uncommitted_frame_and_at_its_limits() {
    let ring = ring_with_head_at(96);
    for i in 0..2 {
        ring.try_write(&rec(i)).unwrap(); // [96, 128)
    }
    ring.try_write(&rec(2)).unwrap(); // [0, 16)
    let mut open = ring.reserve(8).unwrap(); // [16, 32), open
    ring.try_write(&rec(4)).unwrap(); // [32, 48), behind the open one
    let mut c = ring.consumer().unwrap();
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(
        batch.records().map(|r| r[0]).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    drop(batch);
    // The limits hold across the wrap: two records, or 16 bytes.
    let batch = c.read_wrapping_up_to(2, usize::MAX).unwrap();
    assert_eq!(
        batch.records().map(|r| r[0]).collect::<Vec<_>>(),
        vec![0, 1]
    );
    drop(batch);
    let batch = c.read_wrapping_up_to(usize::MAX, 23).unwrap();
    assert_eq!(batch.record_count(), 2);
    drop(batch);
    let batch = c.read_wrapping_up_to(3, 24).unwrap();
    assert_eq!(batch.record_count(), 3);
    batch.release();
    assert!(c.read_wrapping_up_to(usize::MAX, usize::MAX).is_none());
    open.push(&rec(3)).unwrap();
    open.commit_written();
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(
        batch.records().map(|r| r[0]).collect::<Vec<_>>(),
        vec![3, 4]
    );
    batch.release();
    assert!(ring.is_empty());
    assert!(
        c.read_wrapping_up_to(0, usize::MAX).is_none(),
        "no room for a record"
    );
}

#[test]
fn partial_release_across_the_wrap_frees_exactly_a_prefix() {
    // Head at 56 as above: records 0..4 in [56, 120), padding [120, 128), 4 and 5 at 0.
    for k in 0..=6 {
        let ring = ring_with_head_at(56);
        for i in 0..6 {
            ring.try_write(&rec(i)).unwrap();
        }
        let used = ring.used();
        let mut c = ring.consumer().unwrap();
        let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
        assert_eq!(batch.record_count(), 6);
        batch.release_records(k);
        // The padding goes with the fifth record's release (it lies before it).
        let freed = k * 16 + if k >= 5 { 8 } else { 0 };
        assert_eq!(ring.used(), used - freed, "after releasing {k}");
        let rest: Vec<u8> = match c.read_wrapping_up_to(usize::MAX, usize::MAX) {
            Some(b) => {
                let rest = b.records().map(|r| r[0]).collect();
                b.release();
                rest
            }
            None => Vec::new(),
        };
        assert_eq!(
            rest,
            (k as u8..6).collect::<Vec<u8>>(),
            "after releasing {k}"
        );
        assert!(ring.is_empty());
    }
}

#[test]
fn sealed_ring_finishes_after_one_wrapping_read() {
    let ring = ring_with_head_at(80);
    for i in 0..6 {
        ring.try_write(&rec(i)).unwrap();
    }
    let end = ring.seal();
    assert_eq!(end, 80 + 6 * 16);
    let mut c = ring.consumer().unwrap();
    assert!(!c.is_finished());
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.record_count(), 6);
    batch.release();
    assert!(
        c.is_finished(),
        "everything claimed before the seal was read"
    );
    assert!(c.read_wrapping_up_to(usize::MAX, usize::MAX).is_none());
}

/// A ring placed for huge pages holds exactly its capacity and keeps every record through
/// several wraps, like any other ring; a small one falls back to the plain allocation.
#[test]
fn huge_page_ring_behaves_like_any_ring() {
    use lethe_core::ring::HUGE_PAGE_MIN;
    for bytes in [64, HUGE_PAGE_MIN, 4 * HUGE_PAGE_MIN] {
        let ring = Ring::with_capacity_huge(bytes).unwrap();
        assert_eq!(ring.capacity(), bytes);
        let mut consumer = ring.consumer().unwrap();
        let line = [0x5a_u8; 20];
        let total = 3 * bytes / 32; // three laps of 32-byte frames
        let (mut written, mut read) = (0usize, 0usize);
        while read < total {
            while written < total && ring.try_write(&line[..(written % 20) + 1]).is_ok() {
                written += 1;
            }
            let batch = consumer.read().unwrap();
            for r in batch.records() {
                assert_eq!(r, &line[..(read % 20) + 1], "record {read}");
                read += 1;
            }
            batch.release();
        }
        assert!(ring.is_empty());
    }
    assert_eq!(
        Ring::with_capacity_huge(3 << 20).unwrap_err().bytes,
        3 << 20,
        "not a power of two"
    );
}

#[test]
fn reached_frontier_tells_a_caught_up_read_from_a_limited_one() {
    // Everything committed taken, in the first span: at the frontier.
    let ring = ring_with_head_at(0);
    let mut c = ring.consumer().unwrap();
    for i in 0..3 {
        ring.try_write(&rec(i)).unwrap();
    }
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.record_count(), 3);
    assert!(batch.reached_frontier());
    drop(batch);
    // Stopped by the record limit or the byte limit: not at the frontier.
    let batch = c.read_wrapping_up_to(2, usize::MAX).unwrap();
    assert!(!batch.reached_frontier());
    drop(batch);
    let batch = c.read_up_to(usize::MAX, 16).unwrap();
    assert_eq!(batch.record_count(), 2);
    assert!(!batch.reached_frontier());
    batch.release();
    // A limit that falls on the last committed record: the read saw the uncommitted
    // frame after it before any limit applied, so it is at the frontier.
    let batch = c.read_up_to(1, usize::MAX).unwrap();
    assert!(batch.reached_frontier());
    batch.release();
    assert!(ring.is_empty());

    // Head at 96: [96, 128) holds two records, [0, 16) a third, then an open reservation.
    let ring = ring_with_head_at(96);
    let mut c = ring.consumer().unwrap();
    for i in 0..3 {
        ring.try_write(&rec(i)).unwrap();
    }
    let mut open = ring.reserve(8).unwrap();
    // A plain read stops at the physical end: whether more is committed is unknown.
    let batch = c.read().unwrap();
    assert_eq!(batch.record_count(), 2);
    assert!(!batch.reached_frontier());
    drop(batch);
    // A wrapping read goes on and stops at the open reservation: at the frontier.
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.record_count(), 3);
    assert!(batch.reached_frontier());
    batch.release();
    open.push(&rec(3)).unwrap();
    open.commit_written();
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert!(batch.reached_frontier());
    batch.release();
    assert!(ring.is_empty());

    // A full ring, read whole: the read stops at its own start, not at an uncommitted
    // frame (the producers may be waiting to write more).
    let ring = ring_with_head_at(48);
    let mut c = ring.consumer().unwrap();
    for i in 0..8 {
        ring.try_write(&rec(i)).unwrap();
    }
    let batch = c.read_wrapping_up_to(usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.record_count(), 8);
    assert!(!batch.reached_frontier());
    batch.release();
    assert!(ring.is_empty());
}
