//! [`Timestamp::now_fast`]: the system's real time, extrapolated from the CPU's
//! time-stamp counter between regular re-anchorings on the system clock.
//!
//! Reading `CLOCK_REALTIME` through the vDSO costs 20–50 ns (the upper end on virtual
//! machines); reading the time-stamp counter costs a fraction of that. Where the counter
//! is a reliable clock (it runs at a constant rate in every power state, and Linux itself
//! uses it as its clocksource, which it does only once it has checked that the CPUs'
//! counters agree), the time is `anchor_ns + (tsc - anchor_tsc) * ns_per_tick`, with the
//! anchor and the rate taken from the system clock:
//!
//! - The first reads, for [`CALIBRATE_NS`], return the system clock and measure the rate.
//! - After that, every [`RESYNC_NS`], the first reader past the deadline reads the system
//!   clock again, re-measures the rate over the interval since the last anchor, and
//!   re-anchors. So the clock follows the system clock's slewing (NTP) with a lag of one
//!   interval, and a step of the system clock (an administrator setting it) shows within
//!   one interval.
//! - Anywhere else (no constant, non-stop counter; another clocksource; not x86-64;
//!   not Linux), it is [`Timestamp::now`].
//!
//! The state is published through a sequence lock made of atomics: a reader that races a
//! re-anchoring uses the system clock for that read.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering, fence};

use lethe_core::tsc::read_tsc;

use super::record::Timestamp;

/// How long the first measurement of the counter's rate takes (the system clock is used
/// meanwhile).
pub(crate) const CALIBRATE_NS: u64 = 20_000_000;
/// How often the anchor and rate are taken again from the system clock.
pub(crate) const RESYNC_NS: u64 = 1_000_000_000;

const UNKNOWN: u8 = 0;
const CALIBRATING: u8 = 1;
const READY: u8 = 2;
const UNAVAILABLE: u8 = 3;

static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);
/// Even: the fields below are consistent; odd: a re-anchoring is writing them.
static SEQ: AtomicU64 = AtomicU64::new(0);
static ANCHOR_TSC: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds since the Unix epoch at `ANCHOR_TSC`.
static ANCHOR_NS: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per tick, in 32.32 fixed point.
static RATE: AtomicU64 = AtomicU64::new(0);
/// The counter value after which the next reader re-anchors.
static NEXT_TSC: AtomicU64 = AtomicU64::new(0);

fn to_ns(t: Timestamp) -> Option<u64> {
    u64::try_from(t.secs)
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(u64::from(t.nanos))
}

fn from_ns(ns: u64) -> Timestamp {
    Timestamp {
        secs: (ns / 1_000_000_000) as i64,
        nanos: (ns % 1_000_000_000) as u32,
    }
}

/// Whether this machine's counter is a clock: constant rate in every power state, and
/// the kernel's own clocksource (so it checked the CPUs agree).
pub(crate) fn reliable() -> bool {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) || read_tsc().is_none() {
        return false;
    }
    let Ok(cpuinfo) = std::fs::read_to_string("/proc/cpuinfo") else {
        return false;
    };
    let Some(flags) = cpuinfo.lines().find(|l| l.starts_with("flags")) else {
        return false;
    };
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    if !(has("constant_tsc") && has("nonstop_tsc")) {
        return false;
    }
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .is_ok_and(|s| s.trim() == "tsc")
}

/// A system clock reading paired with the counter (read on both sides; the midpoint).
/// The tightest of a few tries, so that a preemption between the reads does not skew it.
fn paired() -> Option<(u64, u64)> {
    let mut best: Option<(u64, u64, u64)> = None;
    for _ in 0..5 {
        let a = read_tsc()?;
        let ns = to_ns(Timestamp::now())?;
        let b = read_tsc()?;
        if b >= a && best.is_none_or(|(width, ..)| b - a < width) {
            best = Some((b - a, a + (b - a) / 2, ns));
        }
    }
    best.map(|(_, tsc, ns)| (tsc, ns))
}

