//! Embedded logging with `lethe-core` alone: a `static` ring, formatting on the stack,
//! and a drain that hands whole records to the "UART" (here a file).
//!
//! The logging path ([`log_line`]) uses only `core` and lethe-core's default,
//! `no_std`, allocator-free API: it is what firmware would call from tasks or interrupt
//! handlers. The example proves that it allocates nothing with a counting global
//! allocator; the `main` around it (threads, the file standing in for the UART) is the
//! host-side harness.
//!
//! ```sh
//! cargo run -p lethe-core --example embedded -- /tmp/lethe-embedded.log
//! ```

use core::fmt::{self, Write as _};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use lethe_core::ring::StaticRing;

/// 512 slots of 8 bytes: a 4 KiB ring in `.bss`; no allocator needed.
static RING: StaticRing<512> = StaticRing::new();

/// A line formatted on the stack (at most 120 bytes; longer text is cut).
struct Line {
    buf: [u8; 120],
    len: usize,
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The logging path: format on the stack, then one lock-free `write_or_drop`. Never
/// waits and never allocates; a full ring drops the line and counts it
/// (`RING.dropped()`). Returns whether the line was queued.
pub fn log_line(args: fmt::Arguments<'_>) -> bool {
    let mut line = Line {
        buf: [0; 120],
        len: 0,
    };
    let _ = line.write_fmt(args);
    let _ = line.write_str("\n");
    RING.write_or_drop(&line.buf[..line.len])
}

/// The drain (a low-priority task, or the idle loop): hands every committed record to
/// `out` in order and frees its space. Returns the records drained.
pub fn drain(out: &mut impl FnMut(&[u8])) -> usize {
    let Some(mut consumer) = RING.consumer() else {
        return 0; // another drain is running
    };
    let mut n = 0;
    while let Some(batch) = consumer.read() {
        for record in batch.records() {
            out(record);
        }
        n += batch.record_count();
        batch.release();
    }
    n
}

/// Counts the allocations of a thread while it measures, to show that [`log_line`]
/// makes none.
struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while this thread runs the logging calls (other threads' allocations, such as
    /// a test harness's, do not count).
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: defers to the system allocator; counting does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Logs `ticks` rounds of three sensor lines, draining into the file at `path` after
/// each round; returns (lines logged, lines drained, lines dropped, allocations made by
/// the logging calls).
pub fn run(path: &Path, ticks: u32) -> std::io::Result<(usize, usize, usize, usize)> {
    let mut uart = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut failed = None;
    let mut out = |record: &[u8]| {
        if let Err(e) = uart.write_all(record) {
            failed.get_or_insert(e);
        }
    };
    let (mut logged, mut drained, mut allocations) = (0, 0, 0);
    for tick in 0..ticks {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        MEASURING.with(|m| m.set(true));
        for sensor in 0..3u32 {
            let millivolts = 3300 - (tick * 7 + sensor * 11) % 400;
            logged += usize::from(log_line(format_args!(
                "t={tick} sensor={sensor} mv={millivolts}"
            )));
        }
        MEASURING.with(|m| m.set(false));
        allocations += ALLOCATIONS.load(Ordering::Relaxed) - before;
        drained += drain(&mut out);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    uart.flush()?;
    Ok((logged, drained, RING.dropped(), allocations))
}

#[allow(dead_code)] // the test includes this file and calls `run`
fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("lethe-embedded.log"),
        PathBuf::from,
    );
    let (logged, drained, dropped, allocations) = run(&path, 1000)?;
    println!(
        "{logged} lines logged, {drained} drained to {}, {dropped} dropped, {allocations} allocations on the logging path",
        path.display()
    );
    assert_eq!(allocations, 0, "the logging path allocated");
    assert_eq!(logged, drained);
    Ok(())
}
