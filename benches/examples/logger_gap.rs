//! Splits the caller-side cost of one JSON record into its steps, each timed alone the
//! way the criterion bench times the logger (runs of 20 000 calls, a flush between runs,
//! median of the per-run averages):
//!
//! ```sh
//! cargo run --release -p lethe-benches --example logger_gap
//! ```

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use lethe_std::logger::{
    Destination, Field, Formatter, Json, Level, Logger, Message, Out, Record, Timestamp,
};
use lethe_std::{Options, Writer, WriterOptions};

fn options() -> WriterOptions {
    WriterOptions::default()
        .buffer(64 << 20)
        .file(Options::default().max_size(Some(256 << 20)))
}

/// Median ns per call over `runs` runs of 20 000 calls.
fn time(name: &str, runs: usize, mut op: impl FnMut(), mut drain: impl FnMut()) {
    let mut per = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        for _ in 0..20_000 {
            op();
        }
        per.push(start.elapsed().as_nanos() as f64 / 20_000.0);
        drain();
    }
    per.sort_by(f64::total_cmp);
    println!("{name:<40} {:>8.1} ns", per[per.len() / 2]);
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let fields = [
        Field::new("path", "/v1/items"),
        Field::new("status", 200),
        Field::new("ms", 1.25),
    ];
    let record = |t| {
        Record::new(
            Level::Info,
            t,
            "",
            Message::Str(black_box("request served")),
        )
        .with_fields(&fields)
    };
    let fixed = Timestamp {
        secs: 1_795_000_000,
        nanos: 123_456_789,
    };

    time(
        "clock",
        runs,
        || {
            black_box(Timestamp::now());
        },
        || {},
    );
    let _ = Timestamp::now_fast();
    std::thread::sleep(Duration::from_millis(50)); // its first calibration
    time(
        "clock_fast",
        runs,
        || {
            black_box(Timestamp::now_fast());
        },
        || {},
    );
    let mut buf = Vec::with_capacity(1024);
    time(
        "json into Vec (fixed time)",
        runs,
        || {
            buf.clear();
            Json::default().format(&record(black_box(fixed)), &mut Out::vec(&mut buf));
            black_box(buf.len());
        },
        || {},
    );
    let line = buf.clone();

    let w = Writer::open(dir.path().join("raw.log"), options()).unwrap();
    time(
        "writer.write_record(150B)",
        runs,
        || w.write_record(black_box(&line)).unwrap(),
        || w.flush().unwrap(),
    );
    time(
        "try_reserve(1024)+push(150B)+commit",
        runs,
        || {
            let mut g = w.try_reserve(1024).unwrap().unwrap();
            g.push(black_box(&line)).unwrap();
            g.commit_written();
        },
        || w.flush().unwrap(),
    );
    time(
        "try_reserve(1024)+json(fixed)+commit",
        runs,
        || {
            let mut g = w.try_reserve(1024).unwrap().unwrap();
            Json::default().format(&record(black_box(fixed)), &mut Out::grant(&mut g));
            g.commit_written();
        },
        || w.flush().unwrap(),
    );
    let mut tmp = Vec::with_capacity(1024);
    time(
        "json(fixed) into Vec, then reserve+copy",
        runs,
        || {
            tmp.clear();
            Json::default().format(&record(black_box(fixed)), &mut Out::vec(&mut tmp));
            let mut g = w.try_reserve(tmp.len()).unwrap().unwrap();
            g.push(&tmp).unwrap();
            g.commit_written();
        },
        || w.flush().unwrap(),
    );
    w.close().unwrap();

    let f = Destination::open_file(dir.path().join("a.jsonl"), options()).unwrap();
    let log = Logger::builder().destination(f).build().unwrap();
    time(
        "logger.info json",
        runs,
        || {
            log.info(
                black_box("request served"),
                &[
                    Field::new("path", black_box("/v1/items")),
                    Field::new("status", black_box(200)),
                    Field::new("ms", black_box(1.25)),
                ],
            );
        },
        || log.flush().unwrap(),
    );
    log.shutdown(Duration::from_secs(60)).unwrap();

    let f = Destination::open_file(dir.path().join("c.jsonl"), options())
        .unwrap()
        .level(Level::Error);
    let log = Logger::builder().destination(f).build().unwrap();
    time(
        "logger.info, destination below level",
        runs,
        || {
            log.info(
                black_box("request served"),
                &[
                    Field::new("path", black_box("/v1/items")),
                    Field::new("status", black_box(200)),
                    Field::new("ms", black_box(1.25)),
                ],
            );
        },
        || log.flush().unwrap(),
    );
    log.shutdown(Duration::from_secs(60)).unwrap();

    let f = Destination::open_file(dir.path().join("b.jsonl"), options()).unwrap();
    let log = Logger::builder()
        .clock(|| Timestamp {
            secs: 1_795_000_000,
            nanos: 123_456_789,
        })
        .destination(f)
        .build()
        .unwrap();
    time(
        "logger.info json (fixed clock)",
        runs,
        || {
            log.info(
                black_box("request served"),
                &[
                    Field::new("path", black_box("/v1/items")),
                    Field::new("status", black_box(200)),
                    Field::new("ms", black_box(1.25)),
                ],
            );
        },
        || log.flush().unwrap(),
    );
    log.shutdown(Duration::from_secs(60)).unwrap();
}
