//! The comparison harness behind `cargo run --release -p lethe-benches --bin compare`
//! (issue 8): Lethe next to the loggers a Rust user would otherwise pick, on the same
//! machine, in the same run.
//!
//! The harness binary runs every (contender, workload) pair in a child process of its own
//! (a re-exec of itself with `--child`), because several contenders install the
//! process-global `log` or `tracing` logger, which can be set only once per process. A
//! child also gives each contender a clean peak RSS and allocation count. The child
//! prints one `RESULT` line on stdout, which the parent parses ([`report::ChildResult`]).
//!
//! - [`workload`]: the five workloads and the records they write;
//! - [`contender`]: each contender, set up as its documentation recommends, behind one
//!   small trait;
//! - [`child`]: one run: the latency phase, the timed throughput phase, verification;
//! - [`verify`]: counts the lines in the output files (decompressing `.gz`);
//! - [`alloc`]: the counting global allocator;
//! - [`report`]: the parent: children, the `dd` and `memcpy` baselines, the markdown table.
//!
//! # Verification: every line, and every line in time
//!
//! Each run's files are counted twice against the lines the run wrote:
//!
//! 1. **When the clock stops**, right after the contender's timed flush or guard drop
//!    returned and before its teardown ([`verify::count_at_stop`]). Every line must be in
//!    the files by then; a run whose count is short here but complete in the end is
//!    marked `LATE: N lines were not in the files when the clock stopped; all present
//!    after X ms`, and its throughput is not reported: its flush returned before its data
//!    was written (tracing-appender's guard, for one, stops waiting after about 1 s).
//!    Background compression may be running at this point (Lethe's workers, fast_log's
//!    packer), so this count is a snapshot that counts each line once through it: the
//!    directory is listed once; every raw file is opened and only its length at that
//!    moment is counted; a compressed copy (`S.gz` of `S`, or fast_log's `S.gz` of
//!    `S.log`) whose raw original is listed is skipped, as is a Lethe `.gz.tmp` being
//!    written; a raw file removed after the listing is read from its `.gz`, which every
//!    contender here finishes before it removes the raw file.
//! 2. **In the end**, after the untimed teardown ([`verify::count_dir`]): every file as it
//!    is, so a raw file left beside its compressed copy counts twice (`EXTRA`). A
//!    contender still compressing in the background leaves a segment raw and
//!    half-compressed for a while, so this count is retried for up to 30 s until it is
//!    right and every `.gz` is complete. Short in the end is `LOST` (or `DROPPED`, when
//!    the contender counts its drops).

pub mod alloc;
pub mod child;
pub mod contender;
pub mod report;
pub mod verify;
pub mod workload;
