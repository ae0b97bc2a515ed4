//! Helpers shared by lethe-std's integration tests: directory listings, reading every
//! segment back, a small tmpfs for full-disk tests, and running the real `gzip` and
//! `sha256sum` (those in `common.rs`, which lethe-cli's tests include too).
#![allow(dead_code)] // each test file uses its own subset

pub mod alloc;
mod common;
pub mod faultfs;

#[allow(unused_imports)] // each test file uses its own subset
pub use common::*;

use std::fs;
use std::path::Path;

/// Whether io_uring is unusable here (`lethe_std::uring::probe`); if so it reports
/// `test: why` through [`missing`] (a failure in CI, a SKIP elsewhere) and the caller
/// returns.
#[cfg(feature = "uring")]
pub fn uring_unavailable(test: &str) -> bool {
    match lethe_std::uring::probe() {
        Ok(()) => false,
        Err(e) => {
            missing(format_args!("{test}: {e}"));
            true
        }
    }
}

/// Polls `done` every millisecond for up to 10 s (for work a background thread finishes);
/// whether it came to hold.
pub fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    done()
}

/// Every JSON line of the log at `dir/active` (backups in order, then the active file),
/// parsed, after checking that it rotated at least once.
pub fn json_lines(dir: &Path, active: &str) -> Vec<serde_json::Value> {
    let segments = segments(dir, active);
    assert!(segments.len() >= 2, "the file rotated");
    let text: String = segments
        .iter()
        .map(|s| String::from_utf8(s.clone()).unwrap())
        .collect();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every backup of `active` (raw, or decompressed `.gz`) in name order, then the active
/// file: one entry per segment.
pub fn segments(dir: &Path, active: &str) -> Vec<Vec<u8>> {
    let stem = active.split('.').next().unwrap_or(active);
    let mut out = Vec::new();
    for n in names(dir) {
        if n == active || !n.starts_with(&format!("{stem}.")) {
            continue;
        }
        let p = dir.join(&n);
        if n.ends_with(".gz") {
            out.push(gunzip(&p));
        } else if !n.ends_with(".sha256") && !n.ends_with(".tmp") {
            out.push(fs::read(&p).unwrap());
        }
    }
    out.push(fs::read(dir.join(active)).unwrap_or_default());
    out
}

/// All segments of `active` joined: what was written, in order.
pub fn contents(dir: &Path, active: &str) -> String {
    String::from_utf8(segments(dir, active).concat()).unwrap()
}

/// Writes 50 records of 300 bytes in one batch, then 2 more, through a file opened with
/// `options` and `Fsync::EveryBytes(1000)` (no size limit), and checks that an fsync ran
/// after every 4th record: 12 in the batch (600 bytes left unsynced), a 13th after the
/// second record of the next, and that the file holds every byte once. `case` names the
/// run in failures.
pub fn check_every_bytes_fsync_points(options: lethe_std::Options, case: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut file = lethe_std::RotatingFile::open(
        dir.path().join("app.log"),
        options
            .max_size(None)
            .fsync(lethe_std::Fsync::EveryBytes(1000)),
    )
    .unwrap();
    let records: Vec<String> = (0..50).map(|i| format!("{i:0>299}\n")).collect();
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    file.write_batch(&slices, 0).unwrap();
    assert_eq!(file.stats().syncs, 12, "{case}: {:?}", file.stats());
    file.write_batch(&slices[..2], 0).unwrap();
    assert_eq!(file.stats().syncs, 13, "{case}: {:?}", file.stats());
    let mut expected = records.concat();
    expected.push_str(&records[..2].concat());
    assert_eq!(
        fs::read_to_string(dir.path().join("app.log")).unwrap(),
        expected,
        "{case}"
    );
    assert_eq!(file.stats().errors, 0, "{case}");
}

/// Makes one formatter for one destination.
pub type MakeFormatter = fn() -> Box<dyn lethe_std::logger::Formatter>;

/// `builder` with two file destinations in `dir` for each `(name, make)` of `formats`:
/// `NAME.big`, whose 64 KiB reservation takes every record in place in the ring, and
/// `NAME.small`, whose `small`-byte reservation sends longer records down the oversized
/// path (formatted into a `Vec`, then copied).
pub fn fast_and_oversized_files(
    mut builder: lethe_std::logger::LoggerBuilder,
    dir: &Path,
    formats: &[(&str, MakeFormatter)],
    small: usize,
) -> lethe_std::logger::LoggerBuilder {
    use lethe_std::logger::{Destination, Out, Record};
    for (name, make) in formats {
        for (suffix, reservation) in [("big", 64 << 10), ("small", small)] {
            let file = format!("{name}.{suffix}");
            let boxed = make();
            builder = builder.destination(
                Destination::open_file(dir.join(&file), lethe_std::WriterOptions::default())
                    .unwrap()
                    .name(&file)
                    .reservation(reservation)
                    .formatter(move |r: &Record<'_>, out: &mut Out<'_, '_>| boxed.format(r, out)),
            );
        }
    }
    builder
}

/// Holds a [`Writer`](lethe_std::Writer)'s consumer thread so that it cannot make
/// progress (a metrics callback that blocks) until this is dropped.
pub struct StuckConsumer {
    /// `true` while the consumer is held.
    gate: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl StuckConsumer {
    /// Makes `writer`'s consumer block in its next metrics callback, and returns once
    /// it does: records written afterwards stay in the ring until this is dropped.
    pub fn hold(writer: &lethe_std::Writer) -> StuckConsumer {
        let gate = std::sync::Arc::new((std::sync::Mutex::new(true), std::sync::Condvar::new()));
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let held = std::sync::Arc::clone(&gate);
        writer.set_metrics_callback(std::time::Duration::ZERO, move |_| {
            let (lock, released) = &*held;
            let mut holding = lock.lock().unwrap();
            if *holding {
                let _ = entered_tx.send(());
            }
            while *holding {
                holding = released.wait(holding).unwrap();
            }
        });
        entered_rx.recv().unwrap();
        StuckConsumer { gate }
    }
}

impl Drop for StuckConsumer {
    fn drop(&mut self) {
        let (lock, released) = &*self.gate;
        *lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = false;
        released.notify_all();
    }
}
