//! `lethe [OPTIONS] <FILE>`: appends standard input to FILE, one line per record, rotating
//! and retaining backups as configured. Run `lethe --help` for the options and defaults.
//!
//! Exit status: 0 when all input reached FILE (or its backups); 1 when an I/O error
//! prevented logging (the path and the OS error are printed) or some lines could not be
//! written; 2 for bad usage or configuration (one line naming the value and the rule).
#![forbid(unsafe_code)]

mod args;

/// Writes one line to stderr, ignoring failure: a closed or full stderr must never turn
/// into a panic (which `eprintln!` would do).
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use std::io::{self, BufRead, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

use lethe_std::Writer;

fn main() -> ExitCode {
    let args = args::Args::parse();
    let options = match args.options() {
        Ok(o) => o,
        Err(msg) => {
            say!("lethe: {msg}");
            return ExitCode::from(2);
        }
    };
    let log = match Writer::open(&args.file, options) {
        Ok(w) => w,
        Err(e) => {
            say!("lethe: {e}");
            return ExitCode::from(1);
        }
    };
    if let lethe_std::IoStatus::Fallback(_) = log.metrics().file.io {
        // The reason follows from the error handler (it was reported at open).
        say!("lethe: warning: io_uring cannot be used here; writing with ordinary syscalls");
    }
    log.set_error_handler(rate_limited_report());
    // A file that does not end in a newline holds a torn last line (the previous run was
    // killed in the middle of a write) or a final line without one: start on a new line,
    // so the first line of this run is whole.
    if ends_mid_line(&args.file)
        && let Err(e) = log.write_record(b"\n")
    {
        say!("lethe: {e}");
        return ExitCode::from(1);
    }
    let report = pipe(io::stdin().lock(), &log);
    // Write everything out, then wait for compression, checksums and retention.
    let metrics = match log.close() {
        Ok(m) => m,
        Err(e) => {
            say!("lethe: {e}");
            return ExitCode::from(1);
        }
    };
    if args.stats {
        let f = metrics.file;
        say!(
            "lethe: {} lines, {} bytes, {} rotations, {} compressed, {} checksums, \
             {} backups removed, {} dropped, {} lines lost, {} errors",
            report.lines,
            report.bytes,
            f.rotations,
            f.compressions,
            f.checksums,
            f.backups_removed,
            metrics.dropped,
            report.lost,
            f.errors
        );
    }
    if let Some(e) = report.read_error {
        say!("lethe: reading standard input: {e}");
        return ExitCode::from(1);
    }
    if report.lost > 0 {
        say!("lethe: {} lines could not be written", report.lost);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Does the file at `path` exist and end with something other than a newline?
fn ends_mid_line(path: &std::path::Path) -> bool {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] != b'\n'
}

/// What [`pipe`] did.
struct Report {
    lines: u64,
    bytes: u64,
    lost: u64,
    read_error: Option<io::Error>,
}

/// An error handler that prints at most one error per second on stderr and says how many
/// it held back, so a full disk does not flood the terminal (or a full stderr).
fn rate_limited_report() -> impl FnMut(&lethe_std::Error) + Send + 'static {
    let mut last: Option<std::time::Instant> = None;
    let mut held = 0u64;
    move |e| {
        if last.is_some_and(|t| t.elapsed().as_secs() < 1) {
            held += 1;
            return;
        }
        if held > 0 {
            say!("lethe: {e} ({held} similar errors not shown)");
        } else {
            say!("lethe: {e}");
        }
        held = 0;
        last = Some(std::time::Instant::now());
    }
}

/// Copies `input` into `log`, one line (newline included) per record. A final line
/// without a newline is written as it is. A line the writer refuses is reported and
/// counted; the copy goes on with the next line.
fn pipe<R: BufRead>(mut input: R, log: &Writer) -> Report {
    let mut line = Vec::with_capacity(64 * 1024);
    let mut report = Report {
        lines: 0,
        bytes: 0,
        lost: 0,
        read_error: None,
    };
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(n) => {
                report.lines += 1;
                report.bytes += n as u64;
                if let Err(e) = log.write_record(&line) {
                    report.lost += 1;
                    say!("lethe: line {}: {e}", report.lines);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                report.read_error = Some(e);
                break;
            }
        }
    }
    report
}
