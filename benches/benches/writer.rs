//! The async [`Writer`]'s hot path: the caller's cost of one 100-byte record while the
//! consumer thread runs (writing the ring out to a real file in a temporary directory).
//!
//! - `writer/write_record_100B`: `Writer::write_record` of a preformatted 100-byte line.
//! - `writer/writeln_100B`: `writeln!` of the same line through the writer's
//!   `io::Write` (formatted in a ring reservation, one record per call).
//! - `writer/writeln_1000B`: the same with a 999-byte line (longer than the first
//!   reservation of 256 bytes and than the 512-byte stack buffer).
//! - `writer/write_record_100B_sustained`: `write_record` with the default 1 MiB ring,
//!   timed without pauses: once the ring is full the caller waits for the consumer, so
//!   this is the sustained per-record cost including the file `write`s.
//! - `writer/write_record_100B_uring` (with the `uring` feature, where the kernel
//!   allows io_uring): the first one with the consumer on io_uring (`Uring::Strict`).
//!
//! The first two (and the uring one) use a 64 MiB ring; each measured run writes at most
//! 20 000 records (2 MB, so the ring never fills and no call waits for the consumer),
//! then flushes outside the timed section. Every writer except the uring one sets
//! `Uring::Off` explicitly, since the `uring` feature makes `Uring::On` the default.
//!
//! Run: `cargo bench -p lethe-benches --bench writer` (add `--features uring` for the
//! io_uring case), then `python3 benches/summarize.py target/criterion` for the medians.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use lethe_benches::record;
use lethe_std::{Options, Uring, UringOptions, Writer, WriterOptions};

/// Records per timed run in the caller-side cases: 2 MB, far below the 64 MiB ring.
const RUN: u64 = 20_000;

fn open(dir: &Path, name: &str, ring: usize, uring: Uring) -> Result<Writer, lethe_std::Error> {
    let options = WriterOptions::default().buffer(ring).file(
        Options::default()
            .max_size(Some(256 << 20))
            .io_uring(UringOptions::default().mode(uring)),
    );
    Writer::open(dir.join(name), options)
}

/// Times `op(seq)` alone, in runs of at most [`RUN`] calls, calling `drain` (untimed)
/// after each run so that the ring never fills.
fn caller_side(b: &mut Bencher<'_>, mut op: impl FnMut(u64), mut drain: impl FnMut()) {
    let mut seq = 0u64;
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(RUN);
            let start = Instant::now();
            for _ in 0..n {
                op(seq);
                seq += 1;
            }
            total += start.elapsed();
            drain();
            left -= n;
        }
        total
    });
}

fn writer(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("writer");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_secs(1));

    let w = open(dir.path(), "record.log", 64 << 20, Uring::Off).unwrap();
    g.bench_function("write_record_100B", |b| {
        caller_side(
            b,
            |seq| w.write_record(black_box(&record(seq))).unwrap(),
            || w.flush().unwrap(),
        );
    });
    w.close().unwrap();

    let w = open(dir.path(), "writeln.log", 64 << 20, Uring::Off).unwrap();
    let mut line = w.clone();
    g.bench_function("writeln_100B", |b| {
        caller_side(
            b,
            |seq| {
                // 66 + 33 + 1 = 100 bytes.
                writeln!(
                    line,
                    "2026-11-23T00:41:07.123456Z INFO lethe::bench: request served seq={:033}",
                    black_box(seq)
                )
                .unwrap();
            },
            || w.flush().unwrap(),
        );
    });
    drop(line);
    w.close().unwrap();

    let w = open(dir.path(), "writeln_long.log", 64 << 20, Uring::Off).unwrap();
    let mut line = w.clone();
    let long = "x".repeat(960);
    g.bench_function("writeln_1000B", |b| {
        caller_side(
            b,
            |seq| {
                // 960 + 5 + 33 + 1 = 999 bytes.
                writeln!(line, "{long} seq={:033}", black_box(seq)).unwrap();
            },
            || w.flush().unwrap(),
        );
    });
    drop(line);
    w.close().unwrap();

    let w = open(dir.path(), "sustained.log", 1 << 20, Uring::Off).unwrap();
    let mut seq = 0u64;
    g.bench_function("write_record_100B_sustained", |b| {
        b.iter(|| {
            w.write_record(black_box(&record(seq))).unwrap();
            seq += 1;
        });
    });
    w.close().unwrap();

    if cfg!(feature = "uring") {
        match open(dir.path(), "uring.log", 64 << 20, Uring::Strict) {
            Ok(w) => {
                g.bench_function("write_record_100B_uring", |b| {
                    caller_side(
                        b,
                        |seq| w.write_record(black_box(&record(seq))).unwrap(),
                        || w.flush().unwrap(),
                    );
                });
                w.close().unwrap();
            }
            Err(e) => eprintln!("SKIP: writer/write_record_100B_uring: io_uring unavailable: {e}"),
        }
    }
    g.finish();
}

criterion_group!(benches, writer);
criterion_main!(benches);
