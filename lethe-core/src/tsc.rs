//! The CPU's time-stamp counter, for clocks that calibrate it against the system's real
//! time (see `lethe_std::logger::Timestamp::now_fast`).

/// The time-stamp counter (x86-64 `RDTSC`): a count of reference cycles, cheap to read
/// (no system call, no vDSO page). `None` where there is none (other architectures).
///
/// The count is only a clock when the CPU says it runs at a constant rate whatever the
/// frequency and power state (`constant_tsc` and `nonstop_tsc` in Linux's
/// `/proc/cpuinfo`), and is synchronised across CPUs (Linux then uses it as its
/// `clocksource`); the caller checks that. The instruction faults if the kernel turned it
/// off for the process (`prctl(PR_SET_TSC, PR_TSC_SIGSEGV)`), which no normal process
/// does.
#[inline]
pub fn read_tsc() -> Option<u64> {
    #[cfg(all(target_arch = "x86_64", not(lethe_loom)))]
    {
        // SAFETY: RDTSC is part of the x86-64 baseline instruction set (no target
        // feature to check), reads no memory and writes none; the intrinsic is `unsafe`
        // only because every `core::arch` intrinsic is.
        Some(unsafe { core::arch::x86_64::_rdtsc() })
    }
    #[cfg(not(all(target_arch = "x86_64", not(lethe_loom))))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_up_on_x86_64() {
        let (a, b) = (super::read_tsc(), super::read_tsc());
        if cfg!(all(target_arch = "x86_64", not(lethe_loom))) {
            let (Some(a), Some(b)) = (a, b) else {
                panic!("no counter read on x86-64");
            };
            assert!(b >= a, "{a} then {b}");
        } else {
            assert_eq!((a, b), (None, None));
        }
    }
}