/// Decides whether the counter is used, and takes the first anchor. Called when a logger
/// is built (so that the file reads here never happen on a logging call), and by the
/// first [`Timestamp::now_fast`] otherwise.
pub(crate) fn init() {
    if MODE.load(Ordering::Relaxed) != UNKNOWN {
        return;
    }
    let first = if reliable() { paired() } else { None };
    let Some((tsc, ns)) = first else {
        MODE.store(UNAVAILABLE, Ordering::Relaxed);
        return;
    };
    if SEQ
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return; // another thread is initialising
    }
    ANCHOR_TSC.store(tsc, Ordering::Relaxed);
    ANCHOR_NS.store(ns, Ordering::Relaxed);
    SEQ.store(2, Ordering::Release);
    MODE.store(CALIBRATING, Ordering::Release);
}

/// The rate, in 32.32 fixed-point nanoseconds per tick, from two anchors; `None` if it
/// makes no sense (the system clock went back, or the counter did not move).
fn rate(tsc0: u64, ns0: u64, tsc1: u64, ns1: u64) -> Option<u64> {
    let ticks = tsc1.checked_sub(tsc0).filter(|&t| t > 0)?;
    let ns = ns1.checked_sub(ns0).filter(|&n| n > 0)?;
    u64::try_from((u128::from(ns) << 32) / u128::from(ticks))
        .ok()
        .filter(|&r| r > 0)
}

