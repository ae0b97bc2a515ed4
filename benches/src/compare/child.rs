//! One run, in a child process of its own: set the contender up, measure the caller's
//! latency in bursts, then time the throughput phase up to and including the
//! contender's own flush, count what the files hold at that moment, tear the contender
//! down, and count what reached the files in the end.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::compare::alloc::{process_allocations, thread_allocations};
use crate::compare::contender::{self, Handle, Kind, Target};
use crate::compare::report::ChildResult;
use crate::compare::verify;
use crate::compare::workload::Workload;

/// Records per burst in the latency phase (as in Quill's benchmark); the caller spins
/// [`PAUSE`] between bursts, so a contender whose worker sleeps between bursts has to be
/// woken, as in a real program.
pub use crate::{BURST, PAUSE, percentile};

/// What one child runs.
#[derive(Clone, Debug)]
pub struct Params {
    /// The contender.
    pub kind: Kind,
    /// The workload.
    pub workload: Workload,
    /// Records in the timed throughput phase (all threads together).
    pub records: u64,
    /// Bursts of [`BURST`] records per thread in the latency phase.
    pub bursts: u64,
    /// An empty directory for the contender's files.
    pub dir: PathBuf,
}

/// Runs `params` in this process and returns what it measured; a failure is reported in
/// [`ChildResult::error`].
pub fn run(params: &Params) -> ChildResult {
    let mut result = ChildResult::default();
    if let Err(e) = run_inner(params, &mut result) {
        result.error = Some(e);
    }
    result
}

fn run_inner(p: &Params, r: &mut ChildResult) -> Result<(), String> {
    let threads = p.workload.threads() as u64;
    let mut target = contender::open(p.kind, p.workload, &p.dir)
        .map_err(|e| format!("setting up {}: {e}", p.kind.name()))?;

    // 1. Latency: every thread writes `bursts` bursts, timing each call.
    let latency_records = p.bursts * BURST as u64 * threads;
    let mut samples = Vec::new();
    if p.bursts > 0 {
        let target = &*target;
        let per_thread: Vec<Result<Vec<u32>, String>> = std::thread::scope(|s| {
            let joins: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || latency(target, t * p.bursts * BURST as u64, p.bursts)))
                .collect();
            joins
                .into_iter()
                .map(|j| j.join().expect("latency thread"))
                .collect()
        });
        for v in per_thread {
            samples.extend(v?);
        }
        (r.p50, r.p99, r.p999) = crate::percentiles(&mut samples);
        r.latency_samples = samples.len() as u64;
    }
    target.settle();
    std::thread::sleep(Duration::from_millis(100));

    // 2. Throughput: `records` records as fast as the threads write them, then the
    //    contender's own flush (or guard drop), all on the clock.
    let per_thread = p.records / threads;
    let barrier = Barrier::new(threads as usize + 1);
    let allocs_before = process_allocations();
    let (elapsed, caller_allocs) = {
        let target_ref: &dyn Target = &*target;
        let (started, caller_allocs) = std::thread::scope(|s| -> Result<_, String> {
            let joins: Vec<_> = (0..threads)
                .map(|t| {
                    let barrier = &barrier;
                    s.spawn(move || -> Result<u64, String> {
                        let mut h = target_ref.handle();
                        let first = latency_records + t * per_thread;
                        barrier.wait();
                        let a = thread_allocations();
                        for seq in first..first + per_thread {
                            h.record(seq).map_err(|e| format!("record {seq}: {e}"))?;
                        }
                        let allocs = thread_allocations() - a;
                        drop(h);
                        Ok(allocs)
                    })
                })
                .collect();
            let started = Instant::now();
            barrier.wait();
            let mut allocs = 0;
            for j in joins {
                allocs += j.join().expect("writer thread")?;
            }
            Ok((started, allocs))
        })?;
        target.finish().map_err(|e| format!("flush: {e}"))?;
        (started.elapsed(), caller_allocs)
    };
    let stopped = Instant::now();
    let process_allocs = process_allocations() - allocs_before;
    let timed = per_thread * threads;
    r.records = timed;
    r.elapsed_ns = elapsed.as_nanos() as u64;
    r.caller_allocs = caller_allocs;
    r.process_allocs = process_allocs;
    r.expected_lines = latency_records + timed;

    // 3. What the files hold now that the clock has stopped: every line must be there
    //    already. Background compression may be running; `count_at_stop` counts each
    //    line once through it (see its docs for the rule).
    let at_stop = verify::count_at_stop(&p.dir);
    r.lines_at_stop = at_stop.as_ref().map_or(0, |c| c.lines);

    // 4. Untimed teardown (Lethe: close, which waits for background compression).
    let closing = Instant::now();
    r.reported_dropped = target.close().map_err(|e| format!("close: {e}"))?;
    r.close_ns = closing.elapsed().as_nanos() as u64;
    r.peak_rss_kib = match peak_rss_kib() {
        Ok(kib) => Some(kib),
        Err(e) => {
            eprintln!(
                "compare: {} {}: peak RSS unavailable: {e}",
                p.kind.name(),
                p.workload
            );
            None
        }
    };

    // 5. The final count, of every file as it is. Background compression of some
    //    contenders (fast_log's packer) may still be running after their flush returned,
    //    with a segment both raw and half-compressed: recount for up to 30 s until the
    //    count is right and every `.gz` is complete. If the count at the stop was short,
    //    the row is marked late with the time this took ([`ChildResult::problem`]).
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        let counted = verify::count_dir(&p.dir);
        let done = Instant::now() > deadline;
        match counted {
            Ok(c) => {
                r.found = c;
                if c.lines == r.expected_lines || done {
                    break c;
                }
            }
            Err(e) if done => {
                return Err(format!("counting lines 30 s after the flush returned: {e}"));
            }
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if found.lines == r.expected_lines && r.lines_at_stop < r.expected_lines {
        r.all_present_ns = stopped.elapsed().as_nanos() as u64;
    }
    if let Err(e) = at_stop {
        return Err(format!("counting the files when the clock stopped: {e}"));
    }
    Ok(())
}

/// One thread's latency phase: `bursts` bursts of [`BURST`] timed records, a spinning
/// [`PAUSE`] between bursts ([`crate::time_bursts`]). Returns the nanoseconds of each call.
fn latency(target: &dyn Target, first_seq: u64, bursts: u64) -> Result<Vec<u32>, String> {
    let mut h: Box<dyn Handle + '_> = target.handle();
    let mut seq = first_seq;
    crate::time_bursts(bursts as usize, || {
        h.record(black_box(seq))
            .map_err(|e| format!("record {seq}: {e}"))?;
        seq += 1;
        Ok(())
    })
}

/// The cost of the timing itself (two reads of the [`Stopwatch`](crate::Stopwatch) around nothing), in the same
/// bursts and pauses: (p50, p99, p99.9) in ns. Every latency figure includes it.
pub fn timer_overhead(bursts: u64) -> (u64, u64, u64) {
    crate::percentiles(&mut crate::time_bursts_of_nothing(bursts as usize))
}

/// This process's peak resident set (`VmHWM` in `/proc/self/status`), in KiB.
///
/// # Errors
///
/// What failed: reading the file, or finding and parsing the `VmHWM` line.
pub fn peak_rss_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("reading /proc/self/status: {e}"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM line in /proc/self/status")?;
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| format!("unreadable {line:?} in /proc/self/status"))
}
