//! The `tracing` example writes JSON lines with span and event fields to a rotating
//! file; read them back.
#![cfg(feature = "tracing")]

#[allow(dead_code)]
#[path = "../examples/tracing_json.rs"]
mod example;

mod support;

#[test]
fn tracing_example_keeps_span_and_event_fields_in_json() {
    let dir = tempfile::tempdir().unwrap();
    example::run(dir.path()).unwrap();
    let lines = support::json_lines(dir.path(), "app.jsonl");
    assert_eq!(lines.len(), 1000);
    for (n, v) in lines.iter().enumerate() {
        let i = (n / 2) as u64;
        assert_eq!(v["id"], i, "span field, typed");
        assert_eq!(v["user"], "ann");
        assert_eq!(v["span"], "request");
        assert!(
            v["target"].as_str().unwrap().ends_with("example"),
            "the module path"
        );
        if n % 2 == 0 {
            assert_eq!(v["level"], "info");
            assert_eq!(v["msg"], "served");
            assert_eq!(v["status"], 200);
            assert_eq!(v["elapsed_ms"], 1.5);
            assert!(v.get("result").is_none(), "recorded after this event");
        } else {
            assert_eq!(v["level"], "debug");
            assert_eq!(v["msg"], "detail");
            assert_eq!(v["cache"], true);
            assert_eq!(v["result"], "ok", "Span::record is kept");
        }
    }
}

/// A span's `message` field is kept like its other fields, whether it is given when the
/// span is made or recorded later with `Span::record` (which used to drop it).
#[test]
fn a_span_message_recorded_later_is_kept() {
    use lethe_std::logger::{Destination, Level, Logger, TracingLayer, WriteBackend};
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt as _;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = Shared::default();
    let logger = Logger::builder()
        .level(Level::Debug)
        .destination(Destination::backend("mem", WriteBackend(out.clone())))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(TracingLayer::new(logger.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let made = tracing::info_span!("job", message = "at creation");
        made.in_scope(|| tracing::info!("first"));
        let later = tracing::info_span!("job", message = tracing::field::Empty, n = 1);
        later.record("message", "recorded later");
        later.record("n", 2);
        later.in_scope(|| tracing::info!("second"));
    });
    logger.shutdown(std::time::Duration::from_secs(10)).unwrap();
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["msg"], "first");
    assert_eq!(lines[0]["message"], "at creation");
    assert_eq!(lines[1]["msg"], "second");
    assert_eq!(lines[1]["n"], 2);
    assert_eq!(lines[1]["message"], "recorded later", "{text}");
}
