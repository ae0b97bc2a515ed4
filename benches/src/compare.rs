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

pub mod alloc;
pub mod child;
pub mod contender;
pub mod report;
pub mod verify;
pub mod workload;
