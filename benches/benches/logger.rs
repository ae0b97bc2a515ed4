//! The structured logger's caller-side cost, in one run with its baselines:
//!
//! - `logger/disabled`: `Logger::debug(msg, &fields)` below the logger's level (the
//!   field array is built before the call, then one relaxed load rejects it).
//! - `logger/disabled_macro`: `debug!` below the level (the load comes first; the
//!   arguments are never evaluated).
//! - `logger/json_3_fields_file`: an info record, a message and 3 fields (str, int,
//!   float), formatted as JSON straight into the rotating file writer's ring.
//! - `logger/logfmt_3_fields_file`, `logger/text_3_fields_file`: the same in logfmt and
//!   the human text format.
//! - `logger/json_3_fields_child_ctx`: the same JSON record from a child logger with a
//!   bound field, inside a context scope with one field (5 fields written).
//! - `logger/json_3_fields_two_files`: the JSON record into two file destinations.
//! - `baseline/writer_record_150B`: `Writer::write_record` of a preformatted 150-byte
//!   line (about the JSON record's size): the writer alone, without the logger.
//! - `baseline/clock`: `Timestamp::now()` (`SystemTime::now`, the vDSO's `CLOCK_REALTIME`).
//! - `baseline/clock_fast`: `Timestamp::now_fast()`, the logger's default clock (read once
//!   per record): the time-stamp counter where it is a reliable clock.
//! - `baseline/clock_coarse`: `Timestamp::now_coarse()` (`CLOCK_REALTIME_COARSE`).
//! - `baseline/json_format_only`: `Timestamp::now()` and the JSON formatter, into a reused
//!   `Vec`.
//!
//! Every file is a default `Writer` (block on full) with a 64 MiB ring, rotating at
//! 256 MiB, in a temporary directory. The time is the caller's: each measured run logs
//! at most 20 000 records (under 4 MB, so the ring never fills and no call waits for the
//! consumer), then flushes outside the timed section. A shared, loaded machine therefore
//! slows the figures through preemption, not through backpressure.
//!
//! Run: `cargo bench -p lethe-benches --bench logger`, then
//! `python3 benches/summarize.py target/criterion` for the medians.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Bencher;
use criterion::{Criterion, criterion_group, criterion_main};
use lethe_std::logger::{
    Destination, Field, Formatter, Json, Level, Logfmt, Logger, Message, Out, Record, Text,
    Timestamp, context,
};
use lethe_std::{Options, Writer, WriterOptions};

fn options() -> WriterOptions {
    WriterOptions::default()
        .buffer(64 << 20)
        .file(Options::default().max_size(Some(256 << 20)))
}

fn file(dir: &std::path::Path, name: &str, f: impl Formatter + 'static) -> Destination {
    Destination::open_file(dir.join(name), options())
        .unwrap()
        .name(name)
        .formatter(f)
}

fn log_one(log: &Logger) {
    log.info(
        black_box("request served"),
        &[
            Field::new("path", black_box("/v1/items")),
            Field::new("status", black_box(200)),
            Field::new("ms", black_box(1.25)),
        ],
    );
}

/// Times `op` alone, in runs of at most 20 000 calls, calling `drain` (untimed) after
/// each run so that the ring never fills.
fn caller_side(b: &mut Bencher<'_>, mut op: impl FnMut(), mut drain: impl FnMut()) {
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(20_000);
            let start = Instant::now();
            for _ in 0..n {
                op();
            }
            total += start.elapsed();
            drain();
            left -= n;
        }
        total
    });
}

fn logger(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("logger");
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_secs(1));

    let off = Logger::builder()
        .level(Level::Info)
        .destination(file(dir.path(), "disabled.jsonl", Json::default()))
        .build()
        .unwrap();
    g.bench_function("disabled", |b| {
        b.iter(|| off.debug(black_box("not logged"), &[Field::new("i", black_box(1))]));
    });
    g.bench_function("disabled_macro", |b| {
        b.iter(|| lethe_std::debug!(off, "not logged {}", black_box(1); "i" => black_box(2)));
    });

    for (name, dest) in [
        (
            "json_3_fields_file",
            file(dir.path(), "a.jsonl", Json::default()),
        ),
        (
            "logfmt_3_fields_file",
            file(dir.path(), "a.logfmt", Logfmt::default()),
        ),
        (
            "text_3_fields_file",
            file(dir.path(), "a.txt", Text::default()),
        ),
    ] {
        let log = Logger::builder().destination(dest).build().unwrap();
        g.bench_function(name, |b| {
            caller_side(b, || log_one(&log), || log.flush().unwrap());
        });
        log.shutdown(Duration::from_secs(60)).unwrap();
    }

    let log = Logger::builder()
        .destination(file(dir.path(), "ctx.jsonl", Json::default()))
        .build()
        .unwrap();
    let child = log.with_field("service", "api");
    let ctx = context::push(&[Field::new("request_id", "r-42")]);
    g.bench_function("json_3_fields_child_ctx", |b| {
        caller_side(b, || log_one(&child), || log.flush().unwrap());
    });
    drop(ctx);
    log.shutdown(Duration::from_secs(60)).unwrap();

    let log = Logger::builder()
        .destination(file(dir.path(), "two-a.jsonl", Json::default()))
        .destination(file(dir.path(), "two-b.jsonl", Json::default()))
        .build()
        .unwrap();
    g.bench_function("json_3_fields_two_files", |b| {
        caller_side(b, || log_one(&log), || log.flush().unwrap());
    });
    log.shutdown(Duration::from_secs(60)).unwrap();
    g.finish();

    let mut g = c.benchmark_group("baseline");
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_secs(1));
    let w = Writer::open(dir.path().join("raw.log"), options()).unwrap();
    let line = {
        let mut l = vec![b'x'; 150];
        l[149] = b'\n';
        l
    };
    g.bench_function("writer_record_150B", |b| {
        caller_side(
            b,
            || w.write_record(black_box(&line)).unwrap(),
            || w.flush().unwrap(),
        );
    });
    w.close().unwrap();
    g.bench_function("clock", |b| b.iter(|| black_box(Timestamp::now())));
    g.bench_function("clock_fast", |b| {
        b.iter(|| black_box(Timestamp::now_fast()))
    });
    g.bench_function("clock_coarse", |b| {
        b.iter(|| black_box(Timestamp::now_coarse()));
    });
    let fields = [
        Field::new("path", "/v1/items"),
        Field::new("status", 200),
        Field::new("ms", 1.25),
    ];
    let mut buf = Vec::with_capacity(1024);
    g.bench_function("json_format_only", |b| {
        b.iter(|| {
            let r = Record::new(
                Level::Info,
                Timestamp::now(),
                "",
                Message::Str(black_box("request served")),
            )
            .with_fields(&fields);
            buf.clear();
            Json::default().format(&r, &mut Out::vec(&mut buf));
            black_box(buf.len())
        });
    });
    g.finish();
}

criterion_group!(benches, logger);
criterion_main!(benches);
