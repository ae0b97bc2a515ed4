//! The five workloads and the records they write.

use std::fmt;
use std::io;
use std::str::FromStr;

/// One workload of issue 8.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Raw 100-byte lines ([`crate::record`]) through `io::Write`, one thread.
    W1,
    /// Formatted records (timestamp, level, message, 2 fields) through the contender's own
    /// API, one thread.
    W2,
    /// W2 from 2 threads.
    W3,
    /// W2 with rotation every 16 MiB and gzip of the finished files.
    W4,
    /// W2 with an `fsync` every 1 MiB.
    W5,
}

impl Workload {
    /// All workloads, in table order.
    pub const ALL: [Workload; 5] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
    ];

    /// Threads writing records.
    pub fn threads(self) -> usize {
        if self == Workload::W3 { 2 } else { 1 }
    }

    /// One-line description for the table.
    pub fn describe(self) -> &'static str {
        match self {
            Workload::W1 => "raw 100-byte lines through io::Write, 1 thread",
            Workload::W2 => "formatted records through the logger's API, 1 thread",
            Workload::W3 => "W2 from 2 threads",
            Workload::W4 => "W2, rotation every 16 MiB, gzip on",
            Workload::W5 => "W2, fsync every 1 MiB",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
        };
        f.write_str(s)
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Workload, String> {
        Workload::ALL
            .into_iter()
            .find(|w| w.to_string().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown workload {s:?} (expected one of W1..W5)"))
    }
}

/// Rotation size of W4, and the `fsync` interval of W5.
pub const W4_ROTATE_BYTES: u64 = 16 << 20;
/// The `fsync` interval of W5.
pub const W5_FSYNC_BYTES: u64 = 1 << 20;
/// How many rotated files every contender keeps: enough that no line is deleted before
/// the harness counts them.
pub const KEEP_FILES: usize = 1000;
/// Size rotation for the contenders that rotate by size in W1–W3 and W5 (as a
/// production setup would; larger than any run writes, so no run rotates there).
pub const DEFAULT_ROTATE_BYTES: u64 = 1 << 30;

/// The message of every W2 record; its two fields are `user_id` (the record's sequence
/// number) and `latency_us` (`seq % 997`).
pub const MESSAGE: &str = "request served";

/// The `latency_us` field of record `seq`.
#[inline]
pub fn latency_field(seq: u64) -> u64 {
    seq % 997
}

/// Writes record `seq` of W2 as one line, for the contenders that are writers rather than
/// loggers (`lethe-sync`, the `BufWriter` baseline, file-rotate): an RFC 3339 UTC
/// timestamp with nanoseconds, the level, the target, the message and its two fields, as
/// `tracing-subscriber`'s default format lays them out:
///
/// `2026-11-26T11:31:14.123456789Z  INFO lethe_bench: request served user_id=7 latency_us=7`
///
/// The whole line is one `write_fmt` call, so a Lethe writer takes it as one record.
#[inline]
pub fn format_record(w: &mut impl io::Write, seq: u64) -> io::Result<()> {
    writeln!(
        w,
        "{}  INFO lethe_bench: {MESSAGE} user_id={seq} latency_us={}",
        jiff::Timestamp::now(),
        latency_field(seq)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formatted_record_is_one_line_with_its_fields() {
        let mut out = Vec::new();
        format_record(&mut out, 1234).unwrap();
        let line = std::str::from_utf8(&out).unwrap();
        assert!(line.ends_with(" INFO lethe_bench: request served user_id=1234 latency_us=237\n"));
        assert_eq!(line.matches('\n').count(), 1);
        let ts = line.split_whitespace().next().unwrap();
        assert!(ts.parse::<jiff::Timestamp>().is_ok(), "{ts}");
    }

    #[test]
    fn workloads_parse_from_their_names() {
        for w in Workload::ALL {
            assert_eq!(w.to_string().parse::<Workload>(), Ok(w));
        }
        assert!("W9".parse::<Workload>().unwrap_err().contains("W9"));
    }
}
