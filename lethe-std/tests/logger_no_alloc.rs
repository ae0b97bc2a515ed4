//! The logger's hot path allocates nothing: a record with a message and a few fields,
//! formatted as JSON, text and logfmt straight into ring reservations (a rotating file
//! and a backend queue), from a child logger with bound fields, inside a context scope;
//! and a disabled level. A counting global allocator counts the calling thread's
//! allocations only (delivery and consumer threads are not the caller's hot path).

use std::time::Duration;

use lethe_std::WriterOptions;
use lethe_std::logger::{
    Destination, Field, Level, Logfmt, Logger, Text, Value, WriteBackend, context,
};

mod support;

use support::alloc::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn logging_a_record_allocates_nothing() {
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder()
        .level(Level::Info)
        .destination(
            Destination::open_file(dir.path().join("app.jsonl"), WriterOptions::default()).unwrap(),
        )
        .destination(
            Destination::open_file(dir.path().join("app.txt"), WriterOptions::default())
                .unwrap()
                .name("text")
                .formatter(Text::default()),
        )
        .destination(
            Destination::backend("sink", WriteBackend(std::io::sink()))
                .formatter(Logfmt::default())
                .queue_capacity(4 << 20),
        )
        .build()
        .unwrap();
    let child = log.with_field("service", "api");
    let _ctx = context::push(&[Field::new("request_id", "r-1")]);
    let err = std::io::Error::other("timeout");
    let record = |i: u64| {
        child.info(
            "request served",
            &[
                Field::new("path", "/v1/items"),
                Field::new("status", 200),
                Field::new("i", i),
            ],
        );
        child.debug("disabled", &[Field::new("i", i)]);
        // A message without arguments: logged as a checked `StaticStr`.
        lethe_std::info!(child, "static"; "i" => i);
        lethe_std::info!(child, "formatted {}", i; "err" => Value::error(&err), "ms" => 1.25);
    };
    // Warm-up: thread-local caches (the logger's shard slot, arc-swap's debt list).
    record(0);
    let n = allocations(|| {
        for i in 1..=5_000 {
            record(i);
        }
    });
    assert_eq!(n, 0, "the logger's hot path allocated {n} times");
    drop(_ctx);
    let m = log.metrics();
    log.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!(m.records_at(Level::Info), 15_003);
    for d in &m.destinations {
        assert_eq!((d.records, d.dropped, d.oversized), (15_003, 0, 0), "{d:?}");
    }
    let text = std::fs::read_to_string(dir.path().join("app.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 15_003);
    assert!(text.lines().last().unwrap().contains(
        r#""msg":"formatted 5000","service":"api","request_id":"r-1","err":"timeout","ms":1.25}"#
    ));
}
