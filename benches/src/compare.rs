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
//! - [`machine`]: the machine description printed at the head of the output;
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
//!
//! # What the clock includes, and W4's compression
//!
//! The clock stops when the contender's own flush or guard drop returns, the first
//! call its API offers that waits until every record is written (in the page cache); work
//! that this call does not wait for runs untimed. That is the same rule for every
//! contender, but in W4 it puts the gzip of rotated files inside or outside the timed
//! region depending on where each contender compresses:
//!
//! - **lethe-async, lethe-uring, lethe-sync**: on Lethe's background worker thread.
//!   While it overlaps the timed phase it competes for the CPUs, but `flush` does not
//!   wait for it (`SyncWriter` has nothing to flush): the rest runs in the untimed
//!   `close`, which also does the final `fsync` (the check column shows
//!   `close N ms untimed` when that took 50 ms or more).
//! - **fast_log**: on its packer thread (`GZipPacker`); its `flush` waits for the writer
//!   thread only, so the rest is untimed (the final count waits for it).
//! - **flexi_logger**: on its cleanup thread. Its async `flush()` only queues a flush
//!   request and returns before the data is written, so the timed call is `shutdown()`,
//!   the only one that waits for the writer thread; it also joins the cleanup thread, so
//!   all of its compression is timed.
//! - **log4rs**: the `FixedWindowRoller` compresses on the logging thread, inside the
//!   record call that rotates (`background_rotation` is off): all timed, and in that
//!   caller's latency.
//! - **file-rotate**: `Compression::OnRotate(0)` compresses inside the `write` that
//!   rotates, on the caller's thread under the mutex: all timed.
//!
//! So W4 times Lethe and fast_log without the compression still running when their flush
//! returns, and flexi_logger, log4rs and file-rotate with all of theirs. Timing only the
//! flush for flexi_logger too is not possible through its API; timing Lethe's `close`
//! instead would add a final `fsync` that no other contender does.

pub mod alloc;
pub mod child;
pub mod contender;
pub mod machine;
pub mod report;
pub mod verify;
pub mod workload;
