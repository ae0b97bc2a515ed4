//! Command-line arguments.

use std::path::PathBuf;

use lethe_core::duration::parse_duration;
use lethe_core::retention::RetentionPolicy;
use lethe_core::rotation::Schedule;
use lethe_core::size::parse_size;
use lethe_std::{Backpressure, Fsync, Options, WriterOptions};

/// Pipe standard input into FILE, rotated by size and/or time, with old backups removed.
///
/// Backups are named `<stem>.<sequence>.<UTC time>Z<ext>` beside FILE, for example
/// `app.0000000001.20261123T004107Z.log`; only files with such names are ever deleted.
#[derive(clap::Parser, Debug)]
#[command(name = "lethe", version)]
pub(crate) struct Args {
    /// The active log file. Its directory is created if needed.
    pub(crate) file: PathBuf,

    /// Rotate before a line would push FILE past SIZE (e.g. 100MB, 512KiB, 1GiB).
    #[arg(long, value_name = "SIZE", default_value = "100MB")]
    pub(crate) max_size: String,

    /// Also rotate on calendar boundaries: hourly, daily, weekly (Monday 00:00), or a
    /// duration such as 30m or 6h, aligned to the epoch. UTC.
    #[arg(long, value_name = "WHEN")]
    pub(crate) rotate_every: Option<String>,

    /// Keep at most N backups (0 keeps none).
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub(crate) max_backups: usize,

    /// Delete backups older than DURATION (e.g. 7d, 12h).
    #[arg(long, value_name = "DURATION")]
    pub(crate) max_age: Option<String>,

    /// Keep the backups together under SIZE.
    #[arg(long, value_name = "SIZE")]
    pub(crate) max_total: Option<String>,

    /// Gzip each backup in the background (crash-safe; the raw segment is removed once its
    /// .gz is complete and synced).
    #[arg(long)]
    pub(crate) compress: bool,

    /// gzip level for --compress, 0 (fastest) to 9 (smallest).
    #[arg(long, value_name = "LEVEL", default_value_t = 6)]
    pub(crate) compress_level: u32,

    /// Write a sha256sum-compatible .sha256 sidecar for each backup (of the .gz with
    /// --compress); `sha256sum -c` verifies them in the log directory.
    #[arg(long)]
    pub(crate) checksum: bool,

    /// Durability: never (leave it to the kernel), rotate (fsync each finished file and the
    /// directory; the default), a size such as 1MB (fsync after that many bytes), or a
    /// duration such as 5s (fsync at most that long after a write). A value that parses
    /// as a duration is one: "5m" is five minutes.
    #[arg(long, value_name = "POLICY", default_value = "rotate")]
    pub(crate) fsync: String,

    /// Ring buffer capacity between reading and writing: a power of two (e.g. 1MiB,
    /// 64KiB). Lines longer than half of it are written directly, in order.
    #[arg(long, value_name = "SIZE", default_value = "1MiB")]
    pub(crate) buffer: String,

    /// What to do when the buffer is full: block (wait, lose nothing) or drop (count the
    /// dropped lines; --stats reports them).
    #[arg(long, value_name = "POLICY", default_value = "block")]
    pub(crate) on_full: String,

    /// File mode of created log files, in octal.
    #[arg(long, value_name = "OCTAL", default_value = "640")]
    pub(crate) mode: String,

    /// Print a summary on stderr at exit: lines, bytes, rotations, removals, errors.
    #[arg(long)]
    pub(crate) stats: bool,
}

impl Args {
    /// The writer options, or a one-line message naming the bad value and the rule.
    pub(crate) fn options(&self) -> Result<WriterOptions, String> {
        let max_size = parse_size(&self.max_size).map_err(|e| format!("--max-size: {e}"))?;
        if max_size == 0 {
            return Err("--max-size: \"0\" is invalid: the limit must be at least 1 byte".into());
        }
        let schedule = match self.rotate_every.as_deref() {
            None => None,
            Some(when) => Some(parse_schedule(when).map_err(|e| format!("--rotate-every: {e}"))?),
        };
        let mut retention = RetentionPolicy::new().max_count(self.max_backups);
        if let Some(age) = &self.max_age {
            let age = parse_duration(age).map_err(|e| format!("--max-age: {e}"))?;
            retention = retention.max_age(age);
        }
        if let Some(total) = &self.max_total {
            let total = parse_size(total).map_err(|e| format!("--max-total: {e}"))?;
            retention = retention.max_total_bytes(total);
        }
        let mode = u32::from_str_radix(&self.mode, 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| {
                format!(
                    "--mode: {:?} is invalid: expected an octal file mode from 0 to 777",
                    self.mode
                )
            })?;
        if self.compress_level > 9 {
            return Err(format!(
                "--compress-level: {} is invalid: it must be 0 to 9",
                self.compress_level
            ));
        }
        let buffer = parse_size(&self.buffer).map_err(|e| format!("--buffer: {e}"))?;
        let buffer = usize::try_from(buffer)
            .ok()
            .filter(|b| b.is_power_of_two() && (32..=1 << 31).contains(b))
            .ok_or_else(|| {
                format!(
                    "--buffer: {:?} is invalid: it must be a power of two from 32B to 2GiB",
                    self.buffer
                )
            })?;
        let backpressure = match self.on_full.as_str() {
            "block" => Backpressure::Block,
            "drop" => Backpressure::Drop,
            other => {
                return Err(format!(
                    "--on-full: {other:?} is invalid: expected block or drop"
                ));
            }
        };
        let (sync_on_rotate, fsync) = match self.fsync.as_str() {
            "never" => (false, Fsync::Never),
            "rotate" => (true, Fsync::Never),
            other => match (parse_duration(other), parse_size(other)) {
                (Ok(d), _) => (true, Fsync::Every(d)),
                (_, Ok(0)) => {
                    return Err(format!(
                        "--fsync: {other:?} is invalid: a size must be at least 1 byte"
                    ));
                }
                (_, Ok(n)) => (true, Fsync::EveryBytes(n)),
                (Err(_), Err(_)) => {
                    return Err(format!(
                        "--fsync: {other:?} is invalid: expected never, rotate, a size \
                         (1MB) or a duration (5s)"
                    ));
                }
            },
        };
        let file = Options::default()
            .sync_on_rotate(sync_on_rotate)
            .fsync(fsync)
            .compress(self.compress.then_some(self.compress_level))
            .checksum(self.checksum)
            .max_size(Some(max_size))
            .schedule(schedule)
            .retention(retention)
            .file_mode(mode);
        Ok(WriterOptions::default()
            .file(file)
            .buffer(buffer)
            .backpressure(backpressure)
            // The whole line is in memory already; never refuse one for its length.
            .max_record_len(usize::MAX))
    }
}

fn parse_schedule(when: &str) -> Result<Schedule, String> {
    match when {
        "hourly" => Ok(Schedule::HOURLY),
        "daily" => Schedule::daily(0).map_err(|e| e.to_string()),
        "weekly" => {
            Schedule::weekly(lethe_core::civil::Weekday::Monday, 0).map_err(|e| e.to_string())
        }
        other => {
            let d = parse_duration(other).map_err(|e| e.to_string())?;
            Schedule::every(d).map_err(|e| e.to_string())
        }
    }
}
