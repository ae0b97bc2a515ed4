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
    // 4 segments at most (the active file and 3 backups) out of about 5: count what is
    // kept and check it is the newest, contiguous run.
    let lines = support::json_lines(dir.path(), "app.jsonl");
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
    assert!(
        lines
            .iter()
            .all(|v| !v.to_string().contains("below the logger's level"))
    );
}
