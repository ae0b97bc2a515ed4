//! Caller-side latency of one logger record, measured as Quill does and as `writer-bench`
//! measures the writer: bursts of 20 calls with a 20 µs pause between bursts, every call
//! timed on its own, percentiles over the caller's timings.
//!
//! The record is the logger criterion bench's (`logger/json_3_fields_file`): `info` with
//! the message "request served" and three fields (`path` a string, `status` an integer,
//! `ms` a float), into a default `Writer` with a 64 MiB ring rotating at 256 MiB, through
//! `Logger::info` (runtime-checked message) and through `lethe_std::info!` (compile-time
//! checked message and keys), in JSON, logfmt and text.
//!
//! ```sh
//! cargo run --release -p lethe-benches --example logger_latency            # 50 000 bursts
//! cargo run --release -p lethe-benches --example logger_latency -- 10000   # fewer
//! ```
//!
//! Criterion's figure for the same record is a mean over batches of calls (it includes
//! every slow call); this prints the median of single calls, their p99 and p99.9, and the
//! timer's own cost, which every timing includes. `LETHE_BENCH_DETAIL=1` also prints
//! where in the bursts the slow calls fall.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use lethe_benches::{
    Stopwatch, percentiles, slow_by_position, time_bursts, time_bursts_of_nothing,
};
use lethe_std::logger::{Destination, Field, Formatter, Json, Logfmt, Logger, Text};
use lethe_std::{Options, WriterOptions};

fn summary(mut v: Vec<u32>) -> String {
    let (p50, p99, p999) = percentiles(&mut v);
    format!("median {p50:>4} ns   p99 {p99:>5} ns   p99.9 {p999:>6} ns")
}

fn logger(dir: &std::path::Path, name: &str, f: impl Formatter + 'static) -> Logger {
    let options = WriterOptions::default()
        .buffer(64 << 20)
        .file(Options::default().max_size(Some(256 << 20)));
    let dest = Destination::open_file(dir.join(name), options)
        .unwrap_or_else(|e| fail(&format!("opening {name}: {e}")))
        .formatter(f);
    Logger::builder()
        .destination(dest)
        .build()
        .unwrap_or_else(|e| fail(&format!("building the logger: {e}")))
}

fn fail(msg: &str) -> ! {
    eprintln!("logger_latency: {msg}");
    std::process::exit(1)
}

fn measure(label: &str, log: &Logger, bursts: usize, macro_path: bool) {
    let call = || {
        if macro_path {
            lethe_std::info!(log, "request served"; "path" => black_box("/v1/items"),
                "status" => black_box(200), "ms" => black_box(1.25));
        } else {
            log.info(
                black_box("request served"),
                &[
                    Field::new("path", black_box("/v1/items")),
                    Field::new("status", black_box(200)),
                    Field::new("ms", black_box(1.25)),
                ],
            );
        }
    };
    // Warm up: fault the ring in, fill the date cache, start the consumer.
    for _ in 0..100_000 {
        call();
    }
    log.flush().unwrap_or_else(|e| fail(&format!("flush: {e}")));
    let r: Result<Vec<u32>, std::convert::Infallible> = time_bursts(bursts, || {
        call();
        Ok(())
    });
    let samples = match r {
        Ok(v) => v,
        Err(e) => match e {},
    };
    log.flush().unwrap_or_else(|e| fail(&format!("flush: {e}")));
    if std::env::var_os("LETHE_BENCH_DETAIL").is_some() {
        slow_by_position(label, "calls", &samples, [300, 600]);
    }
    println!(
        "{label:<24} {}   ({} calls)",
        summary(samples),
        bursts * lethe_benches::BURST
    );
}

fn main() {
    let bursts: usize = std::env::args()
        .nth(1)
        .map(|a| {
            a.parse()
                .unwrap_or_else(|_| fail(&format!("{a:?} is not a number of bursts")))
        })
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    println!(
        "{:<24} {}   ({})",
        "timer alone",
        summary(time_bursts_of_nothing(bursts)),
        Stopwatch::get().describe()
    );
    for (label, name, macro_path) in [
        ("json Logger::info", "a.jsonl", false),
        ("json info!", "b.jsonl", true),
    ] {
        let log = logger(dir.path(), name, Json::default());
        measure(label, &log, bursts, macro_path);
        log.shutdown(Duration::from_secs(60))
            .unwrap_or_else(|e| fail(&format!("shutdown: {e}")));
    }
    let log = logger(dir.path(), "a.logfmt", Logfmt::default());
    measure("logfmt Logger::info", &log, bursts, false);
    log.shutdown(Duration::from_secs(60))
        .unwrap_or_else(|e| fail(&format!("shutdown: {e}")));
    let log = logger(dir.path(), "a.txt", Text::default());
    measure("text Logger::info", &log, bursts, false);
    log.shutdown(Duration::from_secs(60))
        .unwrap_or_else(|e| fail(&format!("shutdown: {e}")));
}
