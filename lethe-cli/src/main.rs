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

use lethe_std::RotatingFile;

fn main() -> ExitCode {
    let args = args::Args::parse();
    let options = match args.options() {
        Ok(o) => o,
        Err(msg) => {
            say!("lethe: {msg}");
            return ExitCode::from(2);
        }
    };
    let mut file = match RotatingFile::open(&args.file, options) {
        Ok(f) => f,
        Err(e) => {
            say!("lethe: {e}");
            return ExitCode::from(1);
        }
    };
    file.set_error_handler(|e| say!("lethe: {e}"));
    let report = pipe(io::stdin().lock(), &mut file);
    // Flush, then wait for compression, checksums and retention to finish.
    let stats = match file.close() {
        Ok(stats) => stats,
        Err(e) => {
            say!("lethe: {e}");
            return ExitCode::from(1);
        }
    };
    if args.stats {
        say!(
            "lethe: {} lines, {} bytes, {} rotations, {} compressed, {} checksums, \
             {} backups removed, {} lines lost, {} errors",
            report.lines,
            report.bytes,
            stats.rotations,
            stats.compressions,
            stats.checksums,
            stats.backups_removed,
            report.lost,
            stats.errors
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

/// What [`pipe`] did.
struct Report {
    lines: u64,
    bytes: u64,
    lost: u64,
    read_error: Option<io::Error>,
}

/// Copies `input` into `file`, one line (newline included) per record. A final line
/// without a newline is written as it is. Write errors are reported on stderr, at most
/// once per second of input so a full disk does not flood it, and counted; the copy goes
/// on with the next line.
fn pipe<R: BufRead, C: lethe_std::clock::Clock>(
    mut input: R,
    file: &mut RotatingFile<C>,
) -> Report {
    let mut line = Vec::with_capacity(64 * 1024);
    let mut report = Report {
        lines: 0,
        bytes: 0,
        lost: 0,
        read_error: None,
    };
    let mut last_report: Option<std::time::Instant> = None;
    let mut unreported = 0u64;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(n) => {
                report.lines += 1;
                report.bytes += n as u64;
                if let Err(e) = file.write_record(&line) {
                    report.lost += 1;
                    unreported += 1;
                    let due = last_report.is_none_or(|t| t.elapsed().as_secs() >= 1);
                    if due {
                        let mut err = io::stderr().lock();
                        let _ = writeln!(err, "lethe: {e} ({unreported} lines lost)");
                        last_report = Some(std::time::Instant::now());
                        unreported = 0;
                    }
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
