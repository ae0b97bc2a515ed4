//! The `log` example writes JSON lines to a rotating, compressed file; read them back.
#![cfg(feature = "log")]

#[allow(dead_code)]
#[path = "../examples/log_json.rs"]
mod example;

mod support;

#[test]
fn log_example_writes_json_lines_that_read_back() {
    let dir = tempfile::tempdir().unwrap();
    example::run(dir.path()).unwrap();
    let segments = support::segments(dir.path(), "app.jsonl");
    assert!(segments.len() >= 2, "the file rotated");
    let text: String = segments
        .iter()
        .map(|s| String::from_utf8(s.clone()).unwrap())
        .collect();
    // 4 segments at most (the active file and 3 backups) out of about 5: count what is
    // kept and check it is the newest, contiguous run.
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["msg"], "slow query");
    assert_eq!(last["target"], "db");
    assert_eq!(last["level"], "warn");
    assert_eq!(last["elapsed_ms"], 812.5);
    let requests: Vec<i64> = lines[..lines.len() - 1]
        .iter()
        .map(|v| {
            assert_eq!(v["level"], "info");
            assert_eq!(v["path"], "/v1/items");
            assert_eq!(v["ok"], true);
            let i = v["request"].as_i64().unwrap();
            assert_eq!(v["msg"], format!("request {i} served"));
            i
        })
        .collect();
    let first = requests[0];
    assert_eq!(
        requests,
        (first..2000).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert!(!text.contains("below the logger's level"));
}
