//! The guides' examples run and leave what they promise on disk.

use std::path::Path;
use std::process::Command;

mod support;
use support::names;

#[path = "../examples/quick_start.rs"]
mod quick_start;

#[path = "../examples/multi_process.rs"]
mod multi_process;

#[path = "../examples/logger_guide.rs"]
mod logger_guide;

#[cfg(feature = "uring")]
#[path = "../examples/uring.rs"]
mod uring;

#[test]
fn quick_start_rotates_compresses_checksums_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let m = quick_start::run(dir.path()).unwrap();
    assert_eq!((m.writes, m.dropped, m.lost_at_close), (10_000, 0, 0));
    assert!(m.file.rotations >= 2, "{m:?}");
    assert_eq!(m.file.compressions, m.file.rotations);
    assert_eq!(m.file.checksums, m.file.rotations);
    let files = names(dir.path());
    let gz = files.iter().filter(|f| f.ends_with(".log.gz")).count();
    let sums = files.iter().filter(|f| f.ends_with(".gz.sha256")).count();
    assert_eq!(
        (gz as u64, sums as u64),
        (m.file.rotations, m.file.rotations),
        "{files:?}"
    );
    // Every line, read back from the backups and the active file.
    let mut lines = 0;
    for f in files.iter().filter(|f| f.ends_with(".log.gz")) {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(dir.path().join(f)).unwrap()),
            &mut text,
        )
        .unwrap();
        lines += text.lines().count();
    }
    lines += std::fs::read_to_string(dir.path().join("app.log"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 10_000);
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

#[test]
fn logger_guide_example_writes_routes_samples_redacts_and_counts_every_record() {
    use lethe_std::logger::Level;

    let dir = tempfile::tempdir().unwrap();
    let s = logger_guide::run(dir.path()).unwrap();

    // Sections 1 to 3: every record at info and above reaches the file, in order, as JSON.
    let app: Vec<_> = s.app.iter().map(|l| json(l)).collect();
    let msgs: Vec<&str> = app.iter().map(|v| v["msg"].as_str().unwrap()).collect();
    assert_eq!(
        msgs,
        [
            "started",
            "listening on port 8080",
            "config loaded",
            "cart has 3 items",
            "slow query",
            "lookup failed",
            "disk /var almost full",
            "payment failed",
            "written while stdout is disabled",
            "syslog takes warnings now",
            "after syslog was removed",
        ]
    );
    for v in &app {
        assert!(v["target"].as_str().unwrap().starts_with("shop"), "{v}");
        assert!(v["thread"].is_string(), "the ThreadName enricher: {v}");
        assert!(v["time"].as_str().unwrap().ends_with('Z'), "{v}");
    }
    assert_eq!(
        (app[1]["level"].as_str(), &app[1]["tls"]),
        (Some("info"), &true.into())
    );
    assert_eq!(
        (app[2]["workers"].as_u64(), app[2]["ratio"].as_f64()),
        (Some(4), Some(0.75))
    );
    // The child logger's field and the context's, only inside the context's scope.
    assert_eq!(
        (&app[3]["request_id"], &app[3]["user"]),
        (&"r-42".into(), &"ann".into())
    );
    assert_eq!(app[3]["total"], 59.9);
    assert_eq!(
        (&app[4]["target"], &app[4]["level"]),
        (&"shop::db".into(), &"warn".into())
    );
    assert_eq!(
        (&app[4]["request_id"], &app[4]["user"]),
        (&"r-42".into(), &"ann".into())
    );
    assert!(
        app[5].get("user").is_none(),
        "the context ended: {}",
        app[5]
    );
    assert_eq!(app[5]["request_id"], "r-42");
    assert_eq!(app[5]["error"], "no such sku");
    assert_eq!(
        (&app[5]["peer"], &app[5]["sku"]),
        (&"10.0.0.7:443".into(), &"[7, 7]".into())
    );
    assert!(app[6..].iter().all(|v| v.get("request_id").is_none()));

    let m = &s.metrics;
    let file = m.destination("file").unwrap();
    assert_eq!((file.records, file.dropped, file.errors), (11, 0, 0));
    assert_eq!(file.writer.as_ref().unwrap().writes, 11);
    assert_eq!(
        Level::ALL.map(|l| m.records_at(l)),
        [0, 0, 4, 4, 3, 0],
        "debug is below the logger's level and not counted"
    );
    // stdout (warn and above): not while disabled, not before it was added.
    let stdout = m.destination("stdout").unwrap();
    assert_eq!((stdout.records, stdout.dropped), (4, 0));
    // syslog: error, then warn and above, until removed; one datagram each, facility
    // local0 (16), severities error (3) and warning (4), logfmt bodies.
    assert!(m.destination("syslog").is_none(), "removed");
    assert_eq!(
        (s.syslog.records, s.syslog.errors, s.syslog.lost),
        (2, 0, 0)
    );
    assert_eq!(s.datagrams.len(), 2);
    assert!(s.datagrams[0].starts_with("<131>1 "), "{:?}", s.datagrams);
    assert!(s.datagrams[1].starts_with("<132>1 "), "{:?}", s.datagrams);
    assert!(
        s.datagrams[0].contains(" shop ") && s.datagrams[0].contains(r#"msg="payment failed""#)
    );
    assert!(s.datagrams[1].contains(r#"msg="syslog takes warnings now""#));

    // Section 4: each sampler sees what the filter let through, and every count adds up.
    assert_eq!(s.sampled.len(), 4);
    for x in &s.sampled {
        let m = &x.metrics;
        let st = m.samplers[0];
        assert_eq!(m.filtered, logger_guide::SAMPLED_SENT / 10, "{}", x.kind);
        assert_eq!(
            st.seen,
            logger_guide::SAMPLED_SENT - m.filtered,
            "{}",
            x.kind
        );
        assert_eq!(st.kept + st.dropped, st.seen, "{}", x.kind);
        assert_eq!(m.sampled_out, st.dropped, "{}", x.kind);
        assert_eq!(m.records_at(Level::Info), st.kept, "{}", x.kind);
        assert_eq!(x.lines.len() as u64, st.kept, "{}", x.kind);
        assert_eq!(m.destinations[0].records, st.kept, "{}", x.kind);
        let text = x.lines.concat();
        assert!(
            // The card number as written, not "4111" alone: a timestamp's fraction can
            // hold those digits.
            !text.contains("hunter2") && !text.contains("4111-1111"),
            "{}",
            x.kind
        );
        assert!(!text.contains("health check"), "{}", x.kind);
        for v in x.lines.iter().map(|l| json(l)) {
            assert_eq!(v["password"], "[REDACTED]");
            let user = v["user"].as_str().unwrap();
            assert_eq!(v["msg"], format!("charged card [REDACTED] for {user}"));
        }
        let kept = st.kept;
        match x.kind {
            "every_nth" => assert_eq!(kept, 90),
            "ratio" => assert!((180..=270).contains(&kept), "ratio kept {kept} of 900"),
            "rate_limit" => assert!(kept >= 20, "the burst of 20 passes: {kept}"),
            "first_then" => {
                // 300 records per user: the first 5, then the 105th and the 205th.
                for user in logger_guide::USERS {
                    let n = x.lines.iter().filter(|l| json(l)["user"] == user).count();
                    assert_eq!(n, 7, "{user}");
                }
            }
            other => panic!("unexpected sampler {other}"),
        }
    }

    // Section 5: what the small ring had no room for is counted, never reordered.
    let burst = s.burst_metrics.destination("burst").unwrap();
    assert_eq!(
        burst.records + burst.dropped,
        logger_guide::BURST_SENT,
        "{burst:?}"
    );
    assert_eq!(s.burst.len() as u64, burst.records);
    let is: Vec<u64> = s
        .burst
        .iter()
        .map(|l| json(l)["i"].as_u64().unwrap())
        .collect();
    assert!(is.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(s.burst_metrics.after_shutdown, 1);
}

/// Set in the environment of the child processes the multi-process test starts.
const CHILD: &str = "LETHE_EXAMPLE_CHILD";

#[test]
fn multi_process_example_child() {
    // A child process of the test below (a no-op when run as a test).
    if let Ok(spec) = std::env::var(CHILD) {
        let (dir, id) = spec.rsplit_once(':').unwrap();
        multi_process::child(Path::new(dir), id.parse().unwrap()).unwrap();
    }
}

#[test]
fn multi_process_example_keeps_every_line_of_every_process_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let files = multi_process::parent(dir.path(), |id| {
        let mut c = Command::new(&exe);
        c.args(["--exact", "multi_process_example_child", "--nocapture"])
            .env(CHILD, format!("{}:{id}", dir.path().display()));
        c
    })
    .unwrap();
    // 4 × 2 000 lines of ~20 bytes rotate at 32 KB several times.
    assert!(files >= 3, "{:?}", names(dir.path()));
}

#[cfg(feature = "uring")]
#[test]
fn uring_example_writes_every_line_through_uring_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let m = uring::run(dir.path()).unwrap();
    assert_eq!((m.writes, m.dropped, m.lost_at_close), (20_000, 0, 0));
    assert!(
        m.file.rotations >= 1 && m.file.syncs >= m.file.rotations,
        "{m:?}"
    );
    match m.file.io {
        lethe_std::IoStatus::Uring => {}
        other => support::missing(format_args!(
            "io_uring not usable here ({other:?}); checked the fallback path"
        )),
    }
    let mut lines = 0;
    for f in names(dir.path()) {
        lines += std::fs::read_to_string(dir.path().join(f))
            .unwrap()
            .lines()
            .count();
    }
    assert_eq!(lines, 20_000);
}
