//! Shared pieces of Lethe's benchmarks: the records they write and the consumers they run.
//!
//! The benchmarks themselves are in `benches/` (run `cargo bench -p lethe-benches`), and
//! `summarize.py` turns criterion's output into the tables in `docs/BENCHMARKS.md`. They
//! live in their own crate so that the comparison crates (crossbeam-channel) never enter
//! the library's dependency tree.

use lethe_core::ring::{Consumer, Storage};

pub mod compare;

/// Payload length of one benchmark record: a typical short log line.
pub const RECORD_LEN: usize = 100;

/// A deterministic `RECORD_LEN`-byte log line (`seq` makes each one different).
pub fn record(seq: u64) -> [u8; RECORD_LEN] {
    let mut r = [b' '; RECORD_LEN];
    let head = b"2026-11-23T00:41:07.123456Z INFO lethe::bench: request served seq=";
    r[..head.len()].copy_from_slice(head);
    let mut n = seq;
    let mut i = RECORD_LEN - 2;
    loop {
        r[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == head.len() {
            break;
        }
        i -= 1;
    }
    r[RECORD_LEN - 1] = b'\n';
    r
}

/// What a consumer saw.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Records read.
    pub records: u64,
    /// Payload bytes read.
    pub bytes: u64,
}

/// Records per consumer batch: what one `writev` would take (well under `IOV_MAX`).
pub const CONSUMER_BATCH: usize = 64;

/// Reads and releases every committed record in batches of up to [`CONSUMER_BATCH`],
/// touching each one's length (as a writer handing the slices to `writev` would). Returns
/// what it read.
pub fn drain<S: Storage>(consumer: &mut Consumer<'_, S>) -> Drained {
    let mut d = Drained::default();
    while let Some(batch) = consumer.read_up_to(CONSUMER_BATCH, usize::MAX) {
        for r in batch.records() {
            d.records += 1;
            d.bytes += r.len() as u64;
        }
        batch.release();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use lethe_core::ring::Ring;

    #[test]
    fn records_are_distinct_lines_of_the_stated_length() {
        let a = record(1);
        let b = record(123_456);
        assert_eq!(a.len(), RECORD_LEN);
        assert_ne!(a, b);
        assert!(a.starts_with(b"2026-11-23T00:41:07.123456Z INFO"));
        assert!(a.ends_with(b" 1\n"));
        assert!(b.ends_with(b"123456\n"));
    }

    #[test]
    fn drain_counts_what_was_written() {
        let ring = Ring::with_capacity(4096).unwrap();
        for i in 0..10 {
            ring.try_write(&record(i)).unwrap();
        }
        let mut c = ring.consumer().unwrap();
        assert_eq!(
            drain(&mut c),
            Drained {
                records: 10,
                bytes: 10 * RECORD_LEN as u64
            }
        );
        assert!(ring.is_empty());
    }
}
