//! The ring's cost per 100-byte record, against `crossbeam-channel` with `Vec<u8>`
//! messages (what tracing-appender's non-blocking writer uses) and a plain `memcpy` of the
//! same bytes, all in one run so the ratios are fair.
//!
//! Groups (per-record times; criterion's throughput is records):
//! - `single_producer/*`: one thread writes a batch of records, then consumes the batch.
//!   Write + consume per record, no cross-core traffic: the ring's own cost.
//! - `threaded/*_1p` and `threaded/*_2p`: 1 or 2 producer threads write while the bench
//!   thread consumes concurrently; time from start until every record was consumed.
//!
//! Run: `cargo bench -p lethe-benches --bench ring`, then `python3 benches/summarize.py`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lethe_benches::{RECORD_LEN, drain, record};
use lethe_core::ring::{Ring, WriteError};

/// Records per measured iteration in the single-producer group.
const BATCH: usize = 1000;
/// Ring capacity: holds a whole batch with room to spare.
const RING_BYTES: usize = 256 * 1024;

fn single_producer(c: &mut Criterion) {
    let rec = record(42);
    for (group, batch) in [
        ("single_producer", BATCH),
        ("single_producer_batch100", 100),
    ] {
        let mut g = c.benchmark_group(group);
        g.throughput(Throughput::Elements(batch as u64));

        let ring = Ring::with_capacity(RING_BYTES).unwrap();
        g.bench_function("lethe_ring", |b| {
            let mut consumer = ring.consumer().unwrap();
            b.iter(|| {
                for _ in 0..batch {
                    ring.try_write(black_box(&rec)).unwrap();
                }
                black_box(drain(&mut consumer))
            });
        });

        g.bench_function("lethe_ring_reserve", |b| {
            let mut consumer = ring.consumer().unwrap();
            b.iter(|| {
                for _ in 0..batch {
                    let mut grant = ring.reserve(RECORD_LEN).unwrap();
                    grant.push(black_box(&rec)).unwrap();
                    grant.commit_written();
                }
                black_box(drain(&mut consumer))
            });
        });

        g.bench_function("crossbeam_vec", |b| {
            let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(batch);
            b.iter(|| {
                for _ in 0..batch {
                    tx.send(black_box(&rec).to_vec()).unwrap();
                }
                let mut bytes = 0usize;
                for m in rx.try_iter() {
                    bytes += m.len();
                }
                black_box(bytes)
            });
        });

        g.bench_function("memcpy", |b| {
            let mut buf = vec![0u8; batch * RECORD_LEN];
            b.iter(|| {
                for chunk in buf.chunks_exact_mut(RECORD_LEN) {
                    chunk.copy_from_slice(black_box(&rec));
                }
                black_box(&buf);
            });
        });
        g.finish();
    }
}

/// Runs `producers` threads that each write `per_producer` records with `write` while the
/// calling thread runs `consume` until it returns true; returns the elapsed time.
fn threaded<W, C>(producers: usize, per_producer: u64, write: W, mut consume: C) -> Duration
where
    W: Fn(&[u8; RECORD_LEN]) + Sync,
    C: FnMut() -> bool,
{
    let start = Barrier::new(producers + 1);
    std::thread::scope(|s| {
        for p in 0..producers {
            let (start, write) = (&start, &write);
            s.spawn(move || {
                let rec = record(p as u64);
                start.wait();
                for _ in 0..per_producer {
                    write(&rec);
                }
            });
        }
        start.wait();
        let t0 = Instant::now();
        while !consume() {}
        t0.elapsed()
    })
}

fn threaded_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("threaded");
    const PER_ITER: u64 = 1000;
    g.throughput(Throughput::Elements(PER_ITER));
    for producers in [1usize, 2] {
        g.bench_function(format!("lethe_ring_{producers}p"), |b| {
            b.iter_custom(|iters| {
                let total = iters * PER_ITER;
                let per_producer = total / producers as u64;
                let ring = Ring::with_capacity(RING_BYTES).unwrap();
                let mut consumer = ring.consumer().unwrap();
                let mut seen = 0u64;
                threaded(
                    producers,
                    per_producer,
                    |rec| loop {
                        match ring.try_write(rec) {
                            Ok(()) => return,
                            Err(WriteError::Full { .. }) => std::thread::yield_now(),
                            Err(e) => panic!("{e}"),
                        }
                    },
                    || {
                        let d = drain(&mut consumer);
                        if d.records == 0 {
                            std::thread::yield_now();
                        }
                        seen += d.records;
                        seen == per_producer * producers as u64
                    },
                )
            });
        });
        g.bench_function(format!("crossbeam_vec_{producers}p"), |b| {
            b.iter_custom(|iters| {
                let total = iters * PER_ITER;
                let per_producer = total / producers as u64;
                let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(RING_BYTES / 128);
                let mut seen = 0u64;
                threaded(
                    producers,
                    per_producer,
                    |rec| tx.send(rec.to_vec()).unwrap(),
                    || {
                        let m = rx.recv().unwrap();
                        black_box(m.len());
                        seen += 1;
                        seen == per_producer * producers as u64
                    },
                )
            });
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = single_producer, threaded_group
}
criterion_main!(benches);
