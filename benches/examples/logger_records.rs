//! Logs N copies of the logger bench's record (`info("request served", path, status, ms)`)
//! as JSON into a rotating file, for instruction counting:
//!
//! ```sh
//! cargo build --release -p lethe-benches --example logger_records
//! for n in 20000 40000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
//!     target/release/examples/logger_records $n
//! done
//! ```
//!
//! The difference in total instructions (`callgrind_annotate /tmp/cg.N | head`) between
//! the two runs, divided by 20 000, is the cost of one record on the calling thread plus
//! the consumer's share (the consumer thread writes the bytes; both are counted). Add
//! `--toggle-collect='*Logger::emit*'` to count the caller's side only (the `Collected`
//! line of valgrind's summary). Run with
//! `json-only` as a second argument to count the JSON formatter alone (clock included),
//! or `text` / `logfmt` to log through those formatters instead of JSON, or `json-macro`
//! to log the same JSON record through `lethe_std::info!` (message and keys checked at
//! compile time) instead of `Logger::info`; that path does not go through
//! `Logger::emit`, so toggle `'*logger_records::main*'` to count it. `w2` logs issue
//! 8's W2 record instead (the compare harness's `lethe_w2`): `lethe_std::info!` with two
//! `u64` fields, a logger named `lethe_bench` (the target), `Text` with nanoseconds.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use lethe_std::logger::{
    Destination, Field, Formatter, Json, Level, Logfmt, Logger, Message, Out, Record, Text,
    TimePrecision, Timestamp,
};
use lethe_std::{Options, WriterOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let mode = args.next();
    let json_only = mode.as_deref() == Some("json-only");
    if json_only {
        let fields = [
            Field::new("path", "/v1/items"),
            Field::new("status", 200),
            Field::new("ms", 1.25),
        ];
        let mut buf = Vec::with_capacity(1024);
        for _ in 0..n {
            let r = Record::new(
                Level::Info,
                Timestamp::now(),
                "",
                Message::Str(black_box("request served")),
            )
            .with_fields(&fields);
            buf.clear();
            Json::default().format(&r, &mut Out::vec(&mut buf));
            black_box(buf.len());
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = WriterOptions::default()
        .buffer(64 << 20)
        .file(Options::default().max_size(Some(256 << 20)));
    let dest = Destination::open_file(dir.path().join("a.log"), options).unwrap();
    let w2 = mode.as_deref() == Some("w2");
    let dest = match mode.as_deref() {
        Some("text") => dest.formatter(Text::default()),
        Some("w2") => dest.formatter(Text {
            precision: TimePrecision::Nanos,
        }),
        Some("logfmt") => dest.formatter(Logfmt::default()),
        _ => dest.formatter(Json::default()),
    };
    let mut builder = Logger::builder().destination(dest);
    if w2 {
        builder = builder.name("lethe_bench");
    }
    let log = builder.build().unwrap();
    let start = Instant::now();
    if w2 {
        for seq in 0..n {
            let seq = black_box(seq);
            lethe_std::info!(log, "request served"; "user_id" => seq, "latency_us" => seq % 997);
        }
        report(start, n);
        log.shutdown(Duration::from_secs(60)).unwrap();
        return;
    }
    if mode.as_deref() == Some("json-macro") {
        for _ in 0..n {
            lethe_std::info!(log, "request served"; "path" => black_box("/v1/items"),
                "status" => black_box(200), "ms" => black_box(1.25));
        }
        report(start, n);
        log.shutdown(Duration::from_secs(60)).unwrap();
        return;
    }
    for _ in 0..n {
        log.info(
            black_box("request served"),
            &[
                Field::new("path", black_box("/v1/items")),
                Field::new("status", black_box(200)),
                Field::new("ms", black_box(1.25)),
            ],
        );
    }
    report(start, n);
    log.shutdown(Duration::from_secs(60)).unwrap();
}

/// With `LETHE_TIME` set, prints the calling thread's mean time per record (the loop
/// only, not the shutdown's drain), for quick before/after comparisons.
fn report(start: Instant, n: u64) {
    if std::env::var_os("LETHE_TIME").is_some() {
        let ns = start.elapsed().as_secs_f64() * 1e9 / n as f64;
        eprintln!("{ns:.1} ns/record");
    }
}
