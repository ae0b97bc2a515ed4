//! `write!`/`writeln!` through a [`Writer`]: formatted straight into a ring reservation
//! when the output fits, through the stack or a `Vec` otherwise. Every path must give the
//! same bytes, one record per call.

use std::fmt;
use std::io::Write as _;

use lethe_std::{Backpressure, Mode, Options, Writer, WriterOptions};

fn open(dir: &std::path::Path, options: WriterOptions) -> Writer {
    Writer::open(
        dir.join("app.log"),
        options.file(Options::default().max_size(None)),
    )
    .unwrap()
}

/// What `format!` makes of the same arguments: the bytes every path must produce.
fn expected(lines: &[String]) -> String {
    lines.concat()
}

#[test]
fn padding_non_ascii_and_every_length_give_the_bytes_format_gives() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), WriterOptions::default());
    let mut want = Vec::new();
    // Short lines with padding (written one character at a time by core::fmt), a
    // non-ASCII fill and text, and lengths around the 256-byte reservation and the
    // 512-byte stack buffer.
    for (i, len) in [
        0usize, 1, 100, 246, 247, 248, 255, 256, 257, 300, 511, 512, 513, 5000,
    ]
    .into_iter()
    .enumerate()
    {
        let body = "x".repeat(len);
        writeln!(log, "{i:08} {i:>6} {i:é<5} ü {body}").unwrap();
        want.push(format!("{i:08} {i:>6} {i:é<5} ü {body}\n"));
    }
    // A literal (no arguments) and an empty record.
    writeln!(log, "literal").unwrap();
    want.push("literal\n".to_string());
    let empty = String::new();
    write!(log, "{empty}").unwrap();
    log.close().unwrap();
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    assert_eq!(text, expected(&want));
}

#[test]
fn a_ring_smaller_than_the_reservation_still_takes_formatted_lines() {
    // A 64-byte ring accepts records of at most 24 bytes: longer formatted lines go
    // through the stack and are written directly, after the ring is flushed.
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), WriterOptions::default().buffer(64));
    let mut want = Vec::new();
    for i in 0..200u32 {
        let pad = "y".repeat((i % 40) as usize);
        writeln!(log, "{i:04} {pad}").unwrap();
        want.push(format!("{i:04} {pad}\n"));
    }
    let m = log.close().unwrap();
    assert_eq!(m.writes, 200);
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    assert_eq!(text, expected(&want));
}

#[test]
fn threads_formatting_into_the_ring_keep_every_line_once_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    // A small ring that grows: reservations of 256 bytes fill it quickly, and growth
    // must neither lose nor reorder a formatted line.
    let log = open(
        dir.path(),
        WriterOptions::default()
            .buffer(4096)
            .backpressure(Backpressure::Grow { max: 1 << 20 }),
    );
    let threads = 4u32;
    let per_thread = 20_000u32;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let mut log = log.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    writeln!(log, "t{t} {i:>7} {}", "z".repeat((i % 7) as usize * 50)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let m = log.close().unwrap();
    assert_eq!(m.writes, u64::from(threads * per_thread));
    assert_eq!(m.dropped, 0);
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    let mut next = vec![0u32; threads as usize];
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let t: usize = parts.next().unwrap()[1..].parse().unwrap();
        let i: u32 = parts.next().unwrap().parse().unwrap();
        let z = parts.next().unwrap_or("");
        assert_eq!(i, next[t], "thread {t}: duplicate, gap or reorder");
        assert_eq!(z, "z".repeat((i % 7) as usize * 50), "torn line {line:?}");
        next[t] += 1;
    }
    assert!(next.iter().all(|&n| n == per_thread));
}

/// A value whose `Display` fails: `write!` must return an error and write nothing.
struct Fails;

impl fmt::Display for Fails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial output ")?;
        Err(fmt::Error)
    }
}

#[test]
fn a_failing_display_writes_nothing_and_later_lines_are_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), WriterOptions::default());
    writeln!(log, "before").unwrap();
    assert!(writeln!(log, "x {}", Fails).is_err());
    writeln!(log, "after {}", 1).unwrap();
    let m = log.close().unwrap();
    assert_eq!(m.writes, 2);
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    assert_eq!(text, "before\nafter 1\n");
}

#[test]
fn auto_mode_writes_formatted_lines_directly_while_direct() {
    let dir = tempfile::tempdir().unwrap();
    // A slow-write limit no write reaches, so the writer stays direct.
    let mut log = open(
        dir.path(),
        WriterOptions::default()
            .mode(Mode::Auto)
            .auto_slow_write(std::time::Duration::from_secs(60)),
    );
    for i in 0..10 {
        writeln!(log, "line {i:03}").unwrap();
    }
    let m = log.close().unwrap();
    assert_eq!(m.writes, 10);
    assert!(
        m.direct_writes >= 1,
        "the first lines are written directly: {m:?}"
    );
    let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
    let want: String = (0..10).map(|i| format!("line {i:03}\n")).collect();
    assert_eq!(text, want);
}
