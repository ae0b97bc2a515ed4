//! `Ring::prefault` maps the buffer without changing what it holds.

use lethe_core::ring::Ring;

#[test]
fn prefault_keeps_committed_records_and_the_ring_keeps_working() {
    let mut ring = Ring::with_capacity(1 << 16).unwrap();
    ring.prefault(); // a fresh ring
    for i in 0..100u32 {
        ring.try_write(format!("record {i}").as_bytes()).unwrap();
    }
    // An uncommitted reservation would hold `&ring`; with `&mut` nothing is in flight.
    ring.prefault();
    let mut seen = Vec::new();
    {
        let mut consumer = ring.consumer().unwrap();
        while let Some(batch) = consumer.read() {
            seen.extend(
                batch
                    .records()
                    .map(|r| String::from_utf8(r.to_vec()).unwrap()),
            );
            batch.release();
        }
    }
    let want: Vec<String> = (0..100).map(|i| format!("record {i}")).collect();
    assert_eq!(seen, want);
    // Around the wrap as well: every header position still reads as uncommitted.
    ring.prefault();
    for i in 0..2000u32 {
        ring.try_write(format!("again {i}").as_bytes()).unwrap();
        let mut consumer = ring.consumer().unwrap();
        let batch = consumer.read().unwrap();
        assert_eq!(
            batch.records().next().unwrap(),
            format!("again {i}").as_bytes()
        );
        assert_eq!(batch.record_count(), 1);
        batch.release();
    }
}