/// Takes a new anchor (and rate, from the previous anchor) if this thread wins the
/// sequence lock at `seq`. Returns the system time it read, or `None`.
#[cold]
fn reanchor(seq: u64) -> Option<Timestamp> {
    SEQ.compare_exchange(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
        .ok()?;
    fence(Ordering::Release);
    let old_tsc = ANCHOR_TSC.load(Ordering::Relaxed);
    let old_ns = ANCHOR_NS.load(Ordering::Relaxed);
    let now = paired();
    let result = now.and_then(|(tsc, ns)| {
        let r = rate(old_tsc, old_ns, tsc, ns)?;
        // Ticks per RESYNC_NS at this rate.
        let interval = u64::try_from((u128::from(RESYNC_NS) << 32) / u128::from(r)).ok()?;
        ANCHOR_TSC.store(tsc, Ordering::Relaxed);
        ANCHOR_NS.store(ns, Ordering::Relaxed);
        RATE.store(r, Ordering::Relaxed);
        NEXT_TSC.store(tsc.saturating_add(interval), Ordering::Relaxed);
        Some(from_ns(ns))
    });
    match (now, result) {
        (_, Some(_)) => {}
        // The system clock went back or the counter misbehaved: start the measurement
        // again from here (the system clock is used meanwhile).
        (Some((tsc, ns)), None) => {
            ANCHOR_TSC.store(tsc, Ordering::Relaxed);
            ANCHOR_NS.store(ns, Ordering::Relaxed);
            MODE.store(CALIBRATING, Ordering::Relaxed);
        }
        (None, None) => MODE.store(UNAVAILABLE, Ordering::Relaxed),
    }
    SEQ.store(seq + 2, Ordering::Release);
    result
}

/// The slow path: not calibrated yet, or no usable counter.
#[cold]
fn not_ready(mode: u8) -> Timestamp {
    if mode == UNKNOWN {
        init();
    }
    if MODE.load(Ordering::Acquire) != CALIBRATING {
        return Timestamp::now();
    }
    let seq = SEQ.load(Ordering::Acquire);
    let start_ns = ANCHOR_NS.load(Ordering::Relaxed);
    fence(Ordering::Acquire);
    let now = Timestamp::now();
    if seq & 1 == 0
        && SEQ.load(Ordering::Relaxed) == seq
        && to_ns(now).is_some_and(|ns| ns.saturating_sub(start_ns) >= CALIBRATE_NS)
        && reanchor(seq).is_some()
    {
        MODE.compare_exchange(CALIBRATING, READY, Ordering::Release, Ordering::Relaxed)
            .ok();
    }
    now
}

/// See [`Timestamp::now_fast`].
#[inline]
pub(crate) fn now() -> Timestamp {
    let mode = MODE.load(Ordering::Acquire);
    if mode != READY {
        return not_ready(mode);
    }
    let seq = SEQ.load(Ordering::Acquire);
    let anchor_tsc = ANCHOR_TSC.load(Ordering::Relaxed);
    let anchor_ns = ANCHOR_NS.load(Ordering::Relaxed);
    let rate = RATE.load(Ordering::Relaxed);
    let next = NEXT_TSC.load(Ordering::Relaxed);
    fence(Ordering::Acquire);
    if seq & 1 != 0 || SEQ.load(Ordering::Relaxed) != seq {
        return Timestamp::now(); // a re-anchoring is in progress
    }
    let Some(tsc) = read_tsc() else {
        return Timestamp::now();
    };
    if tsc >= next || tsc < anchor_tsc {
        return reanchor(seq).unwrap_or_else(Timestamp::now);
    }
    let delta = ((u128::from(tsc - anchor_tsc) * u128::from(rate)) >> 32) as u64;
    from_ns(anchor_ns + delta)
}

/// Whether [`Timestamp::now_fast`] reads the counter on this machine (after its first
/// calibration).
#[cfg(test)]
fn active() -> bool {
    MODE.load(Ordering::Relaxed) == READY
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    /// How far the counter clock may be from the system clock read just before and just
    /// after it (the measured worst case is a few microseconds; see docs/BENCHMARKS.md).
    const BOUND_NS: u64 = 100_000;

    /// Reads the counter clock between two system clock reads, many times over 300 ms
    /// and across a re-anchoring, and checks it stays within [`BOUND_NS`] of them.
    #[test]
    fn follows_the_system_clock() {
        init();
        if MODE.load(Ordering::Relaxed) == UNAVAILABLE {
            // Straight to stderr, which the test harness does not capture.
            let _ = writeln!(
                std::io::stderr(),
                "SKIP: the time-stamp counter is not a reliable clock here"
            );
            return;
        }
        // The first calibration takes CALIBRATE_NS; the clock is the system's meanwhile.
        let start = std::time::Instant::now();
        while !active() && start.elapsed() < std::time::Duration::from_secs(5) {
            let _ = now();
        }
        assert!(active(), "still calibrating after 5 s");
        let mut worst = 0u64;
        let mut check = |rounds: u32| {
            for _ in 0..rounds {
                let before = to_ns(Timestamp::now()).unwrap();
                let t = to_ns(now()).unwrap();
                let after = to_ns(Timestamp::now()).unwrap();
                let off = before.saturating_sub(t).max(t.saturating_sub(after));
                worst = worst.max(off);

                assert!(
                    off <= BOUND_NS,
                    "{t} outside [{before}, {after}] by {off} ns"
                );
            }
        };
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        while std::time::Instant::now() < until {
            check(1_000);
        }
        // A re-anchoring (as every RESYNC_NS) keeps it on the system clock.
        let seq = SEQ.load(Ordering::Acquire);
        if seq & 1 == 0 {
            let _ = reanchor(seq);
        }
        check(100_000);
        println!("worst distance outside the system clock's bracket: {worst} ns");
    }

    #[test]
    fn rate_rejects_nonsense() {
        assert_eq!(rate(10, 10, 10, 20), None);
        assert_eq!(rate(10, 20, 20, 10), None);
        assert_eq!(rate(10, 10, 5, 20), None);
        // 1 ns per tick.
        assert_eq!(rate(0, 0, 1_000, 1_000), Some(1 << 32));
        // 1/3 ns per tick, rounded down.
        assert_eq!(rate(0, 0, 3_000, 1_000), Some((1u64 << 32) / 3));
    }

    #[test]
    fn ns_conversions_round_trip() {
        let t = Timestamp {
            secs: 1_795_000_000,
            nanos: 999_999_999,
        };
        assert_eq!(from_ns(to_ns(t).unwrap()), t);
        assert_eq!(to_ns(Timestamp { secs: -1, nanos: 0 }), None);
    }
}
