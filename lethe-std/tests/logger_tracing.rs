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
