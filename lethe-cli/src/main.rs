//! `lethe [OPTIONS] <FILE>`: appends standard input to FILE, one line per record, rotating
//! and retaining backups as configured. Run `lethe --help` for the options and defaults.
//!
//! Signals: SIGHUP reopens FILE (after an external `mv`), SIGUSR1 rotates now, SIGTERM
//! and SIGINT stop reading (after what a pipe already holds), write everything out,
//! finish the background work and exit 0; a second SIGTERM/SIGINT exits at once with 1.
//!
//! Exit status: 0 when all input read reached FILE (or its backups); 1 when an I/O error
//! prevented logging (the path and the OS error are printed) or some lines could not be
//! written; 2 for bad usage or configuration (one line naming the value and the rule).
#![forbid(unsafe_code)]

mod args;
mod pump;

/// Writes one line to stderr, ignoring failure: a closed or full stderr must never turn
/// into a panic (which `eprintln!` would do).
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use lethe_std::{Op, Writer};

fn main() -> ExitCode {
    let args = match args::Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help or --version; a closed stdout is not an error worth a panic.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            say!("lethe: {} (see lethe --help)", args::clap_message(&e));
            return ExitCode::from(2);
        }
    };
    let options = match args.options() {
        Ok(o) => o,
        Err(msg) => {
            say!("lethe: {msg}");
            return ExitCode::from(2);
        }
    };
    // Before the file is opened, so a signal that arrives from now on is handled.
    let signals = match pump::Signals::install() {
        Ok(s) => s,
        Err(e) => {
            say!("lethe: installing signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let shared = options.is_shared();
    let log = match Writer::open(&args.file, options) {
        Ok(w) => w,
        Err(e) if e.op() == Op::CheckPath => {
            // The path itself is unusable (a directory, no file name): bad usage.
            say!("lethe: FILE: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            say!("lethe: {e}");
            return ExitCode::from(1);
        }
    };
    if let lethe_std::IoStatus::Fallback(_) = log.metrics().file.io {
        // The reason follows from the error handler (it was reported at open).
        say!("lethe: warning: io_uring cannot be used here; writing with ordinary syscalls");
    }
    let mut background = pump::RateLimited::new();
    log.set_error_handler(move |e| background.say(e));
    // A file that does not end in a newline holds a torn last line (the previous run was
    // killed in the middle of a write) or a final line without one: start on a new line,
    // so the first line of this run is whole. Not in shared mode: there, another process
    // may be writing right now, and its line would be split by this newline.
    if !shared
        && ends_mid_line(&args.file)
        && let Err(e) = log.write_record(b"\n")
    {
        say!("lethe: {e}");
        return ExitCode::from(1);
    }
    let mut errors = pump::RateLimited::new();
    let report = pump::pump(&log, &signals, &mut errors);
    // Write everything out, then wait for compression, checksums and retention; the
    // final counters come back even if that fails (with the lines close gave up on).
    let (metrics, closed) = log.close_reporting();
    let close_error = closed.err();
    let lost = report.lost + metrics.lost_at_close;
    if args.stats {
        let f = metrics.file;
        say!(
            "lethe: {} lines, {} bytes, {} rotations, {} fsyncs, {} compressed, {} checksums, \
             {} backup files removed, {} dropped, {} lines lost, {} errors, {} long lines split{}",
            report.lines,
            report.bytes,
            f.rotations,
            f.syncs,
            f.compressions,
            f.checksums,
            f.backups_removed,
            metrics.dropped,
            lost,
            f.errors,
            report.split,
            if report.stopped {
                "; stopped by a signal"
            } else {
                ""
            }
        );
    }
    let mut failed = false;
    if let Some(e) = close_error {
        say!("lethe: {e}");
        failed = true;
    }
    if let Some(e) = report.read_error {
        say!("lethe: reading standard input: {e}");
        failed = true;
    }
    if lost > 0 {
        say!("lethe: {lost} lines could not be written");
        failed = true;
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Does the file at `path` exist and end with something other than a newline?
fn ends_mid_line(path: &std::path::Path) -> bool {
    use std::io::{Read as _, Seek as _, SeekFrom};
    // Only a regular file has a last line: a device such as /dev/full reads as zeros, and
    // opening a FIFO to read it would block (so look before opening).
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0) {
        return false;
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] != b'\n'
}
